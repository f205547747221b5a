//! A differential flame graph's look-ups in a folded file's stack table (`FoldedStacks`), without
//! a Python object per stack (`foldkit.render.diffgraph` calls it; `Layout.inclusive`/`own` and
//! `hidden_share` of the dicts stay the reference).

use foldkit_core::table::Stacks;
use foldkit_core::table_diff::frame_sums;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{guard, int, Texts};
use crate::folded::FoldedStacks;
use crate::table::plain;

/// For each drawn frame (`names[i]` under frame `parents[i]`, frame 0 the root), the weight of
/// `table`'s stacks (positive weights only) through its path and ending at it, with `threads`
/// threads: `(inclusive, own, hidden, total)`, `hidden` the weight of the stacks `absent_from`
/// lacks (a table, or a dict's stacks as a list of str; 0 without it) and `total` of all stacks; None when a table is not one this takes
/// (decimal sums, stacks that are not UTF-8) or `parents` is not a pre-order tree.
#[pyfunction]
#[pyo3(signature = (table, names, parents, absent_from = None, threads = 1))]
fn table_frame_sums<'py>(
    py: Python<'py>,
    table: &FoldedStacks,
    names: &Bound<'py, PyList>,
    parents: Vec<i64>,
    absent_from: Option<&Bound<'py, PyAny>>,
    threads: usize,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let Some(stacks) = plain(table) else {
        return Ok(None);
    };
    // the other side: a table, or a dict's stacks (a list of str) made one
    let listed: Stacks;
    let held: Option<PyRef<'py, FoldedStacks>>;
    let other = match absent_from {
        None => None,
        Some(side) => match side.extract::<PyRef<'py, FoldedStacks>>() {
            Ok(t) => {
                held = Some(t);
                match held.as_deref().and_then(plain) {
                    Some(s) => Some(s),
                    None => return Ok(None),
                }
            }
            Err(_) => {
                let mut texts = Texts::new("surrogateescape");
                for stack in side.cast::<PyList>()?.iter() {
                    texts.hold(&stack)?;
                }
                let mut made = Stacks::new();
                for stack in texts.bytes()? {
                    made.push(stack, 0);
                }
                listed = made;
                Some(&listed)
            }
        },
    };
    let mut texts = Texts::new("surrogatepass");
    for name in names.iter() {
        texts.hold(&name)?;
    }
    let names = texts.bytes()?;
    let found = py.detach(|| {
        guard("diff", || {
            frame_sums(stacks, &names, &parents, other, threads)
        })
    })?;
    let Some(sums) = found else {
        return Ok(None);
    };
    let inclusive = PyList::empty(py);
    let own = PyList::empty(py);
    for (&a, &b) in sums.inclusive.iter().zip(&sums.own) {
        inclusive.append(int(py, a)?)?;
        own.append(int(py, b)?)?;
    }
    let (hidden, total) = (int(py, sums.hidden)?, int(py, sums.total)?);
    Ok(Some((inclusive, own, hidden, total).into_pyobject(py)?))
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_frame_sums, m)?)?;
    Ok(())
}
