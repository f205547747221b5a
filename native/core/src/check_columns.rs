//! What `foldkit check` needs of the runs' stack tables, without a row per function or per
//! stack beyond those the gate can look at: per function its self and total samples in every run
//! ([`crate::function_sums::function_sums_parallel`]'s rows), kept only when the function
//! [`may_matter`]; the samples of stacks with no code frame; the greatest common divisor of the
//! weights; the stacks ending in given functions (for the gate's "explained by a callee").
//!
//! Most functions of a big table cannot matter (ten million distinct stacks of one sample each:
//! no function but the root reaches a share of 0.1%), and summing each by name is what costs.
//! So when no weight is negative the names are first summed by a slice of their hash
//! ([`bounds`]): a bucket's sum bounds every one of its names' totals from above, and
//! [`may_matter`] only grows with the sums, so a name whose bucket cannot matter cannot either.
//! Such names are replaced by one placeholder (runs of them by one) and the stacks that become
//! equal merged ([`reduce`]); the functions are summed in these far smaller tables.

use std::collections::HashSet;
use std::hash::Hasher;

use hashbrown::HashTable;
use memchr::memchr;
use rustc_hash::FxHasher;

use crate::function_sums::{function_sums_here, function_sums_parallel};
use crate::table::{Group, Stacks};

/// What stands for every frame that cannot matter in a reduced table: not UTF-8, so no frame of
/// a table the check takes is it.
const PLACEHOLDER: &[u8] = b"\xff";
/// Buckets of [`bounds`], at most and at least (a power of two each), and stacks per bucket
/// aimed at: ten million stacks of three frames put about 100 samples in each of 2^18 buckets,
/// far below the 10,000 that 0.1% of them is.
const MOST_BUCKETS: usize = 1 << 18;
const LEAST_BUCKETS: usize = 1 << 10;
const STACKS_PER_BUCKET: usize = 8;

/// A relative margin on every comparison of [`may_matter`]: the gate recomputes each in Python
/// floats (its sums of ints exact, ours rounded to f64), so a function that passes there by less
/// than rounding still passes here.
const SLACK: f64 = 1e-9;

/// The settings of a check that decide which functions it can look at.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// runs of the baseline: the first `base` tables (the candidate's follow)
    pub base: usize,
    /// the share below which a function is not tested (the gate's `Threshold.floor`)
    pub floor: f64,
    /// the expected samples a run from which a function's runs measure noise (`stats.MIN_EXPECTED`)
    pub min_expected: f64,
}

/// One side's runs: their samples, and the fewest of any run.
fn side_totals(totals: &[i128]) -> (f64, f64) {
    let all: i128 = totals.iter().sum();
    let least = totals.iter().copied().min().unwrap_or(0);
    (all as f64, least as f64)
}

/// Whether a function with `sums` (`[self, total]` per run, the baseline's runs first) can be
/// tested or can add to the run-to-run noise estimate of a check in `scope`, whose runs hold
/// `totals` samples: its mean share over both sides reaches the floor in some measure (the
/// gate's test of whether to test it), or on a side of two runs or more its share times the
/// smallest run, or its mean count, reaches `min_expected` (the gate's test of whether its runs
/// measure noise). A superset of what the gate keeps: it decides again on the rows kept.
pub fn may_matter(sums: &[[i64; 2]], totals: &[i128], scope: Scope) -> bool {
    let sides = [(0, scope.base), (scope.base, totals.len())];
    for measure in 0..2 {
        let mut means = [0.0f64; 2];
        for (k, &(lo, hi)) in sides.iter().enumerate() {
            let count: i128 = sums[lo..hi].iter().map(|s| i128::from(s[measure])).sum();
            let (all, least) = side_totals(&totals[lo..hi]);
            let mean = if all != 0.0 { count as f64 / all } else { 0.0 };
            means[k] = mean;
            let runs = hi - lo;
            if runs >= 2 {
                let bar = scope.min_expected * (1.0 - SLACK);
                if mean * least >= bar || count as f64 / runs as f64 >= bar {
                    return true;
                }
            }
        }
        if (means[0] + means[1]) / 2.0 >= scope.floor * (1.0 - SLACK) {
            return true;
        }
    }
    false
}

