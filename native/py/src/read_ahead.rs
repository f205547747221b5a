//! A folded file read by threads of its own while the caller does other work (Python starting
//! up): `read_folded_file_later` starts the read and returns at once; `PendingStacks.result`
//! joins in, reading the ranges no thread has taken yet, and gives what `read_folded_file`
//! would have given.

use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use foldkit_core::folded::file::{FileStacks, RangeReads, MAX_DEFERRED, MIN_SPLIT};
use foldkit_core::viewer::ViewTree;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::convert::guard;
use crate::folded::{stacks_or_error, FoldedStacks};
use crate::viewer::{build_ahead, keep_ahead};

/// Ranges per reading thread: the caller joining late finds ranges left to read.
const RANGES_PER_THREAD: usize = 4;

/// What a read gives: a panic, an I/O error, or the stacks (None: read it as a stream).
type Outcome = PyResult<std::io::Result<Option<FileStacks>>>;

enum Read {
    /// Over before any thread started (the file could not be opened or cut into ranges).
    Over(Outcome),
    /// The ranges being read, by these threads.
    Reading(Arc<RangeReads>, Vec<JoinHandle<PyResult<()>>>),
    /// The ranges being read, then merged and the viewer's tree of the stacks built with this
    /// root, by a thread of its own (and the other reading threads).
    /// The ranges are reached from here while they are read, so that `result` reads what is
    /// left too (a weak share: the thread merges them as soon as they are read).
    Building(
        Vec<u8>,
        Weak<RangeReads>,
        JoinHandle<(Outcome, Option<ViewTree>)>,
    ),
}

/// A read started by `read_folded_file_later`.
#[pyclass(module = "foldkit._native", frozen)]
pub struct PendingStacks {
    /// The read, until `result` has taken it.
    read: Mutex<Option<Read>>,
}

/// Start reading the folded file at `path` as `read_folded_file` does, on `threads` threads of
/// its own; `PendingStacks.result()` gives the outcome. The threads are the process's own (not
/// Python's): if the process exits first, they end with it. With `viewer_root`, the last thread
/// to read also builds the viewer's tree of the stacks with that root once they are read (while
/// Python is still starting up); `result()` then waits for it too, and `viewer_tree([table],
/// viewer_root)` of the table it gives takes that tree (`ViewerTree.built_ahead`) instead of
/// building it.
#[pyfunction]
#[pyo3(signature = (path, threads, max_record, max_deferred = MAX_DEFERRED, min_split = MIN_SPLIT, viewer_root = None))]
pub fn read_folded_file_later(
    path: std::path::PathBuf,
    threads: usize,
    max_record: u64,
    max_deferred: usize,
    min_split: u64,
    viewer_root: Option<String>,
) -> PendingStacks {
    let threads = threads.clamp(1, 64);
    let ranges = threads * RANGES_PER_THREAD;
    // unless `finish` is told otherwise, the ranges' tables are merged with every core
    // (`RangeReads::open`'s default): the thread that builds the viewer's tree merges them while
    // the caller, started up by then, waits for the tree
    let read = match guard("folded reader", || {
        RangeReads::open(&path, ranges, min_split, max_record, max_deferred)
    }) {
        Ok(Ok(Some(reads))) => {
            let reads = Arc::new(reads);
            let helpers = threads - usize::from(viewer_root.is_some());
            let workers: Vec<JoinHandle<PyResult<()>>> = (0..helpers)
                .filter_map(|_| {
                    let reads = Arc::clone(&reads);
                    std::thread::Builder::new()
                        .name("foldkit-read-ahead".into())
                        .spawn(move || guard("folded reader", || reads.work()))
                        .ok() // without the thread, `result` reads its ranges
                })
                .collect();
            match viewer_root {
                Some(root) => building(reads, workers, root.into_bytes()),
                None => Read::Reading(reads, workers),
            }
        }
        Ok(Ok(None)) => Read::Over(Ok(Ok(None))),
        Ok(Err(err)) => Read::Over(Ok(Err(err))),
        Err(panic) => Read::Over(Err(panic)),
    };
    PendingStacks {
        read: Mutex::new(Some(read)),
    }
}

