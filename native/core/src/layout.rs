//! Flame-graph layout: stacks (`frame;frame;frame`) and integer weights to the frames a flame
//! graph or flame chart draws, in time and memory linear in the total number of frames, and
//! for the frames it does not draw, in the length of the stacks only.
//!
//! The stacks are put in order (flame graphs: sorted frame by frame, `;` lower than any byte,
//! so the stacks under a frame are consecutive; flame charts: the runs in time order, a frame
//! being the consecutive runs that share it), and each stack is compared with the one before
//! it: the frames they share (`lcp`) belong to nodes made earlier, the others are new nodes
//! whose stacks start here. With prefix sums of the weights, a new node's weight is known
//! before it is made (its stacks run to the first later stack sharing fewer frames), so only
//! nodes at least `threshold` heavy are made at all: their ancestors are heavier still. The
//! nodes come out in depth-first pre-order; a node starts where the stacks before its first
//! one end. `layout` then applies the frame budget (with more than `max_frames` nodes, only
//! those heavier than the (max_frames + 1)-th heaviest stay; the root always does) and, when
//! asked, puts siblings widest first.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use memchr::memchr_iter;

const NONE: u32 = u32::MAX;

/// The frames of some stacks that are at least `threshold` heavy, in depth-first pre-order
/// (node 0 is the root).
#[derive(Debug, Default, Clone)]
pub struct Tree<'a> {
    /// Frame names (the root's is empty).
    pub names: Vec<&'a [u8]>,
    /// Parent node (`u32::MAX` for the root).
    pub parent: Vec<u32>,
    /// 0 for the root, 1 for the outermost frames.
    pub depth: Vec<u32>,
    /// Weight of everything before the node's first stack.
    pub start: Vec<i128>,
    /// Weight of the node's stacks.
    pub total: Vec<i128>,
    /// Weight of the stack ending at the node when it is the node's first (flame graphs).
    pub own: Vec<i128>,
    /// Stacks left out because their weight was zero or negative.
    pub nonpositive: usize,
    /// The frame budget's cut when the nodes lighter than it were never made.
    pub cut: Option<i128>,
}

/// Frames to draw: node ids in drawing order, with their geometry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Frames {
    pub nodes: Vec<u32>,
    /// Index (in `nodes`) of each frame's parent; -1 for the root.
    pub parents: Vec<i64>,
    pub depths: Vec<u32>,
    pub starts: Vec<i128>,
    pub weights: Vec<i128>,
    /// The frame budget's cut: frames weighing no more than this were dropped.
    pub cut: Option<i128>,
}

/// Length of the common prefix of `a` and `b`: 32 bytes at a time while they agree (one vector
/// compare: stacks that sort next to each other share most of their bytes), then eight.
#[inline]
pub(crate) fn mismatch(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 32;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    for (x, y) in a.chunks_exact(BLOCK).zip(b.chunks_exact(BLOCK)) {
        let block = |c: &[u8]| <[u8; BLOCK]>::try_from(c).unwrap_or([0; BLOCK]);
        if block(x) != block(y) {
            break;
        }
        i += BLOCK;
    }
    for (x, y) in a[i..].chunks_exact(8).zip(b[i..].chunks_exact(8)) {
        let word = |c: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default());
        let diff = word(x) ^ word(y);
        if diff != 0 {
            return i + (diff.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Frame-by-frame order of two stacks: byte order with `;` below every byte.
pub fn frame_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let m = mismatch(a, b);
    match (a.get(m), b.get(m)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(&x), Some(&y)) => {
            let key = |c: u8| if c == b';' { 0 } else { u16::from(c) + 1 };
            key(x).cmp(&key(y))
        }
    }
}

/// Frames `a` and `b` share, and the offset in `b` where its first other frame starts.
pub(crate) fn shared(a: &[u8], b: &[u8]) -> (usize, usize) {
    if a.is_empty() || b.is_empty() {
        return (0, 0);
    }
    let m = mismatch(a, b);
    let boundary = |s: &[u8]| m == s.len() || s[m] == b';';
    let semis = memchr_iter(b';', &a[..m]).count();
    if boundary(a) && boundary(b) {
        (semis + 1, m + 1)
    } else {
        let begin = a[..m].iter().rposition(|&c| c == b';').map_or(0, |p| p + 1);
        (semis, begin)
    }
}

/// Stacks in layout order (weights > 0) with what making their nodes needs.
struct Ordered<'s, 'a> {
    stacks: &'s [(&'a [u8], i64)],
    /// Prefix sums of the weights.
    cum: Vec<i128>,
    lcp: Vec<usize>,
    begin: Vec<usize>,
    next: Vec<usize>,
}

