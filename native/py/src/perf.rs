//! Python face of the perf folder: `PerfFolder` (threads folding chunks of one input, the GIL
//! released while they work) and `demangle`.

use std::fs::File;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use foldkit_core::perf::frames::NameOptions;
use foldkit_core::perf::pool::{range_tasks, Folded, Hooks, Pool, Pushed, Task, RECORD_TOO_LONG};
use foldkit_core::perf::{FoldConfig, TimePoint};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::{int, text};
use crate::sched::SchedEvents;

create_exception!(
    _native,
    RecordTooLong,
    PyException,
    "A plain file holds a record longer than max_record: read it as a stream instead."
);

create_exception!(
    _native,
    StreamUnusable,
    PyException,
    "A compressed input the native reader does not take (corrupt, truncated, no record start within max_record): read it with the Python reader instead."
);

/// How often a blocked call looks at pending signals (Ctrl-C).
const POLL: Duration = Duration::from_millis(50);

/// Calls back into Python from the folding threads; the first Python error is kept.
struct PyHooks {
    namer: Py<PyAny>,
    fallback: Py<PyAny>,
    error: Mutex<Option<PyErr>>,
}

impl PyHooks {
    fn keep(&self, err: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
    }
}

impl Hooks for PyHooks {
    fn name_line(&self, line: &[u8], java: bool) -> Option<Option<Vec<u8>>> {
        Python::attach(|py| {
            let got = self.namer.call1(py, (PyBytes::new(py, line), java));
            match got {
                Ok(v) if v.is_none(py) => Some(None),
                Ok(v) => match v.bind(py).cast::<PyBytes>() {
                    Ok(b) => Some(Some(b.as_bytes().to_vec())),
                    Err(_) => None,
                },
                Err(e) => {
                    self.keep(e);
                    None
                }
            }
        })
    }

    fn fallback(&self, index: usize, chunk: &[u8]) -> Result<(), String> {
        Python::attach(
            |py| match self.fallback.call1(py, (index, PyBytes::new(py, chunk))) {
                Ok(_) => Ok(()),
                Err(e) => {
                    let message = e.to_string();
                    self.keep(e);
                    Err(message)
                }
            },
        )
    }
}

/// Folds the chunks of one perf script input on `jobs` threads.
///
/// `namer(line: bytes, java: bool) -> bytes | None` names frame lines that are not plain ASCII;
/// `fallback(index: int, chunk: bytes)` folds a chunk with the Python line path.
#[pyclass(module = "foldkit._native")]
pub struct PerfFolder {
    pool: Option<Pool>,
    hooks: Arc<PyHooks>,
    keep_time: bool,
    jobs: usize,
    /// folding for `--off-cpu` / `--wall` (`options.clock` is not `cpu`): `finish()` also hands
    /// out the samples kept for the pairing
    sched: bool,
}

impl PerfFolder {
    fn pool(&mut self) -> PyResult<&mut Pool> {
        self.pool
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("PerfFolder already finished"))
    }

    /// Queue a task, with the GIL released, looking at signals while the queue is full.
    fn send(&mut self, py: Python<'_>, mut task: Task) -> PyResult<bool> {
        loop {
            let pool = self.pool()?;
            match py.detach(|| pool.push(task, POLL)) {
                Pushed::Sent => return Ok(true),
                Pushed::Stopped => return Ok(false),
                Pushed::Full(back) => task = back,
            }
            if let Err(e) = py.check_signals() {
                self.stop(py);
                return Err(e);
            }
        }
    }

    fn stop(&mut self, py: Python<'_>) {
        if let Some(mut pool) = self.pool.take() {
            pool.cancel();
            py.detach(move || drop(pool));
        }
    }

    fn take_error(&self) -> Option<PyErr> {
        self.hooks
            .error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// The fields of a `FoldOptions` (foldkit/ingest/options.py) the native folder honours, read
/// from that object by name: one options object flows from the command line to `FoldConfig`.
#[derive(FromPyObject)]
struct Options<'py> {
    kernel: bool,
    jit: bool,
    inline: bool,
    addrs: bool,
    demangle: bool,
    pid: bool,
    tid: bool,
    weight: String,
    skip_after: Vec<Bound<'py, PyString>>,
    keep_time: bool,
    clock: String,
}

