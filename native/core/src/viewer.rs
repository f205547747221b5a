//! The HTML viewer's call tree and its packed payload (`foldkit/render/viewer/tree.py` and
//! `payload.py` are the twins and the reference).
//!
//! The tree holds every distinct stack prefix once, in depth-first pre-order, siblings in frame
//! order (`layout::frame_cmp`): each side's stacks are sorted, the sides merged, and each stack
//! compared with the one before it; only the frames it does not share with it become new nodes.
//! A first walk counts the nodes, so every array and the name table are made at their final
//! size (no growth, no rehash; one profile of 16,384 to 65,535 stacks skips it: its arrays are
//! made at a size the walk cannot pass, see `bounds`); names are interned as they are met, each stored once in one
//! arena. Memory grows with the arrays only: per node a name id (u32) and a depth (u16 unless
//! a stack is 65,535 frames deep), per kept stack its leaf node and a weight per side, per name
//! its bytes and where they end (u32).
//!
//! The payload is the twin's byte layout (see `payload.py`), gzip-compressed and base64-encoded
//! as it is written to a sink in chunks: no uncompressed or whole copy is ever held. With a
//! palette the page knows, the page colours the names itself and the payload carries only the
//! fills of the names it cannot colour (given by the twin); otherwise every name's fill.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use memchr::memchr_iter;
use rustc_hash::FxBuildHasher;

use crate::layout::{frame_cmp, mismatch, sorted};
use crate::palette::{plain, Palette};

/// The payload's writer: the arrays and names, gzip-compressed in pieces on several threads,
/// base64-encoded as they are handed to the sink.
mod writer;

pub use writer::{name_codes, write};

/// Per node: 0 for the root, 1 for the outermost frames, ... as u16 until a depth passes
/// 65,535, then as u32.
#[derive(Debug, Clone, PartialEq)]
pub enum Depths {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Depths {
    /// True when some depth needs 32 bits.
    pub fn is_wide(&self) -> bool {
        matches!(self, Depths::Wide(_))
    }

    /// Only the first `len` depths kept.
    fn truncate(&mut self, len: usize) {
        match self {
            Depths::Narrow(v) => v.truncate(len),
            Depths::Wide(v) => v.truncate(len),
        }
    }

    /// Every depth as u32.
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            Depths::Narrow(v) => v.iter().map(|&d| u32::from(d)).collect(),
            Depths::Wide(v) => v.clone(),
        }
    }
}

/// The merged tree of one or more profiles' stacks.
pub struct ViewTree {
    /// The distinct names, each followed by `\n` (name 0 is the root's).
    pub names: Vec<u8>,
    /// Where each name's `\n` ends in `names` (name i starts where name i - 1 ends).
    name_ends: Vec<u32>,
    /// Per node: its name.
    pub name_ids: Vec<u32>,
    /// Per node: its depth.
    pub depths: Depths,
    /// Per kept stack, in tree order: the node it ends at (strictly increasing).
    pub leaves: Vec<u32>,
    /// Per side, per kept stack: its weight there (0 when absent or not positive there).
    pub weights: Vec<Vec<i64>>,
    /// Per side: what its weights are multiplied by where the payload shows them (1 unless
    /// `scale`d: a normalised BEFORE keeps its integers here and is scaled once per node).
    scales: Vec<f64>,
    /// Stacks left out because their weight was zero or negative on every side.
    pub nonpositive: usize,
    /// The ids of the names that are not printable ASCII, once looked for (`uncoloured`).
    plain_scan: OnceLock<Vec<u32>>,
    /// Whether every weight shown is an integer within u32, once looked at (`integral`).
    integral: OnceLock<bool>,
}

/// Bytes of names from which they are scanned on two threads (`ViewTree::uncoloured`).
const SCAN_IN_HALVES: usize = 1 << 22;

impl ViewTree {
    /// Nodes in the tree.
    pub fn len(&self) -> usize {
        self.name_ids.len()
    }

    /// True when the tree has no node (never: the root is always there).
    pub fn is_empty(&self) -> bool {
        self.name_ids.is_empty()
    }

    /// Distinct names.
    pub fn name_count(&self) -> usize {
        self.name_ends.len()
    }

    /// Sides (profiles) merged.
    pub fn sides(&self) -> usize {
        self.weights.len()
    }

    /// Where name `i` starts and where its `\n` ends in `names`.
    fn span(&self, i: usize) -> (usize, usize) {
        let start = if i == 0 {
            0
        } else {
            self.name_ends[i - 1] as usize
        };
        (start, self.name_ends[i] as usize)
    }

    /// Name `i` (without its `\n`).
    pub fn name(&self, i: usize) -> &[u8] {
        let (start, end) = self.span(i);
        &self.names[start..end - 1]
    }

    /// What `side`'s weights are multiplied by in the payload.
    pub fn scale_of(&self, side: usize) -> f64 {
        self.scales[side]
    }

    /// Multiply `side`'s weights by `factor` where the payload shows them (each node's weight
    /// as f64 times `factor`, as the twin scales a `{stack: int}` dict before building); the
    /// kept stacks stay those heavier than zero before scaling, so `factor` must be finite and
    /// above zero. False (and nothing changed) otherwise, or when there is no such side.
    pub fn scale(&mut self, side: usize, factor: f64) -> bool {
        if side >= self.sides() || !(factor.is_finite() && factor > 0.0) {
            return false;
        }
        self.scales[side] = factor;
        self.integral = OnceLock::new();
        true
    }

    /// Per node, the weight of the stacks that end exactly there on `side`, as the payload shows
    /// it: times the side's scale.
    pub fn shown_selfs(&self, side: usize) -> impl Iterator<Item = f64> + '_ {
        let factor = self.scales[side];
        self.selfs(side).map(move |w| w as f64 * factor)
    }

    /// True when every weight the payload shows is an integer below 2**32 (uint32 selfs):
    /// looked at once for the page's header and its writer (`scale` looks again).
    fn integral(&self) -> bool {
        *self.integral.get_or_init(|| self.integral_weights())
    }

    fn integral_weights(&self) -> bool {
        self.weights
            .iter()
            .zip(&self.scales)
            .all(|(side, &factor)| {
                if factor == 1.0 {
                    side.iter().all(|&w| w < 1 << 32)
                } else {
                    side.iter().all(|&w| {
                        let v = w as f64 * factor;
                        v.fract() == 0.0 && v < 4_294_967_296.0
                    })
                }
            })
    }

    /// The ids of the names `palette` does not colour, in order: every name without a palette;
    /// with one, the names holding a byte that is not printable ASCII (`palette::plain`, what
    /// `Palette::colours` takes, whichever the palette), found once per tree (the page's
    /// header and its writer ask again: `plain_scan`).
    pub fn uncoloured(&self, palette: Option<&Palette>) -> Cow<'_, [u32]> {
        match palette {
            None => Cow::Owned((0..self.name_count() as u32).collect()),
            Some(_) => Cow::Borrowed(
                self.plain_scan
                    .get_or_init(|| self.scan_names(SCAN_IN_HALVES)),
            ),
        }
    }

    /// The ids of the names that are not printable ASCII, found in one pass over the names'
    /// arena, a block at a time (on two threads from `in_halves_from` bytes on: each scans half
    /// the arena, cut where a name ends); name by name when a name holds a line end itself.
    fn scan_names(&self, in_halves_from: usize) -> Vec<u32> {
        let bytes = &self.names;
        let threads = if bytes.len() >= in_halves_from {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
        } else {
            1
        };
        // the second half starts past the `\n` that ends a name
        let cut = (threads == 2)
            .then(|| memchr::memchr(b'\n', &bytes[bytes.len() / 2..]))
            .flatten()
            .map(|at| bytes.len() / 2 + at + 1);
        let (found, line_ends) = match cut {
            Some(cut) => {
                let ((mut first, a), (rest, b)) = std::thread::scope(|scope| {
                    let later = scope.spawn(|| self.scan_range(cut..bytes.len()));
                    let first = self.scan_range(0..cut);
                    (
                        first,
                        later
                            .join()
                            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    )
                });
                first.extend(rest);
                (first, a + b)
            }
            None => self.scan_range(0..bytes.len()),
        };
        if line_ends == self.name_count() {
            return found;
        }
        // a name holds a line end itself: name by name
        (0..self.name_count() as u32)
            .filter(|&i| !plain(self.name(i as usize)))
            .collect()
    }

    /// The ids of the names in `range` of the arena (whole names) holding a byte that is not
    /// printable ASCII (besides their `\n`), and the line ends there.
    fn scan_range(&self, range: std::ops::Range<usize>) -> (Vec<u32>, usize) {
        const BLOCK: usize = 64;
        let odd = |b: u8| b.wrapping_sub(0x20) >= 0x5f && b != b'\n';
        let mut out: Vec<u32> = Vec::new();
        let mut find = |from: usize, bytes: &[u8]| {
            for (at, &b) in bytes.iter().enumerate() {
                if !odd(b) {
                    continue;
                }
                // the name whose bytes hold this one: the first that ends after it
                let at = (from + at) as u32;
                let id = self.name_ends.partition_point(|&end| end <= at) as u32;
                if out.last() != Some(&id) {
                    out.push(id);
                }
            }
        };
        let mut line_ends = 0;
        let base = range.start;
        let names = &self.names[range];
        let blocks = names.chunks_exact(BLOCK);
        let tail = blocks.remainder();
        for (k, block) in blocks.enumerate() {
            // a whole block tested without an early exit, so that the test is vectorised
            let (any, ends) = block.iter().fold((0u8, 0u8), |(any, ends), &b| {
                (any | u8::from(odd(b)), ends + u8::from(b == b'\n'))
            });
            line_ends += usize::from(ends);
            if any != 0 {
                find(base + k * BLOCK, block);
            }
        }
        line_ends += tail.iter().filter(|&&b| b == b'\n').count();
        find(base + names.len() - tail.len(), tail);
        (out, line_ends)
    }

    /// Per node, the weight of the stacks that end exactly there on `side` (unscaled).
    pub fn selfs(&self, side: usize) -> impl Iterator<Item = i64> + '_ {
        let (leaves, weights) = (&self.leaves, &self.weights[side]);
        let mut next = 0;
        (0..self.len()).map(move |node| {
            if leaves.get(next).is_some_and(|&leaf| leaf as usize == node) {
                next += 1;
                weights[next - 1]
            } else {
                0
            }
        })
    }
}

