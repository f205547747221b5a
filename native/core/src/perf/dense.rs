//! Samples not separated by blank lines (`perf script` output piped through `grep -v '^$'` or
//! tools that drop empty lines, some editors, `-F` field sets): a sample's call chain is the run
//! of tab-indented lines after its header, and it ends at the next line at which the twin's state
//! machine starts afresh (a header, a comment or a side event at a line's start, a blank line).
//! Such a sample is folded as a block ([`Worker::fold_sample`], the chain cache and all) on the
//! chain's lines alone, its header parsed once (as the line ending the sample before it); a
//! sample this cannot take (a `+srcline` line, a space-indented header, a bad line, a layout of
//! its own) is read by the line path ([`Worker::fold_lines`]) up to the next such line, so the
//! result is the twin's line for line.

use super::header::Fields;
use super::{is_blank, ChunkInfo, LineNamer, Lines, Map, Stop, Taken, Worker, CANCEL_EVERY};

/// The end of `text`'s line starting at `at`: the index of its newline, or `text.len()`.
fn line_end(text: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i)
}

/// Bytes [`tab_lines_end`] looks at a step.
const STEP: usize = 32;

/// Where the lines from `at` on stop starting with a tab: the start of the first other line, or
/// `text.len()`. Looks for a newline not followed by a tab `STEP` bytes at a time (a loop the
/// compiler turns into vector compares): one pass over a call chain, not one search per line.
fn tab_lines_end(text: &[u8], at: usize) -> usize {
    if text.get(at) != Some(&b'\t') {
        return at;
    }
    let mut i = at;
    while i + STEP < text.len() {
        let here: &[u8; STEP] = text[i..i + STEP].try_into().expect("STEP bytes");
        let next: &[u8; STEP] = text[i + 1..i + 1 + STEP].try_into().expect("STEP bytes");
        let found = here
            .iter()
            .zip(next)
            .fold(false, |any, (&a, &b)| any | ((a == b'\n') & (b != b'\t')));
        if found {
            break; // in these bytes: found below
        }
        i += STEP;
    }
    while i < text.len() {
        if text[i] == b'\n' && text.get(i + 1) != Some(&b'\t') {
            return i + 1;
        }
        i += 1;
    }
    text.len()
}

