//! Where the state tree lives. The ledger reaches storage only through [`Storage`]; the
//! `charter-store` crate implements it durably on RocksDB (beside the node's blocks, in one
//! database), and [`MemoryStorage`] serves tests, simulations and benchmarks.
//!
//! A [`Commit`] holds everything one block changes — tree nodes, versioned values and key
//! preimages — and an implementation must apply it atomically and durably: after a crash,
//! either all of a block is there or none of it.

mod memory;

pub use memory::MemoryStorage;

use jmt::storage::{Node, NodeBatch, NodeKey};
use jmt::{KeyHash, Version};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// One block's writes, applied all at once.
pub struct Commit {
    pub version: Version,
    pub node_batch: NodeBatch,
    /// The encoded state key behind each key hash written, so state can be listed and audited.
    pub preimages: Vec<(KeyHash, Vec<u8>)>,
}

impl Commit {
    /// A version that changes no state: what a block of an application without state (the
    /// no-op one benchmarks measure the engine with) writes beside itself.
    pub fn unchanged(version: Version) -> Self {
        Self {
            version,
            node_batch: NodeBatch::default(),
            preimages: Vec::new(),
        }
    }
}

pub trait Storage: Send + Sync {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, StorageError>;
    /// The value of `key_hash` as of `max_version`: the latest write at or below it.
    fn value(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Result<Option<Vec<u8>>, StorageError>;
    /// The highest committed version, or `None` before genesis.
    fn latest_version(&self) -> Result<Option<Version>, StorageError>;
    /// Every state key ever written, encoded, in key-hash order.
    fn state_keys(&self) -> Result<Vec<Vec<u8>>, StorageError>;
    fn commit(&self, commit: Commit) -> Result<(), StorageError>;
}

impl<S: Storage + ?Sized> Storage for std::sync::Arc<S> {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, StorageError> {
        (**self).node(key)
    }
    fn value(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).value(max_version, key_hash)
    }
    fn latest_version(&self) -> Result<Option<Version>, StorageError> {
        (**self).latest_version()
    }
    fn state_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        (**self).state_keys()
    }
    fn commit(&self, commit: Commit) -> Result<(), StorageError> {
        (**self).commit(commit)
    }
}
