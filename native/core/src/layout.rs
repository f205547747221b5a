//! Flame-graph layout: stacks (`frame;frame;frame`) and integer weights to the frames a flame
//! graph or flame chart draws, in time and memory linear in the total number of frames.
//!
//! Both kinds first build a `Tree` whose nodes are in depth-first pre-order:
//!
//! * a flame graph sorts the stacks frame by frame (`;` lower than any byte, so a stack comes
//!   before its extensions) and adds, for each stack, only the frames it does not share with
//!   the one before it: siblings come out in name order, shared prefixes are never copied;
//! * a flame chart takes runs in time order and does the same with the run before it, so a
//!   frame spans the consecutive runs that share it.
//!
//! A node's `own` weight is that of the stacks (runs) ending at it, its `total` the weight of
//! everything through it (summed from the leaves up, in reverse pre-order). `layout` then
//! orders siblings (by name, or widest first), places frames (flame graphs: a frame starts where
//! the weight of everything before it in pre-order ends; flame charts: where its first run
//! starts), keeps those at least `threshold` wide and applies the frame budget: with more than
//! `max_frames` candidates, only frames heavier than the (max_frames + 1)-th heaviest stay.

use std::cmp::Ordering;

use memchr::memchr_iter;

const NONE: u32 = u32::MAX;

/// The merged frames of some stacks, in depth-first pre-order (node 0 is the root).
#[derive(Debug, Default, Clone)]
pub struct Tree<'a> {
    /// Frame names (the root's is empty).
    pub names: Vec<&'a [u8]>,
    /// Parent node (`u32::MAX` for the root).
    pub parent: Vec<u32>,
    /// 0 for the root, 1 for the outermost frames.
    pub depth: Vec<u32>,
    /// Weight of the stacks ending at the node.
    pub own: Vec<i128>,
    /// Flame charts: where the node's first run starts.
    pub start: Vec<i128>,
    /// Stacks left out because their weight was zero or negative.
    pub nonpositive: usize,
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

/// Length of the common prefix of `a` and `b`.
fn mismatch(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    for (x, y) in a[..n].chunks_exact(16).zip(b[..n].chunks_exact(16)) {
        if x != y {
            break;
        }
        i += 16;
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

/// Builds a tree from stacks given in an order where a node's stacks are consecutive.
struct Builder<'a> {
    tree: Tree<'a>,
    /// Node ids of the previous stack's frames, the root first.
    path: Vec<u32>,
    /// End offsets of the previous stack's frames.
    ends: Vec<usize>,
    prev: &'a [u8],
}

impl<'a> Builder<'a> {
    fn new() -> Self {
        let tree = Tree {
            names: vec![&[][..]],
            parent: vec![NONE],
            depth: vec![0],
            own: vec![0],
            start: vec![0],
            nonpositive: 0,
        };
        Builder {
            tree,
            path: vec![0],
            ends: Vec::new(),
            prev: &[],
        }
    }

    /// Add a stack whose first frames are shared with the previous one; returns its leaf node.
    fn push(&mut self, stack: &'a [u8], position: i128) -> u32 {
        let common = if stack.is_empty() || self.prev.is_empty() {
            0
        } else {
            let m = mismatch(self.prev, stack);
            let before = self.ends.partition_point(|&e| e < m);
            let at_m = self.ends.get(before) == Some(&m) && (m == stack.len() || stack[m] == b';');
            before + usize::from(at_m)
        };
        self.path.truncate(common + 1);
        self.ends.truncate(common);
        if !stack.is_empty() {
            let mut begin = if common == 0 {
                0
            } else {
                self.ends[common - 1] + 1
            };
            if begin <= stack.len() {
                let offset = begin;
                let tail = memchr_iter(b';', &stack[begin..])
                    .map(move |p| p + offset)
                    .chain(std::iter::once(stack.len()));
                for end in tail {
                    let parent = *self.path.last().unwrap_or(&0);
                    let id = self.tree.names.len() as u32;
                    let t = &mut self.tree;
                    t.names.push(&stack[begin..end]);
                    t.parent.push(parent);
                    t.depth.push(self.path.len() as u32);
                    t.own.push(0);
                    t.start.push(position);
                    self.path.push(id);
                    self.ends.push(end);
                    begin = end + 1;
                }
            }
        }
        self.prev = stack;
        *self.path.last().unwrap_or(&0)
    }
}

/// The flame-graph tree of distinct stacks (weights <= 0 are left out and counted).
pub fn flame_tree<'a>(stacks: &[(&'a [u8], i64)]) -> Tree<'a> {
    let mut order: Vec<usize> = (0..stacks.len()).filter(|&i| stacks[i].1 > 0).collect();
    let nonpositive = stacks.len() - order.len();
    order.sort_by(|&a, &b| frame_cmp(stacks[a].0, stacks[b].0));
    let mut b = Builder::new();
    for i in order {
        let (stack, w) = stacks[i];
        let leaf = b.push(stack, 0);
        b.tree.own[leaf as usize] += i128::from(w);
    }
    b.tree.nonpositive = nonpositive;
    b.tree
}

