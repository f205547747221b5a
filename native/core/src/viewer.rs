//! The HTML viewer's call tree and its packed payload (`foldkit/render/viewer/tree.py` and
//! `payload.py` are the twins and the reference).
//!
//! The tree holds every distinct stack prefix once, in depth-first pre-order, siblings in frame
//! order (`layout::frame_cmp`): each side's stacks are sorted, the sides merged, and each stack
//! compared with the one before it; only the frames it does not share with it become new nodes.
//! Names are interned as they are met. The payload is the twin's byte layout (see `payload.py`),
//! gzip-compressed and base64-encoded as it is written, so no uncompressed copy is ever held.

use std::hash::BuildHasher;
use std::io::{self, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use hashbrown::HashTable;
use memchr::memchr;
use rustc_hash::FxBuildHasher;

use crate::layout::{frame_cmp, shared, sorted};
use crate::palette::{plain, Palette};

/// The merged tree of one or more profiles' stacks.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ViewTree {
    /// The distinct names, each followed by `\n` (name 0 is the root's).
    pub names: Vec<u8>,
    /// Where each name starts in `names`, and where the last one's `\n` ends.
    pub name_starts: Vec<usize>,
    /// Per node: its name.
    pub name_ids: Vec<u32>,
    /// Per node: 0 for the root, 1 for the outermost frames, ...
    pub depths: Vec<u32>,
    /// Per side, per node: weight of the stacks that end exactly at the node.
    pub selfs: Vec<Vec<f64>>,
    /// Stacks left out because their weight was zero or negative on every side.
    pub nonpositive: usize,
}

impl ViewTree {
    /// Nodes in the tree.
    pub fn len(&self) -> usize {
        self.name_ids.len()
    }

    /// True when the tree has no node (never: the root is always there).
    pub fn is_empty(&self) -> bool {
        self.name_ids.is_empty()
    }

    /// Distinct names.
    pub fn name_count(&self) -> usize {
        self.name_starts.len() - 1
    }

    /// Name `i` (without its `\n`).
    pub fn name(&self, i: usize) -> &[u8] {
        &self.names[self.name_starts[i]..self.name_starts[i + 1] - 1]
    }
}

/// Names to ids as they are met: a table of ids alone, the names in the tree's arena.
struct Interner {
    ids: HashTable<u32>,
}

impl Interner {
    fn id(&mut self, name: &[u8], tree: &mut ViewTree) -> u32 {
        let hash = FxBuildHasher.hash_one(name);
        let (names, starts) = (&tree.names, &tree.name_starts);
        let get = |id: u32| &names[starts[id as usize]..starts[id as usize + 1] - 1];
        if let Some(&id) = self.ids.find(hash, |&id| get(id) == name) {
            return id;
        }
        let id = tree.name_count() as u32;
        self.ids
            .insert_unique(hash, id, |&id| FxBuildHasher.hash_one(get(id)));
        tree.names.extend_from_slice(name);
        tree.names.push(b'\n');
        tree.name_starts.push(tree.names.len());
        id
    }
}

