//! Time-ordered samples as parallel arrays (`foldkit/timeline.py`'s `Timeline`, which is the
//! twin and the reference): a time per sample (NaN when the capture printed none), the id of its
//! stack in a table of distinct stacks, and its integer weight. Flame charts, time windows and
//! the viewer's Time view work on these arrays, never on one object per sample.

use std::cmp::Ordering;

use crate::viewer::ViewTree;

/// Samples in order: `times[i]`, `ids[i]`, `weights[i]` describe sample `i`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Samples {
    pub times: Vec<f64>,
    pub ids: Vec<u32>,
    pub weights: Vec<i64>,
}

/// The samples whose stack `mapping` keeps (`mapping[id] >= 0`, the sample's new id; every
/// sample when `mapping` is None) and, with `window` `(lo, hi)`, whose time is in `lo <= t < hi`
/// (NaN never is). An id beyond `mapping` is dropped.
pub fn filter(
    times: &[f64],
    ids: &[u32],
    weights: &[i64],
    mapping: Option<&[i64]>,
    window: Option<(f64, f64)>,
) -> Samples {
    let mut out = Samples::default();
    for ((&t, &id), &w) in times.iter().zip(ids).zip(weights) {
        if let Some((lo, hi)) = window {
            if !(lo <= t && t < hi) {
                continue;
            }
        }
        let new = match mapping {
            Some(m) => match m.get(id as usize) {
                Some(&n) if n >= 0 => n as u32,
                _ => continue,
            },
            None => id,
        };
        out.times.push(t);
        out.ids.push(new);
        out.weights.push(w);
    }
    out
}

/// The samples split into `groups` parts in one pass: sample `i` goes to part `group[ids[i]]`
/// (none when negative or beyond `group`) with the id `local[ids[i]]`, in order.
pub fn split(
    times: &[f64],
    ids: &[u32],
    weights: &[i64],
    group: &[i64],
    local: &[u32],
    groups: usize,
) -> Vec<Samples> {
    let mut out = vec![Samples::default(); groups];
    for ((&t, &id), &w) in times.iter().zip(ids).zip(weights) {
        let (Some(&g), Some(&new)) = (group.get(id as usize), local.get(id as usize)) else {
            continue;
        };
        let Some(part) = usize::try_from(g).ok().and_then(|g| out.get_mut(g)) else {
            continue;
        };
        part.times.push(t);
        part.ids.push(new);
        part.weights.push(w);
    }
    out
}

/// The samples in time order (a stable sort, as Python's `sorted` by time); None when a time is
/// NaN (where Python's sort leaves those is left to the reference).
pub fn sort_by_time(times: &[f64], ids: &[u32], weights: &[i64]) -> Option<Samples> {
    if times.iter().any(|t| t.is_nan()) || ids.len() != times.len() || weights.len() != times.len()
    {
        return None;
    }
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[a].partial_cmp(&times[b]).unwrap_or(Ordering::Equal));
    Some(Samples {
        times: order.iter().map(|&i| times[i]).collect(),
        ids: order.iter().map(|&i| ids[i]).collect(),
        weights: order.iter().map(|&i| weights[i]).collect(),
    })
}

/// Per stack id below `stacks`: the sum of its samples' weights and their number.
pub fn sums(ids: &[u32], weights: &[i64], stacks: usize) -> (Vec<i128>, Vec<u64>) {
    let mut total: Vec<i128> = crate::written_zeros(stacks);
    let mut count: Vec<u64> = crate::written_zeros(stacks);
    for (&id, &w) in ids.iter().zip(weights) {
        if let Some(t) = total.get_mut(id as usize) {
            *t += i128::from(w);
            count[id as usize] += 1;
        }
    }
    (total, count)
}

/// The earliest time that is not NaN, if any.
pub fn first_time(times: &[f64]) -> Option<f64> {
    times
        .iter()
        .copied()
        .filter(|t| !t.is_nan())
        .min_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal))
}

