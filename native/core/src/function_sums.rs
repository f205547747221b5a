//! Per-function self and total sums of stack tables ([`crate::table::function_sums`]'s rows)
//! with every thread at work: the functions are split into partitions by a slice of their name's
//! hash, as many partitions as keep each one's rows within a budget (counted from the frames
//! before any is read, so no pass is wasted), and the partitions are summed by threads at once,
//! each handing its rows over when done.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Mutex;

use crate::table::{Group, Named, Stacks};

/// Frame occurrences per partition, at most (the rows a partition holds are at most these):
/// 32 to 48 bytes a row (its row and its index slots).
const PART_FRAMES: usize = 1 << 23;
/// Below this many frame occurrences one thread sums everything (one partition).
const SPLIT_FRAMES: usize = 1 << 18;
/// Frames whose index slots are fetched together before any is looked up: the memory latency of
/// a big partition's index is paid once a batch instead of once a frame.
const BATCH: usize = 32;

/// One function's sums while its partition is summed.
struct Row<const N: usize> {
    /// where its name starts in its side's arena, its side in the top byte (32 bytes a row on
    /// one side)
    at: u64,
    len: u32,
    /// the last stack (index + 1, per side) whose total it was added to
    last: [u32; N],
    sums: [[i64; 2]; N],
}

/// Where a row's side is kept in its `at`.
const SIDE_SHIFT: u32 = 56;

impl<const N: usize> Row<N> {
    fn start(&self) -> usize {
        (self.at & ((1 << SIDE_SHIFT) - 1)) as usize
    }

    fn side(&self) -> usize {
        (self.at >> SIDE_SHIFT) as usize
    }
}

