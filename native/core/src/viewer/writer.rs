//! The viewer's payload written (`payload.py` is the twin): the arrays of a `ViewTree` and its
//! names in the layout `prepare` described, gzip-compressed a piece at a time on several threads
//! and base64-encoded as the text is handed to the sink, never whole in memory.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{bounded, unbounded};
use flate2::Crc;
use zlib_rs::{Deflate, DeflateConfig, DeflateFlush};

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
        let at = self.out.len();
        self.out.resize(at + whole / 3 * 4, 0);
        for (q, b) in self.out[at..]
            .chunks_exact_mut(4)
            .zip(buf[..whole].chunks_exact(3))
        {
            let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            q[0] = ALPHABET[(v >> 18 & 63) as usize];
            q[1] = ALPHABET[(v >> 12 & 63) as usize];
            q[2] = ALPHABET[(v >> 6 & 63) as usize];
            q[3] = ALPHABET[(v & 63) as usize];
        }
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

/// Bytes before compression in a piece at most: each piece is deflated on its own.
const PIECE: usize = 4 << 20;
/// Threads deflating pieces at most (fewer when the machine has fewer cores).
const MOST_WORKERS: usize = 4;
/// Pieces handed to the workers and not yet written, per worker (bounds what is held).
const AHEAD_PER_WORKER: usize = 2;

/// What a piece of the payload holds: a run of one array's items, or of names.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// A side's self weights: u32, or f64 when `wide`.
    Selfs { side: usize, wide: bool },
    /// The given fills' name ids (u32).
    GivenIds,
    /// Name codes (`name_codes`), u16 when `narrow`; `next`: the id a new name gets at the
    /// piece's first node.
    Codes { narrow: bool, next: u32 },
    /// Depths, as the tree holds them (u16 or u32).
    Depths,
    /// The given fills, three bytes each.
    Fills,
    /// Names (their shown form where the twin gave one), each followed by `\n`.
    Names,
}

/// A piece of the payload: items `start..end` of a part (nodes; given fills; name ids).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Piece {
    part: Part,
    start: usize,
    end: usize,
}

/// `0..n` in runs of `per` (at least one item each), as pieces of `part`.
fn runs(part: Part, n: usize, per: usize, out: &mut Vec<Piece>) {
    let per = per.max(1);
    out.extend((0..n).step_by(per).map(|start| Piece {
        part,
        start,
        end: (start + per).min(n),
    }));
}

/// The pieces of the payload of `tree` in stream order, each about `size` bytes before
/// compression (a single name may be more).
fn plan(tree: &ViewTree, prepared: &Prepared, size: usize) -> Vec<Piece> {
    let types = prepared.types;
    let n = tree.len();
    let mut pieces = Vec::new();
    let wide = types[0] != "u32";
    for side in 0..tree.sides() {
        runs(
            Part::Selfs { side, wide },
            n,
            size / if wide { 8 } else { 4 },
            &mut pieces,
        );
    }
    if prepared.page_palette {
        runs(Part::GivenIds, prepared.given.len(), size / 4, &mut pieces);
    }
    let narrow = types[1] == "u16";
    let per = (size / if narrow { 2 } else { 4 }).max(1);
    // names get ids in the order they are first met: a new name's id is one more than every
    // id before it (`name_codes`)
    let mut next = 0u32;
    for start in (0..n).step_by(per) {
        let end = (start + per).min(n);
        pieces.push(Piece {
            part: Part::Codes { narrow, next },
            start,
            end,
        });
        if let Some(&most) = tree.name_ids[start..end].iter().max() {
            next = next.max(most.saturating_add(1));
        }
    }
    let item = if tree.depths.is_wide() { 4 } else { 2 };
    runs(Part::Depths, n, size / item, &mut pieces);
    runs(Part::Fills, prepared.given.len(), size / 3, &mut pieces);
    let names = tree.name_count();
    let mut start = 0;
    while start < names {
        let from = tree.span(start).0;
        let end = tree
            .name_ends
            .partition_point(|&e| e as usize <= from + size)
            .max(start + 1);
        pieces.push(Piece {
            part: Part::Names,
            start,
            end,
        });
        start = end;
    }
    pieces
}

