//! `folded_text`: a profile's stacks and integer weights as canonical folded text.

use std::io;
use std::path::PathBuf;

use foldkit_core::folded::text::{sort_rows_parallel, write_rows, write_rows_to, Row};
use foldkit_core::stack_order::threads;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt};

use crate::convert::{guard, Texts};
use crate::svg::{os_error, output_file};

/// The stacks of `{stack: weight}` held as UTF-8 (surrogate escapes) and their weights, in the
/// dict's order; None when a weight is not an int (or does not fit in 128 bits).
fn held<'py>(weights: &Bound<'py, PyDict>) -> PyResult<Option<(Texts<'py>, Vec<i128>)>> {
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
    Ok(Some((texts, counts)))
}

/// `{stack: weight}` as folded text bytes (`stack weight` lines sorted byte-wise by stack, stacks
/// encoded UTF-8 with surrogate escapes), or None when a weight is not an int (or does not fit
/// in 128 bits): the caller then writes the text itself.
#[pyfunction]
fn folded_text<'py>(
    py: Python<'py>,
    weights: &Bound<'py, PyDict>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let Some((texts, counts)) = held(weights)? else {
        return Ok(None);
    };
    let mut rows: Vec<Row<'_>> = texts.bytes()?.into_iter().zip(counts).collect();
    let len = py.detach(|| sort_rows_parallel(&mut rows, threads()));
    let text = PyBytes::new_with(py, len, |out| {
        write_rows(&rows, out);
        Ok(())
    })?;
    Ok(Some(text))
}

/// Write `folded_text`'s bytes of `weights` to the file at `path`, made (`new`: it must not
/// exist, readable by its owner only) or opened for writing and truncated, or to the process's
/// standard output (`path` None), a piece at a time (the text is never held whole). False,
/// having made and written nothing, when `folded_text` would give None; an `OSError` as
/// Python's own calls raise it when the file cannot be made or written.
#[pyfunction]
#[pyo3(signature = (weights, path, new))]
fn folded_write(
    py: Python<'_>,
    weights: &Bound<'_, PyDict>,
    path: Option<PathBuf>,
    new: bool,
) -> PyResult<bool> {
    let Some((texts, counts)) = held(weights)? else {
        return Ok(false);
    };
    let mut rows: Vec<Row<'_>> = texts.bytes()?.into_iter().zip(counts).collect();
    let result = py.detach(|| {
        guard("folded writer", || -> io::Result<()> {
            sort_rows_parallel(&mut rows, threads());
            let mut file = output_file(path.as_deref(), new)?;
            write_rows_to(&rows, &mut file)
        })
    })?;
    result.map(|()| true).map_err(|err| os_error(py, &err))
}

/// Register `folded_text` and `folded_write` in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(folded_text, m)?)?;
    m.add_function(wrap_pyfunction!(folded_write, m)?)?;
    Ok(())
}
