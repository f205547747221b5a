//! Compressed captures (zstd, gzip) decompressed natively and cut into record-aligned chunks:
//! after a blank line, or before a line at which the twin starts afresh whatever came before it
//! (a sample header, a comment or a side event at a line's start: captures without blank lines
//! between samples, [`RecordStarts`]), the same cuts as the twin's `cut_records`. Anything
//! unusual (a corrupt or truncated stream, no record start within the allowed record length) is
//! an error: the caller then reads the input with its reference reader, which says what is wrong.

use std::fs::File;
use std::io::{BufReader, Read};

use crate::perf::dense::RecordStarts;

/// A decompressing reader over a file.
pub type Stream = Box<dyn Read + Send>;

/// Open `path` as a `compression` ("zstd" or "gzip") stream.
pub fn open(path: &str, compression: &str) -> std::io::Result<Stream> {
    let file = BufReader::with_capacity(1 << 20, File::open(path)?);
    Ok(match compression {
        "zstd" => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(file)?;
            decoder.window_log_max(31)?;
            Box::new(decoder)
        }
        "gzip" => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
        other => {
            return Err(std::io::Error::other(format!(
                "unknown compression {other}"
            )))
        }
    })
}

/// Cuts a stream into chunks that end where a record starts, once `chunk_size` bytes are pending: just after the last blank line, or before the last complete line that starts a record
/// ([`RecordStarts::starts_record`]), whichever is later. Buffers handed back with
/// [`Chunker::recycle`] are filled again, so a long stream does not fault in fresh pages for
/// every chunk.
pub struct Chunker {
    stream: Stream,
    /// `filled` bytes read and not yet handed out, then initialised room to read into
    pending: Vec<u8>,
    filled: usize,
    spare: Option<Vec<u8>>,
    eof: bool,
    chunk_size: usize,
    max_record: usize,
    starts: RecordStarts,
    /// what earlier searches of `pending` found no cut in (reset by [`Chunker::cut`])
    searched: Searched,
}

/// How far `pending` was searched for a cut, without finding one.
#[derive(Default, Clone, Copy)]
struct Searched {
    /// no line starting after a newline at or before this starts a record
    line_start: usize,
    /// no blank line (`\n\n`) ends before this
    blank: usize,
}

/// Bytes read at least at a time.
const MIN_READ: usize = 1 << 16;

impl Chunker {
    pub fn new(stream: Stream, chunk_size: usize, max_record: usize) -> Self {
        Chunker {
            stream,
            pending: Vec::new(),
            filled: 0,
            spare: None,
            eof: false,
            chunk_size: chunk_size.max(1),
            max_record,
            starts: RecordStarts::default(),
            searched: Searched::default(),
        }
    }