fn order<'s, 'a>(stacks: &'s [(&'a [u8], i64)]) -> Ordered<'s, 'a> {
    let n = stacks.len();
    let mut cum = Vec::with_capacity(n + 1);
    let mut acc: i128 = 0;
    cum.push(0);
    for &(_, w) in stacks {
        acc += i128::from(w);
        cum.push(acc);
    }
    // lcp[k]: frames stack k shares with stack k-1; begin[k]: where its first other frame starts
    let mut lcp = vec![0usize; n];
    let mut begin = vec![0usize; n];
    for k in 1..n {
        (lcp[k], begin[k]) = shared(stacks[k - 1].0, stacks[k].0);
    }
    // next[k]: the first later stack sharing fewer frames than lcp[k] (n if none)
    let mut next = vec![n; n];
    let mut open: Vec<usize> = Vec::new();
    for k in 0..n {
        while let Some(&top) = open.last() {
            if lcp[k] < lcp[top] {
                next[top] = k;
                open.pop();
            } else {
                break;
            }
        }
        open.push(k);
    }
    Ordered {
        stacks,
        cum,
        lcp,
        begin,
        next,
    }
}

/// A node `walk` found: where its name is (stack `k`, bytes `from..to`), how deep it is, its
/// weight, and whether the stack ends with it.
struct Found {
    k: usize,
    from: usize,
    to: usize,
    depth: usize,
    weight: i128,
    leaf: bool,
}

/// Visit the nodes at least `threshold` heavy in depth-first pre-order (the root not included);
/// `visit` returning false stops the walk. Returns false when it was stopped.
fn walk(ordered: &Ordered<'_, '_>, threshold: i128, mut visit: impl FnMut(&Found) -> bool) -> bool {
    let Ordered {
        stacks,
        cum,
        lcp,
        begin,
        next,
    } = ordered;
    let n = stacks.len();
    // the first stack after k sharing fewer than `depth` frames with the run of stacks from k
    let end_of = |k: usize, depth: usize| {
        let mut j = k + 1;
        while j < n && lcp[j] >= depth {
            j = next[j];
        }
        j
    };
    // nodes made on the current path, the root included
    let mut made = 1usize;
    for (k, &(stack, _)) in stacks.iter().enumerate() {
        made = made.min(lcp[k] + 1);
        if made < lcp[k] + 1 || stack.is_empty() || begin[k] > stack.len() {
            continue; // the shared frames were too light to make (so are the rest), or no frames
        }
        let mut from = begin[k];
        loop {
            let to = memchr::memchr(b';', &stack[from..]).map_or(stack.len(), |p| from + p);
            let weight = cum[end_of(k, made)] - cum[k];
            if weight < threshold {
                break;
            }
            let leaf = to == stack.len();
            let found = Found {
                k,
                from,
                to,
                depth: made,
                weight,
                leaf,
            };
            if !visit(&found) {
                return false;
            }
            made += 1;
            if leaf {
                break;
            }
            from = to + 1;
        }
    }
    true
}

/// A column of a tree with room for `room` entries, holding `first`.
fn column<T>(room: usize, first: T) -> Vec<T> {
    let mut v = Vec::with_capacity(room);
    v.push(first);
    v
}

