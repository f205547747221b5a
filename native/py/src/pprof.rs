//! `fold_pprof`: a decompressed pprof `profile.proto` folded by `foldkit_core::pprof`.

use foldkit_core::pprof;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::convert::text;

/// `(types, chosen, samples, weights, counts, before)` of the profile `data`: `types` a list of
/// `(type, unit)`, `chosen` the index of the sample type folded (`wanted`, else the default;
/// None when there is none or `wanted` is missing), `weights` `{stack: weight}` in first-seen
/// order, `counts` `{stack: samples}` when the profile counts samples in a type of its own, else
/// None, `before` `{stack: weight}` of the samples labelled `pprof::base` (negated back: the
/// BEFORE side of pprof's `-diff_base` form). Strings are UTF-8 with surrogate escapes. ValueError: the bytes are not a well-formed
/// profile (its message says why).
#[pyfunction]
#[pyo3(signature = (data, wanted=None, inline=false))]
fn fold_pprof<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
    wanted: Option<&[u8]>,
    inline: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let bytes = data.as_bytes();
    let folded = py
        .detach(|| pprof::fold(bytes, wanted, inline))
        .map_err(PyValueError::new_err)?;
    let types = PyList::empty(py);
    for (t, u) in &folded.types {
        types.append((
            text(py, t, "surrogateescape")?,
            text(py, u, "surrogateescape")?,
        ))?;
    }
    let weights = PyDict::new(py);
    let counts = PyDict::new(py);
    for (stack, w, c) in &folded.stacks {
        let key = text(py, stack, "surrogateescape")?;
        weights.set_item(&key, *w)?;
        if folded.has_counts {
            counts.set_item(&key, *c)?;
        }
    }
    let before = PyDict::new(py);
    for (stack, w) in &folded.before {
        before.set_item(text(py, stack, "surrogateescape")?, *w)?;
    }
    let counts = if folded.has_counts {
        counts.into_any()
    } else {
        py.None().into_bound(py)
    };
    PyTuple::new(
        py,
        [
            types.into_any(),
            folded.chosen.into_pyobject(py)?.into_any(),
            folded.samples.into_pyobject(py)?.into_any(),
            weights.into_any(),
            counts,
            before.into_any(),
        ],
    )
}

/// The profile.proto message (uncompressed) of `rows`, `(stack, value, count, base)` with stacks
/// as UTF-8 bytes, byte for byte what `foldkit/export/pprof.py` writes for them: `types` the
/// sample types as `(type, unit)` bytes, `default` the mapping of frames that name no object,
/// `diff_base` whether base rows carry the `pprof::base` label.
#[pyfunction]
fn pprof_bytes<'py>(
    py: Python<'py>,
    rows: Vec<(Vec<u8>, i64, i64, bool)>,
    types: Vec<(Vec<u8>, Vec<u8>)>,
    default: Vec<u8>,
    diff_base: bool,
) -> Bound<'py, PyBytes> {
    let data = py.detach(|| {
        let rows: Vec<pprof::Row<'_>> = rows
            .iter()
            .map(|(stack, value, count, base)| pprof::Row {
                stack,
                value: *value,
                count: *count,
                base: *base,
            })
            .collect();
        let types: Vec<(&[u8], &[u8])> = types
            .iter()
            .map(|(t, u)| (t.as_slice(), u.as_slice()))
            .collect();
        pprof::encode(&rows, &types, &default, diff_base)
    });
    PyBytes::new(py, &data)
}

/// Register `fold_pprof` and `pprof_bytes` in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fold_pprof, m)?)?;
    m.add_function(wrap_pyfunction!(pprof_bytes, m)?)?;
    Ok(())
}
