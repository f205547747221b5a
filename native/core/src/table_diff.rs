//! A differential flame graph's look-ups in a stack table ([`Stacks`]), without a Python object
//! per stack: for every frame a layout draws, the weight of a table's stacks passing through its
//! path (inclusive) and ending at it (self), and the share of one table in stacks another lacks.
//! `foldkit.render.layout.Layout.inclusive`/`own` and `foldkit.render.diffgraph.hidden_share` are
//! the Python twins.

use std::hash::{BuildHasher, Hasher};

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::table::Stacks;

/// A table's weights on the frames of a layout (see [`frame_sums`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrameSums {
    /// Per frame, the weight of the stacks (positive weights only) that pass through its path.
    pub inclusive: Vec<i128>,
    /// Per frame, the weight of the stacks (positive weights only) that end at its path.
    pub own: Vec<i128>,
    /// The weight of the stacks the other table lacks (every weight, as `total`).
    pub hidden: i128,
    /// The weight of all stacks (every weight, negative ones too).
    pub total: i128,
}

/// The frame paths of a layout: path ids by (parent path, name), and each frame's path.
struct Paths<'n> {
    child: FxHashMap<(u32, &'n [u8]), u32>,
    /// path id of each frame (frames with one path share it; 0 is the root's)
    of_frame: Vec<u32>,
    count: usize,
}

impl<'n> Paths<'n> {
    /// The paths of frames `names`, each under frame `parents[i]` (-1 for the root, frame 0).
    fn new(names: &[&'n [u8]], parents: &[i64]) -> Option<Self> {
        let mut child = FxHashMap::default();
        let mut of_frame = vec![0u32; names.len()];
        for i in 1..names.len() {
            let parent = usize::try_from(parents[i]).ok().filter(|&p| p < i)?;
            let next = child.len() as u32 + 1;
            of_frame[i] = *child.entry((of_frame[parent], names[i])).or_insert(next);
        }
        let count = child.len() + 1;
        Some(Paths {
            child,
            of_frame,
            count,
        })
    }
}

/// The stacks of a table as a set (hashes of their bytes), to ask whether it holds a stack.
struct Members<'t> {
    table: &'t Stacks,
    index: HashTable<u32>,
}

fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    h.write(bytes);
    h.finish()
}

impl<'t> Members<'t> {
    fn new(table: &'t Stacks) -> Self {
        let mut index = HashTable::with_capacity(table.len());
        for k in 0..table.len() {
            let hash = hash_of(table.stack(k));
            index.insert_unique(hash, k as u32, |&j| hash_of(table.stack(j as usize)));
        }
        Members { table, index }
    }

    fn holds(&self, stack: &[u8]) -> bool {
        let hash = hash_of(stack);
        self.index
            .find(hash, |&j| self.table.stack(j as usize) == stack)
            .is_some()
    }
}

/// One range of stacks' sums by path id.
struct Part {
    inclusive: Vec<i128>,
    own: Vec<i128>,
    hidden: i128,
    total: i128,
}

fn sum_range(
    stacks: &Stacks,
    range: std::ops::Range<usize>,
    paths: &Paths<'_>,
    absent: Option<&Members<'_>>,
) -> Part {
    let mut part = Part {
        inclusive: vec![0; paths.count],
        own: vec![0; paths.count],
        hidden: 0,
        total: 0,
    };
    for k in range {
        let stack = stacks.stack(k);
        let w = stacks.sum(k);
        part.total += w;
        if absent.is_some_and(|m| !m.holds(stack)) {
            part.hidden += w;
        }
        if w <= 0 {
            continue;
        }
        part.inclusive[0] += w;
        if stack.is_empty() {
            part.own[0] += w;
            continue;
        }
        let mut node = 0u32;
        let mut whole = true;
        for frame in stack.split(|&b| b == b';') {
            match paths.child.get(&(node, frame)) {
                Some(&next) => {
                    node = next;
                    part.inclusive[node as usize] += w;
                }
                None => {
                    whole = false;
                    break;
                }
            }
        }
        if whole {
            part.own[node as usize] += w;
        }
    }
    part
}

/// Stacks below which one thread does the whole table.
const ONE_THREAD: usize = 1 << 16;

