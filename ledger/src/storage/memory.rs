use super::{Commit, Storage, StorageError};
use jmt::storage::{Node, NodeKey};
use jmt::{KeyHash, Version};
use std::collections::BTreeMap;
use std::sync::RwLock;

/// State in process memory: gone when the process ends.
#[derive(Default)]
pub struct MemoryStorage {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    nodes: BTreeMap<NodeKey, Node>,
    values: BTreeMap<(KeyHash, Version), Option<Vec<u8>>>,
    preimages: BTreeMap<KeyHash, Vec<u8>>,
    latest: Option<Version>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // A poisoned lock means a writer panicked mid-commit; the map is still consistent
        // because commit builds nothing partially visible before inserting.
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Storage for MemoryStorage {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, StorageError> {
        Ok(self.read().nodes.get(key).cloned())
    }

    fn value(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let inner = self.read();
        Ok(inner
            .values
            .range((key_hash, 0)..=(key_hash, max_version))
            .next_back()
            .and_then(|(_, value)| value.clone()))
    }

    fn latest_version(&self) -> Result<Option<Version>, StorageError> {
        Ok(self.read().latest)
    }

    fn state_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        Ok(self.read().preimages.values().cloned().collect())
    }

    fn commit(&self, commit: Commit) -> Result<(), StorageError> {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key, node) in commit.node_batch.nodes() {
            inner.nodes.insert(key.clone(), node.clone());
        }
        for ((version, key_hash), value) in commit.node_batch.values() {
            inner.values.insert((*key_hash, *version), value.clone());
        }
        inner.preimages.extend(commit.preimages);
        inner.latest = Some(commit.version);
        Ok(())
    }
}
