//! Frame lines already named, found again by their bytes: a line's end is found with `memchr`
//! and its key hashed 16 bytes to a multiplication, then looked up in an open-addressing table
//! whose keys live in one buffer. Every frame line of a call chain not seen before goes through
//! here, so each step is kept short.

/// Multipliers of [`mix`] (the fractional digits of the golden ratio, and of pi).
const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0x243f_6a88_85a3_08d3;

/// Two words folded into one: the high and low halves of their full product, xored.
#[inline(always)]
fn mix(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The 8 bytes of `s` at `at` as a little-endian word.
#[inline(always)]
fn load(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
}

/// The hash a [`LineCache`] keeps `key` under: 16 bytes a step (the last step overlapping the
/// one before it), the length folded in first.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    let n = key.len();
    let mut h = (n as u64).wrapping_mul(K0);
    if n >= 16 {
        let mut at = 0;
        while at + 16 < n {
            h = mix(load(key, at) ^ h ^ K1, load(key, at + 8) ^ K0);
            at += 16;
        }
        h = mix(load(key, n - 16) ^ h ^ K1, load(key, n - 8) ^ K0);
    } else if n >= 8 {
        h = mix(load(key, 0) ^ h ^ K1, load(key, n - 8) ^ K0);
    } else {
        let mut w = 0u64;
        for (i, &b) in key.iter().enumerate() {
            w |= u64::from(b) << (8 * i);
        }
        h = mix(w ^ h ^ K1, K0);
    }
    mix(h ^ K0, h ^ K1)
}

/// A hash of a long text (a call chain, ~1.4 KB on the benchmark capture; every sample's is
/// hashed): 64 bytes a step in four independent lanes, so that the multiplications overlap instead
/// of waiting one for another (a single lane, as in [`key_hash`], or rustc-hash's two, take more
/// of the fold's time than the lookups they serve), then the last 64 bytes (overlapping), the
/// length folded in.
#[inline]
pub fn text_hash(text: &[u8]) -> u64 {
    let n = text.len();
    if n < 64 {
        return key_hash(text);
    }
    let mut lanes = [K0, K1, K0 ^ K1, K0.rotate_left(32)];
    let step = |lanes: &mut [u64; 4], block: &[u8]| {
        for (i, lane) in lanes.iter_mut().enumerate() {
            *lane = mix(load(block, i * 16) ^ *lane, load(block, i * 16 + 8) ^ K1);
        }
    };
    let mut blocks = text.chunks_exact(64);
    for block in &mut blocks {
        step(&mut lanes, block);
    }
    if !blocks.remainder().is_empty() {
        step(&mut lanes, &text[n - 64..]);
    }
    let h = mix(
        lanes[0] ^ lanes[2],
        lanes[1] ^ lanes[3] ^ (n as u64).wrapping_mul(K0),
    );
    mix(h ^ K0, h ^ K1)
}

/// A hash of a sequence of words (a stack's part ids): four words a step, the length folded in
/// first.
#[inline]
pub fn words_hash(words: &[u32]) -> u64 {
    let pair = |a: u32, b: u32| u64::from(a) | u64::from(b) << 32;
    let mut h = (words.len() as u64).wrapping_mul(K0);
    let mut steps = words.chunks_exact(4);
    for w in &mut steps {
        h = mix(pair(w[0], w[1]) ^ h ^ K1, pair(w[2], w[3]) ^ K0);
    }
    let rest = steps.remainder();
    if !rest.is_empty() {
        let mut w = [0u32; 4];
        w[..rest.len()].copy_from_slice(rest);
        h = mix(pair(w[0], w[1]) ^ h ^ K1, pair(w[2], w[3]) ^ K0);
    }
    mix(h ^ K0, h ^ K1)
}