/// The flame-chart tree of runs in time order (weights <= 0 are left out and counted).
pub fn chart_tree<'a>(runs: &[(&'a [u8], i64)]) -> Tree<'a> {
    let mut b = Builder::new();
    let mut position: i128 = 0;
    for &(stack, w) in runs {
        if w <= 0 {
            b.tree.nonpositive += 1;
            continue;
        }
        let leaf = b.push(stack, position);
        b.tree.own[leaf as usize] += i128::from(w);
        position += i128::from(w);
    }
    b.tree
}

/// Inclusive weight of every node: its own plus its children's, from the leaves up.
pub fn totals(tree: &Tree) -> Vec<i128> {
    let mut total = tree.own.clone();
    for i in (1..total.len()).rev() {
        let p = tree.parent[i] as usize;
        total[p] += total[i];
    }
    total
}

/// Pre-order with each node's children stable-sorted widest first.
fn widest_first(tree: &Tree, total: &[i128]) -> Vec<u32> {
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
            .sort_by(|&a, &b| total[b as usize].cmp(&total[a as usize]));
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

/// The frames to draw (see the module docstring). `chart` keeps the tree's time positions.
pub fn layout(
    tree: &Tree,
    chart: bool,
    sort_by_weight: bool,
    threshold: i128,
    max_frames: usize,
) -> Frames {
    let total = totals(tree);
    let n = total.len();
    let order: Vec<u32> = if sort_by_weight && !chart {
        widest_first(tree, &total)
    } else {
        (0..n as u32).collect()
    };
    let drawn = |i: usize| i == 0 || total[i] >= threshold;
    let candidates = (0..n).filter(|&i| drawn(i)).count();
    let cut = if candidates > max_frames {
        let mut ws: Vec<i128> = (0..n).filter(|&i| drawn(i)).map(|i| total[i]).collect();
        let (_, nth, _) = ws.select_nth_unstable_by(max_frames, |a, b| b.cmp(a));
        Some(*nth)
    } else {
        None
    };
    let keep = |i: usize| i == 0 || (drawn(i) && cut.is_none_or(|c| total[i] > c));
    let mut out = Frames {
        cut,
        ..Frames::default()
    };
    let mut index = vec![-1i64; n];
    let mut position: i128 = 0;
    for &node in &order {
        let i = node as usize;
        let start = if chart { tree.start[i] } else { position };
        position += tree.own[i];
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
        out.starts.push(start);
        out.weights.push(total[i]);
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
    fn merges_shared_prefixes_in_name_order() {
        let stacks = [
            (&b"a;c"[..], 2),
            (b"a;b", 3),
            (b"", 1),
            (b"a", 4),
            (b"x;y", 0),
        ];
        let tree = flame_tree(&stacks);
        assert_eq!(tree.nonpositive, 1);
        let f = layout(&tree, false, false, 0, 100);
        assert_eq!(names(&tree, &f), ["", "a", "b", "c"]);
        assert_eq!(f.weights, [10, 9, 3, 2]);
        assert_eq!(f.starts, [0, 1, 5, 8]);
        assert_eq!(f.parents, [-1, 0, 1, 1]);
        assert_eq!(f.depths, [0, 1, 2, 2]);
        let w = layout(&tree, false, true, 0, 100);
        assert_eq!(names(&tree, &w), ["", "a", "b", "c"]);
        let f = layout(&tree, false, false, 3, 100);
        assert_eq!(names(&tree, &f), ["", "a", "b"]);
        let f = layout(&tree, false, false, 0, 2);
        assert_eq!(
            (names(&tree, &f), f.cut),
            (vec!["".into(), "a".into()], Some(3))
        );
    }

    #[test]
    fn frames_are_split_at_semicolons_only() {
        let stacks = [(&b"a;bc"[..], 1), (b"a;b;c", 1), (b";", 1), (b"a;b", 1)];
        let tree = flame_tree(&stacks);
        let f = layout(&tree, false, false, 0, 100);
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
        let tree = chart_tree(&runs);
        let f = layout(&tree, true, false, 0, 100);
        assert_eq!(names(&tree, &f), ["", "a", "b", "b", "c", "a"]);
        assert_eq!(f.starts, [0, 0, 0, 3, 6, 10]);
        assert_eq!(f.weights, [15, 6, 1, 3, 4, 5]);
    }

    #[test]
    fn a_hundred_thousand_frames_deep() {
        let stack = vec!["f"; 100_000].join(";");
        let stacks = [(stack.as_bytes(), 1), (b"f;g", 1)];
        let tree = flame_tree(&stacks);
        assert_eq!(tree.names.len(), 100_002);
        let f = layout(&tree, false, false, 0, usize::MAX);
        assert_eq!(f.nodes.len(), 100_002);
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
            let tree = flame_tree(&borrowed);
            let expected = naive(&stacks);
            let f = layout(&tree, false, rng.below(2) == 0, 0, usize::MAX);
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
            let small = layout(&tree, false, false, threshold, budget);
            assert!(small.nodes.len() <= budget.max(1) || small.cut.is_none());
            assert!(small.weights[1..].iter().all(|&w| w >= threshold));
        }
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
