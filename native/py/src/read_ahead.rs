//! A folded file read on a thread of its own while the caller does other work (Python starting
//! up): `read_folded_file_later` starts the read and returns at once; `PendingStacks.result`
//! waits for it and gives what `read_folded_file` would have given.

use std::sync::Mutex;
use std::thread::JoinHandle;

use foldkit_core::folded_file::{read_file, FileStacks, MIN_SPLIT};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;

use crate::render::{guard, FoldedStacks};

/// What the reading thread gives: a panic, an I/O error, or the stacks (None: read it as a stream).
type Outcome = PyResult<std::io::Result<Option<FileStacks>>>;

/// A read started by `read_folded_file_later`.
#[pyclass(module = "foldkit._native", frozen)]
pub struct PendingStacks {
    /// The reading thread, until `result` has taken its outcome.
    thread: Mutex<Option<JoinHandle<Outcome>>>,
}

/// Start reading the folded file at `path` as `read_folded_file` does, on a thread of its own;
/// `PendingStacks.result()` gives the outcome. The thread is the process's own (not Python's):
/// if the process exits first, it ends with it.
#[pyfunction]
#[pyo3(signature = (path, threads, max_record, max_deferred, min_split = MIN_SPLIT))]
pub fn read_folded_file_later(
    path: std::path::PathBuf,
    threads: usize,
    max_record: u64,
    max_deferred: usize,
    min_split: u64,
) -> PyResult<PendingStacks> {
    let read = move || {
        guard("folded reader", || {
            read_file(&path, threads, min_split, max_record, max_deferred)
        })
    };
    let thread = std::thread::Builder::new()
        .name("foldkit-read-ahead".into())
        .spawn(read)
        .map_err(|err| PyOSError::new_err(format!("cannot start a reading thread: {err}")))?;
    Ok(PendingStacks {
        thread: Mutex::new(Some(thread)),
    })
}

#[pymethods]
impl PendingStacks {
    /// Wait for the read (the GIL released) and give what `read_folded_file` gives: the stacks,
    /// or None when the file must be read as a stream; OSError when it could not be read.
    /// RuntimeError when called a second time.
    fn result(&self, py: Python<'_>) -> PyResult<Option<FoldedStacks>> {
        let thread = self
            .thread
            .lock()
            .map_err(|_| PyRuntimeError::new_err("read-ahead state poisoned"))?
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("the read-ahead result was already taken"))?;
        let outcome = py.detach(|| thread.join()).unwrap_or_else(|_| {
            Err(PyRuntimeError::new_err(
                "internal error in the native folded reader: its thread ended",
            ))
        })?;
        match outcome {
            Ok(found) => Ok(found.map(FoldedStacks::new)),
            Err(err) => Err(PyOSError::new_err(err.to_string())),
        }
    }

    /// True when the read is over (`result` would not wait).
    fn done(&self) -> bool {
        self.thread
            .lock()
            .map(|t| t.as_ref().is_none_or(JoinHandle::is_finished))
            .unwrap_or(true)
    }
}

/// Register this file's class and function in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PendingStacks>()?;
    m.add_function(wrap_pyfunction!(read_folded_file_later, m)?)?;
    Ok(())
}
