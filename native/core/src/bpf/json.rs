//! bpftrace `-f json` output (one JSON document per line) read as the text output it stands for,
//! the lines going straight into the text reader ([`Parser::text_line`]): the Python twin is
//! `bpftrace.json_as_text` over `bpf_frames.json_events`, and this module does what they do.
//!
//! A line is scanned twice: first validated as Python's `json.loads` validates it (the same
//! grammar, the same strings: `\uXXXX` escapes, surrogate pairs, no raw control characters),
//! then read for what it holds. A line that is not JSON, or not an object with a string `type`,
//! is an unrecognised line. A line whose reading depends on Python's own limits or on how it
//! prints a value (nesting deeper than [`MAX_DEPTH`], an integer longer than [`MAX_INT_DIGITS`]
//! digits, a key repeated in an object, a `probes` count that is not an integer) is handed back
//! to the caller ([`Step::Decline`]), which reads it with the twin and hands its text lines in.
//!
//! Strings are bytes: characters as UTF-8, bytes that are not UTF-8 kept as they are (Python has
//! them as surrogate escapes), and a lone surrogate escape as the bytes Python's twin normalises
//! it to (`bpf_frames.bytes_text`): `\udc80`..`\udcff` the byte it escapes, any other its
//! three-byte form.

use std::collections::HashMap;

use ahash::RandomState;
use rustc_hash::FxBuildHasher;

use super::bpftrace::Parser;
use super::text::{is_blank, line_at};

/// Nesting (objects and arrays) deeper than this is left to the twin (Python's recursion
/// limit decides there).
pub const MAX_DEPTH: usize = 100;
/// Integers with more digits are left to the twin: Python refuses to convert one longer than
/// `sys.get_int_max_str_digits()`, which is never below 640 (unless 0, no limit).
pub const MAX_INT_DIGITS: usize = 640;
/// Objects this deep or less are read for their keys (the event, its data, a map's entries),
/// so a key repeated in one (Python keeps the last value at the first one's place) is left to
/// the twin.
const KEYED_DEPTH: usize = 3;

/// What reading a chunk came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Every line was read.
    Done,
    /// The line `chunk[start..end]` (JSON line `lineno`) is for the twin to read; reading goes
    /// on at `next`.
    Decline {
        start: usize,
        end: usize,
        next: usize,
        lineno: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    /// not JSON (Python's `json.loads` raises ValueError)
    Invalid,
    /// for the twin to read
    Decline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Array,
    Str,
    Int,
    Float,
    Other,
}

/// A value's kind and where it is in the line.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Keys of one object: (hash of the decoded key, where the key starts), checked for repeats
/// when the object ends (sorted by hash: no random access per key, as a hash set would make).
#[derive(Debug, Default)]
struct KeySet {
    keys: Vec<(u64, usize)>,
}

impl KeySet {
    /// True when a key of the object (`s` is the line) is there twice.
    fn repeats(&mut self, s: &[u8], a: &mut Vec<u8>, b: &mut Vec<u8>) -> bool {
        self.keys.sort_unstable();
        self.keys.windows(2).any(|w| {
            w[0].0 == w[1].0 && {
                a.clear();
                b.clear();
                string(s, w[0].1, Some(a)).is_ok() && string(s, w[1].1, Some(b)).is_ok() && a == b
            }
        })
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let digits = s.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v << 4 | char::from(d).to_digit(16)?;
    }
    Some(v)
}

/// Append a code point: UTF-8, or for a lone surrogate the twin's bytes (see the module's
/// comment).
fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    if let Some(c) = char::from_u32(cp) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    } else if (0xdc80..=0xdcff).contains(&cp) {
        out.push((cp - 0xdc00) as u8);
    } else {
        out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]);
    }
}

