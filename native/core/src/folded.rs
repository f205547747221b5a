//! The plain case of folded text: `frame;frame;frame 42` lines, identical stacks summed.
//!
//! A line is plain when it is `STACK WEIGHT` with exactly one space before the weight, the weight
//! 1 to 18 ASCII digits (so it fits in an `i64`), no whitespace at the end of the stack, and a
//! stack whose last space-separated word does not look like a number (that would be the
//! two-column `before after` form), and no `#` (a comment) or whitespace first. Empty and whitespace-only
//! lines are skipped. Every other line (comments, decimals, negative or huge weights, other
//! separators, bad lines) is handed back to the caller, which reads it with the reference rules
//! and may `add` the result.
//!
//! Lines are numbered as the reference reader numbers them: one per `\n`-separated piece of the
//! input, `\r\n` read as `\n`.

use std::collections::HashMap;

use ahash::RandomState;
use memchr::memchr;
use rustc_hash::FxBuildHasher;

/// Longest weight read here: 18 digits always fit in an `i64`.
const MAX_DIGITS: usize = 18;

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
/// The table maps a stack's hash to its first entry (stacks sharing a hash are chained), so
/// growing it never hashes a stack again: stacks are often kilobytes long.
pub struct FoldedReader {
    /// (stack, summed weight) in order of first appearance
    entries: Vec<(Box<[u8]>, i128)>,
    /// next entry with the same hash (`NO_ENTRY` at the end of a chain)
    chained: Vec<u32>,
    /// each entry's hash (merging readers does not hash the stacks again)
    hashes: Vec<u64>,
    /// stack hash -> its first entry
    index: HashMap<u64, u32, FxBuildHasher>,
    hasher: RandomState,
    lineno: u64,
    /// false once a stack read from a line is not UTF-8
    utf8: bool,
    /// true once a stack read from a line may hold a call-site offset
    offsets: bool,
}

/// End of a chain of entries sharing a hash.
const NO_ENTRY: u32 = u32::MAX;