/// Make the nodes at least `threshold` heavy, or None when there are more than `limit` of them
/// (the root included): then only `limit` were made, and freed.
fn make<'a>(ordered: &Ordered<'_, 'a>, threshold: i128, limit: usize) -> Option<Tree<'a>> {
    let stacks = ordered.stacks;
    // room for the nodes made at most (the limit, or a frame for every two bytes of the stacks),
    // made once: growing the columns copied a tower's, page by page
    let most = stacks.iter().map(|s| s.0.len() / 2 + 1).sum::<usize>() + 1;
    let room = limit.min(most).min(1 << 20);
    let mut tree = Tree {
        names: column(room, &[][..]),
        parent: column(room, NONE),
        depth: column(room, 0),
        start: column(room, 0),
        total: column(room, ordered.cum[stacks.len()]),
        own: column(
            room,
            stacks
                .first()
                .filter(|s| s.0.is_empty())
                .map_or(0, |s| i128::from(s.1)),
        ),
        nonpositive: 0,
        cut: None,
    };
    let mut path: Vec<u32> = vec![0];
    let whole = walk(ordered, threshold, |f| {
        if tree.names.len() >= limit {
            return false;
        }
        path.truncate(f.depth);
        let (stack, w) = stacks[f.k];
        tree.names.push(&stack[f.from..f.to]);
        tree.parent.push(*path.last().unwrap_or(&0));
        tree.depth.push(f.depth as u32);
        tree.start.push(ordered.cum[f.k]);
        tree.total.push(f.weight);
        tree.own.push(if f.leaf { i128::from(w) } else { 0 });
        path.push((tree.names.len() - 1) as u32);
        true
    });
    whole.then_some(tree)
}

/// The frame budget's cut among the nodes at least `threshold` heavy (the root included): the
/// (max_frames + 1)-th largest weight, None when there are no more than `max_frames` nodes. One
/// walk that keeps only the `max_frames + 1` largest weights seen.
fn budget_cut(ordered: &Ordered<'_, '_>, threshold: i128, max_frames: usize) -> Option<i128> {
    let keep = max_frames.saturating_add(1);
    let mut heaviest: BinaryHeap<Reverse<i128>> = BinaryHeap::new();
    let mut offer = |w: i128| {
        if heaviest.len() < keep {
            heaviest.push(Reverse(w));
        } else if heaviest.peek().is_some_and(|&Reverse(least)| w > least) {
            heaviest.pop();
            heaviest.push(Reverse(w));
        }
    };
    offer(ordered.cum[ordered.stacks.len()]);
    walk(ordered, threshold, |f| {
        offer(f.weight);
        true
    });
    if heaviest.len() < keep {
        return None;
    }
    heaviest.peek().map(|&Reverse(cut)| cut)
}

/// Make the nodes at least `threshold` heavy that the frame budget keeps, never more than
/// `max_frames` + 1 at a time, so memory grows with the frames drawn, not with the input: try
/// thresholds from heavy to light (each a sixteenth of the one before), making at most
/// `max_frames` + 1 nodes; when more than `max_frames` nodes are that heavy, the budget's cut is
/// among them (`budget_cut`), and only the nodes heavier than the cut are made.
fn build<'a>(stacks: &[(&'a [u8], i64)], threshold: i128, max_frames: usize) -> Tree<'a> {
    let ordered = order(stacks);
    let total = ordered.cum[stacks.len()];
    let budget = i128::try_from(max_frames).unwrap_or(i128::MAX).max(1);
    let limit = max_frames.saturating_add(1);
    let mut guess = (total / budget.saturating_mul(4)).max(threshold);
    loop {
        match make(&ordered, guess, limit) {
            Some(tree) if guess <= threshold || tree.total.len() > max_frames => return tree,
            Some(_) => guess = (guess / 16).max(threshold),
            None => {
                let cut = budget_cut(&ordered, guess, max_frames);
                let above = cut.map_or(guess, |c| c.saturating_add(1).max(threshold));
                let mut tree = make(&ordered, above, usize::MAX).unwrap_or_default();
                tree.cut = cut;
                return tree;
            }
        }
    }
}

/// Stacks above which the two halves are sorted on two threads, then merged on two threads.
const SORTED_IN_HALVES: usize = 16_384;

