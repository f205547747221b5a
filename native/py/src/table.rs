//! The commands' work on a folded file's stack table (`FoldedStacks`), without a Python object
//! per stack: its canonical folded text, `top`'s per-function sums, a diff's union of two
//! tables. Each gives None when the table is not one it takes (decimal sums, stacks that are
//! not UTF-8, sums beyond i64): the caller then works from `to_dict()`, the reference.

use std::cmp::Ordering;
use std::io;
use std::path::PathBuf;

use foldkit_core::function_sums::function_sums_parallel;
use foldkit_core::stack_order::{threads, write_folded_parallel};
use foldkit_core::table::{Group, Named, Stacks};
use foldkit_core::table_diff::change_sums;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::convert::{guard, int, text};
use crate::folded::FoldedStacks;
use crate::svg::{os_error, output_file};

/// The table's stacks when they are integer sums of UTF-8 stacks.
pub(crate) fn plain(table: &FoldedStacks) -> Option<&Stacks> {
    let inner = &table.inner;
    (inner.floats.is_empty() && inner.utf8).then_some(&inner.stacks)
}

/// The canonical folded text of `table` (`stack weight` lines sorted byte-wise), or None when a
/// sum is a decimal.
#[pyfunction]
fn table_folded_text<'py>(
    py: Python<'py>,
    table: &FoldedStacks,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    if !table.inner.floats.is_empty() {
        return Ok(None);
    }
    let stacks = &table.inner.stacks;
    let order = py.detach(|| guard("folded writer", || stacks.sorted()))?;
    let mut made: Option<Bound<'py, PyBytes>> = None;
    write_folded_parallel(stacks, &order, threads(), |len, fill| {
        made = Some(PyBytes::new_with(py, len, |out| {
            py.detach(|| guard("folded writer", || fill(out)))
        })?);
        Ok::<(), PyErr>(())
    })?;
    let out = made.expect("the folded text was made");
    Ok(Some(out))
}

/// Write the canonical folded text of `table` (`table_folded_text`'s bytes) to the file at
/// `path`, made (`new`: it must not exist, readable by its owner only) or opened for writing and
/// truncated, or to the process's standard output (`path` None), a piece at a time: the text is
/// never held whole. False, having made and written nothing, when a sum is a decimal; an
/// `OSError` as Python's own calls raise it when the file cannot be made or written.
#[pyfunction]
#[pyo3(signature = (table, path, new))]
fn table_folded_write(
    py: Python<'_>,
    table: &FoldedStacks,
    path: Option<PathBuf>,
    new: bool,
) -> PyResult<bool> {
    if !table.inner.floats.is_empty() {
        return Ok(false);
    }
    let stacks = &table.inner.stacks;
    let result = py.detach(|| {
        guard("folded writer", || -> io::Result<()> {
            let order = stacks.sorted();
            let mut file = output_file(path.as_deref(), new)?;
            stacks.write_folded_to(&order, threads(), &mut file)
        })
    })?;
    result.map(|()| true).map_err(|err| os_error(py, &err))
}

/// How `group` names a grouping.
fn group_of(by: &str, roots: usize) -> PyResult<Group> {
    match by {
        "function" => Ok(Group::Function { roots }),
        "root" => Ok(Group::Root),
        _ => Err(PyValueError::new_err(format!("no grouping {by:?}"))),
    }
}

