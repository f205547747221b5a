//! The viewer's payload written (`payload.py` is the twin): the arrays of a `ViewTree` and its
//! names in the layout `prepare` described, gzip-compressed a piece at a time on several threads
//! and base64-encoded as the text is handed to the sink, never whole in memory.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::{Scope, ScopedJoinHandle};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

use super::{Depths, Prepared, ViewTree};

/// Bytes of base64 text handed to the sink at a time.
const CHUNK: usize = 1 << 20;

/// A writer that base64-encodes what it is given and hands the text to `inner` in chunks.
struct Base64<W: Write> {
    inner: W,
    out: Vec<u8>,
    carry: [u8; 3],
    held: usize,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl<W: Write> Base64<W> {
    fn new(inner: W) -> Self {
        Base64 {
            inner,
            out: Vec::with_capacity(CHUNK + 1024),
            carry: [0; 3],
            held: 0,
        }
    }

    fn quad(&mut self, b: [u8; 3], n: usize) {
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let mut q = [b'='; 4];
        for (k, c) in q.iter_mut().enumerate().take(n + 1) {
            *c = ALPHABET[(v >> (18 - 6 * k) & 63) as usize];
        }
        self.out.extend_from_slice(&q);
    }

    fn finish(mut self) -> io::Result<W> {
        if self.held > 0 {
            let mut b = self.carry;
            b[self.held..].fill(0);
            self.quad(b, self.held);
        }
        if !self.out.is_empty() {
            self.inner.write_all(&self.out)?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Base64<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // at most a chunk's worth at a time, so the chunks handed on stay about CHUNK bytes
        let mut buf = &buf[..buf.len().min(CHUNK / 4 * 3)];
        let given = buf.len();
        while self.held > 0 && !buf.is_empty() {
            self.carry[self.held] = buf[0];
            self.held += 1;
            buf = &buf[1..];
            if self.held == 3 {
                self.quad(self.carry, 3);
                self.held = 0;
            }
        }
        let whole = buf.len() / 3 * 3;
        self.out.reserve(whole / 3 * 4);
        self.out.extend(buf[..whole].chunks_exact(3).flat_map(|b| {
            let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            [18, 12, 6, 0].map(|shift| ALPHABET[(v >> shift & 63) as usize])
        }));
        let rest = &buf[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.held += rest.len();
        if self.out.len() >= CHUNK {
            self.inner.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(given)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Items converted to little-endian bytes at a time.
const STEP: usize = 1 << 14;

fn put<const N: usize>(
    out: &mut impl Write,
    items: impl Iterator<Item = [u8; N]>,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(STEP * N);
    for item in items {
        buf.extend_from_slice(&item);
        if buf.len() >= STEP * N {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

/// A piece of the stream deflated, with the CRC-32 of its bytes before compression.
type Deflated = io::Result<(Vec<u8>, Crc)>;

/// Bytes before compression deflated as one piece, on a thread of its own.
const PIECE: usize = 4 << 20;
/// Pieces being deflated at once.
const PIECES_AT_ONCE: usize = 3;

/// A piece of the stream deflated on its own (no dictionary from the pieces before it), ending in
/// a sync flush (byte-aligned, not final) or, for the `last`, the final block; with its CRC-32.
fn deflate_piece(data: &[u8], level: u32, last: bool) -> Deflated {
    let mut crc = Crc::new();
    crc.update(data);
    let mut deflate = Compress::new(Compression::new(level), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out: Vec<u8> = Vec::with_capacity(data.len() / 2 + 1024);
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let before = deflate.total_in();
        let status = deflate
            .compress_vec(input, &mut out, flush)
            .map_err(io::Error::other)?;
        input = &input[(deflate.total_in() - before) as usize..];
        let done = match status {
            Status::StreamEnd => true,
            // a sync flush is complete when the input is used and room was left in the output
            _ => !last && input.is_empty() && out.len() < out.capacity(),
        };
        if done {
            return Ok((out, crc));
        }
    }
}

/// A gzip writer that deflates pieces of `PIECE` bytes on threads of `scope`, several at once,
/// and hands the stream to `out` in order (pigz's way: each piece deflated without the one
/// before it, a sync flush between pieces). One gzip member, as `DecompressionStream` reads it.
struct ParallelGz<'scope, 'env, W: Write> {
    scope: &'scope Scope<'scope, 'env>,
    out: W,
    level: u32,
    /// Bytes of a piece.
    size: usize,
    piece: Vec<u8>,
    pending: VecDeque<ScopedJoinHandle<'scope, Deflated>>,
    crc: Crc,
}

impl<'scope, 'env, W: Write> ParallelGz<'scope, 'env, W> {
    fn new(
        scope: &'scope Scope<'scope, 'env>,
        mut out: W,
        level: u32,
        size: usize,
    ) -> io::Result<Self> {
        // magic, deflate, no flags, no mtime, no extra flags, OS unknown
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
        Ok(ParallelGz {
            scope,
            out,
            level,
            size,
            piece: Vec::with_capacity(size),
            pending: VecDeque::new(),
            crc: Crc::new(),
        })
    }

    fn take(&mut self, piece: Deflated) -> io::Result<()> {
        let (data, crc) = piece?;
        self.crc.combine(&crc);
        self.out.write_all(&data)
    }

    fn join_oldest(&mut self) -> io::Result<()> {
        if let Some(job) = self.pending.pop_front() {
            match job.join() {
                Ok(piece) => self.take(piece)?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(())
    }

    fn send_piece(&mut self) -> io::Result<()> {
        while self.pending.len() >= PIECES_AT_ONCE {
            self.join_oldest()?;
        }
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(self.size));
        let level = self.level;
        let job = self
            .scope
            .spawn(move || deflate_piece(&piece, level, false));
        self.pending.push_back(job);
        Ok(())
    }

    /// The last piece (deflated here), the trailer, and the writer back.
    fn finish(mut self) -> io::Result<W> {
        while !self.pending.is_empty() {
            self.join_oldest()?;
        }
        let last = deflate_piece(&self.piece, self.level, true);
        self.take(last)?;
        let (sum, size) = (self.crc.sum(), self.crc.amount());
        self.out.write_all(&sum.to_le_bytes())?;
        self.out.write_all(&size.to_le_bytes())?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGz<'_, '_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.size - self.piece.len());
        self.piece.extend_from_slice(&buf[..n]);
        if self.piece.len() == self.size {
            self.send_piece()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes the payload of `tree` (see `payload.py`) as base64 text to `out` in chunks, gzip at
/// `level`, pieces deflated on other threads.
pub fn write(tree: &ViewTree, prepared: &Prepared, level: u32, out: impl Write) -> io::Result<()> {
    std::thread::scope(|scope| {
        let mut gz = ParallelGz::new(scope, Base64::new(out), level, PIECE)?;
        write_arrays(&mut gz, tree, prepared)?;
        put(&mut gz, prepared.given.iter().map(|&(_, fill)| fill))?;
        // the names block: the tree's own, but for the names shown otherwise
        let mut at = 0;
        for (i, text) in &prepared.shown {
            let (start, end) = tree.span(*i as usize);
            gz.write_all(&tree.names[at..start])?;
            gz.write_all(text)?;
            gz.write_all(b"\n")?;
            at = end;
        }
        gz.write_all(&tree.names[at..])?;
        gz.finish()?.finish()?;
        Ok(())
    })
}

/// Per node, its name id as the payload codes it: 0 for the next name not met before (ids are
/// given in the order names are first met, so a new name's is that one), else the id + 1. The
/// ids of new names, one more each time, compress badly; zeros compress to nothing.
pub fn name_codes(ids: &[u32]) -> impl Iterator<Item = u32> + '_ {
    let mut next = 0u32;
    ids.iter().map(move |&id| {
        if id == next {
            next += 1;
            0
        } else {
            id + 1
        }
    })
}

/// The arrays before the fills: selfs of each side, the given fills' name ids (when the page
/// colours the others), name ids, depths, in `prepared.types`.
fn write_arrays(out: &mut impl Write, tree: &ViewTree, prepared: &Prepared) -> io::Result<()> {
    let types = prepared.types;
    for side in 0..tree.sides() {
        let scaled = tree.scale_of(side) != 1.0;
        match (types[0] == "u32", scaled) {
            (true, false) => put(out, tree.selfs(side).map(|w| (w as u32).to_le_bytes()))?,
            (true, true) => put(
                out,
                tree.shown_selfs(side).map(|v| (v as u32).to_le_bytes()),
            )?,
            (false, _) => put(out, tree.shown_selfs(side).map(f64::to_le_bytes))?,
        }
    }
    if prepared.page_palette {
        put(out, prepared.given.iter().map(|&(id, _)| id.to_le_bytes()))?;
    }
    let codes = name_codes(&tree.name_ids);
    if types[1] == "u16" {
        put(out, codes.map(|c| (c as u16).to_le_bytes()))?;
    } else {
        put(out, codes.map(|c| c.to_le_bytes()))?;
    }
    match &tree.depths {
        Depths::Narrow(d) => put(out, d.iter().map(|&d| d.to_le_bytes())),
        Depths::Wide(d) => put(out, d.iter().map(|&d| d.to_le_bytes())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Read;

    fn encode(data: &[u8], step: usize) -> Vec<u8> {
        let mut w = Base64::new(Vec::new());
        for part in data.chunks(step.max(1)) {
            w.write_all(part).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn base64_of_every_length() {
        for n in 0..10usize {
            let data: Vec<u8> = (0..n as u8).collect();
            for step in 1..4 {
                let out = encode(&data, step);
                assert_eq!(out.len(), n.div_ceil(3) * 4);
                assert_eq!(decode(std::str::from_utf8(&out).unwrap()), data);
            }
        }
        let big: Vec<u8> = (0..3 * CHUNK as u32 + 7).map(|i| (i * 7) as u8).collect();
        assert_eq!(
            decode(std::str::from_utf8(&encode(&big, 1000)).unwrap()),
            big
        );
    }

    /// The raw payload of `text` (base64 of one gzip member).
    pub(crate) fn unpack(text: &[u8]) -> Vec<u8> {
        let decoded = decode(std::str::from_utf8(text).unwrap());
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&decoded[..])
            .read_to_end(&mut raw)
            .unwrap();
        raw
    }

    #[test]
    fn new_names_are_coded_zero_and_the_others_their_id_plus_one() {
        let codes: Vec<u32> = name_codes(&[0, 1, 0, 2, 1, 3, 5, 4]).collect();
        assert_eq!(codes, [0, 0, 1, 0, 2, 0, 6, 0]);
    }

    #[test]
    fn pieces_deflated_apart_make_one_gzip_stream() {
        let mut state = 1u64;
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                if i % 3 == 0 {
                    (state >> 56) as u8
                } else {
                    b'a' + (i % 7) as u8
                }
            })
            .collect();
        for (len, size, step) in [
            (0, 1000, 1),
            (5, 1000, 1),
            (200_000, 16_384, 777),
            (200_000, 16_384, 16_384),
        ] {
            let data = &data[..len];
            let out = std::thread::scope(|scope| {
                let mut gz = ParallelGz::new(scope, Vec::new(), 1, size).unwrap();
                for part in data.chunks(step) {
                    gz.write_all(part).unwrap();
                }
                gz.finish().unwrap()
            });
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&out[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data);
        }
    }

    pub(crate) fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u32;
        let mut out = Vec::new();
        for q in text.as_bytes().chunks(4) {
            let v = q.iter().fold(0u32, |v, &c| v << 6 | value(c));
            let pad = q.iter().filter(|&&c| c == b'=').count();
            out.extend_from_slice(&v.to_be_bytes()[1..4 - pad]);
        }
        out
    }
}
