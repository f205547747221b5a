//! Python face of the time-ordered samples (`foldkit/timeline.py` calls these with the bytes of
//! its arrays: float64 times, uint32 stack ids, int64 weights, native byte order; its Python code
//! stays the reference).

use foldkit_core::layout::{chart_tree, layout};
use foldkit_core::speedscope::sampled;
use foldkit_core::timeline::{
    cells, filter, first_time, runs, sort_by_time, span, split, stack_nodes, sums, Samples,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::convert::{guard, int, Texts};
use crate::layout::frames_to_python;
use crate::viewer::ViewerTree;

fn f64s(raw: &[u8]) -> PyResult<Vec<f64>> {
    fixed(raw, f64::from_ne_bytes)
}

fn u32s(raw: &[u8]) -> PyResult<Vec<u32>> {
    fixed(raw, u32::from_ne_bytes)
}

fn i64s(raw: &[u8]) -> PyResult<Vec<i64>> {
    fixed(raw, i64::from_ne_bytes)
}

fn fixed<const N: usize, T>(raw: &[u8], read: fn([u8; N]) -> T) -> PyResult<Vec<T>> {
    if !raw.len().is_multiple_of(N) {
        return Err(PyValueError::new_err(format!(
            "an array of {N}-byte items is {} bytes long",
            raw.len()
        )));
    }
    Ok(raw
        .chunks_exact(N)
        .map(|c| read(<[u8; N]>::try_from(c).unwrap_or([0; N])))
        .collect())
}

fn bytes_of<'py, T: Copy, const N: usize>(
    py: Python<'py>,
    values: &[T],
    write: fn(T) -> [u8; N],
) -> Bound<'py, PyBytes> {
    let raw: Vec<u8> = values.iter().flat_map(|&v| write(v)).collect();
    PyBytes::new(py, &raw)
}

fn samples_to_python<'py>(py: Python<'py>, s: &Samples) -> PyResult<Bound<'py, PyTuple>> {
    (
        bytes_of(py, &s.times, f64::to_ne_bytes),
        bytes_of(py, &s.ids, u32::to_ne_bytes),
        bytes_of(py, &s.weights, i64::to_ne_bytes),
    )
        .into_pyobject(py)
}

/// The samples kept: with `mapping` (int64 per stack id: its new id, or -1 to drop) those of
/// stacks it keeps, renumbered; with `window` `(lo, hi)` those with `lo <= time < hi`. Returns
/// `(times, ids, weights)` bytes.
#[pyfunction]
#[pyo3(signature = (times, ids, weights, mapping = None, window = None))]
fn timeline_filter<'py>(
    py: Python<'py>,
    times: &[u8],
    ids: &[u8],
    weights: &[u8],
    mapping: Option<&[u8]>,
    window: Option<(f64, f64)>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (t, i, w) = (f64s(times)?, u32s(ids)?, i64s(weights)?);
    let m = mapping.map(i64s).transpose()?;
    let kept = py.detach(|| guard("timeline", || filter(&t, &i, &w, m.as_deref(), window)))?;
    samples_to_python(py, &kept)
}

/// The samples split into `groups` parts in one pass (`foldkit.transform.roots.split`): per stack
/// id its part (`group`, int64 bytes, -1 for none) and its id there (`local`, uint32 bytes).
/// Returns a `(times, ids, weights)` bytes tuple per part.
#[pyfunction]
fn timeline_split<'py>(
    py: Python<'py>,
    times: &[u8],
    ids: &[u8],
    weights: &[u8],
    group: &[u8],
    local: &[u8],
    groups: usize,
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    let (t, i, w) = (f64s(times)?, u32s(ids)?, i64s(weights)?);
    let (g, l) = (i64s(group)?, u32s(local)?);
    let parts = py.detach(|| guard("timeline", || split(&t, &i, &w, &g, &l, groups)))?;
    parts.iter().map(|p| samples_to_python(py, p)).collect()
}

/// The samples in time order (a stable sort): `(times, ids, weights)` bytes; None when a time is
/// NaN (`foldkit.timeline.sorted_by_time`'s Python code, the reference, then sorts).
#[pyfunction]
fn timeline_sorted<'py>(
    py: Python<'py>,
    times: &[u8],
    ids: &[u8],
    weights: &[u8],
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let (t, i, w) = (f64s(times)?, u32s(ids)?, i64s(weights)?);
    let sorted = py.detach(|| guard("timeline", || sort_by_time(&t, &i, &w)))?;
    sorted.map(|s| samples_to_python(py, &s)).transpose()
}

/// `(weights, counts)`: per stack id below `stacks`, the sum of its samples' weights and their
/// number, as lists of ints.
#[pyfunction]
fn timeline_sums<'py>(
    py: Python<'py>,
    ids: &[u8],
    weights: &[u8],
    stacks: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let (i, w) = (u32s(ids)?, i64s(weights)?);
    let (total, count) = py.detach(|| guard("timeline", || sums(&i, &w, stacks)))?;
    let totals = PyList::empty(py);
    for t in total {
        totals.append(int(py, t)?)?;
    }
    (totals, count).into_pyobject(py)
}

/// The earliest time that is not NaN, or None.
#[pyfunction]
fn timeline_first_time(times: &[u8]) -> PyResult<Option<f64>> {
    Ok(first_time(&f64s(times)?))
}

/// `(start, end)`: the earliest and latest finite time of a sample of positive weight, or None.
#[pyfunction]
fn timeline_span(times: &[u8], weights: &[u8]) -> PyResult<Option<(f64, f64)>> {
    Ok(span(&f64s(times)?, &i64s(weights)?))
}

