//! The stack table: distinct stacks and their summed integer weights, every stack's bytes in one
//! arena (no allocation per stack), in order of first appearance. The folded reader fills it
//! (`folded::FoldedReader`); the commands work from it without a Python object per stack:
//! canonical folded text ([`Stacks::sorted`], `folded_text`), per-function self and total sums
//! ([`function_sums`]) and the union of two tables in canonical order ([`union`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Stacks from which [`Stacks::append_except`] copies the bytes on a thread of their own.
const APPEND_ON_TWO_THREADS: usize = 1 << 16;

/// Distinct stacks with their summed integer weights, in one byte arena.
#[derive(Debug, Default, Clone)]
pub struct Stacks {
    /// every stack's bytes, one after another
    bytes: Vec<u8>,
    /// stack k is `bytes[ends[k - 1]..ends[k]]` (the first starts at 0)
    ends: Vec<u64>,
    /// stack k's summed weight, unless it once left i64 (then it is in `big`)
    sums: Vec<i64>,
    /// the sums that once left i64, by stack
    big: HashMap<u32, i128, FxBuildHasher>,
}

impl PartialEq for Stacks {
    /// The same stacks with the same sums in the same order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Stacks {}

impl Stacks {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stacks.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the table holds no stack.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of stack `i`.
    pub fn stack(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }

    /// Where stack `i` starts in [`Stacks::arena`], and its bytes.
    pub fn stack_at(&self, i: usize) -> (usize, &[u8]) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        (start, &self.bytes[start..self.ends[i] as usize])
    }

    /// Every stack's bytes, one after another.
    pub fn arena(&self) -> &[u8] {
        &self.bytes
    }

    /// The summed weight of stack `i`.
    pub fn sum(&self, i: usize) -> i128 {
        if !self.big.is_empty() {
            if let Some(&sum) = self.big.get(&(i as u32)) {
                return sum;
            }
        }
        i128::from(self.sums[i])
    }

    /// Add `weight` to stack `i`'s sum.
    #[inline]
    pub fn add_to(&mut self, i: usize, weight: i128) {
        if self.big.is_empty() {
            // every sum is in `sums`: the common case, without a look in `big`
            if let Some(sum) = i64::try_from(weight)
                .ok()
                .and_then(|w| self.sums[i].checked_add(w))
            {
                self.sums[i] = sum;
                return;
            }
        }
        let small = i64::try_from(weight)
            .ok()
            .and_then(|w| self.sums[i].checked_add(w));
        match small {
            Some(sum) if self.big.is_empty() || !self.big.contains_key(&(i as u32)) => {
                self.sums[i] = sum
            }
            _ => {
                let sum = self.sum(i) + weight;
                self.big.insert(i as u32, sum);
            }
        }
    }

    /// Append a stack (not already in the table) with its sum.
    #[inline]
    pub fn push(&mut self, stack: &[u8], sum: i128) {
        self.bytes.extend_from_slice(stack);
        self.ends.push(self.bytes.len() as u64);
        match i64::try_from(sum) {
            Ok(small) => self.sums.push(small),
            Err(_) => {
                self.sums.push(0);
                self.add_to(self.ends.len() - 1, sum);
            }
        }
    }

    /// Append the stacks of `other` but those at the indices `skipped` (ascending), with their
    /// sums, as [`Stacks::push`] would one by one. The bytes of a big table are copied on a thread
    /// of their own while the ends and sums are made here (see [`APPEND_ON_TWO_THREADS`]).
    pub fn append_except(&mut self, other: &Stacks, skipped: &[usize]) {
        self.append_except_with(other, skipped, APPEND_ON_TWO_THREADS);
    }

