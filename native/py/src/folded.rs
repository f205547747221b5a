//! Python face of the folded-text readers: fed chunk by chunk (`FoldedReader`) and a whole file
//! on threads (`read_folded_file`, `FoldedStacks`); `foldkit.ingest.folded` calls these, and its
//! Python reader stays the reference.
//!
//! A panic inside the core becomes a `RuntimeError` (the callers turn it into a foldkit error
//! naming the input); nothing else here can fail but Python itself.

use foldkit_core::folded::file::{read_file, FileStacks, MAX_DEFERRED, MIN_SPLIT};
use foldkit_core::folded::{Fed, FoldedReader as CoreReader, Sums};
use foldkit_core::layout::{flame_tree, layout, Frames, Tree};
use std::sync::OnceLock;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::convert::{guard, int, text};
use crate::layout::frames_to_python;

/// The plain lines of folded text, summed per distinct stack (see `foldkit_core::folded`).
#[pyclass(module = "foldkit._native")]
pub struct FoldedReader {
    inner: CoreReader,
}

#[pymethods]
impl FoldedReader {
    #[new]
    fn new() -> Self {
        FoldedReader {
            inner: CoreReader::new(),
        }
    }

    /// Read the lines of `chunk` from byte `pos`: None when all were read, else
    /// `(start, end, next, lineno)` of the line the reference reader must read.
    fn feed(&mut self, chunk: &[u8], pos: usize) -> PyResult<Option<(usize, usize, usize, u64)>> {
        let fed = guard("folded reader", || self.inner.feed(chunk, pos))?;
        Ok(match fed {
            Fed::Done => None,
            Fed::Deferred {
                start,
                end,
                next,
                lineno,
            } => Some((start, end, next, lineno)),
        })
    }

    /// Add `weight` to `stack`.
    fn add(&mut self, stack: &[u8], weight: i64) -> PyResult<()> {
        guard("folded reader", || self.inner.add(stack, weight))
    }

    /// Add the decimal `weight` to `stack` (its sum is a float from now on, as in Python).
    fn add_float(&mut self, stack: &[u8], weight: f64) -> PyResult<()> {
        guard("folded reader", || self.inner.add_float(stack, weight))
    }

    /// Keep every line's stack and weight in input order from now on (flame charts).
    fn keep_order(&mut self) {
        self.inner.keep_order();
    }

    /// `(entries, weights, decimals)` of the lines kept in order (call before `take_str`):
    /// each line's entry (its stack's index in `take_str`'s order) as uint32 bytes, its weight as
    /// int64 bytes, and `{line: decimal weight}` for the lines whose weight is a decimal; None
    /// when `keep_order` was not called.
    fn take_order<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(order) = self.inner.take_order() else {
            return Ok(None);
        };
        let entries: Vec<u8> = order.entries.iter().flat_map(|e| e.to_ne_bytes()).collect();
        let weights: Vec<u8> = order.weights.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let decimals = PyDict::new(py);
        for (line, w) in order.decimals {
            decimals.set_item(line, w)?;
        }
        (
            PyBytes::new(py, &entries),
            PyBytes::new(py, &weights),
            decimals,
        )
            .into_pyobject(py)
            .map(Some)
    }

    /// Lines counted so far.
    #[getter]
    fn lineno(&self) -> u64 {
        self.inner.lineno()
    }

    /// `{stack bytes: weight}` in first-seen order; the reader is emptied.
    fn take_bytes<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        let floats = self.inner.floats();
        for (i, (stack, weight)) in self.inner.items().enumerate() {
            out.set_item(PyBytes::new(py, stack), sum(py, weight, floats, i)?)?;
        }
        self.inner.clear();
        Ok(out)
    }

    /// `{stack: weight}` (UTF-8, other bytes as surrogate escapes) in first-seen order; the
    /// reader is emptied.
    fn take_str<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = str_dict(py, self.inner.items(), self.inner.floats())?;
        self.inner.clear();
        Ok(out)
    }
}

/// The sum of entry `i`: its decimal sum in `floats`, else its integer sum `weight`.
fn sum<'py>(py: Python<'py>, weight: i128, floats: &Sums, i: usize) -> PyResult<Bound<'py, PyAny>> {
    if floats.is_empty() {
        return int(py, weight);
    }
    match u32::try_from(i).ok().and_then(|i| floats.get(&i)) {
        Some(&decimal) => Ok(decimal.into_pyobject(py)?.into_any()),
        None => int(py, weight),
    }
}

