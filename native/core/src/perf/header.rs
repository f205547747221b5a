//! Sample header lines of `perf script` (`comm pid/tid [cpu] time: period event: rest`), matched
//! exactly as `foldkit/ingest/perf.py`'s `HEADER` pattern matches them.

use regex::bytes::{CaptureLocations, Regex};

/// The header pattern. Python's lookaheads are rewritten: `(?![^\n]*: PERF_RECORD_)` is checked
/// separately ([`Header::parse`]), `(?![\d.]+:)` before the event by its first characters.
const PATTERN: &str = r"(?-u)^[ \t]*(?P<comm>[^ \t\n][^\n]*?)[ \t]+(?P<pid>-?[0-9]+)(?:/(?P<tid>-?[0-9]+))?(?:[ \t]+\[(?P<cpu>[0-9]+)\])?(?:[ \t]+(?P<time>[0-9]+\.[0-9]+):)?(?:[ \t]+(?P<period>[0-9]+))?(?:[ \t]+(?P<event>(?:[^ \t\n0-9.]|[0-9.]+[^ \t\n0-9.:])[^ \t\n]*?):(?P<rest>[ \t][^\n]*)?)?[ \t]*$";

const COMM: usize = 1;
const PID: usize = 2;
const TID: usize = 3;
const TIME: usize = 5;
const PERIOD: usize = 6;
const EVENT: usize = 7;
const REST: usize = 8;

/// The fields of one header line (slices of it).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fields<'a> {
    pub comm: &'a [u8],
    pub pid: Option<&'a [u8]>,
    pub tid: Option<&'a [u8]>,
    pub time: Option<&'a [u8]>,
    pub period: Option<&'a [u8]>,
    pub event: Option<&'a [u8]>,
    pub rest: Option<&'a [u8]>,
}

/// A compiled header matcher (one per thread: it keeps reusable capture slots).
pub struct Header {
    regex: Regex,
    locs: CaptureLocations,
    side_event: memchr::memmem::Finder<'static>,
}

impl Default for Header {
    fn default() -> Self {
        Self::new()
    }
}

impl Header {
    pub fn new() -> Self {
        let regex = Regex::new(PATTERN).expect("the header pattern compiles");
        let locs = regex.capture_locations();
        let side_event = memchr::memmem::Finder::new(b": PERF_RECORD_");
        Header {
            regex,
            locs,
            side_event,
        }
    }

    /// The fields of `line` when the whole line is a sample header.
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Option<Fields<'a>> {
        if self.side_event.find(line).is_some() {
            return None;
        }
        self.parse_sample(line)
    }

    /// [`Header::parse`] of a line the caller already knows holds no `PERF_RECORD_` side event.
    pub fn parse_sample<'a>(&mut self, line: &'a [u8]) -> Option<Fields<'a>> {
        // the pattern's leading blanks are all the line's (the comm starts with no blank), so a
        // space-indented header (`-G` right-aligns the comm) is the usual shape after them
        let indent = line.iter().take_while(|&&b| is_ws(b)).count();
        if let Some(fields) = parse_usual(&line[indent..]) {
            return Some(fields);
        }
        self.parse_regex(line)
    }

    /// [`Header::parse_sample`] of a line of a chunk as [`crate::perf::Worker`] cuts them: no
    /// newline in it (not searched for again).
    pub fn parse_line<'a>(&mut self, line: &'a [u8]) -> Option<Fields<'a>> {
        debug_assert!(!line.contains(&b'\n'));
        let indent = line.iter().take_while(|&&b| is_ws(b)).count();
        if let Some(fields) = parse_usual_line(&line[indent..]) {
            return Some(fields);
        }
        self.parse_regex(line)
    }

    /// [`Header::parse`] by the regular expression alone.
    pub fn parse_regex<'a>(&mut self, line: &'a [u8]) -> Option<Fields<'a>> {
        self.regex.captures_read(&mut self.locs, line)?;
        let group = |i: usize| self.locs.get(i).map(|(s, e)| &line[s..e]);
        Some(Fields {
            comm: group(COMM)?,
            pid: group(PID),
            tid: group(TID),
            time: group(TIME),
            period: group(PERIOD),
            event: group(EVENT),
            rest: group(REST),
        })
    }
}

#[inline(always)]
fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES << 7;