impl Default for FoldedReader {
    fn default() -> Self {
        FoldedReader {
            entries: Vec::new(),
            chained: Vec::new(),
            hashes: Vec::new(),
            index: HashMap::default(),
            // fixed seeds: the same hashes in every thread (the order of the stacks never
            // depends on them)
            hasher: RandomState::with_seeds(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344),
            lineno: 0,
            utf8: true,
            offsets: false,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// True when `word` might be read as a number by the reference reader (digits, sign, point,
/// exponent): such a stack is the two-column form, or close enough to leave to the reference.
fn numberish(word: &[u8]) -> bool {
    word.iter().any(u8::is_ascii_digit) && word.iter().all(|&b| is_number_char(b))
}

fn is_number_char(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
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

/// `(stack, weight)` of a plain line, None for anything else.
pub fn plain_line(line: &[u8]) -> Option<(&[u8], i64)> {
    // comments, and lines starting with whitespace (the reference reader strips it)
    if line.first().is_some_and(|&b| b == b'#' || is_space(b)) {
        return None;
    }
    let mut i = line.len();
    while i > 0 && line[i - 1].is_ascii_digit() {
        i -= 1;
    }
    let digits = &line[i..];
    if digits.is_empty() || digits.len() > MAX_DIGITS || i < 2 || line[i - 1] != b' ' {
        return None;
    }
    let stack = &line[..i - 1];
    if is_space(stack[stack.len() - 1]) {
        return None;
    }
    // the last word, when it is made of number characters only (scanning stops at the first
    // other byte, so a long stack is not read twice)
    let word = stack
        .iter()
        .rposition(|&b| !is_number_char(b))
        .filter(|&p| is_space(stack[p]))
        .map(|p| &stack[p + 1..]);
    if word.is_some_and(numberish) {
        return None;
    }
    let weight = digits
        .iter()
        .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
    Some((stack, weight))
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
    pub fn feed(&mut self, chunk: &[u8], mut pos: usize) -> Fed {
        while pos < chunk.len() {
            let (mut end, next) = match memchr(b'\n', &chunk[pos..]) {
                Some(n) => (pos + n, pos + n + 1),
                None => (chunk.len(), chunk.len()),
            };
            if next > end && end > pos && chunk[end - 1] == b'\r' {
                end -= 1;
            }
            self.lineno += 1;
            let line = &chunk[pos..end];
            if line.iter().all(|&b| is_space(b)) {
                pos = next;
                continue;
            }
            match plain_line(line) {
                Some((stack, weight)) => self.add(stack, weight),
                None => {
                    return Fed::Deferred {
                        start: pos,
                        end,
                        next,
                        lineno: self.lineno,
                    }
                }
            }
            pos = next;
        }
        Fed::Done
    }

    /// Read every line of `chunk`, collecting the lines handed back as (line number, line);
    /// false when that would make more than `max` of them in `deferred`.
    pub fn feed_all(
        &mut self,
        chunk: &[u8],
        deferred: &mut Vec<(u64, Vec<u8>)>,
        max: usize,
    ) -> bool {
        let mut pos = 0;
        while let Fed::Deferred {
            start,
            end,
            next,
            lineno,
        } = self.feed(chunk, pos)
        {
            if deferred.len() >= max {
                return false;
            }
            deferred.push((lineno, chunk[start..end].to_vec()));
            pos = next;
        }
        true
    }

    /// Add `weight` to `stack` (a line the reference reader read).
    pub fn add(&mut self, stack: &[u8], weight: i64) {
        let hash = self.hasher.hash_one(stack);
        if let Some(at) = self.find(hash, stack) {
            self.entries[at].1 += i128::from(weight);
        } else {
            self.utf8 = self.utf8 && std::str::from_utf8(stack).is_ok();
            self.offsets = self.offsets || may_hold_offsets(stack);
            self.push(hash, stack.into(), i128::from(weight));
        }
    }

    /// Add the stacks of `other` (a reader of later input) with their summed weights, in its
    /// order after this reader's own. Its `utf8` and `offsets` are left out: check them in it.
    pub fn merge(&mut self, other: FoldedReader) {
        if self.entries.is_empty() {
            *self = other;
            return;
        }
        for ((stack, weight), hash) in other.entries.into_iter().zip(other.hashes) {
            if let Some(at) = self.find(hash, &stack) {
                self.entries[at].1 += weight;
            } else {
                self.push(hash, stack, weight);
            }
        }
    }

    fn find(&self, hash: u64, stack: &[u8]) -> Option<usize> {
        let mut at = *self.index.get(&hash)?;
        while at != NO_ENTRY {
            if *self.entries[at as usize].0 == *stack {
                return Some(at as usize);
            }
            at = self.chained[at as usize];
        }
        None
    }

    fn push(&mut self, hash: u64, stack: Box<[u8]>, weight: i128) {
        let at = u32::try_from(self.entries.len()).unwrap_or(NO_ENTRY - 1);
        let first = self.index.entry(hash).or_insert(NO_ENTRY);
        self.chained.push(*first);
        *first = at;
        self.entries.push((stack, weight));
        self.hashes.push(hash);
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
        self.entries.iter().map(|(s, w)| (&s[..], *w))
    }

    /// The stacks and their summed weights, in order of first appearance, the reader consumed.
    pub fn into_items(self) -> Vec<(Box<[u8]>, i128)> {
        self.entries
    }

    /// Forget every stack (after handing them to the reference reader).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.chained.clear();
        self.hashes.clear();
        self.index.clear();
    }
}

#[cfg(test)]
mod tests {
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
            b"# c\na 1.5\nb 10 7\nc  3\nd -1\ne 1234567890123456789\nf\tg 2\nh x 1e3 4\nok 1";
        let (items, deferred) = read(text);
        assert_eq!(items, vec![(b"f\tg".to_vec(), 2), (b"ok".to_vec(), 1)]);
        let numbers: Vec<u64> = deferred.iter().map(|d| d.0).collect();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6, 8]);
        assert_eq!(deferred[0].1, b"# c");
    }

    #[test]
    fn only_the_last_carriage_return_before_a_newline_goes() {
        let (items, deferred) = read(b"a 1\r\r\nb 2\r");
        assert!(items.is_empty());
        assert_eq!(
            deferred,
            vec![(1, b"a 1\r".to_vec()), (2, b"b 2\r".to_vec())]
        );
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
        assert_eq!(plain_line(b"a;b 007"), Some((&b"a;b"[..], 7)));
        assert_eq!(plain_line(b"a b 1"), Some((&b"a b"[..], 1)));
        assert_eq!(plain_line(b"\xff\x00 1"), Some((&b"\xff\x00"[..], 1)));
        for bad in [
            &b"1"[..],
            b" 1",
            b"a 1 ",
            b"a +1",
            b"a 0x1",
            b"a 1.0",
            b"a 1.5 2",
            b"#a 1",
        ] {
            assert_eq!(plain_line(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(plain_line(b"a.1 2"), Some((&b"a.1"[..], 2)));
        assert_eq!(plain_line(b"  a 2"), None);
        assert_eq!(plain_line(b"\ta 2"), None);
        assert_eq!(plain_line(b"a; b 2"), Some((&b"a; b"[..], 2)));
        assert_eq!(
            plain_line(b"a 999999999999999999"),
            Some((&b"a"[..], 999_999_999_999_999_999))
        );
        assert_eq!(plain_line(b"a 1000000000000000000"), None);
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
                if let Some((_, w)) = plain_line(line) {
                    summed += i128::from(w);
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
