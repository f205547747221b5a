//! The line-by-line state machine of `foldkit/ingest/perf.py` (`fold_chunk_lines`), in the core:
//! the layouts the block path ([`Worker::fold_blocks`]) does not take are folded here instead of
//! being handed to Python. Those are `perf script -G` (one space-indented header per sample, its
//! frame on the header line), captures of recordings without call chains (the same layout), side
//! events (`--show-task-events`, `--show-mmap-events`: `PERF_RECORD_*` lines between samples),
//! comments between samples and space-indented headers, and the samples [`super::dense`] does not
//! take.
//!
//! Each line is what the twin makes of it: a blank line ends a sample; after a header, a frame
//! line (or a `+srcline` line after a frame) belongs to it; anything else ends it, and is skipped
//! (a comment, a side event), starts the next sample (a header) or is a bad line, skipped and kept
//! with its line number as the twin keeps it. The block path hands over to this one at a block it
//! does not take and takes over again after the next blank line ending a sample.

use super::{
    is_blank, is_srcline, parse_u64, ChunkInfo, LineNamer, Map, Stop, Taken, Worker,
    BAD_LINES_KEPT, CANCEL_EVERY,
};
use crate::perf::frames::{has_address_column, is_plain_ascii, name_line};
use crate::perf::header::Fields;
use crate::perf::lines::key_hash;

/// What a line after a header is (the twin's `Resolver.classify`).
enum Kind<'a> {
    /// a frame line: the part id of its names
    Frame(u32),
    /// a `+srcline` line after a frame (skipped)
    Srcline,
    /// not part of the call chain: ends the sample
    End,
    /// a sample header (as [`Worker::is_header`] says, parsed to these fields): ends the sample
    Header(Fields<'a>),
}

/// The sample being read: its header's fields, its root frame and whether Java names apply.
struct Pending<'a> {
    fields: Fields<'a>,
    root: u32,
    java: bool,
}

