//! bpftrace map prints (`-f text`): the line state machine of `foldkit/ingest/bpftrace.py`
//! (`_Parser`), its maps' entries kept as interned keys (each part an interned stack of interned
//! frame lines, or an interned scalar), then the chosen maps folded into one stack table.
//!
//! What the Python twin reports is kept in the same order (unrecognised lines, incomplete
//! entries, error lines, program output) for the caller to word as the twin words it.

use std::collections::HashMap;
use std::sync::OnceLock;

use memchr::memmem;
use regex::Regex;
use rustc_hash::FxBuildHasher;

use super::intern::Interner;
use super::names::{name_bpftrace_line, Frame, Mode, INLINE_SUFFIX, KERNEL_SUFFIX, NO_STACK};
use super::text::{chars, is_blank, is_count, line_at, parse_count, py_strip, word_run};
use crate::folded::FoldedReader;
use crate::perf::frames::is_plain_ascii;

/// Unrecognised lines quoted (`foldkit.profile.MAX_QUOTED_LINES`).
pub const MAX_QUOTED_LINES: usize = 5;
/// Lines of program output quoted (`bpftrace._MAX_EXAMPLE_LINES`).
pub const MAX_EXAMPLE_LINES: usize = 3;

/// A key part: an interned stack (odd) or an interned scalar (even).
type Part = u32;

fn stack_part(id: u32) -> Part {
    id << 1 | 1
}

fn scalar_part(id: u32) -> Part {
    id << 1
}

/// Everything printed for one map name (`bpftrace.MapDump`).
#[derive(Debug, Default)]
pub struct MapDump {
    /// `@name`
    pub name: Vec<u8>,
    pub first_line: u64,
    /// interned keys (see [`Parser::sum`]) in order of first appearance
    pub entries: Vec<u32>,
    pub printed: u64,
    pub other_values: u64,
    pub other_stack: bool,
    pub scalar: bool,
}

/// An entry that never ended: where it started, its first line, and the line that cut it
/// (None: the end of the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub entry_line: u64,
    pub entry_text: Vec<u8>,
    pub at: Option<u64>,
}

/// What the reading found beside the maps.
#[derive(Debug, Default)]
pub struct Report {
    pub bad_lines: u64,
    /// the first unrecognised lines: (line number, text)
    pub bad_examples: Vec<(u64, Vec<u8>)>,
    pub cuts: Vec<Cut>,
    pub errors: u64,
    pub first_error: Option<Vec<u8>>,
    pub other_lines: u64,
    pub other_examples: Vec<(u64, Vec<u8>)>,
    pub first_text: Option<Vec<u8>>,
    pub lines: u64,
}

/// Bytes of an unrecognised line kept to quote it: the caller quotes its first 200 characters
/// (`Diagnostics.bad_line`), which lie in its first 800 bytes whatever they decode to (a
/// character is at most 4 bytes, and Python's decoder decides each from at most 4).
const MAX_QUOTED_BYTES: usize = 800;

impl Report {
    /// Count one unrecognised line, keeping the first few to quote.
    pub fn bad_line(&mut self, lineno: u64, text: &[u8]) {
        self.bad_lines += 1;
        if self.bad_examples.len() < MAX_QUOTED_LINES {
            let kept = &text[..text.len().min(MAX_QUOTED_BYTES)];
            self.bad_examples.push((lineno, kept.to_vec()));
        }
    }
}

/// Folding options (the `FoldOptions` fields bpftrace folding reads).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub addrs: bool,
    pub kernel: bool,
    pub inline: bool,
    pub skip_after: Vec<Vec<u8>>,
}

/// The reader: feed it chunks of whole lines, then `finish`.
#[derive(Debug, Default)]
pub struct Parser {
    /// distinct frame lines, as printed
    pub lines: Interner<u8>,
    scalars: Interner<u8>,
    /// stacks: frame line numbers, leaf first
    stacks: Interner<u32>,
    /// entry keys: the map's number, then the parts
    keys: Interner<Part>,
    /// summed value by entry key
    sums: Vec<i128>,
    key: Vec<u32>,
    pub maps: Vec<MapDump>,
    map_index: HashMap<Vec<u8>, usize, FxBuildHasher>,
    pub report: Report,
    map: Option<usize>,
    /// the map whose name was last looked up
    last_map: Option<usize>,
    parts: Vec<Part>,
    /// reading a stack part (its frame lines so far in `frames`)
    in_stack: bool,
    frames: Vec<u32>,
    entry_line: u64,
    entry_text: Vec<u8>,
    in_histogram: bool,
    lineno: u64,
    /// names of the frame lines, by line number (filled by `name_lines`)
    names: Names,
}

