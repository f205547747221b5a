//! The `perf script` fast path: fold record-aligned chunks of blank-line separated samples.
//!
//! A chunk is split at blank lines (memchr), each header is matched, identical (header fields,
//! call chain) blocks are counted once, each distinct frame line is named once per thread and the
//! stacks are kept as sequences of interned names. Samples without blank lines between them are
//! folded as blocks by [`dense`]. A chunk holding anything else this block path does not account
//! for (`-G` layouts, side events, comments, bad lines) is read line by line from there
//! ([`line_path`], the twin's state machine) up to a line at which blocks start again; bad lines are skipped and kept to quote as the twin does. Only a
//! chunk this path cannot account for at all (a period beyond 64 bits, a line the namer cannot
//! name) is reported as needing the Python line path, which stays the reference; the results are
//! identical byte for byte.

pub mod dense;
pub mod frames;
pub mod header;
pub mod line_path;
pub mod lines;
pub mod pool;
pub mod sched;
pub mod stream;

use std::collections::HashMap;

use ahash::RandomState;
use hashbrown::HashTable;
use memchr::memmem;

use crate::perf::frames::{
    has_address_column, is_plain_ascii, name_line, parse_frame_line, strip_decoded, NameOptions,
};
use crate::perf::header::{Fields, Header};
use crate::perf::lines::{key_hash, line_end_and_hash, text_hash, words_hash, LineCache};

type Map<K, V> = HashMap<K, V, RandomState>;

/// How to fold (the fields of `FoldOptions` that matter to perf).
#[derive(Clone, Debug, Default)]
pub struct FoldConfig {
    pub names: NameOptions,
    pub pid: bool,
    pub tid: bool,
    /// weigh samples by their period (else count them)
    pub by_period: bool,
    /// cut stacks rootward of the first frame with one of these names
    pub skip_after: Vec<Vec<u8>>,
    /// keep (time, stack, weight) per sample, in order
    pub keep_time: bool,
    /// keep each timed sample for `--off-cpu` / `--wall` ([`sched`]); stacks are then made
    /// from call chains only, as the twin's sink makes them (no frame from the header's rest)
    pub sched: bool,
}

/// Why a chunk was not folded here.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// something this path does not account for: give the chunk to the line path
    Fallback,
    /// the caller asked to stop
    Cancelled,
}

/// Names frame lines this path leaves to the twin (non-ASCII ones): `Some(None)` for a line that
/// is no frame, `None` when it cannot answer (the chunk then goes to the line path).
pub type LineNamer<'n> = dyn FnMut(&[u8], bool) -> Option<Option<Vec<u8>>> + 'n;

/// What an [`Interner`] keeps: bytes (names) or part ids (stacks), each with its hash.
trait Keyed: Copy + PartialEq {
    fn hash_of(key: &[Self]) -> u64;
}

impl Keyed for u8 {
    fn hash_of(key: &[u8]) -> u64 {
        key_hash(key)
    }
}

impl Keyed for u32 {
    fn hash_of(key: &[u32]) -> u64 {
        words_hash(key)
    }
}

/// Sequences (strings, or stacks: a root and parts rootward first) interned to dense ids in
/// first-seen order: their items in one arena (no allocation per sequence), found by
/// [`Keyed::hash_of`] in a table of ids.
struct Interner<T: Keyed = u8> {
    table: HashTable<u32>,
    /// the hash of each sequence, by id (for the table's growth)
    hashes: Vec<u64>,
    /// where each sequence ends in `items`, by id, after a leading 0
    ends: Vec<usize>,
    items: Vec<T>,
}

impl<T: Keyed> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            table: HashTable::new(),
            hashes: Vec::new(),
            ends: vec![0],
            items: Vec::new(),
        }
    }
}

impl<T: Keyed> Interner<T> {
    /// The id of `s`, numbered next when new.
    fn intern(&mut self, s: &[T]) -> u32 {
        let hash = T::hash_of(s);
        let (ends, items, hashes) = (&self.ends, &self.items, &self.hashes);
        let found = self.table.find(hash, |&i| {
            let i = i as usize;
            hashes[i] == hash && items[ends[i]..ends[i + 1]] == *s
        });
        if let Some(&id) = found {
            return id;
        }
        let id = self.hashes.len() as u32;
        self.table.insert_unique(hash, id, |&i| hashes[i as usize]);
        self.hashes.push(hash);
        self.items.extend_from_slice(s);
        self.ends.push(self.items.len());
        id
    }

    fn get(&self, id: u32) -> &[T] {
        let i = id as usize;
        &self.items[self.ends[i]..self.ends[i + 1]]
    }

    /// The sequences in id order.
    fn items(&self) -> impl Iterator<Item = &[T]> {
        self.ends.windows(2).map(|w| &self.items[w[0]..w[1]])
    }
}

/// One sample on the timeline: time (NaN when not printed), stack id, weight.
pub type TimePoint = (f64, u32, u64);

/// What one chunk contributed besides its stacks.
#[derive(Debug, Default, Clone)]
pub struct ChunkInfo {
    pub index: usize,
    /// newlines in the chunk (after CRLF became LF)
    pub lines: usize,
    /// base event ids in first-seen order
    pub events: Vec<u32>,
    /// (time or NaN, stack id, weight) per sample, when keeping time
    pub timeline: Vec<TimePoint>,
    /// true when the chunk was left to the line path
    pub fallback: bool,
    /// the first [`BAD_LINES_KEPT`] bad lines: (line number in the chunk from 1, text)
    pub bad: Vec<(usize, Vec<u8>)>,
    /// bad lines in the chunk (skipped, as the twin skips them)
    pub bad_count: usize,
    /// the samples kept for `--off-cpu` / `--wall` (when folding for them)
    pub sched: sched::SchedChunk,
}

/// Bad lines kept per chunk to quote (the twin's `ChunkResult.bad` keeps as many).
pub const BAD_LINES_KEPT: usize = 5;

/// Per-line cache entries are bounded; a full cache is emptied and refilled.
const LINE_CACHE_LIMIT: usize = 1 << 20;
/// Bytes of keys a line cache holds; past this it is emptied and refilled.
const LINE_KEYS_LIMIT: usize = 64 << 20;
/// Threads whose last call chain is remembered (see [`LastChain`]); past this, all are dropped.
const LAST_CHAINS_LIMIT: usize = 1 << 16;