/// For each frame of a layout (`names[i]` under frame `parents[i]`, frame 0 the root with
/// parent -1, in pre-order), the weight of `stacks`' stacks through and ending at its path
/// (positive weights only), with `threads` threads; and with `absent_from`, the weight of the
/// stacks that table lacks. None when `parents` is not a pre-order tree.
pub fn frame_sums(
    stacks: &Stacks,
    names: &[&[u8]],
    parents: &[i64],
    absent_from: Option<&Stacks>,
    threads: usize,
) -> Option<FrameSums> {
    if names.len() != parents.len() {
        return None;
    }
    let paths = Paths::new(names, parents)?;
    let members = absent_from.map(Members::new);
    let n = stacks.len();
    let threads = if n < ONE_THREAD { 1 } else { threads.max(1) };
    let step = n.div_ceil(threads).max(1);
    let parts: Vec<Part> = std::thread::scope(|scope| {
        let (paths, members) = (&paths, members.as_ref());
        let handles: Vec<_> = (1..threads)
            .map(|t| {
                let range = (t * step).min(n)..((t + 1) * step).min(n);
                scope.spawn(move || sum_range(stacks, range, paths, members))
            })
            .collect();
        let mut parts = vec![sum_range(stacks, 0..step.min(n), paths, members)];
        parts.extend(handles.into_iter().map(|h| h.join().expect("a sum thread")));
        parts
    });
    let mut inclusive = vec![0i128; paths.count];
    let mut own = vec![0i128; paths.count];
    let (mut hidden, mut total) = (0i128, 0i128);
    for part in parts {
        for (a, b) in inclusive.iter_mut().zip(&part.inclusive) {
            *a += b;
        }
        for (a, b) in own.iter_mut().zip(&part.own) {
            *a += b;
        }
        hidden += part.hidden;
        total += part.total;
    }
    Some(FrameSums {
        inclusive: paths
            .of_frame
            .iter()
            .map(|&p| inclusive[p as usize])
            .collect(),
        own: paths.of_frame.iter().map(|&p| own[p as usize]).collect(),
        hidden: if absent_from.is_some() { hidden } else { 0 },
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn table(pairs: &[(&str, i128)]) -> Stacks {
        let mut t = Stacks::new();
        for &(s, w) in pairs {
            t.push(s.as_bytes(), w);
        }
        t
    }

    /// The twin: sums by full path prefix, the obvious way.
    fn reference(
        pairs: &[(&str, i128)],
        paths: &[&str],
        other: Option<&[(&str, i128)]>,
    ) -> FrameSums {
        let mut through: HashMap<String, i128> = HashMap::new();
        let mut ending: HashMap<String, i128> = HashMap::new();
        let (mut hidden, mut total) = (0, 0);
        let others: Option<HashSet<&str>> = other.map(|o| o.iter().map(|p| p.0).collect());
        for &(s, w) in pairs {
            total += w;
            if others.as_ref().is_some_and(|o| !o.contains(s)) {
                hidden += w;
            }
            if w <= 0 {
                continue;
            }
            *through.entry(String::new()).or_default() += w;
            *ending.entry(s.to_string()).or_default() += w;
            if !s.is_empty() {
                let frames: Vec<&str> = s.split(';').collect();
                for d in 1..=frames.len() {
                    *through.entry(frames[..d].join(";")).or_default() += w;
                }
            }
        }
        FrameSums {
            inclusive: paths
                .iter()
                .map(|p| through.get(*p).copied().unwrap_or(0))
                .collect(),
            own: paths
                .iter()
                .map(|p| ending.get(*p).copied().unwrap_or(0))
                .collect(),
            hidden,
            total,
        }
    }

    /// A layout's frames (names, parents) from its paths in pre-order ("" the root).
    fn frames<'a>(paths: &[&'a str]) -> (Vec<&'a [u8]>, Vec<i64>) {
        let mut names = vec![&b"all"[..]];
        let mut parents = vec![-1i64];
        for p in &paths[1..] {
            let (head, name) = p.rsplit_once(';').unwrap_or(("", p));
            let parent = paths.iter().position(|q| *q == head).unwrap();
            names.push(name.as_bytes());
            parents.push(parent as i64);
        }
        (names, parents)
    }

    #[test]
    fn sums_through_and_at_each_drawn_path() {
        let pairs = [
            ("a;b;c", 3),
            ("a;b", 2),
            ("a;x", 5),
            ("", 7),
            ("q", -4),
            ("a;;b", 1),
            ("a;b;c;d", 6),
        ];
        let paths = ["", "a", "a;b", "a;b;c", "a;", "a;;b", "z"];
        let (names, parents) = frames(&paths);
        let other = [("a;b", 1), ("q", 2)];
        for threads in [1, 2, 3] {
            let got = frame_sums(
                &table(&pairs),
                &names,
                &parents,
                Some(&table(&other)),
                threads,
            )
            .unwrap();
            assert_eq!(got, reference(&pairs, &paths, Some(&other)));
        }
        let got = frame_sums(&table(&pairs), &names, &parents, None, 1).unwrap();
        assert_eq!(got.inclusive[..3], [24, 17, 11]);
        assert_eq!(got.own[..4], [7, 0, 2, 3]);
        assert_eq!((got.hidden, got.total), (0, 20));
    }

    #[test]
    fn many_stacks_on_threads_sum_as_one() {
        let names: Vec<String> = (0..ONE_THREAD * 2 + 5)
            .map(|i| format!("p{};m{};s{}", i % 3, i % 101, i))
            .collect();
        let pairs: Vec<(&str, i128)> = names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), (i % 7) as i128 - 1))
            .collect();
        let paths = ["", "p0", "p0;m0", "p0;m3", "p1", "p2", "p2;m5", "p2;m5;s5"];
        let (frame_names, parents) = frames(&paths);
        let other = &pairs[..1000];
        let want = reference(&pairs, &paths, Some(other));
        for threads in [1, 2, 4] {
            let got = frame_sums(
                &table(&pairs),
                &frame_names,
                &parents,
                Some(&table(other)),
                threads,
            );
            assert_eq!(got.as_ref(), Some(&want), "{threads} threads");
        }
    }

    #[test]
    fn a_parent_after_its_child_is_refused() {
        let names = [&b"all"[..], b"a", b"b"];
        assert!(frame_sums(&table(&[("a", 1)]), &names, &[-1, 2, 0], None, 1).is_none());
        assert!(frame_sums(&table(&[("a", 1)]), &names, &[-1, 0], None, 1).is_none());
    }
}