impl Worker {
    /// Fold `text` (CRLF already made LF; its first line is line `first_line + 1` of the
    /// chunk) line by line into `info`, as the twin does; bad lines are counted and kept in
    /// `info` as the twin keeps them. With `to_blocks`, stops after a blank line that ends a
    /// sample when the next line may start a block (the caller folds blocks from there).
    /// Err(Stop::Fallback) at a line this path cannot name (the chunk then goes to the twin).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fold_lines(
        &mut self,
        text: &[u8],
        first_line: usize,
        to_blocks: bool,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Taken, Stop> {
        let mut pending: Option<Pending<'_>> = None;
        // the fields of the line being read when `classify` parsed it as a header
        let mut parsed: Option<Fields<'_>>;
        let mut parts: Vec<u32> = Vec::new();
        let mut prev_frame = false;
        // just after a header with text after its event (`-G`, no call chain)
        let mut after_rest = false;
        let mut newlines = 0usize;
        let mut at = 0usize;
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            if n > 0 {
                newlines += 1;
                at += 1;
            }
            let start = at;
            at += line.len();
            if n % CANCEL_EVERY == CANCEL_EVERY - 1 && cancelled() {
                return Err(Stop::Cancelled);
            }
            if is_blank(line) {
                if let Some(p) = pending.take() {
                    self.flush_sample(&p, &mut parts, info, local, namer)?;
                }
                prev_frame = false;
                // the next line starts a block when it is a header at a line's start
                if to_blocks
                    && !matches!(
                        text.get(at + 1),
                        None | Some(b'\n' | b' ' | b'\t' | b'#' | b'\r')
                    )
                {
                    return Ok(Taken {
                        bytes: at + 1,
                        newlines: newlines + 1,
                    });
                }
                continue;
            }
            parsed = None;
            if let Some(p) = &pending {
                if std::mem::take(&mut after_rest) && is_srcline(line) && !self.is_header(line) {
                    continue; // `+srcline` of the frame on the header line
                }
                match self.classify(line, prev_frame, p.java, namer)? {
                    Kind::Frame(id) => {
                        parts.push(id);
                        prev_frame = true;
                        continue;
                    }
                    Kind::Srcline => {
                        prev_frame = false;
                        continue;
                    }
                    Kind::End => {}
                    Kind::Header(f) => parsed = Some(f),
                }
            }
            if let Some(p) = pending.take() {
                self.flush_sample(&p, &mut parts, info, local, namer)?;
            }
            prev_frame = false;
            if line[0] == b'#' || self.side_event.find(line).is_some() {
                continue;
            }
            let fields = match parsed.or_else(|| self.header.parse(line)) {
                Some(f) if !matches!(line[0], b' ' | b'\t') || f.event.is_some() => f,
                _ => {
                    // a bad line: skipped, counted and kept to quote, as the twin does
                    info.bad_count += 1;
                    if info.bad.len() < BAD_LINES_KEPT {
                        info.bad
                            .push((first_line + n + 1, text[start..at].to_vec()));
                    }
                    continue;
                }
            };
            after_rest = fields.rest.is_some_and(|r| !is_blank(r));
            let (root, java) = self.root(&fields);
            pending = Some(Pending { fields, root, java });
        }
        if let Some(p) = pending.take() {
            self.flush_sample(&p, &mut parts, info, local, namer)?;
        }
        Ok(Taken {
            bytes: text.len(),
            newlines,
        })
    }

    /// Count one sample (the twin's `flush`): its stack, weight, event and time.
    fn flush_sample(
        &mut self,
        p: &Pending<'_>,
        parts: &mut Vec<u32>,
        info: &mut ChunkInfo,
        local: &mut Map<(u32, u32), (u128, u64)>,
        namer: &mut LineNamer<'_>,
    ) -> Result<(), Stop> {
        let f = &p.fields;
        let stack = self.stack_id(p.root, p.java, f, parts, namer)?;
        parts.clear();
        let weight = match f.period {
            Some(period) if self.cfg.by_period => parse_u64(period).ok_or(Stop::Fallback)?,
            _ => 1,
        };
        let event = self.event_id(f.event);
        if !info.events.contains(&event) {
            info.events.push(event);
        }
        self.note_sched(f, event, stack, info)?;
        self.count_sample(f, event, stack, weight, info, local)
    }

    /// What a non-blank line after a header is (the twin's `Resolver.classify`).
    fn classify<'a>(
        &mut self,
        line: &'a [u8],
        prev_frame: bool,
        java: bool,
        namer: &mut LineNamer<'_>,
    ) -> Result<Kind<'a>, Stop> {
        match line[0] {
            b'\t' => {}
            b' ' => {
                if prev_frame && is_srcline(line) {
                    return Ok(Kind::Srcline);
                }
                // (an indented header names an event)
                if let Some(f) = self.header.parse(line).filter(|f| f.event.is_some()) {
                    return Ok(Kind::Header(f));
                }
            }
            b'#' => return Ok(Kind::End),
            _ => {
                if self.side_event.find(line).is_some() {
                    return Ok(Kind::End);
                }
                if let Some(f) = self.header.parse(line) {
                    return Ok(Kind::Header(f));
                }
            }
        }
        Ok(match self.line_part_or_none(line, java, namer)? {
            Some(id) => Kind::Frame(id),
            None => Kind::End,
        })
    }

    /// A sample header line (also a space-indented one, which must name an event).
    fn is_header(&mut self, line: &[u8]) -> bool {
        match self.header.parse(line) {
            Some(f) => !matches!(line[0], b' ' | b'\t') || f.event.is_some(),
            None => false,
        }
    }

    /// The part id of a frame line, or None when the line is no frame (not remembered: such
    /// lines are rare, and the caches hold frames only).
    pub(super) fn line_part_or_none(
        &mut self,
        line: &[u8],
        java: bool,
        namer: &mut LineNamer<'_>,
    ) -> Result<Option<u32>, Stop> {
        let by_tail = !self.cfg.names.addrs && has_address_column(line);
        let key = if by_tail { &line[18..] } else { line };
        let hash = key_hash(key);
        let which = usize::from(java) * 2 + usize::from(by_tail);
        if let Some(id) = self.line_caches[which].get(hash, key) {
            return Ok(Some(id));
        }
        let name = if is_plain_ascii(line) {
            name_line(line, java, &self.cfg.names)
        } else {
            namer(line, java).ok_or(Stop::Fallback)?
        };
        let Some(name) = name else {
            return Ok(None);
        };
        let id = self.parts.intern(&name);
        self.line_caches[which].insert(hash, key, id);
        Ok(Some(id))
    }
}

#[cfg(test)]
mod tests {
    use crate::perf::tests::{fold_whole, Row};
    use crate::perf::{FoldConfig, Stop};

    fn fold(text: &str, cfg: FoldConfig) -> Result<(Vec<Row>, usize), Stop> {
        let (rows, out) = fold_whole(text, cfg)?;
        assert!(!out.chunks[0].fallback);
        Ok((rows, out.chunks[0].lines))
    }

    fn row(event: &str, stack: &str, w: u128, c: u64) -> Row {
        (event.into(), stack.into(), w, c)
    }

