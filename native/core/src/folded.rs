//! The folded text a producer writes: `frame;frame;frame 42` lines, identical stacks summed.
//!
//! A line is read here when the reference reader (`foldkit.ingest.folded.split_line`) would read
//! a stack and a weight from it and the weight is an integer of magnitude at most 2^63-1 or a
//! finite decimal below 2^63: any whitespace before the weight (two spaces, a tab), whitespace
//! after it, whitespace at the start of the line (the reference strips it). The two-column `stack before
//! after` form is handed back: the reference keeps its before column (a differential graph). Integer weights are summed exactly; a stack that gets a decimal weight
//! is summed as the reference sums it, in line order, as a float from then on (a reader of part
//! of a file says so with `floats`: such sums cannot be merged, see `folded::file`). Empty and
//! whitespace-only lines are skipped. Every other line (comments, bad lines, weights the
//! reference refuses) is handed back to the caller, which reads it with the reference rules and
//! may `add` the result.
//!
//! Lines are numbered as the reference reader numbers them: one per `\n`-separated piece of the
//! input, `\r\n` read as `\n`.

pub mod file;
pub mod index;
pub mod merge;
pub mod text;

use std::collections::HashMap;

use ahash::RandomState;
use rustc_hash::FxBuildHasher;

use crate::table::Stacks;
use index::Index;

/// Lines read ahead and looked up together: their index slots are fetched before any of them is
/// looked up, so the cache misses of a big table overlap instead of coming one after another.
const BATCH: usize = 16;

/// A weight read from a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer of magnitude at most 2^63-1.
    Int(i64),
    /// A finite decimal of magnitude below 2^63.
    Float(f64),
}

/// 2^63: the reference refuses a decimal weight of this magnitude or more.
const FLOAT_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// Where `FoldedReader::feed` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// Every line of the chunk was read.
    Done,
    /// The line at `start..end` of the chunk (without its `\r\n`/`\n`) needs the reference
    /// reader; it is line number `lineno` of the input. Feed again from `next`.
    Deferred {
        start: usize,
        end: usize,
        next: usize,
        lineno: u64,
    },
}

/// Distinct stacks in order of first appearance, with their summed weights.
///
/// The stacks are kept in a [`Stacks`] table (one byte arena); the index holds entry numbers and
/// each entry's hash is kept, so growing the index never hashes a stack again: stacks are often
/// kilobytes long.
pub struct FoldedReader {
    /// (stack, summed weight) in order of first appearance
    entries: Stacks,
    /// each entry's hash (merging readers does not hash the stacks again)
    hashes: Vec<u64>,
    /// entry numbers by their stack's hash
    index: Index,
    hasher: RandomState,
    lineno: u64,
    /// false once a stack read from a line is not UTF-8
    utf8: bool,
    /// true once a stack read from a line may hold a call-site offset
    offsets: bool,
    /// the sums that became decimals (entry -> sum); their entries' integer sums are unused
    floats: Sums,
    /// true while the chunk being read is known to be UTF-8 as a whole (so is every stack in it)
    chunk_utf8: bool,
    /// true while the chunk being read holds no `+` (so no stack in it holds an offset)
    chunk_no_plus: bool,
    /// with [`FoldedReader::keep_order`]: every line's entry and weight in input order
    order: Option<Order>,
}

/// Lines in input order (flame charts of folded text): each line's entry and integer weight, and
/// the decimal weights by line (their integer weight is 0).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Order {
    pub entries: Vec<u32>,
    pub weights: Vec<i64>,
    pub decimals: Vec<(usize, f64)>,
}

/// Decimal sums by entry.
pub type Sums = HashMap<u32, f64, FxBuildHasher>;