/// A frame line's name without its name.
#[derive(Debug, Clone, Copy)]
struct Info {
    evidence: i8,
    inlined: bool,
    mode: Mode,
    exact: bool,
}

/// The names of the frame lines in one arena.
#[derive(Debug, Default)]
struct Names {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    info: Vec<Info>,
}

impl Names {
    fn push(&mut self, frame: Frame) {
        self.bytes.extend_from_slice(&frame.name);
        self.ends.push(self.bytes.len());
        self.info.push(Info {
            evidence: frame.evidence,
            inlined: frame.inlined,
            mode: frame.mode,
            exact: frame.exact,
        });
    }

    fn get(&self, id: u32) -> (&[u8], Info) {
        let k = id as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        (&self.bytes[start..self.ends[k]], self.info[k])
    }
}

/// `(.*)\]: (-?\d+)` in full: (group 1, group 2).
fn end_int(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let p = memmem::rfind(line, b"]: ")?;
    let value = &line[p + 3..];
    is_count(value).then_some((&line[..p], value))
}

/// `(.*)\]:(?: (.*))?` in full: (group 1, group 2).
fn end_other(line: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let mut end = line.len();
    while let Some(p) = memmem::rfind(&line[..end], b"]:") {
        if p + 2 == line.len() {
            return Some((&line[..p], None));
        }
        if line[p + 2] == b' ' {
            return Some((&line[..p], Some(&line[p + 3..])));
        }
        // `]:` inside `]]:`: the one ending at p + 1 is the next to try
        end = p + 1;
    }
    None
}