/// A function's name and its `[self, total]` samples per run.
pub type Row<const N: usize> = (Vec<u8>, [[i64; 2]; N]);

/// The functions (the first `roots` frames of every stack left out) of the runs `sides` (one
/// table per run, the baseline's first) that [`may_matter`] to a check in `scope`, each with its
/// `[self, total]` samples per run, in no particular order; None when a sum leaves i64.
pub fn check_sums<const N: usize>(
    sides: [&Stacks; N],
    roots: usize,
    scope: Scope,
    threads: usize,
) -> Option<Vec<Row<N>>> {
    check_sums_in(sides, roots, scope, threads, MIN_RANGE)
}

/// [`check_sums`] with threads taking ranges of at least `min_range` stacks.
pub fn check_sums_in<const N: usize>(
    sides: [&Stacks; N],
    roots: usize,
    scope: Scope,
    threads: usize,
    min_range: usize,
) -> Option<Vec<Row<N>>> {
    let totals: Vec<i128> = sides.iter().map(|t| total(t)).collect();
    let mut kept = Vec::new();
    let reducible = totals.iter().all(|&t| t > 0)
        && sides.iter().all(|t| {
            (0..t.len()).all(|k| t.sum(k) >= 0) && memchr(PLACEHOLDER[0], t.arena()).is_none()
        });
    if !reducible {
        function_sums_parallel(sides, Group::Function { roots }, threads, |row| {
            if may_matter(&row.sums, &totals, scope) {
                kept.push((row.name.to_vec(), row.sums));
            }
        })?;
        return Some(kept);
    }
    let (buckets, sums) = bounds(&sides, roots, threads, min_range);
    let hot: Vec<bool> = (0..buckets)
        .map(|b| {
            let bound: [[i64; 2]; N] = std::array::from_fn(|r| [sums[r][b], sums[r][b]]);
            may_matter(&bound, &totals, scope)
        })
        .collect();
    let reduced: Vec<Stacks> = sides
        .iter()
        .map(|t| reduce(t, roots, &hot, threads, min_range))
        .collect();
    let small: [&Stacks; N] = std::array::from_fn(|k| &reduced[k]);
    function_sums_parallel(small, Group::Function { roots }, threads, |row| {
        if row.name != PLACEHOLDER && may_matter(&row.sums, &totals, scope) {
            kept.push((row.name.to_vec(), row.sums));
        }
    })?;
    Some(kept)
}

fn hash_of(name: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(name);
    h.finish()
}

/// The bucket of `name`, of `buckets` (a power of two): the top bits of its hash.
fn bucket_of(name: &[u8], buckets: usize) -> usize {
    (hash_of(name) >> (64 - buckets.trailing_zeros())) as usize
}

/// Call `frame(name)` for each frame of `stack` after the first `roots`.
fn code_frames(stack: &[u8], roots: usize, mut frame: impl FnMut(&[u8])) {
    let mut at = 0usize;
    let mut k = 0usize;
    loop {
        let end = memchr(b';', &stack[at..]).map_or(stack.len(), |i| at + i);
        if k >= roots {
            frame(&stack[at..end]);
        }
        k += 1;
        if end == stack.len() {
            return;
        }
        at = end + 1;
    }
}

/// `count` items cut into at most `threads` ranges of about equal length, each of at least
/// `min_range` items when there are that many (at least one range).
fn ranges(count: usize, threads: usize, min_range: usize) -> Vec<std::ops::Range<usize>> {
    let parts = threads.clamp(1, count.div_ceil(min_range.max(1)).max(1));
    let step = count.div_ceil(parts).max(1);
    (0..parts)
        .map(|p| (p * step).min(count)..((p + 1) * step).min(count))
        .collect()
}

/// Stacks a thread takes at least (fewer are summed by one thread).
const MIN_RANGE: usize = 1 << 15;

