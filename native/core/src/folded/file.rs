//! A whole plain folded file read by threads: the file cut into one range of whole lines per
//! thread, each range read by its thread (`pread`, no memory map) with a [`FoldedReader`], the
//! readers merged in range order so the stacks keep the order of their first appearance in the
//! file. Lines the plain reader hands back are collected with their line numbers for the caller
//! to read with the reference rules.
//!
//! Decimal weights are summed in line order (as the reference sums them), so when a range holds
//! one the file is read again by one reader, start to end, instead of merging the ranges.
//!
//! The reader gives up (`Ok(None)`, the caller then reads the file as a stream) when a line is
//! longer than `max_record` or more than `max_deferred` lines are handed back.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use memchr::{memchr, memrchr};

use crate::folded::merge::merge_in;
use crate::folded::{FoldedReader, Sums};
use crate::range_read::Boundaries;
use crate::table::Stacks;

/// Bytes read at a time by one thread: a block the kernel has just copied is parsed while it is
/// still in the core's L2 cache (1 M stacks, 173 MB: 4 MiB blocks took about 4% more CPU).
const BLOCK: usize = 256 * 1024;
/// Files smaller than this are read by one thread (the default of `read_file`'s `min_split`).
pub const MIN_SPLIT: u64 = 4 * 1024 * 1024;
/// Lines a file may hand to the reference reader (comments, bad lines) before the whole file is
/// left to the stream reader (the default of the bindings' `max_deferred`).
pub const MAX_DEFERRED: usize = 10_000;
/// Stacks a range's reader makes room for at once, at most (see [`FoldedReader::reserve`]):
/// a file of many repeated lines must not reserve an index for every line.
const RESERVED_STACKS: usize = 1 << 23;
/// Bytes of stacks a range's reader makes room for at once, at most.
const RESERVED_BYTES: usize = 1 << 30;
/// Bytes read at a time while looking for the end of the line a range boundary falls in.
const BOUNDARY_SCAN: usize = 64 * 1024;
/// Bytes of handed-back lines one thread keeps before it leaves the file to the stream reader
/// (which reads such lines a chunk at a time).
const MAX_DEFERRED_BYTES: usize = 16 * 1024 * 1024;

/// Stacks below which a reader reads on through the range after its own (`RangeReads::work`).
/// Beyond, the memory its index leaves behind as it grows is big enough to raise glibc's
/// dynamic mmap threshold past the later ranges' vectors, which then stay with the process once
/// freed by the merge (1,000,000 distinct stacks in 4 ranges: a 157 MB peak for 143 MB), while
/// the merge it saves costs little beside the reading (the 45 MB profile's 43,667 stacks: a
/// fifth of the read).
const READ_ON_STACKS: usize = 1 << 17;

/// What a file held: distinct plain stacks and the lines left to the reference reader.
#[derive(Debug, Default)]
pub struct FileStacks {
    /// (stack, summed integer weight) in order of first appearance.
    pub stacks: Stacks,
    /// The sums that are decimals, by index in `stacks` (their integer sums there are unused).
    pub floats: Sums,
    /// (line number, line without its line end) of every line handed back, in file order.
    pub deferred: Vec<(u64, Vec<u8>)>,
    /// Lines in the file.
    pub lines: u64,
    /// True when every stack is UTF-8.
    pub utf8: bool,
    /// True when a stack may hold a call-site offset (`folded::may_hold_offsets`).
    pub offsets: bool,
}

/// One thread's share: its reader, the lines it handed back (numbered within its ranges) and its
/// line count; None when it gave up.
type Part = Option<(FoldedReader, Vec<(u64, Vec<u8>)>)>;

/// True when a line of `len` bytes may be one the stream reader skips as too long (the
/// borderline lengths are left to it too).
fn too_long(len: usize, max_record: u64) -> bool {
    len as u64 + 2 >= max_record
}

/// A reader of consecutive ranges, as one thread reads them one after the other: the lines of a
/// range follow those of the range before it, so its reader reads on (a table the merge would
/// otherwise copy into the first range's, and an index it would build again).
#[derive(Default)]
struct Run {
    reader: FoldedReader,
    /// The lines handed back, numbered within the run's ranges, and their bytes.
    deferred: Vec<(u64, Vec<u8>)>,
    deferred_bytes: usize,
    /// Bytes of the file read.
    read: u64,
    /// `buf[..len]` is read and not yet fed; the buffer is zeroed once, as it grows.
    buf: Vec<u8>,
}

