//! Threads folding the chunks of one input: each keeps its own [`Worker`] state; the states are
//! merged once at the end. Plain files are read by the threads themselves, by byte range
//! (`pread`: no memory map, so a file truncated while it is read cannot crash the process).

use std::collections::HashMap;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, SendTimeoutError, Sender};
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::perf::sched::SchedChunk;
use crate::perf::{FoldConfig, Stop, TimePoint, Worker, WorkerOutput};
use crate::range_read::{read_full, Boundaries};

/// (stack id, weight, samples) of one stack.
pub type Cell = (u32, u128, u64);

/// One unit of work: chunk bytes, or a byte range of a file to cut at record boundaries.
pub enum Task {
    Bytes {
        index: usize,
        data: Vec<u8>,
    },
    Range {
        index: usize,
        file: Arc<File>,
        size: u64,
        first: u64,
        last: u64,
        max_record: u64,
        /// records also start at sample headers, not only after blank lines (a file without
        /// blank lines between samples: [`crate::perf::dense::RecordStarts`])
        lines: bool,
    },
}

/// Start of the error a thread stops with when a range holds a record longer than allowed (the
/// caller then reads the input as a stream, where such records are skipped).
pub const RECORD_TOO_LONG: &str = "record longer than";

/// What the threads need from the caller: names of lines they leave to the twin, and the twin
/// itself for chunks they cannot fold.
pub trait Hooks: Send + Sync {
    /// See [`crate::perf::LineNamer`].
    fn name_line(&self, line: &[u8], java: bool) -> Option<Option<Vec<u8>>>;
    /// Fold chunk `index` with the line path; Err stops everything.
    fn fallback(&self, index: usize, chunk: &[u8]) -> Result<(), String>;
}

/// Chunks waiting per thread.
const QUEUED_PER_THREAD: usize = 2;
/// Bytes read at a time while looking for a record boundary near a range end: records are
/// ~1.3 KB on the benchmark capture, and the scans at both ends of each 512 KiB range copy these
/// bytes once more (16 KiB: 6 % more than the ranges; 4 KiB made the core's fold 2.3-2.5 %
/// faster, medians of 15 twice, load ~7).
const BOUNDARY_SCAN: usize = 4 * 1024;
/// Shortest range [`ranges`] makes smaller than asked.
const MIN_RANGE: u64 = 1 << 20;

/// Byte ranges `[first, last)` covering `[0, size)`, `step` long, except that the last ones
/// shrink (to a share of what is left, not below 1 MiB) so that `jobs` threads finish together.
pub fn ranges(size: u64, step: u64, jobs: usize) -> impl Iterator<Item = (u64, u64)> {
    let step = step.max(1);
    let shares = (jobs.max(1) as u64).saturating_mul(4);
    let mut first = 0;
    std::iter::from_fn(move || {
        if first >= size {
            return None;
        }
        let share = ((size - first) / shares).max(MIN_RANGE);
        let last = first.saturating_add(step.min(share)).min(size);
        let range = (first, last);
        first = last;
        Some(range)
    })
}

/// The [`Task::Range`]s of `file` (`size` bytes long): its [`ranges`] of `step` bytes for `jobs`
/// threads, numbered from `first_index`.
pub fn range_tasks(
    file: Arc<File>,
    size: u64,
    step: u64,
    jobs: usize,
    first_index: usize,
    max_record: u64,
    lines: bool,
) -> impl Iterator<Item = Task> {
    ranges(size, step, jobs)
        .enumerate()
        .map(move |(count, (first, last))| Task::Range {
            index: first_index + count,
            file: file.clone(),
            size,
            first,
            last,
            max_record,
            lines,
        })
}

/// Result of [`Pool::push`].
pub enum Pushed {
    Sent,
    /// the queue stayed full for the whole timeout: try again
    Full(Task),
    /// every thread has stopped (an error, or cancelled)
    Stopped,
}

/// Everything the threads folded, merged: stacks as strings, per event.
#[derive(Default)]
pub struct Folded {
    /// (event name, [(stack, weight, samples)])
    pub events: Vec<(Vec<u8>, Vec<Cell>)>,
    pub stacks: Vec<Vec<u8>>,
    /// event name -> (chunk index, order of first appearance in that chunk), earliest
    pub first_seen: Vec<(Vec<u8>, (usize, usize))>,
    /// (chunk index, newlines)
    pub lines: Vec<(usize, usize)>,
    /// (chunk index, [(time, stack, weight)])
    pub timelines: Vec<(usize, Vec<TimePoint>)>,
    /// (chunk index, line number in the chunk, text) of the bad lines kept to quote
    pub bad: Vec<(usize, usize, Vec<u8>)>,
    /// bad lines skipped in all
    pub bad_count: usize,
    /// (chunk index, its samples kept for `--off-cpu` / `--wall`), stack ids those of `stacks`
    /// and event ids indexes of `events`
    pub sched: Vec<(usize, SchedChunk)>,
}