/// The call chain of a thread's last sample named line by line (frame lines only, one part per
/// line): the [`ChainCache`] entry it was remembered as, by generation and index (no copy of its
/// text; gone when that generation is). A thread's next sample mostly repeats its rootward
/// lines: those are taken from there after one comparison from the end, not named line by line.
#[derive(Clone, Copy, Default)]
struct LastChain {
    /// the [`ChainCache::epoch`] of the entry's generation (0: none)
    epoch: u64,
    slot: u32,
}
/// A recent header line's start up to its cpu field (`comm pid/tid [cpu]`), whose fields and
/// root hold for every header starting with the same bytes ([`header::parse_usual_prefix`]).
struct HeadMemo {
    /// the prefix's first 8 bytes as a word (compared first)
    first: Option<u64>,
    prefix: Vec<u8>,
    comm_end: usize,
    pid: std::ops::Range<usize>,
    tid: Option<std::ops::Range<usize>>,
    root: u32,
    java: bool,
}
/// Headers remembered ([`HeadMemo`]), most recently used first: a system-wide capture
/// interleaves a few threads per cpu.
const HEAD_MEMOS: usize = 8;
/// Blocks between checks of the cancel flag.
const CANCEL_EVERY: usize = 2048;
/// Bytes of call-chain text the [`ChainCache`] holds (both generations together).
/// Chosen by measurement (`fold -j 2` of the 263 MB benchmark capture, median of 7, quiet):
/// 32 MiB 0.41 s / 133 MB, 16 MiB 0.37 s / 97 MB, 8 MiB 0.36 s / 77 MB, 4 MiB 0.36 s / 69 MB:
/// a cache that stays in the processor's caches pays, a bigger one costs page faults. Since
/// chains are remembered by their callers ([`LEAD_LINES`]) a small cache finds most of them (a
/// thread: 80,000-85,000 of 100,700 samples from 1 to 8 MiB); the core's fold alone
/// (`fold_pool` example, CPU, alternating, medians of 9): 8 MiB +3.5 % against 4 MiB, 2 MiB
/// -2.7 %, 1 MiB -3.8 % against 2, 512 KiB as 1 MiB (5,700 page faults at 1 MiB, 7,900 at 4).
const CHAIN_CACHE_LIMIT: usize = 1 << 20;

/// One call chain remembered by the [`ChainCache`]: where its text and parts are kept, and the
/// stacks it gave under the roots and leads it was last seen with.
#[derive(Clone)]
struct ChainEntry {
    hash: u64,
    text: std::ops::Range<usize>,
    parts: std::ops::Range<usize>,
    /// newlines in the text (lines less one)
    newlines: usize,
    /// the last stacks made of this chain, most recent first
    stacks: [StackMemo; STACK_MEMOS],
}

/// A stack made of a [`ChainEntry`]'s parts: its root, the parts of its lead
/// ([`Worker::chain_entry`]; [`NO_LEAF`] past its lines, and for an entry of a whole chain) and
/// its id.
#[derive(Clone, Copy)]
struct StackMemo {
    root: u32,
    lead: [u32; LEAD_LINES],
    stack: u32,
}

/// Stacks a [`ChainEntry`] remembers. On the 263 MB benchmark capture a thread finds the stack of
/// 39,600 of its 80,600 samples whose callers it found with one, 52,000 with two, 57,800 with four
/// (each other one interned: the whole stack hashed and compared).
const STACK_MEMOS: usize = 4;

/// A [`StackMemo`] no sample matches.
const NO_STACK: StackMemo = StackMemo {
    root: u32::MAX,
    lead: [NO_LEAF; LEAD_LINES],
    stack: 0,
};

/// Lines at the start of a call chain of frame lines looked up on their own, its other lines (its
/// callers) found in the [`ChainCache`] as one: a leaf's address changes from sample to sample far
/// more often than its callers do. On the 263 MB benchmark capture a thread finds 74,500 of its
/// 100,700 samples' callers in the 4 MiB cache with one line apart, 84,800 with two, 87,200 with
/// three (41,300 whole chains).
const LEAD_LINES: usize = 2;

/// A part in [`ChainEntry::lead`] past its lines.
const NO_LEAF: u32 = u32::MAX;

/// What a [`ChainCache`] entry's text is, as an index of [`Generation::tables`]: the frame lines
/// after a chain's leaf line (its callers), or the whole chain (one with lines other than frame
/// lines); apart per java flag.
#[derive(Clone, Copy)]
struct ChainKind {
    java: bool,
    whole: bool,
}

impl ChainKind {
    fn table(self) -> usize {
        usize::from(self.java) * 2 + usize::from(self.whole)
    }
}

/// The chains remembered since a [`ChainCache`] last turned over.
#[derive(Default)]
struct Generation {
    entries: Vec<ChainEntry>,
    /// indexes into `entries`, per [`ChainKind::table`]
    tables: [HashTable<u32>; 4],
    text: Vec<u8>,
    parts: Vec<u32>,
}

impl Generation {
    /// The index of the entry for `text` (hashed to `hash`).
    fn find(&self, kind: ChainKind, hash: u64, text: &[u8]) -> Option<usize> {
        let (entries, arena) = (&self.entries, &self.text);
        self.tables[kind.table()]
            .find(hash, |&i| {
                let e = &entries[i as usize];
                e.hash == hash && arena[e.text.clone()] == *text
            })
            .map(|&i| i as usize)
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.tables.iter_mut().for_each(HashTable::clear);
        self.text.clear();
        self.parts.clear();
    }

    /// Remember `text` as giving `parts` (root and stack as in `memo`); its index.
    fn insert(&mut self, kind: ChainKind, text: &[u8], parts: &[u32], memo: ChainEntry) -> usize {
        let entry = ChainEntry {
            text: self.text.len()..self.text.len() + text.len(),
            parts: self.parts.len()..self.parts.len() + parts.len(),
            ..memo
        };
        self.text.extend_from_slice(text);
        self.parts.extend_from_slice(parts);
        let entries = &self.entries;
        self.tables[kind.table()].insert_unique(entry.hash, entries.len() as u32, |&i| {
            entries[i as usize].hash
        });
        self.entries.push(entry);
        self.entries.len() - 1
    }
}

/// Call chains (the lines after a header, up to the blank line) already named, by their callers
/// (the frame lines after their first [`LEAD_LINES`]) or, for chains with other lines, whole
/// ([`ChainKind`]): most samples repeat callers seen before, which are then found by one hash of
/// their text and one comparison instead of line by line. Parts are leaf first.
///
/// Two generations share the bytes allowed: chains go to the current one; when it is full it
/// becomes the old one (the old one before it is dropped), and a chain found in the old one is
/// copied to the current one. A chain in use stays, at the footprint of a cache emptied when full
/// (on the 263 MB benchmark capture, when whole chains were kept: 82,000 of 199,000 samples found
/// against 73,000).
struct ChainCache {
    /// bytes of text both generations hold together
    limit: usize,
    /// the number of the current generation (from 1; the old one's is one less)
    epoch: u64,
    current: Generation,
    old: Generation,
    /// the parts of a chain being copied from `old`
    scratch: Vec<u32>,
}

impl Default for ChainCache {
    fn default() -> Self {
        ChainCache {
            limit: CHAIN_CACHE_LIMIT,
            epoch: 1,
            current: Generation::default(),
            old: Generation::default(),
            scratch: Vec::new(),
        }
    }
}

impl ChainCache {
    fn hash(text: &[u8]) -> u64 {
        text_hash(text)
    }

    /// The index in `current` of the entry for `text` (hashed to `hash`), copied there from the
    /// old generation when found only there.
    fn find(&mut self, kind: ChainKind, hash: u64, text: &[u8]) -> Option<usize> {
        if let Some(slot) = self.current.find(kind, hash, text) {
            return Some(slot);
        }
        let slot = self.old.find(kind, hash, text)?;
        let e = self.old.entries[slot].clone();
        let mut parts = std::mem::take(&mut self.scratch);
        parts.clear();
        parts.extend_from_slice(&self.old.parts[e.parts.clone()]);
        let got = self.insert(kind, hash, text, e.newlines, &parts);
        self.scratch = parts;
        self.current.entries[got].stacks = e.stacks;
        Some(got)
    }

