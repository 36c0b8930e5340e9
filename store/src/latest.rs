//! The newest value of each state key read or written lately, so that reading the latest state
//! (what admission, block execution and the API do all the time) does not seek through
//! RocksDB's versions. Shared by every handle on one database.
//!
//! The cache is complete up to a version `L`: every write at or below `L` to a key it holds is
//! reflected there. It answers a read as of version `M` only when `M ≤ L` and the key's newest
//! write is at or below `M`; anything else goes to the database. A block's writes are applied
//! once they are durable, in version order; a version out of order empties it.

use jmt::{KeyHash, Version};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Keys held before the cache is emptied and starts again.
const MAX_KEYS: usize = 200_000;

/// A key's newest value up to the cache's version.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Newest {
    /// `None`: never written up to the cache's version.
    written_at: Option<Version>,
    value: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Cache {
    complete_to: Option<Version>,
    keys: HashMap<KeyHash, Newest>,
}

#[derive(Debug, Default)]
pub(crate) struct LatestValues(Mutex<Cache>);

impl LatestValues {
    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value of `key_hash` as of `version`, when the cache knows it.
    pub(crate) fn get(&self, version: Version, key_hash: &KeyHash) -> Option<Option<Vec<u8>>> {
        let cache = self.lock();
        if cache.complete_to.is_none_or(|complete| version > complete) {
            return None;
        }
        let newest = cache.keys.get(key_hash)?;
        let known = newest.written_at.is_none_or(|written| written <= version);
        known.then(|| newest.value.clone())
    }

    /// Remembers what the database answered for `key_hash` as of `version` (its newest write
    /// at or below it, `written_at`), if that is also its newest write up to the cache's version.
    pub(crate) fn read(
        &self,
        version: Version,
        key_hash: KeyHash,
        written_at: Option<Version>,
        value: &Option<Vec<u8>>,
    ) {
        let mut cache = self.lock();
        if cache.complete_to != Some(version) || cache.keys.contains_key(&key_hash) {
            return;
        }
        if cache.keys.len() >= MAX_KEYS {
            cache.keys.clear();
        }
        let value = value.clone();
        cache.keys.insert(key_hash, Newest { written_at, value });
    }

    /// Applies the writes of `version`, now durable.
    pub(crate) fn written<'a>(
        &self,
        version: Version,
        writes: impl IntoIterator<Item = (&'a KeyHash, &'a Option<Vec<u8>>)>,
    ) {
        let mut cache = self.lock();
        let next = cache.complete_to.map_or(0, |complete| complete + 1);
        if version != next {
            cache.keys.clear();
        }
        for (key_hash, value) in writes {
            let newest = Newest {
                written_at: Some(version),
                value: value.clone(),
            };
            cache.keys.insert(*key_hash, newest);
        }
        cache.complete_to = Some(version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: KeyHash = KeyHash([1; 32]);

    fn value(byte: u8) -> Option<Vec<u8>> {
        Some(vec![byte])
    }

    #[test]
    fn answers_only_reads_its_writes_cover() {
        let latest = LatestValues::default();
        assert_eq!(latest.get(0, &KEY), None, "knows nothing before a write");
        latest.written(0, [(&KEY, &value(1))]);
        latest.written(1, []);
        latest.written(2, [(&KEY, &value(2))]);
        assert_eq!(latest.get(2, &KEY), Some(value(2)));
        assert_eq!(
            latest.get(1, &KEY),
            None,
            "an older version is the database's"
        );
        assert_eq!(
            latest.get(3, &KEY),
            None,
            "a version it has not seen written"
        );
        latest.written(3, [(&KEY, &None)]);
        assert_eq!(latest.get(3, &KEY), Some(None), "deleted");
    }

    #[test]
    fn remembers_a_read_only_at_its_newest_version_and_never_over_a_write() {
        let latest = LatestValues::default();
        latest.written(0, []);
        latest.written(1, []);
        latest.read(0, KEY, None, &None);
        assert_eq!(latest.get(1, &KEY), None, "read below the newest version");
        latest.read(1, KEY, Some(0), &value(5));
        assert_eq!(latest.get(1, &KEY), Some(value(5)));
        assert_eq!(latest.get(0, &KEY), Some(value(5)));
        latest.written(2, [(&KEY, &value(6))]);
        latest.read(2, KEY, Some(0), &value(5));
        assert_eq!(
            latest.get(2, &KEY),
            Some(value(6)),
            "a write is never overwritten"
        );
        let other = KeyHash([2; 32]);
        latest.read(2, other, None, &None);
        assert_eq!(latest.get(2, &other), Some(None), "never written");
    }

    #[test]
    fn a_version_out_of_order_empties_it() {
        let latest = LatestValues::default();
        latest.written(0, [(&KEY, &value(1))]);
        latest.written(5, []);
        assert_eq!(latest.get(5, &KEY), None);
    }
}