/// Why a tree cannot be built natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    /// The distinct names take more than 4 GiB.
    Names,
    /// More than 4,294,967,295 nodes.
    Nodes,
}

/// Frames interned at a time: their slots are loaded together first, so that the table's cache
/// misses overlap instead of coming one after the other.
const BATCH: usize = 64;

/// A part's distinct names, each followed by `\n`, in one arena, and where each ends.
#[derive(Default)]
struct Names {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Names {
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Name `i` (without its `\n`).
    fn name(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize - 1]
    }

    /// Add `name`; its id.
    #[inline]
    fn push(&mut self, name: &[u8]) -> Result<u32, TooLarge> {
        let id = self.len() as u32;
        let end = u32::try_from(self.bytes.len() + name.len() + 1).map_err(|_| TooLarge::Names)?;
        self.bytes.extend_from_slice(name);
        self.bytes.push(b'\n');
        self.ends.push(end);
        Ok(id)
    }
}

/// Names to ids as they are met: an open-addressing table (linear probing) of u32 slots, each
/// a name's id + 1 in its low bits (0: empty) and as many bits of the name's hash as are left
/// above them, the names in their arena (`Names`). It starts at a sixteenth of the size that
/// would hold a name per node and grows fourfold (every name placed again, in the order of the
/// old table's slots: see `reserve`) before a batch of names could make it more than
/// two-thirds full: a profile has far fewer
/// names than nodes (1 M generated stacks: 3.3 M nodes, 10,004 names), and a table sized for
/// every node is mostly empty pages and cache misses, while one that starts at a fixed small
/// size is placed again too often where names are many (the 45 MB profile: 406,000 names of
/// 1.2 M nodes). A name's bytes are compared only when those hash bits match.
struct Interner {
    slots: Vec<u32>,
    mask: usize,
    /// Bits of a slot that hold the id + 1 (the rest hold hash bits).
    id_bits: u32,
    /// Per name id: the low 32 bits of its hash (where its probe starts in a table of up to
    /// 2**32 slots), so that growing places the names again without hashing them; kept only by
    /// an interner made without an estimate of the names (one made from it seldom grows, and
    /// 4 bytes a name are 80 MB at 10 M distinct stacks).
    homes: Vec<u32>,
    keep_homes: bool,
}

/// Slots an interner starts with at least.
const FIRST_SLOTS: usize = 1 << 12;

impl Interner {
    /// An interner for a part of `nodes` nodes, of about `names` distinct names when that is
    /// known (`Distinct`): then made at once at the size that holds them (and a margin for the
    /// estimate's error) at most two-thirds full.
    fn new(nodes: usize, names: Option<usize>) -> Self {
        let whole = (nodes + nodes / 2).max(1).next_power_of_two();
        let first = match names {
            Some(names) => ((names + names / 20) * 3 / 2 + 1)
                .next_power_of_two()
                .min(whole),
            None => whole / 16,
        };
        let mut interner = Self::with_slots(first.max(FIRST_SLOTS));
        interner.keep_homes = names.is_none();
        interner
    }

    fn with_slots(size: usize) -> Self {
        Interner {
            slots: crate::written_zeros(size),
            mask: size - 1,
            id_bits: size.trailing_zeros().min(32),
            homes: Vec::new(),
            keep_homes: true,
        }
    }

    /// Room for `count` names in all without passing two-thirds full: the table made four
    /// times larger (and `names` placed again) as often as needed.
    fn reserve(&mut self, count: usize, names: &Names) {
        let mut size = self.slots.len();
        while count > size / 3 * 2 {
            size *= 4;
        }
        if size == self.slots.len() {
            return;
        }
        let mut grown = Interner::with_slots(size);
        grown.keep_homes = self.keep_homes;
        grown.homes = std::mem::take(&mut self.homes);
        if grown.keep_homes {
            grown
                .homes
                .reserve((size / 3 * 2).saturating_sub(names.len()));
        }
        if size as u64 > 1 << 32 || grown.homes.len() != names.len() {
            // past what the homes hold: every name hashed again
            for id in 0..names.len() {
                let (at, tag) = grown.hash(names.name(id));
                grown.place(at & grown.mask, tag, id as u32);
            }
        } else {
            // the old slots in order: each name's new home is its old one plus a multiple of
            // the old size, so the new table is written in a few runs, not at random (the
            // tag's bits are those of the old tag that are above the wider ids)
            let (id_mask, shift) = (self.id_mask(), grown.id_bits - self.id_bits);
            for &slot in &self.slots {
                if slot == 0 {
                    continue;
                }
                let id = (slot & id_mask) - 1;
                let tag = slot
                    .checked_shr(self.id_bits)
                    .unwrap_or(0)
                    .checked_shr(shift)
                    .unwrap_or(0);
                let at = grown.homes[id as usize] as usize & grown.mask;
                grown.place(at, tag, id);
            }
        }
        *self = grown;
    }

    /// Put the name `id` whose hash kept `tag` in the first empty slot from `at` on.
    #[inline]
    fn place(&mut self, mut at: usize, tag: u32, id: u32) {
        while self.slots[at] != 0 {
            at = (at + 1) & self.mask;
        }
        self.slots[at] = self.slot(tag, id);
    }

    /// The slot of the name `id` whose hash kept `tag` (ids fit below `id_bits`: the table
    /// is never more than two-thirds full).
    #[inline]
    fn slot(&self, tag: u32, id: u32) -> u32 {
        tag.checked_shl(self.id_bits).unwrap_or(0) | (id + 1)
    }

    /// The bits of a slot that hold its name's id + 1.
    #[inline]
    fn id_mask(&self) -> u32 {
        u32::MAX.checked_shr(32 - self.id_bits).unwrap_or(0)
    }

    /// The name's hash: where its probe starts (in a table of any size up to 2**32 slots:
    /// masked where it is used), and the bits kept in its slot (from the hash's other half).
    #[inline]
    fn hash(&self, name: &[u8]) -> (usize, u32) {
        self.split(name_hash(name))
    }

    /// `hash`, from the name's `name_hash`.
    #[inline]
    fn split(&self, hash: u64) -> (usize, u32) {
        let tag = ((hash >> 32) as u32).checked_shr(self.id_bits).unwrap_or(0);
        let home = if self.mask > u32::MAX as usize {
            hash as usize
        } else {
            hash as u32 as usize
        };
        (home, tag)
    }

    /// Where `name` is: `Ok(its id)`, or `Err(the empty slot where it would go)`.
    #[inline]
    fn probe(&self, name: &[u8], (home, tag): (usize, u32), names: &Names) -> Result<u32, usize> {
        let id_mask = self.id_mask();
        let mut at = home & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Err(at);
            }
            if slot.checked_shr(self.id_bits).unwrap_or(0) == tag {
                let id = (slot & id_mask) - 1;
                if names.name(id as usize) == name {
                    return Ok(id);
                }
            }
            at = (at + 1) & self.mask;
        }
    }

    #[inline]
    fn id(&mut self, name: &[u8], hash: (usize, u32), names: &mut Names) -> Result<u32, TooLarge> {
        // a name met for the first time mostly finds its first slot empty: no probe
        let home = hash.0 & self.mask;
        let at = if self.slots[home] == 0 {
            home
        } else {
            match self.probe(name, hash, names) {
                Ok(id) => return Ok(id),
                Err(at) => at,
            }
        };
        let id = names.push(name)?;
        self.slots[at] = self.slot(hash.1, id);
        if self.keep_homes {
            self.homes.push(hash.0 as u32);
        }
        Ok(id)
    }

    /// The hashes of `names` (at most `BATCH`), their slots and the names those slots hold
    /// loaded first: each stage's loads one after the other, with nothing between them, so that
    /// their cache misses overlap (a load with work between it and the next holds the next back).
    fn hashes(&self, hashed: &[(&[u8], u64)], table: &Names) -> [(usize, u32); BATCH] {
        let mut hashes = [(0usize, 0u32); BATCH];
        let mut n = 0;
        for (hash, &(_, full)) in hashes.iter_mut().zip(hashed) {
            *hash = self.split(full);
            n += 1;
        }
        let id_mask = self.id_mask();
        let mut ends = [0usize; BATCH];
        let mut seen = 0u32;
        for (end, &(home, tag)) in ends.iter_mut().zip(&hashes[..n]) {
            let slot = self.slots[home & self.mask];
            seen ^= slot;
            if slot != 0 && slot.checked_shr(self.id_bits).unwrap_or(0) == tag {
                *end = (slot & id_mask) as usize;
            }
        }
        for end in &mut ends[..n] {
            let id = *end;
            *end = if id == 0 {
                0
            } else {
                table.ends.get(id - 1).map_or(0, |&e| e as usize)
            };
            seen ^= *end as u32;
        }
        for &end in &ends[..n] {
            seen ^= u32::from(table.bytes.get(end.saturating_sub(1)).copied().unwrap_or(0));
        }
        std::hint::black_box(seen);
        hashes
    }

    /// The ids of `pending` (at most `BATCH` names), in order, written to `ids`.
    fn intern_all(
        &mut self,
        pending: &[&[u8]],
        names: &mut Names,
        ids: &mut [u32],
    ) -> Result<(), TooLarge> {
        let mut hashed: [(&[u8], u64); BATCH] = [(&[], 0); BATCH];
        for (slot, &name) in hashed.iter_mut().zip(pending) {
            *slot = (name, name_hash(name));
        }
        self.intern_hashed(&hashed[..pending.len().min(BATCH)], names, ids)
    }

    /// The ids of `pending` (at most `BATCH` names, each with its `name_hash`, taken where the
    /// name was found: the piped walk's thread, otherwise idle), in order, written to `ids`.
    fn intern_hashed(
        &mut self,
        pending: &[(&[u8], u64)],
        names: &mut Names,
        ids: &mut [u32],
    ) -> Result<(), TooLarge> {
        // each may be new: room for all before any hash is split (a split holds the table's size)
        self.reserve(names.len() + pending.len(), names);
        let hashes = self.hashes(pending, names);
        for ((&(name, _), &hash), out) in pending.iter().zip(&hashes).zip(ids) {
            *out = self.id(name, hash, names)?;
        }
        Ok(())
    }
}