/// Read the whole lines of `first..last` (of a file of `size` bytes) with one reader.
fn read_range(
    file: &File,
    range: (u64, u64, u64),
    max_record: u64,
    max_deferred: usize,
) -> io::Result<Part> {
    let mut run = Run::default();
    Ok(read_on(file, range, max_record, max_deferred, &mut run)?
        .then_some((run.reader, run.deferred)))
}

/// Read the whole lines of `first..last` (of a file of `size` bytes) with `run`'s reader, after
/// the ranges it has read (ending where this one starts); false when it gave up.
fn read_on(
    file: &File,
    (first, last, size): (u64, u64, u64),
    max_record: u64,
    max_deferred: usize,
    run: &mut Run,
) -> io::Result<bool> {
    // a line within one block is no longer than a block, so only lines across blocks are measured
    let block = BLOCK.min(max_record.saturating_sub(2) as usize).max(1);
    let Run {
        reader,
        deferred,
        deferred_bytes,
        read,
        buf,
    } = run;
    let mut counted = deferred.len();
    let mut len = 0;
    let mut pos = first;
    loop {
        let want = block.min((last - pos) as usize);
        let kept = len;
        if buf.len() < kept + want {
            buf.resize(kept + want, 0);
        }
        let got = if want == 0 {
            0
        } else {
            file.read_at(&mut buf[kept..kept + want], pos)?
        };
        len = kept + got;
        let buf = &mut buf[..];
        pos += got as u64;
        let end = got == 0;
        // the line carried over from the last block, now with its end (or still without)
        let carried = memchr(b'\n', &buf[kept..len]).map_or(len, |i| kept + i);
        // the bytes carried over hold no line end: only the block just read is searched (a
        // line across many blocks is not searched again at each)
        let tail = memrchr(b'\n', &buf[kept..len]).map_or(0, |i| kept + i + 1);
        if too_long(carried, max_record) || too_long(len - tail, max_record) {
            return Ok(false); // the stream reader skips such lines
        }
        let cut = if end { len } else { tail };
        if pos - got as u64 == first {
            reserve(reader, &buf[..cut], (first, last, size), *read);
        }
        *read += got as u64;
        if !reader.feed_all(&buf[..cut], deferred, max_deferred) {
            return Ok(false);
        }
        *deferred_bytes += deferred[counted..].iter().map(|d| d.1.len()).sum::<usize>();
        counted = deferred.len();
        if *deferred_bytes > MAX_DEFERRED_BYTES {
            return Ok(false);
        }
        if end {
            return Ok(true);
        }
        if cut > 0 {
            buf.copy_within(cut..len, 0);
            len -= cut;
        }
    }
}

/// Room in `reader` for the stacks of the range `first..last` (of a file of `size` bytes), of
/// which `head` is the first block, `read` the bytes it has read before (of the ranges before).
fn reserve(
    reader: &mut FoldedReader,
    head: &[u8],
    (first, last, size): (u64, u64, u64),
    read: u64,
) {
    if !reader.is_empty() {
        // read on: as many stacks a byte as the ranges before held (the table's room was made
        // for the whole file when the run started at its start)
        let guess = (reader.len() as f64 / read.max(1) as f64 * (last - first) as f64) as usize;
        let bytes = ((last - first) as usize).min(RESERVED_BYTES);
        reader.reserve(guess.min(RESERVED_STACKS), bytes);
        return;
    }
    // the first block says how long lines are: room for the range's stacks at once
    let lines = memchr::memchr_iter(b'\n', head).count().max(1);
    let guess = ((last - first) as f64 / head.len().max(1) as f64 * lines as f64) as usize;
    let bytes = ((last - first) as usize).min(RESERVED_BYTES);
    reader.reserve(guess.min(RESERVED_STACKS), bytes);
    if first == 0 && size > last {
        // the later ranges' tables are merged into this one, or read on by its reader: room
        // for them too (memory reserved and not used is never touched)
        let scale = size as f64 / last.max(1) as f64;
        let stacks = (guess as f64 * scale) as usize;
        reader.reserve_table(
            stacks.min(RESERVED_STACKS * 4).saturating_sub(guess),
            (size as usize).min(RESERVED_BYTES).saturating_sub(bytes),
        );
    }
}

/// What became of a range (`RangeReads::parts`).
enum Slot {
    /// Not read yet.
    Unread,
    /// Read by a run that starts with it: the run's outcome (boxed: a reader is large).
    Read(Box<io::Result<Part>>),
    /// Read by the run of the range before it.
    ReadOn,
}