impl Default for FoldedReader {
    fn default() -> Self {
        FoldedReader {
            entries: Stacks::new(),
            hashes: Vec::new(),
            index: Index::default(),
            // fixed seeds: the same hashes in every thread (the order of the stacks never
            // depends on them)
            hasher: RandomState::with_seeds(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344),
            lineno: 0,
            utf8: true,
            offsets: false,
            floats: HashMap::default(),
            chunk_utf8: false,
            chunk_no_plus: false,
            order: None,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// True when `word` is a number to the reference reader: `-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?`.
pub fn is_number(word: &[u8]) -> bool {
    let digits = |w: &[u8]| w.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut w = word.strip_prefix(b"-").unwrap_or(word);
    let whole = digits(w);
    w = &w[whole..];
    let mut fraction = 0;
    if let Some(rest) = w.strip_prefix(b".") {
        fraction = digits(rest);
        w = &rest[fraction..];
    }
    if whole == 0 && fraction == 0 {
        return false;
    }
    if let Some(rest) = w.strip_prefix(b"e").or_else(|| w.strip_prefix(b"E")) {
        let rest = rest
            .strip_prefix(b"-")
            .or_else(|| rest.strip_prefix(b"+"))
            .unwrap_or(rest);
        let exponent = digits(rest);
        return exponent > 0 && exponent == rest.len();
    }
    w.is_empty()
}

/// The weight the reference reads from `word` when this reader can sum it; None for a word that
/// is not a number or a weight the reference refuses (it says why).
fn weight(word: &[u8]) -> Option<Num> {
    let (negative, digits) = match word.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        let significant = &digits[digits.iter().take_while(|&&b| b == b'0').count()..];
        if significant.len() > 19 {
            return None;
        }
        let value = significant
            .iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
        let value = i64::try_from(value).ok()?;
        return Some(Num::Int(if negative { -value } else { value }));
    }
    if !is_number(word) {
        return None;
    }
    let value: f64 = std::str::from_utf8(word).ok()?.parse().ok()?;
    (value.abs() < FLOAT_LIMIT).then_some(Num::Float(value))
}

/// `line` without the whitespace at its end.
fn trim_end(line: &[u8]) -> &[u8] {
    let keep = line
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(0, |i| i + 1);
    &line[..keep]
}

/// (`text` before its last word, the word): the part before has no whitespace at its end; None
/// when `text` (no whitespace at its end) is one word.
fn last_word(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = text.iter().rposition(|&b| is_space(b))?;
    Some((trim_end(&text[..space]), &text[space + 1..]))
}

/// True when `stack` may hold a call-site offset (`+` before a digit, or before a byte that is not
/// ASCII and may start a Unicode digit): the reference reader rewrites those stacks.
pub fn may_hold_offsets(stack: &[u8]) -> bool {
    memchr::memchr_iter(b'+', stack).any(|i| {
        stack
            .get(i + 1)
            .is_some_and(|&b| b.is_ascii_digit() || !b.is_ascii())
    })
}

/// False when the last word of `text` (no whitespace at its end) cannot be a number: a byte no
/// number holds comes before any whitespace, looking back from the end (most stacks end in a
/// name, so this looks at a few bytes instead of the whole stack).
fn may_end_in_number(text: &[u8]) -> bool {
    match text
        .iter()
        .rposition(|&b| !matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        Some(at) => is_space(text[at]),
        None => true,
    }
}

/// `(stack, weight)` of a line this reader takes, None for anything else (see the module
/// docstring): `split_line` of the reference, for the weights this reader sums.
pub fn plain_line(line: &[u8]) -> Option<(&[u8], Num)> {
    // whitespace at the start is stripped, as the reference reader strips it
    let line = match line.iter().position(|&b| !is_space(b)) {
        Some(first) => &line[first..],
        None => return None,
    };
    if line.first() == Some(&b'#') {
        return None;
    }
    let (rest, last) = last_word(trim_end(line))?;
    if rest.is_empty() {
        return None; // one word after whitespace
    }
    let w = weight(last)?;
    // the reference splits off two words: a number before the weight makes the line two-column
    // (unless nothing but whitespace is before it), which the reference reads with both columns
    if may_end_in_number(rest) {
        if let Some((stack, middle)) = last_word(rest) {
            if !stack.is_empty() && is_number(middle) {
                return None;
            }
        }
    }
    Some((rest, w))
}

/// A line of the common shape waiting in a batch: its stack's hash, where the stack is in the
/// chunk, and the line's weight.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    hash: u64,
    start: usize,
    len: usize,
    weight: i64,
}

/// Eight bytes of `chunk` from `at` as a little-endian word, zero-padded past its end.
#[inline]
fn word(chunk: &[u8], at: usize) -> u64 {
    match chunk.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("eight bytes")),
        None => {
            let mut w = [0u8; 8];
            let rest = &chunk[at.min(chunk.len())..];
            w[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(w)
        }
    }
}