impl Options<'_> {
    /// The core's configuration (frame names as the Python reader encodes them: UTF-8 with
    /// surrogate escapes).
    fn config(&self) -> PyResult<FoldConfig> {
        let skip_after = self
            .skip_after
            .iter()
            .map(|name| {
                name.call_method1("encode", ("utf-8", "surrogateescape"))?
                    .extract::<Vec<u8>>()
            })
            .collect::<PyResult<_>>()?;
        Ok(FoldConfig {
            names: NameOptions {
                kernel: self.kernel,
                jit: self.jit,
                inline: self.inline,
                addrs: self.addrs,
                demangle: self.demangle,
            },
            pid: self.pid,
            tid: self.tid,
            by_period: self.weight == "period",
            skip_after,
            // the pairing keeps no timeline (its own times are integer ns)
            keep_time: self.keep_time && self.clock == "cpu",
            sched: self.clock != "cpu",
        })
    }
}

#[pymethods]
impl PerfFolder {
    #[new]
    #[pyo3(signature = (options, *, jobs, namer, fallback))]
    fn new(
        options: Options<'_>,
        jobs: usize,
        namer: Py<PyAny>,
        fallback: Py<PyAny>,
    ) -> PyResult<Self> {
        let cfg = options.config()?;
        let (keep_time, sched) = (cfg.keep_time, cfg.sched);
        let hooks = Arc::new(PyHooks {
            namer,
            fallback,
            error: Mutex::new(None),
        });
        let pool = Pool::new(&cfg, jobs, hooks.clone());
        Ok(PerfFolder {
            pool: Some(pool),
            hooks,
            keep_time,
            jobs,
            sched,
        })
    }

    /// Fold `data` (record-aligned chunk number `index`); False once the threads have stopped.
    fn push(&mut self, py: Python<'_>, index: usize, data: &[u8]) -> PyResult<bool> {
        self.send(
            py,
            Task::Bytes {
                index,
                data: data.to_vec(),
            },
        )
    }

    /// Fold a plain file, read by the threads in ranges of `chunk_size` bytes (the last ones
    /// shorter, so the threads finish together) numbered from `first_index`; returns the number
    /// of ranges. A record longer than `max_record` makes
    /// `finish` raise `RecordTooLong`. With `lines`, records also start at sample headers (a
    /// file without blank lines between its samples), not only after blank lines.
    #[pyo3(signature = (path, chunk_size, first_index, max_record = u64::MAX, lines = false))]
    fn push_file(
        &mut self,
        py: Python<'_>,
        path: &str,
        chunk_size: u64,
        first_index: usize,
        max_record: u64,
        lines: bool,
    ) -> PyResult<usize> {
        let (file, size) = open_sized(path)?;
        let mut count = 0;
        for task in range_tasks(
            file,
            size,
            chunk_size,
            self.jobs,
            first_index,
            max_record,
            lines,
        ) {
            if !self.send(py, task)? {
                break;
            }
            count += 1;
        }
        Ok(count)
    }

    /// Fold a plain file as `push_file` does, its ranges queued by a native thread of the pool's
    /// own: returns at once, and queueing never needs the GIL (the caller goes on running Python
    /// while the threads fold). `finish` waits for the whole file.
    #[pyo3(signature = (path, chunk_size, first_index, max_record = u64::MAX, lines = false))]
    fn feed_file(
        &mut self,
        path: &str,
        chunk_size: u64,
        first_index: usize,
        max_record: u64,
        lines: bool,
    ) -> PyResult<()> {
        let (file, size) = open_sized(path)?;
        let pool = self.pool()?;
        pool.feed_file(file, size, chunk_size, first_index, max_record, lines);
        Ok(())
    }

