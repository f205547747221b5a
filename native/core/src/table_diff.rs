//! A differential flame graph's look-ups in a stack table ([`Stacks`]), without a Python object
//! per stack: for every frame a layout draws, the weight of a table's stacks passing through its
//! path (inclusive) and ending at it (self), and the share of one table in stacks another lacks.
//! `foldkit.render.layout.Layout.inclusive`/`own` and `foldkit.render.diffgraph.hidden_share` are
//! the Python twins.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::function_sums::function_sums_parallel;
use crate::table::{push_decimal, Group, Named, Stacks};

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
        inclusive: crate::written_zeros(paths.count),
        own: crate::written_zeros(paths.count),
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
    let mut inclusive: Vec<i128> = crate::written_zeros(paths.count);
    let mut own: Vec<i128> = crate::written_zeros(paths.count);
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

/// A side this many times smaller (in stack bytes) than the other is summed on its own and
/// looked up by name while the other's functions stream by (see [`change_sums`]).
const SMALL_SIDE: usize = 8;

/// Per function, its self and total sums on each side of a diff (`[before, after]`), as
/// [`function_sums_parallel`] of both sides gives them (every function once, in no particular
/// order). When one side is much smaller than the other (a short capture against a long one),
/// the small side's functions are summed first and held by name, and the large side's are summed
/// alone (half the row a function holds while its partition is summed) and matched against
/// them as they come; the small side's functions the large one lacks come last. None when a sum
/// leaves i64.
pub fn change_sums<'a>(
    before: &'a Stacks,
    after: &'a Stacks,
    group: Group,
    threads: usize,
    mut keep: impl FnMut(Named<'a, 2>) + Send,
) -> Option<()> {
    let (b, a) = (before.stack_bytes(), after.stack_bytes());
    let (small, large, small_at) = if b.saturating_mul(SMALL_SIDE) <= a {
        (before, after, 0)
    } else if a.saturating_mul(SMALL_SIDE) <= b {
        (after, before, 1)
    } else {
        return function_sums_parallel([before, after], group, threads, keep);
    };
    let mut held: FxHashMap<&'a [u8], ([i64; 2], bool)> = FxHashMap::default();
    function_sums_parallel([small], group, threads, |r| {
        held.insert(r.name, (r.sums[0], false));
    })?;
    let both = |mine: [i64; 2], other: [i64; 2]| {
        if small_at == 0 {
            [mine, other]
        } else {
            [other, mine]
        }
    };
    function_sums_parallel([large], group, threads, |r| {
        let mine = match held.get_mut(r.name) {
            Some((sums, seen)) => {
                *seen = true;
                *sums
            }
            None => [0; 2],
        };
        keep(Named {
            name: r.name,
            sums: both(mine, r.sums[0]),
        });
    })?;
    for (name, (sums, seen)) in held {
        if !seen {
            keep(Named {
                name,
                sums: both(sums, [0; 2]),
            });
        }
    }
    Some(())
}

/// Stacks of the larger side in one piece of [`DiffFolded`] (a few megabytes of text).
pub const PIECE: usize = 1 << 16;

/// The two-column folded text of two tables (`stack before after` lines, every stack of either
/// once, sorted byte-wise, 0 where a side lacks it), cut in pieces that are written apart (on
/// threads at once) and handed over in order: the text is never held whole, and each stack is
/// visited once.
pub struct DiffFolded<'a> {
    sides: [&'a Stacks; 2],
    /// each side's stacks in canonical (byte-wise) order
    orders: [Vec<u32>; 2],
    /// where each piece starts in each side's order (the last: both orders' ends)
    cuts: Vec<[usize; 2]>,
}

impl<'a> DiffFolded<'a> {
    /// The union of `before` and `after`, each put in canonical order once, cut every `piece`
    /// stacks of the larger side (the other side's cut found by binary search).
    pub fn new(before: &'a Stacks, after: &'a Stacks, piece: usize) -> Self {
        let sides = [before, after];
        let orders = [before.sorted(), after.sorted()];
        let large = usize::from(after.len() > before.len());
        let other = 1 - large;
        let mut cuts = vec![[0usize; 2]];
        for at in (piece.max(1)..orders[large].len()).step_by(piece.max(1)) {
            let first = sides[large].stack(orders[large][at] as usize);
            let there = orders[other].partition_point(|&k| sides[other].stack(k as usize) < first);
            let mut cut = [0; 2];
            cut[large] = at;
            cut[other] = there;
            cuts.push(cut);
        }
        cuts.push([orders[0].len(), orders[1].len()]);
        DiffFolded {
            sides,
            orders,
            cuts,
        }
    }