/// The first `limit` (all when `limit` <= 0) of the rows `rows` hands over by `order`, in that
/// order, and how many rows there were in all: only `limit` rows are held beyond the partition at
/// hand.
fn best<'a, const N: usize>(
    rows: impl FnOnce(&mut (dyn FnMut(Named<'a, N>) + Send)) -> Option<()>,
    limit: i64,
    order: impl Fn(&Named<'a, N>, &Named<'a, N>) -> Ordering + Sync,
) -> Option<(Vec<Named<'a, N>>, usize)> {
    let mut kept: Vec<Named<'a, N>> = Vec::new();
    let mut count = 0usize;
    let cap = usize::try_from(limit).ok().filter(|&l| l > 0);
    // the last row kept when the rows were last cut to `cap`: a row after it is never shown
    let mut bar: Option<([[i64; 2]; N], &'a [u8])> = None;
    rows(&mut |row| {
        count += 1;
        if let Some((sums, name)) = bar {
            if order(&row, &Named { name, sums }) == Ordering::Greater {
                return;
            }
        }
        kept.push(row);
        if let Some(cap) = cap {
            if kept.len() >= cap.max(1 << 16) * 2 {
                kept.select_nth_unstable_by(cap - 1, &order);
                kept.truncate(cap);
                bar = Some((kept[cap - 1].sums, kept[cap - 1].name));
            }
        }
    })?;
    kept.sort_unstable_by(&order);
    if let Some(cap) = cap {
        kept.truncate(cap);
    }
    Some((kept, count))
}

/// `top`'s rows of `table`: per function (`by="function"`, the first `roots` frames left out) or
/// per root frame (`by="root"`), `(names, selfs, totals, rows in all)` of the first `limit` rows
/// (all when `limit` <= 0) heaviest first by self (`sort_self`) or total, ties by the other, then
/// by name; None when the table is not one this takes.
#[pyfunction]
fn table_top<'py>(
    py: Python<'py>,
    table: &FoldedStacks,
    by: &str,
    roots: usize,
    sort_self: bool,
    limit: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let Some(stacks) = plain(table) else {
        return Ok(None);
    };
    let group = group_of(by, roots)?;
    let (first, second) = if sort_self { (0, 1) } else { (1, 0) };
    let found = py.detach(|| {
        guard("top", || {
            best(
                |keep| function_sums_parallel([stacks], group, threads(), keep),
                limit,
                |a, b| {
                    let (x, y) = (a.sums[0], b.sums[0]);
                    y[first]
                        .cmp(&x[first])
                        .then(y[second].cmp(&x[second]))
                        .then_with(|| a.name.cmp(b.name))
                },
            )
        })
    })?;
    let Some((rows, count)) = found else {
        return Ok(None);
    };
    let (names, selfs, totals) = (PyList::empty(py), PyList::empty(py), PyList::empty(py));
    for row in &rows {
        names.append(text(py, row.name, "surrogateescape")?)?;
        selfs.append(int::<i128>(py, row.sums[0][0].into())?)?;
        totals.append(int::<i128>(py, row.sums[0][1].into())?)?;
    }
    Ok(Some((names, selfs, totals, count).into_pyobject(py)?))
}

/// `diff`'s changed functions of two tables: per function (the first `roots` frames left out)
/// its self and total sums on each side, `(names, self before, total before, self after, total
/// after, rows in all)` of the first `limit` rows (all when <= 0) by the largest change of share
/// (|after * `after_pct` - before * `scale` * `before_pct`| of self, or of total without
/// `sort_self`), ties by name; None when a table is not one this takes.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn table_changes<'py>(
    py: Python<'py>,
    before: &FoldedStacks,
    after: &FoldedStacks,
    roots: usize,
    scale: f64,
    before_pct: f64,
    after_pct: f64,
    sort_self: bool,
    limit: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let (Some(b), Some(a)) = (plain(before), plain(after)) else {
        return Ok(None);
    };
    let column = if sort_self { 0 } else { 1 };
    // as the reference computes it: the before sums scaled (when normalised) as floats first
    let change = |r: &Named<'_, 2>| {
        let was = r.sums[0][column] as f64 * scale;
        (r.sums[1][column] as f64 * after_pct - was * before_pct).abs()
    };
    let found = py.detach(|| {
        guard("diff", || {
            best(
                |keep| change_sums(b, a, Group::Function { roots }, threads(), keep),
                limit,
                |x, y| {
                    change(y)
                        .total_cmp(&change(x))
                        .then_with(|| x.name.cmp(y.name))
                },
            )
        })
    })?;
    let Some((rows, count)) = found else {
        return Ok(None);
    };
    let names = PyList::empty(py);
    let columns = [
        PyList::empty(py),
        PyList::empty(py),
        PyList::empty(py),
        PyList::empty(py),
    ];
    for row in &rows {
        names.append(text(py, row.name, "surrogateescape")?)?;
        for (k, list) in columns.iter().enumerate() {
            list.append(int::<i128>(py, row.sums[k / 2][k % 2].into())?)?;
        }
    }
    let [sb, tb, sa, ta] = columns;
    Ok(Some((names, sb, tb, sa, ta, count).into_pyobject(py)?))
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_folded_text, m)?)?;
    m.add_function(wrap_pyfunction!(table_folded_write, m)?)?;
    m.add_function(wrap_pyfunction!(table_top, m)?)?;
    m.add_function(wrap_pyfunction!(table_changes, m)?)?;
    Ok(())
}