/// A name's hash, as the interner takes it (`Interner::split`).
#[inline]
fn name_hash(name: &[u8]) -> u64 {
    FxBuildHasher.hash_one(name)
}

/// The sides' sorted stacks walked together in frame order.
struct Merged<'s, 'a> {
    ordered: &'s [&'s [(&'a [u8], i64)]],
    heads: Vec<usize>,
}

impl<'a> Merged<'_, 'a> {
    /// The next stack, its weight on each side put in `weights` (None: not on that side).
    fn next(&mut self, weights: &mut [Option<i64>]) -> Option<&'a [u8]> {
        let mut least: Option<&[u8]> = None;
        for (side, stacks) in self.ordered.iter().enumerate() {
            if let Some(&(stack, _)) = stacks.get(self.heads[side]) {
                if least.is_none_or(|l| frame_cmp(stack, l).is_lt()) {
                    least = Some(stack);
                }
            }
        }
        let stack = least?;
        for (side, stacks) in self.ordered.iter().enumerate() {
            weights[side] = match stacks.get(self.heads[side]) {
                Some(&(s, w)) if s == stack => {
                    self.heads[side] += 1;
                    Some(w)
                }
                _ => None,
            };
        }
        Some(stack)
    }
}

/// Where the first frame of `stack` that it does not share with `prev` starts (past its end
/// when it has none; 0 when either is empty, the empty stack having no frame).
#[inline]
fn first_new(prev: &[u8], stack: &[u8]) -> usize {
    if prev.is_empty() || stack.is_empty() {
        return 0;
    }
    let m = mismatch(prev, stack);
    let boundary = |s: &[u8]| m == s.len() || s[m] == b';';
    if boundary(prev) && boundary(stack) {
        m + 1
    } else {
        prev[..m]
            .iter()
            .rposition(|&c| c == b';')
            .map_or(0, |p| p + 1)
    }
}

/// Calls `kept(stack, where its first frame not shared with the previous kept stack starts,
/// its weights)` for each stack heavier than zero on some side, in tree order, `prev` the kept
/// stack before the first (None: the first is the first of the tree); returns the stacks left
/// out. One side is walked as it is (no merge), two by `walk_two`.
#[inline]
fn walk<'a, E>(
    ordered: &[&[(&'a [u8], i64)]],
    prev: Option<&'a [u8]>,
    mut kept: impl FnMut(&'a [u8], usize, &[Option<i64>]) -> Result<(), E>,
) -> Result<usize, E> {
    let mut walked = Walked {
        prev,
        nonpositive: 0,
    };
    match ordered {
        [side] => {
            for &(stack, w) in side.iter() {
                walked.offer(stack, &[Some(w)], &mut kept)?;
            }
        }
        [a, b] => walk_two(a, b, &mut walked, &mut kept)?,
        _ => {
            let mut merged = Merged {
                ordered,
                heads: vec![0; ordered.len()],
            };
            let mut weights: Vec<Option<i64>> = vec![None; ordered.len()];
            while let Some(stack) = merged.next(&mut weights) {
                walked.offer(stack, &weights, &mut kept)?;
            }
        }
    }
    Ok(walked.nonpositive)
}

/// Where a `walk` is: the last stack kept, and the stacks left out so far.
struct Walked<'a> {
    prev: Option<&'a [u8]>,
    nonpositive: usize,
}

impl<'a> Walked<'a> {
    /// The next stack in tree order with its weights: passed to `kept` with where its new
    /// frames begin when it is heavier than zero on some side, else counted as left out.
    #[inline]
    fn offer<E>(
        &mut self,
        stack: &'a [u8],
        weights: &[Option<i64>],
        kept: &mut impl FnMut(&'a [u8], usize, &[Option<i64>]) -> Result<(), E>,
    ) -> Result<(), E> {
        if !weights.iter().any(|w| w.is_some_and(|w| w > 0)) {
            self.nonpositive += 1;
            return Ok(());
        }
        let begin = self.prev.map_or(0, |p| first_new(p, stack));
        kept(stack, begin, weights)?;
        self.prev = Some(stack);
        Ok(())
    }
}

/// How many of `stacks` (in frame order) come before `stack`, found by galloping from the
/// start (1, 3, 7, ... then a binary search within the last step): a run of `n` costs about
/// 2 log2(n) comparisons, one stack about two.
#[inline]
fn run_before(stacks: &[(&[u8], i64)], stack: &[u8]) -> usize {
    let before = |i: usize| frame_cmp(stacks[i].0, stack).is_lt();
    let (mut lo, mut step) = (0usize, 1usize);
    // every index below `lo` is before `stack`
    while lo < stacks.len() && before(lo) {
        lo += 1;
        let probe = lo + step - 1;
        if probe >= stacks.len() || !before(probe) {
            let hi = probe.min(stacks.len());
            return lo + stacks[lo..hi].partition_point(|(s, _)| frame_cmp(s, stack).is_lt());
        }
        lo = probe + 1;
        step *= 2;
    }
    lo
}

/// `walk` of two sides (a diff's): the union in frame order, a run of stacks on one side only
/// (all of them, when the other side is small) passed on without comparing each with the
/// other side's next stack.
#[inline]
fn walk_two<'a, E>(
    a: &[(&'a [u8], i64)],
    b: &[(&'a [u8], i64)],
    walked: &mut Walked<'a>,
    kept: &mut impl FnMut(&'a [u8], usize, &[Option<i64>]) -> Result<(), E>,
) -> Result<(), E> {
    let mut each =
        |stack: &'a [u8], weights: [Option<i64>; 2]| walked.offer(stack, &weights, &mut *kept);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let (run_a, run_b) = match (a.get(i), b.get(j)) {
            (Some(&(s, w)), Some(&(t, v))) => match frame_cmp(s, t) {
                std::cmp::Ordering::Equal => {
                    each(s, [Some(w), Some(v)])?;
                    (i, j) = (i + 1, j + 1);
                    continue;
                }
                std::cmp::Ordering::Less => (1 + run_before(&a[i + 1..], t), 0),
                std::cmp::Ordering::Greater => (0, 1 + run_before(&b[j + 1..], s)),
            },
            (Some(_), None) => (a.len() - i, 0),
            (None, _) => (0, b.len() - j),
        };
        for &(s, w) in &a[i..i + run_a] {
            each(s, [Some(w), None])?;
        }
        for &(t, v) in &b[j..j + run_b] {
            each(t, [None, Some(v)])?;
        }
        (i, j) = (i + run_a, j + run_b);
    }
    Ok(())
}

/// The last stack of `ordered` (sorted sides) heavier than zero on some side it is on.
fn last_kept<'a>(ordered: &[&[(&'a [u8], i64)]]) -> Option<&'a [u8]> {
    let mut ends: Vec<usize> = ordered.iter().map(|side| side.len()).collect();
    loop {
        let mut greatest: Option<&[u8]> = None;
        for (side, &end) in ordered.iter().zip(&ends) {
            if let Some(&(stack, _)) = end.checked_sub(1).and_then(|i| side.get(i)) {
                if greatest.is_none_or(|g| frame_cmp(stack, g).is_gt()) {
                    greatest = Some(stack);
                }
            }
        }
        let stack = greatest?;
        let mut heavy = false;
        for (side, end) in ordered.iter().zip(ends.iter_mut()) {
            if let Some(&(s, w)) = end.checked_sub(1).and_then(|i| side.get(i)) {
                if s == stack {
                    heavy |= w > 0;
                    *end -= 1;
                }
            }
        }
        if heavy {
            return Some(stack);
        }
    }
}

/// Bytes below which `;` are counted or found one byte at a time: `memchr`'s set-up pays from
/// about 64 on.
const SHORT: usize = 64;

/// The `;` of `bytes`.
#[inline]
fn semicolons(bytes: &[u8]) -> usize {
    if bytes.len() < SHORT {
        let words = bytes.chunks_exact(8);
        let rest = words.remainder();
        let whole: u32 = words
            .map(|word| {
                semicolon_bits(u64::from_le_bytes(
                    <[u8; 8]>::try_from(word).unwrap_or_default(),
                ))
                .count_ones()
            })
            .sum();
        whole as usize + rest.iter().filter(|&&b| b == b';').count()
    } else {
        memchr::memchr_iter(b';', bytes).count()
    }
}

