//! `folded_text`: a profile's stacks and integer weights as canonical folded text.

use foldkit_core::folded::text::{sort_rows, write_rows, Row};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt};

use crate::convert::Texts;

/// `{stack: weight}` as folded text bytes (`stack weight` lines sorted byte-wise by stack, stacks
/// encoded UTF-8 with surrogate escapes), or None when a weight is not an int (or does not fit
/// in 128 bits): the caller then writes the text itself.
#[pyfunction]
fn folded_text<'py>(
    py: Python<'py>,
    weights: &Bound<'py, PyDict>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let mut texts = Texts::new("surrogateescape");
    let mut counts: Vec<i128> = Vec::with_capacity(weights.len());
    for (stack, weight) in weights.iter() {
        // exactly int (not bool or another subclass, whose str() may differ)
        if !weight.is_exact_instance_of::<PyInt>() {
            return Ok(None);
        }
        let Ok(weight) = weight.extract::<i128>() else {
            return Ok(None);
        };
        texts.hold(&stack)?;
        counts.push(weight);
    }
    let mut rows: Vec<Row<'_>> = texts.bytes()?.into_iter().zip(counts).collect();
    let len = sort_rows(&mut rows);
    let text = PyBytes::new_with(py, len, |out| {
        write_rows(&rows, out);
        Ok(())
    })?;
    Ok(Some(text))
}

/// Register `folded_text` in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(folded_text, m)?)?;
    Ok(())
}