/// The read handed to a thread that reads with the `workers`, merges, then builds the viewer's
/// tree of the stacks (`viewer::build_ahead`; a panic there leaves the tree to be built again).
/// When no thread can be started, an I/O error: the file is then read as a stream.
fn building(reads: Arc<RangeReads>, workers: Vec<JoinHandle<PyResult<()>>>, root: Vec<u8>) -> Read {
    let (kept, share) = (root.clone(), Arc::downgrade(&reads));
    let finisher = std::thread::Builder::new()
        .name("foldkit-read-ahead".into())
        .spawn(move || {
            let outcome = finish(reads, workers, None);
            let tree = match &outcome {
                Ok(Ok(Some(stacks))) => guard("viewer tree", || build_ahead(stacks, &kept))
                    .ok()
                    .flatten(),
                _ => None,
            };
            (outcome, tree)
        });
    match finisher {
        Ok(handle) => Read::Building(root, share, handle),
        Err(err) => Read::Over(Ok(Err(err))),
    }
}

/// Read what is left with the threads, wait for them, merge (with `merge_threads` threads:
/// those that read, the caller's included, once they have read; `None`: as many as the read was
/// opened with).
fn finish(
    reads: Arc<RangeReads>,
    workers: Vec<JoinHandle<PyResult<()>>>,
    merge_threads: Option<usize>,
) -> Outcome {
    guard("folded reader", || reads.work())?;
    for worker in workers {
        worker.join().unwrap_or_else(|_| {
            Err(PyRuntimeError::new_err(
                "internal error in the native folded reader: a thread ended",
            ))
        })?;
    }
    // every worker has ended, and its share of `reads` with it; a caller reading with a thread
    // that builds the viewer's tree (`building`) lets go of the share it took once no range is
    // left: looked at again after a wait that grows to a millisecond
    let (mut reads, mut wait) = (reads, std::time::Duration::from_micros(20));
    let reads = loop {
        match Arc::try_unwrap(reads) {
            Ok(reads) => break reads,
            Err(shared) => {
                reads = shared;
                std::thread::sleep(wait);
                wait = (wait * 2).min(std::time::Duration::from_millis(1));
            }
        }
    };
    let reads = match merge_threads {
        Some(threads) => reads.with_threads(threads),
        None => reads,
    };
    guard("folded reader", || reads.finish())
}

#[pymethods]
impl PendingStacks {
    /// Read the ranges no thread has taken yet, wait for the threads (the GIL released) and give
    /// what `read_folded_file` gives: the stacks, or None when the file must be read as a
    /// stream; OSError when it could not be read. RuntimeError when called a second time.
    fn result(&self, py: Python<'_>) -> PyResult<Option<Py<FoldedStacks>>> {
        let read = self
            .read
            .lock()
            .map_err(|_| PyRuntimeError::new_err("read-ahead state poisoned"))?
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("the read-ahead result was already taken"))?;
        let (outcome, ahead) = match read {
            Read::Over(outcome) => (outcome, None),
            Read::Reading(reads, workers) => {
                // the ranges merged while the caller waits: by its thread and the readers'
                let threads = workers.len() + 1;
                (py.detach(|| finish(reads, workers, Some(threads))), None)
            }
            Read::Building(root, ranges, finisher) => match py.detach(|| {
                // the ranges no thread has taken yet (a failure there is the finisher's to
                // report: it reads them too), then the stacks merged and the tree built
                if let Some(reads) = ranges.upgrade() {
                    let _ = guard("folded reader", || reads.work());
                }
                finisher.join()
            }) {
                Ok((outcome, tree)) => (outcome, tree.map(|tree| (root, tree))),
                Err(_) => (
                    Err(PyRuntimeError::new_err(
                        "internal error in the native folded reader: a thread ended",
                    )),
                    None,
                ),
            },
        };
        let Some(stacks) = stacks_or_error(outcome?)? else {
            return Ok(None);
        };
        let table = Py::new(py, stacks)?;
        if let Some((root, tree)) = ahead {
            keep_ahead(table.clone_ref(py), root, tree);
        }
        Ok(Some(table))
    }
}

/// Register this file's class and function in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PendingStacks>()?;
    m.add_function(wrap_pyfunction!(read_folded_file_later, m)?)?;
    Ok(())
}
