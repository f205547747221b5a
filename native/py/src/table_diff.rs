//! A differential flame graph's look-ups in a folded file's stack table (`FoldedStacks`), without
//! a Python object per stack (`foldkit.render.diffgraph` calls it; `Layout.inclusive`/`own` and
//! `hidden_share` of the dicts stay the reference).

use foldkit_core::stack_order::threads;
use foldkit_core::table::Stacks;
use foldkit_core::table_diff::{frame_sums, DiffFolded, PIECE};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

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

/// Write the two-column folded text of `before` and `after` (`stack before after` lines, every
/// stack of either once, sorted byte-wise, 0 where a side lacks it) to `out` (anything with a
/// `write(bytes)` method) a piece of a few megabytes at a time, the pieces made on every thread
/// while `out` takes the ones before: True when written, False (nothing written) when a table
/// is not one this takes. Without `out`, only whether it would be written.
#[pyfunction]
#[pyo3(signature = (before, after, out = None))]
fn table_difffolded_write(
    py: Python<'_>,
    before: &FoldedStacks,
    after: &FoldedStacks,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<bool> {
    let (Some(b), Some(a)) = (plain(before), plain(after)) else {
        return Ok(false);
    };
    let Some(out) = out else {
        return Ok(true);
    };
    let text = py.detach(|| guard("diff", || DiffFolded::new(b, a, PIECE)))?;
    let write = intern!(py, "write");
    guard("diff", || {
        text.write(
            threads(),
            |join| py.detach(&mut *join),
            |piece| {
                out.call_method1(write, (PyBytes::new(py, &piece),))
                    .map(drop)
            },
        )
    })??;
    Ok(true)
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_frame_sums, m)?)?;
    m.add_function(wrap_pyfunction!(table_difffolded_write, m)?)?;
    Ok(())
}