/// The merged tree of `sides` (each side's stacks distinct), the root called `root`. A stack is
/// left out (and counted) when its weight is zero or negative on every side it is on.
pub fn build(sides: Vec<Vec<(&[u8], i64)>>, root: &[u8]) -> ViewTree {
    let stacks: usize = sides.iter().map(Vec::len).sum();
    let ordered: Vec<Vec<(&[u8], i64)>> = sides.into_iter().map(sorted).collect();
    let mut tree = ViewTree {
        names: Vec::new(),
        name_starts: vec![0],
        name_ids: vec![0],
        depths: vec![0],
        selfs: vec![vec![0.0]; ordered.len()],
        nonpositive: 0,
    };
    // distinct names are usually a fair share of the stacks: fewer rehashes of a big table
    let mut interner = Interner {
        ids: HashTable::with_capacity(stacks),
    };
    interner.id(root, &mut tree); // a frame called as the root is the root's name (as in the twin)
    let mut heads = vec![0usize; ordered.len()];
    let mut weights: Vec<Option<i64>> = vec![None; ordered.len()];
    let mut path: Vec<u32> = vec![0];
    let mut prev: Option<&[u8]> = None;
    loop {
        // the least stack at the sides' heads, and its weight on each side
        let mut least: Option<&[u8]> = None;
        for (side, stacks) in ordered.iter().enumerate() {
            if let Some(&(stack, _)) = stacks.get(heads[side]) {
                if least.is_none_or(|l| frame_cmp(stack, l).is_lt()) {
                    least = Some(stack);
                }
            }
        }
        let Some(stack) = least else { break };
        for (side, stacks) in ordered.iter().enumerate() {
            weights[side] = match stacks.get(heads[side]) {
                Some(&(s, w)) if ordered.len() == 1 || s == stack => {
                    heads[side] += 1;
                    Some(w)
                }
                _ => None,
            };
        }
        if !weights.iter().any(|w| w.is_some_and(|w| w > 0)) {
            tree.nonpositive += 1;
            continue;
        }
        let (lcp, begin) = prev.map_or((0, 0), |p| shared(p, stack));
        path.truncate(lcp + 1);
        if !stack.is_empty() && begin <= stack.len() {
            let mut from = begin;
            loop {
                let to = memchr(b';', &stack[from..]).map_or(stack.len(), |p| from + p);
                let id = interner.id(&stack[from..to], &mut tree);
                tree.name_ids.push(id);
                tree.depths.push(path.len() as u32);
                for selfs in &mut tree.selfs {
                    selfs.push(0.0);
                }
                path.push((tree.name_ids.len() - 1) as u32);
                if to == stack.len() {
                    break;
                }
                from = to + 1;
            }
        }
        let leaf = *path.last().unwrap_or(&0) as usize;
        for (selfs, w) in tree.selfs.iter_mut().zip(&weights) {
            if let Some(w) = w.filter(|&w| w > 0) {
                selfs[leaf] = w as f64;
            }
        }
        prev = Some(stack);
    }
    tree
}

/// What the page's header says of a payload (`payload.py`'s header fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The gzip stream, base64-encoded.
    pub data: Vec<u8>,
    /// Bytes of the names block.
    pub names_bytes: usize,
    /// Bytes before compression.
    pub raw_bytes: usize,
    /// Types of the selfs, name ids and depths arrays (`u16`, `u32`, `f64`).
    pub types: [&'static str; 3],
}

/// A writer that base64-encodes what it is given into a vector.
struct Base64 {
    out: Vec<u8>,
    carry: [u8; 3],
    held: usize,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Base64 {
    fn quad(&mut self, b: [u8; 3], n: usize) {
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let mut q = [b'='; 4];
        for (k, c) in q.iter_mut().enumerate().take(n + 1) {
            *c = ALPHABET[(v >> (18 - 6 * k) & 63) as usize];
        }
        self.out.extend_from_slice(&q);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.held > 0 {
            let mut b = self.carry;
            b[self.held..].fill(0);
            self.quad(b, self.held);
        }
        self.out
    }
}

impl Write for Base64 {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
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
        if buf.is_empty() {
            return Ok(given);
        }
        let whole = buf.len() / 3 * 3;
        self.out.reserve(whole / 3 * 4);
        self.out.extend(buf[..whole].chunks_exact(3).flat_map(|b| {
            let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            [18, 12, 6, 0].map(|shift| ALPHABET[(v >> shift & 63) as usize])
        }));
        let rest = &buf[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.held = rest.len();
        Ok(given)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Items converted to little-endian bytes at a time.
const STEP: usize = 1 << 14;

fn put<T: Copy, const N: usize>(
    out: &mut impl Write,
    items: &[T],
    bytes: impl Fn(T) -> [u8; N],
) -> io::Result<usize> {
    let mut buf = Vec::with_capacity(STEP * N);
    for part in items.chunks(STEP) {
        buf.clear();
        for &item in part {
            buf.extend_from_slice(&bytes(item));
        }
        out.write_all(&buf)?;
    }
    Ok(items.len() * N)
}

/// Names above which `fills` colours the two halves on two threads.
const FILLED_IN_HALVES: usize = 16_384;

/// Each name's fill from `palette` (None where it does not colour the name).
fn fills(tree: &ViewTree, palette: Option<&Palette>) -> Vec<Option<[u8; 3]>> {
    let Some(palette) = palette else {
        return vec![None; tree.name_count()];
    };
    let range = |from: usize, to: usize| {
        (from..to)
            .map(|i| palette.fill(tree.name(i)))
            .collect::<Vec<_>>()
    };
    let n = tree.name_count();
    if n < FILLED_IN_HALVES {
        return range(0, n);
    }
    let half = n / 2;
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| range(0, half));
        let second = range(half, n);
        (first.join(), second)
    });
    match first {
        Ok(mut fills) => {
            fills.extend(second);
            fills
        }
        Err(_) => range(0, n), // the thread panicked: colour here (and panic here if it must)
    }
}