/// The bytes of `piece` before compression: from `tree` itself when they are there as they
/// are (names none of which is shown otherwise), else made in `buf`.
fn raw<'a>(
    piece: Piece,
    tree: &'a ViewTree,
    prepared: &'a Prepared,
    buf: &'a mut Vec<u8>,
) -> &'a [u8] {
    let Piece { part, start, end } = piece;
    buf.clear();
    match part {
        Part::Selfs { side, wide } => {
            // zeros, then the weights of the stacks that end in the range
            let item = if wide { 8 } else { 4 };
            buf.resize((end - start) * item, 0);
            let (leaves, weights) = (&tree.leaves, &tree.weights[side]);
            let first = leaves.partition_point(|&leaf| (leaf as usize) < start);
            let factor = tree.scale_of(side);
            for (&leaf, &w) in leaves[first..].iter().zip(&weights[first..]) {
                let at = (leaf as usize).wrapping_sub(start);
                if at >= end - start {
                    break;
                }
                let slot = &mut buf[at * item..(at + 1) * item];
                match (wide, factor == 1.0) {
                    (false, true) => slot.copy_from_slice(&(w as u32).to_le_bytes()),
                    (false, false) => {
                        slot.copy_from_slice(&((w as f64 * factor) as u32).to_le_bytes())
                    }
                    (true, _) => slot.copy_from_slice(&(w as f64 * factor).to_le_bytes()),
                }
            }
        }
        Part::GivenIds => {
            for &(id, _) in &prepared.given[start..end] {
                buf.extend_from_slice(&id.to_le_bytes());
            }
        }
        Part::Codes { narrow, mut next } => {
            for &id in &tree.name_ids[start..end] {
                let code = if id == next {
                    next += 1;
                    0
                } else {
                    id + 1
                };
                if narrow {
                    buf.extend_from_slice(&(code as u16).to_le_bytes());
                } else {
                    buf.extend_from_slice(&code.to_le_bytes());
                }
            }
        }
        Part::Depths => match &tree.depths {
            Depths::Narrow(d) => d[start..end]
                .iter()
                .for_each(|d| buf.extend_from_slice(&d.to_le_bytes())),
            Depths::Wide(d) => d[start..end]
                .iter()
                .for_each(|d| buf.extend_from_slice(&d.to_le_bytes())),
        },
        Part::Fills => {
            for (_, fill) in &prepared.given[start..end] {
                buf.extend_from_slice(fill);
            }
        }
        Part::Names => {
            let (from, to) = (tree.span(start).0, tree.span(end - 1).1);
            let shown = &prepared.shown;
            let first = shown.partition_point(|(id, _)| (*id as usize) < start);
            let last = shown.partition_point(|(id, _)| (*id as usize) < end);
            if first == last {
                return &tree.names[from..to];
            }
            // the tree's own names, but for the names shown otherwise
            let mut at = from;
            for (i, text) in &shown[first..last] {
                let (s, e) = tree.span(*i as usize);
                buf.extend_from_slice(&tree.names[at..s]);
                buf.extend_from_slice(text);
                buf.push(b'\n');
                at = e;
            }
            buf.extend_from_slice(&tree.names[at..to]);
        }
    }
    buf
}

/// True when every byte of `piece` before compression is zero, as a side's self weights are
/// over most of a diff's tree where that side has few stacks (its pieces are then deflated
/// once: `Deflater::zeros`). Only self weights are looked at (any other piece: false).
fn all_zero(piece: Piece, tree: &ViewTree) -> bool {
    let Piece { part, start, end } = piece;
    let Part::Selfs { side, .. } = part else {
        return false;
    };
    let leaves = &tree.leaves;
    let first = leaves.partition_point(|&leaf| (leaf as usize) < start);
    let last = leaves.partition_point(|&leaf| (leaf as usize) < end);
    tree.weights[side][first..last].iter().all(|&w| w == 0)
}

/// A piece deflated (no dictionary from the pieces before it, ending in a sync flush: byte
/// aligned, not final), with the CRC-32 and length of its bytes before compression.
type Deflated = io::Result<(Vec<u8>, Crc)>;

/// A worker's deflate state and output room, used for piece after piece.
struct Deflater {
    deflate: Deflate,
    room: Vec<u8>,
    /// The last run of zero bytes deflated (`zeros`): its length and what it deflated to.
    zeros: Option<(usize, Vec<u8>)>,
}