    /// `append_except`, on two threads from `two_threads` stacks on.
    fn append_except_with(&mut self, other: &Stacks, skipped: &[usize], two_threads: usize) {
        if !other.big.is_empty() {
            // a sum past i64: one by one
            let mut skip = skipped.iter().peekable();
            for (e, (stack, sum)) in other.iter().enumerate() {
                if skip.next_if_eq(&&e).is_none() {
                    self.push(stack, sum);
                }
            }
            return;
        }
        // the runs of stacks kept, and where each starts in `other`'s bytes
        let mut runs: Vec<std::ops::Range<usize>> = Vec::with_capacity(skipped.len() + 1);
        let mut from = 0;
        for &at in skipped.iter().chain(std::iter::once(&other.len())) {
            if at > from {
                runs.push(from..at);
            }
            from = at + 1;
        }
        let start = |i: usize| if i == 0 { 0 } else { other.ends[i - 1] };
        let copy = |bytes: &mut Vec<u8>| {
            for run in &runs {
                bytes.extend_from_slice(
                    &other.bytes[start(run.start) as usize..other.ends[run.end - 1] as usize],
                );
            }
        };
        let fill = |ends: &mut Vec<u64>, sums: &mut Vec<i64>, mut end: u64| {
            for run in &runs {
                let first = start(run.start);
                ends.extend(other.ends[run.clone()].iter().map(|&e| e - first + end));
                end += other.ends[run.end - 1] - first;
                sums.extend_from_slice(&other.sums[run.clone()]);
            }
        };
        let end = self.bytes.len() as u64;
        let (bytes, ends, sums) = (&mut self.bytes, &mut self.ends, &mut self.sums);
        if other.len() >= two_threads {
            std::thread::scope(|scope| {
                let helper = scope.spawn(|| copy(bytes));
                fill(ends, sums, end);
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            });
        } else {
            copy(bytes);
            fill(ends, sums, end);
        }
    }

    /// (stack, sum) in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], i128)> + '_ {
        (0..self.len()).map(|i| (self.stack(i), self.sum(i)))
    }

    /// (sum of the sums, of the positive ones, of their magnitudes), each saturating at the
    /// bounds of i128.
    pub fn totals(&self) -> (i128, i128, i128) {
        if !self.big.is_empty() {
            let (mut total, mut positive, mut magnitude) = (0i128, 0i128, 0i128);
            for (_, w) in self.iter() {
                total = total.saturating_add(w);
                positive = positive.saturating_add(w.max(0));
                magnitude = magnitude.saturating_add(w.saturating_abs());
            }
            return (total, positive, magnitude);
        }
        // every sum is an i64: fewer than 2**63 of them never leave i128, so nothing saturates
        let (mut total, mut positive, mut magnitude) = (0i128, 0i128, 0i128);
        for &w in &self.sums {
            total += i128::from(w);
            positive += i128::from(w.max(0));
            magnitude += i128::from(w.unsigned_abs());
        }
        (total, positive, magnitude)
    }

    /// Forget every stack.
    pub fn clear(&mut self) {
        *self = Stacks::new();
    }

    /// Make room for `stacks` more stacks of `bytes` bytes in all (no regrowth while they come).
    pub fn reserve(&mut self, stacks: usize, bytes: usize) {
        self.bytes.reserve(bytes);
        self.ends.reserve(stacks);
        self.sums.reserve(stacks);
    }

    /// Give back the memory the vectors reserved beyond what they hold.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.sums.shrink_to_fit();
    }

    /// Bytes of all stacks together.
    pub fn stack_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The stack indices in canonical order: byte-wise by stack (the order of
    /// `foldkit.profile.Profile.items`).
    pub fn sorted(&self) -> Vec<u32> {
        crate::stack_order::canonical_order(self, crate::stack_order::threads())
    }
}

/// Append `value` in decimal to `out`.
pub fn push_decimal(out: &mut Vec<u8>, value: i128) {
    let mut buf = [0u8; 48];
    out.extend_from_slice(crate::folded::text::decimal(value, &mut buf));
}

/// Digits (and sign) of `value` in decimal.
fn decimal_len(value: i128) -> usize {
    let mut rest = value.unsigned_abs();
    let mut n = 1 + usize::from(value < 0);
    while rest >= 10 {
        rest /= 10;
        n += 1;
    }
    n
}

impl Stacks {
    /// The length of [`Stacks::write_folded`]'s text.
    pub fn folded_len(&self, order: &[u32]) -> usize {
        order
            .iter()
            .map(|&i| self.stack(i as usize).len() + decimal_len(self.sum(i as usize)) + 2)
            .sum()
    }

