//! `foldkit check`'s columns from the runs' stack tables (`foldkit_core::check_columns`): the
//! functions the gate can look at with their samples per run, the samples without a code frame,
//! the weights' common divisor, the stacks ending in given functions. Each gives None when a
//! table is not one it takes (decimal sums, stacks that are not UTF-8, sums beyond i64): the
//! gate then works from `to_dict()`, the reference.

use std::collections::HashSet;

use foldkit_core::check_columns::Row;
use foldkit_core::check_columns::{
    check_sums, each_name, no_code, pattern_sums, stacks_ending_in, total, weight_gcd, Scope,
};
use foldkit_core::name_match::{matching_sums, NameMatcher};
use foldkit_core::stack_order::threads;
use foldkit_core::table::Stacks;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{guard, int, text, Texts};
use crate::folded::FoldedStacks;
use crate::table::plain;

/// Most runs (both sides together) `table_check_sums` takes.
const MOST_RUNS: usize = 8;

/// Every table's stacks when each is one the check takes (see `plain`).
fn plains<'a>(tables: &'a [PyRef<'_, FoldedStacks>]) -> Option<Vec<&'a Stacks>> {
    tables.iter().map(|t| plain(t)).collect()
}

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
    let Some(sides) = plains(&tables) else {
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

/// Names handed to `visit` at a time.
const NAME_BATCH: usize = 1 << 16;

/// Hand every function's name of the runs `tables` (the first `roots` frames of every stack left
/// out), once per table holding it, to `visit` in lists of at most NAME_BATCH; False when the
/// tables are not ones this takes (or a sum leaves i64) and not every name was given.
#[pyfunction]
fn table_each_name<'py>(
    py: Python<'py>,
    tables: Vec<PyRef<'py, FoldedStacks>>,
    roots: usize,
    visit: Bound<'py, PyAny>,
) -> PyResult<bool> {
    let Some(sides) = plains(&tables) else {
        return Ok(false);
    };
    let mut failed: Option<PyErr> = None;
    let mut batch: Vec<Bound<'py, PyAny>> = Vec::with_capacity(NAME_BATCH);
    let hand = |batch: &mut Vec<Bound<'py, PyAny>>, failed: &mut Option<PyErr>| {
        if failed.is_none() && !batch.is_empty() {
            let list = PyList::new(py, batch.drain(..));
            if let Err(e) = list.and_then(|l| visit.call1((l,))) {
                *failed = Some(e);
            }
        }
        batch.clear();
    };
    // the GIL is held: the names go to Python as they come (the summing threads need none)
    let done = guard("check", || {
        let mut name = |raw: &[u8]| {
            if failed.is_some() {
                return;
            }
            match text(py, raw, "surrogateescape") {
                Ok(s) => batch.push(s),
                Err(e) => failed = Some(e),
            }
            if batch.len() >= NAME_BATCH {
                hand(&mut batch, &mut failed);
            }
        };
        let mut ok = Some(());
        for side in &sides {
            ok = ok.and_then(|()| each_name([*side], roots, threads(), &mut name));
        }
        ok
    })?;
    hand(&mut batch, &mut failed);
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(done.is_some())
}

/// `(self, total)` of `table`'s frames named in `names` taken together (the first `roots`
/// frames of every stack left out): the weight of the stacks ending in one of them and of the
/// stacks holding any; None when the table is not one `table_check_sums` takes.
#[pyfunction]
fn table_pattern_sums<'py>(
    py: Python<'py>,
    table: &FoldedStacks,
    roots: usize,
    names: Vec<Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let Some(stacks) = plain(table) else {
        return Ok(None);
    };
    let mut held = Texts::new("surrogateescape");
    for name in &names {
        held.hold(name)?;
    }
    let wanted: HashSet<&[u8]> = held.bytes()?.into_iter().collect();
    let (own, all) = py.detach(|| guard("check", || pattern_sums(stacks, roots, &wanted)))?;
    Ok(Some((int(py, own)?, int(py, all)?).into_pyobject(py)?))
}

/// Two Python ints.
type PairOf<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>);

/// `(self, total)` per table of `tables` of the frames (the first `roots` of every stack left
/// out) that a pattern matches, taken together, as `table_pattern_sums` gives them for the names
/// Python's `re` matches: the pattern translated by `foldkit.analysis.regex_subset`, `literal`
/// (a substring) or the regular expression `exact` with its looser form `loose`, holding on ASCII
/// names only when `ascii_only`. None when a table is not one `table_check_sums` takes, the
/// translation's meaning is not proven on a table's stacks (a newline; not ASCII), or the
/// expression does not compile: Python's `re` then decides.
#[pyfunction]
#[pyo3(signature = (tables, roots, exact, loose, literal, ascii_only))]
fn table_pattern_match<'py>(
    py: Python<'py>,
    tables: Vec<PyRef<'py, FoldedStacks>>,
    roots: usize,
    exact: &str,
    loose: &str,
    literal: bool,
    ascii_only: bool,
) -> PyResult<Option<Vec<PairOf<'py>>>> {
    let Some(sides) = plains(&tables) else {
        return Ok(None);
    };
    let found = py.detach(|| {
        guard("check", || {
            let matcher = if literal {
                NameMatcher::literal(exact)
            } else {
                NameMatcher::regex(exact, loose, ascii_only)?
            };
            if !sides.iter().all(|t| matcher.holds_on(t)) {
                return None;
            }
            Some(
                sides
                    .iter()
                    .map(|t| matching_sums(t, roots, &matcher, threads()))
                    .collect::<Vec<_>>(),
            )
        })
    })?;
    let Some(sums) = found else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(sums.len());
    for (own, all) in sums {
        out.push((int(py, own)?, int(py, all)?));
    }
    Ok(Some(out))
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_check_sums, m)?)?;
    m.add_function(wrap_pyfunction!(table_check_totals, m)?)?;
    m.add_function(wrap_pyfunction!(table_stacks_ending_in, m)?)?;
    m.add_function(wrap_pyfunction!(table_each_name, m)?)?;
    m.add_function(wrap_pyfunction!(table_pattern_sums, m)?)?;
    m.add_function(wrap_pyfunction!(table_pattern_match, m)?)?;
    Ok(())
}