/// Distinct stacks in frame order (`frame_cmp`; no two are equal, so the order is the one order).
/// The halves are sorted by a merge sort that finds runs already in order: folded files are
/// usually sorted byte-wise, which is frame order but for a few stacks, and then it takes one
/// pass instead of a full sort. The sorted halves are merged from both ends at once: the first
/// half of the output on one thread, the second on another (each writes its own part).
pub(crate) fn sorted(mut stacks: Vec<(&[u8], i64)>) -> Vec<(&[u8], i64)> {
    let by_frames = |a: &(&[u8], i64), b: &(&[u8], i64)| frame_cmp(a.0, b.0);
    if stacks.len() < SORTED_IN_HALVES {
        stacks.sort_by(by_frames);
        return stacks;
    }
    let half = stacks.len() / 2;
    let (left, right) = stacks.split_at_mut(half);
    std::thread::scope(|scope| {
        scope.spawn(|| left.sort_by(by_frames));
        right.sort_by(by_frames);
    });
    let (left, right) = (&*left, &*right);
    // the first `k` of the merged output: `i` from the left half and `k - i` from the right
    let k = (left.len() + right.len()) / 2;
    let (mut lo, mut hi) = (k.saturating_sub(right.len()), k.min(left.len()));
    while lo < hi {
        let i = lo + (hi - lo) / 2;
        // left[i] comes before right[k - i - 1]: more than i come from the left
        if by_frames(&left[i], &right[k - i - 1]).is_lt() {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let (i, j) = (lo, k - lo);
    let mut out: Vec<(&[u8], i64)> = vec![(&[], 0); left.len() + right.len()];
    let (first, second) = out.split_at_mut(k);
    std::thread::scope(|scope| {
        scope.spawn(|| merge_into(&left[..i], &right[..j], first));
        merge_into(&left[i..], &right[j..], second);
    });
    out
}

/// `a` and `b` (each in frame order, no stack in both) merged into `out`, their length.
fn merge_into<'a>(a: &[(&'a [u8], i64)], b: &[(&'a [u8], i64)], out: &mut [(&'a [u8], i64)]) {
    let (mut i, mut j) = (0, 0);
    for slot in out.iter_mut() {
        let take_a = j == b.len() || (i < a.len() && frame_cmp(a[i].0, b[j].0).is_lt());
        if take_a {
            *slot = a[i];
            i += 1;
        } else {
            *slot = b[j];
            j += 1;
        }
    }
}

/// The flame-graph nodes of distinct stacks at least `threshold` heavy (weights <= 0 are left
/// out and counted).
pub fn flame_tree<'a>(stacks: &[(&'a [u8], i64)], threshold: i128, max_frames: usize) -> Tree<'a> {
    let kept: Vec<(&[u8], i64)> = stacks.iter().copied().filter(|s| s.1 > 0).collect();
    let nonpositive = stacks.len() - kept.len();
    let kept = sorted(kept);
    let mut tree = build(&kept, threshold, max_frames);
    tree.nonpositive = nonpositive;
    tree
}

/// The flame-chart nodes of runs in time order at least `threshold` heavy (weights <= 0 are
/// left out and counted).
pub fn chart_tree<'a>(runs: &[(&'a [u8], i64)], threshold: i128, max_frames: usize) -> Tree<'a> {
    let kept: Vec<(&[u8], i64)> = runs.iter().copied().filter(|s| s.1 > 0).collect();
    let mut tree = build(&kept, threshold, max_frames);
    tree.nonpositive = runs.len() - kept.len();
    tree
}

