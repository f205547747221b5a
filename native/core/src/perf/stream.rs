//! Compressed captures (zstd, gzip) decompressed natively and cut into record-aligned chunks (at
//! blank lines). Anything unusual (a corrupt or truncated stream, no blank line within the
//! allowed record length) is an error: the caller then reads the input with its reference
//! reader, which says what is wrong.

use std::fs::File;
use std::io::{BufReader, Read};

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

/// Cuts a stream into chunks that end just after a blank line. Buffers handed back with
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
                if let Some(i) = memchr::memmem::rfind(&self.pending[..self.filled], b"\n\n") {
                    return Ok(Some(self.cut(i + 2)));
                }
                if self.filled > self.chunk_size.saturating_add(self.max_record) {
                    return Err("no blank line within the longest record allowed".to_string());
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

    /// The first `len` pending bytes as a chunk; the rest moves to the spare buffer.
    fn cut(&mut self, len: usize) -> Vec<u8> {
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
        let mut c = Chunker::new(Box::new(Cursor::new(data.to_vec())), size, 1000);
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