    /// The folded text of the stacks in `order` (`stack sum` lines) into `out`, whose length
    /// [`Stacks::folded_len`] gave.
    pub fn write_folded(&self, order: &[u32], out: &mut [u8]) {
        let mut at = 0;
        let mut digits = Vec::with_capacity(48);
        for &i in order {
            let stack = self.stack(i as usize);
            digits.clear();
            digits.extend_from_slice(stack);
            digits.push(b' ');
            push_decimal(&mut digits, self.sum(i as usize));
            digits.push(b'\n');
            out[at..at + digits.len()].copy_from_slice(&digits);
            at += digits.len();
        }
    }
}

/// Stacks formatted at a time by [`Stacks::write_folded_to`] (a piece of about 1 to 2 MB of
/// text for short stacks: formatted while still in a core's cache, then written).
const WRITE_PIECE: usize = 1 << 16;

impl Stacks {
    /// The folded text of the stacks in `order` ([`Stacks::write_folded`]'s bytes) written to
    /// `out` a piece at a time, the pieces formatted by up to `threads` threads while the
    /// earlier ones are written: the whole text is never held (nor its memory faulted in).
    pub fn write_folded_to(
        &self,
        order: &[u32],
        threads: usize,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let pieces: Vec<&[u32]> = order.chunks(WRITE_PIECE).collect();
        let format = |piece: &[u32], text: &mut Vec<u8>| {
            text.clear();
            for &i in piece {
                text.extend_from_slice(self.stack(i as usize));
                text.push(b' ');
                push_decimal(text, self.sum(i as usize));
                text.push(b'\n');
            }
        };
        let helpers = threads.clamp(1, 64).min(pieces.len());
        if helpers <= 1 {
            let mut text = Vec::new();
            for piece in &pieces {
                format(piece, &mut text);
                out.write_all(&text)?;
            }
            return Ok(());
        }
        std::thread::scope(|scope| {
            // helper h formats pieces h, h + helpers, ...; its text comes back here in turn and
            // its buffer goes back to it (two buffers each: one formatted while one is written)
            let mut made = Vec::with_capacity(helpers);
            for h in 0..helpers {
                let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
                let (give_back, given_back) = std::sync::mpsc::channel::<Vec<u8>>();
                give_back.send(Vec::new()).ok();
                give_back.send(Vec::new()).ok();
                let (pieces, format) = (&pieces, &format);
                scope.spawn(move || {
                    for piece in pieces.iter().skip(h).step_by(helpers) {
                        let Ok(mut text) = given_back.recv() else {
                            return; // the writer stopped
                        };
                        format(piece, &mut text);
                        if send.send(text).is_err() {
                            return;
                        }
                    }
                });
                made.push((receive, give_back));
            }
            for k in 0..pieces.len() {
                let (receive, give_back) = &made[k % helpers];
                let text = receive
                    .recv()
                    .map_err(|_| std::io::Error::other("a folded text writer stopped"))?;
                out.write_all(&text)?;
                give_back.send(text).ok();
            }
            Ok(())
            // (the channels are dropped before the helpers are joined: a helper waiting on one
            // after an error stops)
        })
    }
}

/// One row of the union of two tables: the stack and its sum on each side (None: absent there).
pub type UnionRow<'a> = (&'a [u8], Option<i128>, Option<i128>);

/// The canonical orders of two tables, walked together by [`Union::each`].
pub struct Union<'a> {
    before: &'a Stacks,
    after: &'a Stacks,
    b: Vec<u32>,
    a: Vec<u32>,
}

impl<'a> Union<'a> {
    /// The union of `before` and `after` (both put in canonical order once).
    pub fn new(before: &'a Stacks, after: &'a Stacks) -> Self {
        Union {
            before,
            after,
            b: before.sorted(),
            a: after.sorted(),
        }
    }