/// Flame-chart runs: the samples stable-sorted by time (untimed ones after every timed one, in
/// their order; no sort at all when none is timed), consecutive samples of one stack merged,
/// samples of weight <= 0 skipped (without ending a run) and counted. Returns (run stack ids,
/// run weights, non-positive samples).
pub fn runs(times: &[f64], ids: &[u32], weights: &[i64]) -> (Vec<u32>, Vec<i128>, usize) {
    let n = ids.len().min(times.len()).min(weights.len());
    let mut order: Vec<u32> = (0..n as u32).collect();
    if times[..n].iter().any(|t| !t.is_nan()) {
        let key = |i: u32| {
            let t = times[i as usize];
            if t.is_nan() {
                f64::INFINITY
            } else {
                t
            }
        };
        order.sort_by(|&a, &b| key(a).partial_cmp(&key(b)).unwrap_or(Ordering::Equal));
    }
    let mut run_ids = Vec::new();
    let mut run_weights: Vec<i128> = Vec::new();
    let mut nonpositive = 0;
    for i in order {
        let (id, w) = (ids[i as usize], weights[i as usize]);
        if w <= 0 {
            nonpositive += 1;
            continue;
        }
        match run_ids.last() {
            Some(&last) if last == id => {
                if let Some(acc) = run_weights.last_mut() {
                    *acc += i128::from(w);
                }
            }
            _ => {
                run_ids.push(id);
                run_weights.push(i128::from(w));
            }
        }
    }
    (run_ids, run_weights, nonpositive)
}

/// The earliest and latest time of the samples of positive weight with a finite time.
pub fn span(times: &[f64], weights: &[i64]) -> Option<(f64, f64)> {
    let mut out: Option<(f64, f64)> = None;
    for (&t, &w) in times.iter().zip(weights) {
        if w > 0 && t.is_finite() {
            out = Some(match out {
                None => (t, t),
                Some((lo, hi)) => (lo.min(t), hi.max(t)),
            });
        }
    }
    out
}

/// The Time view's cells: for the samples of positive weight with a finite time whose stack has
/// a node (`nodes[id] >= 0`), the key `node << 32 | trunc((t - start) * rows)` and the sum of
/// their weights, sorted by key.
pub fn cells(
    times: &[f64],
    ids: &[u32],
    weights: &[i64],
    nodes: &[i64],
    start: f64,
    rows: f64,
) -> Vec<(u64, i128)> {
    let mut keyed: Vec<(u64, i64)> = Vec::new();
    for ((&t, &id), &w) in times.iter().zip(ids).zip(weights) {
        if w <= 0 || !t.is_finite() {
            continue;
        }
        let Some(&node) = nodes.get(id as usize) else {
            continue;
        };
        if node < 0 {
            continue;
        }
        let bucket = ((t - start) * rows) as u64;
        keyed.push(((node as u64) << 32 | bucket, w));
    }
    keyed.sort_unstable_by_key(|&(k, _)| k);
    let mut out: Vec<(u64, i128)> = Vec::new();
    for (k, w) in keyed {
        match out.last_mut() {
            Some((last, acc)) if *last == k => *acc += i128::from(w),
            _ => out.push((k, i128::from(w))),
        }
    }
    out
}