fn split_parts(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match memmem::find(t, b", ") {
            Some(i) => {
                rest = Some(&t[i + 2..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

struct Patterns {
    attaching: Regex,
    time: Regex,
    error: Regex,
}

/// Python's `\S` (not `str.isspace`).
const NOT_SPACE: &str =
    r"[^\t-\r\x1c- \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]";

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        attaching: Regex::new(r"^Attaching \d+ probes?\.\.\.$").expect("attaching"),
        time: Regex::new(r"^\d\d:\d\d:\d\d$").expect("time"),
        error: Regex::new(&format!(r"^(?:{NOT_SPACE}+:\d+:\d+(?:-\d+)?: )?ERROR: "))
            .expect("error"),
    })
}

/// `text` as a str for the Unicode patterns: bytes that are not UTF-8 become U+FFFD, which
/// (like the surrogate escapes Python has there) is no digit, space or letter.
fn decided(text: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(text) {
        Ok(s) => s.into(),
        Err(_) => chars(text)
            .map(|(_, _, c)| c.unwrap_or('\u{fffd}'))
            .collect::<String>()
            .into(),
    }
}

impl Parser {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read a chunk of whole lines (the last one may lack its newline), as
    /// `Source.text_lines` cuts it.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut pos = 0;
        while pos < chunk.len() {
            let (end, next) = line_at(chunk, pos);
            self.lineno += 1;
            let lineno = self.lineno;
            self.line(lineno, &chunk[pos..end]);
            pos = next;
        }
    }

    /// Read the next line (no line end) of text that stands for the input (`-f json`'s, see
    /// [`super::json`]): numbered after the lines read before it.
    pub fn text_line(&mut self, line: &[u8]) {
        self.lineno += 1;
        let lineno = self.lineno;
        self.line(lineno, line);
    }

    /// Read one line (no line end).
    pub fn line(&mut self, lineno: u64, line: &[u8]) {
        if !self.in_stack {
            self.outside(lineno, line);
            return;
        }
        let first = line.first().copied();
        if first == Some(b']') {
            self.end_stack();
            if let Some((head, value)) = end_int(line) {
                if head.is_empty() {
                    self.finish(parse_count(value));
                    return;
                }
            }
            if let Some((head, value)) = end_other(line) {
                if head.is_empty() {
                    self.finish_other(value);
                    return;
                }
            }
            self.abandon(lineno, line);
            return;
        }
        if line.starts_with(b", ") {
            self.end_stack();
            self.key_text(&line[2..], lineno);
            return;
        }
        let blank = is_blank(line);
        if first == Some(b'@') || blank {
            self.cut_entry(Some(lineno));
            if !blank {
                self.line(lineno, line);
            }
            return;
        }
        let id = self.lines.intern(line);
        self.frames.push(id);
    }

    fn start_stack(&mut self) {
        self.in_stack = true;
        self.frames.clear();
    }

    fn end_stack(&mut self) {
        self.in_stack = false;
        let id = self.stacks.intern(&self.frames);
        self.parts.push(stack_part(id));
    }

    fn map_of(&mut self, name: &[u8], lineno: u64) -> usize {
        // entries of one map come one after another: the last map's name is checked first
        if let Some(at) = self.last_map {
            if &self.maps[at].name[1..] == name {
                return at;
            }
        }
        if let Some(&at) = self.map_index.get(name) {
            self.last_map = Some(at);
            return at;
        }
        let mut full = b"@".to_vec();
        full.extend_from_slice(name);
        let at = self.maps.len();
        self.maps.push(MapDump {
            name: full,
            first_line: lineno,
            ..MapDump::default()
        });
        self.map_index.insert(name.to_vec(), at);
        self.last_map = Some(at);
        at
    }

    fn key_text(&mut self, rest: &[u8], lineno: u64) {
        if rest.is_empty() {
            self.start_stack();
            return;
        }
        if let Some((head, value)) = end_int(rest) {
            self.push_scalars(head);
            self.finish(parse_count(value));
            return;
        }
        if let Some((head, value)) = end_other(rest) {
            self.push_scalars(head);
            self.finish_other(value);
            return;
        }
        if let Some(head) = rest.strip_suffix(b", ") {
            self.push_scalars(head);
            self.start_stack();
            return;
        }
        self.abandon(lineno, rest);
    }

    fn push_scalars(&mut self, text: &[u8]) {
        for part in split_parts(text) {
            let id = self.scalars.intern(part);
            self.parts.push(scalar_part(id));
        }
    }

    fn reset(&mut self) {
        self.map = None;
        self.parts.clear();
        self.in_stack = false;
    }

    fn finish(&mut self, value: i128) {
        if let Some(at) = self.map {
            self.add(at, value);
        }
        self.reset();
    }

    /// Add `value` to the entry of map `at` whose key is `self.parts`.
    fn add(&mut self, at: usize, value: i128) {
        self.key.clear();
        self.key.push(at as u32);
        self.key.extend_from_slice(&self.parts);
        let id = self.keys.intern(&self.key);
        if id as usize == self.sums.len() {
            self.sums.push(value);
            self.maps[at].entries.push(id);
        } else {
            self.sums[id as usize] += value;
        }
        self.maps[at].printed += 1;
    }

    /// Sum of the printed values of map `at`.
    pub fn total(&self, at: usize) -> i128 {
        self.maps[at]
            .entries
            .iter()
            .map(|&k| self.sums[k as usize])
            .sum()
    }

    fn finish_other(&mut self, value: Option<&[u8]>) {
        if let Some(at) = self.map {
            let map = &mut self.maps[at];
            map.other_values += 1;
            if self.parts.iter().any(|p| p & 1 == 1) {
                map.other_stack = true;
            }
        }
        self.in_histogram = value.is_none_or(<[u8]>::is_empty);
        self.reset();
    }

    fn abandon(&mut self, lineno: u64, text: &[u8]) {
        self.report.bad_line(lineno, text);
        self.reset();
    }

    fn cut_entry(&mut self, at: Option<u64>) {
        let text = std::mem::take(&mut self.entry_text);
        self.report.bad_line(self.entry_line, &text);
        self.report.cuts.push(Cut {
            entry_line: self.entry_line,
            entry_text: text,
            at,
        });
        self.reset();
    }

    fn outside(&mut self, lineno: u64, line: &[u8]) {
        if is_blank(line) {
            self.in_histogram = false;
            return;
        }
        let first = line[0];
        if first == b'@' {
            self.in_histogram = false;
            let run = word_run(&line[1..]);
            let name = &line[1..1 + run];
            let after = &line[1 + run..];
            if after.first() == Some(&b'[') {
                let at = self.map_of(name, lineno);
                self.map = Some(at);
                self.parts.clear();
                self.entry_line = lineno;
                self.entry_text.clear();
                self.entry_text.extend_from_slice(line);
                self.key_text(&line[2 + run..], lineno);
                return;
            }
            if after.first() == Some(&b':') && (after.len() == 1 || after[1] == b' ') {
                let at = self.map_of(name, lineno);
                let value = if after.len() == 1 {
                    None
                } else {
                    Some(&after[2..])
                };
                self.maps[at].scalar = true;
                match value.map(py_strip) {
                    Some(v) if is_count(v) => {
                        self.parts.clear();
                        self.add(at, parse_count(v));
                    }
                    stripped => {
                        self.maps[at].other_values += 1;
                        self.in_histogram = stripped.is_none_or(<[u8]>::is_empty);
                    }
                }
                return;
            }
            self.report.bad_line(lineno, line);
            return;
        }
        if self.in_histogram && (first == b'[' || first == b'(') {
            return;
        }
        if matches!(first, b' ' | b'\t' | b']' | b',') || line.iter().all(u8::is_ascii_hexdigit) {
            self.report.bad_line(lineno, line);
            return;
        }
        let report = &mut self.report;
        if report.first_text.is_none() {
            report.first_text = Some(line.to_vec());
        }
        let p = patterns();
        // only these can hold what the patterns want (a match needs all its characters)
        let maybe_attaching = line.starts_with(b"Attaching ");
        let maybe_time = line.len() <= 32;
        let maybe_error = memmem::find(line, b"ERROR: ").is_some();
        if maybe_attaching || maybe_time || maybe_error {
            let text = decided(line);
            if (maybe_attaching && p.attaching.is_match(&text))
                || (maybe_time && p.time.is_match(&text))
            {
                return;
            }
            if maybe_error && p.error.is_match(&text) {
                report.errors += 1;
                report.first_error.get_or_insert_with(|| line.to_vec());
                return;
            }
        }
        report.other_lines += 1;
        if report.other_examples.len() < MAX_EXAMPLE_LINES {
            report.other_examples.push((lineno, line.to_vec()));
        }
    }

    /// End of input: an entry left open is reported.
    pub fn finish_input(&mut self) {
        if self.map.is_some() {
            self.cut_entry(None);
        }
        self.report.lines = self.lineno;
        self.lines.freeze();
        self.scalars.freeze();
        // scalars are only frames from now on, where `;` (the frame separator) is `:`
        self.scalars.map_items(|b| if b == b';' { b':' } else { b });
        self.stacks.freeze();
        self.keys.freeze();
    }

    /// The frame lines the Python twin must name (not printable ASCII), by number.
    pub fn odd_lines(&self) -> Vec<u32> {
        (0..self.lines.len() as u32)
            .filter(|&id| !is_plain_ascii(self.lines.get(id)))
            .collect()
    }

    /// Name every frame line: natively, or by `named` (the Python twin's names of
    /// [`Parser::odd_lines`], in that order).
    pub fn name_lines(&mut self, opts: &Options, named: Vec<Frame>) {
        let mut named = named.into_iter();
        let n = self.lines.len() as u32;
        let mut names = Names::default();
        for id in 0..n {
            let line = self.lines.get(id);
            let frame = if is_plain_ascii(line) {
                name_bpftrace_line(line, opts.addrs)
            } else {
                named.next().expect("a name for every odd line")
            };
            names.push(frame);
        }
        self.names = names;
        // the lines themselves are not needed any more
        self.lines = Interner::new();
    }

    fn frame(&self, id: u32) -> (&[u8], Info) {
        self.names.get(id)
    }

    /// The key parts of entry key `key`.
    fn parts_of(&self, key: u32) -> &[Part] {
        &self.keys.get(key)[1..]
    }

    /// Text of scalar part `part`.
    pub fn scalar(&self, part: Part) -> &[u8] {
        self.scalars.get(part >> 1)
    }

    /// Key positions holding a stack in at least one entry of map `at`.
    pub fn stack_positions(&self, at: usize) -> Vec<usize> {
        let mut positions: Vec<usize> = Vec::new();
        for &key in &self.maps[at].entries {
            for (i, &p) in self.parts_of(key).iter().enumerate() {
                if p & 1 == 1 && !positions.contains(&i) {
                    positions.push(i);
                }
            }
        }
        positions.sort_unstable();
        positions
    }

    /// Classify map `at` (`bpftrace.classify`), None when it has no stack key or no entry.
    pub fn classify(&self, at: usize) -> Option<StackMap> {
        let dump = &self.maps[at];
        let positions = self.stack_positions(at);
        let arity = dump
            .entries
            .iter()
            .map(|&key| self.parts_of(key).len())
            .max()
            .unwrap_or(0);
        if positions.is_empty() || dump.entries.is_empty() {
            return None;
        }
        let mut score = vec![0i64; positions.len()];
        let mut modes: Vec<Mode> = Vec::new();
        for &key in &dump.entries {
            let parts = self.parts_of(key);
            for (k, &i) in positions.iter().enumerate() {
                if let Some(&p) = parts.get(i) {
                    if p & 1 == 1 {
                        for &line in self.stacks.get(p >> 1) {
                            let (_, frame) = self.frame(line);
                            score[k] += i64::from(frame.evidence);
                            if !modes.contains(&frame.mode) {
                                modes.push(frame.mode);
                            }
                        }
                    }
                }
            }
        }
        modes.sort_unstable();
        let kinds = score
            .iter()
            .map(|&s| match s.signum() {
                1 => Kind::Kernel,
                -1 => Kind::User,
                _ => Kind::Undecided,
            })
            .collect();
        Some(StackMap {
            map: at,
            positions,
            kinds,
            modes,
            arity,
        })
    }

    /// `bpftrace._scalar_kind`: what the first entries hold at position `i`.
    pub fn scalar_kind(&self, at: usize, i: usize) -> &'static str {
        for &key in self.maps[at].entries.iter().take(50) {
            let parts = self.parts_of(key);
            if let Some(&p) = parts.get(i) {
                if p & 1 == 0 && !self.scalar(p).is_empty() {
                    return if is_count(self.scalar(p)) {
                        "integer"
                    } else {
                        "string"
                    };
                }
            }
        }
        "value"
    }

    /// Fold the entries of the classified maps `chosen` into `out` (`bpftrace.Folder`), each
    /// map's name as its stacks' root frame when `several`.
    pub fn fold(&self, chosen: &[StackMap], several: bool, opts: &Options, out: &mut FoldedReader) {
        let mut text: Vec<u8> = Vec::new();
        // a frame: its name and the suffix it gets
        let mut frames: Vec<(&[u8], &'static [u8])> = Vec::new();
        for map in chosen {
            let dump = &self.maps[map.map];
            let kind_at = |i: usize| {
                map.positions
                    .iter()
                    .position(|&p| p == i)
                    .map(|k| map.kinds[k])
            };
            let order: Vec<(usize, Kind)> = map
                .positions
                .iter()
                .zip(&map.kinds)
                .filter(|(_, &k)| k != Kind::Kernel)
                .chain(
                    map.positions
                        .iter()
                        .zip(&map.kinds)
                        .filter(|(_, &k)| k == Kind::Kernel),
                )
                .map(|(&i, &k)| (i, k))
                .collect();
            for &key in &dump.entries {
                let value = self.sums[key as usize];
                let parts = self.parts_of(key);
                frames.clear();
                if several {
                    frames.push((&dump.name, b""));
                }
                for (i, &p) in parts.iter().enumerate() {
                    if kind_at(i).is_none() && p & 1 == 0 && !self.scalar(p).is_empty() {
                        frames.push((self.scalar(p), b""));
                    }
                }
                let keep = frames.len();
                for &(i, kind) in &order {
                    let Some(&p) = parts.get(i) else { continue };
                    if p & 1 == 0 {
                        if !self.scalar(p).is_empty() {
                            frames.push((self.scalar(p), b""));
                        }
                        continue;
                    }
                    for &line in self.stacks.get(p >> 1).iter().rev() {
                        let (name, frame) = self.frame(line);
                        let suffix: &'static [u8] = if frame.inlined && opts.inline {
                            INLINE_SUFFIX
                        } else if opts.kernel
                            && (kind == Kind::Kernel
                                || (kind == Kind::Undecided && frame.exact && frame.evidence > 0))
                            && !name.ends_with(KERNEL_SUFFIX)
                        {
                            KERNEL_SUFFIX
                        } else {
                            b""
                        };
                        frames.push((name, suffix));
                    }
                }
                if frames.len() == keep {
                    frames.push((NO_STACK, b""));
                }
                let from = cut_from(&frames, &opts.skip_after, keep);
                text.clear();
                let kept = frames[..keep].iter().chain(&frames[from.unwrap_or(keep)..]);
                for (k, (name, suffix)) in kept.enumerate() {
                    if k > 0 {
                        text.push(b';');
                    }
                    text.extend_from_slice(name);
                    text.extend_from_slice(suffix);
                }
                out.add_sum(&text, value);
            }
        }
    }
}

