//! # charter-store
//!
//! A node keeps everything consensus decides in **one** RocksDB database, one column family
//! per concern: the ledger's state tree ([`StateStore`], the durable [`Storage`] of
//! `charter-ledger`) and, beside it, the blocks, their transactions' outcomes and the index of
//! transactions by id (written by `charter-consensus`'s block store through [`NodeStore`]).
//! A decided block and the state changes it makes go into one write batch, written with fsync,
//! so after a crash at any instant the database holds both or neither.
//!
//! Stable: the column families and their key layouts are listed in [`columns`]; changing one
//! is a change of the on-disk format.
//!
//! [`Storage`]: charter_ledger::storage::Storage

pub mod columns;
mod latest;
mod state;

pub use state::StateStore;

use latest::LatestValues;
use rocksdb::{BlockBasedOptions, ColumnFamily, Options, WriteBatch, WriteOptions, DB};
use std::path::Path;
use std::sync::Arc;

/// All column families' memtables together flush beyond this. A node at its highest load
/// fills this within seconds, and what it holds counts fully in the node's memory.
const MEMTABLE_BUDGET: usize = 32 * 1024 * 1024;
/// One column family's memtable flushes beyond this, so that no one of them holds the whole
/// budget before it flushes (RocksDB's default is 64 MiB each).
const MEMTABLE_BYTES: usize = 16 * 1024 * 1024;
/// The share of a memtable's size given to its bloom filter, in the column families read by
/// whole key (a filter of about 0.3 MiB per 16 MiB memtable).
const MEMTABLE_BLOOM_RATIO: f64 = 0.02;
/// Bloom filter bits per key in those column families' table files: about 1% false positives.
const TABLE_BLOOM_BITS_PER_KEY: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<rocksdb::Error> for StoreError {
    fn from(error: rocksdb::Error) -> Self {
        StoreError::Database(error.into_string())
    }
}

/// The node's database. Cheap to clone: clones share one open database (and the cache of the
/// latest state values), so the API and the evidence reporter read what consensus writes.
#[derive(Clone)]
pub struct NodeStore {
    db: Arc<DB>,
    latest: Arc<LatestValues>,
}

/// Every column family's memtable is bounded by [`MEMTABLE_BYTES`]. Every commit also looks up
/// each of its transactions' ids in [`columns::TRANSACTIONS`], almost always for an id that is
/// not there: without filters each such miss searches the whole memtable and every table file;
/// with them it is answered by a filter almost every time.
fn column_options(name: &str) -> Options {
    let mut options = Options::default();
    options.set_write_buffer_size(MEMTABLE_BYTES);
    if name == columns::TRANSACTIONS {
        options.set_memtable_prefix_bloom_ratio(MEMTABLE_BLOOM_RATIO);
        options.set_memtable_whole_key_filtering(true);
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(TABLE_BLOOM_BITS_PER_KEY, false);
        table.set_whole_key_filtering(true);
        options.set_block_based_table_factory(&table);
    }
    options
}

impl NodeStore {
    /// Opens (or creates) the database at `path` with every column family.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_db_write_buffer_size(MEMTABLE_BUDGET);
        let families = columns::ALL.map(|name| (name, column_options(name)));
        let db = DB::open_cf_with_opts(&options, path, families)?;
        Ok(Self {
            db: Arc::new(db),
            latest: Arc::default(),
        })
    }

    pub fn db(&self) -> &DB {
        &self.db
    }

    /// The handle of column family `name` (one of [`columns::ALL`]).
    pub fn column(&self, name: &str) -> Result<&ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::Corrupt(format!("column family {name} is missing")))
    }

    /// The ledger's view of this database.
    pub fn state(&self) -> StateStore {
        StateStore::new(self.clone())
    }

    /// Writes `batch` atomically and durably (fsync before returning).
    pub fn write_synced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        Ok(self.db.write_opt(batch, &options)?)
    }
}
