//! Splitting one job across machines: `--shard K/N` keeps the domains whose
//! FNV-1a hash modulo N is K.

/// One part of a job split across machines: shard `index` of `count`
/// (`--shard K/N`, 0 ≤ K < N). A domain belongs to shard
/// `fnv1a64(name) % N`, where `name` is its canonical form (lower-case
/// ASCII, no trailing dot) and FNV-1a is the standard 64-bit variant, so any
/// tool can reproduce the split. An invalid line is placed by its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// K: which shard, from 0.
    pub index: u64,
    /// N: how many shards.
    pub count: u64,
}

impl Shard {
    /// Whether the name (canonical form) or invalid line `key` falls in this shard.
    pub fn contains(&self, key: &str) -> bool {
        fnv1a64(key.as_bytes()) % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not K/N with 0 <= K < N (for example 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// 64-bit FNV-1a: stable across versions and platforms, unlike std's hashers.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_syntax_and_hash() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(
            "1/4".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 4 }
        );
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