/// For each stack (`;`-separated frames), the pre-order index of the node of `tree` it ends at
/// when some side's stacks end there (self weight > 0), else -1. The empty stack is the root's.
/// A node's children are found by binary search (siblings are in byte order of their names, as
/// the tree is built), then, should that miss, one by one.
pub fn stack_nodes(tree: &ViewTree, stacks: &[&[u8]]) -> Vec<i64> {
    let n = tree.len();
    let mut parent = vec![0u32; n];
    let mut path: Vec<u32> = Vec::new();
    for (i, (p, depth)) in parent.iter_mut().zip(tree.depths.to_vec()).enumerate() {
        path.truncate(depth as usize);
        *p = path.last().copied().unwrap_or(u32::MAX);
        path.push(i as u32);
    }
    // children of each node, in pre-order (so in sibling order): kids[first[p]..first[p + 1]]
    let mut first = vec![0u32; n + 1];
    for &p in &parent[1.min(n)..] {
        first[p as usize + 1] += 1;
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut kids = vec![0u32; n.saturating_sub(1)];
    for (i, &p) in parent.iter().enumerate().skip(1) {
        kids[fill[p as usize] as usize] = i as u32;
        fill[p as usize] += 1;
    }
    let name = |node: u32| tree.name(tree.name_ids[node as usize] as usize);
    let child = |node: u32, frame: &[u8]| -> Option<u32> {
        let siblings = &kids[first[node as usize] as usize..first[node as usize + 1] as usize];
        if let Ok(k) = siblings.binary_search_by(|&c| name(c).cmp(frame)) {
            return Some(siblings[k]);
        }
        siblings.iter().copied().find(|&c| name(c) == frame)
    };
    // the nodes some side's stacks end at (a kept stack's weight is 0 on a side it is not on)
    let mut ends = vec![false; n];
    for (k, &leaf) in tree.leaves.iter().enumerate() {
        if tree.weights.iter().any(|side| side[k] > 0) {
            ends[leaf as usize] = true;
        }
    }
    let ends = |node: u32| ends[node as usize];
    stacks
        .iter()
        .map(|stack| {
            if n == 0 {
                return -1;
            }
            let mut node = 0u32;
            if !stack.is_empty() {
                for frame in stack.split(|&b| b == b';') {
                    match child(node, frame) {
                        Some(c) => node = c,
                        None => return -1,
                    }
                }
            }
            if ends(node) {
                i64::from(node)
            } else {
                -1
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_by_time_is_stable_and_declines_nans() {
        let got = sort_by_time(
            &[2.0, 1.0, -0.0, 0.0, 1.0],
            &[0, 1, 2, 3, 4],
            &[5, 6, 7, 8, 9],
        )
        .unwrap();
        assert_eq!(got.ids, vec![2, 3, 1, 4, 0]);
        assert_eq!(got.weights, vec![7, 8, 6, 9, 5]);
        assert!(sort_by_time(&[1.0, f64::NAN], &[0, 0], &[1, 1]).is_none());
    }

    #[test]
    fn split_sends_each_sample_to_its_stacks_group() {
        let parts = split(
            &[1.0, 2.0, 3.0, 4.0],
            &[0, 1, 2, 0],
            &[10, 20, 30, 40],
            &[1, 0, -1],
            &[0, 0, 0],
            2,
        );
        assert_eq!(parts[0].weights, vec![20]);
        assert_eq!(
            (parts[1].times.clone(), parts[1].weights.clone()),
            (vec![1.0, 4.0], vec![10, 40])
        );
    }

    #[test]
    fn runs_sort_by_time_and_merge() {
        let nan = f64::NAN;
        let times = [3.0, 1.0, nan, 2.0, 2.0];
        let ids = [0, 1, 1, 1, 2];
        let weights = [5, 1, 7, 2, -1];
        let (ids, weights, nonpositive) = runs(&times, &ids, &weights);
        assert_eq!(ids, vec![1, 0, 1]);
        assert_eq!(weights, vec![3, 5, 7]);
        assert_eq!(nonpositive, 1);
    }

    #[test]
    fn untimed_samples_keep_their_order() {
        let nan = f64::NAN;
        let (ids, weights, _) = runs(&[nan, nan, nan], &[2, 0, 0], &[1, 2, 3]);
        assert_eq!((ids, weights), (vec![2, 0], vec![1, 5]));
    }

    #[test]
    fn filter_maps_and_windows() {
        let got = filter(
            &[1.0, 2.0, f64::NAN, 3.0],
            &[0, 1, 0, 2],
            &[1, 2, 3, 4],
            Some(&[5, -1, 6]),
            Some((1.0, 3.0)),
        );
        assert_eq!(got.times, vec![1.0]);
        assert_eq!(got.ids, vec![5]);
        let all = filter(&[f64::NAN], &[0], &[1], None, None);
        assert_eq!(all.ids, vec![0]);
    }

    #[test]
    fn cells_sum_by_node_and_bucket() {
        let got = cells(
            &[10.0, 10.01, 10.5, 11.0],
            &[0, 0, 1, 2],
            &[1, 2, 4, 8],
            &[3, 1, -1],
            10.0,
            50.0,
        );
        assert_eq!(got, vec![(1 << 32 | 25, 4), (3 << 32, 3)]);
    }
}