/// `bpf_frames.cut_after` on (name, suffix) frames: the index of the leafmost frame after the
/// first `keep` named in `names` (or, with its `_[k]` suffix, the bare name is), if any.
fn cut_from(frames: &[(&[u8], &[u8])], names: &[Vec<u8>], keep: usize) -> Option<usize> {
    if names.is_empty() {
        return None;
    }
    (keep..frames.len()).rev().find(|&i| {
        let (name, suffix) = frames[i];
        let full_len = name.len() + suffix.len();
        names.iter().any(|n| {
            let whole = n.len() == full_len && n.starts_with(name) && n.ends_with(suffix);
            let bare = if suffix == KERNEL_SUFFIX {
                n.as_slice() == name
            } else {
                let full: Vec<u8> = [name, suffix].concat();
                full.strip_suffix(KERNEL_SUFFIX) == Some(n.as_slice())
            };
            whole || bare
        })
    })
}

/// What a stack position holds, by the evidence of its frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Kernel,
    User,
    Undecided,
}

impl Kind {
    /// `kstack`, `ustack` or `stack`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kernel => "kstack",
            Kind::User => "ustack",
            Kind::Undecided => "stack",
        }
    }
}

/// A map with a stack in its key, its positions classified (`bpftrace.StackMap`).
#[derive(Debug, Clone)]
pub struct StackMap {
    pub map: usize,
    pub positions: Vec<usize>,
    pub kinds: Vec<Kind>,
    pub modes: Vec<Mode>,
    pub arity: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str, opts: &Options) -> Vec<(String, i128)> {
        let mut p = Parser::new();
        p.feed(text.as_bytes());
        p.finish_input();
        p.name_lines(opts, Vec::new());
        let chosen: Vec<StackMap> = (0..p.maps.len()).filter_map(|m| p.classify(m)).collect();
        let mut out = FoldedReader::new();
        p.fold(&chosen, chosen.len() > 1, opts, &mut out);
        out.items()
            .map(|(s, w)| (String::from_utf8(s.to_vec()).unwrap(), w))
            .collect()
    }

    #[test]
    fn folds_a_multi_key_map() {
        let text = "Attaching 1 probe...\n\n@[\n    do_nanosleep+1\n    entry_SYSCALL_64_after_hwframe+68\n, \n    main+3\n, sleep]: 17\n@[, bash]: 3\n";
        let opts = Options {
            kernel: true,
            ..Options::default()
        };
        assert_eq!(
            folded(text, &opts),
            vec![
                (
                    "sleep;main;entry_SYSCALL_64_after_hwframe_[k];do_nanosleep_[k]".into(),
                    17
                ),
                ("bash".into(), 3),
            ]
        );
    }

    #[test]
    fn reports_cut_entries_and_output() {
        let mut p = Parser::new();
        p.feed(b"hello\n@[\n    f+1\n@x: 4\n12:00:01\nERROR: no\n@[\n    g+1\n");
        p.finish_input();
        let r = &p.report;
        assert_eq!(r.cuts.len(), 2);
        assert_eq!(r.cuts[0].at, Some(4));
        assert_eq!(r.cuts[1].at, None);
        assert_eq!((r.errors, r.other_lines, r.lines), (1, 1, 8));
        assert_eq!(p.maps[1].name, b"@x");
        assert!(p.maps[1].scalar);
    }

    #[test]
    fn ends_as_the_patterns_do() {
        assert_eq!(end_int(b"]: 5"), Some((&b""[..], &b"5"[..])));
        assert_eq!(end_int(b"a]: x]: -5"), Some((&b"a]: x"[..], &b"-5"[..])));
        assert_eq!(end_int(b"]: 5x"), None);
        assert_eq!(end_other(b"]]:"), Some((&b"]"[..], None)));
        assert_eq!(
            end_other(b"]: [1, 2)"),
            Some((&b""[..], Some(&b"[1, 2)"[..])))
        );
        assert_eq!(end_other(b"]:x"), None);
    }
}
