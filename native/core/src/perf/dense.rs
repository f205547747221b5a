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
                    match self.fold_sample(f, &mut lines, info, local, namer, &mut parts) {
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

    /// Folded by one worker, and how many call chains it named as blocks (the line path names
    /// none).
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
        assert_eq!(chains, 3, "the distinct call chains, each named as a block");
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
