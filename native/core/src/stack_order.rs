//! The canonical order of a stack table (byte-wise by stack) found fast: keys of 8 bytes of each
//! stack at a time (most sorts compare integers, not stacks), refined 8 bytes further only within
//! a run of equal keys, the work split over threads by three-way partitions around a median key;
//! and the folded text of that order written by threads, each into its own part of the output.

use crate::table::{push_decimal, Stacks};

/// Threads the sorts and writers here use: the machine's, at most 8.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Keys below this many are sorted by one thread.
const SPLIT_AT: usize = 1 << 16;
/// A run of equal keys this short is sorted by comparing the stacks whole.
const SHORT_RUN: usize = 24;

/// Bytes `8 * depth .. 8 * depth + 8` of `stack`, big-endian, zero-padded: for stacks equal
/// before them, comparing these orders as comparing the stacks does, except that equal windows
/// need the rest.
fn window(stack: &[u8], depth: usize) -> u64 {
    let from = (depth * 8).min(stack.len());
    let part = &stack[from..(from + 8).min(stack.len())];
    let mut head = [0u8; 8];
    head[..part.len()].copy_from_slice(part);
    u64::from_be_bytes(head)
}

/// The stack indices of `stacks` in canonical order (byte-wise by stack), sorted by up to
/// `threads` threads.
pub fn canonical_order(stacks: &Stacks, threads: usize) -> Vec<u32> {
    let mut keys: Vec<(u64, u32)> = (0..stacks.len())
        .map(|i| (window(stacks.stack(i), 0), i as u32))
        .collect();
    sort_keys(stacks, &mut keys, 0, threads.max(1));
    keys.into_iter().map(|(_, i)| i).collect()
}

/// Sort `keys` (each holding its stack's window at `depth`; every stack equal before it) in
/// canonical order of their stacks.
fn sort_keys(stacks: &Stacks, keys: &mut [(u64, u32)], depth: usize, threads: usize) {
    if threads < 2 || keys.len() < SPLIT_AT {
        keys.sort_unstable_by_key(|k| k.0);
        refine_runs(stacks, keys, depth);
        return;
    }
    // three parts around the median key: below, equal (refined a window further), above
    let mid = keys.len() / 2;
    let pivot = keys.select_nth_unstable_by_key(mid, |k| k.0).1 .0;
    let (lo, hi) = three_way(keys, pivot);
    let (below, rest) = keys.split_at_mut(lo);
    let (equal, above) = rest.split_at_mut(hi - lo);
    std::thread::scope(|scope| {
        scope.spawn(|| sort_keys(stacks, below, depth, threads / 2));
        sort_keys(stacks, above, depth, threads - threads / 2);
    });
    refine(stacks, equal, depth, threads);
}

/// Order `keys` as below `pivot`, equal, above; the start and end of the equal part.
fn three_way(keys: &mut [(u64, u32)], pivot: u64) -> (usize, usize) {
    let (mut lo, mut at, mut hi) = (0, 0, keys.len());
    while at < hi {
        let k = keys[at].0;
        if k < pivot {
            keys.swap(lo, at);
            lo += 1;
            at += 1;
        } else if k > pivot {
            hi -= 1;
            keys.swap(at, hi);
        } else {
            at += 1;
        }
    }
    (lo, hi)
}

/// Sort every run of equal keys in `keys` (sorted by key at `depth`) by the stacks' next bytes.
fn refine_runs(stacks: &Stacks, keys: &mut [(u64, u32)], depth: usize) {
    let mut start = 0;
    while start < keys.len() {
        let key = keys[start].0;
        let end = start
            + keys[start..]
                .iter()
                .position(|k| k.0 != key)
                .unwrap_or(keys.len() - start);
        if end - start > 1 {
            refine(stacks, &mut keys[start..end], depth, 1);
        }
        start = end;
    }
}

/// Sort `run` (equal keys at `depth`) by the stacks' bytes after that window.
fn refine(stacks: &Stacks, run: &mut [(u64, u32)], depth: usize, threads: usize) {
    if run.len() < 2 {
        return;
    }
    let next = depth + 1;
    let longer = run
        .iter()
        .any(|k| stacks.stack(k.1 as usize).len() > next * 8);
    if run.len() <= SHORT_RUN || !longer {
        run.sort_unstable_by(|a, b| stacks.stack(a.1 as usize).cmp(stacks.stack(b.1 as usize)));
        return;
    }
    for k in run.iter_mut() {
        k.0 = window(stacks.stack(k.1 as usize), next);
    }
    sort_keys(stacks, run, next, threads);
}

