//! The ledger's state tree in the node's database (the `STATE_*` column families of
//! [`crate::columns`]).

use crate::columns::{STATE_KEYS, STATE_META, STATE_NODES, STATE_VALUES};
use crate::{NodeStore, StoreError};
use charter_ledger::storage::{Commit, Storage, StorageError};
use jmt::storage::{Node, NodeKey};
use jmt::{KeyHash, Version};
use rocksdb::{Direction, IteratorMode, WriteBatch};

const LATEST_VERSION: &[u8] = b"latest_version";

/// A state value as written at one version: `None` for a deletion.
type StoredValue = Option<Vec<u8>>;

/// The state tree of a [`NodeStore`]. A block's state changes are written either alone
/// ([`Storage::commit`], for genesis) or with the batch that also stores the block
/// ([`StateStore::write_with`]). Reads of the latest state are answered from the store's cache
/// of newest values where it can (`latest.rs`).
#[derive(Clone)]
pub struct StateStore {
    store: NodeStore,
}

fn storage_error(error: StoreError) -> StorageError {
    match error {
        StoreError::Database(message) => StorageError::Database(message),
        StoreError::Corrupt(message) => StorageError::Corrupt(message),
    }
}

fn database_error(error: rocksdb::Error) -> StorageError {
    StorageError::Database(error.into_string())
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {error}"))
}

fn value_key(key_hash: &KeyHash, version: Version) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(&key_hash.0);
    key[32..].copy_from_slice(&version.to_be_bytes());
    key
}

fn encode<T: borsh::BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("writing to a Vec cannot fail")
}

impl StateStore {
    pub(crate) fn new(store: NodeStore) -> Self {
        Self { store }
    }

    fn column(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StorageError> {
        self.store.column(name).map_err(storage_error)
    }

    /// Writes `batch` with `commit` — one block's state changes — added to it, in one synced
    /// write.
    pub fn write_with(&self, mut batch: WriteBatch, commit: &Commit) -> Result<(), StoreError> {
        self.put_commit(&mut batch, commit)?;
        self.store.write_synced(batch)?;
        let writes = commit
            .node_batch
            .values()
            .iter()
            .map(|((version, key_hash), value)| {
                debug_assert_eq!(*version, commit.version, "a commit writes its own version");
                (key_hash, value)
            });
        self.store.latest.written(commit.version, writes);
        Ok(())
    }

    fn put_commit(&self, batch: &mut WriteBatch, commit: &Commit) -> Result<(), StoreError> {
        let (nodes, values, keys, meta) = (
            self.store.column(STATE_NODES)?,
            self.store.column(STATE_VALUES)?,
            self.store.column(STATE_KEYS)?,
            self.store.column(STATE_META)?,
        );
        for (key, node) in commit.node_batch.nodes() {
            batch.put_cf(nodes, encode(key), encode(node));
        }
        for ((version, key_hash), value) in commit.node_batch.values() {
            batch.put_cf(values, value_key(key_hash, *version), encode(value));
        }
        for (key_hash, key) in &commit.preimages {
            batch.put_cf(keys, key_hash.0, key);
        }
        batch.put_cf(meta, LATEST_VERSION, commit.version.to_be_bytes());
        Ok(())
    }

    /// The newest write of `key_hash` at or below `max_version` in the database: its version
    /// and its value (`None` for a deletion).
    fn newest_write(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Result<Option<(Version, StoredValue)>, StorageError> {
        let seek = value_key(&key_hash, max_version);
        let mut iterator = self.store.db().iterator_cf(
            self.column(STATE_VALUES)?,
            IteratorMode::From(&seek, Direction::Reverse),
        );
        let Some(entry) = iterator.next() else {
            return Ok(None);
        };
        let (key, value) = entry.map_err(database_error)?;
        if key.len() != 40 || key[..32] != key_hash.0 {
            return Ok(None);
        }
        let version = Version::from_be_bytes(key[32..].try_into().expect("8 bytes"));
        let value = borsh::from_slice::<Option<Vec<u8>>>(&value)
            .map_err(|error| corrupt("state value", error))?;
        Ok(Some((version, value)))
    }
}

impl Storage for StateStore {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, StorageError> {
        let db = self.store.db();
        match db
            .get_pinned_cf(self.column(STATE_NODES)?, encode(key))
            .map_err(database_error)?
        {
            None => Ok(None),
            Some(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|error| corrupt("tree node", error)),
        }
    }

    fn value(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.store.latest.get(max_version, &key_hash) {
            return Ok(value);
        }
        let newest = self.newest_write(max_version, key_hash)?;
        let (written_at, value) = newest.map_or((None, None), |(at, value)| (Some(at), value));
        (self.store.latest).read(max_version, key_hash, written_at, &value);
        Ok(value)
    }

    fn latest_version(&self) -> Result<Option<Version>, StorageError> {
        let db = self.store.db();
        match db
            .get_cf(self.column(STATE_META)?, LATEST_VERSION)
            .map_err(database_error)?
        {
            None => Ok(None),
            Some(bytes) => {
                let bytes: [u8; 8] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("latest version", "not 8 bytes"))?;
                Ok(Some(Version::from_be_bytes(bytes)))
            }
        }
    }

    fn state_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        (self.store.db())
            .iterator_cf(self.column(STATE_KEYS)?, IteratorMode::Start)
            .map(|entry| entry.map(|(_, key)| key.to_vec()).map_err(database_error))
            .collect()
    }

    fn commit(&self, commit: Commit) -> Result<(), StorageError> {
        (self.write_with(WriteBatch::default(), &commit)).map_err(storage_error)
    }
}