/// The byte ranges of one file, each read whole by whichever thread takes it next (see
/// [`RangeReads::work`]), then merged in range order ([`RangeReads::finish`]).
pub struct RangeReads {
    file: File,
    /// Range k is `bounds[k]..bounds[k + 1]`, whole lines.
    bounds: Vec<u64>,
    /// The next range no thread has taken.
    next: AtomicUsize,
    /// What became of each range.
    parts: Mutex<Vec<Slot>>,
    max_record: u64,
    max_deferred: usize,
    /// Threads that merge the ranges' tables (see [`RangeReads::with_threads`]).
    threads: usize,
}

impl RangeReads {
    /// Merge the ranges' tables with `threads` threads (by default one per range, at most
    /// [`crate::stack_order::threads`]).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The file at `path` cut into `ranges` ranges of whole lines (one if it is smaller than
    /// `min_split` bytes); None when a cut falls in a line longer than `max_record` (the caller
    /// reads the file as a stream).
    pub fn open(
        path: &Path,
        ranges: usize,
        min_split: u64,
        max_record: u64,
        max_deferred: usize,
    ) -> io::Result<Option<Self>> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        let ranges = if size < min_split.max(1) {
            1
        } else {
            ranges.clamp(1, 256)
        };
        let mut bounds = vec![0u64];
        let mut lines = Boundaries::new(b"\n", BOUNDARY_SCAN);
        for k in 1..ranges as u64 {
            match lines.at_or_after(&file, size, size / ranges as u64 * k, max_record)? {
                Some(at) => bounds.push(at.max(*bounds.last().unwrap_or(&0))),
                None => return Ok(None),
            }
        }
        bounds.push(size);
        let parts = Mutex::new((0..ranges).map(|_| Slot::Unread).collect());
        Ok(Some(RangeReads {
            file,
            bounds,
            next: AtomicUsize::new(0),
            parts,
            max_record,
            max_deferred,
            threads: ranges.min(crate::stack_order::threads()),
        }))
    }

    /// Read ranges no other thread has taken until none is left (any number of threads may
    /// call this at once). A range that follows the one this thread has just read is read on
    /// by the same reader (one table fewer to merge).
    pub fn work(&self) {
        let size = self.bounds[self.bounds.len() - 1];
        // the run being read: its first range, its last, its reader
        let mut open: Option<(usize, usize, Run)> = None;
        loop {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k + 1 >= self.bounds.len() {
                break;
            }
            let (start, mut run) = match open.take() {
                Some((start, end, run)) if end + 1 == k && run.reader.len() < READ_ON_STACKS => {
                    (start, run)
                }
                other => {
                    if let Some((start, _, run)) = other {
                        self.keep(start, Ok(Some((run.reader, run.deferred))));
                    }
                    (k, Run::default())
                }
            };
            let range = (self.bounds[k], self.bounds[k + 1], size);
            let read = read_on(
                &self.file,
                range,
                self.max_record,
                self.max_deferred,
                &mut run,
            );
            if k != start {
                self.mark(k, Slot::ReadOn);
            }
            match read {
                Ok(true) => open = Some((start, k, run)),
                Ok(false) => self.keep(start, Ok(None)),
                Err(err) => self.keep(start, Err(err)),
            }
        }
        if let Some((start, _, run)) = open {
            self.keep(start, Ok(Some((run.reader, run.deferred))));
        }
    }

    /// The outcome of the run that starts with range `k`.
    fn keep(&self, k: usize, part: io::Result<Part>) {
        self.mark(k, Slot::Read(Box::new(part)));
    }

    fn mark(&self, k: usize, slot: Slot) {
        match self.parts.lock() {
            Ok(mut parts) => parts[k] = slot,
            Err(poisoned) => poisoned.into_inner()[k] = slot,
        }
    }

    /// The stacks of the whole file, merged in range order, once every range is read (a range
    /// not read is read now).
    pub fn finish(self) -> io::Result<Option<FileStacks>> {
        self.work();
        let parts = self
            .parts
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut read = Vec::with_capacity(parts.len());
        for part in parts {
            let part = match part {
                Slot::Read(part) => *part,
                Slot::ReadOn => continue,
                Slot::Unread => Err(io::Error::other("a range was not read")),
            };
            let Some(part) = part? else {
                return Ok(None);
            };
            read.push(part);
        }
        if read.len() > 1 && read.iter().any(|(reader, _)| reader.has_floats()) {
            // decimal sums are made in line order: one reader, start to end
            let size = *self.bounds.last().unwrap_or(&0);
            let whole = read_range(
                &self.file,
                (0, size, size),
                self.max_record,
                self.max_deferred,
            )?;
            let Some(whole) = whole else {
                return Ok(None);
            };
            read = vec![whole];
        }
        let mut out = FileStacks {
            utf8: true,
            ..FileStacks::default()
        };
        let mut readers = Vec::with_capacity(read.len());
        for (reader, deferred) in read {
            if out.deferred.len() + deferred.len() > self.max_deferred {
                return Ok(None);
            }
            let before = out.lines;
            out.deferred
                .extend(deferred.into_iter().map(|(n, line)| (before + n, line)));
            out.lines += reader.lineno();
            out.utf8 = out.utf8 && reader.utf8();
            out.offsets = out.offsets || reader.offsets();
            readers.push(reader);
        }
        if readers.len() == 1 {
            (out.stacks, out.floats) = readers
                .pop()
                .map(FoldedReader::into_items)
                .unwrap_or_default();
        } else {
            out.stacks = merge_in(readers, self.threads, self.bounds.len() - 1);
            out.stacks.shrink_to_fit();
        }
        Ok(Some(out))
    }
}

