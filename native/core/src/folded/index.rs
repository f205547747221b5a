//! The index of a folded reader's stacks by their hash: open addressing with linear probing, one
//! eight-byte slot per entry (the high half of the stack's hash and its entry number + 1; 0 is
//! empty), placed by the low bits of the hash. One slot read finds where a stack is or goes, so
//! a lookup costs one cache miss, and the slots of many lines can be fetched at once
//! ([`Index::first`]) before they are looked up. Kept at most three quarters full.

/// An index of entry numbers by the 64-bit hash of their stacks.
#[derive(Debug, Clone)]
pub struct Index {
    slots: Vec<u64>,
    mask: usize,
    len: usize,
}

impl Default for Index {
    fn default() -> Self {
        Index::with_room(0)
    }
}

/// The slots that hold `entries` entries at most three quarters full.
fn size_for(entries: usize) -> usize {
    (entries.saturating_mul(4) / 3 + 1)
        .next_power_of_two()
        .max(16)
}

impl Index {
    /// An empty index with room for `entries` entries before it grows.
    pub fn with_room(entries: usize) -> Self {
        let size = size_for(entries);
        Index {
            slots: crate::written_zeros(size),
            mask: size - 1,
            len: 0,
        }
    }

    /// An empty index with room for `entries` entries, in `slots`' memory when it holds enough
    /// (memory already written: no page is faulted in again), else in new memory.
    pub fn reusing(entries: usize, slots: Vec<u64>) -> Self {
        let size = size_for(entries);
        Index {
            slots: crate::zeros_in(slots, size),
            mask: size - 1,
            len: 0,
        }
    }

    /// The slots' memory, for [`Index::reusing`].
    pub fn into_slots(self) -> Vec<u64> {
        self.slots
    }

    /// Slots the index has (a power of two).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Entries in the index.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the index holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What a slot keeps of `hash` to tell stacks apart before comparing their bytes.
    #[inline]
    fn tag(hash: u64) -> u64 {
        hash >> 32
    }

    /// The slot where the probe for `hash` starts: read it (for nothing) to fetch it early.
    #[inline]
    pub fn first(&self, hash: u64) -> u64 {
        self.slots[hash as usize & self.mask]
    }

    /// The entry in `slot` (a value [`Index::first`] gave) when its tag is `hash`'s.
    #[inline]
    pub fn candidate(slot: u64, hash: u64) -> Option<u32> {
        (slot != 0 && slot >> 32 == Self::tag(hash)).then(|| (slot as u32).wrapping_sub(1))
    }

    /// The entry hashed `hash` for which `same(entry)`: Ok(entry), or Err(the empty slot where
    /// it goes, for [`Index::put`]).
    #[inline]
    pub fn find(&self, hash: u64, mut same: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        let tag = Self::tag(hash);
        let mut at = hash as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Err(at);
            }
            if slot >> 32 == tag {
                let entry = (slot as u32).wrapping_sub(1);
                if same(entry) {
                    return Ok(entry);
                }
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Put `entry` (hashed `hash`, below `u32::MAX`) in the empty slot `at` that `find` gave;
    /// when that makes the index too full it grows, placing each entry again by
    /// `hash_of(entry)`.
    #[inline]
    pub fn put(&mut self, at: usize, hash: u64, entry: u32, hash_of: impl Fn(u32) -> u64) {
        debug_assert!(entry < u32::MAX && self.slots[at] == 0);
        self.slots[at] = (Self::tag(hash) << 32) | u64::from(entry + 1);
        self.len += 1;
        if self.len * 4 > self.slots.len() * 3 {
            self.resize(self.slots.len() * 2, hash_of);
        }
    }

    /// Make room for `more` entries besides those held (no growth while they come).
    pub fn reserve(&mut self, more: usize, hash_of: impl Fn(u32) -> u64) {
        let size = size_for(self.len.saturating_add(more));
        if size > self.slots.len() {
            self.resize(size, hash_of);
        }
    }

    /// `size` slots (a power of two), every entry placed again by `hash_of(entry)`.
    fn resize(&mut self, size: usize, hash_of: impl Fn(u32) -> u64) {
        let old = std::mem::replace(&mut self.slots, crate::written_zeros(size));
        self.mask = size - 1;
        for slot in old.into_iter().filter(|&s| s != 0) {
            let entry = (slot as u32).wrapping_sub(1);
            let mut at = hash_of(entry) as usize & self.mask;
            while self.slots[at] != 0 {
                at = (at + 1) & self.mask;
            }
            self.slots[at] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_entry_through_growth_and_collisions() {
        // hashes whose low bits collide a lot, and tags that collide too
        let hash = |e: u32| -> u64 { (u64::from(e % 7) << 32) | u64::from(e % 5) };
        let mut index = Index::with_room(0);
        for e in 0..5000u32 {
            match index.find(hash(e), |other| other == e) {
                Ok(_) => panic!("{e} found before it was put"),
                Err(at) => index.put(at, hash(e), e, hash),
            }
        }
        assert_eq!(index.len(), 5000);
        for e in 0..5000u32 {
            assert_eq!(index.find(hash(e), |other| other == e), Ok(e));
        }
        index.reserve(100_000, hash);
        for e in (0..5000u32).rev() {
            assert_eq!(index.find(hash(e), |other| other == e), Ok(e));
        }
        assert!(index.find(hash(9999), |other| other == 9999).is_err());
    }

    #[test]
    fn the_first_slot_names_its_candidate() {
        let mut index = Index::default();
        let h = 0xdead_beef_0000_0003u64;
        let at = index.find(h, |_| false).unwrap_err();
        index.put(at, h, 41, |_| h);
        assert_eq!(Index::candidate(index.first(h), h), Some(41));
        assert_eq!(
            Index::candidate(index.first(h ^ (1 << 40)), h ^ (1 << 40)),
            None
        );
        assert_eq!(Index::candidate(0, 0), None);
    }
}