    /// Fold a zstd or gzip file, decompressed here (GIL released) while the threads fold; chunks
    /// are numbered from 0. A stream it cannot take raises `StreamUnusable` (threads stopped).
    fn push_compressed(
        &mut self,
        py: Python<'_>,
        path: &str,
        compression: &str,
        chunk_size: usize,
        max_record: usize,
    ) -> PyResult<usize> {
        let stream = foldkit_core::perf::stream::open(path, compression)
            .map_err(|e| StreamUnusable::new_err(format!("{path}: {e}")))?;
        let mut chunker = foldkit_core::perf::stream::Chunker::new(stream, chunk_size, max_record);
        let mut index = 0;
        loop {
            if let Some(spare) = self.pool()?.spare() {
                chunker.recycle(spare);
            }
            match py.detach(|| chunker.next_chunk()) {
                Ok(Some(data)) => {
                    if !self.send(py, Task::Bytes { index, data })? {
                        break;
                    }
                    index += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    self.stop(py);
                    return Err(StreamUnusable::new_err(format!("{path}: {e}")));
                }
            }
            if let Err(e) = py.check_signals() {
                self.stop(py);
                return Err(e);
            }
        }
        Ok(index)
    }

    /// Stop the threads now (after an error elsewhere).
    fn cancel(&mut self, py: Python<'_>) {
        self.stop(py);
    }

    /// Wait for the threads and return what they folded: a dict with `events` (name -> {stack:
    /// [weight, samples]}), `first_seen` (name -> (chunk, order)), `lines` (chunk -> newlines)
    /// `timelines` (chunk -> (times, stack ids, weights) arrays, see `timeline_arrays`),
    /// `stacks` (the stacks the ids index), `bad` ((chunk, line number in it, text) of the bad
    /// lines kept to quote, at most 5 a chunk) and `bad_count` (bad lines skipped in all); when
    /// folding for `--off-cpu` / `--wall`, `sched` too (a `SchedEvents`).
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.pool()?.close();
        loop {
            let pool = self.pool()?;
            if py.detach(|| pool.wait(POLL)) {
                break;
            }
            if let Err(e) = py.check_signals() {
                self.stop(py);
                return Err(e);
            }
        }
        let mut pool = self.pool.take().expect("checked above");
        let joined = py.detach(|| pool.join());
        if let Some(err) = self.take_error() {
            return Err(err);
        }
        let mut folded = joined.map_err(|e| {
            if e.starts_with(RECORD_TOO_LONG) {
                RecordTooLong::new_err(e)
            } else {
                PyRuntimeError::new_err(e)
            }
        })?;
        let kept = std::mem::take(&mut folded.sched);
        let events: Vec<Vec<u8>> = folded.events.iter().map(|(name, _)| name.clone()).collect();
        let out = self.to_python(py, folded)?;
        if self.sched {
            out.set_item("sched", SchedEvents::new(kept, events))?;
        }
        Ok(out)
    }
}