/// `{stack: weight}` of `items` in their order (decimal sums from `floats`), stacks decoded as
/// UTF-8 with surrogate escapes.
fn str_dict<'py, 'a>(
    py: Python<'py>,
    items: impl Iterator<Item = (&'a [u8], i128)>,
    floats: &Sums,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (i, (stack, weight)) in items.enumerate() {
        out.set_item(
            text(py, stack, "surrogateescape")?,
            sum(py, weight, floats, i)?,
        )?;
    }
    Ok(out)
}

/// The stacks of a plain folded file, kept here until Python asks for them (see
/// `foldkit_core::folded::file`).
#[pyclass(module = "foldkit._native", frozen)]
pub struct FoldedStacks {
    pub(crate) inner: FileStacks,
    /// `Stacks::totals` of the table, once asked for (Python asks for the total and the
    /// magnitude of a side several times; the table never changes).
    totals: OnceLock<(i128, i128, i128)>,
}

impl FoldedStacks {
    /// The table of what a file held.
    pub(crate) fn new(inner: FileStacks) -> Self {
        FoldedStacks {
            inner,
            totals: OnceLock::new(),
        }
    }
}

/// Read the folded file at `path` with `threads` threads (one below `min_split` bytes), the GIL
/// released: the stacks, or None when it must be read as a stream (a line longer than
/// `max_record`, more than `max_deferred` lines for the reference reader). OSError when it
/// cannot be read.
#[pyfunction]
#[pyo3(signature = (path, threads, max_record, max_deferred = MAX_DEFERRED, min_split = MIN_SPLIT))]
pub fn read_folded_file(
    py: Python<'_>,
    path: std::path::PathBuf,
    threads: usize,
    max_record: u64,
    max_deferred: usize,
    min_split: u64,
) -> PyResult<Option<FoldedStacks>> {
    let read = py.detach(|| {
        guard("folded reader", || {
            read_file(&path, threads, min_split, max_record, max_deferred)
        })
    })?;
    stacks_or_error(read)
}

/// What a file read gave, for Python: its table (None: read it as a stream), or OSError.
pub(crate) fn stacks_or_error(
    read: std::io::Result<Option<FileStacks>>,
) -> PyResult<Option<FoldedStacks>> {
    match read {
        Ok(found) => Ok(found.map(FoldedStacks::new)),
        Err(err) => Err(PyOSError::new_err(err.to_string())),
    }
}

#[pymethods]
impl FoldedStacks {
    fn __len__(&self) -> usize {
        self.inner.stacks.len()
    }

    /// `[(line number, line bytes)]` of the lines the reference reader must read, in file order.
    fn deferred<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (lineno, line) in &self.inner.deferred {
            out.append((*lineno, PyBytes::new(py, line)))?;
        }
        Ok(out)
    }

    /// True when a sum is a decimal: `sums` and `layout` are for integer tables, use `to_dict`.
    fn has_floats(&self) -> bool {
        !self.inner.floats.is_empty()
    }

    /// (sum of the weights, of the positive ones, of their magnitudes) of an integer table
    /// (ValueError for a table with decimal sums).
    fn sums<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        if self.has_floats() {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "a table with decimal sums has no integer sums",
            ));
        }
        // (not computed with the GIL released: another thread would wait for the cell holding it)
        let (total, positive, magnitude) = *self.totals.get_or_init(|| self.inner.stacks.totals());
        (int(py, total)?, int(py, positive)?, int(py, magnitude)?).into_pyobject(py)
    }

    /// True when a stack may hold a call-site offset (`+` before a digit or a byte that is not
    /// ASCII, which may start a Unicode digit): those stacks need the Python rewrite.
    fn may_hold_offsets(&self) -> bool {
        self.inner.offsets
    }

    /// `{stack: weight}` (UTF-8, other bytes as surrogate escapes) in first-seen order.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        str_dict(py, self.inner.stacks.iter(), &self.inner.floats)
    }

    /// `layout_frames` of these stacks as a flame graph, or None when a stack is not UTF-8 or a
    /// weight not within i64, or a sum is a decimal (the caller lays out `to_dict()` instead).
    fn layout<'py>(
        &self,
        py: Python<'py>,
        threshold: i128,
        max_frames: usize,
        sort_by_weight: bool,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        match self.laid_out(py, threshold, max_frames, sort_by_weight)? {
            Some((tree, frames)) => frames_to_python(py, &tree, &frames).map(Some),
            None => Ok(None),
        }
    }
}

impl FoldedStacks {
    /// The flame-graph tree and drawn frames of these stacks (`layout`), or None as there.
    pub(crate) fn laid_out(
        &self,
        py: Python<'_>,
        threshold: i128,
        max_frames: usize,
        sort_by_weight: bool,
    ) -> PyResult<Option<(Tree<'_>, Frames)>> {
        let stacks = &self.inner.stacks;
        if !self.inner.utf8 || self.has_floats() {
            return Ok(None);
        }
        py.detach(|| {
            guard("layout", || {
                let mut pairs: Vec<(&[u8], i64)> = Vec::with_capacity(stacks.len());
                for (stack, weight) in stacks.iter() {
                    pairs.push((stack, i64::try_from(weight).ok()?));
                }
                let tree = flame_tree(&pairs, threshold, max_frames);
                let frames = layout(&tree, sort_by_weight, max_frames);
                Some((tree, frames))
            })
        })
    }
}

/// Register this file's classes and functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FoldedReader>()?;
    m.add_class::<FoldedStacks>()?;
    m.add_function(wrap_pyfunction!(read_folded_file, m)?)?;
    Ok(())
}
