//! The readers of a file's ranges merged into one table, in range order (each stack where it
//! first appears), with every thread at work: the stacks are split into partitions by a slice
//! of their hash (kept from reading, never computed again), each partition's stacks are told
//! apart by one thread with an index of its own (a stack seen in an earlier range is a
//! duplicate of its first appearance), then the table is put together in one pass: the first
//! range's table extended by every later stack that is not a duplicate, the duplicates' sums
//! added to their first appearance.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::folded::index::Index;
use crate::folded::FoldedReader;
use crate::table::Stacks;

/// Lines whose index slots are fetched together before any is looked up.
const BATCH: usize = 16;
/// Below this many stacks in later ranges, one thread tells them apart.
const SPLIT_STACKS: usize = 1 << 16;

/// The partition a stack's hash falls in, of `parts` (the top bits: the index places a stack by
/// its low bits).
#[inline]
fn part_of(hash: u64, parts: usize) -> usize {
    (((hash >> 32) * parts as u64) >> 32) as usize
}

/// The value in `mutex`, poisoned or not.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The readers of consecutive ranges, numbered as one table: stack `g` is entry `g - bases[k]`
/// of range `k`.
struct Ranges<'a> {
    readers: &'a [FoldedReader],
    bases: Vec<u64>,
}

impl Ranges<'_> {
    /// (range, entry) of stack `g`.
    #[inline]
    fn locate(&self, g: u32) -> (usize, usize) {
        let k = self.bases.partition_point(|&b| b <= u64::from(g)) - 1;
        (k, (u64::from(g) - self.bases[k]) as usize)
    }

    fn stack(&self, g: u32) -> &[u8] {
        let (k, e) = self.locate(g);
        self.readers[k].stacks().stack(e)
    }

    fn hash(&self, g: u32) -> u64 {
        let (k, e) = self.locate(g);
        self.readers[k].hashes()[e]
    }

    /// (stack, the earlier stack it duplicates) of the duplicates in partition `part` of
    /// `parts`, in no particular order, found with an index in `slots`' memory (given back).
    fn duplicates(
        &self,
        part: usize,
        parts: usize,
        slots: Vec<u64>,
    ) -> (Vec<(u32, u32)>, Vec<u64>) {
        let total = *self.bases.last().unwrap_or(&0) as usize;
        let mut index = Index::reusing(total / parts + total / parts / 8, slots);
        let mut found = Vec::new();
        let mut batch = [(0u64, 0u32); BATCH];
        let mut held = 0;
        let mut take = |batch: &[(u64, u32)], index: &mut Index| {
            let mut touched = 0u64;
            for &(hash, _) in batch {
                touched ^= index.first(hash);
            }
            std::hint::black_box(touched);
            for &(hash, g) in batch {
                let stack = self.stack(g);
                match index.find(hash, |other| self.stack(other) == stack) {
                    Ok(first) => found.push((g, first)),
                    Err(slot) => index.put(slot, hash, g, |other| self.hash(other)),
                }
            }
        };
        for (k, reader) in self.readers.iter().enumerate() {
            let base = self.bases[k];
            for (e, &hash) in reader.hashes().iter().enumerate() {
                // every stack written, kept when it is of this partition: no branch to mispredict
                // on a hash
                batch[held] = (hash, (base + e as u64) as u32);
                held += usize::from(part_of(hash, parts) == part);
                if held == BATCH {
                    take(&batch, &mut index);
                    held = 0;
                }
            }
        }
        take(&batch[..held], &mut index);
        (found, index.into_slots())
    }
}

/// The stacks of `readers` (of consecutive ranges of one input, in order; none with a decimal
/// sum) as one table, in order of first appearance, with `threads` threads, the stacks told
/// apart in at least one partition (see [`merge_in`]). Panics when there are more than
/// 2^32 - 2 stacks in all or a reader has a decimal sum (bugs: a range reader holds fewer, and
/// decimal sums are never merged).
pub fn merge(readers: Vec<FoldedReader>, threads: usize) -> Stacks {
    merge_in(readers, threads, 1)
}

