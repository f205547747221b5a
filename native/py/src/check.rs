//! `foldkit check`'s columns from the runs' stack tables (`foldkit_core::check_columns`): the
//! functions the gate can look at with their samples per run, the samples without a code frame,
//! the weights' common divisor, the stacks ending in given functions. Each gives None when a
//! table is not one it takes (decimal sums, stacks that are not UTF-8, sums beyond i64): the
//! gate then works from `to_dict()`, the reference.

use std::collections::HashSet;

use foldkit_core::check_columns::Row;
use foldkit_core::check_columns::{
    check_sums, no_code, stacks_ending_in, total, weight_gcd, Scope,
};
use foldkit_core::stack_order::threads;
use foldkit_core::table::Stacks;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{guard, int, text, Texts};
use crate::folded::FoldedStacks;
use crate::table::plain;

/// Most runs (both sides together) `table_check_sums` takes.
const MOST_RUNS: usize = 8;

/// Names, and per name per run its self then total samples.
type Columns = (Vec<Vec<u8>>, Vec<i64>);

/// The rows of `check_sums` for `sides` as [`Columns`], or None (a sum beyond i64).
fn rows<const N: usize>(
    py: Python<'_>,
    sides: &[&Stacks],
    roots: usize,
    scope: Scope,
) -> PyResult<Option<Columns>> {
    let Ok(sides) = <[&Stacks; N]>::try_from(sides) else {
        return Ok(None);
    };
    py.detach(|| {
        guard("check", || {
            check_sums(sides, roots, scope, threads()).map(|kept: Vec<Row<N>>| {
                let mut names = Vec::with_capacity(kept.len());
                let mut sums = Vec::with_capacity(kept.len() * 2 * N);
                for (name, row) in kept {
                    names.push(name);
                    sums.extend(row.iter().flatten());
                }
                (names, sums)
            })
        })
    })
}

/// The functions of the runs `tables` (the baseline's `base` runs first; the first `roots`
/// frames of every stack left out) that a check with tested-share floor `floor` can test or
/// measure noise on (`min_expected`: `stats.MIN_EXPECTED`), as `(names, sums)`: `sums` holds per
/// name, per run, its self then total samples. None when a table is not one this takes, a sum
/// leaves i64, or there are more than MOST_RUNS runs.
#[pyfunction]
fn table_check_sums<'py>(
    py: Python<'py>,
    tables: Vec<PyRef<'py, FoldedStacks>>,
    base: usize,
    roots: usize,
    floor: f64,
    min_expected: f64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let Some(sides) = tables
        .iter()
        .map(|t| plain(t))
        .collect::<Option<Vec<&Stacks>>>()
    else {
        return Ok(None);
    };
    let scope = Scope {
        base,
        floor,
        min_expected,
    };
    let found = match sides.len() {
        2 => rows::<2>(py, &sides, roots, scope)?,
        3 => rows::<3>(py, &sides, roots, scope)?,
        4 => rows::<4>(py, &sides, roots, scope)?,
        5 => rows::<5>(py, &sides, roots, scope)?,
        6 => rows::<6>(py, &sides, roots, scope)?,
        7 => rows::<7>(py, &sides, roots, scope)?,
        MOST_RUNS => rows::<MOST_RUNS>(py, &sides, roots, scope)?,
        _ => None,
    };
    let Some((names, sums)) = found else {
        return Ok(None);
    };
    let listed = PyList::empty(py);
    for name in &names {
        listed.append(text(py, name, "surrogateescape")?)?;
    }
    Ok(Some((listed, sums).into_pyobject(py)?))
}

/// `(samples, samples of stacks with no frame after the first roots, gcd of the weights)` of
/// `table`, or None when it is not one `table_check_sums` takes.
#[pyfunction]
fn table_check_totals<'py>(
    py: Python<'py>,
    table: &FoldedStacks,
    roots: usize,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let Some(stacks) = plain(table) else {
        return Ok(None);
    };
    let (all, lost, g) = py.detach(|| {
        guard("check", || {
            (total(stacks), no_code(stacks, roots), weight_gcd(stacks))
        })
    })?;
    Ok(Some(
        (int(py, all)?, int(py, lost)?, int(py, g)?).into_pyobject(py)?,
    ))
}

/// `[(stack, weight)]` in table order of the stacks of `table` with a non-zero weight and a
/// frame after the first `roots` whose last frame is one of `leaves`.
#[pyfunction]
fn table_stacks_ending_in<'py>(
    py: Python<'py>,
    table: &FoldedStacks,
    roots: usize,
    leaves: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let stacks = &table.inner.stacks;
    let mut held = Texts::new("surrogateescape");
    for leaf in &leaves {
        held.hold(leaf)?;
    }
    let wanted: HashSet<&[u8]> = held.bytes()?.into_iter().collect();
    let found = py.detach(|| guard("check", || stacks_ending_in(stacks, roots, &wanted)))?;
    let out = PyList::empty(py);
    for k in found {
        out.append((
            text(py, stacks.stack(k), "surrogateescape")?,
            int(py, stacks.sum(k))?,
        ))?;
    }
    Ok(out)
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_check_sums, m)?)?;
    m.add_function(wrap_pyfunction!(table_check_totals, m)?)?;
    m.add_function(wrap_pyfunction!(table_stacks_ending_in, m)?)?;
    Ok(())
}