/// Pre-order with each node's children stable-sorted widest first.
fn widest_first(tree: &Tree) -> Vec<u32> {
    let n = tree.parent.len();
    let mut first = vec![0u32; n + 1];
    for &p in &tree.parent[1..] {
        first[p as usize + 1] += 1;
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut kids = vec![0u32; n.saturating_sub(1)];
    for (i, &p) in tree.parent.iter().enumerate().skip(1) {
        kids[fill[p as usize] as usize] = i as u32;
        fill[p as usize] += 1;
    }
    for p in 0..n {
        kids[first[p] as usize..first[p + 1] as usize]
            .sort_by(|&a, &b| tree.total[b as usize].cmp(&tree.total[a as usize]));
    }
    let mut order = Vec::with_capacity(n);
    let mut todo = vec![0u32];
    while let Some(i) = todo.pop() {
        order.push(i);
        let range = first[i as usize] as usize..first[i as usize + 1] as usize;
        todo.extend(kids[range].iter().rev());
    }
    order
}

/// The frames to draw (see the module docstring): the frame budget, and with `sort_by_weight`
/// siblings widest first, each starting where its wider siblings (and its parent's own stack)
/// end.
pub fn layout(tree: &Tree, sort_by_weight: bool, max_frames: usize) -> Frames {
    let n = tree.total.len();
    let cut = if n > max_frames {
        let mut ws = tree.total.clone();
        let (_, nth, _) = ws.select_nth_unstable_by(max_frames, |a, b| b.cmp(a));
        Some(*nth)
    } else {
        tree.cut
    };
    let keep = |i: usize| i == 0 || cut.is_none_or(|c| tree.total[i] > c);
    let order: Vec<u32> = if sort_by_weight {
        widest_first(tree)
    } else {
        (0..n as u32).collect()
    };
    let mut start = tree.start.clone();
    if sort_by_weight {
        // children in their new order: each starts where the previous one ends
        let mut next_start = vec![0i128; n];
        for &node in &order {
            let i = node as usize;
            if i != 0 {
                let p = tree.parent[i] as usize;
                start[i] = next_start[p];
                next_start[p] += tree.total[i];
            }
            next_start[i] = start[i] + tree.own[i];
        }
    }
    // at most `n` frames: room made once (growing them copied a tower's columns, page by page)
    let kept = if cut.is_some() { max_frames.min(n) } else { n };
    let mut out = Frames {
        nodes: Vec::with_capacity(kept),
        parents: Vec::with_capacity(kept),
        depths: Vec::with_capacity(kept),
        starts: Vec::with_capacity(kept),
        weights: Vec::with_capacity(kept),
        cut,
    };
    let mut index = vec![-1i64; n];
    for &node in &order {
        let i = node as usize;
        if !keep(i) {
            continue;
        }
        index[i] = out.nodes.len() as i64;
        out.parents.push(if i == 0 {
            -1
        } else {
            index[tree.parent[i] as usize]
        });
        out.nodes.push(node);
        out.depths.push(tree.depth[i]);
        out.starts.push(start[i]);
        out.weights.push(tree.total[i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn names(tree: &Tree, frames: &Frames) -> Vec<String> {
        frames
            .nodes
            .iter()
            .map(|&n| String::from_utf8_lossy(tree.names[n as usize]).into_owned())
            .collect()
    }

    #[test]
    fn mismatch_is_the_common_prefix_at_every_length_and_place() {
        let base: Vec<u8> = (0..200u8).map(|k| b'a' + k % 26).collect();
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 200] {
            for at in 0..=len {
                let mut other = base[..len].to_vec();
                if at < len {
                    other[at] ^= 0x40;
                }
                let expected = base[..len]
                    .iter()
                    .zip(&other)
                    .take_while(|(x, y)| x == y)
                    .count();
                assert_eq!(mismatch(&base[..len], &other), expected, "{len} {at}");
                // one a prefix of the other: the shorter's length
                assert_eq!(mismatch(&base, &base[..len]), len);
                assert_eq!(mismatch(&base[..at], &base[..len]), at);
            }
        }
    }

    #[test]
    fn merges_shared_prefixes_in_name_order() {
        let stacks = [
            (&b"a;c"[..], 2),
            (b"a;b", 3),
            (b"", 1),
            (b"a", 4),
            (b"x;y", 0),
        ];
        let tree = flame_tree(&stacks, 0, usize::MAX);
        assert_eq!(tree.nonpositive, 1);
        let f = layout(&tree, false, 100);
        assert_eq!(names(&tree, &f), ["", "a", "b", "c"]);
        assert_eq!(f.weights, [10, 9, 3, 2]);
        assert_eq!(f.starts, [0, 1, 5, 8]);
        assert_eq!(f.parents, [-1, 0, 1, 1]);
        assert_eq!(f.depths, [0, 1, 2, 2]);
        let w = layout(&tree, true, 100);
        assert_eq!(names(&tree, &w), ["", "a", "b", "c"]);
        let heavy = flame_tree(&stacks, 3, usize::MAX);
        let f = layout(&heavy, false, 100);
        assert_eq!(names(&heavy, &f), ["", "a", "b"]);
        let f = layout(&tree, false, 2);
        assert_eq!(
            (names(&tree, &f), f.cut),
            (vec!["".into(), "a".into()], Some(3))
        );
    }

    #[test]
    fn frames_are_split_at_semicolons_only() {
        let stacks = [(&b"a;bc"[..], 1), (b"a;b;c", 1), (b";", 1), (b"a;b", 1)];
        let tree = flame_tree(&stacks, 0, usize::MAX);
        let f = layout(&tree, false, 100);
        assert_eq!(names(&tree, &f), ["", "", "", "a", "b", "c", "bc"]);
        assert_eq!(f.depths, [0, 1, 2, 1, 2, 3, 2]);
    }

    #[test]
    fn chart_keeps_time_order() {
        let runs = [
            (&b"a;b"[..], 1),
            (b"a", 2),
            (b"a;b", 3),
            (b"c", 4),
            (b"a", 5),
        ];
        let tree = chart_tree(&runs, 0, usize::MAX);
        let f = layout(&tree, false, 100);
        assert_eq!(names(&tree, &f), ["", "a", "b", "b", "c", "a"]);
        assert_eq!(f.starts, [0, 0, 0, 3, 6, 10]);
        assert_eq!(f.weights, [15, 6, 1, 3, 4, 5]);
    }

    #[test]
    fn a_hundred_thousand_frames_deep() {
        let stack = vec!["f"; 100_000].join(";");
        let stacks = [(stack.as_bytes(), 1), (b"f;g", 1)];
        let tree = flame_tree(&stacks, 0, usize::MAX);
        assert_eq!(tree.names.len(), 100_002);
        let f = layout(&tree, false, usize::MAX);
        assert_eq!(f.nodes.len(), 100_002);
    }

    #[test]
    fn the_frame_budget_is_applied_before_frames_are_made() {
        let stack = vec!["f"; 1_000_000].join(";");
        let stacks = [(stack.as_bytes(), 3), (b"g;h", 5)];
        let tree = flame_tree(&stacks, 1, 1000);
        assert_eq!(tree.names.len(), 3, "only the root, g and h are made");
        let f = layout(&tree, false, 1000);
        assert_eq!(names(&tree, &f), ["", "g", "h"]);
        assert_eq!(f.cut, Some(3));
        let whole = flame_tree(&stacks, 1, usize::MAX);
        let expected = layout(&whole, false, 1000);
        assert_eq!(names(&whole, &expected), names(&tree, &f));
        assert_eq!(
            (expected.weights, expected.starts, expected.cut),
            (f.weights, f.starts, f.cut)
        );
    }

    /// A small deterministic generator (xorshift) for the fuzz runs below.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Inclusive weight of every frame path, the obvious way.
    fn naive(stacks: &[(Vec<u8>, i64)]) -> BTreeMap<Vec<Vec<u8>>, i128> {
        let mut out = BTreeMap::new();
        for (s, w) in stacks {
            if *w <= 0 {
                continue;
            }
            let frames: Vec<Vec<u8>> = if s.is_empty() {
                Vec::new()
            } else {
                s.split(|&b| b == b';').map(<[u8]>::to_vec).collect()
            };
            for d in 0..=frames.len() {
                *out.entry(frames[..d].to_vec()).or_insert(0) += i128::from(*w);
            }
        }
        out
    }

    #[test]
    fn fuzz_layout_against_the_naive_tree() {
        let alphabet: &[&[u8]] = &[b"a", b"b", b"ab", b"", b"\xff", b"a b", b"\x00"];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _case in 0..2000 {
            let mut stacks: Vec<(Vec<u8>, i64)> = Vec::new();
            for _ in 0..rng.below(12) {
                let depth = rng.below(6) as usize;
                let frames: Vec<&[u8]> = (0..depth)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                    .collect();
                let s = frames.join(&b';');
                if stacks.iter().all(|(t, _)| *t != s) {
                    stacks.push((s, rng.below(20) as i64 - 3));
                }
            }
            let borrowed: Vec<(&[u8], i64)> = stacks.iter().map(|(s, w)| (&s[..], *w)).collect();
            let tree = flame_tree(&borrowed, 0, usize::MAX);
            let expected = naive(&stacks);
            let f = layout(&tree, rng.below(2) == 0, usize::MAX);
            assert_eq!(f.nodes.len(), expected.len().max(1));
            let mut paths: Vec<Vec<Vec<u8>>> = Vec::new();
            for (k, &node) in f.nodes.iter().enumerate() {
                let path = if k == 0 {
                    Vec::new()
                } else {
                    let mut p = paths[f.parents[k] as usize].clone();
                    p.push(tree.names[node as usize].to_vec());
                    p
                };
                assert_eq!(expected.get(&path).copied().unwrap_or(0), f.weights[k]);
                paths.push(path);
            }
            let budget = rng.below(8) as usize + 1;
            let threshold = rng.below(10) as i128;
            let searched = flame_tree(&borrowed, threshold, budget);
            let small = layout(&searched, false, budget);
            assert!(small.nodes.len() <= budget.max(1) || small.cut.is_none());
            assert!(small.weights[1..].iter().all(|&w| w >= threshold));
            // the budget's threshold search draws what the whole tree would
            let whole = flame_tree(&borrowed, threshold, usize::MAX);
            let expected = layout(&whole, false, budget);
            assert_eq!(names(&searched, &small), names(&whole, &expected));
            assert_eq!(
                (&small.weights, &small.starts, &small.parents, &small.cut),
                (
                    &expected.weights,
                    &expected.starts,
                    &expected.parents,
                    &expected.cut
                )
            );
        }
    }

    #[test]
    fn halves_sorted_apart_merge_at_any_cut() {
        // the first half all before the second, all after it, and interleaved
        let names: Vec<Vec<u8>> = (0..SORTED_IN_HALVES * 2 + 3)
            .map(|k| format!("f{k:08}").into_bytes())
            .collect();
        for order in 0..3 {
            let mut stacks: Vec<(&[u8], i64)> = names.iter().map(|n| (&n[..], 1)).collect();
            match order {
                0 => {}
                1 => stacks.rotate_left(names.len() / 2 + 1),
                _ => stacks.sort_by_key(|s| (s.0[s.0.len() - 1] % 3, s.0)),
            }
            let mut expected = stacks.clone();
            expected.sort_by(|a, b| frame_cmp(a.0, b.0));
            assert_eq!(sorted(stacks), expected, "order {order}");
        }
    }

    #[test]
    fn many_stacks_sorted_in_halves_are_sorted() {
        let mut rng = Rng(11);
        let names: Vec<Vec<u8>> = (0..SORTED_IN_HALVES * 2 + 7)
            .map(|k| {
                let depth = rng.below(5) as usize + 1;
                let frames: Vec<String> = (0..depth)
                    .map(|_| ["a", "b", "a;", "c\u{e9}"][rng.below(4) as usize].to_string())
                    .collect();
                format!("{}{k}", frames.join(";")).into_bytes()
            })
            .collect();
        let stacks: Vec<(&[u8], i64)> = names.iter().map(|n| (&n[..], 1)).collect();
        let mut expected = stacks.clone();
        expected.sort_by(|a, b| frame_cmp(a.0, b.0));
        assert_eq!(sorted(stacks), expected);
    }

    #[test]
    fn fuzz_order_is_a_total_order_on_frames() {
        let mut rng = Rng(7);
        for _ in 0..5000 {
            let mut make = || -> Vec<u8> {
                (0..rng.below(6))
                    .map(|_| b";ab\x00\xff"[rng.below(5) as usize])
                    .collect()
            };
            let (a, b) = (make(), make());
            let fa: Vec<&[u8]> = a.split(|&c| c == b';').collect();
            let fb: Vec<&[u8]> = b.split(|&c| c == b';').collect();
            let expected = if a.is_empty() || b.is_empty() {
                a.len().cmp(&b.len())
            } else {
                fa.cmp(&fb)
            };
            assert_eq!(frame_cmp(&a, &b), expected, "{a:?} {b:?}");
        }
    }
}