impl Deflater {
    fn new(level: u32) -> Self {
        let config = DeflateConfig {
            level: i32::try_from(level.min(9)).unwrap_or(1),
            window_bits: -15, // raw deflate: the gzip header and trailer are written here
            ..DeflateConfig::default()
        };
        Deflater {
            deflate: Deflate::new_with_config(config),
            room: vec![0; 1 << 20],
            zeros: None,
        }
    }

    /// `len` zero bytes deflated as `piece` deflates them with a sync flush: deflated once per
    /// length and copied after that (deflate of the same bytes from a reset state gives the same
    /// output; zeros cost as much to deflate as other bytes, and a diff's side with few stacks
    /// is tens of megabytes of them).
    fn zeros(&mut self, len: usize) -> Deflated {
        static BLOCK: [u8; 1 << 16] = [0; 1 << 16];
        let mut crc = Crc::new();
        let mut left = len;
        while left > 0 {
            let n = left.min(BLOCK.len());
            crc.update(&BLOCK[..n]);
            left -= n;
        }
        if let Some((done, out)) = &self.zeros {
            if *done == len {
                return Ok((out.clone(), crc));
            }
        }
        let (out, _) = self.piece(&vec![0; len], DeflateFlush::SyncFlush)?;
        self.zeros = Some((len, out.clone()));
        Ok((out, crc))
    }

    /// `data` deflated on its own, ending as `flush` says (a sync flush or the final block).
    fn piece(&mut self, data: &[u8], flush: DeflateFlush) -> Deflated {
        let mut crc = Crc::new();
        crc.update(data);
        self.deflate.reset();
        let mut out = Vec::with_capacity(data.len() / 4 + 64);
        let mut input = data;
        loop {
            let (read, made) = (self.deflate.total_in(), self.deflate.total_out());
            self.deflate
                .compress(input, &mut self.room, flush)
                .map_err(|e| io::Error::other(format!("deflate: {e:?}")))?;
            let made = (self.deflate.total_out() - made) as usize;
            out.extend_from_slice(&self.room[..made]);
            input = &input[(self.deflate.total_in() - read) as usize..];
            // the flush is complete once the input is used and room was left
            if input.is_empty() && made < self.room.len() {
                return Ok((out, crc));
            }
        }
    }
}

/// `piece` deflated by `deflater` (`buf`: room for its bytes when they are made).
fn deflated(
    piece: Piece,
    tree: &ViewTree,
    prepared: &Prepared,
    deflater: &mut Deflater,
    buf: &mut Vec<u8>,
) -> Deflated {
    if all_zero(piece, tree) {
        let item = match piece.part {
            Part::Selfs { wide: true, .. } => 8,
            _ => 4,
        };
        return deflater.zeros((piece.end - piece.start) * item);
    }
    let data = raw(piece, tree, prepared, buf);
    deflater.piece(data, DeflateFlush::SyncFlush)
}

/// Writes the payload of `tree` (see `payload.py`) as base64 text to `out` in chunks, gzip at
/// `level`: one gzip member (as `DecompressionStream` reads it) of pieces each deflated on its
/// own (pigz's way) by worker threads, which make each piece's bytes themselves from the tree,
/// while this thread encodes and hands on the pieces in order.
pub fn write(tree: &ViewTree, prepared: &Prepared, level: u32, out: impl Write) -> io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    write_with(tree, prepared, level, out, PIECE, workers.min(MOST_WORKERS))
}