    /// Remember `text` (with `newlines` newlines) as giving `parts`; its index in `current`.
    fn insert(
        &mut self,
        kind: ChainKind,
        hash: u64,
        text: &[u8],
        newlines: usize,
        parts: &[u32],
    ) -> usize {
        if self.current.text.len() + text.len() > self.limit / 2 {
            std::mem::swap(&mut self.current, &mut self.old);
            self.current.clear();
            self.epoch += 1;
        }
        let memo = ChainEntry {
            hash,
            text: 0..0,
            parts: 0..0,
            newlines,
            stacks: [NO_STACK; STACK_MEMOS],
        };
        self.current.insert(kind, text, parts, memo)
    }

    /// The text and parts of a thread's last chain, while its generation is kept.
    fn last(&self, last: LastChain) -> Option<(&[u8], &[u32])> {
        let generation = match self.epoch - last.epoch {
            0 => &self.current,
            1 => &self.old,
            _ => return None,
        };
        let e = generation.entries.get(last.slot as usize)?;
        Some((
            &generation.text[e.text.clone()],
            &generation.parts[e.parts.clone()],
        ))
    }
}

/// One thread's share of a capture.
pub struct Worker {
    cfg: FoldConfig,
    header: Header,
    parts: Interner,
    /// frame line (or, without --addrs, the text after its address column) -> part id, per java
    /// flag and key kind (see [`Worker::line_part`])
    line_caches: [LineCache; 4],
    roots: Map<Box<[u8]>, (u32, bool)>,
    events_raw: Map<Box<[u8]>, u32>,
    /// the last event name looked up (as in the header) and its id: most samples repeat it
    last_event: (Vec<u8>, u32),
    event_none: Option<u32>,
    event_names: Interner,
    skip_cut: Map<u32, Option<u32>>,
    /// [root, parts rootward first...] -> stack id
    stacks: Interner<u32>,
    cells: Map<(u32, u32), (u128, u64)>,
    /// recent headers, most recently used first
    head_memos: Vec<HeadMemo>,
    /// the cells of the chunk being folded (empty between chunks, kept for its capacity)
    local: Map<(u32, u32), (u128, u64)>,
    chunks: Vec<ChunkInfo>,
    key_buf: Vec<u8>,
    /// the parts of the sample being read (leaf first), reused
    parts_buf: Vec<u32>,
    /// (java flag, tid or pid or comm) -> index in `last_chains`
    last_chain_of: Map<Box<[u8]>, u32>,
    last_chains: Vec<LastChain>,
    /// the blank line ending a sample (built once: `memmem::find` builds its searcher per call)
    blank_line: memmem::Finder<'static>,
    /// `PERF_RECORD_`, searched in headers holding an `R`
    side_event: memmem::Finder<'static>,
    chains: ChainCache,
    /// the scheduler event reader, when folding for `--off-cpu` / `--wall`
    sched: Option<Box<sched::Reader>>,
}

/// A worker's result: stack strings (and their hashes, computed on the worker's thread for the
/// merge), per (event, stack) weights and counts, chunk facts.
pub struct WorkerOutput {
    pub event_names: Vec<Vec<u8>>,
    pub stacks: Vec<Vec<u8>>,
    /// [`text_hash`] of each stack
    pub hashes: Vec<u64>,
    pub cells: Vec<(u32, u32, u128, u64)>,
    pub chunks: Vec<ChunkInfo>,
}

/// The event name without its modifiers: `cycles:uppp` -> `cycles`; tracepoints kept whole.
pub fn base_event(event: &[u8]) -> &[u8] {
    if let Some(i) = event.iter().rposition(|&b| b == b':') {
        let mods = &event[i + 1..];
        if !mods.is_empty() && mods.iter().all(|b| b"ukhIGHpPSDWeb".contains(b)) {
            return &event[..i];
        }
    }
    event
}

/// True for `  file.c:123` after a frame (`-F +srcline`): exactly two spaces of indentation.
fn is_srcline(line: &[u8]) -> bool {
    line.starts_with(b"  ") && !matches!(line.get(2), None | Some(b' ') | Some(b'\t'))
}

/// `bytes.strip()` is empty (ASCII whitespace only).
fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