    /// Pieces of text.
    pub fn pieces(&self) -> usize {
        self.cuts.len() - 1
    }

    /// The lines of piece `p` appended to `out`.
    pub fn write_piece(&self, p: usize, out: &mut Vec<u8>) {
        let ([b0, a0], [b1, a1]) = (self.cuts[p], self.cuts[p + 1]);
        let [before, after] = self.sides;
        let (b, a) = (&self.orders[0][b0..b1], &self.orders[1][a0..a1]);
        // most sums are one digit (a stack seen once, or not at all on a side)
        let number = |out: &mut Vec<u8>, n: i128| match u8::try_from(n) {
            Ok(d) if d < 10 => out.push(b'0' + d),
            _ => push_decimal(out, n),
        };
        let line = |out: &mut Vec<u8>, stack: &[u8], x: i128, y: i128| {
            out.extend_from_slice(stack);
            out.push(b' ');
            number(out, x);
            out.push(b' ');
            number(out, y);
            out.push(b'\n');
        };
        let (mut i, mut j) = (0, 0);
        while i < b.len() && j < a.len() {
            let (x, y) = (b[i] as usize, a[j] as usize);
            let (xs, ys) = (before.stack(x), after.stack(y));
            match xs.cmp(ys) {
                Ordering::Less => {
                    line(out, xs, before.sum(x), 0);
                    i += 1;
                }
                Ordering::Greater => {
                    line(out, ys, 0, after.sum(y));
                    j += 1;
                }
                Ordering::Equal => {
                    line(out, xs, before.sum(x), after.sum(y));
                    i += 1;
                    j += 1;
                }
            }
        }
        for &x in &b[i..] {
            line(out, before.stack(x as usize), before.sum(x as usize), 0);
        }
        for &y in &a[j..] {
            line(out, after.stack(y as usize), 0, after.sum(y as usize));
        }
    }

