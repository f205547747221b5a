//! Python face of the folded-text reader and the flame-graph layout (`foldkit.ingest.folded`,
//! `foldkit.render.layout` call these; their Python twins stay the reference).
//!
//! A panic inside the core becomes a `RuntimeError` (the callers turn it into a foldkit error
//! naming the input); nothing else here can fail but Python itself.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use foldkit_core::folded::{Fed, FoldedReader as CoreReader};
use foldkit_core::layout::{chart_tree, flame_tree, layout, Frames, Tree};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

/// Run `f`, turning a panic into a `RuntimeError`.
fn guard<T>(what: &str, f: impl FnOnce() -> T) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PyRuntimeError::new_err(format!("internal error in the native {what}: {detail}"))
    })
}

/// A Python int from an i128 (the common case through i64).
fn int<'py>(py: Python<'py>, value: i128) -> PyResult<Bound<'py, PyAny>> {
    match i64::try_from(value) {
        Ok(small) => Ok(small.into_pyobject(py)?.into_any()),
        Err(_) => Ok(value.into_pyobject(py)?.into_any()),
    }
}

/// `bytes.decode("utf-8", errors)` as a str (a plain copy when the bytes are valid UTF-8).
fn text<'py>(py: Python<'py>, raw: &[u8], errors: &str) -> PyResult<Bound<'py, PyAny>> {
    match std::str::from_utf8(raw) {
        Ok(s) => Ok(PyString::new(py, s).into_any()),
        Err(_) => PyBytes::new(py, raw).call_method1("decode", ("utf-8", errors)),
    }
}

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

    /// Lines counted so far.
    #[getter]
    fn lineno(&self) -> u64 {
        self.inner.lineno()
    }

    /// `{stack bytes: weight}` in first-seen order; the reader is emptied.
    fn take_bytes<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (stack, weight) in self.inner.items() {
            out.set_item(PyBytes::new(py, stack), int(py, weight)?)?;
        }
        self.inner.clear();
        Ok(out)
    }

    /// `{stack: weight}` (UTF-8, other bytes as surrogate escapes) in first-seen order; the
    /// reader is emptied.
    fn take_str<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (stack, weight) in self.inner.items() {
            out.set_item(text(py, stack, "surrogateescape")?, int(py, weight)?)?;
        }
        self.inner.clear();
        Ok(out)
    }
}

/// Keeps the UTF-8 of Python strings alive: the str itself, or its `surrogatepass` encoding.
struct Texts<'py> {
    held: Vec<Bound<'py, PyAny>>,
}

impl<'py> Texts<'py> {
    fn hold(&mut self, s: &Bound<'py, PyAny>) -> PyResult<()> {
        let s = s.cast::<PyString>()?;
        if s.to_str().is_ok() {
            self.held.push(s.clone().into_any());
        } else {
            self.held
                .push(s.call_method1("encode", ("utf-8", "surrogatepass"))?);
        }
        Ok(())
    }

    fn bytes(&self) -> PyResult<Vec<&[u8]>> {
        self.held
            .iter()
            .map(|h| match h.cast::<PyString>() {
                Ok(s) => Ok(s.to_str()?.as_bytes()),
                Err(_) => Ok(h.cast::<PyBytes>()?.as_bytes()),
            })
            .collect()
    }
}

/// The layout's lists for `foldkit.render.layout.Layout`.
fn frames_to_python<'py>(
    py: Python<'py>,
    tree: &Tree,
    frames: &Frames,
) -> PyResult<Bound<'py, PyTuple>> {
    let mut names: HashMap<&[u8], Bound<'py, PyAny>> = HashMap::new();
    let list = PyList::empty(py);
    for &node in &frames.nodes {
        let raw = tree.names[node as usize];
        let name = match names.get(raw) {
            Some(n) => n.clone(),
            None => {
                let n = text(py, raw, "surrogatepass")?;
                names.insert(raw, n.clone());
                n
            }
        };
        list.append(name)?;
    }
    let starts = PyList::empty(py);
    let weights = PyList::empty(py);
    for (&s, &w) in frames.starts.iter().zip(&frames.weights) {
        starts.append(int(py, s)?)?;
        weights.append(int(py, w)?)?;
    }
    let cut = match frames.cut {
        Some(c) => Some(int(py, c)?),
        None => None,
    };
    (
        list,
        &frames.depths,
        starts,
        weights,
        &frames.parents,
        cut,
        tree.nonpositive,
    )
        .into_pyobject(py)
}

/// Stacks (or runs) as byte strings and i64 weights; None when a weight is not such an int.
fn weighed<'py>(
    pairs: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> PyResult<Option<(Texts<'py>, Vec<i64>)>> {
    let mut texts = Texts { held: Vec::new() };
    let mut weights = Vec::new();
    for (stack, weight) in pairs {
        if !weight.is_exact_instance_of::<pyo3::types::PyInt>() {
            return Ok(None);
        }
        let Ok(w) = weight.extract::<i64>() else {
            return Ok(None);
        };
        texts.hold(&stack)?;
        weights.push(w);
    }
    Ok(Some((texts, weights)))
}

/// Flame-graph layout of `{stack: int weight}` (or, with `chart`, flame-chart layout of
/// `[(stack, int weight)]` in time order): `(names, depths, starts, weights, parents, cut,
/// nonpositive)`, or None when a weight is not an int within i64 (the Python twin takes those).
#[pyfunction]
pub fn layout_frames<'py>(
    py: Python<'py>,
    stacks: &Bound<'py, PyAny>,
    chart: bool,
    threshold: i128,
    max_frames: usize,
    sort_by_weight: bool,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let held = if chart {
        let runs = stacks.cast::<PyList>()?;
        let mut pairs = Vec::with_capacity(runs.len());
        for run in runs.iter() {
            let run = run.cast::<PyTuple>()?;
            pairs.push((run.get_item(0)?, run.get_item(1)?));
        }
        weighed(pairs.into_iter())?
    } else {
        weighed(stacks.cast::<PyDict>()?.iter())?
    };
    let Some((texts, values)) = held else {
        return Ok(None);
    };
    let bytes = texts.bytes()?;
    let pairs: Vec<(&[u8], i64)> = bytes.into_iter().zip(values).collect();
    let (tree, frames) = guard("layout", || {
        let tree = if chart {
            chart_tree(&pairs, threshold, max_frames)
        } else {
            flame_tree(&pairs, threshold, max_frames)
        };
        let frames = layout(&tree, sort_by_weight && !chart, max_frames);
        (tree, frames)
    })?;
    frames_to_python(py, &tree, &frames).map(Some)
}

/// Register this file's classes and functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FoldedReader>()?;
    m.add_function(wrap_pyfunction!(layout_frames, m)?)?;
    Ok(())
}