/// The string starting at `s[at] == b'"'`, decoded into `out` when given: where it ends (after
/// its closing quote).
fn string(s: &[u8], at: usize, mut out: Option<&mut Vec<u8>>) -> Result<usize, Fail> {
    let mut i = at + 1;
    loop {
        let run = i;
        while i < s.len() && s[i] != b'"' && s[i] != b'\\' && s[i] >= 0x20 {
            i += 1;
        }
        if let Some(out) = out.as_deref_mut() {
            out.extend_from_slice(&s[run..i]);
        }
        match s.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => {}
            _ => return Err(Fail::Invalid), // a control character, or the line ends
        }
        let simple = match s.get(i + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 8,
            Some(b'f') => 12,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => 0,
            _ => return Err(Fail::Invalid),
        };
        if simple != 0 {
            if let Some(out) = out.as_deref_mut() {
                out.push(simple);
            }
            i += 2;
            continue;
        }
        let mut cp = hex4(s, i + 2).ok_or(Fail::Invalid)?;
        i += 6;
        if (0xd800..0xdc00).contains(&cp) && s.get(i..i + 2) == Some(b"\\u") {
            // a pair when the next escape is a low surrogate (an invalid one is invalid either way)
            let low = hex4(s, i + 2).ok_or(Fail::Invalid)?;
            if (0xdc00..0xe000).contains(&low) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                i += 6;
            }
        }
        if let Some(out) = out.as_deref_mut() {
            push_code_point(out, cp);
        }
    }
}

/// One line's scan: the line, where the scan is, and the keys of the open objects.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
    /// checking the keys of objects at most [`KEYED_DEPTH`] deep (the first scan)
    checking: bool,
    sets: &'a mut [KeySet; KEYED_DEPTH],
    hasher: &'a RandomState,
    key: &'a mut Vec<u8>,
    other: &'a mut Vec<u8>,
    /// the event's `type` and `data` (the first scan records them)
    event_type: Option<Span>,
    data: Option<Span>,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && is_ws(self.s[self.i]) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// A whole line's value: its kind.
    fn document(&mut self) -> Result<Kind, Fail> {
        let kind = self.value(1)?.kind;
        self.ws();
        if self.i != self.s.len() {
            return Err(Fail::Invalid);
        }
        Ok(kind)
    }

    /// The value after any white space, `depth` deep (the line's own value is 1 deep).
    fn value(&mut self, depth: usize) -> Result<Span, Fail> {
        self.ws();
        let start = self.i;
        let rest = &self.s[start..];
        let kind = match rest.first() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => {
                self.i = string(self.s, start, None)?;
                Kind::Str
            }
            Some(b'-' | b'0'..=b'9') if !rest.starts_with(b"-Infinity") => self.number()?,
            _ => {
                let words: [(&[u8], Kind); 6] = [
                    (b"null", Kind::Other),
                    (b"true", Kind::Other),
                    (b"false", Kind::Other),
                    (b"NaN", Kind::Float),
                    (b"Infinity", Kind::Float),
                    (b"-Infinity", Kind::Float),
                ];
                let (word, kind) = words
                    .into_iter()
                    .find(|(w, _)| rest.starts_with(w))
                    .ok_or(Fail::Invalid)?;
                self.i += word.len();
                kind
            }
        };
        Ok(Span {
            start,
            end: self.i,
            kind,
        })
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, as Python's scanner reads it.
    fn number(&mut self) -> Result<Kind, Fail> {
        let s = self.s;
        let digits = |mut i: usize| {
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = self.i;
        if s[i] == b'-' {
            i += 1;
        }
        let int_start = i;
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return Err(Fail::Invalid),
        }
        let mut kind = Kind::Int;
        if s.get(i) == Some(&b'.') && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            kind = Kind::Float;
            i = digits(i + 2);
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(s.get(j), Some(b'-' | b'+')) {
                j += 1;
            }
            let end = digits(j);
            if end > j {
                kind = Kind::Float;
                i = end;
            }
        }
        if kind == Kind::Int && i - int_start > MAX_INT_DIGITS {
            return Err(Fail::Decline);
        }
        self.i = i;
        Ok(kind)
    }

    fn array(&mut self, depth: usize) -> Result<Kind, Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::Decline);
        }
        if self.open(b']') {
            return Ok(Kind::Array);
        }
        loop {
            self.value(depth + 1)?;
            if self.after_member(b']')? {
                return Ok(Kind::Array);
            }
        }
    }

    /// At a `[` or `{`: past it, and past `close` too when nothing is in between (true).
    fn open(&mut self, close: u8) -> bool {
        self.i += 1;
        self.ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.i += 1;
        }
        empty
    }

    /// After a member: past the `,` that follows (false), or the `close` that ends them (true).
    fn after_member(&mut self, close: u8) -> Result<bool, Fail> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(Fail::Invalid),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind, Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::Decline);
        }
        let keyed = self.checking && depth <= KEYED_DEPTH;
        if keyed {
            self.sets[depth - 1].keys.clear();
        }
        if self.open(b'}') {
            return Ok(Kind::Object);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Fail::Invalid);
            }
            let key_start = self.i;
            if keyed {
                self.key.clear();
                self.i = string(self.s, key_start, Some(self.key))?;
                let hash = self.hasher.hash_one(self.key.as_slice());
                self.sets[depth - 1].keys.push((hash, key_start));
            } else {
                self.i = string(self.s, key_start, None)?;
            }
            self.ws();
            if self.peek() != Some(b':') {
                return Err(Fail::Invalid);
            }
            self.i += 1;
            // the event's own keys, told before its value (whose objects decode keys into `key`)
            let event = keyed && depth == 1;
            let (is_type, is_data) = (event && *self.key == b"type", event && *self.key == b"data");
            let value = self.value(depth + 1)?;
            if is_type {
                self.event_type = Some(value);
            } else if is_data {
                self.data = Some(value);
            }
            if self.after_member(b'}')? {
                if keyed && self.sets[depth - 1].repeats(self.s, self.key, self.other) {
                    return Err(Fail::Decline);
                }
                return Ok(Kind::Object);
            }
        }
    }

    /// In the second scan, at an object: the next key decoded into `out` (the scan then at its
    /// value), or false at the object's end. `first` for the object's first key.
    fn next_key(&mut self, out: &mut Vec<u8>, first: bool) -> Result<bool, Fail> {
        if first {
            self.i += 1; // the `{`
        }
        self.ws();
        match self.peek() {
            Some(b'}') => {
                self.i += 1;
                return Ok(false);
            }
            Some(b',') if !first => {
                self.i += 1;
                self.ws();
            }
            _ => {}
        }
        out.clear();
        let at = self.i;
        if self.peek() != Some(b'"') {
            return Err(Fail::Invalid);
        }
        self.i = string(self.s, at, Some(out))?;
        self.ws();
        if self.peek() != Some(b':') {
            return Err(Fail::Invalid);
        }
        self.i += 1;
        self.ws();
        Ok(true)
    }
}

