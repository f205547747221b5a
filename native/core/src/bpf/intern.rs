//! Sequences (byte strings, id lists) stored once each in one arena, numbered in order of first
//! appearance.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Distinct sequences of `T`, each stored once, by number.
#[derive(Debug)]
pub struct Interner<T> {
    items: Vec<T>,
    /// sequence k is `items[ends[k - 1]..ends[k]]`
    ends: Vec<usize>,
    hashes: Vec<u64>,
    index: HashTable<u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            items: Vec::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            index: HashTable::new(),
        }
    }
}

impl<T: Copy + Eq + Hash> Interner<T> {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct sequences.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Sequence `id`.
    pub fn get(&self, id: u32) -> &[T] {
        let k = id as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.items[start..self.ends[k]]
    }

    /// The number of `seq`, stored when new.
    pub fn intern(&mut self, seq: &[T]) -> u32 {
        let hash = FxBuildHasher.hash_one(seq);
        let (items, ends) = (&self.items, &self.ends);
        let found = self.index.find(hash, |&id| {
            let k = id as usize;
            let start = if k == 0 { 0 } else { ends[k - 1] };
            &items[start..ends[k]] == seq
        });
        if let Some(&id) = found {
            return id;
        }
        let id = u32::try_from(self.ends.len()).expect("more than 2^32 distinct sequences");
        self.items.extend_from_slice(seq);
        self.ends.push(self.items.len());
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.index.insert_unique(hash, id, |&k| hashes[k as usize]);
        id
    }

    /// Change every item with `f` (after `freeze`: the sequences are not found by value any more).
    pub fn map_items(&mut self, f: impl Fn(T) -> T) {
        for item in &mut self.items {
            *item = f(*item);
        }
    }

    /// Let go of the index (no more interning).
    pub fn freeze(&mut self) {
        self.index = HashTable::new();
        self.hashes = Vec::new();
        self.items.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::Interner;

    #[test]
    fn numbers_in_first_seen_order() {
        let mut t: Interner<u8> = Interner::new();
        assert_eq!(t.intern(b"ab"), 0);
        assert_eq!(t.intern(b""), 1);
        assert_eq!(t.intern(b"ab"), 0);
        assert_eq!(t.intern(b"c"), 2);
        assert_eq!(t.get(0), b"ab");
        assert_eq!(t.get(1), b"");
        assert_eq!(t.len(), 3);
    }
}
