use super::{Commit, Storage, StorageError};
use jmt::storage::{Node, NodeKey};
use jmt::{KeyHash, Version};
use rocksdb::{ColumnFamily, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use std::path::Path;

const NODES: &str = "jmt_nodes";
const VALUES: &str = "jmt_values";
const PREIMAGES: &str = "key_preimages";
const META: &str = "meta";
const LATEST_VERSION: &[u8] = b"latest_version";

/// State in a RocksDB database, one column family per concern:
///
/// - `jmt_nodes`: Borsh(NodeKey) → Borsh(Node)
/// - `jmt_values`: key hash (32) ‖ version (8, big-endian) → Borsh(Option<value>), so the
///   value as of any version is one reverse seek away
/// - `key_preimages`: key hash → encoded state key
/// - `meta`: `latest_version` → version (8, big-endian)
///
/// Each block is one write batch, written with fsync.
pub struct RocksStorage {
    db: DB,
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

impl RocksStorage {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        let db = DB::open_cf(&options, path, [NODES, VALUES, PREIMAGES, META])
            .map_err(database_error)?;
        Ok(Self { db })
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, StorageError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StorageError::Corrupt(format!("column family {name} is missing")))
    }
}

impl Storage for RocksStorage {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, StorageError> {
        let key = borsh::to_vec(key).expect("writing to a Vec cannot fail");
        match self
            .db
            .get_pinned_cf(self.cf(NODES)?, key)
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
        let seek = value_key(&key_hash, max_version);
        let mut iterator = self.db.iterator_cf(
            self.cf(VALUES)?,
            IteratorMode::From(&seek, Direction::Reverse),
        );
        match iterator.next() {
            None => Ok(None),
            Some(entry) => {
                let (key, value) = entry.map_err(database_error)?;
                if key.len() != 40 || key[..32] != key_hash.0 {
                    return Ok(None);
                }
                borsh::from_slice::<Option<Vec<u8>>>(&value)
                    .map_err(|error| corrupt("state value", error))
            }
        }
    }

    fn latest_version(&self) -> Result<Option<Version>, StorageError> {
        match self
            .db
            .get_cf(self.cf(META)?, LATEST_VERSION)
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
        self.db
            .iterator_cf(self.cf(PREIMAGES)?, IteratorMode::Start)
            .map(|entry| entry.map(|(_, key)| key.to_vec()).map_err(database_error))
            .collect()
    }

    fn commit(&self, commit: Commit) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        let (nodes, values, preimages, meta) = (
            self.cf(NODES)?,
            self.cf(VALUES)?,
            self.cf(PREIMAGES)?,
            self.cf(META)?,
        );
        for (key, node) in commit.node_batch.nodes() {
            let key = borsh::to_vec(key).expect("writing to a Vec cannot fail");
            batch.put_cf(
                nodes,
                key,
                borsh::to_vec(node).expect("writing to a Vec cannot fail"),
            );
        }
        for ((version, key_hash), value) in commit.node_batch.values() {
            batch.put_cf(
                values,
                value_key(key_hash, *version),
                borsh::to_vec(value).expect("writing to a Vec cannot fail"),
            );
        }
        for (key_hash, key) in &commit.preimages {
            batch.put_cf(preimages, key_hash.0, key);
        }
        batch.put_cf(meta, LATEST_VERSION, commit.version.to_be_bytes());
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch, &options).map_err(database_error)
    }
}
