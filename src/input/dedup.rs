//! The names seen so far in a run, so that each domain is looked up once.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

/// Keyed 64-bit hashes of the names seen so far: about 10 bytes a domain
/// instead of the name itself. Two distinct names share a hash with
/// probability about n²/2⁶⁵ in a run of n names (3·10⁻⁸ for a million),
/// and the key is new every run. Split by the hash's top byte into 256
/// sets, so that growing one set never needs the old and new copy of the
/// whole table at once.
pub struct Seen {
    sets: Vec<HashSet<u64, Unhashed>>,
    keyed: RandomState,
}

impl Seen {
    /// An empty set, with a hash key of its own.
    pub fn new() -> Seen {
        Seen {
            sets: (0..256).map(|_| HashSet::default()).collect(),
            keyed: RandomState::new(),
        }
    }

    /// Remember `name`; false if it was seen before.
    pub fn first_sight(&mut self, name: &str) -> bool {
        let h = self.keyed.hash_one(name);
        self.sets[(h >> 56) as usize].insert(h)
    }
}

impl Default for Seen {
    fn default() -> Self {
        Seen::new()
    }
}

/// The set's values are already hashes; hashing them again is waste.
#[derive(Clone, Copy, Default)]
pub(super) struct Unhashed;

impl BuildHasher for Unhashed {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

pub(super) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_names() {
        let mut seen = Seen::new();
        assert!(seen.first_sight("a.example"));
        assert!(!seen.first_sight("a.example"));
        assert!(seen.first_sight("b.example"));
    }
}