fn bytes_strip(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

impl Worker {
    pub fn new(cfg: FoldConfig) -> Self {
        let sched = cfg.sched.then(|| Box::new(sched::Reader::new()));
        Worker {
            cfg,
            header: Header::new(),
            parts: Interner::default(),
            line_caches: std::array::from_fn(|_| LineCache::new(LINE_CACHE_LIMIT, LINE_KEYS_LIMIT)),
            roots: Map::default(),
            events_raw: Map::default(),
            last_event: (Vec::new(), u32::MAX),
            event_none: None,
            event_names: Interner::default(),
            skip_cut: Map::default(),
            stacks: Interner::default(),
            cells: Map::default(),
            local: Map::default(),
            head_memos: Vec::new(),
            chunks: Vec::new(),
            key_buf: Vec::new(),
            blank_line: memmem::Finder::new(b"\n\n"),
            side_event: memmem::Finder::new(b"PERF_RECORD_"),
            parts_buf: Vec::new(),
            last_chain_of: Map::default(),
            last_chains: Vec::new(),
            chains: ChainCache::default(),
            sched,
        }
    }

    /// Fold chunk number `index`; Err(Stop::Fallback) when the line path must fold it (it then
    /// contributed nothing here but its line count). Blank-line separated samples are folded as
    /// blocks; from a block this path does not take (an odd layout, a bad line) the line path
    /// reads on, as the twin does, up to a blank line after which blocks start again, so a bad
    /// line costs its own sample, not the chunk. Bad lines are kept in [`ChunkInfo::bad`].
    pub fn fold_chunk(
        &mut self,
        index: usize,
        raw: &[u8],
        namer: &mut LineNamer<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(), Stop> {
        let owned;
        let chunk: &[u8] = if memchr::memchr(b'\r', raw).is_some() {
            owned = replace_crlf(raw);
            &owned
        } else {
            raw
        };
        let (comment_lines, body) = strip_comment_prefix(chunk);
        let mut info = ChunkInfo {
            index,
            ..ChunkInfo::default()
        };
        // the chunk's cells, in a table kept from chunk to chunk (no regrowth per chunk)
        let mut local = std::mem::take(&mut self.local);
        local.clear();
        let mut result =
            self.fold_body(body, comment_lines, &mut info, &mut local, namer, cancelled);
        if let Ok(newlines) = result {
            result = self.add_cells(&mut local).map(|()| newlines);
        }
        local.clear();
        self.local = local;
        match result {
            Ok(body_lines) => info.lines = comment_lines + body_lines,
            Err(Stop::Cancelled) => return Err(Stop::Cancelled),
            Err(Stop::Fallback) => {
                info = ChunkInfo {
                    index,
                    lines: memchr::memchr_iter(b'\n', chunk).count(),
                    fallback: true,
                    ..ChunkInfo::default()
                }
            }
        }
        self.chunks.push(info);
        result.map(|_| ())
    }

    /// Add a chunk's cells to the worker's; Err(Stop::Fallback) when a weight overflows.
    fn add_cells(&mut self, local: &mut Map<(u32, u32), (u128, u64)>) -> Result<(), Stop> {
        for ((event, stack), (weight, count)) in local.drain() {
            let cell = self.cells.entry((event, stack)).or_insert((0, 0));
            cell.0 = cell.0.checked_add(weight).ok_or(Stop::Fallback)?;
            cell.1 += count;
        }
        Ok(())
    }

    /// Fold `body` (the chunk after its leading comments, `first_line` lines) by blocks and,
    /// where they do not serve, line by line; the number of its newlines when done.
    fn fold_body(
        &mut self,
        body: &[u8],
        first_line: usize,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<usize, Stop> {
        let (mut at, mut newlines) = (0, 0);
        loop {
            let taken = match dense::starts_dense(&body[at..]) {
                true => Taken::default(), // not blocks: [`dense`] folds them
                false => self.fold_blocks(&body[at..], info, local, namer, cancelled)?,
            };
            newlines += taken.newlines;
            at += taken.bytes;
            if at >= body.len() {
                return Ok(newlines);
            }
            // samples without blank lines between them ([`dense`])
            let taken = self.fold_dense(
                &body[at..],
                first_line + newlines,
                info,
                local,
                namer,
                cancelled,
            )?;
            (at, newlines) = (at + taken.bytes, newlines + taken.newlines);
            if at >= body.len() {
                return Ok(newlines);
            }
            let read = self.fold_lines(
                &body[at..],
                first_line + newlines,
                true,
                info,
                local,
                namer,
                cancelled,
            )?;
            newlines += read.newlines;
            at += read.bytes;
            if at >= body.len() {
                return Ok(newlines);
            }
        }
    }

    /// Fold the blank-line separated samples at the start of `body`, up to its end or to the
    /// first block this path does not take (left untouched: its bytes and newlines not counted).
    fn fold_blocks(
        &mut self,
        body: &[u8],
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Taken, Stop> {
        let mut lines = Lines::new(body);
        let mut blocks = 0usize;
        let mut parts = std::mem::take(&mut self.parts_buf);
        loop {
            let (rest, newlines) = (lines.rest, lines.newlines);
            let Some(head) = lines.next_line() else {
                break;
            };
            blocks += 1;
            if blocks.is_multiple_of(CANCEL_EVERY) && cancelled() {
                self.parts_buf = parts;
                return Err(Stop::Cancelled);
            }
            let events = info.events.len();
            let sched = info.sched.mark();
            match self.fold_block(head, &mut lines, info, local, namer, &mut parts) {
                Ok(()) => {}
                Err(Stop::Fallback) => {
                    // the line path reads this block again: the event it noted is dropped
                    info.events.truncate(events);
                    info.sched.rewind(sched);
                    lines = Lines { rest, newlines };
                    break;
                }
                Err(stop) => {
                    self.parts_buf = parts;
                    return Err(stop);
                }
            }
        }
        self.parts_buf = parts;
        Ok(Taken {
            bytes: body.len() - lines.rest.len(),
            newlines: lines.newlines,
        })
    }

    /// Fold one block: the sample whose header is `head`, its call chain read from `lines` up to
    /// the blank line after it. Err(Stop::Fallback) when this path does not take it (counted
    /// nothing then, but may have noted its event in `info`).
    fn fold_block(
        &mut self,
        head: &[u8],
        lines: &mut Lines<'_>,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
        parts: &mut Vec<u32>,
    ) -> Result<(), Stop> {
        if matches!(head.first(), None | Some(b' ' | b'\t' | b'#'))
            || (memchr::memchr(b'R', head).is_some() && self.side_event.find(head).is_some())
        {
            return Err(Stop::Fallback);
        }
        let (f, root, java) = self.parse_head(head)?;
        self.fold_sample(f, Some((root, java)), lines, info, local, namer, parts)
    }

    /// [`Worker::fold_block`] of a sample whose header is parsed (to `f`; its root and java flag
    /// `known` when found with it).
    #[allow(clippy::too_many_arguments)]
    fn fold_sample(
        &mut self,
        f: Fields<'_>,
        known: Option<(u32, bool)>,
        lines: &mut Lines<'_>,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
        parts: &mut Vec<u32>,
    ) -> Result<(), Stop> {
        let weight = match f.period {
            Some(p) if self.cfg.by_period => parse_u64(p).ok_or(Stop::Fallback)?,
            _ => 1,
        };
        let event = self.event_id(f.event);
        if !info.events.contains(&event) {
            info.events.push(event);
        }
        let (root, java) = match known {
            Some(known) => known,
            None => self.root(&f),
        };
        parts.clear();
        let rest = lines.rest;
        let (text, after) = self.chain_extent(rest);
        let stack = if text.first() == Some(&b'\t') {
            let thread = f.tid.or(f.pid).unwrap_or(f.comm);
            // (the lead's parts left in `parts`)
            let (slot, lead_newlines) = self.chain_entry(text, rest, java, thread, namer, parts)?;
            let e = &self.chains.current.entries[slot];
            lines.newlines += lead_newlines + e.newlines + (after - text.len());
            lines.rest = &rest[after..];
            let lead: [u32; LEAD_LINES] =
                std::array::from_fn(|i| parts.get(i).copied().unwrap_or(NO_LEAF));
            let found = e
                .stacks
                .iter()
                .position(|m| m.root == root && m.lead == lead);
            let e = &mut self.chains.current.entries[slot];
            match found {
                Some(at) => {
                    e.stacks[..=at].rotate_right(1);
                    e.stacks[0].stack
                }
                None => {
                    parts.extend_from_slice(&self.chains.current.parts[e.parts.clone()]);
                    let stack = self.stack_id(root, java, &f, parts, namer)?;
                    let e = &mut self.chains.current.entries[slot];
                    e.stacks.rotate_right(1);
                    e.stacks[0] = StackMemo { root, lead, stack };
                    stack
                }
            }
        } else {
            self.chain_lines(lines, java, namer, parts)?;
            self.stack_id(root, java, &f, parts, namer)?
        };
        self.note_sched(&f, event, stack, info)?;
        self.count_sample(&f, event, stack, weight, info, local)
    }

    /// The [`ChainCache`] entry (its index in the current generation) of the call chain `text`
    /// (from `rest`, the chunk from there on; `thread` the sample's), and the newlines of `text`
    /// before the entry's text. A chain of frame lines only is remembered by its callers: the
    /// lines after its first [`LEAD_LINES`] (its lead), whose parts are then left in `parts`,
    /// named here; other chains (source lines, lines the line path reads) are remembered whole,
    /// `parts` left empty.
    fn chain_entry(
        &mut self,
        text: &[u8],
        rest: &[u8],
        java: bool,
        thread: &[u8],
        namer: &mut LineNamer<'_>,
        parts: &mut Vec<u32>,
    ) -> Result<(usize, usize), Stop> {
        // the lead: up to LEAD_LINES lines (`end` at its last newline, or the text's end)
        let (mut end, mut lead_lines) = (0, 0);
        loop {
            lead_lines += 1;
            match memchr::memchr(b'\n', &text[end..]) {
                Some(i) if lead_lines < LEAD_LINES => end += i + 1,
                Some(i) => {
                    end += i;
                    break;
                }
                None => {
                    end = text.len();
                    break;
                }
            }
        }
        let (lead, callers) = (&text[..end], text.get(end + 1..).unwrap_or_default());
        let lead_newlines = lead_lines - 1 + usize::from(end < text.len());
        let framed = callers.first().is_none_or(|&b| b == b'\t');
        let by_callers = ChainKind { java, whole: false };
        let hash = ChainCache::hash(callers);
        if framed {
            if let Some(slot) = self.chains.find(by_callers, hash, callers) {
                if self.fresh_parts(lead, java, namer, parts)? {
                    return Ok((slot, lead_newlines));
                }
                parts.clear();
            }
        }
        let whole = ChainKind { java, whole: true };
        let whole_hash = ChainCache::hash(text);
        if let Some(slot) = self.chains.find(whole, whole_hash, text) {
            return Ok((slot, 0));
        }
        if framed {
            // frame lines only: one part per line
            if let Some(last) = self.frame_parts(text, java, thread, namer, parts)? {
                let lead_parts = lead_lines.min(parts.len());
                let newlines = (parts.len() - lead_parts).saturating_sub(1);
                let slot =
                    self.chains
                        .insert(by_callers, hash, callers, newlines, &parts[lead_parts..]);
                self.last_chains[last] = LastChain {
                    epoch: self.chains.epoch,
                    slot: slot as u32,
                };
                parts.truncate(lead_parts);
                return Ok((slot, lead_newlines));
            }
            parts.clear();
        }
        let mut rows = Lines::new(rest);
        self.chain_lines(&mut rows, java, namer, parts)?;
        let newlines = memchr::memchr_iter(b'\n', text).count();
        let slot = self.chains.insert(whole, whole_hash, text, newlines, parts);
        parts.clear();
        Ok((slot, 0))
    }

    /// The fields of a block's header line and its root: from a recent header starting with the
    /// same bytes up to its cpu field ([`HeadMemo`]) when there is one, else parsed (and
    /// remembered when it has a cpu field).
    #[inline]
    fn parse_head<'a>(&mut self, head: &'a [u8]) -> Result<(Fields<'a>, u32, bool), Stop> {
        let word = |s: &[u8]| {
            s.get(..8)
                .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
        };
        let first = word(head);
        let found = self
            .head_memos
            .iter()
            .position(|m| first.is_some() && m.first == first && head.starts_with(&m.prefix));
        if let Some(at) = found {
            let m = &self.head_memos[at];
            let known = Fields {
                comm: &head[..m.comm_end],
                pid: Some(&head[m.pid.clone()]),
                tid: m.tid.clone().map(|r| &head[r]),
                ..Fields::default()
            };
            let (len, root, java) = (m.prefix.len(), m.root, m.java);
            if at > 0 {
                self.head_memos[..=at].rotate_right(1);
            }
            // a rest the usual shape does not read: the whole line is parsed below
            if let Some(f) = header::parse_usual_rest(head, len, known) {
                return Ok((f, root, java));
            }
        }
        // the usual shape read once, start then rest (a remembered start's rest is not of it)
        let prefix = match found {
            None => header::parse_usual_prefix(head),
            Some(_) => None,
        };
        let usual = prefix.and_then(|(p, len, _)| header::parse_usual_rest(head, len, p));
        let f = match usual {
            Some(f) => f,
            None => self.header.parse_line(head).ok_or(Stop::Fallback)?,
        };
        let (root, java) = self.root(&f);
        // remembered when the usual shape read the whole line and took a cpu field (not when
        // the pattern read it): a line with the same start starts so too
        if let (Some((p, len, true)), Some(_)) = (prefix, usual) {
            let offset = |s: &[u8]| s.as_ptr() as usize - head.as_ptr() as usize;
            let range = |s: &[u8]| offset(s)..offset(s) + s.len();
            // the evicted memo's buffer reused
            let mut prefix = match self.head_memos.len() {
                HEAD_MEMOS => self.head_memos.pop().map(|m| m.prefix).unwrap_or_default(),
                _ => Vec::new(),
            };
            prefix.clear();
            prefix.extend_from_slice(&head[..len]);
            let memo = HeadMemo {
                first,
                prefix,
                comm_end: p.comm.len(),
                pid: p.pid.map_or(0..0, range),
                tid: p.tid.map(range),
                root,
                java,
            };
            self.head_memos.insert(0, memo);
        }
        Ok((f, root, java))
    }

    /// Count one sample of `stack` in `local` and, when keeping time, on `info`'s timeline.
    fn count_sample(
        &self,
        f: &Fields<'_>,
        event: u32,
        stack: u32,
        weight: u64,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
    ) -> Result<(), Stop> {
        let cell = local.entry((event, stack)).or_insert((0, 0));
        cell.0 = cell
            .0
            .checked_add(u128::from(weight))
            .ok_or(Stop::Fallback)?;
        cell.1 += 1;
        if self.cfg.keep_time {
            let time = f
                .time
                .and_then(|t| std::str::from_utf8(t).ok()?.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            info.timeline.push((time, stack, weight));
        }
        Ok(())
    }

    fn event_id(&mut self, event: Option<&[u8]>) -> u32 {
        match event {
            None => *self
                .event_none
                .get_or_insert_with(|| self.event_names.intern(b"")),
            Some(raw) => {
                if self.last_event.1 != u32::MAX && self.last_event.0 == raw {
                    return self.last_event.1;
                }
                let id = match self.events_raw.get(raw) {
                    Some(&id) => id,
                    None => {
                        let id = self.event_names.intern(base_event(raw));
                        self.events_raw.insert(raw.into(), id);
                        id
                    }
                };
                self.last_event.0.clear();
                self.last_event.0.extend_from_slice(raw);
                self.last_event.1 = id;
                id
            }
        }
    }

    fn root(&mut self, f: &Fields<'_>) -> (u32, bool) {
        let buf = &mut self.key_buf;
        buf.clear();
        for field in [Some(f.comm), f.pid, f.tid] {
            match field {
                Some(v) => {
                    buf.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    buf.extend_from_slice(v);
                }
                None => buf.extend_from_slice(&u32::MAX.to_le_bytes()),
            }
        }
        if let Some(&got) = self.roots.get(&buf[..]) {
            return got;
        }
        let (mut p, t): (&[u8], &[u8]) = (f.pid.unwrap_or(b""), f.tid.unwrap_or(b""));
        let t = if t.is_empty() {
            let pid = p;
            p = b"?";
            pid
        } else {
            t
        };
        let mut name = f.comm.to_vec();
        if self.cfg.tid {
            name.push(b'-');
            name.extend_from_slice(p);
            name.push(b'/');
            name.extend_from_slice(t);
        } else if self.cfg.pid {
            name.push(b'-');
            name.extend_from_slice(p);
        }
        for b in name.iter_mut() {
            match *b {
                b' ' => *b = b'_',
                b';' => *b = b':',
                _ => {}
            }
        }
        let got = (self.parts.intern(&name), name == b"java");
        self.roots.insert(self.key_buf.as_slice().into(), got);
        got
    }

    /// The part id (joined names) of one frame line.
    fn line_part(
        &mut self,
        line: &[u8],
        java: bool,
        namer: &mut LineNamer<'_>,
    ) -> Result<u32, Stop> {
        let by_tail = !self.cfg.names.addrs && has_address_column(line);
        let key = if by_tail { &line[18..] } else { line };
        self.keyed_part(line, by_tail, key_hash(key), java, namer)
    }

    /// The part ids of the frame lines of `fresh` (a newline after each but perhaps the last),
    /// pushed to `parts`; false (parts unfinished) at a line that is no frame line.
    #[inline(never)]
    fn fresh_parts(
        &mut self,
        fresh: &[u8],
        java: bool,
        namer: &mut LineNamer<'_>,
        parts: &mut Vec<u32>,
    ) -> Result<bool, Stop> {
        let addrs = self.cfg.names.addrs;
        let mut at = 0;
        while at < fresh.len() {
            let s = &fresh[at..];
            if s[0] != b'\t' {
                return Ok(false);
            }
            // the address column (the byte after it not its line's end)
            let by_tail = !addrs && s.len() > 18 && s[18] != b'\n' && has_address_column(&s[..19]);
            let from = if by_tail { 18 } else { 0 };
            let (end, hash) = line_end_and_hash(s, from);
            parts.push(self.keyed_part(&s[..end], by_tail, hash, java, namer)?);
            at += end + 1;
        }
        Ok(true)
    }

    /// The part id of `line`, kept under `hash` of its key (`line[18..]` when `by_tail`).
    #[inline(always)]
    fn keyed_part(
        &mut self,
        line: &[u8],
        by_tail: bool,
        hash: u64,
        java: bool,
        namer: &mut LineNamer<'_>,
    ) -> Result<u32, Stop> {
        let key = if by_tail { &line[18..] } else { line };
        let which = usize::from(java) * 2 + usize::from(by_tail);
        match self.line_caches[which].get(hash, key) {
            Some(id) => Ok(id), // a line remembered is no blank line
            None => self.name_new_line(line, key, which, hash, java, namer),
        }
    }

    /// Name a line not in its cache, and remember it.
    #[cold]
    fn name_new_line(
        &mut self,
        line: &[u8],
        key: &[u8],
        which: usize,
        hash: u64,
        java: bool,
        namer: &mut LineNamer<'_>,
    ) -> Result<u32, Stop> {
        if is_blank(line) {
            return Err(Stop::Fallback);
        }
        let name = if is_plain_ascii(line) {
            name_line(line, java, &self.cfg.names)
        } else {
            namer(line, java).ok_or(Stop::Fallback)?
        };
        let name = name.ok_or(Stop::Fallback)?;
        let id = self.parts.intern(&name);
        self.line_caches[which].insert(hash, key, id);
        Ok(id)
    }

    /// The chain's text after a header (`rest` starts after it): up to the blank line, without
    /// the newline ending its last line; and where the next sample starts in `rest`.
    fn chain_extent<'a>(&self, rest: &'a [u8]) -> (&'a [u8], usize) {
        match self.blank_line.find(rest) {
            Some(i) => (&rest[..i], i + 2),
            None if rest.last() == Some(&b'\n') => (&rest[..rest.len() - 1], rest.len()),
            None => (rest, rest.len()),
        }
    }

    /// The parts (leaf first) of a call chain of frame lines, and the index in `last_chains` of
    /// `thread`'s last chain (for the caller to point at this chain once remembered); None
    /// (parts unfinished) when a line of it is no frame line (a source line, something odd): the
    /// caller then reads it line by line. The lines at its end that end the last chain of
    /// `thread` too are taken from that chain; the others are named.
    fn frame_parts(
        &mut self,
        text: &[u8],
        java: bool,
        thread: &[u8],
        namer: &mut LineNamer<'_>,
        parts: &mut Vec<u32>,
    ) -> Result<Option<usize>, Stop> {
        let key_buf = &mut self.key_buf;
        key_buf.clear();
        key_buf.push(u8::from(java));
        key_buf.extend_from_slice(thread);
        let slot = match self.last_chain_of.get(key_buf.as_slice()) {
            Some(&slot) => slot as usize,
            None => {
                if self.last_chains.len() >= LAST_CHAINS_LIMIT {
                    self.last_chain_of.clear();
                    self.last_chains.clear();
                }
                self.last_chain_of
                    .insert(key_buf.as_slice().into(), self.last_chains.len() as u32);
                self.last_chains.push(LastChain::default());
                self.last_chains.len() - 1
            }
        };
        let (last_text, last_parts) = self.chains.last(self.last_chains[slot]).unwrap_or_default();
        // the lines at the end of `text` that end the last chain too: from `start` on
        let same = common_suffix(text, last_text);
        let start = if same == text.len()
            && (same == last_text.len() || last_text[last_text.len() - same - 1] == b'\n')
        {
            0
        } else {
            match memchr::memchr(b'\n', &text[text.len() - same..]) {
                Some(i) => text.len() - same + i + 1,
                None => text.len(),
            }
        };
        // lines taken: counted in the taken text or, when shorter, in the rest of the last chain
        let (taken, offset) = (text.len() - start, last_text.len() - (text.len() - start));
        let reused = if start == text.len() {
            0
        } else if taken <= offset {
            memchr::memchr_iter(b'\n', &text[start..]).count() + 1
        } else {
            last_parts.len() - memchr::memchr_iter(b'\n', &last_text[..offset]).count()
        };
        let from = last_parts.len() - reused;
        if !self.fresh_parts(&text[..start], java, namer, parts)? {
            return Ok(None);
        }
        // the chain cache is not changed by naming lines: the last chain is still there
        let (_, last_parts) = self.chains.last(self.last_chains[slot]).unwrap_or_default();
        parts.extend_from_slice(&last_parts[from..]);
        Ok(Some(slot))
    }

    /// The parts (leaf first) of the call chain at `lines`, line by line: frame lines and the
    /// source lines after them, up to the blank line ending the sample.
    fn chain_lines(
        &mut self,
        lines: &mut Lines<'_>,
        java: bool,
        namer: &mut LineNamer<'_>,
        parts: &mut Vec<u32>,
    ) -> Result<(), Stop> {
        let mut prev_frame = false;
        while let Some(line) = lines.next_line() {
            if line.is_empty() {
                break; // the blank line after a sample
            }
            if line[0] == b'\t' {
                parts.push(self.line_part(line, java, namer)?);
                prev_frame = true;
            } else if prev_frame && is_srcline(line) && !is_blank(line) {
                prev_frame = false;
            } else {
                return Err(Stop::Fallback);
            }
        }
        Ok(())
    }

    /// The stack id of one sample: its root and the parts of its call chain (leaf first; a
    /// sample without a chain may name its frame in the header's rest).
    fn stack_id(
        &mut self,
        root: u32,
        java: bool,
        f: &Fields<'_>,
        parts: &mut Vec<u32>,
        namer: &mut LineNamer<'_>,
    ) -> Result<u32, Stop> {
        if parts.is_empty() && self.sched.is_none() {
            if let Some(rest) = f.rest {
                if !bytes_strip(rest).is_empty() {
                    // whether it names a frame is read from the text as the twin decodes it
                    let decoded = if is_plain_ascii(rest) {
                        rest
                    } else {
                        strip_decoded(rest)
                    };
                    if let Some(frame) = parse_frame_line(decoded) {
                        if !frame.pc.is_empty() && frame.dso.is_some() {
                            let mut line = b"\t".to_vec();
                            line.extend_from_slice(bytes_strip(rest));
                            // (a frame here is a frame there: the same text is parsed)
                            if let Some(id) = self.line_part_or_none(&line, java, namer)? {
                                parts.push(id);
                            }
                        }
                    }
                }
            }
        }
        if !self.cfg.skip_after.is_empty() {
            self.apply_skip(parts);
        }
        parts.push(root);
        parts.reverse();
        Ok(self.stacks.intern(parts))
    }

    /// `--skip-after`: parts are leaf-first; the first one holding a listed name is cut to the
    /// names from the last such name on, and the parts rootward of it are dropped.
    fn apply_skip(&mut self, parts: &mut Vec<u32>) {
        for i in 0..parts.len() {
            let id = parts[i];
            let cut = match self.skip_cut.get(&id) {
                Some(&cut) => cut,
                None => {
                    let cut = skip_cut(self.parts.get(id), &self.cfg.skip_after)
                        .map(|s| self.parts.intern(&s));
                    self.skip_cut.insert(id, cut);
                    cut
                }
            };
            if let Some(cut) = cut {
                parts.truncate(i);
                parts.push(cut);
                return;
            }
        }
    }

    /// Everything folded so far, with stacks as strings.
    pub fn finish(self) -> WorkerOutput {
        let stacks = self
            .stacks
            .items()
            .map(|key| {
                let (root, parts) = (key[0], &key[1..]);
                let names_empty =
                    parts.is_empty() || (parts.len() == 1 && self.parts.get(parts[0]).is_empty());
                // sized once: no regrowth (and copy) per name
                let size = if names_empty {
                    0
                } else {
                    parts.iter().map(|&p| self.parts.get(p).len() + 1).sum()
                };
                let mut s = Vec::with_capacity(self.parts.get(root).len() + size);
                s.extend_from_slice(self.parts.get(root));
                if !names_empty {
                    for &p in parts.iter() {
                        s.push(b';');
                        s.extend_from_slice(self.parts.get(p));
                    }
                }
                s
            })
            .collect::<Vec<Vec<u8>>>();
        WorkerOutput {
            event_names: self.event_names.items().map(<[u8]>::to_vec).collect(),
            hashes: stacks.iter().map(|s| text_hash(s)).collect(),
            stacks,
            cells: self
                .cells
                .into_iter()
                .map(|((e, s), (w, c))| (e, s, w, c))
                .collect(),
            chunks: self.chunks,
        }
    }
}

/// How far a path read into the text it was given: bytes and newlines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) bytes: usize,
    pub(crate) newlines: usize,
}

/// The lines of a chunk one by one, counting the newlines taken.
struct Lines<'a> {
    rest: &'a [u8],
    newlines: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8]) -> Self {
        Lines {
            rest: text,
            newlines: 0,
        }
    }

    /// The next line without its newline; None at the end (a last line without a newline is
    /// still a line).
    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.rest = &rest[i + 1..];
                self.newlines += 1;
                Some(&rest[..i])
            }
            None => {
                self.rest = &[];
                Some(rest)
            }
        }
    }
}