/// The number of buckets, and per run per bucket the summed weight of the stacks holding each
/// frame (after the first `roots`) whose name's hash falls in it, counted once per occurrence:
/// at least the total of every name in the bucket (weights not negative; saturating). Each
/// table is summed in ranges of stacks by up to `threads` threads.
fn bounds(
    sides: &[&Stacks],
    roots: usize,
    threads: usize,
    min_range: usize,
) -> (usize, Vec<Vec<i64>>) {
    let most = sides.iter().map(|t| t.len()).max().unwrap_or(0);
    let buckets = (most / STACKS_PER_BUCKET)
        .next_power_of_two()
        .clamp(LEAST_BUCKETS, MOST_BUCKETS);
    let sum_range = |t: &Stacks, range: std::ops::Range<usize>| {
        let mut run = vec![0i64; buckets];
        for k in range {
            let weight = i64::try_from(t.sum(k)).unwrap_or(i64::MAX);
            code_frames(t.stack(k), roots, |name| {
                let b = bucket_of(name, buckets);
                run[b] = run[b].saturating_add(weight);
            });
        }
        run
    };
    let sums = sides
        .iter()
        .map(|t| {
            let parts: Vec<Vec<i64>> = std::thread::scope(|scope| {
                let handles: Vec<_> = ranges(t.len(), threads, min_range)
                    .into_iter()
                    .map(|range| scope.spawn(move || sum_range(t, range)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a bucket thread panicked"))
                    .collect()
            });
            let mut parts = parts.into_iter();
            let mut run = parts.next().unwrap_or_else(|| vec![0; buckets]);
            for part in parts {
                for (into, add) in run.iter_mut().zip(part) {
                    *into = into.saturating_add(add);
                }
            }
            run
        })
        .collect();
    (buckets, sums)
}

/// Stacks interned by their bytes (equal stacks summed).
struct Interner {
    out: Stacks,
    index: HashTable<u32>,
}

impl Interner {
    fn new() -> Self {
        Interner {
            out: Stacks::new(),
            index: HashTable::new(),
        }
    }

    fn add(&mut self, stack: &[u8], weight: i128) {
        let out = &mut self.out;
        let hash = hash_of(stack);
        match self.index.find(hash, |&r| out.stack(r as usize) == stack) {
            Some(&r) => out.add_to(r as usize, weight),
            None => {
                let r = out.len() as u32;
                out.push(stack, weight);
                self.index
                    .insert_unique(hash, r, |&r| hash_of(out.stack(r as usize)));
            }
        }
    }
}

/// `table` with every frame after the first `roots` whose bucket is not `hot` replaced by
/// [`PLACEHOLDER`] (a run of them by one) and the stacks that became equal merged: the same
/// self and total sums for every name kept. Ranges of stacks are reduced by up to `threads`
/// threads, then merged.
fn reduce(table: &Stacks, roots: usize, hot: &[bool], threads: usize, min_range: usize) -> Stacks {
    let reduce_range = |range: std::ops::Range<usize>| {
        let mut out = Interner::new();
        let mut stack: Vec<u8> = Vec::new();
        for k in range {
            stack.clear();
            let mut seen = 0usize;
            let mut cold = false;
            let whole = table.stack(k);
            let mut at = 0usize;
            loop {
                let end = memchr(b';', &whole[at..]).map_or(whole.len(), |i| at + i);
                let name = &whole[at..end];
                let keep = seen < roots || hot[bucket_of(name, hot.len())];
                if keep || !cold {
                    if seen > 0 {
                        stack.push(b';');
                    }
                    stack.extend_from_slice(if keep { name } else { PLACEHOLDER });
                }
                cold = !keep;
                seen += 1;
                if end == whole.len() {
                    break;
                }
                at = end + 1;
            }
            out.add(&stack, table.sum(k));
        }
        out.out
    };
    let parts: Vec<Stacks> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges(table.len(), threads, min_range)
            .into_iter()
            .map(|range| scope.spawn(move || reduce_range(range)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a reducing thread panicked"))
            .collect()
    });
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut out = Interner::new();
    for part in &parts {
        for (stack, weight) in part.iter() {
            out.add(stack, weight);
        }
    }
    out.out
}

/// Call `name(bytes)` once for every function (the first `roots` frames of every stack left
/// out) of the tables `sides`, summed by up to `threads` threads; None when a sum leaves i64 (not
/// every name was given).
pub fn each_name<const N: usize>(
    sides: [&Stacks; N],
    roots: usize,
    threads: usize,
    mut name: impl FnMut(&[u8]),
) -> Option<()> {
    function_sums_here(sides, Group::Function { roots }, threads, |row| {
        name(row.name)
    })
}

/// `(self, total)` of the frames named in `names` taken together, after the first `roots` frames
/// of every stack: the weight of the stacks whose last frame is one of them, and of the stacks
/// holding any of them (once each). Stacks with no frame after the roots count in neither.
pub fn pattern_sums(stacks: &Stacks, roots: usize, names: &HashSet<&[u8]>) -> (i128, i128) {
    let (mut own, mut all) = (0i128, 0i128);
    for k in 0..stacks.len() {
        let (mut any, mut last) = (false, false);
        code_frames(stacks.stack(k), roots, |frame| {
            last = names.contains(frame);
            any |= last;
        });
        let weight = stacks.sum(k);
        if any {
            all += weight;
        }
        if last {
            own += weight;
        }
    }
    (own, all)
}

/// The sum of every stack's weight.
pub fn total(stacks: &Stacks) -> i128 {
    (0..stacks.len()).map(|k| stacks.sum(k)).sum()
}

/// Whether `stack` has more than `roots` frames (a code frame under its root frames).
fn has_code(stack: &[u8], roots: usize) -> bool {
    roots == 0 || memchr::memchr_iter(b';', stack).nth(roots - 1).is_some()
}

/// The summed weight of the stacks with no frame after their first `roots` (0 without roots).
pub fn no_code(stacks: &Stacks, roots: usize) -> i128 {
    (0..stacks.len())
        .filter(|&k| !has_code(stacks.stack(k), roots))
        .map(|k| stacks.sum(k))
        .sum()
}

/// The greatest common divisor of every stack's weight (of their magnitudes; 0 when all are 0).
pub fn weight_gcd(stacks: &Stacks) -> u128 {
    let mut g: u128 = 0;
    for k in 0..stacks.len() {
        g = gcd(g, stacks.sum(k).unsigned_abs());
        if g == 1 {
            break;
        }
    }
    g
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The stacks (indexes, in table order) with a non-zero weight and a code frame after the first
/// `roots` whose last frame is one of `leaves`.
pub fn stacks_ending_in(stacks: &Stacks, roots: usize, leaves: &HashSet<&[u8]>) -> Vec<usize> {
    (0..stacks.len())
        .filter(|&k| {
            let stack = stacks.stack(k);
            let leaf = memchr::memrchr(b';', stack).map_or(stack, |i| &stack[i + 1..]);
            stacks.sum(k) != 0 && leaves.contains(leaf) && has_code(stack, roots)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::function_sums;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn table(pairs: &[(String, i64)]) -> Stacks {
        let mut t = Stacks::new();
        for (s, w) in pairs {
            t.push(s.as_bytes(), i128::from(*w));
        }
        t
    }

    fn stacks() -> impl Strategy<Value = Vec<(String, i64)>> {
        let frame = prop_oneof![Just("a".to_string()), Just(String::new()), "[a-d]{1,2}"];
        let stack = proptest::collection::vec(frame, 0..5).prop_map(|f| f.join(";"));
        proptest::collection::btree_map(stack, -2i64..40, 0..30)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn keeps_exactly_the_rows_that_may_matter(
            runs in proptest::collection::vec(stacks(), 3..=3),
            base in 1usize..3,
            floor in 0.0f64..0.6,
            roots in 0usize..2,
            negative in any::<bool>(),
            threads in 1usize..4,
            min_range in 1usize..8,
        ) {
            // without negative weights the names are bucketed and the tables reduced first
            let runs: Vec<Vec<(String, i64)>> = runs
                .into_iter()
                .map(|r| r.into_iter().map(|(s, w)| (s, if negative { w } else { w.abs() })).collect())
                .collect();
            let t: Vec<Stacks> = runs.iter().map(|r| table(r)).collect();
            let sides = [&t[0], &t[1], &t[2]];
            let scope = Scope { base, floor, min_expected: 5.0 };
            let totals: Vec<i128> = sides.iter().map(|s| total(s)).collect();
            let mut want = BTreeMap::new();
            function_sums(sides, Group::Function { roots }, |r| {
                if may_matter(&r.sums, &totals, scope) {
                    want.insert(r.name.to_vec(), r.sums);
                }
            }).unwrap();
            let got: BTreeMap<_, _> = check_sums_in(sides, roots, scope, threads, min_range)
                .unwrap()
                .into_iter()
                .collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn no_code_and_leaves_as_split_says(pairs in stacks(), roots in 0usize..3) {
            let t = table(&pairs);
            let leaves: HashSet<&[u8]> = [b"a".as_slice(), b"".as_slice()].into_iter().collect();
            let mut lost = 0i128;
            let mut ending = Vec::new();
            for (k, (s, w)) in pairs.iter().enumerate() {
                let frames: Vec<&str> = s.split(';').collect();
                if frames.len() <= roots {
                    lost += i128::from(*w);
                } else if *w != 0 && leaves.contains(frames[frames.len() - 1].as_bytes()) {
                    ending.push(k);
                }
            }
            prop_assert_eq!(no_code(&t, roots), lost);
            prop_assert_eq!(stacks_ending_in(&t, roots, &leaves), ending);
        }
    }

    #[test]
    fn a_function_matters_by_share_or_by_noise() {
        let scope = Scope {
            base: 1,
            floor: 0.01,
            min_expected: 5.0,
        };
        // 1 of 1,000 samples a side: below the floor, one run a side measures no noise
        assert!(!may_matter(&[[1, 1], [1, 1]], &[1000, 1000], scope));
        // a total at the floor
        assert!(may_matter(&[[0, 10], [0, 10]], &[1000, 1000], scope));
        // two candidate runs of 1,000 samples: 5 expected a run measure noise
        let two = Scope { base: 1, ..scope };
        assert!(may_matter(
            &[[0, 0], [5, 5], [5, 5]],
            &[1000, 1000, 1000],
            two
        ));
        assert!(!may_matter(
            &[[0, 0], [4, 4], [4, 4]],
            &[1000, 1000, 1000],
            two
        ));
    }

    proptest! {
        #[test]
        fn pattern_sums_as_split_says(pairs in stacks(), roots in 0usize..3) {
            let t = table(&pairs);
            let names: HashSet<&[u8]> = [b"a".as_slice(), b"bc".as_slice()].into_iter().collect();
            let (mut own, mut all) = (0i128, 0i128);
            for (s, w) in &pairs {
                let frames: Vec<&str> = s.split(';').skip(roots).collect();
                if frames.iter().any(|f| names.contains(f.as_bytes())) {
                    all += i128::from(*w);
                }
                if frames.last().is_some_and(|f| names.contains(f.as_bytes())) {
                    own += i128::from(*w);
                }
            }
            prop_assert_eq!(pattern_sums(&t, roots, &names), (own, all));
            let mut seen = Vec::new();
            each_name([&t], roots, 2, |n| seen.push(n.to_vec())).unwrap();
            let mut want: Vec<Vec<u8>> = pairs
                .iter()
                .flat_map(|(s, _)| s.split(';').skip(roots).map(|f| f.as_bytes().to_vec()).collect::<Vec<_>>())
                .collect();
            want.sort();
            want.dedup();
            seen.sort();
            prop_assert_eq!(seen, want);
        }
    }

    #[test]
    fn gcd_of_weights() {
        let t = table(&[("a".into(), 3000), ("b".into(), -6000), ("c".into(), 0)]);
        assert_eq!(weight_gcd(&t), 3000);
        assert_eq!(weight_gcd(&Stacks::new()), 0);
    }
}