    /// Every piece, in order, to `sink`, written by `threads` threads a batch at a time while
    /// `sink` takes the batch before; `wait(join)` runs `join` (a wait for the batch being
    /// written: the caller may let other work run meanwhile). The first error of `sink` stops it.
    pub fn write<E>(
        &self,
        threads: usize,
        wait: impl Fn(&mut (dyn FnMut() -> Vec<Vec<u8>> + Send)) -> Vec<Vec<u8>>,
        mut sink: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let threads = threads.max(1);
        let pieces = self.pieces();
        let made = |p: usize| {
            let mut out = Vec::new();
            self.write_piece(p, &mut out);
            out
        };
        std::thread::scope(|scope| {
            let start = |from: usize| {
                (from..(from + threads).min(pieces))
                    .map(|p| scope.spawn(move || made(p)))
                    .collect::<Vec<_>>()
            };
            let mut running = start(0);
            let mut next = threads;
            while !running.is_empty() {
                let mut handles = Some(std::mem::take(&mut running));
                let done = wait(&mut || {
                    handles
                        .take()
                        .into_iter()
                        .flatten()
                        .map(|h| h.join().expect("a folded-text thread"))
                        .collect()
                });
                if next < pieces {
                    running = start(next);
                    next += threads;
                }
                for text in done {
                    sink(text)?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap, HashSet};

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

    /// `change_sums` as a map by name.
    fn changes(b: &Stacks, a: &Stacks, group: Group) -> Option<BTreeMap<Vec<u8>, [[i64; 2]; 2]>> {
        let mut out = BTreeMap::new();
        change_sums(b, a, group, 2, |r| {
            assert!(
                out.insert(r.name.to_vec(), r.sums).is_none(),
                "a function twice"
            );
        })?;
        Some(out)
    }

    #[test]
    fn change_sums_of_a_small_side_match_both_sides_summed_together() {
        let long: Vec<String> = (0..400)
            .map(|i| format!("p;m{};s{}", i % 37, i % 91))
            .collect();
        let long: Vec<(&str, i128)> = long
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), (i % 5) as i128))
            .collect();
        let short = [("p;m3;s3", 4), ("p;q", 2), ("z", 1), ("p;m1;s1;m1", 7)];
        for group in [
            Group::Function { roots: 0 },
            Group::Function { roots: 1 },
            Group::Root,
        ] {
            for (b, a) in [
                (&long[..], &short[..]),
                (&short[..], &long[..]),
                (&long[..], &long[..10]),
            ] {
                let (b, a) = (table(b), table(a));
                assert!(
                    b.stack_bytes().max(a.stack_bytes())
                        >= 8 * b.stack_bytes().min(a.stack_bytes())
                );
                let mut want = BTreeMap::new();
                function_sums_parallel([&b, &a], group, 1, |r| {
                    want.insert(r.name.to_vec(), r.sums);
                })
                .unwrap();
                assert_eq!(changes(&b, &a, group), Some(want), "{group:?}");
            }
        }
        let big = table(&[("a", i128::from(i64::MAX)), ("a;b", 1)]);
        assert_eq!(changes(&big, &table(&[("c", 1)]), Group::Root), None);
        assert_eq!(changes(&table(&[("c", 1)]), &big, Group::Root), None);
    }

    /// `DiffFolded`'s text, whole.
    fn diff_folded(b: &Stacks, a: &Stacks, piece: usize, threads: usize) -> Vec<u8> {
        let mut out = Vec::new();
        DiffFolded::new(b, a, piece)
            .write(
                threads,
                |join| join(),
                |text| {
                    out.extend_from_slice(&text);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
        out
    }

    #[test]
    fn diff_folded_in_pieces_is_the_union_in_order() {
        let many: Vec<String> = (0..300).map(|i| format!("p;m{};s{}", i % 17, i)).collect();
        let many: Vec<(&str, i128)> = many.iter().map(|s| (s.as_str(), 1)).collect();
        let few = [
            ("p;m3;s3", 5),
            ("a", -2),
            ("p;m3;s30", 7),
            ("zz", 9),
            ("p;m1", 4),
            ("", 3),
        ];
        for (b, a) in [
            (&many[..], &few[..]),
            (&few[..], &many[..]),
            (&few[..], &few[..4]),
            (&[][..], &few[..]),
        ] {
            let (tb, ta) = (table(b), table(a));
            let mut want: BTreeMap<&str, (i128, i128)> = BTreeMap::new();
            for &(s, w) in b {
                want.entry(s).or_default().0 += w;
            }
            for &(s, w) in a {
                want.entry(s).or_default().1 += w;
            }
            let text: String = want
                .iter()
                .map(|(s, (x, y))| format!("{s} {x} {y}\n"))
                .collect();
            for (piece, threads) in [(1, 1), (1, 3), (7, 2), (64, 2), (1 << 16, 1)] {
                let got = diff_folded(&tb, &ta, piece, threads);
                assert_eq!(String::from_utf8(got).unwrap(), text, "pieces of {piece}");
            }
        }
        assert!(diff_folded(&Stacks::new(), &Stacks::new(), 4, 2).is_empty());
    }

    #[test]
    fn diff_folded_stops_at_the_sinks_error() {
        let t = table(&[("a", 1), ("b", 2), ("c", 3)]);
        let mut taken = 0;
        let done = DiffFolded::new(&t, &t, 1).write(
            2,
            |join| join(),
            |_| {
                taken += 1;
                if taken == 2 {
                    Err("full")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!((done, taken), (Err("full"), 2));
    }

    #[test]
    fn a_parent_after_its_child_is_refused() {
        let names = [&b"all"[..], b"a", b"b"];
        assert!(frame_sums(&table(&[("a", 1)]), &names, &[-1, 2, 0], None, 1).is_none());
        assert!(frame_sums(&table(&[("a", 1)]), &names, &[-1, 0], None, 1).is_none());
    }
}