    /// Keep `buffer` (a chunk the caller is done with) to read into again.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if self
            .spare
            .as_ref()
            .is_none_or(|s| s.capacity() < buffer.capacity())
        {
            self.spare = Some(buffer);
        }
    }

    /// The next chunk (None at the end); Err when the stream is bad or a record is too long.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            if self.eof {
                if self.filled == 0 {
                    return Ok(None);
                }
                return Ok(Some(self.cut(self.filled)));
            }
            if self.filled >= self.chunk_size {
                if let Some(at) = self.find_cut() {
                    return Ok(Some(self.cut(at)));
                }
                if self.filled > self.chunk_size.saturating_add(self.max_record) {
                    return Err(
                        "no record start (a blank line or a sample header) within the longest record allowed"
                            .to_string(),
                    );
                }
            }
            let want = self.chunk_size.saturating_sub(self.filled).max(MIN_READ);
            let end = self.filled + want;
            if self.pending.len() < end {
                self.pending.resize(end, 0);
            }
            let got = loop {
                match self.stream.read(&mut self.pending[self.filled..end]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(format!("decompression error: {e}")),
                }
            };
            self.filled += got;
            if got == 0 {
                self.eof = true;
            }
        }
    }

    /// Where to cut the pending bytes: the later of just after the last blank line and the start
    /// of the last complete line that starts a record (not the first line); None when neither
    /// is there. Each byte is searched once however often more is read before a cut is found (a
    /// record longer than a chunk).
    fn find_cut(&mut self) -> Option<usize> {
        let text = &self.pending[..self.filled];
        let searched = self.searched;
        // from the end back: the frame lines of the last record, then the line starting it
        let mut line = None;
        let last_end = memchr::memrchr(b'\n', text);
        let mut end = last_end;
        while let Some(e) = end {
            let start = memchr::memrchr(b'\n', &text[..e]).map_or(0, |i| i + 1);
            if start <= searched.line_start {
                break;
            }
            if self.starts.starts_record(&text[start..e]) {
                line = Some(start);
                break;
            }
            end = start.checked_sub(1);
        }
        // a blank line after that start (a record of the twin's that starts with one)
        let from = line.unwrap_or(0).max(searched.blank).saturating_sub(1);
        let blank = memchr::memmem::rfind(&text[from..], b"\n\n").map(|i| from + i + 2);
        let found = line.max(blank);
        if found.is_none() {
            self.searched = Searched {
                line_start: last_end.map_or(searched.line_start, |e| {
                    memchr::memrchr(b'\n', &text[..e]).map_or(0, |i| i + 1)
                }),
                blank: self.filled,
            };
        }
        found
    }

    /// The first `len` pending bytes as a chunk; the rest moves to the spare buffer.
    fn cut(&mut self, len: usize) -> Vec<u8> {
        self.searched = Searched::default();
        let rest = self.filled - len;
        let mut next = self.spare.take().unwrap_or_default();
        if next.len() < rest {
            next.resize(rest, 0);
        }
        next[..rest].copy_from_slice(&self.pending[len..self.filled]);
        let mut chunk = std::mem::replace(&mut self.pending, next);
        chunk.truncate(len);
        self.filled = rest;
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn chunks(data: &[u8], size: usize) -> Result<Vec<Vec<u8>>, String> {
        trickled(data, size, usize::MAX)
    }

    /// A reader handing out at most `step` bytes a read (a decompressor's output comes so).
    struct Trickle {
        data: Cursor<Vec<u8>>,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step);
            self.data.read(&mut buf[..n])
        }
    }

    /// `data` cut by a chunker reading it `step` bytes at a time.
    fn trickled(data: &[u8], size: usize, step: usize) -> Result<Vec<Vec<u8>>, String> {
        let data = Cursor::new(data.to_vec());
        let mut c = Chunker::new(Box::new(Trickle { data, step }), size, 1000);
        let mut out = Vec::new();
        while let Some(chunk) = c.next_chunk()? {
            out.push(chunk.clone());
            c.recycle(chunk);
        }
        Ok(out)
    }

    #[test]
    fn chunks_end_at_blank_lines() {
        let data = b"a 1 x: \n\t1 f (/x)\n\n".repeat(20_000);
        let got = chunks(&data, 50).unwrap();
        assert!(got.len() > 1);
        assert!(got[..got.len() - 1].iter().all(|c| c.ends_with(b"\n\n")));
        assert_eq!(got.concat(), data);
        assert!(chunks(&[b'x'; 5000], 10).is_err());
    }

    /// Samples without blank lines between them, with comments, side events, a source line, an
    /// unindented line the twin reads as a frame, a space-indented header, bad lines.
    fn dense_capture(crlf: bool) -> Vec<u8> {
        let mut text = String::new();
        for k in 0..40u32 {
            text.push_str(&format!("bash 1/{} [000] 1.0: 3 cycles: \n", k % 3));
            for f in 0..(k % 5) {
                text.push_str(&format!("\t    7f1e2215d0{f:02x} f{f}+0x1 (/x)\n"));
            }
            match k % 8 {
                1 => text.push_str("# a comment\n"),
                2 => text.push_str("sh 1 1.0: PERF_RECORD_EXIT(1:1):(0:0)\n"),
                3 => text.push_str("  x.c:3\n7f00 unindented+0x1 (/x)\n"),
                4 => text.push_str("NOT A HEADER\n"),
                5 => text.push_str("   bash 7/7 [000] 1.0: 1 cycles: \n"),
                _ => {}
            }
        }
        match crlf {
            true => text.replace('\n', "\r\n").into_bytes(),
            false => text.into_bytes(),
        }
    }

    /// `chunks` folded one by one by one worker, rows sorted.
    fn fold_chunks(chunks: &[Vec<u8>]) -> Vec<crate::perf::tests::Row> {
        let mut w = crate::perf::Worker::new(crate::perf::FoldConfig::default());
        let mut namer = |_: &[u8], _: bool| None;
        for (index, chunk) in chunks.iter().enumerate() {
            w.fold_chunk(index, chunk, &mut namer, &|| false).unwrap();
        }
        let out = w.finish();
        let name = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
        let mut rows: Vec<_> = out
            .cells
            .iter()
            .map(|&(e, s, wt, c)| {
                let (e, s) = (&out.event_names[e as usize], &out.stacks[s as usize]);
                (name(e), name(s), wt, c)
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn captures_without_blank_lines_are_cut_where_records_start() {
        use crate::perf::dense::RecordStarts;
        for crlf in [false, true] {
            let data = dense_capture(crlf);
            let whole = fold_chunks(std::slice::from_ref(&data));
            let mut starts = RecordStarts::default();
            for (size, step) in [
                (1, 1),
                (1, 5),
                (2, 30),
                (7, 7),
                (40, 3),
                (100, 64),
                (333, 1000),
            ]
            .into_iter()
            .chain([(1, usize::MAX), (data.len(), 100)])
            {
                let got = trickled(&data, size, step).unwrap();
                assert_eq!(got.concat(), data, "{size}");
                for chunk in &got[1..] {
                    // each chunk starts with a line the twin starts afresh at
                    let line = chunk.split(|&b| b == b'\n').next().unwrap();
                    assert!(starts.starts_record(line), "{size} {crlf}");
                }
                if size < 100 && step < 100 {
                    assert!(got.len() > 20, "{size} {step}: a chunk per record or two");
                }
                assert_eq!(fold_chunks(&got), whole, "{size} {crlf}");
            }
        }
    }

    #[test]
    fn a_blank_line_after_the_last_record_start_is_the_cut() {
        // the later of the two cuts; a blank line of CRLF ends is a record start too
        let head = b"a 1 x: \n\t1 f (/x)\n";
        for blank in [&b"\n"[..], b"   \n", b"\r\n"] {
            let mut data = head.to_vec();
            data.extend_from_slice(b"a 1 x: \n\t1 g (/x)\n");
            data.extend_from_slice(blank);
            data.extend_from_slice(b"\t1 h (/x)\n");
            let got = chunks(&data, 1).unwrap();
            let cut = data.len() - b"\t1 h (/x)\n".len() - blank.len();
            let want = match blank {
                b"\n" => cut + 1, // after the blank line
                _ => cut,         // before it (a line the twin starts afresh at)
            };
            assert_eq!(got[0].len(), want, "{blank:?}");
            assert_eq!(got.len(), 2, "{blank:?}");
        }
    }

    #[test]
    fn a_record_longer_than_a_chunk_is_searched_once() {
        // one header, then frame lines read 64 KiB at a time: each read searched alone, the
        // record whole in one chunk; past the longest record allowed, an error
        let mut data = b"a 1 x: \n".to_vec();
        data.extend_from_slice(&b"\t1 f (/x)\n".repeat(400_000));
        data.extend_from_slice(b"a 1 x: \n\t1 f (/x)\n");
        let mut c = Chunker::new(Box::new(Cursor::new(data.clone())), 1, 8 << 20);
        let first = c.next_chunk().unwrap().unwrap();
        assert_eq!(first.len(), data.len() - b"a 1 x: \n\t1 f (/x)\n".len());
        assert_eq!(c.next_chunk().unwrap().unwrap().len(), 18);
        assert_eq!(c.next_chunk().unwrap(), None);
        let mut c = Chunker::new(Box::new(Cursor::new(data)), 1, 1 << 20);
        assert!(c.next_chunk().is_err());
        // a capture that is one record: one chunk
        assert_eq!(chunks(b"a 1 x: \n\t1 f (/x)\n", 1).unwrap().len(), 1);
        assert_eq!(chunks(b"", 1).unwrap().len(), 0);
    }

    #[test]
    fn an_endless_stream_without_a_blank_line_is_an_error_in_bounded_memory() {
        // /dev/zero as a stream: no line break ever; the chunker gives up after the longest
        // record allowed instead of reading on (the caller's reference reader then says why)
        for byte in [0u8, b'x'] {
            let mut c = Chunker::new(Box::new(std::io::repeat(byte)), 1 << 16, 1 << 20);
            assert!(c.next_chunk().is_err(), "byte {byte}");
            assert!(c.pending.len() <= (1 << 16) + (1 << 20) + 2 * MIN_READ);
        }
    }

    #[test]
    fn bad_streams_are_errors() {
        let data = zstd::encode_all(&b"a 1 x: \n\t1 f (/x)\n\n".repeat(1000)[..], 3).unwrap();
        let dir = std::env::temp_dir().join(format!("foldkit-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.zst");
        std::fs::write(&path, &data[..data.len() / 2]).unwrap();
        let mut c = Chunker::new(
            open(path.to_str().unwrap(), "zstd").unwrap(),
            1 << 20,
            1 << 20,
        );
        assert!(c.next_chunk().is_err(), "a truncated stream is an error");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
