//! Per-function self and total sums of stack tables ([`crate::table::function_sums`]'s rows)
//! with every thread at work: the functions are split into partitions by a slice of their name's
//! hash, as many partitions as keep each one's rows within a budget (counted from the frames
//! before any is read, so no pass is wasted), and the partitions are summed by threads at once,
//! each handing its rows over when done.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

use hashbrown::HashTable;
use memchr::memchr;
use rustc_hash::FxHasher;
use std::hash::Hasher;

use crate::table::{Group, Named, Stacks};

/// Frame occurrences per partition, at most (the rows a partition holds are at most these):
/// about 40 bytes a row.
const PART_FRAMES: usize = 1 << 23;

/// One function's sums while its partition is summed.
struct Row<const N: usize> {
    /// where its name starts in its side's arena
    start: u64,
    len: u32,
    side: u32,
    /// the last stack (index + 1, per side) whose total it was added to
    last: [u32; N],
    sums: [[i64; 2]; N],
}

fn hash_of(name: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(name);
    h.finish()
}

/// The partition a name's hash falls in, of `parts`.
fn part_of(hash: u64, parts: usize) -> usize {
    (((hash >> 32) * parts as u64) >> 32) as usize
}

/// Call `frame(offset, name)` for each function `group` counts in `stack`.
#[inline]
fn each_frame(stack: &[u8], group: Group, mut frame: impl FnMut(usize, &[u8])) {
    let (skip, take) = match group {
        Group::Function { roots } => (roots, usize::MAX),
        Group::Root => (0, 1),
    };
    let mut at = 0usize;
    let mut k = 0usize;
    loop {
        let end = memchr(b';', &stack[at..]).map_or(stack.len(), |i| at + i);
        if k >= skip {
            if k - skip >= take {
                return;
            }
            frame(at, &stack[at..end]);
        }
        k += 1;
        if end == stack.len() {
            return;
        }
        at = end + 1;
    }
}

/// Frame occurrences in the sides (an upper bound of the distinct functions).
fn occurrences<const N: usize>(sides: [&Stacks; N], group: Group) -> usize {
    sides
        .iter()
        .map(|t| match group {
            Group::Root => t.len(),
            Group::Function { .. } => t.len() + memchr::memchr_iter(b';', t.arena()).count(),
        })
        .sum()
}

/// The rows of partition `part` of `parts`; None when a sum leaves i64.
fn partition<const N: usize>(
    sides: [&Stacks; N],
    group: Group,
    part: usize,
    parts: usize,
    room: usize,
) -> Option<Vec<Row<N>>> {
    let mut rows: Vec<Row<N>> = Vec::with_capacity(room);
    let mut index: HashTable<u32> = HashTable::with_capacity(room);
    let name_of = |r: &Row<N>| -> &[u8] {
        &sides[r.side as usize].arena()[r.start as usize..r.start as usize + r.len as usize]
    };
    let mut overflow = false;
    for (side, table) in sides.iter().enumerate() {
        for k in 0..table.len() {
            let (base, stack) = table.stack_at(k);
            let weight = i64::try_from(table.sum(k)).ok();
            let mut leaf: Option<u32> = None;
            let mut seen_any = false;
            each_frame(stack, group, |offset, name| {
                seen_any = true;
                let hash = hash_of(name);
                if parts > 1 && part_of(hash, parts) != part {
                    leaf = None;
                    return;
                }
                let at = match index.find(hash, |&r| name_of(&rows[r as usize]) == name) {
                    Some(&r) => r,
                    None => {
                        let r = rows.len() as u32;
                        rows.push(Row {
                            start: base as u64 + offset as u64,
                            len: name.len() as u32,
                            side: side as u32,
                            last: [0; N],
                            sums: [[0; 2]; N],
                        });
                        index.insert_unique(hash, r, |&r| hash_of(name_of(&rows[r as usize])));
                        r
                    }
                };
                let row = &mut rows[at as usize];
                if row.last[side] != k as u32 + 1 {
                    row.last[side] = k as u32 + 1;
                    match weight.and_then(|w| row.sums[side][1].checked_add(w)) {
                        Some(total) => row.sums[side][1] = total,
                        None => overflow = true,
                    }
                }
                leaf = Some(at);
            });
            if let (true, Some(at)) = (seen_any, leaf) {
                let row = &mut rows[at as usize];
                match weight.and_then(|w| row.sums[side][0].checked_add(w)) {
                    Some(own) => row.sums[side][0] = own,
                    None => overflow = true,
                }
            }
            if overflow {
                return None;
            }
        }
    }
    Some(rows)
}