/// 0x80 in each byte of `w` that is not `b` (exact: no carry crosses bytes).
#[inline(always)]
fn differs(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    (((x & !HIGH) + !HIGH) | x) & HIGH
}

/// 0x80 in each byte of `w` that is no blank.
#[inline(always)]
fn not_blank(w: u64) -> u64 {
    differs(w, b' ') & differs(w, b'\t')
}

/// 0x80 in each byte of `w` that is no ASCII digit.
#[inline(always)]
fn not_digit(w: u64) -> u64 {
    let x = w ^ (ONES * u64::from(b'0'));
    (((x & !HIGH) + ONES * 0x76) | x) & HIGH
}

/// The first index from `i` on where `stop` (0x80 flags for 8 bytes read as a little-endian
/// word) flags a byte, or the line's length: a word at a time, the last bytes one by one.
#[inline(always)]
fn scan(
    line: &[u8],
    mut i: usize,
    stop: impl Fn(u64) -> u64,
    stop_byte: impl Fn(u8) -> bool,
) -> usize {
    while let Some(bytes) = line.get(i..i + 8) {
        let w = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        let flags = stop(w);
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < line.len() && !stop_byte(line[i]) {
        i += 1;
    }
    i
}

/// The end of the run of blanks at `i`.
#[inline(always)]
fn skip_ws(line: &[u8], i: usize) -> usize {
    scan(line, i, not_blank, |b| !is_ws(b))
}

/// The first blank at or after `i` (or the line's length).
#[inline(always)]
fn find_ws(line: &[u8], i: usize) -> usize {
    scan(line, i, |w| !not_blank(w) & HIGH, is_ws)
}

/// The end of the run of ASCII digits at `i`.
#[inline(always)]
fn skip_digits(line: &[u8], i: usize) -> usize {
    scan(line, i, not_digit, |b| !b.is_ascii_digit())
}

/// After an optional `-` at `i`: the end of the run of digits there (== the start when none).
#[inline(always)]
fn skip_signed(line: &[u8], i: usize) -> (usize, usize) {
    let from = if line.get(i) == Some(&b'-') { i + 1 } else { i };
    (from, skip_digits(line, from))
}

/// The usual header shapes without backtracking, in one scan from the left: the pattern's first
/// match when this returns Some. The comm ends at the first blank run followed by a pid (no
/// shorter comm can match, as the pattern needs blanks and a digit after it); each optional field
/// is taken when present, as the pattern's greedy groups do. Anything that would need
/// backtracking returns None (the caller then runs the regular expression).
fn parse_usual(line: &[u8]) -> Option<Fields<'_>> {
    if memchr::memchr(b'\n', line).is_some() {
        return None;
    }
    parse_usual_line(line)
}

/// [`parse_usual`] of a line holding no newline.
#[inline]
fn parse_usual_line(line: &[u8]) -> Option<Fields<'_>> {
    let (fields, i, _) = parse_usual_prefix(line)?;
    parse_usual_rest(line, i, fields)
}

/// The start of a usual header: its comm, pid, tid and cpu fields and where the parse goes on;
/// and true when a cpu field was taken. Every byte this decides by is then before that point, so
/// another line starting with the same bytes up to it starts with the same fields (see
/// [`parse_usual_rest`]). Without a cpu field the bytes after the tid decide whether one
/// follows.
#[inline]
pub fn parse_usual_prefix(line: &[u8]) -> Option<(Fields<'_>, usize, bool)> {
    let n = line.len();
    let first = *line.first()?;
    if is_ws(first) {
        return None;
    }
    // the first blank run (after the comm's first byte) followed by `-?[0-9]`
    let mut e = 1;
    let (comm_end, pid_start) = loop {
        e = find_ws(line, e);
        if e == n {
            return None;
        }
        let ws = e;
        e = skip_ws(line, e);
        let digit_at = if line.get(e) == Some(&b'-') { e + 1 } else { e };
        if digit_at < n && line[digit_at].is_ascii_digit() {
            break (ws, e);
        }
    };
    let (_, mut i) = skip_signed(line, pid_start);
    let pid = &line[pid_start..i];
    let mut tid = None;
    if i < n && line[i] == b'/' {
        let start = i + 1;
        let (from, end) = skip_signed(line, start);
        if end == from {
            return None;
        }
        tid = Some(&line[start..end]);
        i = end;
    }
    let fields = Fields {
        comm: &line[..comm_end],
        pid: Some(pid),
        tid,
        ..Fields::default()
    };
    // cpu: blanks `[digits]`
    let j = skip_ws(line, i);
    if j > i && j < n && line[j] == b'[' {
        let end = skip_digits(line, j + 1);
        if end > j + 1 && end < n && line[end] == b']' {
            return Some((fields, end + 1, true));
        }
    }
    Some((fields, i, false))
}