/// Flame-chart runs of the samples (see `foldkit.timeline.chart_runs`): `(run ids as uint32
/// bytes, run weights as int64 bytes, non-positive samples, total)`, or None when a run's
/// weight is beyond int64 (the twin takes those).
#[pyfunction]
fn timeline_runs<'py>(
    py: Python<'py>,
    times: &[u8],
    ids: &[u8],
    weights: &[u8],
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let (t, i, w) = (f64s(times)?, u32s(ids)?, i64s(weights)?);
    let (run_ids, run_weights, nonpositive) =
        py.detach(|| guard("timeline", || runs(&t, &i, &w)))?;
    let narrow: Option<Vec<i64>> = run_weights.iter().map(|&w| i64::try_from(w).ok()).collect();
    let Some(narrow) = narrow else {
        return Ok(None);
    };
    let total: i128 = run_weights.iter().sum();
    (
        bytes_of(py, &run_ids, u32::to_ne_bytes),
        bytes_of(py, &narrow, i64::to_ne_bytes),
        nonpositive,
        int(py, total)?,
    )
        .into_pyobject(py)
        .map(Some)
}

/// The flame-chart layout of runs (`timeline_runs`'s ids and weights) of `stacks` (the distinct
/// stacks the ids index): what `layout_frames` gives for the runs as `[(stack, weight)]`.
#[pyfunction]
fn timeline_chart_layout<'py>(
    py: Python<'py>,
    stacks: &Bound<'py, PyList>,
    run_ids: &[u8],
    run_weights: &[u8],
    threshold: i128,
    max_frames: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let (ids, weights) = (u32s(run_ids)?, i64s(run_weights)?);
    let mut texts = Texts::new("surrogatepass");
    for stack in stacks.iter() {
        texts.hold(&stack)?;
    }
    let bytes = texts.bytes()?;
    let mut pairs: Vec<(&[u8], i64)> = Vec::with_capacity(ids.len());
    for (&id, &w) in ids.iter().zip(&weights) {
        let stack = bytes
            .get(id as usize)
            .ok_or_else(|| PyValueError::new_err("a run's stack id is beyond the stacks"))?;
        pairs.push((stack, w));
    }
    let (tree, frames) = guard("layout", || {
        let tree = chart_tree(&pairs, threshold, max_frames);
        let frames = layout(&tree, false, max_frames);
        (tree, frames)
    })?;
    frames_to_python(py, &tree, &frames)
}

/// The Time view's cells (see `foldkit/render/viewer/timeline.py`): `(keys, values)`, keys
/// `node << 32 | bucket` as uint64 bytes in ascending order, values the summed weights (ints).
/// `nodes` (int64 bytes) is the node of each stack id, -1 for none.
#[pyfunction]
fn timeline_cells<'py>(
    py: Python<'py>,
    times: &[u8],
    ids: &[u8],
    weights: &[u8],
    nodes: &[u8],
    start: f64,
    rows: f64,
) -> PyResult<Bound<'py, PyTuple>> {
    let (t, i, w, n) = (f64s(times)?, u32s(ids)?, i64s(weights)?, i64s(nodes)?);
    let got = py.detach(|| guard("timeline", || cells(&t, &i, &w, &n, start, rows)))?;
    let keys: Vec<u64> = got.iter().map(|&(k, _)| k).collect();
    let values = PyList::empty(py);
    for &(_, v) in &got {
        values.append(int(py, v)?)?;
    }
    (bytes_of(py, &keys, u64::to_ne_bytes), values).into_pyobject(py)
}

/// For each of `stacks`, the node of the viewer tree it ends at when a side's stacks end there,
/// else -1 (int64 bytes): `foldkit.render.viewer.timeline.stack_nodes` without a Python string
/// per node.
#[pyfunction]
fn viewer_stack_nodes<'py>(
    py: Python<'py>,
    tree: PyRef<'py, ViewerTree>,
    stacks: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut texts = Texts::new("surrogatepass");
    for stack in stacks.iter() {
        texts.hold(&stack)?;
    }
    let bytes = texts.bytes()?;
    let nodes = guard("timeline", || stack_nodes(tree.view(), &bytes))?;
    Ok(bytes_of(py, &nodes, i64::to_ne_bytes))
}

/// speedscope's sampled profile of the samples (`foldkit.export.speedscope`): `(frames, samples,
/// weights, end)`, the JSON text of the three arrays as bytes and the weights' sum; None when a
/// time is NaN or a stack is not valid UTF-8 (the Python writer, the reference, then runs).
#[pyfunction]
fn timeline_speedscope<'py>(
    py: Python<'py>,
    stacks: Vec<Bound<'py, PyString>>,
    times: &[u8],
    ids: &[u8],
    weights: &[u8],
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let mut names: Vec<&str> = Vec::with_capacity(stacks.len());
    for stack in &stacks {
        match stack.to_str() {
            Ok(s) => names.push(s),
            Err(_) => return Ok(None),
        }
    }
    let (t, i, w) = (f64s(times)?, u32s(ids)?, i64s(weights)?);
    let got = py.detach(|| guard("speedscope writer", || sampled(&names, &t, &i, &w)))?;
    let Some(got) = got else {
        return Ok(None);
    };
    let tuple = (
        PyBytes::new(py, &got.frames),
        PyBytes::new(py, &got.samples),
        PyBytes::new(py, &got.weights),
        int(py, got.end)?,
    )
        .into_pyobject(py)?;
    Ok(Some(tuple))
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(timeline_filter, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_sums, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_first_time, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_span, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_runs, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_chart_layout, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_cells, m)?)?;
    m.add_function(wrap_pyfunction!(viewer_stack_nodes, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_speedscope, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_split, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_sorted, m)?)?;
    Ok(())
}