/// Read the file at `path` with `threads` threads, one if it is smaller than `min_split` bytes
/// (see the module docstring).
pub fn read_file(
    path: &Path,
    threads: usize,
    min_split: u64,
    max_record: u64,
    max_deferred: usize,
) -> io::Result<Option<FileStacks>> {
    let Some(reads) = RangeReads::open(path, threads, min_split, max_record, max_deferred)? else {
        return Ok(None);
    };
    let reads = reads.with_threads(threads);
    let helpers = reads.bounds.len().saturating_sub(2);
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|| reads.work());
        }
        reads.work();
    });
    reads.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &[u8]) -> (std::path::PathBuf, File) {
        let mut path = std::env::temp_dir();
        let unique = format!(
            "foldkit-folded-file-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        );
        path.push(unique);
        let mut f = File::create(&path).unwrap();
        f.write_all(text).unwrap();
        (path, f)
    }

    /// The stacks and handed-back lines of `text` read as one chunk.
    fn one_chunk(text: &[u8]) -> FileStacks {
        let mut r = FoldedReader::new();
        let mut deferred = Vec::new();
        assert!(r.feed_all(text, &mut deferred, usize::MAX));
        FileStacks {
            lines: r.lineno(),
            utf8: r.utf8(),
            offsets: r.offsets(),
            stacks: r.into_items().0,
            deferred,
            floats: Sums::default(),
        }
    }

    #[test]
    fn threads_and_ranges_give_what_one_chunk_gives() {
        // a file above MIN_SPLIT, with stacks repeated across the range boundaries
        let mut text = Vec::new();
        let mut k = 0u64;
        while text.len() < 3 * MIN_SPLIT as usize {
            k += 1;
            let line = match k % 7 {
                0 => format!("# comment {k}\n"),
                1 => format!("s{};x{} {}\r\n", k % 1000, k % 3, k % 5 + 1),
                2 => "\n".to_string(),
                3 => format!("bad line {k} x\n"),
                _ => format!("a;b;c{} {}\n", k % 5000, k % 9 + 1),
            };
            text.extend_from_slice(line.as_bytes());
        }
        text.extend_from_slice(b"last 3");
        let (path, _f) = file_with(&text);
        let expected = one_chunk(&text);
        for threads in [1, 2, 3, 7] {
            let got = read_file(&path, threads, MIN_SPLIT, 1 << 20, usize::MAX)
                .unwrap()
                .unwrap();
            assert_eq!(got.stacks, expected.stacks, "{threads} threads");
            assert_eq!(got.deferred, expected.deferred, "{threads} threads");
            assert_eq!(got.lines, expected.lines);
            assert!(got.utf8 && expected.utf8);
            assert!(!got.offsets && !expected.offsets);
        }
        assert!(read_file(&path, 2, MIN_SPLIT, 1 << 20, 10)
            .unwrap()
            .is_none());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn ranges_taken_by_any_threads_give_what_one_chunk_gives() {
        let mut text = Vec::new();
        for k in 0..20_000u64 {
            let line = match k % 5 {
                0 => format!("# note {k}\n"),
                1 => format!("x;y{} {}\n", k % 300, k % 4 + 1),
                _ => format!("s{};t{} {}\n", k % 2000, k % 7, k % 3 + 1),
            };
            text.extend_from_slice(line.as_bytes());
        }
        let (path, _f) = file_with(&text);
        let expected = one_chunk(&text);
        for ranges in [1, 2, 5, 16, 64] {
            let reads = RangeReads::open(&path, ranges, 1, 1 << 20, usize::MAX)
                .unwrap()
                .unwrap();
            // two threads take ranges as they come, then `finish` merges
            std::thread::scope(|scope| {
                scope.spawn(|| reads.work());
                reads.work();
            });
            let got = reads.finish().unwrap().unwrap();
            assert_eq!(got.stacks, expected.stacks, "{ranges} ranges");
            assert_eq!(got.deferred, expected.deferred, "{ranges} ranges");
            assert_eq!(got.lines, expected.lines);
            let untouched = RangeReads::open(&path, ranges, 1, 1 << 20, usize::MAX)
                .unwrap()
                .unwrap();
            assert_eq!(untouched.finish().unwrap().unwrap().stacks, expected.stacks);
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_line_longer_than_allowed_gives_up() {
        let mut text = b"a 1\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 5000));
        text.extend_from_slice(b" 2\nb 1\n");
        let (path, _f) = file_with(&text);
        assert!(read_file(&path, 1, MIN_SPLIT, 1000, 100).unwrap().is_none());
        let whole = read_file(&path, 1, MIN_SPLIT, 10_000, 100)
            .unwrap()
            .unwrap();
        assert_eq!(whole.stacks.len(), 3);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_line_across_many_blocks_is_read_whole() {
        let long = vec![b'f'; BLOCK * 5 + 17];
        let mut text = b"a 1\n".to_vec();
        text.extend_from_slice(&long);
        text.extend_from_slice(b";g 2\nb 3\n");
        text.extend_from_slice(&long);
        text.extend_from_slice(b";g 4");
        let (path, _f) = file_with(&text);
        let got = read_file(&path, 1, u64::MAX, 1 << 26, 100)
            .unwrap()
            .unwrap();
        assert_eq!(got.stacks, one_chunk(&text).stacks);
        assert_eq!(got.stacks.len(), 3);
        assert_eq!(got.stacks.sum(1), 6);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_file_without_line_breaks_is_handed_back_after_max_record() {
        // a sparse file of zeros: every thread gives up within max_record bytes of its range
        let (path, f) = file_with(b"a 1\n");
        f.set_len(256 << 20).unwrap();
        for threads in [1, 4] {
            assert!(read_file(&path, threads, 1 << 20, 1 << 16, 100)
                .unwrap()
                .is_none());
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn stacks_that_are_not_utf8_or_hold_offsets_are_noticed() {
        let (path, _f) = file_with(b"a 1\n\xff;b 2\n");
        assert!(!read_file(&path, 1, 1, 100, 100).unwrap().unwrap().utf8);
        std::fs::remove_file(&path).unwrap();
        let (path, _f) = file_with(b"a 1\n\xc3\xa9;b 2\n");
        assert!(read_file(&path, 1, 1, 100, 100).unwrap().unwrap().utf8);
        std::fs::remove_file(&path).unwrap();
        let (path, _f) = file_with(b"a 1\nf+0x1;b 2\n");
        assert!(read_file(&path, 2, 1, 100, 100).unwrap().unwrap().offsets);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn many_bytes_of_lines_for_the_reference_reader_give_up() {
        let line = [vec![b'x'; 1 << 20], b"\n".to_vec()].concat();
        let text: Vec<u8> = std::iter::repeat_n(&line[..], 20)
            .flatten()
            .copied()
            .collect();
        let (path, _f) = file_with(&text);
        assert!(read_file(&path, 1, MIN_SPLIT, 1 << 26, 100)
            .unwrap()
            .is_none());
        std::fs::remove_file(&path).unwrap();
        let (path, _f) = file_with(&text[..line.len() * 3]);
        assert_eq!(
            read_file(&path, 1, MIN_SPLIT, 1 << 26, 100)
                .unwrap()
                .unwrap()
                .deferred
                .len(),
            3
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_thread_reads_on_through_the_ranges_after_its_own() {
        let mut text = Vec::new();
        for k in 0..20_000u64 {
            text.extend_from_slice(format!("a;b{} {}\n", k % 3000, k % 5 + 1).as_bytes());
        }
        let (path, _f) = file_with(&text);
        let reads = RangeReads::open(&path, 8, 1, 1 << 20, usize::MAX)
            .unwrap()
            .unwrap();
        reads.work();
        {
            let parts = reads.parts.lock().unwrap();
            assert!(matches!(&parts[0], Slot::Read(part) if matches!(**part, Ok(Some(_)))));
            assert!(parts[1..].iter().all(|p| matches!(p, Slot::ReadOn)));
        }
        let got = reads.finish().unwrap().unwrap();
        let expected = one_chunk(&text);
        assert_eq!(got.stacks, expected.stacks);
        assert_eq!(got.lines, expected.lines);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_missing_file_is_an_error() {
        assert!(read_file(Path::new("/nonexistent/foldkit"), 2, 1, 100, 100).is_err());
    }
}