/// The high bit of each byte of `word` that is `;`, and no other bit (exact: no carry crosses
/// from one byte to the next).
#[inline]
fn semicolon_bits(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ 0x3b3b_3b3b_3b3b_3b3b;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Calls `found(where)` for each `;` of `bytes` in order, eight bytes at a time (a short tail,
/// where `memchr`'s set-up costs more than it saves).
#[inline]
fn each_semicolon<E>(bytes: &[u8], mut found: impl FnMut(usize) -> Result<(), E>) -> Result<(), E> {
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    for (k, word) in words.enumerate() {
        let mut hits = semicolon_bits(u64::from_le_bytes(
            <[u8; 8]>::try_from(word).unwrap_or_default(),
        ));
        while hits != 0 {
            found(k * 8 + (hits.trailing_zeros() / 8) as usize)?;
            hits &= hits - 1;
        }
    }
    let base = bytes.len() - rest.len();
    for (at, &b) in rest.iter().enumerate() {
        if b == b';' {
            found(base + at)?;
        }
    }
    Ok(())
}

/// The frames of `stack` from `begin` on that become new nodes.
#[inline]
fn new_frames(stack: &[u8], begin: usize) -> usize {
    if stack.is_empty() || begin > stack.len() {
        0
    } else {
        1 + semicolons(&stack[begin..])
    }
}

/// Bytes of a stack below which it cannot hold 65,536 frames (each frame but the last takes at
/// least its `;`): only longer ones are counted to find a depth past u16.
const DEEP_BYTES: usize = 1 << 16;

/// What the first walk over a part's stacks finds: its new nodes and kept stacks, and whether a
/// stack is deeper than u16 holds.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    nodes: usize,
    kept: usize,
    deep: bool,
    /// Bytes the new nodes' names take in the names' arena (each with its `\n`), at most.
    bytes: usize,
}

impl Count {
    /// What two parts' walks found together.
    fn and(self, other: Count) -> Count {
        Count {
            nodes: self.nodes + other.nodes,
            kept: self.kept + other.kept,
            deep: self.deep || other.deep,
            bytes: self.bytes + other.bytes,
        }
    }
}

/// The first walk over a part's kept stacks (`before` the kept stack before them); the root's
/// node not counted. With `names`, each new node's name is offered to it.
fn count(
    ordered: &[&[(&[u8], i64)]],
    before: Option<&[u8]>,
    mut names: Option<&mut Distinct>,
) -> Count {
    let mut out = Count::default();
    let _ = walk::<()>(ordered, before, |stack, begin, _| {
        let frames = new_frames(stack, begin);
        out.nodes += frames;
        if frames > 0 {
            out.bytes += stack.len() + 1 - begin;
            if let Some(names) = names.as_deref_mut() {
                stack[begin..]
                    .split(|&b| b == b';')
                    .for_each(|name| names.offer(name));
            }
        }
        out.kept += 1;
        if stack.len() >= DEEP_BYTES && !out.deep {
            out.deep = 1 + memchr_iter(b';', stack).count() > usize::from(u16::MAX);
        }
        Ok(())
    });
    out
}

/// What `count` finds of one side's stacks, without walking them: every frame of every kept
/// stack taken for a new node (the nodes the walk makes are at most so many, the names' bytes at
/// most those of the stacks); the kept stacks and whether one is deeper than u16 holds, exact.
fn bounds(side: &[(&[u8], i64)]) -> Count {
    let mut out = Count::default();
    for &(stack, _) in side.iter().filter(|&&(_, w)| w > 0) {
        let frames = new_frames(stack, 0);
        out.nodes += frames;
        out.bytes += stack.len() + 1;
        out.kept += 1;
        out.deep = out.deep || frames > usize::from(u16::MAX);
    }
    out
}

/// Registers of a `Distinct` sketch, as a power of two.
const SKETCH_BITS: u32 = 12;

/// About how many distinct names were offered (a HyperLogLog sketch: within a few percent,
/// in 4 KiB), so that the interner is made at its final size at once instead of growing
/// (each growth places every name again, in a table of fresh pages).
struct Distinct {
    registers: Vec<u8>,
}

impl Distinct {
    fn new() -> Self {
        Distinct {
            registers: vec![0; 1 << SKETCH_BITS],
        }
    }

    /// Offer a name.
    #[inline]
    fn offer(&mut self, name: &[u8]) {
        // the Fx hash's bits mixed (murmur3's finaliser), so that its top bits are uniform
        let mut h = FxBuildHasher.hash_one(name);
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        let register = (h >> (64 - SKETCH_BITS)) as usize;
        // the rank of the first bit set among the others (a sentinel bit ends the run)
        let rank = ((h << SKETCH_BITS) | (1 << (SKETCH_BITS - 1))).leading_zeros() + 1;
        let held = &mut self.registers[register];
        *held = (*held).max(rank as u8);
    }

    /// The names offered to this sketch or `other`.
    fn union(&self, other: &Distinct) -> Distinct {
        let registers = (self.registers.iter().zip(&other.registers))
            .map(|(&a, &b)| a.max(b))
            .collect();
        Distinct { registers }
    }

    /// About how many distinct names were offered.
    fn estimate(&self) -> usize {
        let m = self.registers.len() as f64;
        let sum: f64 = self.registers.iter().map(|&r| (-f64::from(r)).exp2()).sum();
        let raw = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
        let empty = self.registers.iter().filter(|&&r| r == 0).count();
        let estimate = if raw <= 2.5 * m && empty > 0 {
            m * (m / empty as f64).ln() // few names: linear counting
        } else {
            raw
        };
        estimate.round() as usize
    }
}

/// Per node its depth, in a part's share of the tree's depths.
enum DepthsMut<'t> {
    Narrow(&'t mut [u16]),
    Wide(&'t mut [u32]),
}

impl DepthsMut<'_> {
    #[inline]
    fn set(&mut self, node: usize, depth: usize) {
        match self {
            // a narrow tree's depths fit (`count`)
            DepthsMut::Narrow(d) => d[node] = depth as u16,
            DepthsMut::Wide(d) => d[node] = depth as u32,
        }
    }
}

/// The tree's arrays as the walk writes them.
struct Share<'t> {
    name_ids: &'t mut [u32],
    depths: DepthsMut<'t>,
    leaves: &'t mut [u32],
    weights: Vec<&'t mut [i64]>,
}

/// The tree's arrays made at their final size (`nodes` nodes, `kept` kept stacks, `sides`
/// sides), zeroed (memory is only taken as they are written).
fn arrays(
    nodes: usize,
    kept: usize,
    sides: usize,
    deep: bool,
) -> (Vec<u32>, Depths, Vec<u32>, Vec<Vec<i64>>) {
    let depths = if deep {
        Depths::Wide(vec![0; nodes])
    } else {
        Depths::Narrow(vec![0; nodes])
    };
    // zeroed memory, left untouched where a side has no weight (`part`)
    let weights = (0..sides).map(|_| vec![0; kept]).collect();
    (vec![0; nodes], depths, vec![0; kept], weights)
}

/// The arrays as the walk writes them.
fn share<'t>(
    name_ids: &'t mut [u32],
    depths: &'t mut Depths,
    leaves: &'t mut [u32],
    weights: &'t mut [Vec<i64>],
) -> Share<'t> {
    Share {
        name_ids,
        depths: match depths {
            Depths::Narrow(d) => DepthsMut::Narrow(d),
            Depths::Wide(d) => DepthsMut::Wide(d),
        },
        leaves,
        weights: weights.iter_mut().map(Vec::as_mut_slice).collect(),
    }
}

/// The merged tree of `sides` (each side's stacks distinct), the root called `root`. A stack is
/// left out (and counted) when its weight is zero or negative on every side it is on. With many
/// stacks (`PIPED_FROM`), the stacks are counted in two halves at once and the names interned on
/// a thread of their own while the stacks are walked.
pub fn build(sides: Vec<Vec<(&[u8], i64)>>, root: &[u8]) -> Result<ViewTree, TooLarge> {
    build_with(sides, root, PIPED_FROM)
}

/// Both of `a` and `b` at once, on two threads.
fn both<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let later = scope.spawn(b);
        let a = a();
        let b = later
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// Stacks from which the tree's stacks are counted in two halves at once, and its names interned
/// on a thread of their own while the stacks are walked. (Building the two halves' trees at once
/// and joining them, as was done from 8,192 stacks up to 2,000,000, took more CPU and more time:
/// at 1 M distinct stacks the build took 0.26 CPU-s to this 0.19, on the 45 MB profile 0.11 to
/// 0.09-0.11. From 16,384 stacks on, not 65,536: the 45 MB profile's 43,667 stacks, 1.16 M
/// nodes and 406,000 names, took 0.078-0.082 s to build piped, 0.092-0.094 s on one thread.)
const PIPED_FROM: usize = 1 << 14;

/// Stacks from which the two halves' counts also estimate the distinct names (`Distinct`), so
/// that the interner is made at its final size: below, hashing every node's name once more
/// costs more than growing the table (the 45 MB profile: the piped build took 0.080-0.084 s
/// without the estimate, 0.095-0.107 s with it).
const SKETCHED_FROM: usize = 1 << 16;

/// Where the stacks of sorted sides are cut in two: at the half of the largest side's bytes,
/// every side cut where its stacks reach that stack. None when there is no such stack.
fn cut_of<'a>(all: &[&[(&'a [u8], i64)]]) -> Option<&'a [u8]> {
    let side = all.iter().max_by_key(|side| side.len())?;
    let total: usize = side.iter().map(|(s, _)| s.len()).sum();
    let mut seen = 0;
    let at = side.iter().position(|(s, _)| {
        seen += s.len();
        seen >= total / 2
    })?;
    side.get(at.max(1)).map(|&(s, _)| s)
}