/// Per function (see [`Group`]) its self and total sums on each side of `sides`, as
/// [`crate::table::function_sums`] gives them (every function once, in no particular order),
/// summed by up to `threads` threads; None when a sum leaves i64.
pub fn function_sums_parallel<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    threads: usize,
    keep: impl FnMut(Named<'a, N>),
) -> Option<()> {
    function_sums_in(sides, group, threads, PART_FRAMES, keep)
}

/// [`function_sums_parallel`] with partitions of at most `most` frame occurrences.
pub fn function_sums_in<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    threads: usize,
    most: usize,
    mut keep: impl FnMut(Named<'a, N>),
) -> Option<()> {
    let frames = occurrences(sides, group);
    let parts = frames.div_ceil(most.max(1)).max(1);
    // the distinct names of a partition: at most its share of the frames (and a margin)
    let room = (frames / parts + frames / parts / 8 + 16).min(frames + 16);
    let threads = threads.clamp(1, parts);
    let name = |r: &Row<N>| -> &'a [u8] {
        &sides[r.side as usize].arena()[r.start as usize..r.start as usize + r.len as usize]
    };
    if threads == 1 {
        for part in 0..parts {
            for r in partition(sides, group, part, parts, room)? {
                keep(Named {
                    name: name(&r),
                    sums: r.sums,
                });
            }
        }
        return Some(());
    }
    let next = AtomicUsize::new(0);
    // a finished partition waits until the last is kept: at most threads + 1 partitions are held
    let (send, receive) = sync_channel::<Option<Vec<Row<N>>>>(0);
    let mut failed = false;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let send = send.clone();
            let next = &next;
            scope.spawn(move || loop {
                let part = next.fetch_add(1, Ordering::Relaxed);
                if part >= parts {
                    return;
                }
                let rows = partition(sides, group, part, parts, room);
                let stop = rows.is_none();
                if send.send(rows).is_err() || stop {
                    next.store(parts, Ordering::Relaxed);
                    return;
                }
            });
        }
        drop(send);
        for rows in receive.iter() {
            match rows {
                Some(rows) if !failed => {
                    for r in rows {
                        keep(Named {
                            name: name(&r),
                            sums: r.sums,
                        });
                    }
                }
                _ => failed = true,
            }
        }
    });
    (!failed).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::function_sums;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type Sums<const N: usize> = BTreeMap<Vec<u8>, [[i64; 2]; N]>;

    fn table(pairs: &[(String, i64)]) -> Stacks {
        let mut t = Stacks::new();
        for (s, w) in pairs {
            t.push(s.as_bytes(), i128::from(*w));
        }
        t
    }

    fn reference<const N: usize>(sides: [&Stacks; N], group: Group) -> Option<Sums<N>> {
        let mut out = BTreeMap::new();
        function_sums(sides, group, |r| {
            assert!(out.insert(r.name.to_vec(), r.sums).is_none());
        })?;
        Some(out)
    }

    fn parallel<const N: usize>(
        sides: [&Stacks; N],
        group: Group,
        threads: usize,
        most: usize,
    ) -> Option<Sums<N>> {
        let mut out = BTreeMap::new();
        function_sums_in(sides, group, threads, most, |r| {
            assert!(out.insert(r.name.to_vec(), r.sums).is_none());
        })?;
        Some(out)
    }

    fn stacks() -> impl Strategy<Value = Vec<(String, i64)>> {
        let frame = prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just(String::new()),
            "[a-d]{1,3}",
        ];
        let stack = proptest::collection::vec(frame, 0..6).prop_map(|f| f.join(";"));
        proptest::collection::vec((stack, -5i64..50), 0..60)
    }

    proptest! {
        #[test]
        fn the_same_sums_as_the_reference(
            before in stacks(),
            after in stacks(),
            threads in 1usize..4,
            most in 1usize..40,
            roots in 0usize..2,
        ) {
            let (b, a) = (table(&before), table(&after));
            for group in [Group::Function { roots }, Group::Root] {
                prop_assert_eq!(parallel([&b], group, threads, most), reference([&b], group));
                prop_assert_eq!(parallel([&b, &a], group, threads, most), reference([&b, &a], group));
            }
        }
    }

    #[test]
    fn a_sum_beyond_i64_gives_none_on_any_thread() {
        let pairs: Vec<(String, i64)> = (0..200)
            .map(|i| (format!("x;f{i}"), i64::MAX / 2))
            .collect();
        let t = table(&pairs);
        for threads in [1, 3] {
            assert!(parallel([&t], Group::Function { roots: 0 }, threads, 7).is_none());
            assert!(parallel([&t], Group::Function { roots: 1 }, threads, 7).is_some());
        }
    }
}