/// [`parse_usual_line`] from `i` on, after [`parse_usual_prefix`] gave `fields` and `i` (for this
/// line, or for another starting with the same `i` bytes): the time, period, event and rest
/// fields; None when the rest is not of the usual shape.
#[inline]
pub fn parse_usual_rest<'a>(
    line: &'a [u8],
    mut i: usize,
    mut fields: Fields<'a>,
) -> Option<Fields<'a>> {
    let n = line.len();
    let mut j = skip_ws(line, i);
    // time: blanks digits.digits:
    if j > i {
        let a = skip_digits(line, j);
        if a > j && a < n && line[a] == b'.' {
            let b = skip_digits(line, a + 1);
            if b > a + 1 && b < n && line[b] == b':' {
                fields.time = Some(&line[j..b]);
                i = b + 1;
                j = skip_ws(line, i);
            }
        }
    }
    // period: blanks digits, then a blank or the end
    if j > i {
        let end = skip_digits(line, j);
        if end > j {
            if end < n && !is_ws(line[end]) {
                return None;
            }
            fields.period = Some(&line[j..end]);
            i = end;
            j = skip_ws(line, i);
        }
    }
    // event: blanks, a token ending in `:` (the last `:` before a blank or the end), the rest
    if j == n {
        return Some(fields);
    }
    if j == i {
        return None;
    }
    let end = find_ws(line, j);
    let token = &line[j..end];
    if token.len() < 2 || token[token.len() - 1] != b':' {
        return None;
    }
    let event = &token[..token.len() - 1];
    let run = event
        .iter()
        .take_while(|&&b| b.is_ascii_digit() || b == b'.')
        .count();
    if run > 0 && (run == event.len() || event[run] == b':') {
        return None;
    }
    fields.event = Some(event);
    if end < n {
        fields.rest = Some(&line[end..]);
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    thread_local! {
        static HEADER: std::cell::RefCell<Header> = std::cell::RefCell::new(Header::new());
    }

    fn piece() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "a",
            "FS Broker",
            "5858",
            "-1",
            "1",
            "/",
            "/7",
            " ",
            "  ",
            "\t",
            "[000]",
            "[1",
            "1954.705191:",
            "1.5",
            ":",
            "::",
            "cycles:",
            "cpu-clock:ppp:",
            "sched:sched_switch:",
            "1.5:x:",
            "12ab:",
            "x",
            "\r",
            "prev_comm=a",
            "==>",
            ".",
            "#",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #[test]
        fn word_scans_stop_where_byte_scans_stop(
            line in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'\t'), Just(b'0'), Just(b'9'), Just(b'/'), Just(b':'),
                    Just(0xb0u8), Just(0xa0u8), Just(0x89u8), any::<u8>()], 0..40),
            from in 0usize..40,
        ) {
            let i = from.min(line.len());
            let plain = |stop: &dyn Fn(u8) -> bool| {
                i + line[i..].iter().take_while(|&&b| !stop(b)).count()
            };
            prop_assert_eq!(skip_ws(&line, i), plain(&|b| !is_ws(b)));
            prop_assert_eq!(find_ws(&line, i), plain(&is_ws));
            prop_assert_eq!(skip_digits(&line, i), plain(&|b| !b.is_ascii_digit()));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn indented_shapes_match_the_pattern(indent in "[ \t]{0,20}", pieces in prop::collection::vec(piece(), 1..14)) {
            let line = format!("{indent}{}", pieces.concat());
            let fast = HEADER.with(|h| h.borrow_mut().parse_sample(line.as_bytes()).map(|f| format!("{f:?}")));
            let slow = HEADER.with(|h| h.borrow_mut().parse_regex(line.as_bytes()).map(|f| format!("{f:?}")));
            let cut = HEADER.with(|h| h.borrow_mut().parse_line(line.as_bytes()).map(|f| format!("{f:?}")));
            prop_assert_eq!(&fast, &slow, "{:?}", line);
            prop_assert_eq!(cut, slow, "{:?}", line);
        }

        #[test]
        fn a_line_read_after_a_known_prefix_matches_the_pattern(
            head in r"[a-z:][a-z 0-9\[\]:]{0,6}[ \t]{1,3}-?[0-9]{1,4}(/-?[0-9]{1,3})?[ \t]{1,2}\[[0-9]{1,3}\]",
            seen in prop::collection::vec(piece(), 0..10),
            tail in prop::collection::vec(piece(), 0..10),
        ) {
            // a header seen (its start through its cpu field, then an ending), then a line with
            // the same start and another ending: read from where the first one's parse of its
            // start left off, as parse_line and the pattern read the whole line
            let first = format!("{head}{}", seen.concat());
            if let Some((f, len, true)) = parse_usual_prefix(first.as_bytes()) {
                let line = format!("{}{}", &first[..len], tail.concat());
                let (line, base) = (line.as_bytes(), first.as_ptr() as usize);
                let at = |s: &[u8]| s.as_ptr() as usize - base;
                let known = Fields {
                    comm: &line[..f.comm.len()],
                    pid: f.pid.map(|p| &line[at(p)..at(p) + p.len()]),
                    tid: f.tid.map(|t| &line[at(t)..at(t) + t.len()]),
                    ..Fields::default()
                };
                let whole = HEADER.with(|h| h.borrow_mut().parse_line(line).map(|f| format!("{f:?}")));
                let slow = HEADER.with(|h| h.borrow_mut().parse_regex(line).map(|f| format!("{f:?}")));
                if let Some(after) = parse_usual_rest(line, len, known).map(|f| format!("{f:?}")) {
                    prop_assert_eq!(Some(&after), whole.as_ref(), "{:?}", line);
                    prop_assert_eq!(Some(after), slow, "{:?}", line);
                }
            }
        }

        #[test]
        fn usual_shapes_match_the_pattern(pieces in prop::collection::vec(piece(), 1..14)) {
            let line = pieces.concat();
            if let Some(fast) = parse_usual(line.as_bytes()) {
                let slow = HEADER.with(|h| h.borrow_mut().parse_regex(line.as_bytes()).map(|f| format!("{f:?}")));
                prop_assert_eq!(Some(format!("{fast:?}")), slow, "{:?}", line);
            }
        }
    }

    #[test]
    fn headers() {
        let mut h = Header::new();
        let f = h
            .parse(b"FS Broker 5858 5858/5860 [000] 1954.705191:    2004008 cpu-clock:ppp: ")
            .unwrap();
        assert_eq!(f.comm, b"FS Broker 5858");
        assert_eq!(f.tid, Some(&b"5860"[..]));
        assert_eq!(f.period, Some(&b"2004008"[..]));
        assert_eq!(f.event, Some(&b"cpu-clock:ppp"[..]));
        let f = h
            .parse(b"perf 1 [000] 1.5: sched:sched_switch: prev_comm=a ==> b")
            .unwrap();
        assert_eq!(f.event, Some(&b"sched:sched_switch"[..]));
        assert_eq!(f.rest, Some(&b" prev_comm=a ==> b"[..]));
        assert!(h
            .parse(b"perf 1 [000] 1.5: PERF_RECORD_EXIT(1:1)")
            .is_none());
        assert!(h.parse(b"\tffffffff815d6c20 x").is_none());
        for line in [
            &b"FS Broker 5858 5858/5860 [000] 1.0: 1 cycles: "[..],
            b"swapper     0 [000]  1323.905281:     200040 cpu-clock:ppp: ",
        ] {
            assert_eq!(
                parse_usual(line).or_else(|| h.parse_regex(line)),
                h.parse_regex(line)
            );
        }
        assert!(
            parse_usual(b"swapper     0 [000]  1323.905281:     200040 cpu-clock:ppp: ").is_some()
        );
        let f = h.parse(b"a 1 12.5:").unwrap();
        assert_eq!(
            (f.comm, f.time, f.event),
            (&b"a"[..], Some(&b"12.5"[..]), None)
        );
    }
}