/// `write` with pieces of `size` bytes and `workers` threads deflating them.
fn write_with(
    tree: &ViewTree,
    prepared: &Prepared,
    level: u32,
    out: impl Write,
    size: usize,
    workers: usize,
) -> io::Result<()> {
    let pieces = plan(tree, prepared, size);
    let mut out = Base64::new(out);
    // magic, deflate, no flags, no mtime, no extra flags, OS unknown
    out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
    let mut crc = Crc::new();
    let mut take = |piece: Deflated, out: &mut Base64<_>| -> io::Result<()> {
        let (data, sum) = piece?;
        crc.combine(&sum);
        out.write_all(&data)
    };
    let workers = workers.clamp(1, pieces.len().max(1));
    if workers == 1 {
        let (mut deflater, mut buf) = (Deflater::new(level), Vec::new());
        for &piece in &pieces {
            take(
                deflated(piece, tree, prepared, &mut deflater, &mut buf),
                &mut out,
            )?;
        }
    } else {
        std::thread::scope(|scope| {
            let ahead = workers * AHEAD_PER_WORKER;
            let (jobs, todo) = bounded::<usize>(ahead);
            let (done, results) = unbounded::<(usize, Deflated)>();
            for _ in 0..workers {
                let (todo, done, pieces) = (todo.clone(), done.clone(), &pieces);
                scope.spawn(move || {
                    let (mut deflater, mut buf) = (Deflater::new(level), Vec::new());
                    for k in todo {
                        let made = catch_unwind(AssertUnwindSafe(|| {
                            deflated(pieces[k], tree, prepared, &mut deflater, &mut buf)
                        }))
                        .unwrap_or_else(|_| Err(io::Error::other("a piece's deflate panicked")));
                        if done.send((k, made)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop((todo, done));
            // the pieces in order; the workers never more than `ahead` pieces beyond the next
            let mut held: VecDeque<Option<Deflated>> = VecDeque::new();
            let mut sent = 0;
            while sent < pieces.len().min(ahead) {
                let _ = jobs.send(sent);
                sent += 1;
            }
            for next in 0..pieces.len() {
                while held.front().is_none_or(Option::is_none) {
                    let (k, made) = results
                        .recv()
                        .map_err(|_| io::Error::other("the deflate workers stopped"))?;
                    let at = k - next;
                    if held.len() <= at {
                        held.resize_with(at + 1, || None);
                    }
                    held[at] = Some(made);
                }
                let made = held
                    .pop_front()
                    .flatten()
                    .unwrap_or_else(|| Ok((Vec::new(), Crc::new())));
                take(made, &mut out)?;
                if sent < pieces.len() {
                    let _ = jobs.send(sent);
                    sent += 1;
                }
            }
            Ok::<(), io::Error>(())
        })?;
    }
    // the final block (empty), then the trailer: CRC-32 and length of the bytes before compression
    let (last, _) = Deflater::new(level).piece(&[], DeflateFlush::Finish)?;
    out.write_all(&last)?;
    out.write_all(&crc.sum().to_le_bytes())?;
    out.write_all(&crc.amount().to_le_bytes())?;
    out.finish()?;
    Ok(())
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::palette::Palette;
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

    /// The payload before compression made the plain way: each array in turn, then the fills
    /// and the names (the layout of `payload.py`).
    fn reference(tree: &ViewTree, prepared: &Prepared) -> Vec<u8> {
        let mut out = Vec::new();
        for side in 0..tree.sides() {
            for v in tree.shown_selfs(side) {
                if prepared.types[0] == "u32" {
                    out.extend_from_slice(&(v as u32).to_le_bytes());
                } else {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        if prepared.page_palette {
            for &(id, _) in &prepared.given {
                out.extend_from_slice(&id.to_le_bytes());
            }
        }
        for code in name_codes(&tree.name_ids) {
            if prepared.types[1] == "u16" {
                out.extend_from_slice(&(code as u16).to_le_bytes());
            } else {
                out.extend_from_slice(&code.to_le_bytes());
            }
        }
        for d in tree.depths.to_vec() {
            if tree.depths.is_wide() {
                out.extend_from_slice(&d.to_le_bytes());
            } else {
                out.extend_from_slice(&(d as u16).to_le_bytes());
            }
        }
        for (_, fill) in &prepared.given {
            out.extend_from_slice(fill);
        }
        let shown: std::collections::HashMap<u32, &Vec<u8>> =
            prepared.shown.iter().map(|(i, t)| (*i, t)).collect();
        for i in 0..tree.name_count() {
            match shown.get(&(i as u32)) {
                Some(text) => out.extend_from_slice(text),
                None => out.extend_from_slice(tree.name(i)),
            }
            out.push(b'\n');
        }
        out
    }

    /// A name as the twin shows it: bytes that are not printable ASCII escaped.
    fn visible(name: &[u8]) -> Vec<u8> {
        name.iter()
            .flat_map(|&c| {
                if (b' '..=b'~').contains(&c) {
                    vec![c]
                } else {
                    format!("\\x{c:02x}").into_bytes()
                }
            })
            .collect()
    }

    const FRAMES: [&[u8]; 6] = [b"a", b"b", b"main", b"f\xff", b"", b"x;y"];

    proptest::proptest! {
        #[test]
        fn pieces_on_any_workers_make_the_one_payload(
            sides in proptest::collection::vec(
                proptest::collection::btree_map(
                    proptest::collection::vec(0usize..6, 0..7), -1i64..6, 0..30),
                1..=2),
            scale in proptest::sample::select(vec![1.0, 0.5, 0.75, 3.0]),
            palette in proptest::bool::ANY,
            size in 1usize..300,
            workers in 1usize..4,
        ) {
            let texts: Vec<Vec<(Vec<u8>, i64)>> = sides
                .iter()
                .map(|side| {
                    let mut seen = std::collections::HashSet::new();
                    side.iter()
                        .map(|(k, &w)| (k.iter().map(|&c| FRAMES[c]).collect::<Vec<_>>().join(&b';'), w))
                        .filter(|(s, _)| seen.insert(s.clone()))
                        .collect()
                })
                .collect();
            let pairs = texts
                .iter()
                .map(|side| side.iter().map(|(s, w)| (s.as_slice(), *w)).collect())
                .collect();
            let mut tree = super::super::build(pairs, b"all").unwrap();
            tree.scale(tree.sides() - 1, scale);
            let page = if palette { Palette::new("default") } else { None };
            let prepared = super::super::prepare(&tree, page.as_ref(), |i| {
                let name = tree.name(i as usize);
                Some((visible(name), [i as u8, 7, 9]))
            })
            .unwrap();
            let mut text = Vec::new();
            write_with(&tree, &prepared, 1, &mut text, size, workers).unwrap();
            let raw = unpack(&text);
            proptest::prop_assert_eq!(raw.len(), prepared.raw_bytes);
            proptest::prop_assert_eq!(raw, reference(&tree, &prepared));
        }
    }

    #[test]
    fn zeros_deflate_as_their_bytes_do_and_once_per_length() {
        let mut deflater = Deflater::new(1);
        let mut plain = Deflater::new(1);
        for len in [1, 5, 4 << 10, 4 << 10, 70_000, 5, 70_000] {
            let (a, crc_a) = deflater.zeros(len).unwrap();
            let (b, crc_b) = plain.piece(&vec![0; len], DeflateFlush::SyncFlush).unwrap();
            assert_eq!(a, b, "{len}");
            assert_eq!((crc_a.sum(), crc_a.amount()), (crc_b.sum(), crc_b.amount()));
            assert_eq!(deflater.zeros.as_ref().map(|z| z.0), Some(len));
        }
    }

    #[test]
    fn a_side_with_few_stacks_is_written_as_its_bytes_are() {
        // a diff's AFTER with two stacks among a BEFORE of many: most of its pieces are zeros
        let texts: Vec<Vec<u8>> = (0..3000).map(|i| format!("p;m{i}").into_bytes()).collect();
        let before: Vec<(&[u8], i64)> = texts.iter().map(|s| (s.as_slice(), 1)).collect();
        let after: Vec<(&[u8], i64)> = vec![(texts[7].as_slice(), 5), (texts[2500].as_slice(), 2)];
        let mut tree = super::super::build(vec![after, before], b"all").unwrap();
        for scale in [1.0, 0.75] {
            tree.scale(1, scale);
            let prepared = super::super::prepare(&tree, Palette::new("default").as_ref(), |i| {
                Some((tree.name(i as usize).to_vec(), [1, 2, 3]))
            })
            .unwrap();
            for (size, workers) in [(1000, 3), (64, 1), (4096, 2)] {
                let mut text = Vec::new();
                write_with(&tree, &prepared, 1, &mut text, size, workers).unwrap();
                assert_eq!(unpack(&text), reference(&tree, &prepared));
            }
            let pieces = plan(&tree, &prepared, 1000);
            assert!(pieces.iter().filter(|&&p| all_zero(p, &tree)).count() > 5);
        }
    }

    #[test]
    fn wide_depths_and_an_empty_tree_in_pieces() {
        let deep = vec![b"f".as_slice(); 70_000].join(&b';');
        for stacks in [vec![(deep.as_slice(), 2), (b"a;b".as_slice(), 1)], vec![]] {
            let tree = super::super::build(vec![stacks], b"all").unwrap();
            let prepared = super::super::prepare(&tree, None, |i| {
                Some((tree.name(i as usize).to_vec(), [1, 2, 3]))
            })
            .unwrap();
            for (size, workers) in [(1000, 3), (1 << 20, 2), (7, 1)] {
                let mut text = Vec::new();
                write_with(&tree, &prepared, 1, &mut text, size, workers).unwrap();
                assert_eq!(unpack(&text), reference(&tree, &prepared));
            }
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