/// A running set of folding threads.
pub struct Pool {
    tx: Option<Sender<Task>>,
    /// buffers of folded [`Task::Bytes`] chunks, for the producer to fill again
    spares: Receiver<Vec<u8>>,
    done: Receiver<()>,
    handles: Vec<JoinHandle<Result<WorkerOutput, String>>>,
    /// the thread queueing a file's ranges ([`Pool::feed_file`]), if one was started
    feeder: Option<JoinHandle<()>>,
    finished: usize,
    cancel: Arc<AtomicBool>,
}

impl Pool {
    pub fn new(cfg: &FoldConfig, jobs: usize, hooks: Arc<dyn Hooks>) -> Pool {
        let jobs = jobs.max(1);
        let (tx, rx) = bounded::<Task>(jobs * QUEUED_PER_THREAD);
        let (done_tx, done) = bounded::<()>(jobs);
        let (spare_tx, spares) = bounded::<Vec<u8>>(jobs);
        let cancel = Arc::new(AtomicBool::new(false));
        let handles = (0..jobs)
            .map(|_| {
                let (rx, done_tx, spare_tx, cancel, hooks, cfg) = (
                    rx.clone(),
                    done_tx.clone(),
                    spare_tx.clone(),
                    cancel.clone(),
                    hooks.clone(),
                    cfg.clone(),
                );
                std::thread::spawn(move || {
                    let out = run_worker(cfg, &rx, &spare_tx, &cancel, hooks.as_ref());
                    if out.is_err() {
                        cancel.store(true, Ordering::SeqCst);
                    }
                    drop(rx);
                    let _ = done_tx.send(());
                    out
                })
            })
            .collect();
        Pool {
            tx: Some(tx),
            spares,
            done,
            handles,
            feeder: None,
            finished: 0,
            cancel,
        }
    }

    /// Queue the byte ranges of `file` ([`ranges`] of `step` bytes, numbered from
    /// `first_index`; see [`Task::Range`]) from a thread of its own, and return at once: the
    /// caller is never held up while the threads fold, and queueing needs nothing of it. The
    /// queue closes when that thread has queued the last range and [`Pool::close`] was called.
    /// At most one such thread a pool; a second call queues nothing.
    pub fn feed_file(
        &mut self,
        file: Arc<File>,
        size: u64,
        step: u64,
        first_index: usize,
        max_record: u64,
        lines: bool,
    ) {
        let (Some(tx), None) = (self.tx.clone(), &self.feeder) else {
            return;
        };
        let cancel = self.cancel.clone();
        let jobs = self.handles.len();
        self.feeder = Some(std::thread::spawn(move || {
            for task in range_tasks(file, size, step, jobs, first_index, max_record, lines) {
                // (an error: every thread has stopped)
                if cancel.load(Ordering::Relaxed) || tx.send(task).is_err() {
                    break;
                }
            }
        }));
    }

    /// Queue a task, waiting at most `timeout` for room.
    pub fn push(&self, task: Task, timeout: Duration) -> Pushed {
        let Some(tx) = &self.tx else {
            return Pushed::Stopped;
        };
        if self.cancel.load(Ordering::SeqCst) {
            return Pushed::Stopped;
        }
        match tx.send_timeout(task, timeout) {
            Ok(()) => Pushed::Sent,
            Err(SendTimeoutError::Timeout(task)) => Pushed::Full(task),
            Err(SendTimeoutError::Disconnected(_)) => Pushed::Stopped,
        }
    }

    /// The buffer of a chunk the threads are done with, if any (its length is arbitrary).
    pub fn spare(&self) -> Option<Vec<u8>> {
        self.spares.try_recv().ok()
    }

    /// No more tasks: the threads end when the queue is empty.
    pub fn close(&mut self) {
        self.tx = None;
    }

    /// Ask the threads to stop soon (between blocks) and close the queue.
    pub fn cancel(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        self.tx = None;
    }