/// The folded text (`stack sum` lines) of the stacks in `order`, written by up to `threads`
/// threads into one buffer made by `make` from its length (`Stacks::write_folded`'s text).
pub fn write_folded_parallel<E>(
    stacks: &Stacks,
    order: &[u32],
    threads: usize,
    make: impl FnOnce(usize, &mut (dyn FnMut(&mut [u8]) + Send)) -> Result<(), E>,
) -> Result<(), E> {
    let parts = threads
        .clamp(1, 64)
        .min(order.len().div_ceil(SPLIT_AT).max(1));
    let chunk = order.len().div_ceil(parts).max(1);
    let pieces: Vec<&[u32]> = order.chunks(chunk).collect();
    let lens: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|piece| scope.spawn(move || stacks.folded_len(piece)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a folded-text thread panicked"))
            .collect()
    });
    let total = lens.iter().sum();
    make(total, &mut |out: &mut [u8]| {
        let mut rest = out;
        let mut slices = Vec::with_capacity(pieces.len());
        for &len in &lens {
            let (head, tail) = rest.split_at_mut(len);
            slices.push(head);
            rest = tail;
        }
        std::thread::scope(|scope| {
            for (piece, slice) in pieces.iter().zip(slices) {
                scope.spawn(move || write_lines(stacks, piece, slice));
            }
        });
    })
}

/// `stack sum` lines of the stacks in `order` into `out` (exactly their length).
fn write_lines(stacks: &Stacks, order: &[u32], out: &mut [u8]) {
    let mut at = 0;
    let mut digits = Vec::with_capacity(48);
    for &i in order {
        let stack = stacks.stack(i as usize);
        out[at..at + stack.len()].copy_from_slice(stack);
        at += stack.len();
        digits.clear();
        digits.push(b' ');
        push_decimal(&mut digits, stacks.sum(i as usize));
        digits.push(b'\n');
        out[at..at + digits.len()].copy_from_slice(&digits);
        at += digits.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(stacks: &[Vec<u8>]) -> Stacks {
        let mut t = Stacks::new();
        for (k, s) in stacks.iter().enumerate() {
            t.push(s, k as i128 - 3);
        }
        t
    }

    fn reference(t: &Stacks) -> Vec<u32> {
        let mut order: Vec<u32> = (0..t.len() as u32).collect();
        order.sort_by(|&a, &b| t.stack(a as usize).cmp(t.stack(b as usize)));
        order
    }

    fn text(t: &Stacks, order: &[u32], threads: usize) -> Vec<u8> {
        let mut out = Vec::new();
        write_folded_parallel::<()>(t, order, threads, |len, fill| {
            out = vec![0u8; len];
            fill(&mut out);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn long_shared_prefixes_zeros_and_many_stacks_sort_bytewise() {
        // more than SPLIT_AT stacks, many sharing 30 bytes, some ending in zero bytes
        let mut stacks = Vec::new();
        for i in 0..(SPLIT_AT * 3) as u64 {
            let mut s = b"java;start_thread;thread_native_entry;".to_vec();
            s.extend_from_slice(format!("f{};g{}", i % 977, (i * 7919) % 100_003).as_bytes());
            if i % 11 == 0 {
                s.extend_from_slice(&[0, 0]);
            }
            if i % 13 == 0 {
                s.truncate(i as usize % 41);
            }
            stacks.push(s);
        }
        // a table's stacks are distinct
        let mut seen = std::collections::HashSet::new();
        stacks.retain(|s| seen.insert(s.clone()));
        let t = table(&stacks);
        let want = reference(&t);
        for threads in [1, 2, 3, 8] {
            let got = canonical_order(&t, threads);
            let same: Vec<&[u8]> = got.iter().map(|&i| t.stack(i as usize)).collect();
            let expected: Vec<&[u8]> = want.iter().map(|&i| t.stack(i as usize)).collect();
            assert_eq!(same, expected, "{threads} threads");
            let mut serial = vec![0u8; t.folded_len(&want)];
            t.write_folded(&want, &mut serial);
            assert_eq!(text(&t, &got, threads), serial);
        }
    }

    proptest! {
        #[test]
        fn any_stacks_any_threads_sort_as_the_reference(
            stacks in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![Just(0u8), Just(b';'), Just(b'a'), Just(0xffu8)], 0..20),
                0..300),
            threads in 1usize..5,
        ) {
            let t = table(&stacks);
            let got: Vec<&[u8]> = canonical_order(&t, threads).iter().map(|&i| t.stack(i as usize)).collect();
            let want: Vec<&[u8]> = reference(&t).iter().map(|&i| t.stack(i as usize)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