/// `build`, from `piped_from` stacks on counted in two halves at once (the distinct names
/// estimated as they are) and its names interned on a thread of their own; the arrays made once
/// at the tree's size.
fn build_with(
    sides: Vec<Vec<(&[u8], i64)>>,
    root: &[u8],
    piped_from: usize,
) -> Result<ViewTree, TooLarge> {
    let ordered: Vec<Vec<(&[u8], i64)>> = sides.into_iter().map(sorted).collect();
    let all: Vec<&[(&[u8], i64)]> = ordered.iter().map(Vec::as_slice).collect();
    let stacks: usize = all.iter().map(|side| side.len()).sum();
    let cut = (stacks >= piped_from.max(2))
        .then(|| cut_of(&all))
        .flatten();
    let (counted, plan) = match cut {
        None => (count(&all, None, None), Plan::default()),
        Some(cut) => {
            let ats: Vec<usize> = all
                .iter()
                .map(|side| side.partition_point(|(s, _)| frame_cmp(s, cut).is_lt()))
                .collect();
            let first: Vec<&[(&[u8], i64)]> = all
                .iter()
                .zip(&ats)
                .map(|(side, &at)| &side[..at])
                .collect();
            let second: Vec<&[(&[u8], i64)]> = all
                .iter()
                .zip(&ats)
                .map(|(side, &at)| &side[at..])
                .collect();
            let sketched = stacks >= SKETCHED_FROM;
            if !sketched && all.len() == 1 {
                // no estimate of the names to make: the arrays made at a size the walk cannot
                // pass instead of counted first (memory is only taken as it is written)
                let (a, b) = both(|| bounds(first[0]), || bounds(second[0]));
                let plan = Plan {
                    names: None,
                    piped: true,
                    nodes: Some((a.kept + b.kept).saturating_mul(NEW_PER_STACK)),
                };
                if u32::try_from(1 + a.nodes + b.nodes).is_ok() {
                    return build_planned(all, root, a.and(b), plan);
                } // else counted: the nodes made may still be few enough
            }
            let before = last_kept(&first);
            let counted = |stacks: &[&[(&[u8], i64)]], before| {
                let mut names = Distinct::new();
                (count(stacks, before, sketched.then_some(&mut names)), names)
            };
            let ((a, names_a), (b, names_b)) =
                both(|| counted(&first, None), || counted(&second, before));
            let plan = Plan {
                names: sketched.then(|| names_a.union(&names_b).estimate()),
                piped: true,
                nodes: None,
            };
            (a.and(b), plan)
        }
    };
    build_planned(all, root, counted, plan)
}

/// `build_with` once `counted` says how large the tree's arrays are made (the nodes made: at
/// most so many) and `plan` how it is built.
fn build_planned(
    all: Vec<&[(&[u8], i64)]>,
    root: &[u8],
    counted: Count,
    plan: Plan,
) -> Result<ViewTree, TooLarge> {
    let nodes = 1 + counted.nodes;
    if u32::try_from(nodes).is_err() {
        return Err(TooLarge::Nodes);
    }
    let sides = all.len();
    let (mut name_ids, mut depths, mut leaves, mut weights) =
        arrays(nodes, counted.kept, sides, counted.deep);
    let share = share(&mut name_ids, &mut depths, &mut leaves, &mut weights);
    let (names, nonpositive, made) = part(&all, root, share, counted, plan)?;
    name_ids.truncate(made);
    depths.truncate(made);
    let Names {
        bytes: mut names,
        ends: mut name_ends,
    } = names;
    names.shrink_to_fit();
    name_ends.shrink_to_fit();
    Ok(ViewTree {
        names,
        name_ends,
        name_ids,
        depths,
        leaves,
        scales: vec![1.0; sides],
        weights,
        nonpositive,
        plain_scan: OnceLock::new(),
        integral: OnceLock::new(),
    })
}

/// The nodes the kept stacks of `ordered` make, written to `share` (the root, called `root`, is
/// node 0, name 0): the names and the stacks left out. `counted` is what `count` found of these
/// stacks (the names' arena is made at the size their new frames take at most: memory is only
/// taken as it is written, and the arena is never copied to grow). `plan`: about how many
/// distinct names there are, if known, and whether they are interned on a thread of their own
/// while this one walks the stacks (`piped_names`).
fn part(
    ordered: &[&[(&[u8], i64)]],
    root: &[u8],
    share: Share<'_>,
    counted: Count,
    plan: Plan,
) -> Result<(Names, usize, usize), TooLarge> {
    let Share {
        name_ids,
        depths,
        leaves,
        weights,
    } = share;
    let mut names = Names {
        bytes: Vec::with_capacity(counted.bytes + root.len() + 1),
        ends: Vec::with_capacity(name_ids.len()),
    };
    let sized = plan
        .nodes
        .map_or(name_ids.len(), |most| most.min(name_ids.len()));
    let mut interner = Interner::new(sized, plan.names);
    // a frame called as the root is the root's name (as in the twin)
    interner.intern_all(&[root], &mut names, &mut name_ids[..1])?;
    let shape = Shape {
        made: 1,
        depths,
        leaves,
        weights,
    };
    let name_ids = &mut name_ids[1..];
    if !plan.piped {
        let mut pending: Vec<&[u8]> = Vec::with_capacity(BATCH);
        let mut interned = 0usize;
        let nonpositive = shape.walk(ordered, |name| {
            pending.push(name);
            if pending.len() == BATCH {
                let ids = &mut name_ids[interned..interned + BATCH];
                interner.intern_all(&pending, &mut names, ids)?;
                interned += BATCH;
                pending.clear();
            }
            Ok(())
        })?;
        let ids = &mut name_ids[interned..interned + pending.len()];
        interner.intern_all(&pending, &mut names, ids)?;
        return Ok((names, nonpositive, 1 + interned + pending.len()));
    }
    let (interned, walked) = piped_names(interner, names, name_ids, |named| {
        let mut made = 1;
        let nonpositive = shape.walk(ordered, |name| {
            made += 1;
            named(name)
        })?;
        Ok((nonpositive, made))
    });
    let (nonpositive, made) = walked?;
    Ok((interned?, nonpositive, made))
}

/// How a part is built (`part`).
#[derive(Debug, Default, Clone, Copy)]
struct Plan {
    /// About how many distinct names the part has (`Distinct`), when that is known.
    names: Option<usize>,
    /// True when its names are interned on a thread of their own (`piped_names`).
    piped: bool,
    /// At most how many nodes the interner is sized for, when the tree's arrays are made at a
    /// bound (`bounds`), not at the count: every frame of stacks that share most of theirs
    /// would make it large and mostly empty.
    nodes: Option<usize>,
}

/// New nodes a stack is taken to make at most when the interner is sized from a bound
/// (`Plan::nodes`; it grows past it when they are more): the 45 MB profile's make 26.6.
const NEW_PER_STACK: usize = 32;

/// Names handed from the walk to the interning thread at a time (`piped_names`).
const PIPED: usize = 1 << 12;

/// Batches of names on their way to the interning thread, at most (`piped_names`).
const IN_FLIGHT: usize = 8;

/// `walk(named)` on this thread, `named(name)` called for each new node's name in node order,
/// while another interns those names with `interner` into `names`, their ids written to `ids`
/// in order: the walk's result, and the names (the first error either met).
fn piped_names<'a, R>(
    mut interner: Interner,
    mut names: Names,
    ids: &mut [u32],
    walk: impl FnOnce(&mut dyn FnMut(&'a [u8]) -> Result<(), TooLarge>) -> Result<R, TooLarge>,
) -> (Result<Names, TooLarge>, Result<R, TooLarge>) {
    // each name with its hash, taken on the walk's thread (it waits for the interning's)
    let (to_intern, batches) = crossbeam_channel::bounded::<Vec<(&'a [u8], u64)>>(IN_FLIGHT);
    let (to_reuse, spare) = crossbeam_channel::bounded::<Vec<(&'a [u8], u64)>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let interning = scope.spawn(move || {
            let mut at = 0usize;
            for batch in batches {
                for chunk in batch.chunks(BATCH) {
                    let to = at + chunk.len();
                    // more names than nodes counted cannot come: a bug, not an input
                    let ids = ids.get_mut(at..to).ok_or(TooLarge::Nodes)?;
                    interner.intern_hashed(chunk, &mut names, ids)?;
                    at = to;
                }
                let _ = to_reuse.try_send(batch);
            }
            Ok(names)
        });
        let mut batch: Vec<(&'a [u8], u64)> = Vec::with_capacity(PIPED);
        let walked = walk(&mut |name| {
            batch.push((name, name_hash(name)));
            if batch.len() == PIPED {
                let mut next = spare
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(PIPED));
                next.clear();
                // the interning thread stopped at an error: it says which
                to_intern
                    .send(std::mem::replace(&mut batch, next))
                    .map_err(|_| TooLarge::Names)?;
            }
            Ok(())
        });
        if walked.is_ok() && !batch.is_empty() {
            let _ = to_intern.send(batch);
        }
        drop(to_intern);
        let interned = interning
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (interned, walked)
    })
}

/// The walk over the kept stacks: each new node's depth, each kept stack's leaf node and
/// weights, written to the tree's arrays; the names of the nodes handed on in node order.
struct Shape<'t> {
    /// Nodes made so far (the root's first).
    made: usize,
    depths: DepthsMut<'t>,
    leaves: &'t mut [u32],
    weights: Vec<&'t mut [i64]>,
}