    /// Wait up to `timeout` for the threads; true when all have ended.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        while self.finished < self.handles.len() {
            match self.done.recv_timeout(timeout) {
                Ok(()) => self.finished += 1,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => return false,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    self.finished = self.handles.len()
                }
            }
        }
        true
    }

    /// Join the (ended) threads and merge their results.
    pub fn join(&mut self) -> Result<Folded, String> {
        self.tx = None;
        let mut outputs = Vec::new();
        let mut error = None;
        if let Some(feeder) = self.feeder.take() {
            if feeder.join().is_err() {
                error = Some("the thread queueing ranges panicked".to_string());
            }
        }
        for handle in self.handles.drain(..) {
            match handle.join() {
                Ok(Ok(out)) => outputs.push(out),
                Ok(Err(e)) => error = error.or(Some(e)),
                Err(_) => error = error.or(Some("a folding thread panicked".to_string())),
            }
        }
        match error {
            Some(e) => Err(e),
            None if self.cancel.load(Ordering::SeqCst) => Err("cancelled".to_string()),
            None => Ok(merge(outputs)),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.cancel();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
        // the threads have ended and dropped the queue's receivers: its sends fail at once
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

fn run_worker(
    cfg: FoldConfig,
    rx: &Receiver<Task>,
    spares: &Sender<Vec<u8>>,
    cancel: &AtomicBool,
    hooks: &dyn Hooks,
) -> Result<WorkerOutput, String> {
    let mut worker = Worker::new(cfg);
    let mut reader = RangeReader::default();
    let cancelled = || cancel.load(Ordering::Relaxed);
    for task in rx.iter() {
        if cancelled() {
            break;
        }
        let mut owned = None;
        let (index, data): (usize, &[u8]) = match task {
            Task::Bytes { index, data } => (index, owned.insert(data)),
            Task::Range {
                index,
                file,
                size,
                first,
                last,
                max_record,
                lines,
            } => {
                reader.lines = lines;
                (index, reader.read(&file, size, first, last, max_record)?)
            }
        };
        let mut namer = |line: &[u8], java: bool| hooks.name_line(line, java);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            worker.fold_chunk(index, data, &mut namer, &cancelled)
        }));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(Stop::Fallback)) => hooks.fallback(index, data)?,
            Ok(Err(Stop::Cancelled)) => break,
            Err(panic) => {
                return Err(format!(
                    "internal error in the native perf folder: {}",
                    panic_message(panic.as_ref())
                ))
            }
        }
        if let Some(buffer) = owned {
            let _ = spares.try_send(buffer); // a full pool of spares: let it go
        }
    }
    Ok(worker.finish())
}

/// Reads byte ranges of a file into buffers kept from one range to the next (no fresh pages to
/// fault in and zero for every chunk).
pub struct RangeReader {
    data: Vec<u8>,
    boundaries: Boundaries,
    /// records start at sample headers too ([`Task::Range`])
    pub lines: bool,
    starts: crate::perf::dense::RecordStarts,
}

impl Default for RangeReader {
    fn default() -> RangeReader {
        RangeReader {
            data: Vec::new(),
            boundaries: Boundaries::new(b"\n\n", BOUNDARY_SCAN),
            lines: false,
            starts: Default::default(),
        }
    }
}

impl RangeReader {
    /// The records of `file` that start in `[first, last)`; an error starting with
    /// [`RECORD_TOO_LONG`] when one is longer than `max_record`.
    pub fn read(
        &mut self,
        file: &File,
        size: u64,
        first: u64,
        last: u64,
        max_record: u64,
    ) -> Result<&[u8], String> {
        let begin = self.boundary_at_or_after(file, size, first, max_record)?;
        let end = if last < size {
            self.boundary_at_or_after(file, size, last, max_record)?
        } else {
            size
        };
        if end <= begin {
            return Ok(&[]);
        }
        if end - begin > (last - first).saturating_add(max_record) {
            return Err(format!("{RECORD_TOO_LONG} {max_record} bytes"));
        }
        let len = (end - begin) as usize;
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
        let n = read_full(file, &mut self.data[..len], begin)
            .map_err(|e| format!("read error: {e}"))?;
        Ok(&self.data[..n])
    }

