//! Decided blocks with their certificates, and undecided proposals, in RocksDB.
//!
//! A decided block is stored (synced) before the ledger applies it, so after a crash the
//! store may be one block ahead of the ledger, never behind: start-up replays the difference.
//! Undecided proposals are stored before the engine is told about them, so a restarted proposer
//! re-proposes the same block and a restarted validator still has what it voted for.

use crate::certificate::BlockCertificate;
use crate::context::{Block, BlockHash, BlockHeight};
use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::PassportId;
use rocksdb::{ColumnFamily, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use std::path::Path;

const DECIDED: &str = "decided";
const UNDECIDED: &str = "undecided";

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DecidedBlock {
    pub block: Block,
    pub certificate: BlockCertificate,
}

/// A proposal seen (or made) at some round, kept until its height is decided.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct UndecidedBlock {
    pub round: u32,
    pub pol_round: Option<u32>,
    pub proposer: PassportId,
    pub block: Block,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockStoreError {
    #[error("block store database error: {0}")]
    Database(String),
    #[error("block store data is corrupt: {0}")]
    Corrupt(String),
}

fn database_error(error: rocksdb::Error) -> BlockStoreError {
    BlockStoreError::Database(error.into_string())
}

fn decode<T: BorshDeserialize>(bytes: &[u8], what: &str) -> Result<T, BlockStoreError> {
    borsh::from_slice(bytes).map_err(|error| BlockStoreError::Corrupt(format!("{what}: {error}")))
}

fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("writing to a Vec cannot fail")
}

/// height (8, big-endian) ‖ round (4, big-endian) ‖ block hash (32)
fn undecided_key(height: BlockHeight, round: u32, hash: &BlockHash) -> Vec<u8> {
    let mut key = height.0.to_be_bytes().to_vec();
    key.extend_from_slice(&round.to_be_bytes());
    key.extend_from_slice(&hash.0);
    key
}

pub struct BlockStore {
    db: DB,
}

impl BlockStore {
    pub fn open(path: &Path) -> Result<Self, BlockStoreError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        let db = DB::open_cf(&options, path, [DECIDED, UNDECIDED]).map_err(database_error)?;
        Ok(Self { db })
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, BlockStoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| BlockStoreError::Corrupt(format!("column family {name} is missing")))
    }

    fn synced() -> WriteOptions {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        options
    }

    pub fn store_undecided(
        &self,
        height: BlockHeight,
        undecided: &UndecidedBlock,
    ) -> Result<(), BlockStoreError> {
        let key = undecided_key(height, undecided.round, &undecided.block.hash());
        self.db
            .put_cf_opt(self.cf(UNDECIDED)?, key, encode(undecided), &Self::synced())
            .map_err(database_error)
    }

    /// Undecided proposals at `height`, in (round, hash) order.
    pub fn undecided_at(
        &self,
        height: BlockHeight,
    ) -> Result<Vec<UndecidedBlock>, BlockStoreError> {
        let prefix = height.0.to_be_bytes();
        let mut found = Vec::new();
        for entry in self.db.iterator_cf(
            self.cf(UNDECIDED)?,
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (key, value) = entry.map_err(database_error)?;
            if !key.starts_with(&prefix) {
                break;
            }
            found.push(decode(&value, "undecided block")?);
        }
        Ok(found)
    }

    pub fn undecided(
        &self,
        height: BlockHeight,
        hash: &BlockHash,
    ) -> Result<Option<UndecidedBlock>, BlockStoreError> {
        Ok(self
            .undecided_at(height)?
            .into_iter()
            .find(|undecided| undecided.block.hash() == *hash))
    }

    /// Stores a decided block and drops the proposals of its height and below, in one synced
    /// write.
    pub fn commit(&self, decided: &DecidedBlock) -> Result<(), BlockStoreError> {
        let height = decided.block.header.height;
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(DECIDED)?, height.0.to_be_bytes(), encode(decided));
        let end = (height.0 + 1).to_be_bytes();
        batch.delete_range_cf(self.cf(UNDECIDED)?, [0u8; 8], end);
        self.db
            .write_opt(batch, &Self::synced())
            .map_err(database_error)
    }

    pub fn decided(&self, height: BlockHeight) -> Result<Option<DecidedBlock>, BlockStoreError> {
        match self
            .db
            .get_pinned_cf(self.cf(DECIDED)?, height.0.to_be_bytes())
            .map_err(database_error)?
        {
            None => Ok(None),
            Some(bytes) => decode(&bytes, "decided block").map(Some),
        }
    }

    fn edge_height(&self, mode: IteratorMode<'_>) -> Result<Option<BlockHeight>, BlockStoreError> {
        match self.db.iterator_cf(self.cf(DECIDED)?, mode).next() {
            None => Ok(None),
            Some(entry) => {
                let (key, _) = entry.map_err(database_error)?;
                let bytes: [u8; 8] = key
                    .as_ref()
                    .try_into()
                    .map_err(|_| BlockStoreError::Corrupt("decided key is not a height".into()))?;
                Ok(Some(BlockHeight(u64::from_be_bytes(bytes))))
            }
        }
    }

    pub fn latest_height(&self) -> Result<Option<BlockHeight>, BlockStoreError> {
        self.edge_height(IteratorMode::End)
    }

    pub fn earliest_height(&self) -> Result<Option<BlockHeight>, BlockStoreError> {
        self.edge_height(IteratorMode::Start)
    }
}