    /// Every stack of either side once, in canonical order, with its sum on each side.
    pub fn each(&self, mut row: impl FnMut(UnionRow<'a>)) {
        let (before, after) = (self.before, self.after);
        let (b, a) = (&self.b, &self.a);
        let (mut i, mut j) = (0, 0);
        while i < b.len() || j < a.len() {
            let bs = b.get(i).map(|&k| before.stack(k as usize));
            let as_ = a.get(j).map(|&k| after.stack(k as usize));
            match (bs, as_) {
                (Some(x), Some(y)) if x == y => {
                    row((
                        x,
                        Some(before.sum(b[i] as usize)),
                        Some(after.sum(a[j] as usize)),
                    ));
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x < y => {
                    row((x, Some(before.sum(b[i] as usize)), None));
                    i += 1;
                }
                (Some(x), None) => {
                    row((x, Some(before.sum(b[i] as usize)), None));
                    i += 1;
                }
                (_, Some(y)) => {
                    row((y, None, Some(after.sum(a[j] as usize))));
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
}

/// Every stack of `before` or `after` once, in canonical order, with its sum on each side.
pub fn union<'a>(before: &'a Stacks, after: &'a Stacks) -> Vec<UnionRow<'a>> {
    let mut out = Vec::new();
    Union::new(before, after).each(|r| out.push(r));
    out
}

/// How functions are grouped: by frame name, or by the first (process) frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Every frame after the first `roots` frames is a function (its name).
    Function { roots: usize },
    /// The first frame of a stack names its process; self and total are the stack's weight.
    Root,
}

/// A function's sums on each side: `[self, total]` per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRow<const N: usize> {
    /// where the name starts in its side's table's arena, and the side
    start: u64,
    /// the name's hash (growing the index never hashes a name again)
    hash: u64,
    len: u32,
    side: u32,
    /// the last stack (index + 1, per side) whose total this frame was added to
    last: [u32; N],
    /// `[self, total]` per side
    pub sums: [[i64; 2]; N],
}

/// The sums of one function, by name.
pub struct Named<'a, const N: usize> {
    pub name: &'a [u8],
    pub sums: [[i64; 2]; N],
}

/// Frames interned in one pass, at most this many (then the pass starts again, split in more
/// partitions): about 40 bytes each.
const PASS_FRAMES: usize = 1 << 23;

/// Per function (see [`Group`]), its self and total sums on each side of `sides`: self is the
/// weight of the stacks whose leaf it is, total of the stacks holding it (once however often it
/// recurses). Rows go to `keep` a partition at a time (every function exactly once, in no
/// particular order), one at a time, so only one partition's functions are held at a time. None when a sum
/// leaves i64 (the caller sums in Python instead).
pub fn function_sums<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    keep: impl FnMut(Named<'a, N>),
) -> Option<()> {
    function_sums_within(sides, group, PASS_FRAMES, keep)
}

/// [`function_sums`] holding at most `most` functions at a time.
pub fn function_sums_within<'a, const N: usize>(
    sides: [&'a Stacks; N],
    group: Group,
    most: usize,
    mut keep: impl FnMut(Named<'a, N>),
) -> Option<()> {
    // ranges of the 32-bit hash slice (see `slice`) still to do; one too big is cut in four
    let mut todo: Vec<(u64, u64)> = vec![(0, 1 << 32)];
    while let Some((lo, hi)) = todo.pop() {
        // a slice no range can cut holds whatever it holds
        let most = if hi - lo <= 1 { usize::MAX } else { most };
        match partition(sides, group, lo, hi, most) {
            Some(rows) => {
                for r in rows? {
                    keep(Named {
                        name: name_in(sides, &r),
                        sums: r.sums,
                    });
                }
            }
            None => {
                let step = ((hi - lo) / 4).max(1);
                let mut at = hi;
                while at > lo {
                    let from = at.saturating_sub(step).max(lo);
                    todo.push((from, at));
                    at = from;
                }
            }
        }
    }
    Some(())
}

/// The name of a function row, in its side's arena.
fn name_in<'a, const N: usize>(sides: [&'a Stacks; N], r: &FrameRow<N>) -> &'a [u8] {
    let table = sides[r.side as usize];
    &table.bytes[r.start as usize..r.start as usize + r.len as usize]
}

/// The slice of a name's hash that picks its partition (bits the hash table does not use for
/// small tables, nor for its control bytes).
fn slice(hash: u64) -> u64 {
    (hash >> 25) & 0xffff_ffff
}

/// The names of stack `stack` of a side, as `group` counts them.
fn frames(stack: &[u8], group: Group) -> impl Iterator<Item = (usize, &[u8])> + '_ {
    let (skip, take) = match group {
        Group::Function { roots } => (roots, usize::MAX),
        Group::Root => (0, 1),
    };
    let mut at = 0usize;
    stack
        .split(|&b| b == b';')
        .map(move |frame| {
            let start = at;
            at += frame.len() + 1;
            (start, frame)
        })
        .skip(skip)
        .take(take)
}

fn hash_of(name: &[u8]) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    h.write(name);
    h.finish()
}