/// `bpftrace.json_key_parts(key)` joined by `, ` (what the text output prints between a map's
/// `[` and `]`), appended to `out`.
pub fn key_text(key: &[u8], out: &mut Vec<u8>) {
    let n = key.len();
    let mut pos = 0;
    loop {
        let end;
        if key[pos..].starts_with(b"\n") {
            // the next `\n,` after this `\n`
            end = memchr::memchr_iter(b'\n', &key[pos + 1..])
                .map(|k| pos + 1 + k)
                .find(|&k| key.get(k + 1) == Some(&b','))
                .unwrap_or(n - 1);
            out.extend_from_slice(&key[pos..=end]);
            pos = end + 1;
        } else {
            end = memchr::memchr(b',', &key[pos..]).map_or(n, |k| pos + k);
            out.extend_from_slice(&key[pos..end]);
            pos = end;
        }
        if pos >= n {
            return;
        }
        pos += 1; // the `,` between parts
        out.extend_from_slice(b", ");
    }
}

/// The integer at `span` as Python prints it (`-0` is `0`; JSON has no other spelling to mend).
fn int_text(s: &[u8], span: Span) -> &[u8] {
    let text = &s[span.start..span.end];
    if text == b"-0" {
        b"0"
    } else {
        text
    }
}

/// The `-f json` reader: JSON lines in, text lines out to a [`Parser`].
#[derive(Debug, Default)]
pub struct JsonLines {
    /// JSON lines read (blank ones too)
    lineno: u64,
    /// maps printed as something other than stacks (histograms, statistics, non-integer
    /// values): (name, prints) in order of the first
    skipped: Vec<(Vec<u8>, u64)>,
    skipped_at: HashMap<Vec<u8>, usize, FxBuildHasher>,
    sets: [KeySet; KEYED_DEPTH],
    hasher: RandomState,
    key: Vec<u8>,
    other: Vec<u8>,
    name: Vec<u8>,
    text: Vec<u8>,
}