/// Eight bytes of `bytes` from `at` as a little-endian word, zero-padded past the end.
#[inline]
fn word(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("eight bytes")),
        None => {
            let mut w = [0u8; 8];
            let rest = &bytes[at.min(bytes.len())..];
            w[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(w)
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Where the first `;` of `bytes[at..end]` is, or `end`: eight bytes at a time (frames are
/// short; memchr's set-up costs more than it saves on them).
#[inline]
fn next_semicolon(bytes: &[u8], mut at: usize, end: usize) -> usize {
    while at < end {
        let x = word(bytes, at) ^ (ONES * u64::from(b';'));
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            // the lowest flagged byte is exact (a borrow only flags bytes above a zero byte)
            return (at + (found.trailing_zeros() / 8) as usize).min(end);
        }
        at += 8;
    }
    end
}

/// The hash of the name at `bytes[start..start + len]`: eight bytes at a time from its start
/// (the same name hashes the same wherever it is; the bytes after it are masked off, read from
/// `bytes` so that only a name at its very end is copied), its length mixed in, both halves mixed
/// well (the low half picks the partition, the high half the index slot).
#[inline]
fn hash_in(bytes: &[u8], start: usize, len: usize) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (len as u64).wrapping_mul(K);
    let mut at = 0;
    while at < len {
        let mut w = word(bytes, start + at);
        let left = len - at;
        if left < 8 {
            w &= (1u64 << (8 * left)) - 1;
        }
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        at += 8;
    }
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The partition a name's hash falls in, of `parts`.
fn part_of(hash: u64, parts: usize) -> usize {
    (((hash & 0xffff_ffff) * parts as u64) >> 32) as usize
}

/// Call `frame(start, len, last)` for each function `group` counts in the stack at
/// `bytes[start..end]`, `last` for the last one it counts (the stack's leaf).
#[inline]
fn each_frame(
    bytes: &[u8],
    start: usize,
    end: usize,
    group: Group,
    mut frame: impl FnMut(usize, usize, bool),
) {
    let (skip, take) = match group {
        Group::Function { roots } => (roots, usize::MAX),
        Group::Root => (0, 1),
    };
    let mut at = start;
    let mut k = 0usize;
    loop {
        let stop = next_semicolon(bytes, at, end);
        if k >= skip {
            if k - skip >= take {
                return;
            }
            frame(at, stop - at, stop == end || k - skip + 1 == take);
        }
        k += 1;
        if stop == end {
            return;
        }
        at = stop + 1;
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

/// The index of a partition's rows: open addressing, linear probing; a slot holds the high half
/// of a name's hash (which also places it) and its row + 1, 0 when empty. Kept at most three
/// quarters full.
struct Index {
    slots: Vec<u64>,
    mask: usize,
    len: usize,
}

impl Index {
    /// An empty index for about `room` rows, in `slots`' memory when it holds enough (pages
    /// already written: none is faulted in again), else in new memory.
    fn reusing(room: usize, slots: Vec<u64>) -> Self {
        let size = (room / 3 * 2).next_power_of_two().max(16);
        Index {
            slots: crate::zeros_in(slots, size),
            mask: size - 1,
            len: 0,
        }
    }

    /// The high half of `hash`: what a slot keeps, and where it goes.
    #[inline]
    fn tag(hash: u64) -> u64 {
        hash >> 32
    }

    #[inline]
    fn home(&self, tag: u64) -> usize {
        tag as usize & self.mask
    }

    /// The slot where `hash`'s probe starts (for fetching it early).
    #[inline]
    fn first(&self, hash: u64) -> u64 {
        self.slots[self.home(Self::tag(hash))]
    }

    /// The row of the name hashed `hash` for which `same(row)`, or where it goes: Ok(row) or
    /// Err(slot).
    #[inline]
    fn find(&self, hash: u64, mut same: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        let tag = Self::tag(hash);
        let mut at = self.home(tag);
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Err(at);
            }
            if slot >> 32 == tag {
                let row = (slot as u32).wrapping_sub(1);
                if same(row) {
                    return Ok(row);
                }
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Put `row` (hashed `hash`) in the empty slot `at` that `find` gave.
    #[inline]
    fn put(&mut self, at: usize, hash: u64, row: u32) {
        self.slots[at] = (Self::tag(hash) << 32) | u64::from(row + 1);
        self.len += 1;
        if self.len * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    /// Twice the slots, every row placed again from its slot alone.
    fn grow(&mut self) {
        let old = std::mem::replace(&mut self.slots, crate::written_zeros((self.mask + 1) * 2));
        self.mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|&s| s != 0) {
            let mut at = self.home(slot >> 32);
            while self.slots[at] != 0 {
                at = (at + 1) & self.mask;
            }
            self.slots[at] = slot;
        }
    }
}

/// A frame of the partition waiting in a batch: its hash, where its name is in its side's arena,
/// and its stack (index + 1).
#[derive(Clone, Copy, Default)]
struct Pending {
    hash: u64,
    start: u64,
    len: u32,
    stack: u32,
    /// true for a stack's leaf
    leaf: bool,
}

/// A partition's rows being summed.
struct Sums<'s, const N: usize> {
    sides: [&'s Stacks; N],
    rows: Vec<Row<N>>,
    index: Index,
    overflow: bool,
}

impl<const N: usize> Sums<'_, N> {
    /// Look up (or add) every frame of `batch` (all of side `side`) and add its stack's weight.
    fn take(&mut self, side: usize, batch: &[Pending], weights: &[Option<i64>]) {
        // fetch every frame's first slot and, for a slot of its hash, its row: the loads are
        // independent, so their cache misses overlap instead of coming one after another
        let mut touched = 0u64;
        for p in batch {
            let slot = self.index.first(p.hash);
            if slot >> 32 == Index::tag(p.hash) {
                if let Some(row) = self.rows.get((slot as u32).wrapping_sub(1) as usize) {
                    touched ^= row.at;
                }
            }
            touched ^= slot;
        }
        std::hint::black_box(touched);
        let arena = self.sides[side].arena();
        for (p, &weight) in batch.iter().zip(weights) {
            let name = &arena[p.start as usize..p.start as usize + p.len as usize];
            let (sides, rows) = (self.sides, &self.rows);
            let at = match self.index.find(p.hash, |r| {
                let r = &rows[r as usize];
                r.len == p.len && {
                    let at = r.start();
                    &sides[r.side()].arena()[at..at + r.len as usize] == name
                }
            }) {
                Ok(r) => r,
                Err(slot) => {
                    let r = self.rows.len() as u32;
                    self.rows.push(Row {
                        at: p.start | (side as u64) << SIDE_SHIFT,
                        len: p.len,
                        last: [0; N],
                        sums: [[0; 2]; N],
                    });
                    self.index.put(slot, p.hash, r);
                    r
                }
            };
            let row = &mut self.rows[at as usize];
            if row.last[side] != p.stack {
                row.last[side] = p.stack;
                match weight.and_then(|w| row.sums[side][1].checked_add(w)) {
                    Some(total) => row.sums[side][1] = total,
                    None => self.overflow = true,
                }
            }
            if p.leaf {
                match weight.and_then(|w| row.sums[side][0].checked_add(w)) {
                    Some(own) => row.sums[side][0] = own,
                    None => self.overflow = true,
                }
            }
        }
    }
}

/// Memory a partition's rows and index were made in, used again by a later partition's (pages
/// already written: none is faulted in again, nor given back to the system while other threads
/// run).
struct Spare<const N: usize> {
    rows: Vec<Row<N>>,
    slots: Vec<u64>,
}

impl<const N: usize> Default for Spare<N> {
    fn default() -> Self {
        Spare {
            rows: Vec::new(),
            slots: Vec::new(),
        }
    }
}

/// The rows of partition `part` of `parts` (None when a sum leaves i64), made in `spare`'s
/// memory, and the index's memory for the next.
fn partition<const N: usize>(
    sides: [&Stacks; N],
    group: Group,
    (part, parts): (usize, usize),
    room: usize,
    spare: Spare<N>,
) -> (Option<Vec<Row<N>>>, Vec<u64>) {
    let mut rows = spare.rows;
    rows.clear();
    rows.reserve(room);
    let mut sums = Sums {
        sides,
        rows,
        index: Index::reusing(room, spare.slots),
        overflow: false,
    };
    let rows = sum_partition(&mut sums, group, part, parts).then_some(sums.rows);
    (rows, sums.index.slots)
}

/// Sum the frames of partition `part` of `parts` into `sums`; false when a sum leaves i64.
fn sum_partition<const N: usize>(
    sums: &mut Sums<'_, N>,
    group: Group,
    part: usize,
    parts: usize,
) -> bool {
    let sides = sums.sides;
    let mut batch = [Pending::default(); BATCH];
    let mut weights = [None; BATCH];
    for (side, table) in sides.iter().enumerate() {
        let mut held = 0usize;
        let arena = table.arena();
        for k in 0..table.len() {
            let (base, stack) = table.stack_at(k);
            let weight = i64::try_from(table.sum(k)).ok();
            each_frame(
                arena,
                base,
                base + stack.len(),
                group,
                |start, len, last| {
                    let hash = hash_in(arena, start, len);
                    // every frame written, kept when it is of this partition: no branch to
                    // mispredict on a hash
                    batch[held] = Pending {
                        hash,
                        start: start as u64,
                        len: len as u32,
                        stack: k as u32 + 1,
                        leaf: last,
                    };
                    weights[held] = weight;
                    held += usize::from(parts <= 1 || part_of(hash, parts) == part);
                    if held == BATCH {
                        sums.take(side, &batch, &weights);
                        held = 0;
                    }
                },
            );
            if sums.overflow {
                return false;
            }
        }
        sums.take(side, &batch[..held], &weights[..held]);
        if sums.overflow {
            return false;
        }
    }
    true
}

/// (partitions, rows a partition makes room for, threads) of the function sums of `sides` by up
/// to `threads` threads, each partition within `most` frames.
fn plan<const N: usize>(
    sides: [&Stacks; N],
    group: Group,
    threads: usize,
    most: usize,
) -> (usize, usize, usize) {
    let frames = occurrences(sides, group);
    // every thread at work on a big table, each partition within `most` frames
    let spread = if frames >= SPLIT_FRAMES { threads } else { 1 };
    let parts = frames.div_ceil(most.max(1)).max(spread).max(1);
    // the distinct names of a partition: at most its share of the frames (and a margin)
    let room = (frames / parts + frames / parts / 8 + 16).min(frames + 16);
    (parts, room, threads.clamp(1, parts))
}

/// The name of row `r` in its side's arena.
fn name_of<'a, const N: usize>(sides: [&'a Stacks; N], r: &Row<N>) -> &'a [u8] {
    &sides[r.side()].arena()[r.start()..r.start() + r.len as usize]
}

/// Per function (see [`Group`]) its self and total sums on each side of `sides`, as
/// [`crate::table::function_sums`] gives them (every function once, in no particular order),
/// summed by up to `threads` threads; None when a sum leaves i64.
pub fn function_sums_parallel<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    threads: usize,
    keep: impl FnMut(Named<'a, N>) + Send,
) -> Option<()> {
    function_sums_in(sides, group, threads, PART_FRAMES, keep)
}

/// [`function_sums_parallel`] with partitions of at most `most` frame occurrences.
pub fn function_sums_in<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    threads: usize,
    most: usize,
    mut keep: impl FnMut(Named<'a, N>) + Send,
) -> Option<()> {
    let (parts, room, threads) = plan(sides, group, threads, most);
    let name = |r: &Row<N>| name_of(sides, r);
    if threads == 1 {
        let mut spare = Spare::default();
        for part in 0..parts {
            let (rows, slots) = partition(sides, group, (part, parts), room, spare);
            let rows = rows?;
            for r in &rows {
                keep(Named {
                    name: name(r),
                    sums: r.sums,
                });
            }
            spare = Spare { rows, slots };
        }
        return Some(());
    }
    let next = AtomicUsize::new(0);
    // each thread keeps its partition's rows itself (one thread at a time), then sums its next
    // partition in their memory and its index's: a thread holds one partition at a time, and
    // the pages of its first are not faulted in again for the others
    let shared = Mutex::new((keep, false));
    std::thread::scope(|scope| {
        let work = || {
            let mut spare = Spare::default();
            loop {
                let part = next.fetch_add(1, Ordering::Relaxed);
                if part >= parts {
                    return;
                }
                let (rows, slots) = partition(sides, group, (part, parts), room, spare);
                let mut held = shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let (keep, failed) = &mut *held;
                let Some(rows) = rows.filter(|_| !*failed) else {
                    *failed = true;
                    next.store(parts, Ordering::Relaxed);
                    return;
                };
                for r in &rows {
                    keep(Named {
                        name: name(r),
                        sums: r.sums,
                    });
                }
                drop(held);
                spare = Spare { rows, slots };
            }
        };
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        work();
        for helper in helpers {
            if let Err(panic) = helper.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    let (_, failed) = shared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (!failed).then_some(())
}

/// [`function_sums_parallel`] for a `keep` that must run on the calling thread (it holds
/// what cannot be sent to another: the rows are summed by other threads and kept here).
pub fn function_sums_here<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    threads: usize,
    keep: impl FnMut(Named<'a, N>),
) -> Option<()> {
    function_sums_here_in(sides, group, threads, PART_FRAMES, keep)
}

/// [`function_sums_here`] with partitions of at most `most` frame occurrences.
fn function_sums_here_in<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    threads: usize,
    most: usize,
    mut keep: impl FnMut(Named<'a, N>),
) -> Option<()> {
    let (parts, room, threads) = plan(sides, group, threads, most);
    let name = |r: &Row<N>| name_of(sides, r);
    let next = AtomicUsize::new(0);
    // a finished partition waits until the last is kept: at most threads + 1 partitions are held
    let (send, receive) = sync_channel::<Option<Vec<Row<N>>>>(0);
    let mut failed = false;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let send = send.clone();
            let next = &next;
            scope.spawn(move || {
                let mut slots = Vec::new();
                loop {
                    let part = next.fetch_add(1, Ordering::Relaxed);
                    if part >= parts {
                        return;
                    }
                    // (new rows: the memory of rows kept here is all written, where new rows
                    // are written as they come)
                    let spare = Spare {
                        rows: Vec::new(),
                        slots,
                    };
                    let (rows, left) = partition(sides, group, (part, parts), room, spare);
                    slots = left;
                    let stop = rows.is_none();
                    if send.send(rows).is_err() || stop {
                        next.store(parts, Ordering::Relaxed);
                        return;
                    }
                }
            });
        }
        drop(send);
        for rows in receive.iter() {
            match rows {
                Some(rows) if !failed => {
                    for r in &rows {
                        keep(Named {
                            name: name(r),
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
        // kept on the calling thread: the same rows
        let mut here = BTreeMap::new();
        function_sums_here_in(sides, group, threads, most, |r| {
            assert!(here.insert(r.name.to_vec(), r.sums).is_none());
        })?;
        assert_eq!(here, out);
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

    proptest! {
        #[test]
        fn frames_are_cut_and_hashed_as_the_bytes_say(
            bytes in proptest::collection::vec(prop_oneof![Just(b';'), Just(0u8), Just(b'a'), Just(0xffu8)], 0..40),
            pad in 0usize..9,
        ) {
            // the same stack after `pad` other bytes: the same frames, the same hashes
            let mut padded = vec![b'x'; pad];
            padded.extend_from_slice(&bytes);
            let (mut got, mut want) = (Vec::new(), Vec::new());
            each_frame(&padded, pad, padded.len(), Group::Function { roots: 0 }, |at, len, last| {
                got.push((padded[at..at + len].to_vec(), hash_in(&padded, at, len), last));
            });
            let frames: Vec<&[u8]> = bytes.split(|&b| b == b';').collect();
            for (i, f) in frames.iter().enumerate() {
                let copy = f.to_vec();
                want.push((copy.clone(), hash_in(&copy, 0, copy.len()), i + 1 == frames.len()));
            }
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn the_index_grows_and_finds_every_row() {
        let mut index = Index::reusing(1, Vec::new());
        let names: Vec<Vec<u8>> = (0..5000u32).map(|i| format!("f{i}").into_bytes()).collect();
        for (r, name) in names.iter().enumerate() {
            let hash = hash_in(name, 0, name.len());
            let slot = index.find(hash, |_| false).unwrap_err();
            index.put(slot, hash, r as u32);
        }
        assert!(index.slots.len() * 3 >= 4 * names.len());
        // a row of one side is four words (the memory of 20 M functions)
        assert_eq!(std::mem::size_of::<Row<1>>(), 32);
        for (r, name) in names.iter().enumerate() {
            let hash = hash_in(name, 0, name.len());
            assert_eq!(
                index.find(hash, |x| names[x as usize] == *name),
                Ok(r as u32)
            );
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