/// Where the first `\n` of `chunk[pos..]` is: the first 32 bytes eight at a time (most lines
/// are short, and memchr's set-up costs more than it saves on them), then memchr.
#[inline]
fn next_newline(chunk: &[u8], pos: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = pos;
    while at < chunk.len() && at < pos + 32 {
        let x = word(chunk, at) ^ (ONES * u64::from(b'\n'));
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            // the lowest flagged byte is exact (a borrow only flags bytes above a zero byte)
            let n = at + (found.trailing_zeros() / 8) as usize;
            return (n < chunk.len()).then_some(n);
        }
        at += 8;
    }
    memchr::memchr(b'\n', chunk.get(at..)?).map(|n| at + n)
}

/// (end of the line starting at `pos` without its `\r\n`/`\n`, start of the next line), its
/// newline at `newline` (None: the line ends the chunk).
#[inline]
fn line_end(chunk: &[u8], pos: usize, newline: Option<usize>) -> (usize, usize) {
    let (mut end, next) = match newline {
        Some(n) => (n, n + 1),
        None => (chunk.len(), chunk.len()),
    };
    if next > end && end > pos && chunk[end - 1] == b'\r' {
        end -= 1;
    }
    (end, next)
}

/// (length of the stack, weight) of a line of the shape producers write, `stack 42`: the
/// stack starts with a byte that is neither whitespace nor `#`, one whitespace byte comes after
/// it and up to 18 digits end the line, and the stack's last word cannot be a number (no second
/// column to rule out). None for any other line, which [`plain_line`] reads:
/// for a line this reads, it reads the same.
#[inline]
pub fn fast_line(line: &[u8]) -> Option<(usize, i64)> {
    let (&first, _) = line.split_first()?;
    if is_space(first) || first == b'#' {
        return None;
    }
    let digits = line
        .iter()
        .rev()
        .take(19)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 18 || digits + 2 > line.len() {
        return None;
    }
    let space = line.len() - digits - 1;
    if !is_space(line[space]) || is_space(line[space - 1]) || may_end_in_number(&line[..space]) {
        return None;
    }
    let weight = line[space + 1..]
        .iter()
        .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
    Some((space, weight))
}