impl JsonLines {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps skipped (not stacks), with how often each was printed.
    pub fn skipped(&self) -> &[(Vec<u8>, u64)] {
        &self.skipped
    }

    /// Count one print of map `name` that is not a stack map.
    pub fn skip(&mut self, name: &[u8]) {
        match self.skipped_at.get(name) {
            Some(&at) => self.skipped[at].1 += 1,
            None => {
                self.skipped_at.insert(name.to_vec(), self.skipped.len());
                self.skipped.push((name.to_vec(), 1));
            }
        }
    }

    /// Read the JSON lines of `chunk` (whole lines, as `Source.chunks` cuts them) from `pos`
    /// into `parser`, until one is for the twin.
    pub fn feed(&mut self, parser: &mut Parser, chunk: &[u8], mut pos: usize) -> Step {
        while pos < chunk.len() {
            let (end, next) = line_at(chunk, pos);
            self.lineno += 1;
            let line = &chunk[pos..end];
            if !is_blank(line) && self.line(parser, line) == Err(Fail::Decline) {
                return Step::Decline {
                    start: pos,
                    end,
                    next,
                    lineno: self.lineno,
                };
            }
            pos = next;
        }
        Step::Done
    }

    /// A scan of `line` from `i`, `checking` keys (the first scan) or not.
    fn scan<'a>(&'a mut self, line: &'a [u8], i: usize, checking: bool) -> Scan<'a> {
        Scan {
            s: line,
            i,
            checking,
            sets: &mut self.sets,
            hasher: &self.hasher,
            key: &mut self.key,
            other: &mut self.other,
            event_type: None,
            data: None,
        }
    }

    /// Read one JSON line: its text lines go to `parser`.
    fn line(&mut self, parser: &mut Parser, line: &[u8]) -> Result<(), Fail> {
        let mut scan = self.scan(line, 0, true);
        let checked = scan.document();
        let (event_type, data) = (scan.event_type, scan.data);
        // the keys of a big map are not needed any more
        for set in &mut self.sets {
            if set.keys.capacity() > 1024 {
                *set = KeySet::default();
            }
        }
        match checked {
            Err(Fail::Decline) => return Err(Fail::Decline),
            Err(Fail::Invalid) => {
                parser.report.bad_line(self.lineno, line);
                return Ok(());
            }
            Ok(Kind::Object) => {}
            Ok(_) => {
                parser.report.bad_line(self.lineno, line);
                return Ok(());
            }
        }
        let Some(event_type) = event_type.filter(|t| t.kind == Kind::Str) else {
            parser.report.bad_line(self.lineno, line);
            return Ok(());
        };
        let mut kind = Vec::new();
        string(line, event_type.start, Some(&mut kind))?;
        let Some(data) = data.filter(|d| d.kind == Kind::Object) else {
            return Ok(());
        };
        let mut name = std::mem::take(&mut self.name);
        let mut text = std::mem::take(&mut self.text);
        let mut skips: Vec<Vec<u8>> = Vec::new();
        let mut scan = self.scan(line, data.start, false);
        let read = match kind.as_slice() {
            b"attached_probes" => attached(&mut scan, &mut name, parser),
            b"map" => maps(&mut scan, &mut name, &mut text, &mut skips, parser),
            b"hist" | b"stats" | b"lhist" => (|| {
                let mut first = true;
                while scan.next_key(&mut name, first)? {
                    first = false;
                    skips.push(name.clone());
                    scan.value(3)?;
                }
                Ok(())
            })(),
            _ => Ok(()),
        };
        for skipped in &skips {
            self.skip(skipped);
        }
        self.name = name;
        self.text = text;
        read
    }
}