/// The end of the line starting at `s[0]` (the index of its newline, or `s.len()`) and
/// [`key_hash`] of `s[from..end]` (`from` at most the line's length).
#[inline]
pub fn line_end_and_hash(s: &[u8], from: usize) -> (usize, u64) {
    let end = match memchr::memchr(b'\n', &s[from..]) {
        Some(i) => from + i,
        None => s.len(),
    };
    (end, key_hash(&s[from..end]))
}

/// `a == b`, two words at a time (no call to `memcmp` for these short keys).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    let pair = |i: usize| (load(a, i) ^ load(b, i)) | (load(a, i + 8) ^ load(b, i + 8));
    if n < 16 {
        return (load(a, 0) ^ load(b, 0)) | (load(a, n - 8) ^ load(b, n - 8)) == 0;
    }
    let mut i = 0;
    while i + 16 < n {
        if pair(i) != 0 {
            return false;
        }
        i += 16;
    }
    pair(n - 16) == 0
}

/// One slot of a [`LineCache`]: the low 32 bits of a key's hash (the bits its place in the table
/// is taken from, so that the table can grow) and where its length, value and bytes are kept.
/// Eight bytes, the table at most three quarters full: the lookups wait on memory, so the
/// smaller the table the better (the benchmark capture's 24,000 distinct lines of a thread: 16-byte
/// slots at most half full took 1 MiB; three quarters full, 512 KiB, made the core's fold 4 %
/// faster; 8-byte slots, 256 KiB, 0.7 % more, medians of 15 at load ~10).
#[derive(Clone, Copy, Default)]
struct Slot {
    tag: u32,
    /// where the key's length (4 bytes, little-endian), value (4 bytes) and bytes start in
    /// `keys`; 0 marks an empty slot (a key is never kept at 0)
    start: u32,
}

/// Bytes kept before a key's bytes: its length and value.
const KEY_HEAD: usize = 8;

/// Keys (byte strings) -> u32, bounded: past `max_entries` entries or `max_bytes` bytes of keys
/// the cache is emptied and refilled.
pub struct LineCache {
    /// open addressing, linear probing, at most three quarters full; empty slots have `start` 0
    slots: Vec<Slot>,
    entries: usize,
    /// a pad of 4 bytes (so that no key starts at 0), then each key's length, value and bytes
    keys: Vec<u8>,
    max_entries: usize,
    max_bytes: usize,
}

/// The 4 bytes of `s` at `at` as a little-endian number.
#[inline(always)]
fn load_u32(s: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"))
}