/// A name's shown form and fill, given by the twin for the names `palette` does not colour.
pub type Shown = (Vec<u8>, [u8; 3]);

/// The payload of `tree` (see `payload.py`): every name's fill from `palette`, or, for a name it
/// does not colour (or every name when there is no palette), its shown form and fill from
/// `given(name id)`; the data compressed at gzip level `level`. None when `given` has no answer
/// for such a name.
pub fn pack(
    tree: &ViewTree,
    palette: Option<&Palette>,
    given: impl Fn(u32) -> Option<Shown>,
    level: u32,
) -> Option<Packed> {
    let names = tree.name_count();
    let fills = fills(tree, palette);
    let mut colors: Vec<u8> = Vec::with_capacity(3 * names);
    let mut shown: Vec<(u32, Vec<u8>)> = Vec::new();
    for (i, fill) in fills.into_iter().enumerate() {
        let name = tree.name(i);
        match fill {
            Some(fill) => colors.extend_from_slice(&fill),
            None => {
                let (text, fill) = given(i as u32)?;
                colors.extend_from_slice(&fill);
                if !(plain(name) && text == name) {
                    shown.push((i as u32, text));
                }
            }
        }
    }
    let integral = tree
        .selfs
        .iter()
        .flatten()
        .all(|&w| w.fract() == 0.0 && w < 4_294_967_296.0);
    let deep = tree.depths.iter().any(|&d| d >= 1 << 16);
    let narrow_ids = names <= 1 << 16 && !deep;
    let types = [
        if integral { "u32" } else { "f64" },
        if narrow_ids { "u16" } else { "u32" },
        if deep { "u32" } else { "u16" },
    ];
    let written = (|| -> io::Result<(Vec<u8>, usize, usize)> {
        let mut gz = GzEncoder::new(
            Base64 {
                out: Vec::new(),
                carry: [0; 3],
                held: 0,
            },
            Compression::new(level),
        );
        let mut raw = 0;
        for selfs in &tree.selfs {
            raw += if integral {
                put(&mut gz, selfs, |w| (w as u32).to_le_bytes())?
            } else {
                put(&mut gz, selfs, f64::to_le_bytes)?
            };
        }
        raw += if narrow_ids {
            put(&mut gz, &tree.name_ids, |i| (i as u16).to_le_bytes())?
        } else {
            put(&mut gz, &tree.name_ids, u32::to_le_bytes)?
        };
        raw += if deep {
            put(&mut gz, &tree.depths, u32::to_le_bytes)?
        } else {
            put(&mut gz, &tree.depths, |d| (d as u16).to_le_bytes())?
        };
        gz.write_all(&colors)?;
        raw += colors.len();
        // the names block: the tree's own, but for the names shown otherwise
        let mut names_bytes = 0;
        let mut at = 0;
        for (i, text) in &shown {
            let (start, end) = (
                tree.name_starts[*i as usize],
                tree.name_starts[*i as usize + 1],
            );
            gz.write_all(&tree.names[at..start])?;
            gz.write_all(text)?;
            gz.write_all(b"\n")?;
            names_bytes += start - at + text.len() + 1;
            at = end;
        }
        gz.write_all(&tree.names[at..])?;
        names_bytes += tree.names.len() - at;
        raw += names_bytes;
        Ok((gz.finish()?.finish(), names_bytes, raw))
    })();
    // writing to memory cannot fail
    let (data, names_bytes, raw_bytes) = written.ok()?;
    Some(Packed {
        data,
        names_bytes,
        raw_bytes,
        types,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn names(tree: &ViewTree) -> Vec<&[u8]> {
        (0..tree.name_count()).map(|i| tree.name(i)).collect()
    }

    #[test]
    fn prefixes_once_in_pre_order() {
        let stacks: Vec<(&[u8], i64)> = vec![(b"a;c", 2), (b"a;b", 3), (b"a", 1), (b"z", 0)];
        let tree = build(vec![stacks], b"all");
        assert_eq!(names(&tree), [&b"all"[..], b"a", b"b", b"c"]);
        assert_eq!(tree.name_ids, [0, 1, 2, 3]);
        assert_eq!(tree.depths, [0, 1, 2, 2]);
        assert_eq!(tree.selfs, [vec![0.0, 1.0, 3.0, 2.0]]);
        assert_eq!(tree.nonpositive, 1);
    }

    #[test]
    fn two_sides_merge() {
        let after: Vec<(&[u8], i64)> = vec![(b"a;b", 3), (b"", 4)];
        let before: Vec<(&[u8], i64)> = vec![(b"a;b", 1), (b"c", 2), (b"d", -1)];
        let tree = build(vec![after, before], b"all");
        assert_eq!(names(&tree), [&b"all"[..], b"a", b"b", b"c"]);
        assert_eq!(tree.depths, [0, 1, 2, 1]);
        assert_eq!(
            tree.selfs,
            [vec![4.0, 0.0, 3.0, 0.0], vec![0.0, 0.0, 1.0, 2.0]]
        );
        assert_eq!(tree.nonpositive, 1);
    }

    #[test]
    fn base64_of_every_length() {
        for n in 0..10usize {
            let data: Vec<u8> = (0..n as u8).collect();
            let mut w = Base64 {
                out: Vec::new(),
                carry: [0; 3],
                held: 0,
            };
            for b in &data {
                w.write_all(&[*b]).unwrap();
            }
            let out = w.finish();
            assert_eq!(out.len(), n.div_ceil(3) * 4);
            assert_eq!(decode(std::str::from_utf8(&out).unwrap()), data);
        }
    }

    #[test]
    fn payload_holds_the_arrays() {
        let stacks: Vec<(&[u8], i64)> = vec![(b"a;b\xff", 3)];
        let tree = build(vec![stacks], b"all");
        let palette = Palette::new("default").unwrap();
        let packed = pack(
            &tree,
            Some(&palette),
            |_| Some((b"b\\xff".to_vec(), [1, 2, 3])),
            6,
        )
        .unwrap();
        assert_eq!(packed.types, ["u32", "u16", "u16"]);
        let mut gz = Vec::new();
        let text = String::from_utf8(packed.data).unwrap();
        let mut raw = Vec::new();
        let decoded = decode(&text);
        flate2::read::GzDecoder::new(&decoded[..])
            .read_to_end(&mut gz)
            .unwrap();
        raw.extend_from_slice(&gz);
        assert_eq!(raw.len(), packed.raw_bytes);
        assert!(raw.ends_with(b"all\na\nb\\xff\n"));
        assert_eq!(&raw[raw.len() - 12 - 9 + 6..raw.len() - 12], &[1, 2, 3]);
    }

    fn decode(text: &str) -> Vec<u8> {
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