/// `attached_probes`: the line `Attaching N probes...` (N an integer, else for the twin).
fn attached(scan: &mut Scan, key: &mut Vec<u8>, parser: &mut Parser) -> Result<(), Fail> {
    let mut probes = None;
    let mut first = true;
    while scan.next_key(key, first)? {
        first = false;
        let value = scan.value(3)?;
        if key.as_slice() == b"probes" {
            probes = Some(value);
        }
    }
    let count: &[u8] = match probes {
        None => b"0",
        Some(span) if span.kind == Kind::Int => int_text(scan.s, span),
        Some(_) => return Err(Fail::Decline), // printed by Python's str()
    };
    let line = [b"Attaching ", count, b" probes..."].concat();
    parser.text_line(&line);
    Ok(())
}

/// `map`: each map's entries as the text prints them (`@name[key parts]: N`, or `@name: N`),
/// cut into lines; maps and entries whose values are not integers are counted in `skips`.
fn maps(
    scan: &mut Scan,
    name: &mut Vec<u8>,
    text: &mut Vec<u8>,
    skips: &mut Vec<Vec<u8>>,
    parser: &mut Parser,
) -> Result<(), Fail> {
    let mut key = Vec::new();
    let mut first = true;
    while scan.next_key(name, first)? {
        first = false;
        if scan.peek() != Some(b'{') {
            let value = scan.value(3)?;
            if value.kind == Kind::Int {
                text.clear();
                text.extend_from_slice(name);
                text.extend_from_slice(b": ");
                text.extend_from_slice(int_text(scan.s, value));
                text_lines(text, parser);
            } else {
                skips.push(name.clone());
            }
            continue;
        }
        let mut first_entry = true;
        while scan.next_key(&mut key, first_entry)? {
            first_entry = false;
            let value = scan.value(4)?;
            if value.kind != Kind::Int {
                skips.push(name.clone());
                continue;
            }
            text.clear();
            text.extend_from_slice(name);
            text.push(b'[');
            key_text(&key, text);
            text.extend_from_slice(b"]: ");
            text.extend_from_slice(int_text(scan.s, value));
            text_lines(text, parser);
        }
    }
    Ok(())
}