impl LineCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        LineCache {
            slots: Vec::new(),
            entries: 0,
            keys: Vec::new(),
            max_entries: max_entries.min(u32::MAX as usize / 2),
            max_bytes: max_bytes.min(u32::MAX as usize - 16),
        }
    }

    /// The value of `key` (hashed to `hash`).
    #[inline(always)]
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = hash as u32;
        let mut i = tag as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.start == 0 {
                return None;
            }
            if slot.tag == tag {
                let at = slot.start as usize;
                let len = load_u32(&self.keys, at) as usize;
                let kept = &self.keys[at + KEY_HEAD..];
                if len == key.len() && same_bytes(&kept[..len], key) {
                    return Some(load_u32(&self.keys, at + 4));
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Remember `key` (hashed to `hash`, not in the cache) as `value`.
    pub fn insert(&mut self, hash: u64, key: &[u8], value: u32) {
        if key.len() + KEY_HEAD + 4 > self.max_bytes {
            return; // never kept (the keys kept stay)
        }
        if self.entries >= self.max_entries
            || self.keys.len() + KEY_HEAD + key.len() > self.max_bytes
        {
            self.slots.clear();
            self.entries = 0;
            self.keys.clear();
        }
        if (self.entries + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        if self.keys.is_empty() {
            self.keys.extend_from_slice(&[0; 4]);
        }
        let start = self.keys.len() as u32;
        self.keys
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.keys.extend_from_slice(&value.to_le_bytes());
        self.keys.extend_from_slice(key);
        self.entries += 1;
        self.place(Slot {
            tag: hash as u32,
            start,
        });
    }

    fn place(&mut self, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = slot.tag as usize & mask;
        while self.slots[i].start != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); size]);
        for slot in old.into_iter().filter(|s| s.start != 0) {
            self.place(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn one_pass_finds_the_line_and_hashes_its_key(
            s in proptest::collection::vec(
                prop_oneof![40 => any::<u8>(), 1 => Just(b'\n')], 0..120),
            from in 0usize..60,
        ) {
            let end = s.iter().position(|&b| b == b'\n').unwrap_or(s.len());
            let from = from.min(end);
            prop_assert_eq!(line_end_and_hash(&s, from), (end, key_hash(&s[from..end])));
        }

        #[test]
        fn words_compare_as_bytes(
            a in proptest::collection::vec(prop_oneof![Just(b'a'), any::<u8>()], 0..70),
            at in any::<usize>(),
            cut in any::<bool>(),
        ) {
            let mut b = a.clone();
            if !b.is_empty() {
                let i = at % b.len();
                if cut { b.truncate(i) } else { b[i] ^= 1 << (at % 8) }
            }
            prop_assert_eq!(same_bytes(&a, &b), a == b);
            prop_assert!(same_bytes(&a, &a.clone()));
        }

        #[test]
        fn the_cache_answers_as_a_map(
            ops in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..20),
                 any::<u32>()), 0..300),
            max in 1usize..40,
        ) {
            let mut cache = LineCache::new(max, 1 << 20);
            let mut map: HashMap<Vec<u8>, u32> = HashMap::new();
            for (key, value) in ops {
                let hash = key_hash(&key);
                let got = cache.get(hash, &key);
                if let Some(v) = got {
                    prop_assert_eq!(map.get(&key), Some(&v));
                } else {
                    prop_assert!(!map.contains_key(&key));
                    if map.len() >= max {
                        map.clear();
                    }
                    cache.insert(hash, &key, value);
                    map.insert(key, value);
                }
            }
        }
    }

    #[test]
    fn a_key_too_long_to_keep_is_not_kept_and_the_rest_stay() {
        let mut cache = LineCache::new(100, 64);
        cache.insert(1, b"short", 1);
        let long = [b'x'; 60];
        cache.insert(2, &long, 2);
        assert_eq!(cache.get(2, &long), None);
        assert_eq!(cache.get(1, b"short"), Some(1));
        // keys of different lengths under one hash are told apart by their kept length
        cache.insert(3, b"ab", 3);
        cache.insert(3, b"abc", 4);
        assert_eq!(
            (cache.get(3, b"ab"), cache.get(3, b"abc")),
            (Some(3), Some(4))
        );
        assert_eq!(cache.get(3, b"a"), None);
    }

    #[test]
    fn text_hash_tells_texts_apart() {
        // every length across the lane and block sizes, one byte changed anywhere
        let base: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut seen = std::collections::HashSet::new();
        for n in 0..base.len() {
            assert!(seen.insert(text_hash(&base[..n])), "length {n}");
        }
        let whole = text_hash(&base);
        for at in 0..base.len() {
            let mut changed = base.clone();
            changed[at] ^= 1;
            assert_ne!(text_hash(&changed), whole, "byte {at}");
        }
    }

    #[test]
    fn words_hash_tells_order_length_and_values_apart() {
        let all = [
            vec![],
            vec![0],
            vec![0, 0],
            vec![1, 2],
            vec![2, 1],
            vec![1, 2, 3, 4, 5],
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(words_hash(a), words_hash(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn colliding_hashes_are_told_apart_by_their_bytes() {
        let mut cache = LineCache::new(100, 1 << 20);
        cache.insert(7, b"first key bytes", 1);
        cache.insert(7, b"second key bytes", 2);
        assert_eq!(cache.get(7, b"first key bytes"), Some(1));
        assert_eq!(cache.get(7, b"second key bytes"), Some(2));
        assert_eq!(cache.get(7, b"third key bytes!"), None);
    }
}
