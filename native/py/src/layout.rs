//! Python face of the flame-graph layout (`foldkit.render.layout` calls it; its Python twin
//! stays the reference).

use std::collections::HashMap;

use foldkit_core::layout::{chart_tree, flame_tree, layout, Frames, Tree};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::convert::{guard, int, text, Texts};

/// The layout's lists for `foldkit.render.layout.Layout`.
pub(crate) fn frames_to_python<'py>(
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
pub(crate) fn weighed<'py>(
    pairs: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> PyResult<Option<(Texts<'py>, Vec<i64>)>> {
    let mut texts = Texts::new("surrogatepass");
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

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(layout_frames, m)?)?;
    Ok(())
}