/// `text.split("\n")`, each piece a line for `parser`.
fn text_lines(text: &[u8], parser: &mut Parser) {
    let mut start = 0;
    for at in memchr::memchr_iter(b'\n', text) {
        parser.text_line(&text[start..at]);
        start = at + 1;
    }
    parser.text_line(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(s: &str) -> Result<Vec<u8>, Fail> {
        let mut out = Vec::new();
        let end = string(s.as_bytes(), 0, Some(&mut out))?;
        assert_eq!(end, s.len());
        Ok(out)
    }

    #[test]
    fn strings_decode_as_python_json() {
        assert_eq!(decoded(r#""a\n\t\"\\\/b""#).unwrap(), b"a\n\t\"\\/b");
        assert_eq!(
            decoded(r#""\u00e9\ud83d\ude00""#).unwrap(),
            "é😀".as_bytes()
        );
        // bpftrace 0.17 prints a byte >= 0x80 as `\uffffffXX`: U+FFFF, then the text `ffXX`
        assert_eq!(
            decoded(r#""\uffffffc3""#).unwrap(),
            "\u{ffff}ffc3".as_bytes()
        );
        assert_eq!(
            decoded(r#""\udcff\ud800x\udc00""#).unwrap(),
            b"\xff\xed\xa0\x80x\xed\xb0\x80"
        );
        assert_eq!(decoded(r#""\ud800\u0041""#).unwrap(), b"\xed\xa0\x80A");
        assert_eq!(decoded("\"\u{1}\""), Err(Fail::Invalid));
        assert_eq!(decoded(r#""\x""#), Err(Fail::Invalid));
        assert_eq!(decoded(r#""\u12""#), Err(Fail::Invalid));
        assert_eq!(decoded(r#""\ud800\uzzzz""#), Err(Fail::Invalid));
    }

    #[test]
    fn keys_join_as_the_text_prints_them() {
        let text = |key: &str| {
            let mut out = Vec::new();
            key_text(key.as_bytes(), &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(",\n    a+1\n,python"), ", \n    a+1\n, python");
        assert_eq!(
            text("\n    a\n,\n    b\n,cat,28595"),
            "\n    a\n, \n    b\n, cat, 28595"
        );
        assert_eq!(text(""), "");
        assert_eq!(text("a,"), "a, ");
        assert_eq!(text("\n"), "\n");
    }

    fn read(lines: &str) -> (Parser, JsonLines, Step) {
        let mut p = Parser::new();
        let mut j = JsonLines::new();
        let step = j.feed(&mut p, lines.as_bytes(), 0);
        (p, j, step)
    }

    #[test]
    fn maps_become_text_lines() {
        let (mut p, j, step) = read(concat!(
            "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n",
            "\n",
            "{\"type\": \"map\", \"data\": {\"@\": {\"\\n    f+1\\n,cat\": 3, \"x\": 1.5}, \"@n\": -0}}\n",
            "{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 0}]}}\n",
            "not json\n",
        ));
        assert_eq!(step, Step::Done);
        p.finish_input();
        assert_eq!(p.report.lines, 5); // Attaching, `@[`, the frame, `, cat]: 3`, `@n: 0`
        assert_eq!(p.report.bad_lines, 1);
        assert_eq!(p.report.bad_examples[0], (5, b"not json".to_vec()));
        assert_eq!(p.maps.len(), 2);
        let skipped: Vec<(&[u8], u64)> = j
            .skipped()
            .iter()
            .map(|(n, c)| (n.as_slice(), *c))
            .collect();
        assert_eq!(skipped, vec![(&b"@"[..], 1), (&b"@h"[..], 1)]);
    }

    #[test]
    fn what_python_decides_is_declined() {
        let deep = format!(
            "{{\"type\": \"x\", \"data\": {}{}}}\n",
            "[".repeat(200),
            "]".repeat(200)
        );
        let big = format!("{{\"type\": \"x\", \"data\": {}}}\n", "9".repeat(700));
        for line in [
            deep.as_str(),
            big.as_str(),
            "{\"type\": \"map\", \"data\": {\"@\": {\"a\": 1, \"\\u0061\": 2}}}\n",
            "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1.0}}\n",
            "{\"type\": \"map\", \"type\": \"map\"}\n",
        ] {
            let (_, _, step) = read(line);
            assert!(matches!(step, Step::Decline { lineno: 1, .. }), "{line}");
        }
        let (p, _, step) =
            read("{\"type\": \"x\", \"data\": [[[{\"a\": 1, \"a\": 2}]]]}\n[1]\n{\"type\": 1}\n");
        assert_eq!(step, Step::Done);
        assert_eq!(p.report.bad_lines, 2);
    }

    #[test]
    fn numbers_and_words_as_python_reads_them() {
        let kind = |text: &str| JsonLines::new().scan(text.as_bytes(), 0, true).document();
        assert_eq!(kind("-0"), Ok(Kind::Int));
        assert_eq!(kind(" 12 "), Ok(Kind::Int));
        assert_eq!(kind("1.5e-3"), Ok(Kind::Float));
        assert_eq!(kind("1E5"), Ok(Kind::Float));
        assert_eq!(kind("-Infinity"), Ok(Kind::Float));
        assert_eq!(kind("NaN"), Ok(Kind::Float));
        assert_eq!(kind("null"), Ok(Kind::Other));
        for bad in [
            "01",
            "1.",
            "-",
            "1e",
            ".5",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "nul",
            "\u{a0}1",
            "1 2",
            "",
        ] {
            assert_eq!(kind(bad), Err(Fail::Invalid), "{bad:?}");
        }
    }
}