impl Shape<'_> {
    /// Walk `ordered` (the root made), `named(name)` called for each new node's name in node
    /// order; the stacks left out.
    fn walk<'a>(
        mut self,
        ordered: &[&[(&'a [u8], i64)]],
        mut named: impl FnMut(&'a [u8]) -> Result<(), TooLarge>,
    ) -> Result<usize, TooLarge> {
        self.depths.set(0, 0);
        // along the previous kept stack, the node of each depth (the root's first)
        let mut path: Vec<u32> = vec![0];
        // along the previous kept stack, where each of its frames starts: the frames a stack
        // shares with it are those that start before its first new frame
        // (u32: half the memory of a 10,000,000-frame stack's starts; a stack past 4 GiB is
        // TooLarge)
        let mut starts: Vec<u32> = Vec::new();
        let Shape {
            mut made,
            ref mut depths,
            ref mut leaves,
            ref mut weights,
        } = self;
        let mut stack_no = 0usize;
        walk(ordered, None, |stack, begin, ws| {
            let lcp = starts.partition_point(|&start| (start as usize) < begin);
            path.truncate(lcp + 1);
            starts.truncate(lcp);
            if !stack.is_empty() && begin <= stack.len() {
                let mut from = begin;
                let mut frame = |to: usize| -> Result<(), TooLarge> {
                    starts.push(u32::try_from(from).map_err(|_| TooLarge::Names)?);
                    named(&stack[from..to])?;
                    depths.set(made, path.len());
                    path.push(made as u32);
                    made += 1;
                    from = to + 1;
                    Ok(())
                };
                let tail = &stack[begin..];
                if tail.len() < SHORT {
                    each_semicolon(tail, |at| frame(begin + at))?;
                } else {
                    for at in memchr_iter(b';', tail) {
                        frame(begin + at)?;
                    }
                }
                frame(stack.len())?;
            }
            leaves[stack_no] = *path.last().unwrap_or(&0);
            // the weights are made zero (`arrays`): only those above zero are written, so that
            // a side with few stacks (a diff's small side) leaves its pages untouched (never
            // faulted in, no memory taken)
            for (side, w) in weights.iter_mut().zip(ws) {
                if let Some(w) = w.filter(|&w| w > 0) {
                    side[stack_no] = w;
                }
            }
            stack_no += 1;
            Ok(())
        })
    }
}

/// A name's shown form and fill, given by the twin for the names the palette does not colour.
pub type Shown = (Vec<u8>, [u8; 3]);

/// What the page's header says of a payload (`payload.py`'s header fields), and what the twin
/// gave for the names the page does not colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Names shown otherwise than as they are, by id.
    shown: Vec<(u32, Vec<u8>)>,
    /// Fills given by the twin, by id: of the names the page's palette does not colour, or of
    /// every name when the page has no palette.
    given: Vec<(u32, [u8; 3])>,
    /// True when the page colours the other names itself (`palette` in the header): the payload
    /// then holds the given fills' name ids, else every name's fill in order.
    pub page_palette: bool,
    /// Bytes of the names block.
    pub names_bytes: usize,
    /// Bytes before compression.
    pub raw_bytes: usize,
    /// Types of the selfs, name ids and depths arrays (`u16`, `u32`, `f64`).
    pub types: [&'static str; 3],
}

impl Prepared {
    /// Fills given by the twin (`given` in the header).
    pub fn given(&self) -> usize {
        self.given.len()
    }
}

/// The payload's header of `tree`. With the `palette` the page colours names with, the fill
/// and shown form of each name it does not colour from `given(name id)`; without one, every
/// name's. None when `given` has no answer for such a name.
pub fn prepare(
    tree: &ViewTree,
    palette: Option<&Palette>,
    given: impl Fn(u32) -> Option<Shown>,
) -> Option<Prepared> {
    let names = tree.name_count();
    let mut shown: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut fills: Vec<(u32, [u8; 3])> = Vec::new();
    let mut names_bytes = tree.names.len();
    for &i in tree.uncoloured(palette).iter() {
        let name = tree.name(i as usize);
        let (text, fill) = given(i)?;
        fills.push((i, fill));
        if !(plain(name) && text == name) {
            names_bytes = names_bytes + text.len() - name.len();
            shown.push((i, text));
        }
    }
    let integral = tree.integral();
    let deep = tree.depths.is_wide();
    // a name's code is at most its id + 1 (`name_codes`)
    let narrow_ids = names < 1 << 16 && !deep;
    let types = [
        if integral { "u32" } else { "f64" },
        if narrow_ids { "u16" } else { "u32" },
        if deep { "u32" } else { "u16" },
    ];
    let n = tree.len();
    let page_palette = palette.is_some();
    let raw_bytes = tree.sides() * n * if integral { 4 } else { 8 }
        + if page_palette { 4 * fills.len() } else { 0 }
        + n * if narrow_ids { 2 } else { 4 }
        + n * if deep { 4 } else { 2 }
        + 3 * fills.len()
        + names_bytes;
    Some(Prepared {
        shown,
        given: fills,
        page_palette,
        names_bytes,
        raw_bytes,
        types,
    })
}

#[cfg(test)]
mod tests {
    use super::writer::tests::unpack;
    use super::*;

    fn names(tree: &ViewTree) -> Vec<&[u8]> {
        (0..tree.name_count()).map(|i| tree.name(i)).collect()
    }

    fn selfs(tree: &ViewTree) -> Vec<Vec<i64>> {
        (0..tree.sides()).map(|s| tree.selfs(s).collect()).collect()
    }

    #[test]
    fn prefixes_once_in_pre_order() {
        let stacks: Vec<(&[u8], i64)> = vec![(b"a;c", 2), (b"a;b", 3), (b"a", 1), (b"z", 0)];
        let tree = build(vec![stacks], b"all").unwrap();
        assert_eq!(names(&tree), [&b"all"[..], b"a", b"b", b"c"]);
        assert_eq!(tree.name_ids, [0, 1, 2, 3]);
        assert_eq!(tree.depths, Depths::Narrow(vec![0, 1, 2, 2]));
        assert_eq!(selfs(&tree), [vec![0, 1, 3, 2]]);
        assert_eq!(tree.nonpositive, 1);
        assert_eq!(tree.name_ids.capacity(), tree.len());
    }

    #[test]
    fn two_sides_merge() {
        let after: Vec<(&[u8], i64)> = vec![(b"a;b", 3), (b"", 4)];
        let before: Vec<(&[u8], i64)> = vec![(b"a;b", 1), (b"c", 2), (b"d", -1)];
        let tree = build(vec![after, before], b"all").unwrap();
        assert_eq!(names(&tree), [&b"all"[..], b"a", b"b", b"c"]);
        assert_eq!(tree.depths.to_vec(), [0, 1, 2, 1]);
        assert_eq!(selfs(&tree), [vec![4, 0, 3, 0], vec![0, 0, 1, 2]]);
        assert_eq!(tree.nonpositive, 1);
    }

    #[test]
    fn a_scaled_side_shows_its_weights_scaled() {
        let after: Vec<(&[u8], i64)> = vec![(b"a;b", 3), (b"c", 1)];
        let before: Vec<(&[u8], i64)> = vec![(b"a;b", 2), (b"d", 4), (b"e", -1)];
        let mut tree = build(vec![after, before], b"all").unwrap();
        assert!(!tree.scale(1, 0.0) && !tree.scale(1, f64::NAN) && !tree.scale(2, 2.0));
        assert!(tree.scale(1, 0.5));
        let shown: Vec<f64> = tree.shown_selfs(1).collect();
        assert_eq!(shown, [0.0, 0.0, 1.0, 0.0, 2.0]);
        assert_eq!(selfs(&tree)[1], [0, 0, 2, 0, 4]); // the integers are kept
        assert_eq!(tree.nonpositive, 1);
        let types = |tree: &ViewTree| {
            prepare(tree, None, |_| Some((b"x".to_vec(), [0; 3])))
                .unwrap()
                .types[0]
        };
        assert_eq!(types(&tree), "u32"); // every scaled weight is still an integer
        assert!(tree.scale(1, 0.75));
        assert_eq!(types(&tree), "f64");
        let mut text = Vec::new();
        let prepared = prepare(&tree, None, |i| {
            Some((tree.name(i as usize).to_vec(), [0; 3]))
        })
        .unwrap();
        write(&tree, &prepared, 1, &mut text).unwrap();
        let raw = unpack(&text);
        let before: Vec<f64> = raw[40..80]
            .chunks(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(before, [0.0, 0.0, 1.5, 0.0, 3.0]);
    }

    /// Every field of a tree, to compare trees built in one part and in two.
    fn fields(tree: &ViewTree) -> impl PartialEq + std::fmt::Debug {
        (
            names(tree).iter().map(|n| n.to_vec()).collect::<Vec<_>>(),
            tree.name_ids.clone(),
            tree.depths.to_vec(),
            tree.depths.is_wide(),
            tree.leaves.clone(),
            tree.weights.clone(),
            tree.nonpositive,
        )
    }

    fn stacks_of(keys: &[Vec<u8>]) -> Vec<Vec<u8>> {
        keys.iter()
            .map(|k| {
                k.iter()
                    .map(|&c| [b"a".as_slice(), b"b", b"all", b"c;d", b""][c as usize % 5])
                    .collect::<Vec<_>>()
                    .join(&b';')
            })
            .collect()
    }

    fn view(texts: &[Vec<(Vec<u8>, i64)>]) -> Vec<Vec<(&[u8], i64)>> {
        texts
            .iter()
            .map(|side| side.iter().map(|(s, w)| (s.as_slice(), *w)).collect())
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn a_piped_build_is_the_tree_one_thread_builds(
            sides in proptest::collection::vec(
                proptest::collection::btree_map(
                    proptest::collection::vec(0u8..5, 0..6), -2i64..5, 0..40),
                1..=2),
        ) {
            let texts: Vec<Vec<(Vec<u8>, i64)>> = sides
                .iter()
                .map(|side| {
                    let keys: Vec<Vec<u8>> = side.keys().cloned().collect();
                    let mut seen = std::collections::HashSet::new();
                    stacks_of(&keys)
                        .into_iter()
                        .zip(side.values().copied())
                        .filter(|(s, _)| seen.insert(s.clone()))
                        .collect()
                })
                .collect();
            let one = build_with(view(&texts), b"all", usize::MAX).unwrap();
            // counted in two halves, its names interned on a thread of their own
            let piped = build_with(view(&texts), b"all", 2).unwrap();
            proptest::prop_assert_eq!(fields(&one), fields(&piped));
        }
    }

    #[test]
    fn a_piped_build_hands_on_many_batches_of_names() {
        // more names than a batch holds many times over, names met again across batches
        let texts: Vec<Vec<(Vec<u8>, i64)>> = vec![(0..20_000u32)
            .map(|i| (format!("a{};b{};c{i}", i % 3, i % 5_000).into_bytes(), 1))
            .collect()];
        let one = build_with(view(&texts), b"all", usize::MAX).unwrap();
        let piped = build_with(view(&texts), b"all", 2).unwrap();
        assert!(one.len() > 4 * PIPED);
        assert_eq!(fields(&one), fields(&piped));
    }

    #[test]
    fn the_distinct_names_are_estimated_within_a_few_percent() {
        for n in [0usize, 1, 10, 1_000, 100_000, 1_000_000] {
            let mut sketch = Distinct::new();
            for i in 0..n {
                sketch.offer(format!("n{i}").as_bytes());
                sketch.offer(format!("n{}", i / 2).as_bytes()); // and again
            }
            let estimate = sketch.estimate() as f64;
            assert!(
                (estimate - n as f64).abs() <= 0.05 * n as f64 + 1.0,
                "{n}: {estimate}"
            );
            // two halves' sketches together: the names of both
            let (mut a, mut b) = (Distinct::new(), Distinct::new());
            for i in 0..n {
                if i % 2 == 0 {
                    a.offer(format!("n{i}").as_bytes())
                } else {
                    b.offer(format!("n{i}").as_bytes())
                }
                a.offer(b"shared");
                b.offer(b"shared");
            }
            let both = a.union(&b).estimate() as f64;
            let want = n as f64 + f64::from(u8::from(n > 0));
            assert!((both - want).abs() <= 0.05 * want + 1.0, "{n}: {both}");
        }
    }

    #[test]
    fn an_interner_sized_by_its_estimate_does_not_grow() {
        let sized = Interner::new(3_000_000, Some(2_000_000));
        assert_eq!(sized.slots.len(), 1 << 22); // 2,000,000 x 1.05 x 1.5 -> 4 Mi slots
        let capped = Interner::new(1_000, Some(2_000_000));
        assert_eq!(capped.slots.len(), FIRST_SLOTS); // never more than a name per node needs
        assert_eq!(Interner::new(1 << 20, None).slots.len(), 1 << 17);
    }

    /// What `walk` passes on for a kept stack: the stack, where its new frames begin, its
    /// weights.
    type Call<'a> = (&'a [u8], usize, Vec<Option<i64>>);

    /// `walk`'s calls, by the general merge of any number of sides (`Merged`).
    fn merged_walk<'a>(
        ordered: &[&[(&'a [u8], i64)]],
        prev: Option<&'a [u8]>,
    ) -> (Vec<Call<'a>>, usize) {
        let mut merged = Merged {
            ordered,
            heads: vec![0; ordered.len()],
        };
        let (mut calls, mut skipped, mut prev) = (Vec::new(), 0, prev);
        let mut weights = vec![None; ordered.len()];
        while let Some(stack) = merged.next(&mut weights) {
            if !weights.iter().any(|w| w.is_some_and(|w| w > 0)) {
                skipped += 1;
                continue;
            }
            calls.push((
                stack,
                prev.map_or(0, |p| first_new(p, stack)),
                weights.clone(),
            ));
            prev = Some(stack);
        }
        (calls, skipped)
    }

    proptest::proptest! {
        #[test]
        fn two_sides_walk_as_the_general_merge_walks_them(
            sides in proptest::collection::vec(
                proptest::collection::btree_map(
                    proptest::collection::vec(0u8..4, 0..5), -1i64..4, 0..60),
                2..=2),
            small in 0usize..4,
            prev in proptest::option::of(proptest::collection::vec(0u8..4, 0..5)),
        ) {
            // a small side (as a diff's often is) among a big one's runs, or two alike
            let texts: Vec<Vec<(Vec<u8>, i64)>> = sides
                .iter()
                .enumerate()
                .map(|(k, side)| {
                    let keys: Vec<Vec<u8>> = side.keys().cloned().collect();
                    let mut seen = std::collections::HashSet::new();
                    let all: Vec<(Vec<u8>, i64)> = stacks_of(&keys)
                        .into_iter()
                        .zip(side.values().copied())
                        .filter(|(s, _)| seen.insert(s.clone()))
                        .collect();
                    let keep = if k == 0 && small > 0 { small } else { all.len() };
                    all.into_iter().take(keep).collect()
                })
                .collect();
            let ordered: Vec<Vec<(&[u8], i64)>> = view(&texts).into_iter().map(sorted).collect();
            let all: Vec<&[(&[u8], i64)]> = ordered.iter().map(Vec::as_slice).collect();
            let prev = prev.map(|p| stacks_of(&[p]).remove(0));
            let mut calls = Vec::new();
            let skipped = walk::<()>(&all, prev.as_deref(), |stack, begin, ws| {
                calls.push((stack, begin, ws.to_vec()));
                Ok(())
            })
            .unwrap();
            proptest::prop_assert_eq!((calls, skipped), merged_walk(&all, prev.as_deref()));
        }
    }

    #[test]
    fn a_run_before_a_stack_is_found_at_every_length() {
        let texts: Vec<Vec<u8>> = (0..300).map(|i| format!("f{i:04}").into_bytes()).collect();
        let stacks: Vec<(&[u8], i64)> = texts.iter().map(|s| (s.as_slice(), 1)).collect();
        for n in 0..stacks.len() {
            for probe in [b"f".as_slice(), texts[n].as_slice(), b"g"] {
                let want = stacks[..n].partition_point(|(s, _)| frame_cmp(s, probe).is_lt());
                assert_eq!(run_before(&stacks[..n], probe), want, "{n}");
            }
        }
    }

    #[test]
    fn piped_builds_make_narrow_and_wide_depths() {
        let deep = vec![b"f".as_slice(); 70_000].join(&b';');
        let mut deeper = deep.clone();
        deeper.extend_from_slice(b";g");
        for stacks in [
            vec![(b"a;b".as_slice(), 1), (deep.as_slice(), 2)],
            vec![(deep.as_slice(), 2), (b"z;y".as_slice(), 1)],
            vec![(deep.as_slice(), 2), (deeper.as_slice(), 1)],
        ] {
            let one = build_with(vec![stacks.clone()], b"all", usize::MAX).unwrap();
            let piped = build_with(vec![stacks], b"all", 2).unwrap();
            assert!(piped.depths.is_wide());
            assert_eq!(fields(&one), fields(&piped));
        }
    }

    #[test]
    fn the_last_kept_stack_skips_the_light_ones() {
        let a: Vec<(&[u8], i64)> = vec![(b"a", 1), (b"c", 0)];
        let b: Vec<(&[u8], i64)> = vec![(b"b", 2), (b"c", -1)];
        assert_eq!(last_kept(&[&a, &b]), Some(&b"b"[..]));
        let c: Vec<(&[u8], i64)> = vec![(b"c", 3)];
        assert_eq!(last_kept(&[&a, &c]), Some(&b"c"[..]));
        assert_eq!(last_kept(&[&a[1..], &b[1..]]), None);
        assert_eq!(last_kept(&[]), None);
    }

    #[test]
    fn the_interner_grows_with_the_names_not_the_nodes() {
        // 20,000 nodes of 3 names: the table stays at its first size
        let deep = vec![b"f;g".as_slice(); 10_000].join(&b';');
        let stacks: Vec<(&[u8], i64)> = vec![(deep.as_slice(), 1)];
        let share_of = |nodes: usize| {
            let mut name_ids = vec![0; nodes];
            let mut depths = Depths::Narrow(vec![0; nodes]);
            let (mut leaves, mut weights) = (vec![0; 1], vec![vec![0; 1]]);
            let share = share(&mut name_ids, &mut depths, &mut leaves, &mut weights);
            let counted = count(&[&stacks], None, None);
            let (names, _, _) = part(&[&stacks], b"all", share, counted, Plan::default()).unwrap();
            // the same names interned by an interner of that many nodes: it keeps its size
            let mut interner = Interner::new(nodes, None);
            let mut again = Names::default();
            let mut ids = vec![0; names.len()];
            let all: Vec<&[u8]> = (0..names.len()).map(|i| names.name(i)).collect();
            interner.intern_all(&all, &mut again, &mut ids).unwrap();
            (names.len(), interner.slots.len(), name_ids)
        };
        let (names, slots, ids) = share_of(20_001);
        assert_eq!((names, slots), (3, FIRST_SLOTS));
        assert_eq!(&ids[..5], &[0, 1, 2, 1, 2]);
        // 10,000 names: grown past its first size, every name found again by its id
        let many: Vec<Vec<u8>> = (0..10_000)
            .map(|i| format!("a;n{i}").into_bytes())
            .collect();
        let stacks: Vec<(&[u8], i64)> = many.iter().map(|s| (s.as_slice(), 1)).collect();
        let tree = build_with(vec![stacks], b"all", usize::MAX).unwrap();
        assert_eq!(tree.name_count(), 10_002);
        let mut expected: Vec<Vec<u8>> = many.iter().map(|s| s[2..].to_vec()).collect();
        expected.sort_by(|a, b| frame_cmp(a, b));
        for (node, name) in expected.iter().enumerate() {
            assert_eq!(tree.name(tree.name_ids[node + 2] as usize), name.as_slice());
        }
        let ids: std::collections::HashSet<u32> = tree.name_ids.iter().copied().collect();
        assert_eq!(ids.len(), 10_002);
    }

    #[test]
    fn a_grown_interner_finds_every_name_placed_again_from_its_home() {
        // 40,000 names from a first table of 4,096 slots: grown twice, placed again in the old
        // slots' order from the homes kept, then every name found again with its first id
        let texts: Vec<Vec<u8>> = (0..40_000)
            .map(|i| format!("name {i}").into_bytes())
            .collect();
        let all: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
        // without an estimate the homes are kept; with one (too low here) every name is hashed
        // again as the table grows
        for (estimate, kept) in [(None, true), (Some(10), false)] {
            let interner = Interner::new(1_000, estimate);
            assert_eq!(
                (interner.slots.len(), interner.keep_homes),
                (FIRST_SLOTS, kept)
            );
            grown_finds_every_name(&all, interner);
        }
    }

    fn grown_finds_every_name(all: &[&[u8]], mut interner: Interner) {
        let mut names = Names::default();
        let mut ids = vec![0; BATCH];
        for chunk in all.chunks(BATCH) {
            interner
                .intern_all(chunk, &mut names, &mut ids[..chunk.len()])
                .unwrap();
        }
        assert_eq!(interner.slots.len(), FIRST_SLOTS * 16);
        assert_eq!(
            interner.homes.len(),
            names.len() * usize::from(interner.keep_homes)
        );
        assert_eq!(names.len(), all.len());
        for (want, chunk) in all.chunks(BATCH).enumerate() {
            interner
                .intern_all(chunk, &mut names, &mut ids[..chunk.len()])
                .unwrap();
            let first = (want * BATCH) as u32;
            assert!(ids[..chunk.len()]
                .iter()
                .copied()
                .eq(first..first + chunk.len() as u32));
        }
        assert_eq!(names.len(), all.len()); // nothing added the second time
    }

    #[test]
    fn each_semicolon_finds_every_one_in_order() {
        for text in [
            &b""[..],
            b";",
            b"a;b",
            b";;;;;;;;;;",
            b"std::vec:;:x;\xbb;\x3b;;:;<;",
            b"0123456;89abcdef;",
        ] {
            let mut seen = Vec::new();
            each_semicolon::<()>(text, |at| {
                seen.push(at);
                Ok(())
            })
            .unwrap();
            let expected: Vec<usize> = memchr_iter(b';', text).collect();
            assert_eq!(seen, expected, "{text:?}");
            assert_eq!(semicolons(text), expected.len(), "{text:?}");
        }
        let mut stopped = 0;
        assert_eq!(
            each_semicolon(b"a;b;c;d;e;f;g;h;i", |_| {
                stopped += 1;
                if stopped == 3 {
                    Err(())
                } else {
                    Ok(())
                }
            }),
            Err(())
        );
        assert_eq!(stopped, 3);
    }

    #[test]
    fn depths_widen_past_u16() {
        let deep = vec![b"f".as_slice(); 70_000].join(&b';');
        let tree = build(vec![vec![(deep.as_slice(), 1)]], b"all").unwrap();
        assert!(tree.depths.is_wide());
        assert_eq!(tree.depths.to_vec().last(), Some(&70_000));
        let prepared = prepare(&tree, Palette::new("red").as_ref(), |_| None).unwrap();
        assert_eq!(prepared.types, ["u32", "u32", "u32"]);
    }

    #[test]
    fn payload_holds_the_arrays() {
        let stacks: Vec<(&[u8], i64)> = vec![(b"a;b\xff", 3)];
        let tree = build(vec![stacks], b"all").unwrap();
        let palette = Palette::new("default").unwrap();
        let prepared = prepare(&tree, Some(&palette), |_| {
            Some((b"b\\xff".to_vec(), [1, 2, 3]))
        })
        .unwrap();
        assert_eq!(prepared.types, ["u32", "u16", "u16"]);
        assert!(prepared.page_palette);
        assert_eq!(prepared.given(), 1);
        let mut text = Vec::new();
        write(&tree, &prepared, 6, &mut text).unwrap();
        let raw = unpack(&text);
        assert_eq!(raw.len(), prepared.raw_bytes);
        assert_eq!(prepared.names_bytes, 12);
        assert!(raw.ends_with(b"all\na\nb\\xff\n"));
        // selfs, the given fill's name id, name ids, depths, its fill, names
        assert_eq!(&raw[..12], &[0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&raw[12..16], &[2, 0, 0, 0]);
        assert_eq!(&raw[16..22], &[0; 6]); // three names, each new where it is met
        assert_eq!(&raw[raw.len() - 12 - 3..raw.len() - 12], &[1, 2, 3]);
        assert_eq!(raw.len(), 12 + 4 + 6 + 6 + 3 + 12);
    }

    #[test]
    fn the_names_a_palette_does_not_colour_are_found_in_the_arena() {
        let long_odd = [b"x".repeat(70), b"\xc3\xa9".to_vec(), b"y".repeat(70)].concat();
        let stacks: Vec<(&[u8], i64)> = vec![
            (b"a;b\xff\xfe;c", 3),
            (b"a;tab\there;\x7f", 1),
            (&long_odd, 2),
            (b"line\nend;d", 1),
            (b"~ ;z", 1),
        ];
        let tree = build(vec![stacks], b"all").unwrap();
        let palette = Palette::new("hot").unwrap();
        let slow = |tree: &ViewTree| -> Vec<u32> {
            (0..tree.name_count() as u32)
                .filter(|&i| !palette.colours(tree.name(i as usize)))
                .collect()
        };
        let found = tree.uncoloured(Some(&palette));
        assert_eq!(found, slow(&tree));
        assert_eq!(found.len(), 5);
        let all: Vec<u32> = (0..tree.name_count() as u32).collect();
        assert_eq!(tree.uncoloured(None), all);
        // without a name that holds a line end, the arena is scanned a block at a time
        let plain_ends: Vec<(&[u8], i64)> =
            vec![(b"a;b\xff\xfe;c", 3), (&long_odd, 2), (b"q\x01;r", 1)];
        let tree = build(vec![plain_ends], b"all").unwrap();
        assert_eq!(tree.uncoloured(Some(&palette)), slow(&tree));
        assert_eq!(tree.uncoloured(Some(&palette)).len(), 3);
    }

    #[test]
    fn the_names_scanned_in_halves_are_those_scanned_whole() {
        let long_odd = [b"x".repeat(70), b"\xc3\xa9".to_vec(), b"y".repeat(70)].concat();
        let texts: Vec<Vec<u8>> = (0..200)
            .map(|i| match i % 7 {
                0 => format!("f{i};g\x01{i}").into_bytes(),
                3 => [format!("h{i};").into_bytes(), long_odd.clone()].concat(),
                _ => format!("f{i};p{i}").into_bytes(),
            })
            .collect();
        let stacks: Vec<(&[u8], i64)> = texts.iter().map(|s| (s.as_slice(), 1)).collect();
        let tree = build(vec![stacks], b"all").unwrap();
        let slow: Vec<u32> = (0..tree.name_count() as u32)
            .filter(|&i| !plain(tree.name(i as usize)))
            .collect();
        assert!(slow.len() > 20);
        for from in [0, 1, 64, 1000, usize::MAX] {
            assert_eq!(tree.scan_names(from), slow, "{from}");
        }
        // a name that holds a line end: name by name, however the arena is cut
        let mut with_end = texts.clone();
        with_end.push(b"line\nend;q\x02".to_vec());
        let stacks: Vec<(&[u8], i64)> = with_end.iter().map(|s| (s.as_slice(), 1)).collect();
        let tree = build(vec![stacks], b"all").unwrap();
        let slow: Vec<u32> = (0..tree.name_count() as u32)
            .filter(|&i| !plain(tree.name(i as usize)))
            .collect();
        for from in [0, 1, usize::MAX] {
            assert_eq!(tree.scan_names(from), slow, "{from}");
        }
        // asked again, the first answer
        let palette = Palette::new("default");
        assert_eq!(tree.uncoloured(palette.as_ref()), slow);
        assert!(std::ptr::eq(
            tree.uncoloured(palette.as_ref()).as_ptr(),
            tree.uncoloured(palette.as_ref()).as_ptr()
        ));
    }

    #[test]
    fn without_a_page_palette_every_fill_is_given() {
        let stacks: Vec<(&[u8], i64)> = vec![(b"a;b", 3)];
        let tree = build(vec![stacks], b"all").unwrap();
        let prepared = prepare(&tree, None, |i| {
            Some((tree.name(i as usize).to_vec(), [i as u8; 3]))
        })
        .unwrap();
        assert!(!prepared.page_palette);
        let mut text = Vec::new();
        write(&tree, &prepared, 1, &mut text).unwrap();
        let raw = unpack(&text);
        assert_eq!(raw.len(), prepared.raw_bytes);
        assert_eq!(
            &raw[12 + 6 + 6..12 + 6 + 6 + 9],
            &[0, 0, 0, 1, 1, 1, 2, 2, 2]
        );
    }
}