    /// File offset of the first record boundary (just after a blank line) at or after
    /// `offset`; an error when there is none within `max_record` bytes.
    fn boundary_at_or_after(
        &mut self,
        file: &File,
        size: u64,
        offset: u64,
        max_record: u64,
    ) -> Result<u64, String> {
        let found = match self.lines {
            true => self.starts.at_or_after(file, size, offset, max_record),
            false => self.boundaries.at_or_after(file, size, offset, max_record),
        };
        found
            .map_err(|e| format!("read error: {e}"))?
            .ok_or_else(|| format!("{RECORD_TOO_LONG} {max_record} bytes"))
    }
}

/// The workers' results merged: stacks found again by the hashes their workers computed (no
/// key hashed here), weights summed per event in tables indexed by stack.
fn merge(outputs: Vec<WorkerOutput>) -> Folded {
    let mut index: HashTable<u32> = HashTable::new();
    let mut stacks: Vec<Vec<u8>> = Vec::new();
    let mut hashes: Vec<u64> = Vec::new();
    let mut event_ids: HashMap<Vec<u8>, usize, FxBuildHasher> = HashMap::default();
    // per event: its name and (weight, samples) per stack id (samples 0: no cell)
    type Sums = Vec<(u128, u64)>;
    let mut events: Vec<(Vec<u8>, Sums)> = Vec::new();
    let mut first_seen: HashMap<Vec<u8>, (usize, usize), FxBuildHasher> = HashMap::default();
    let mut lines = Vec::new();
    let mut timelines = Vec::new();
    let mut bad = Vec::new();
    let mut bad_count = 0;
    let mut sched = Vec::new();
    for out in outputs {
        let local: Vec<u32> = out
            .stacks
            .into_iter()
            .zip(out.hashes)
            .map(|(stack, hash)| {
                let found = index.find(hash, |&i| {
                    hashes[i as usize] == hash && stacks[i as usize] == stack
                });
                match found {
                    Some(&i) => i,
                    None => {
                        let id = stacks.len() as u32;
                        index.insert_unique(hash, id, |&i| hashes[i as usize]);
                        stacks.push(stack);
                        hashes.push(hash);
                        id
                    }
                }
            })
            .collect();
        let ev: Vec<usize> = out
            .event_names
            .iter()
            .map(|name| {
                let next = events.len();
                *event_ids.entry(name.clone()).or_insert_with(|| {
                    events.push((name.clone(), Vec::new()));
                    next
                })
            })
            .collect();
        for (e, s, w, c) in out.cells {
            let sums = &mut events[ev[e as usize]].1;
            let s = local[s as usize] as usize;
            if sums.len() <= s {
                sums.resize(stacks.len().max(s + 1), (0, 0));
            }
            let cell = &mut sums[s];
            cell.0 = cell.0.saturating_add(w);
            cell.1 += c;
        }
        for mut chunk in out.chunks {
            lines.push((chunk.index, chunk.lines));
            if !chunk.sched.is_empty() {
                let mut kept = std::mem::take(&mut chunk.sched);
                kept.remap(&local, &ev);
                sched.push((chunk.index, kept));
            }
            bad_count += chunk.bad_count;
            bad.extend(
                chunk
                    .bad
                    .into_iter()
                    .map(|(n, text)| (chunk.index, n, text)),
            );
            for (order, &e) in chunk.events.iter().enumerate() {
                let name = &out.event_names[e as usize];
                let seen = (chunk.index, order);
                first_seen
                    .entry(name.clone())
                    .and_modify(|s| *s = (*s).min(seen))
                    .or_insert(seen);
            }
            if !chunk.timeline.is_empty() {
                let timeline = chunk
                    .timeline
                    .into_iter()
                    .map(|(t, s, w)| (t, local[s as usize], w))
                    .collect();
                timelines.push((chunk.index, timeline));
            }
        }
    }
    Folded {
        events: events
            .into_iter()
            .map(|(name, sums)| {
                let cells = (0u32..)
                    .zip(sums)
                    .filter(|(_, (_, c))| *c > 0)
                    .map(|(s, (w, c))| (s, w, c))
                    .collect();
                (name, cells)
            })
            .collect(),
        stacks,
        first_seen: first_seen.into_iter().collect(),
        lines,
        timelines,
        bad,
        bad_count,
        sched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<usize>>);

    impl Hooks for Recorder {
        fn name_line(&self, _: &[u8], _: bool) -> Option<Option<Vec<u8>>> {
            None
        }
        fn fallback(&self, index: usize, _: &[u8]) -> Result<(), String> {
            self.0.lock().unwrap().push(index);
            Ok(())
        }
    }

    struct Panicky;

    impl Hooks for Panicky {
        fn name_line(&self, _: &[u8], _: bool) -> Option<Option<Vec<u8>>> {
            panic!("namer bug")
        }
        fn fallback(&self, _: usize, _: &[u8]) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let mut pool = Pool::new(&FoldConfig::default(), 2, Arc::new(Panicky));
        let data = "a 1 1.0: 1 cycles: \n\t1234 caf\u{e9} (/x)\n\n"
            .as_bytes()
            .to_vec();
        assert!(matches!(
            pool.push(Task::Bytes { index: 0, data }, Duration::from_secs(5)),
            Pushed::Sent
        ));
        pool.close();
        assert!(pool.wait(Duration::from_secs(10)));
        let error = pool.join().err().unwrap();
        assert!(
            error.contains("internal error") && error.contains("namer bug"),
            "{error}"
        );
    }

    #[test]
    fn ranges_cover_the_file_and_shrink_at_the_end() {
        let size = 100 << 20;
        let got: Vec<(u64, u64)> = ranges(size, 8 << 20, 2).collect();
        assert_eq!(got.first().unwrap().0, 0);
        assert_eq!(got.last().unwrap().1, size);
        assert!(got.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(got[0].1, 8 << 20);
        let lens: Vec<u64> = got.iter().map(|r| r.1 - r.0).collect();
        assert!(lens.windows(2).all(|w| w[1] <= w[0]), "{lens:?}");
        assert!(lens[..lens.len() - 1].iter().all(|&l| l >= MIN_RANGE));
        assert_eq!(
            ranges(10, 3, 1).collect::<Vec<_>>(),
            vec![(0, 3), (3, 6), (6, 9), (9, 10)]
        );
        assert_eq!(ranges(0, 8, 2).count(), 0);
    }

    #[test]
    fn ranges_give_the_records_starting_in_them() {
        // records of 1 to ~9,000 bytes (some longer than a boundary scan's first read, some
        // longer than a range), blank lines in runs; every range's records as found by hand
        let mut text = Vec::new();
        for k in 0..60usize {
            text.extend_from_slice(format!("a {k} 1.0: 1 cycles: \n").as_bytes());
            for line in 0..(k * 37) % 150 {
                text.extend_from_slice(format!("\t{line:x} f{k} (/x)\n").as_bytes());
            }
            text.extend_from_slice(if k % 7 == 3 { b"\n\n" } else { b"\n" });
        }
        let dir = std::env::temp_dir().join(format!("foldkit-one-go-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.perf");
        std::fs::write(&path, &text).unwrap();
        let file = File::open(&path).unwrap();
        let size = text.len() as u64;
        let start_at_or_after = |at: u64| {
            if at == 0 {
                return 0;
            }
            (at..size)
                .find(|&o| text[..o as usize].ends_with(b"\n\n"))
                .unwrap_or(size)
        };
        let mut reader = RangeReader::default();
        for step in [1u64, 2, 3, 700, 4095, 4097, 9000, 50_000] {
            let mut joined = Vec::new();
            let mut first = 0;
            while first < size {
                let last = (first + step).min(size);
                let (begin, end) = (start_at_or_after(first), start_at_or_after(last));
                let want = if end > begin {
                    &text[begin as usize..end as usize]
                } else {
                    &[][..]
                };
                let got = reader.read(&file, size, first, last, 1 << 20).unwrap();
                assert_eq!(got, want, "step {step} range {first}..{last}");
                joined.extend_from_slice(got);
                first = last;
            }
            assert_eq!(joined, text, "step {step}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_reused_reader_returns_only_the_range_asked_for() {
        let dir = std::env::temp_dir().join(format!("foldkit-range-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.perf");
        let record = b"a 1 1.0: 1 cycles: \n\t1234 f (/x)\n\n";
        let data = record.repeat(1000);
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        let size = data.len() as u64;
        let mut reader = RangeReader::default();
        let whole = reader.read(&file, size, 0, size, 1 << 20).unwrap().to_vec();
        assert_eq!(whole, data);
        let tail = reader.read(&file, size, size - 10, size, 1 << 20).unwrap();
        assert!(tail.is_empty(), "no record starts in the last 10 bytes");
        let after = record.len() as u64 + 1;
        let one = reader.read(&file, size, 1, after, 1 << 20).unwrap();
        assert_eq!(one, record, "the one record starting in [1, after)");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_range_without_a_record_boundary_is_an_error() {
        // a sparse file of zeros: no blank line within max_record of a range's start
        let dir = std::env::temp_dir().join(format!("foldkit-zeros-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("z.perf");
        let file = File::create(&path).unwrap();
        file.set_len(1 << 30).unwrap();
        let file = File::open(&path).unwrap();
        let mut reader = RangeReader::default();
        let error = reader
            .read(&file, 1 << 30, 0, 8 << 20, 1 << 20)
            .unwrap_err();
        assert!(error.starts_with(RECORD_TOO_LONG), "{error}");
        let error = reader
            .read(&file, 1 << 30, 8 << 20, 16 << 20, 1 << 20)
            .unwrap_err();
        assert!(error.starts_with(RECORD_TOO_LONG), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fed_file_folds_as_its_ranges_pushed() {
        let dir = std::env::temp_dir().join(format!("foldkit-feed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("capture.perf");
        let mut text = Vec::new();
        for i in 0..5000 {
            let leaf = i % 7;
            text.extend_from_slice(
                format!("a 1 1.0: {i} cycles: \n\t1234 f{leaf} (/x)\n\t5678 g (/x)\n\n").as_bytes(),
            );
        }
        std::fs::write(&path, &text).unwrap();
        let size = text.len() as u64;
        let fold = |feed: bool| {
            let hooks = Arc::new(Recorder(Mutex::new(Vec::new())));
            let mut pool = Pool::new(&FoldConfig::default(), 2, hooks);
            let file = Arc::new(File::open(&path).unwrap());
            if feed {
                pool.feed_file(file.clone(), size, 4096, 0, 1 << 20, false);
                pool.feed_file(file, size, 4096, 0, 1 << 20, false); // a second: nothing
            } else {
                for task in range_tasks(file, size, 4096, 2, 0, 1 << 20, false) {
                    assert!(matches!(
                        pool.push(task, Duration::from_secs(5)),
                        Pushed::Sent
                    ));
                }
            }
            pool.close();
            assert!(pool.wait(Duration::from_secs(10)));
            let folded = pool.join().unwrap();
            let mut cells: Vec<(Vec<u8>, u128, u64)> = folded.events[0]
                .1
                .iter()
                .map(|&(s, w, c)| (folded.stacks[s as usize].clone(), w, c))
                .collect();
            cells.sort();
            let mut lines = folded.lines.clone();
            lines.sort();
            (cells, lines)
        };
        let (fed, pushed) = (fold(true), fold(false));
        assert_eq!(fed, pushed);
        assert_eq!(fed.0.len(), 7);
        assert_eq!(fed.0.iter().map(|c| c.2).sum::<u64>(), 5000);
        // cancelled while feeding: the pool still ends
        let hooks = Arc::new(Recorder(Mutex::new(Vec::new())));
        let mut pool = Pool::new(&FoldConfig::default(), 1, hooks);
        pool.feed_file(
            Arc::new(File::open(&path).unwrap()),
            size,
            1024,
            0,
            1 << 20,
            false,
        );
        pool.cancel();
        drop(pool);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn threads_fold_and_hand_over_odd_chunks() {
        let hooks = Arc::new(Recorder(Mutex::new(Vec::new())));
        let mut pool = Pool::new(&FoldConfig::default(), 2, hooks.clone());
        let good = b"a 1 1.0: 1 cycles: \n\t1234 f (/x)\n\n".to_vec();
        for index in 0..10 {
            let data = if index == 3 {
                // a frame line only the twin names (this namer cannot)
                "a 1 1.0: 1 cycles: \n\t1234 caf\u{e9} (/x)\n\n"
                    .as_bytes()
                    .to_vec()
            } else if index == 5 {
                b"a bad line\n".to_vec() // skipped and counted here
            } else {
                good.clone()
            };
            assert!(matches!(
                pool.push(Task::Bytes { index, data }, Duration::from_secs(5)),
                Pushed::Sent
            ));
        }
        pool.close();
        assert!(pool.wait(Duration::from_secs(10)));
        let folded = pool.join().unwrap();
        assert_eq!(*hooks.0.lock().unwrap(), vec![3]);
        assert_eq!(folded.events.len(), 1);
        assert_eq!(folded.events[0].1.iter().map(|c| c.2).sum::<u64>(), 8);
        assert_eq!(folded.stacks, vec![b"a;f".to_vec()]);
        assert_eq!(folded.bad, vec![(5, 1, b"a bad line".to_vec())]);
        assert_eq!(folded.bad_count, 1);
    }
}