impl FoldedReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lines counted so far (the number of the last line read or handed back).
    pub fn lineno(&self) -> u64 {
        self.lineno
    }

    /// Read the lines of `chunk` from byte `pos` (a line start) until one needs the reference
    /// reader or the chunk ends. A chunk is whole lines, the last one possibly without `\n`.
    ///
    /// Lines of the common shape ([`fast_line`]) are gathered [`BATCH`] at a time, hashed, and
    /// looked up together; any other line is read on its own, in its turn.
    pub fn feed(&mut self, chunk: &[u8], mut pos: usize) -> Fed {
        let mut batch = [Pending::default(); BATCH];
        // every line ends at the next newline: one search through the chunk
        while pos < chunk.len() {
            let mut held = 0;
            let mut odd = None;
            while held < BATCH && pos < chunk.len() {
                let (end, next) = line_end(chunk, pos, next_newline(chunk, pos));
                self.lineno += 1;
                let line = &chunk[pos..end];
                match fast_line(line) {
                    Some((len, weight)) => {
                        batch[held] = Pending {
                            hash: self.hasher.hash_one(&line[..len]),
                            start: pos,
                            len,
                            weight,
                        };
                        held += 1;
                        pos = next;
                    }
                    None => {
                        odd = Some((pos, end, next));
                        break;
                    }
                }
            }
            self.take(chunk, &batch[..held]);
            let Some((start, end, next)) = odd else {
                continue;
            };
            let line = &chunk[start..end];
            pos = next;
            if line.iter().all(|&b| is_space(b)) {
                continue;
            }
            match plain_line(line) {
                Some((stack, Num::Int(weight))) => self.add(stack, weight),
                Some((stack, Num::Float(weight))) => self.add_float(stack, weight),
                None => {
                    return Fed::Deferred {
                        start,
                        end,
                        next,
                        lineno: self.lineno,
                    }
                }
            }
        }
        Fed::Done
    }

    /// Add the lines of `batch` (stacks in `chunk`), in their order: every line's first index
    /// slot (and, when its tag matches, the start of the stack it names) is fetched first.
    fn take(&mut self, chunk: &[u8], batch: &[Pending]) {
        let mut touched = 0u64;
        for p in batch {
            let slot = self.index.first(p.hash);
            if let Some(at) = Index::candidate(slot, p.hash) {
                if (at as usize) < self.entries.len() {
                    touched ^= u64::from(
                        self.entries
                            .stack(at as usize)
                            .first()
                            .copied()
                            .unwrap_or(0),
                    );
                }
            }
            touched ^= slot;
        }
        std::hint::black_box(touched);
        for p in batch {
            let at = self.entry_hashed(p.hash, &chunk[p.start..p.start + p.len]);
            self.add_at(at, p.weight);
        }
    }

    /// Read every line of `chunk`, collecting the lines handed back as (line number, line);
    /// false when that would make more than `max` of them in `deferred`.
    pub fn feed_all(
        &mut self,
        chunk: &[u8],
        deferred: &mut Vec<(u64, Vec<u8>)>,
        max: usize,
    ) -> bool {
        // the stacks end at ASCII bytes: in a UTF-8 chunk each is UTF-8 (one check, not one each)
        self.chunk_utf8 = self.utf8 && std::str::from_utf8(chunk).is_ok();
        self.chunk_no_plus = memchr::memchr(b'+', chunk).is_none();
        let mut pos = 0;
        let done = self.feed_each(chunk, &mut pos, deferred, max);
        self.chunk_utf8 = false;
        self.chunk_no_plus = false;
        done
    }

    fn feed_each(
        &mut self,
        chunk: &[u8],
        pos: &mut usize,
        deferred: &mut Vec<(u64, Vec<u8>)>,
        max: usize,
    ) -> bool {
        while let Fed::Deferred {
            start,
            end,
            next,
            lineno,
        } = self.feed(chunk, *pos)
        {
            if deferred.len() >= max {
                return false;
            }
            deferred.push((lineno, chunk[start..end].to_vec()));
            *pos = next;
        }
        true
    }

    /// Keep every line's entry and weight in input order from now on (see [`Order`]).
    pub fn keep_order(&mut self) {
        self.order = Some(Order::default());
    }

    /// The lines kept in order (see [`FoldedReader::keep_order`]), taken out of the reader.
    pub fn take_order(&mut self) -> Option<Order> {
        self.order.take()
    }

    /// Make room for about `stacks` more distinct stacks of `bytes` bytes in all: the index and
    /// the arena do not grow (nor rehash) while they come. Memory reserved and not used is
    /// never touched.
    pub fn reserve(&mut self, stacks: usize, bytes: usize) {
        let hashes = &self.hashes;
        self.index.reserve(stacks, |k| hashes[k as usize]);
        self.hashes.reserve(stacks);
        self.entries.reserve(stacks, bytes);
    }

    /// Make room in the table and the hashes (not the index) for `stacks` more stacks of
    /// `bytes` bytes: the reader whose table the others are merged into (see [`merge::merge`]),
    /// or that reads on through the ranges after its own (memory reserved and not used is
    /// never touched; a vector grown as it is written leaves the memory it had behind).
    pub fn reserve_table(&mut self, stacks: usize, bytes: usize) {
        self.entries.reserve(stacks, bytes);
        self.hashes.reserve(stacks);
    }

    /// Add `weight` to `stack` (a line the reference reader read).
    pub fn add(&mut self, stack: &[u8], weight: i64) {
        let at = self.entry(stack);
        self.add_at(at, weight);
    }

    /// Add the integer `weight` of a line to entry `at`.
    fn add_at(&mut self, at: usize, weight: i64) {
        if let Some(order) = &mut self.order {
            order.entries.push(at as u32);
            order.weights.push(weight);
        }
        if self.floats.is_empty() {
            self.entries.add_to(at, i128::from(weight));
        } else if let Some(sum) = self.floats.get_mut(&(at as u32)) {
            *sum += weight as f64; // a float plus an int, as Python adds them
        } else {
            self.entries.add_to(at, i128::from(weight));
        }
    }

    /// Add the integer `weight` (of any size a sum holds) to `stack`; its entry number.
    pub fn add_sum(&mut self, stack: &[u8], weight: i128) -> usize {
        let at = self.entry(stack);
        self.entries.add_to(at, weight);
        at
    }

    /// Add the integer `weight` to entry `at` (a number `add_sum` gave).
    pub fn add_sum_at(&mut self, at: usize, weight: i128) {
        self.entries.add_to(at, weight);
    }

    /// The summed integer weight of entry `at`.
    pub fn sum_at(&self, at: usize) -> i128 {
        self.entries.sum(at)
    }

    /// Add the decimal `weight` to `stack`: its sum is a float from now on, added to in line
    /// order as Python adds (an integer sum so far becomes the nearest float first).
    pub fn add_float(&mut self, stack: &[u8], weight: f64) {
        let at = self.entry(stack);
        if let Some(order) = &mut self.order {
            order.decimals.push((order.entries.len(), weight));
            order.entries.push(at as u32);
            order.weights.push(0);
        }
        let sum = self.entries.sum(at) as f64;
        *self.floats.entry(at as u32).or_insert(sum) += weight;
    }

    /// The entry of `stack`, made (with a sum of 0) when it is new.
    fn entry(&mut self, stack: &[u8]) -> usize {
        self.entry_hashed(self.hasher.hash_one(stack), stack)
    }

    /// The entry of `stack` hashed `hash`, made (with a sum of 0) when it is new.
    #[inline]
    fn entry_hashed(&mut self, hash: u64, stack: &[u8]) -> usize {
        let entries = &self.entries;
        match self
            .index
            .find(hash, |at| entries.stack(at as usize) == stack)
        {
            Ok(at) => at as usize,
            Err(slot) => {
                self.utf8 = self.utf8 && (self.chunk_utf8 || std::str::from_utf8(stack).is_ok());
                self.offsets = self.offsets || (!self.chunk_no_plus && may_hold_offsets(stack));
                let at = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&at| at < u32::MAX)
                    .expect("more than 2^32 - 2 distinct stacks");
                self.entries.push(stack, 0);
                self.hashes.push(hash);
                let hashes = &self.hashes;
                self.index.put(slot, hash, at, |k| hashes[k as usize]);
                at as usize
            }
        }
    }

    /// True when a sum is a decimal (see [`FoldedReader::floats`]).
    pub fn has_floats(&self) -> bool {
        !self.floats.is_empty()
    }

    /// The sums that are decimals, by entry (in the order of `items`): summed in line order, so
    /// the sums of two readers of parts of one input cannot be merged (`merge` refuses them).
    pub fn floats(&self) -> &Sums {
        &self.floats
    }

    /// The hash of each entry's stack, in entry order.
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// The table of stacks and sums (decimal sums are in [`FoldedReader::floats`]).
    pub fn stacks(&self) -> &Stacks {
        &self.entries
    }

    /// Let the index go (a reader only merged from now on, see [`merge::merge`]).
    pub fn drop_index(&mut self) {
        self.index = Index::default();
    }

    /// Take the index out (the reader only merged from now on): its memory, for
    /// [`Index::reusing`].
    pub fn take_index(&mut self) -> Index {
        std::mem::take(&mut self.index)
    }

    /// True when every stack is UTF-8 (stacks merged with `merge` are left out: check them
    /// in the reader they come from).
    pub fn utf8(&self) -> bool {
        self.utf8
    }

    /// True when a stack may hold a call-site offset (see [`may_hold_offsets`]; stacks merged
    /// with `merge` are left out, as in `utf8`).
    pub fn offsets(&self) -> bool {
        self.offsets
    }

    /// Number of distinct stacks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no stack was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The stacks and their summed weights, in order of first appearance.
    pub fn items(&self) -> impl Iterator<Item = (&[u8], i128)> + '_ {
        self.entries.iter()
    }

    /// The stacks and their summed integer weights, in order of first appearance (the index
    /// let go), and the decimal sums by entry (see `floats`), the reader consumed.
    pub fn into_items(self) -> (Stacks, Sums) {
        let mut stacks = self.entries;
        stacks.shrink_to_fit();
        (stacks, self.floats)
    }

    /// Forget every stack (after handing them to the reference reader).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.hashes.clear();
        self.index = Index::default();
        self.floats.clear();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_keeps_every_line() {
        let mut r = super::FoldedReader::new();
        r.keep_order();
        assert!(matches!(
            r.feed(b"a;b 1\nc 2.5\na;b 3\n", 0),
            super::Fed::Done
        ));
        r.add(b"c", 4);
        let order = r.take_order().unwrap_or_default();
        assert_eq!(order.entries, vec![0, 1, 0, 1]);
        assert_eq!(order.weights, vec![1, 0, 3, 4]);
        assert_eq!(order.decimals, vec![(1, 2.5)]);
    }

    use super::*;

    type Items = Vec<(Vec<u8>, i128)>;
    type Lines = Vec<(u64, Vec<u8>)>;

    /// Feed `chunks`, collecting the lines handed back (checking what `feed` says of them).
    fn read_chunks(chunks: &[&[u8]]) -> (FoldedReader, Lines) {
        let mut r = FoldedReader::new();
        let mut deferred: Lines = Vec::new();
        for chunk in chunks {
            assert!(r.feed_all(chunk, &mut deferred, usize::MAX));
        }
        for (lineno, line) in &deferred {
            assert!(*lineno >= 1 && *lineno <= r.lineno());
            assert!(plain_line(line).is_none());
        }
        (r, deferred)
    }

    fn read(text: &[u8]) -> (Items, Lines) {
        let (r, deferred) = read_chunks(&[text]);
        let items = r.items().map(|(s, w)| (s.to_vec(), w)).collect();
        (items, deferred)
    }

    #[test]
    fn sums_plain_lines_in_first_seen_order() {
        let (items, deferred) = read(b"b;c 2\na 1\r\n\n  \nb;c 40\n");
        assert_eq!(items, vec![(b"b;c".to_vec(), 42), (b"a".to_vec(), 1)]);
        assert!(deferred.is_empty());
    }

    #[test]
    fn hands_back_everything_else_with_line_numbers() {
        let text =
            b"# c\na 1.5\nb 10 7\nc  3\nd -1\ne 9223372036854775808\nf\tg 2\nh x 1e3 4\n 5\nok 1";
        let (items, deferred) = read(text);
        let stacks: Vec<&[u8]> = items.iter().map(|(s, _)| &s[..]).collect();
        assert_eq!(stacks, vec![&b"a"[..], b"c", b"d", b"f\tg", b"ok"]);
        let numbers: Vec<u64> = deferred.iter().map(|d| d.0).collect();
        assert_eq!(numbers, vec![1, 3, 6, 8, 9]);
        assert_eq!(deferred[0].1, b"# c");
    }

    #[test]
    fn decimal_sums_are_made_in_line_order() {
        let mut r = FoldedReader::new();
        let mut deferred = Vec::new();
        assert!(r.feed_all(
            b"b 9007199254740993\na 1\nb 0.5\nc 2\nb 1\n",
            &mut deferred,
            9
        ));
        assert!(deferred.is_empty() && r.has_floats());
        let sums: Vec<(i128, Option<f64>)> = (0..r.len())
            .map(|i| (r.entries.sum(i), r.floats().get(&(i as u32)).copied()))
            .collect();
        let b = 9007199254740993i64 as f64 + 0.5 + 1.0;
        assert_eq!(
            sums,
            vec![(9007199254740993, Some(b)), (1, None), (2, None)]
        );
        let mut zero = FoldedReader::new();
        zero.add_float(b"z", -0.0);
        assert!(zero.floats()[&0].is_sign_positive()); // 0 + -0.0, as Python adds
    }

    #[test]
    fn only_the_last_carriage_return_before_a_newline_goes() {
        // the one left is whitespace after the weight
        let (items, deferred) = read(b"a 1\r\r\nb 2\r");
        assert_eq!(items, vec![(b"a".to_vec(), 1), (b"b".to_vec(), 2)]);
        assert!(deferred.is_empty());
    }

    #[test]
    fn offsets_are_a_plus_before_a_digit() {
        assert!(may_hold_offsets(b"a;f+0x1a"));
        assert!(may_hold_offsets(b"f+12;b"));
        assert!(may_hold_offsets(b"f+\xd9\xa3"));
        assert!(!may_hold_offsets(b"libstdc++.so;a+;b+x"));
    }

    #[test]
    fn plain_line_rules() {
        assert_eq!(plain_line(b"a;b 007"), Some((&b"a;b"[..], Num::Int(7))));
        assert_eq!(plain_line(b"a b 1"), Some((&b"a b"[..], Num::Int(1))));
        assert_eq!(
            plain_line(b"\xff\x00 1"),
            Some((&b"\xff\x00"[..], Num::Int(1)))
        );
        // whitespace around the weight, as inferno and stackcollapse-perf.pl write it
        assert_eq!(
            plain_line(b"a;[unknown]  800"),
            Some((&b"a;[unknown]"[..], Num::Int(800)))
        );
        assert_eq!(plain_line(b"a;b \t3 \r"), Some((&b"a;b"[..], Num::Int(3))));
        assert_eq!(plain_line(b"a 1 "), Some((&b"a"[..], Num::Int(1))));
        // two columns: handed back (the reference keeps both); a number alone after whitespace is a stack
        assert_eq!(plain_line(b"a;b 10 7"), None);
        assert_eq!(plain_line(b"a;b  1.5e3\t7"), None);
        assert_eq!(plain_line(b"  1 2 3"), None);
        assert_eq!(plain_line(b"  1 2"), Some((&b"1"[..], Num::Int(2))));
        assert_eq!(plain_line(b"a 1x 2"), Some((&b"a 1x"[..], Num::Int(2))));
        assert_eq!(plain_line(b"a -0"), Some((&b"a"[..], Num::Int(0))));
        assert_eq!(plain_line(b"a -12"), Some((&b"a"[..], Num::Int(-12))));
        assert_eq!(
            plain_line(b"a 00000000000000000000000000001"),
            Some((&b"a"[..], Num::Int(1)))
        );
        assert_eq!(
            plain_line(b"a 9223372036854775807"),
            Some((&b"a"[..], Num::Int(i64::MAX)))
        );
        for (line, value) in [
            (&b"a 1.5"[..], 1.5),
            (b"a .5", 0.5),
            (b"a 5.", 5.0),
            (b"a 1.e3", 1000.0),
            (b"a -2E-1", -0.2),
            (b"a 1e+2", 100.0),
        ] {
            assert_eq!(plain_line(line), Some((&b"a"[..], Num::Float(value))));
        }
        for bad in [
            &b"1"[..],
            b" 1",
            b"a +1",
            b"a 0x1",
            b"a 1e",
            b"a .",
            b"a --1",
            b"a inf",
            b"a nan",
            b"a 1e400",
            b"a 9223372036854775808",
            b"a 9.3e18",
            b"#a 1",
        ] {
            assert_eq!(plain_line(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(plain_line(b"a.1 2"), Some((&b"a.1"[..], Num::Int(2))));
        assert_eq!(plain_line(b"  a 2"), Some((&b"a"[..], Num::Int(2))));
        assert_eq!(plain_line(b"\ta 2"), Some((&b"a"[..], Num::Int(2))));
        assert_eq!(plain_line(b"a; b 2"), Some((&b"a; b"[..], Num::Int(2))));
    }

    #[test]
    fn newlines_are_found_near_and_far() {
        let mut text = b"ab\ncd".to_vec();
        for (pos, want) in [(0, Some(2)), (2, Some(2)), (3, None), (5, None), (6, None)] {
            assert_eq!(next_newline(&text, pos), want, "{pos}");
        }
        text.extend(std::iter::repeat_n(b'x', 100));
        text.push(b'\n');
        for pos in 3..text.len() {
            assert_eq!(next_newline(&text, pos), Some(text.len() - 1));
        }
        assert_eq!(next_newline(b"\n", 0), Some(0));
    }

    #[test]
    fn fast_lines_are_read_as_plain_line_reads_them() {
        for line in [
            &b"a;b 7"[..],
            b"p;m1;s1 1",
            b"a\t12",
            b"x 000000000000000042",
            b"a;b  3",
            b" a 1",
            b"#a 1",
            b"a 1 ",
            b"a -1",
            b"a 1.5",
            b"a;2 3",
            b"a 1e 3",
            b"7 3",
            b"a 1234567890123456789",
            b"a 123456789012345678",
            b"\xff 1",
            b"a  ",
            b" 1",
            b"1",
            b"",
        ] {
            match fast_line(line) {
                Some((len, w)) => {
                    assert_eq!(plain_line(line), Some((&line[..len], Num::Int(w))));
                }
                None => assert!(
                    !matches!(
                        line,
                        b"a;b 7" | b"p;m1;s1 1" | b"a\t12" | b"x 000000000000000042"
                    ),
                    "{:?} is a fast line",
                    String::from_utf8_lossy(line)
                ),
            }
        }
    }

    #[test]
    fn fuzz_every_line_is_summed_or_handed_back() {
        let pieces: &[&[u8]] = &[
            b"a",
            b";",
            b" ",
            b"  ",
            b"\t",
            b"1",
            b"42",
            b"-",
            b".",
            b"e",
            b"#",
            b"\r",
            b"\n",
            b"\xff",
            b"\x00",
            b"999999999999999999",
            b"0",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _case in 0..3000 {
            let text: Vec<u8> = (0..next(40))
                .flat_map(|_| pieces[next(pieces.len())].iter().copied())
                .collect();
            // cut into chunks after newlines, as the Python side does
            let mut chunks = Vec::new();
            let mut start = 0;
            for (i, &b) in text.iter().enumerate() {
                if b == b'\n' && next(3) == 0 {
                    chunks.push(&text[start..=i]);
                    start = i + 1;
                }
            }
            chunks.push(&text[start..]);
            let (r, deferred) = read_chunks(&chunks);
            let handed_back = deferred.len() as u64;
            let mut summed: i128 = 0;
            let pieces: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
            for (k, &piece) in pieces.iter().enumerate() {
                let before_newline = k + 1 < pieces.len();
                let line = match piece.strip_suffix(b"\r") {
                    Some(stripped) if before_newline => stripped,
                    _ => piece,
                };
                if let Some((_, Num::Int(w))) = plain_line(line) {
                    summed += i128::from(w);
                }
                if let Some((len, w)) = fast_line(line) {
                    assert_eq!(plain_line(line), Some((&line[..len], Num::Int(w))));
                }
            }
            assert_eq!(r.items().map(|(_, w)| w).sum::<i128>(), summed);
            let lines =
                text.split(|&b| b == b'\n').count() as u64 - u64::from(text.ends_with(b"\n"));
            assert_eq!(r.lineno(), if text.is_empty() { 0 } else { lines });
            assert!(handed_back <= r.lineno());
        }
    }
}