impl PerfFolder {
    fn to_python<'py>(&self, py: Python<'py>, folded: Folded) -> PyResult<Bound<'py, PyDict>> {
        let stacks: Vec<Bound<'py, PyAny>> = folded
            .stacks
            .iter()
            .map(|s| text(py, s, "surrogateescape"))
            .collect::<PyResult<_>>()?;
        let events = PyDict::new(py);
        for (name, cells) in &folded.events {
            let table = PyDict::new(py);
            for &(stack, weight, count) in cells {
                let cell =
                    PyList::new(py, [int(py, weight)?, count.into_pyobject(py)?.into_any()])?;
                table.set_item(&stacks[stack as usize], cell)?;
            }
            events.set_item(text(py, name, "surrogateescape")?, table)?;
        }
        let first_seen = PyDict::new(py);
        for (name, seen) in &folded.first_seen {
            first_seen.set_item(text(py, name, "surrogateescape")?, *seen)?;
        }
        let lines = PyDict::new(py);
        for &(index, n) in &folded.lines {
            lines.set_item(index, n)?;
        }
        let timelines = PyDict::new(py);
        if self.keep_time {
            for (index, entries) in &folded.timelines {
                timelines.set_item(index, timeline_arrays(py, entries)?)?;
            }
        }
        let out = PyDict::new(py);
        out.set_item("events", events)?;
        out.set_item("first_seen", first_seen)?;
        out.set_item("lines", lines)?;
        out.set_item("timelines", timelines)?;
        out.set_item("stacks", PyList::new(py, stacks)?)?;
        let bad = folded
            .bad
            .iter()
            .map(|(index, n, line)| {
                PyTuple::new(
                    py,
                    [
                        index.into_pyobject(py)?.into_any(),
                        n.into_pyobject(py)?.into_any(),
                        text(py, line, "surrogateescape")?,
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        out.set_item("bad", PyList::new(py, bad)?)?;
        out.set_item("bad_count", folded.bad_count)?;
        Ok(out)
    }
}

/// The file at `path`, opened, and its length; errors as `OSError`s naming it.
fn open_sized(path: &str) -> PyResult<(Arc<File>, u64)> {
    let file = File::open(path).map_err(|e| PyOSError::new_err(format!("{path}: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| PyOSError::new_err(format!("{path}: {e}")))?
        .len();
    Ok((Arc::new(file), size))
}

/// One chunk's samples as `(times, stack ids, weights)`: float64 and uint32 bytes (native order),
/// the weights int64 bytes, or a list of ints when one is beyond int64 (`foldkit.timeline`).
fn timeline_arrays<'py>(py: Python<'py>, entries: &[TimePoint]) -> PyResult<Bound<'py, PyTuple>> {
    let times: Vec<u8> = entries.iter().flat_map(|e| e.0.to_ne_bytes()).collect();
    let ids: Vec<u8> = entries.iter().flat_map(|e| e.1.to_ne_bytes()).collect();
    let weights = if entries.iter().all(|e| i64::try_from(e.2).is_ok()) {
        let raw: Vec<u8> = entries
            .iter()
            .flat_map(|e| (e.2 as i64).to_ne_bytes())
            .collect();
        PyBytes::new(py, &raw).into_any()
    } else {
        PyList::new(py, entries.iter().map(|e| e.2))?.into_any()
    };
    PyTuple::new(
        py,
        [
            PyBytes::new(py, &times).into_any(),
            PyBytes::new(py, &ids).into_any(),
            weights,
        ],
    )
}

impl Drop for PerfFolder {
    fn drop(&mut self) {
        if let Some(mut pool) = self.pool.take() {
            pool.cancel();
            // the threads may be waiting for the GIL (a fallback): release it while they end
            Python::attach(|py| py.detach(move || drop(pool)));
        }
    }
}

/// A symbol demangled (`_Z…` C++, Rust legacy and v0) or, when not mangled, with Rust's partial
/// demangling tidied; bytes in, bytes out.
#[pyfunction]
fn demangle<'py>(py: Python<'py>, symbol: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &foldkit_core::demangle::demangle_symbol(symbol))
}

/// Rust's partially demangled names tidied (`$LT$` → `<`, hash dropped); bytes in, bytes out.
#[pyfunction]
fn tidy_rust<'py>(py: Python<'py>, symbol: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &foldkit_core::demangle::tidy_rust(symbol))
}

/// Register the perf functions in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PerfFolder>()?;
    m.add("RecordTooLong", m.py().get_type::<RecordTooLong>())?;
    m.add("StreamUnusable", m.py().get_type::<StreamUnusable>())?;
    m.add_function(wrap_pyfunction!(demangle, m)?)?;
    m.add_function(wrap_pyfunction!(tidy_rust, m)?)?;
    Ok(())
}