/// True when `text` starts with a sample whose header starts a line and whose tab-indented call
/// chain is followed by a line at a line's start, no blank line (a sample
/// [`Worker::fold_blocks`] does not take, after which it would look for the blank line ending it).
pub(super) fn starts_dense(text: &[u8]) -> bool {
    if matches!(
        text.first(),
        None | Some(b' ' | b'\t' | b'#' | b'\n' | b'\r')
    ) {
        return false;
    }
    let next = tab_lines_end(text, (line_end(text, 0) + 1).min(text.len()));
    !matches!(text.get(next), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

/// What a line is to a sample being read before it (see [`Worker::ends_sample`]).
enum After<'a> {
    /// the line may belong to the sample (a frame or source line to the twin)
    Continues,
    /// the line ends the sample (a blank line, a comment, a side event)
    Ends,
    /// the line ends the sample and is a header at a line's start, parsed
    Header(Fields<'a>),
}

impl Worker {
    /// What `line` is to the sample before it: the twin ends any sample being read and starts
    /// afresh at a blank line and, at a line's start (not indented), at a comment, a side event
    /// or a sample header. (An unindented line that is none of these may be a frame line to the
    /// twin, and an indented one a frame or source line.)
    fn after_sample<'a>(&mut self, line: &'a [u8]) -> After<'a> {
        match line.first() {
            None => After::Ends,
            Some(b' ' | b'\t') if is_blank(line) => After::Ends,
            Some(b' ' | b'\t') => After::Continues,
            Some(b'#') => After::Ends,
            Some(_) => {
                if memchr::memchr(b'R', line).is_some() && self.side_event.find(line).is_some() {
                    return After::Ends;
                }
                match self.header.parse_line(line) {
                    Some(f) => After::Header(f),
                    None if is_blank(line) => After::Ends,
                    None => After::Continues,
                }
            }
        }
    }

    /// Fold the samples at the start of `body` (its first line is line `first_line + 1` of the
    /// chunk) that are not separated by blank lines, up to its end or to a blank line (left to
    /// the caller: samples after it may be blocks again). Each sample whose header starts a line
    /// and whose call chain is tab-indented lines up to a line that ends it
    /// ([`Self::after_sample`]) is folded as a block; from any other the line path reads up to
    /// the next line that ends a sample. Returns the bytes and newlines taken.
    pub(super) fn fold_dense(
        &mut self,
        body: &[u8],
        first_line: usize,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Taken, Stop> {
        let (mut at, mut newlines, mut samples) = (0usize, 0usize, 0usize);
        // the fields of the header at `at`, when parsed already
        let mut known: Option<Fields<'_>> = None;
        let mut parts = std::mem::take(&mut self.parts_buf);
        let result = loop {
            if at >= body.len() || body[at] == b'\n' {
                break Ok(());
            }
            samples += 1;
            if samples.is_multiple_of(CANCEL_EVERY) && cancelled() {
                break Err(Stop::Cancelled);
            }
            let head_end = line_end(body, at);
            let chain = (head_end + 1).min(body.len());
            let head = &body[at..head_end];
            let fields = match known.take() {
                Some(f) => Some(f),
                None if is_blank(head) => break Ok(()), // a blank line: the caller's
                None => match self.after_sample(head) {
                    After::Header(f) => Some(f),
                    _ => None,
                },
            };
            // the sample as a block: its header at a line's start, its chain the tab-indented
            // lines after it, the line after them one that ends it
            if let (Some(f), true) = (fields, head_end < body.len()) {
                let next = tab_lines_end(body, chain);
                let after = match next == body.len() {
                    true => After::Ends,
                    false => self.after_sample(&body[next..line_end(body, next)]),
                };
                if !matches!(after, After::Continues) {
                    let mut lines = Lines::new(&body[chain..next]);
                    let events = info.events.len();
                    let sched = info.sched.mark();
                    match self.fold_sample(f, None, &mut lines, info, local, namer, &mut parts) {
                        Ok(()) => {
                            debug_assert!(lines.rest.is_empty());
                            newlines += 1 + lines.newlines;
                            at = next;
                            if let After::Header(f) = after {
                                known = Some(f);
                            }
                            continue;
                        }
                        Err(Stop::Fallback) => {
                            // read again by the line path: the event it noted is dropped
                            info.events.truncate(events);
                            info.sched.rewind(sched);
                        }
                        Err(stop) => break Err(stop),
                    }
                }
            }
            // the line path, up to the next line that ends any sample
            let mut end = chain;
            while end < body.len() {
                let stop = line_end(body, end);
                match self.after_sample(&body[end..stop]) {
                    After::Continues => end = (stop + 1).min(body.len()),
                    After::Ends => break,
                    After::Header(f) => {
                        known = Some(f);
                        break;
                    }
                }
            }
            match self.fold_lines(
                &body[at..end],
                first_line + newlines,
                false,
                info,
                local,
                namer,
                cancelled,
            ) {
                Ok(read) => (at, newlines) = (end, newlines + read.newlines),
                Err(stop) => break Err(stop),
            }
        };
        self.parts_buf = parts;
        result.map(|()| Taken {
            bytes: at,
            newlines,
        })
    }
}

/// Record starts in a plain file whose samples are not separated by blank lines, for the threads
/// that read it by range: the start of a line at which the twin starts afresh whatever came
/// before it, so that a chunk cut there folds as the whole does (`starts_record` in
/// `foldkit/ingest/perf.py`, which cuts the twin's chunks, by the same rule).
#[derive(Default)]
pub struct RecordStarts {
    scan: Vec<u8>,
    /// made on first use (a regular expression to compile)
    header: Option<Box<super::header::Header>>,
    side_event: Option<memchr::memmem::Finder<'static>>,
}

/// Bytes [`RecordStarts`] reads first (then twice as many, up to the longest record allowed).
const FIRST_READ: usize = 64 << 10;

impl RecordStarts {
    /// True when a chunk may start with `line` (without its line end): a blank line, and, at a
    /// line's start, a comment or a side event; a sample header that is not tab-indented and
    /// not indented as a `+srcline` line (which it would be after a frame).
    pub(crate) fn starts_record(&mut self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if is_blank(line) {
            return true;
        }
        if line[0] == b'\t' || super::is_srcline(line) {
            return false;
        }
        let side_event = self
            .side_event
            .get_or_insert_with(|| memchr::memmem::Finder::new(b"PERF_RECORD_"));
        if line[0] != b' ' && (line[0] == b'#' || side_event.find(line).is_some()) {
            return true;
        }
        let header = self
            .header
            .get_or_insert_with(|| Box::new(super::header::Header::new()));
        header
            .parse(line)
            .is_some_and(|f| line[0] != b' ' || f.event.is_some())
    }

    /// The first record start at or after `offset` in a file of `size` bytes (0 is one; `size`
    /// when none follows); None when there is none within `max_record` bytes of `offset`.
    pub fn at_or_after(
        &mut self,
        file: &std::fs::File,
        size: u64,
        offset: u64,
        max_record: u64,
    ) -> std::io::Result<Option<u64>> {
        if offset == 0 || offset >= size {
            return Ok(Some(offset.min(size)));
        }
        let origin = offset - 1; // a line starts at `offset` when a newline is there
        let mut want = FIRST_READ;
        loop {
            let len = (want as u64).min(size - origin) as usize;
            let mut scan = std::mem::take(&mut self.scan);
            scan.resize(len, 0);
            let n = crate::range_read::read_full(file, &mut scan, origin)?;
            let whole = origin + n as u64 >= size;
            let found = self.first_start(&scan[..n], whole);
            self.scan = scan;
            match found {
                Some(Some(at)) if (origin + at as u64) - offset > max_record => return Ok(None),
                Some(Some(at)) => return Ok(Some(origin + at as u64)),
                Some(None) if whole => return Ok(Some(size)),
                // no start before a line cut short by the end of what was read
                _ if n as u64 > max_record.saturating_add(2) || whole => return Ok(None),
                _ => want = want.saturating_mul(2),
            }
        }
    }

    /// The first record start after a newline in `buf` (`whole`: `buf` runs to the end of the
    /// file): Some(None) when there is none, None when the last line looked at runs past the
    /// end of `buf`.
    fn first_start(&mut self, buf: &[u8], whole: bool) -> Option<Option<usize>> {
        for newline in memchr::memchr_iter(b'\n', buf) {
            let at = newline + 1;
            let end = match memchr::memchr(b'\n', &buf[at..]) {
                Some(i) => at + i,
                None if whole && at < buf.len() => buf.len(),
                None if whole => return Some(None),
                None => return None,
            };
            if self.starts_record(&buf[at..end]) {
                return Some(Some(at));
            }
        }
        Some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::tab_lines_end;
    use crate::perf::tests::{fold_whole, Row};
    use crate::perf::{FoldConfig, Worker};

    /// Samples of the usual layout: (tid, frames leaf first).
    fn samples(text: &mut String, blank: bool, list: &[(u32, &[&str])]) {
        for (tid, frames) in list {
            text.push_str(&format!("bash 1/{tid} [000] 1.0: 3 cycles: \n"));
            for f in frames.iter() {
                text.push_str(&format!("\t    7f1e2215d0{:02x} {f}+0x1 (/x)\n", f.len()));
            }
            if blank {
                text.push('\n');
            }
        }
    }

    const LIST: [(u32, &[&str]); 6] = [
        (1, &["leaf", "mid", "main"]),
        (2, &["other", "mid", "main"]),
        (1, &["leaf", "mid", "main"]),
        (3, &[]),
        (1, &["x"]),
        (2, &["other", "mid", "main"]),
    ];

    /// Folded by one worker, and how many call chains' callers it named as blocks (the line path
    /// names none).
    fn fold_counting_chains(text: &str) -> (Vec<Row>, usize) {
        let mut w = Worker::new(FoldConfig::default());
        let mut namer = |_: &[u8], _: bool| None;
        w.fold_chunk(0, text.as_bytes(), &mut namer, &|| false)
            .unwrap();
        let chains = w.chains.current.entries.len();
        let (rows, out) = fold_whole(text, FoldConfig::default()).unwrap();
        assert!(!out.chunks[0].fallback);
        assert_eq!(out.chunks[0].lines, text.matches('\n').count());
        (rows, chains)
    }

    #[test]
    fn samples_without_blank_lines_fold_as_blocks() {
        let (mut with, mut without) = (String::new(), String::new());
        samples(&mut with, true, &LIST);
        samples(&mut without, false, &LIST);
        let (rows, chains) = fold_counting_chains(&without);
        assert_eq!(rows, fold_whole(&with, FoldConfig::default()).unwrap().0);
        // remembered by their callers: [mid, main] (two chains) and [] (one)
        assert_eq!(
            chains, 2,
            "the distinct callers of chains, each named as a block"
        );
        // the last sample without a final newline
        let cut = without.trim_end_matches('\n');
        assert_eq!(fold_counting_chains(cut).0, rows);
    }

    #[test]
    fn other_lines_cost_their_own_sample() {
        // between samples without blank lines: comments, side events, a source line, a bad line,
        // a space-indented header, an unindented line the twin reads as a frame, blank lines
        let mut clean = String::new();
        samples(&mut clean, false, &LIST);
        for odd in [
            "# a comment\n",
            "sh 1 1.0: PERF_RECORD_EXIT(1:1):(0:0)\n",
            "NOT A HEADER\n",
            "\n",
            "   \n",
        ] {
            let mut text = String::new();
            samples(&mut text, false, &LIST[..3]);
            text.push_str(odd);
            samples(&mut text, false, &LIST[3..]);
            let (rows, out) = fold_whole(&text, FoldConfig::default()).unwrap();
            assert_eq!(rows, fold_whole(&clean, FoldConfig::default()).unwrap().0);
            assert_eq!(
                out.chunks[0].bad_count,
                usize::from(odd == "NOT A HEADER\n")
            );
        }
        // a source line after a frame, a frame line without indentation: the sample's own
        let mut text = String::new();
        samples(&mut text, false, &LIST[..2]);
        text.push_str("  x.c:3\n\t    7f1e2215d0ff tail+0x1 (/x)\n7f00 unindented+0x1 (/x)\n");
        samples(&mut text, false, &LIST[2..]);
        let (rows, _) = fold_whole(&text, FoldConfig::default()).unwrap();
        let other: Vec<&Row> = rows.iter().filter(|r| r.1.contains("other")).collect();
        assert_eq!(other[0].1, "bash;main;mid;other");
        assert!(rows
            .iter()
            .any(|r| r.1 == "bash;unindented;tail;main;mid;other" && r.3 == 1));
    }

    #[test]
    fn ranges_cut_at_record_starts_fold_as_the_whole() {
        use super::RecordStarts;
        use std::io::Write;
        let mut text = String::new();
        samples(&mut text, false, &LIST);
        text.push_str("# c\n  bash 9/9 [000] 1.0: 3 cycles: \n\t    7f1e2215d0ff f+0x1 (/x)\n");
        text.push_str("7f00 unindented+0x1 (/x)\n  x.c:3\n");
        samples(&mut text, false, &LIST);
        for crlf in [false, true] {
            let text = if crlf {
                text.replace('\n', "\r\n")
            } else {
                text.clone()
            };
            let path =
                std::env::temp_dir().join(format!("foldkit-starts-{}-{crlf}", std::process::id()));
            std::fs::File::create(&path)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let file = std::fs::File::open(&path).unwrap();
            std::fs::remove_file(&path).unwrap();
            let size = text.len() as u64;
            let mut starts = RecordStarts::default();
            let whole = fold_whole(&text, FoldConfig::default()).unwrap().0;
            for offset in 0..=size {
                let at = starts
                    .at_or_after(&file, size, offset, 1 << 20)
                    .unwrap()
                    .unwrap();
                assert!(
                    at >= offset
                        && (at == size || at == 0 || text.as_bytes()[at as usize - 1] == b'\n')
                );
                // the line after the frame unindented, and the source line, are the sample's
                let line = &text[at as usize..];
                assert!(
                    !line.starts_with("7f00") && !line.starts_with("  x.c"),
                    "{offset}"
                );
                // two chunks cut there fold as the whole
                let (a, b) = text.split_at(at as usize);
                let mut w = Worker::new(FoldConfig::default());
                let mut namer = |_: &[u8], _: bool| None;
                w.fold_chunk(0, a.as_bytes(), &mut namer, &|| false)
                    .unwrap();
                w.fold_chunk(1, b.as_bytes(), &mut namer, &|| false)
                    .unwrap();
                let out = w.finish();
                let mut rows: Vec<Row> = out
                    .cells
                    .iter()
                    .map(|&(e, s, wt, c)| {
                        let name = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
                        (
                            name(&out.event_names[e as usize]),
                            name(&out.stacks[s as usize]),
                            wt,
                            c,
                        )
                    })
                    .collect();
                rows.sort();
                assert_eq!(rows, whole, "{offset} {crlf}");
            }
            // none within a record's length allowed
            assert_eq!(starts.at_or_after(&file, size, 1, 10).unwrap(), None);
        }
    }

    #[test]
    fn a_chain_ends_at_the_first_line_not_starting_with_a_tab() {
        for len in 0..80 {
            for end in [b' ', b'a', b'\n'] {
                let mut text = b"h\n".to_vec();
                while text.len() < len + 2 {
                    text.extend_from_slice(b"\tab\n");
                }
                let want = text.len();
                text.push(end);
                text.extend_from_slice(b"\tz\n");
                assert_eq!(tab_lines_end(&text, 2), want, "{len} {end}");
                assert_eq!(tab_lines_end(&text[..want], 2), want);
            }
        }
        assert_eq!(tab_lines_end(b"h\nx", 2), 2);
        assert_eq!(tab_lines_end(b"h\n\tx", 2), 4);
    }
}