    #[test]
    fn hide_call_graph_samples_fold_as_comm_and_function() {
        let text = "            tmpl 28763  1784.105385:    1001001 cpu-clock:ppp:      7f39eb05a9b4 _dl_lookup_symbol_x+0x44 (/usr/lib/ld.so)\n              sh   338 30826.958964:    2004008 cpu-clock:ppp:      7f8a6dde594e __strcmp_avx2+0x3e (/usr/lib/libc.so.6)\n            tmpl 28763  1784.105385:    1001001 cpu-clock:ppp:      7f39eb05a9b4 _dl_lookup_symbol_x+0x44 (/usr/lib/ld.so)\n";
        let cfg = FoldConfig {
            by_period: true,
            ..FoldConfig::default()
        };
        let (rows, lines) = fold(text, cfg).unwrap();
        assert_eq!(
            rows,
            vec![
                row("cpu-clock", "sh;__strcmp_avx2", 2004008, 1),
                row("cpu-clock", "tmpl;_dl_lookup_symbol_x", 2002002, 2),
            ]
        );
        assert_eq!(lines, 3);
    }

    #[test]
    fn side_events_and_samples_without_blank_lines() {
        let text = "perf-exec     0/0         0.000000: PERF_RECORD_COMM: perf-exec:338/338\nsh   338/338   30826.906949: PERF_RECORD_COMM exec: sh:338/338\nsh   338/338   30826.908951:    2004008 cpu-clock:ppp: \n\t           14a60 [unknown] (/usr/bin/dash)\n  dash[4a60]\n\t    5574b6f73ac8 main+0x1 (/usr/bin/dash)\n# a comment\nsh   338/338   30826.908952:    2 cpu-clock:ppp: \n\t    5574b6f73ac8 main+0x1 (/usr/bin/dash)\nsh 1 1.0: PERF_RECORD_EXIT(1:1):(0:0)";
        let (rows, lines) = fold(text, FoldConfig::default()).unwrap();
        assert_eq!(
            rows,
            vec![
                row("cpu-clock", "sh;main", 1, 1),
                row("cpu-clock", "sh;main;[dash]", 1, 1),
            ]
        );
        assert_eq!(lines, 9);
    }

    /// `text` folded as one chunk: its rows, and its bad lines (count, those kept).
    fn fold_bad(text: &str) -> (Vec<Row>, usize, Vec<(usize, String)>) {
        let (rows, out) = fold_whole(text, FoldConfig::default()).unwrap();
        let chunk = &out.chunks[0];
        assert!(!chunk.fallback);
        let kept = chunk
            .bad
            .iter()
            .map(|(n, t)| (*n, String::from_utf8(t.clone()).unwrap()));
        (rows, chunk.bad_count, kept.collect())
    }

    #[test]
    fn bad_lines_are_skipped_counted_and_kept_by_line_number() {
        assert_eq!(
            fold_bad("   bash 1 x\n"),
            (vec![], 1, vec![(1, "   bash 1 x".into())])
        );
        // after a header, a line that is no frame ends the sample and is a bad line
        assert_eq!(
            fold_bad("bash 1 1.0: 1 x: \nNOT A HEADER\n\n"),
            (
                vec![row("x", "bash", 1, 1)],
                1,
                vec![(2, "NOT A HEADER".into())]
            )
        );
        // numbered from the chunk's start (its leading comments too); five kept, all counted
        let sample = "bash 1 1.0: 1 x: \n\t1234 f (/x)\n\n";
        let mut text = format!("# c\n# c\n{sample}");
        for k in 0..7 {
            text.push_str(&format!("junk{k}\n{sample}"));
        }
        let (rows, count, kept) = fold_bad(&text);
        assert_eq!(rows, vec![row("x", "bash;f", 8, 8)]);
        assert_eq!(count, 7);
        let want: Vec<(usize, String)> = (0..5).map(|k| (6 + 4 * k, format!("junk{k}"))).collect();
        assert_eq!(kept, want);
    }

    #[test]
    fn blocks_after_a_bad_line_fold_as_blocks_again() {
        // a bad line between samples of the block layout: the samples fold as they would
        // without it, before and after it, whatever each sample's first appearance
        let sample = |tid: u32, f: &str| {
            format!("bash 1/{tid} 1.0: 1 cycles: \n\t    7f1e2215d058 {f}+0x1 (/x)\n\t    7f1e2215d059 main+0x2 (/x)\n\n")
        };
        let mut clean = String::new();
        let mut damaged = String::new();
        for k in 0..40u32 {
            let s = sample(k % 3, ["f", "g", "h"][k as usize % 3]);
            clean.push_str(&s);
            damaged.push_str(&s);
            if k % 9 == 4 {
                damaged.push_str(
                    ["junk\n", "\n\n", "  \n", "bash 2 1.0: 1 other:\nX\n\n"][k as usize % 4],
                );
            }
        }
        let (rows, _) = fold_whole(&clean, FoldConfig::default()).unwrap();
        let (got, out) = fold_whole(&damaged, FoldConfig::default()).unwrap();
        let without_other: Vec<Row> = got.into_iter().filter(|r| r.0 != "other").collect();
        assert_eq!(without_other, rows);
        assert_eq!(out.chunks[0].lines, damaged.matches('\n').count());
    }
}