/// `merge`, the stacks told apart in at least `least` partitions (the ranges a file was cut
/// into, when some were read on by one reader (`file::RangeReads::work`): each partition's
/// index then still fits in the memory of a reader's, as when every range had its own).
pub fn merge_in(mut readers: Vec<FoldedReader>, threads: usize, least: usize) -> Stacks {
    assert!(
        readers.iter().all(|r| !r.has_floats()),
        "decimal sums merged"
    );
    if readers.len() <= 1 {
        return readers.pop().map(|r| r.into_items().0).unwrap_or_default();
    }
    let mut bases = vec![0u64];
    for r in &readers {
        bases.push(bases[bases.len() - 1] + r.len() as u64);
    }
    let total = bases[bases.len() - 1];
    assert!(
        total < u64::from(u32::MAX),
        "more than 2^32 - 2 distinct stacks"
    );
    // the ranges' indexes are let go, their memory used again by the partitions' (pages
    // already written: none is faulted in again, nor given back to the system while the other
    // threads run)
    let mut pool: Vec<Vec<u64>> = readers
        .iter_mut()
        .map(|r| r.take_index().into_slots())
        .collect();
    pool.sort_unstable_by_key(Vec::capacity);
    let later = (total - bases[1]) as usize;
    let parts = if later < SPLIT_STACKS {
        1
    } else {
        // as many partitions as ranges (at least one per thread): each partition's index fits
        // in the memory of a range's
        threads.clamp(1, 64).max(readers.len().max(least).min(64))
    };
    let ranges = Ranges {
        readers: &readers,
        bases,
    };
    let next = AtomicUsize::new(0);
    let pool = Mutex::new(pool);
    let work = || {
        let mut found = Vec::new();
        loop {
            let part = next.fetch_add(1, Ordering::Relaxed);
            if part >= parts {
                return found;
            }
            let slots = lock(&pool).pop().unwrap_or_default();
            let (more, slots) = ranges.duplicates(part, parts, slots);
            lock(&pool).push(slots);
            if found.is_empty() {
                found = more;
            } else {
                found.extend(more);
            }
        }
    };
    let mut duplicates: Vec<(u32, u32)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.clamp(1, parts))
            .map(|_| scope.spawn(work))
            .collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(found) => all.extend(found),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    drop(pool);
    let bases = ranges.bases;
    duplicates.sort_unstable();
    // the first range's table, extended by every later stack that is not a duplicate
    let mut readers = readers.into_iter();
    let mut table = readers.next().map(|r| r.into_items().0).unwrap_or_default();
    let more: usize = readers
        .as_slice()
        .iter()
        .map(|r| r.stacks().stack_bytes())
        .sum();
    table.reserve(later, more);
    let mut weights = Vec::with_capacity(duplicates.len());
    let mut next = 0;
    let mut skipped: Vec<usize> = Vec::new();
    for (k, reader) in readers.enumerate() {
        // (each reader let go once copied: the peak holds one fewer at each step)
        let (stacks, _) = reader.into_items();
        let base = bases[k + 1];
        skipped.clear();
        while let Some(&(g, _)) = duplicates.get(next) {
            let e = u64::from(g) - base;
            if e >= stacks.len() as u64 {
                break;
            }
            weights.push(stacks.sum(e as usize));
            skipped.push(e as usize);
            next += 1;
        }
        table.append_except(&stacks, &skipped);
    }
    // a first appearance is where it is less the duplicates before it
    for (&(_, first), weight) in duplicates.iter().zip(weights) {
        let at = first as usize - duplicates.partition_point(|d| d.0 < first);
        table.add_to(at, weight);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader of `text` read whole.
    fn read(text: &[u8]) -> FoldedReader {
        let mut r = FoldedReader::new();
        let mut deferred = Vec::new();
        assert!(r.feed_all(text, &mut deferred, usize::MAX));
        r
    }

    /// `text` cut at line starts into `ranges` ranges, each read by its own reader, merged with
    /// `threads` threads in at least `parts` partitions.
    fn merged(text: &[u8], ranges: usize, threads: usize, parts: usize) -> Stacks {
        let mut cuts = vec![0];
        for k in 1..ranges {
            let at = text.len() * k / ranges;
            let at = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i + 1);
            cuts.push(at.max(cuts[cuts.len() - 1]));
        }
        cuts.push(text.len());
        let readers = cuts.windows(2).map(|w| read(&text[w[0]..w[1]])).collect();
        merge_in(readers, threads, parts)
    }

    #[test]
    fn ranges_merged_by_any_threads_give_what_one_reader_gives() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for distinct in [3u64, 50, 5000, 200_000] {
            let mut text = Vec::new();
            for _ in 0..(distinct * 2).min(300_000) {
                let k = next(distinct);
                let w = next(1 << 40) as i64 - (1 << 39);
                text.extend_from_slice(format!("a;f{k};g{} {w}\n", k % 13).as_bytes());
            }
            text.extend_from_slice(format!("big {}\nbig {}\n", i64::MAX, i64::MAX).as_bytes());
            let whole = read(&text).into_items().0;
            for (ranges, threads) in [(1, 1), (2, 1), (2, 2), (3, 2), (7, 3), (16, 2)] {
                assert_eq!(
                    merged(&text, ranges, threads, 1),
                    whole,
                    "{distinct} distinct, {ranges} ranges, {threads} threads"
                );
                assert_eq!(
                    merged(&text, ranges, threads, 5),
                    whole,
                    "{distinct} distinct, {ranges} ranges, {threads} threads, 5 parts"
                );
            }
        }
        assert!(merge(Vec::new(), 2).is_empty());
    }
}