/// The functions whose hash slice is in `lo..hi`: Some(None) when a sum leaves i64, None when
/// they are more than PASS_FRAMES.
fn partition<const N: usize>(
    sides: [&Stacks; N],
    group: Group,
    lo: u64,
    hi: u64,
    most: usize,
) -> Option<Option<Vec<FrameRow<N>>>> {
    let whole = lo == 0 && hi == 1 << 32;
    let mut rows: Vec<FrameRow<N>> = Vec::new();
    let mut index: HashTable<u32> = HashTable::new();
    let name_of = |r: &FrameRow<N>| name_in(sides, r);
    for (side, table) in sides.iter().enumerate() {
        for k in 0..table.len() {
            let stack = table.stack(k);
            let base = if k == 0 { 0 } else { table.ends[k - 1] };
            let weight = i64::try_from(table.sum(k)).ok();
            let mut leaf: Option<u32> = None;
            let mut seen_any = false;
            for (offset, name) in frames(stack, group) {
                seen_any = true;
                let hash = hash_of(name);
                let mine = whole || (lo..hi).contains(&slice(hash));
                if !mine {
                    leaf = None;
                    continue;
                }
                let found = index.find(hash, |&r| name_of(&rows[r as usize]) == name);
                let at = match found {
                    Some(&r) => r,
                    None => {
                        if rows.len() >= most {
                            return None;
                        }
                        let r = rows.len() as u32;
                        rows.push(FrameRow {
                            start: base + offset as u64,
                            hash,
                            len: name.len() as u32,
                            side: side as u32,
                            last: [0; N],
                            sums: [[0; 2]; N],
                        });
                        index.insert_unique(hash, r, |&r| rows[r as usize].hash);
                        r
                    }
                };
                let row = &mut rows[at as usize];
                if row.last[side] != k as u32 + 1 {
                    row.last[side] = k as u32 + 1;
                    let Some(w) = weight else {
                        return Some(None);
                    };
                    let Some(total) = row.sums[side][1].checked_add(w) else {
                        return Some(None);
                    };
                    row.sums[side][1] = total;
                }
                leaf = Some(at);
            }
            // the leaf is the last frame: it counts when it fell in this partition
            if let (true, Some(at)) = (seen_any, leaf) {
                let row = &mut rows[at as usize];
                let Some(w) = weight else {
                    return Some(None);
                };
                let Some(own) = row.sums[side][0].checked_add(w) else {
                    return Some(None);
                };
                row.sums[side][0] = own;
            }
        }
    }
    Some(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn table(pairs: &[(&str, i128)]) -> Stacks {
        let mut t = Stacks::new();
        for &(s, w) in pairs {
            t.push(s.as_bytes(), w);
        }
        t
    }

    #[test]
    fn append_except_is_push_one_by_one_on_one_thread_or_two() {
        let other = table(&[
            ("a;b", 1),
            ("c", -2),
            ("", 0),
            ("d;e;f", 4),
            ("g", 5),
            ("h", 6),
        ]);
        let with_big = table(&[("x", 1), ("y", i128::MAX), ("z", 3)]);
        for from in [table(&[]), table(&[("p", 7), ("q", i128::MIN)])] {
            for other in [&other, &with_big] {
                for skipped in [
                    vec![],
                    vec![0],
                    vec![1, 2],
                    vec![0, other.len() - 1],
                    (0..other.len()).collect(),
                ] {
                    let mut want = from.clone();
                    for (e, (stack, sum)) in other.iter().enumerate() {
                        if !skipped.contains(&e) {
                            want.push(stack, sum);
                        }
                    }
                    for two_threads in [0, usize::MAX] {
                        let mut got = from.clone();
                        got.append_except_with(other, &skipped, two_threads);
                        assert_eq!(got, want, "{skipped:?} {two_threads}");
                        assert_eq!(got.arena(), want.arena());
                    }
                }
            }
        }
    }

    /// The sums one by one, saturating: what `Stacks::totals` gives.
    fn totals_one_by_one(t: &Stacks) -> (i128, i128, i128) {
        t.iter().fold((0i128, 0i128, 0i128), |(a, b, c), (_, w)| {
            (
                a.saturating_add(w),
                b.saturating_add(w.max(0)),
                c.saturating_add(w.saturating_abs()),
            )
        })
    }

    #[test]
    fn totals_are_the_sums_one_by_one_with_or_without_sums_past_i64() {
        let small = table(&[
            ("a", 3),
            ("b", -5),
            ("c", i64::MIN as i128),
            ("d", i64::MAX as i128),
        ]);
        assert_eq!(small.totals(), totals_one_by_one(&small));
        assert_eq!(
            small.totals(),
            (
                -3,
                3 + i128::from(i64::MAX),
                8 + i128::from(i64::MAX) + (1i128 << 63)
            )
        );
        // the last sum takes the totals past i128: they saturate
        let big = table(&[
            ("a", 3),
            ("b", i128::MAX / 2),
            ("c", -7),
            ("d", i128::MAX / 2),
            ("e", 9),
        ]);
        assert_eq!(big.totals(), totals_one_by_one(&big));
        assert_eq!(big.totals().1, i128::MAX);
        assert_eq!(Stacks::new().totals(), (0, 0, 0));
    }

    /// The reference: per name, [self, total] by plain maps.
    fn reference(pairs: &[(&str, i128)], group: Group) -> BTreeMap<Vec<u8>, [i64; 2]> {
        let mut out: BTreeMap<Vec<u8>, [i64; 2]> = BTreeMap::new();
        for &(s, w) in pairs {
            let names: Vec<&[u8]> = frames(s.as_bytes(), group).map(|(_, n)| n).collect();
            let mut seen = std::collections::HashSet::new();
            for n in &names {
                if seen.insert(*n) {
                    out.entry(n.to_vec()).or_default()[1] += w as i64;
                }
            }
            if let Some(last) = names.last() {
                out.entry(last.to_vec()).or_default()[0] += w as i64;
            }
        }
        out
    }

    fn native(pairs: &[(&str, i128)], group: Group) -> BTreeMap<Vec<u8>, [i64; 2]> {
        let t = table(pairs);
        let mut out = BTreeMap::new();
        function_sums([&t], group, |r| {
            assert!(out.insert(r.name.to_vec(), r.sums[0]).is_none());
        })
        .unwrap();
        out
    }

    #[test]
    fn folded_text_is_sorted_lines() {
        let t = table(&[
            ("b;c", 2),
            ("a", -30),
            ("m", i128::MAX),
            ("z", i128::MIN),
            ("y", 0),
        ]);
        let order = t.sorted();
        let mut out = vec![0u8; t.folded_len(&order)];
        t.write_folded(&order, &mut out);
        let want = format!("a -30\nb;c 2\nm {}\ny 0\nz {}\n", i128::MAX, i128::MIN);
        assert_eq!(String::from_utf8(out).unwrap(), want);
        let mut d = Vec::new();
        for v in [0i128, 9, 10, -1, -10, 99, 100, i128::MAX, i128::MIN] {
            d.clear();
            push_decimal(&mut d, v);
            assert_eq!(d, v.to_string().as_bytes());
            assert_eq!(decimal_len(v), d.len());
        }
    }

    #[test]
    fn folded_text_written_in_pieces_is_the_whole_text() {
        let names: Vec<String> = (0..(WRITE_PIECE * 3 + 7))
            .map(|i| format!("p;m{};s{}", i * 7919 % 100_003, i % 13))
            .collect();
        let mut t = Stacks::new();
        for (i, s) in names.iter().enumerate() {
            t.push(s.as_bytes(), i as i128 - 50);
        }
        t.add_to(3, i128::MAX / 2);
        for t in [t, table(&[("b", 1), ("a", 2)]), Stacks::new()] {
            let order = t.sorted();
            let mut whole = vec![0u8; t.folded_len(&order)];
            t.write_folded(&order, &mut whole);
            for threads in [1, 2, 3, 64] {
                let mut got = Vec::new();
                t.write_folded_to(&order, threads, &mut got).unwrap();
                assert_eq!(got, whole, "{threads} threads");
            }
        }
        // a writer that fails stops every thread and says why
        struct Full(usize);
        impl std::io::Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("full"));
                }
                self.0 -= 1;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let t = table(&names.iter().map(|s| (s.as_str(), 1)).collect::<Vec<_>>());
        let order = t.sorted();
        for threads in [1, 2, 5] {
            for room in [0, 1, 2] {
                let err = t.write_folded_to(&order, threads, &mut Full(room));
                assert_eq!(err.unwrap_err().to_string(), "full");
            }
        }
    }

    #[test]
    fn sums_beyond_i64_are_kept_exactly() {
        let mut t = table(&[("a", i128::from(i64::MAX)), ("b", i128::MIN), ("c", 1)]);
        t.add_to(0, 1);
        t.add_to(0, -2);
        t.add_to(2, i128::from(i64::MAX));
        t.add_to(2, -5);
        let sums: Vec<i128> = t.iter().map(|(_, w)| w).collect();
        let max = i128::from(i64::MAX);
        assert_eq!(sums, vec![max - 1, i128::MIN, max - 4]);
        let mut same = table(&[("a", max - 1), ("b", i128::MIN), ("c", max - 4)]);
        assert_eq!(t, same);
        same.add_to(1, 1);
        assert_ne!(t, same);
    }

    #[test]
    fn sorted_is_bytewise() {
        let t = table(&[
            ("b;c", 1),
            ("abcdefghij", 2),
            ("abcdefgh", 3),
            ("a", 4),
            ("\u{e9}", 5),
            ("abcdefghi\0", 6),
        ]);
        let order: Vec<&[u8]> = t.sorted().iter().map(|&i| t.stack(i as usize)).collect();
        let mut want: Vec<&[u8]> = t.iter().map(|(s, _)| s).collect();
        want.sort();
        assert_eq!(order, want);
    }

    #[test]
    fn function_sums_count_recursion_once_and_leaves_as_self() {
        let pairs = [
            ("a;b;a", 3),
            ("a;c", 2),
            ("x;b", 5),
            ("a", 1),
            ("", 7),
            ("r;;q", 1),
        ];
        for group in [
            Group::Function { roots: 0 },
            Group::Function { roots: 1 },
            Group::Root,
        ] {
            assert_eq!(native(&pairs, group), reference(&pairs, group), "{group:?}");
        }
        let got = native(&pairs, Group::Function { roots: 0 });
        assert_eq!(got[&b"a".to_vec()], [4, 6]);
        assert_eq!(got[&b"b".to_vec()], [5, 8]);
    }

    #[test]
    fn many_functions_are_split_in_partitions() {
        // more names than one pass takes would need PASS_FRAMES; check the split by hand
        let names: Vec<String> = (0..5000).map(|i| format!("p;m{i};s{}", i % 700)).collect();
        let pairs: Vec<(&str, i128)> = names.iter().map(|s| (s.as_str(), 2)).collect();
        let t = table(&pairs);
        let want = reference(&pairs, Group::Function { roots: 0 });
        for parts in [1u64, 2, 3, 16] {
            let mut got = BTreeMap::new();
            let step = (1u64 << 32).div_ceil(parts);
            for part in 0..parts {
                let (lo, hi) = (part * step, ((part + 1) * step).min(1 << 32));
                for r in partition([&t], Group::Function { roots: 0 }, lo, hi, usize::MAX)
                    .unwrap()
                    .unwrap()
                {
                    let name = name_in([&t], &r);
                    assert!(got.insert(name.to_vec(), r.sums[0]).is_none());
                }
            }
            assert_eq!(got, want, "{parts} parts");
        }
        for most in [1, 7, 100, 4999] {
            let mut got = BTreeMap::new();
            function_sums_within([&t], Group::Function { roots: 0 }, most, |r| {
                assert!(got.insert(r.name.to_vec(), r.sums[0]).is_none());
            })
            .unwrap();
            assert_eq!(got, want, "at most {most}");
        }
    }

    #[test]
    fn union_walks_both_sides_in_order() {
        let b = table(&[("b", 1), ("a", 2)]);
        let a = table(&[("c", 3), ("b", 4)]);
        let rows = union(&b, &a);
        let want: Vec<UnionRow<'_>> = vec![
            (b"a", Some(2), None),
            (b"b", Some(1), Some(4)),
            (b"c", None, Some(3)),
        ];
        assert_eq!(rows, want);
    }

    #[test]
    fn a_sum_beyond_i64_gives_none() {
        let t = table(&[("a", i128::from(i64::MAX)), ("a;b", 1)]);
        assert!(function_sums([&t], Group::Root, |_| {}).is_none());
    }
}