/// Bytes at the end of `a` equal to the end of `b`.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut same = 0;
    // 16 bytes at a time, then byte by byte
    let word = |c: &[u8]| u128::from_ne_bytes(c.try_into().unwrap_or([0; 16]));
    for (x, y) in a.rchunks_exact(16).zip(b.rchunks_exact(16)) {
        if word(x) != word(y) {
            break;
        }
        same += 16;
    }
    let (a, b) = (&a[..n - same], &b[..n - same]);
    same + a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The cut part for `--skip-after`, or None when no name in `part` is listed.
fn skip_cut(part: &[u8], skip: &[Vec<u8>]) -> Option<Vec<u8>> {
    let names: Vec<&[u8]> = part.split(|&b| b == b';').collect();
    let listed = |n: &[u8]| {
        let stem = match memmem::rfind(n, b"_[") {
            Some(i) => &n[..i],
            None => n,
        };
        skip.iter()
            .any(|s| s.as_slice() == n || s.as_slice() == stem)
    };
    let last = names.iter().rposition(|n| listed(n))?;
    Some(names[last..].join(&b';'))
}

fn replace_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// The chunk without its leading `#` comment lines (`perf script --header`), and their number.
fn strip_comment_prefix(chunk: &[u8]) -> (usize, &[u8]) {
    let mut body = chunk;
    let mut lines = 0;
    while body.first() == Some(&b'#') {
        match memchr::memchr(b'\n', body) {
            Some(i) => {
                body = &body[i + 1..];
                lines += 1;
            }
            None => break,
        }
    }
    (lines, body)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// (event, stack, weight, samples)
    pub(crate) type Row = (String, String, u128, u64);

    fn fold(text: &str, cfg: FoldConfig) -> Result<Vec<Row>, Stop> {
        fold_whole(text, cfg).map(|(rows, _)| rows)
    }

    /// `text` folded as one chunk by a worker (no namer): its rows sorted, and the output.
    pub(crate) fn fold_whole(
        text: &str,
        cfg: FoldConfig,
    ) -> Result<(Vec<Row>, WorkerOutput), Stop> {
        let mut w = Worker::new(cfg);
        let mut namer = |_: &[u8], _: bool| None;
        w.fold_chunk(0, text.as_bytes(), &mut namer, &|| false)?;
        let out = w.finish();
        let mut rows: Vec<_> = out
            .cells
            .iter()
            .map(|&(e, s, wt, c)| {
                (
                    String::from_utf8(out.event_names[e as usize].clone()).unwrap(),
                    String::from_utf8(out.stacks[s as usize].clone()).unwrap(),
                    wt,
                    c,
                )
            })
            .collect();
        rows.sort();
        Ok((rows, out))
    }

    const TEXT: &str = "bash 100/200 [000] 1.000001: 40 cycles:u: \n\tffffffff815d6c20 f+0x1 ([kernel.kallsyms])\n\t    7f1e2215d058 main+0xed (/x)\n\nbash 100/200 [000] 1.000002: 2 cycles:u: \n\tffffffff815d6c28 f+0x9 ([kernel.kallsyms])\n\t    7f1e2215d058 main+0xed (/x)\n\n";

    /// Each sample folded by a worker of its own (nothing taken from a last chain), summed.
    fn fold_apart(text: &str) -> Vec<(String, String, u128, u64)> {
        let mut rows: Vec<(String, String, u128, u64)> = Vec::new();
        for sample in text.split_inclusive("\n\n") {
            for row in fold(sample, FoldConfig::default()).unwrap() {
                match rows.iter_mut().find(|r| r.0 == row.0 && r.1 == row.1) {
                    Some(r) => (r.2, r.3) = (r.2 + row.2, r.3 + row.3),
                    None => rows.push(row),
                }
            }
        }
        rows.sort();
        rows
    }

    #[test]
    fn chains_taken_from_a_threads_last_chain_are_its_own() {
        let frame = |name: &str| format!("\t    7f1e2215d0{:02x} {name}+0x1 (/x)\n", name.len());
        let sample = |tid: u32, names: &[&str]| {
            let lines: String = names.iter().map(|n| frame(n)).collect();
            format!("a 1/{tid} [000] 1.0: 1 cycles:u: \n{lines}\n")
        };
        let chains: [&[&str]; 9] = [
            &["leaf", "mid", "main"],
            &["other", "mid", "main"],  // shares two lines
            &["xother", "mid", "main"], // ends like the last leaf, one byte more
            &["her", "mid", "main"],    // a suffix of the last leaf's line
            &["mid", "main"],           // all of it the end of the last chain
            &["main"],
            &["new", "leaf", "mid", "main"],
            &["new", "leaf", "mid", "main"],
            &["z"],
        ];
        let mut text = String::new();
        for (k, names) in chains.iter().enumerate() {
            text.push_str(&sample(7, names));
            text.push_str(&sample(8 + (k as u32 % 2), names));
        }
        // a source line after a frame, then the chain again without it
        text.push_str("a 1/7 [000] 1.0: 1 cycles:u: \n\t    7f1e2215d004 leaf+0x1 (/x)\n  x.c:3\n\t    7f1e2215d004 main+0x1 (/x)\n\n");
        text.push_str(&sample(7, &["leaf", "main"]));
        assert_eq!(
            fold(&text, FoldConfig::default()).unwrap(),
            fold_apart(&text)
        );
    }

    /// `text` folded by one worker with chain caches of each of `limits` bytes: its lines
    /// counted, and its rows those of its samples folded apart.
    fn assert_folds_apart_with_chain_caches(text: &str, limits: &[usize]) {
        for &limit in limits {
            let mut w = Worker::new(FoldConfig::default());
            w.chains.limit = limit;
            let mut namer = |_: &[u8], _: bool| None;
            w.fold_chunk(0, text.as_bytes(), &mut namer, &|| false)
                .unwrap();
            let out = w.finish();
            assert_eq!(out.chunks[0].lines, text.matches('\n').count());
            let mut rows: Vec<_> = out
                .cells
                .iter()
                .map(|&(e, s, wt, c)| {
                    let name = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
                    let (e, s) = (&out.event_names[e as usize], &out.stacks[s as usize]);
                    (name(e), name(s), wt, c)
                })
                .collect();
            rows.sort();
            assert_eq!(rows, fold_apart(text), "limit {limit}");
        }
    }

    #[test]
    fn chains_remembered_by_their_callers_fold_as_apart() {
        // chains sharing their callers under other leaves, roots and java flags; a chain that
        // is another's callers; one-line chains; source lines in the callers or after the leaf
        // (remembered whole, never as callers); with caches of a few chains
        let frame = |name: &str| format!("\t    7f1e2215d0{:02x} {name}+0x1 (/x)\n", name.len());
        let chains: [&[&str]; 8] = [
            &["a", "mid", "main"],
            &["b", "mid", "main"],
            &["mid", "main"],
            &["main"],
            &["a"],
            &["b", "Lx/Y;::run", "main"],
            &["a", "  x.c:3", "mid", "main"],
            &["a", "mid", "  x.c:3", "main"],
        ];
        let mut text = String::new();
        for round in 0..40usize {
            let names = chains[(round * 3) % chains.len()];
            let lines: String = names
                .iter()
                .map(|n| match n.starts_with(' ') {
                    true => format!("{n}\n"),
                    false => frame(n),
                })
                .collect();
            let comm = ["java", "bash", "sh"][round % 3];
            let tid = round % 4;
            text.push_str(&format!("{comm} 1/{tid} [000] 1.0: 1 cycles: \n{lines}\n"));
        }
        assert_folds_apart_with_chain_caches(&text, &[0, 150, 400, 1 << 20]);
    }

    #[test]
    fn chains_found_in_either_generation_fold_as_apart() {
        // a chain cache of a few chains: chains turn over between generations, are found in the
        // old one and copied back, under roots of their own (java names frames otherwise)
        let frame = |k: usize| format!("\t    7f1e2215d0{k:02x} Lf{k}/X;::run+0x1 (/x)\n");
        let mut text = String::new();
        for round in 0..48usize {
            // chains of 2 or 3 lines, some seen again two samples later under another root
            let c = [0, 1, 0, 2, 0, 1, 2, 1][round % 8] + 3 * (round / 16);
            let chain: String = (4 * c..4 * c + 2 + c % 2).map(frame).collect();
            let comm = ["java", "bash", "sh", "java", "zsh"][round % 5];
            let tid = round % 7;
            text.push_str(&format!("{comm} 1/{tid} [000] 1.0: 1 cycles: \n{chain}\n"));
        }
        assert_folds_apart_with_chain_caches(&text, &[0, 100, 300, 600, 1200, 1 << 20]);
    }

    #[test]
    fn chains_seen_before_give_the_stack_of_their_own_root() {
        // the same chain texts under other comms (java names frames otherwise), with a source
        // line, and at the chunk's end without a final newline: as folded one by one
        let chains = [
            "\t    7f1e2215d058 Lx/Y;::run+0x1 (/x)\n\t    7f1e2215d059 main+0x1 (/x)",
            "\t    7f1e2215d058 Lx/Y;::run+0x1 (/x)\n  x.c:3\n\t    7f1e2215d059 main+0x1 (/x)",
            "\t    7f1e2215d05a f+0x1 (/x)",
        ];
        let mut text = String::new();
        for round in 0..3 {
            for comm in ["java", "bash", "java"] {
                for chain in chains {
                    text.push_str(&format!(
                        "{comm} 1/{round} [000] 1.0: 1 cycles: \n{chain}\n\n"
                    ));
                }
            }
        }
        text.push_str(&format!("bash 1/1 [000] 1.0: 1 cycles: \n{}", chains[0]));
        assert_eq!(
            fold(&text, FoldConfig::default()).unwrap(),
            fold_apart(&text)
        );
        let mut w = Worker::new(FoldConfig::default());
        let mut namer = |_: &[u8], _: bool| None;
        w.fold_chunk(0, text.as_bytes(), &mut namer, &|| false)
            .unwrap();
        assert_eq!(w.finish().chunks[0].lines, text.matches('\n').count());
    }

    #[test]
    fn folds_and_counts() {
        let cfg = FoldConfig {
            by_period: true,
            ..FoldConfig::default()
        };
        assert_eq!(
            fold(TEXT, cfg).unwrap(),
            vec![("cycles".into(), "bash;main;f".into(), 42, 2)]
        );
        let cfg = FoldConfig {
            tid: true,
            names: NameOptions {
                kernel: true,
                ..Default::default()
            },
            ..FoldConfig::default()
        };
        assert_eq!(
            fold(TEXT, cfg).unwrap(),
            vec![("cycles".into(), "bash-100/200;main;f_[k]".into(), 2, 2)]
        );
    }

    #[test]
    fn skip_after_cuts() {
        let cfg = FoldConfig {
            skip_after: vec![b"main".to_vec()],
            ..FoldConfig::default()
        };
        assert_eq!(fold(TEXT, cfg).unwrap()[0].1, "bash;main;f");
        let cfg = FoldConfig {
            skip_after: vec![b"f".to_vec()],
            ..FoldConfig::default()
        };
        assert_eq!(fold(TEXT, cfg).unwrap()[0].1, "bash;f");
    }

    #[test]
    fn odd_layouts_and_bad_lines_fold_line_by_line() {
        assert_eq!(
            fold(" bash 1 x: \n", FoldConfig::default()),
            Ok(vec![("x".into(), "bash".into(), 1, 1)])
        );
        assert_eq!(
            fold("bash 1 x: \nNOT A FRAME\n", FoldConfig::default()),
            Ok(vec![("x".into(), "bash".into(), 1, 1)])
        );
        // a line the namer cannot name (no namer here) still sends the chunk to the twin
        assert_eq!(
            fold("bash 1 x: \n\t1234 caf\u{e9} (/x)\n", FoldConfig::default()),
            Err(Stop::Fallback)
        );
        assert_eq!(
            fold("bash 1 1.0: PERF_RECORD_EXIT(1:1)\n", FoldConfig::default()),
            Ok(vec![])
        );
    }

    #[test]
    fn base_events() {
        assert_eq!(base_event(b"cpu-clock:ppp"), b"cpu-clock");
        assert_eq!(base_event(b"sched:sched_switch"), b"sched:sched_switch");
        assert_eq!(base_event(b"cycles:"), b"cycles:");
    }
}
