//! Decided blocks with their certificates and their transactions' outcomes, and undecided
//! proposals, in the node's one database (`charter-store`, whose `columns` give the layouts).
//!
//! A decided block is written in one synced batch with the state changes it makes, so after a
//! crash at any instant the database holds both or neither: the ledger and the blocks are
//! always at the same height. Undecided proposals are stored before the engine is told about
//! them, so a restarted proposer re-proposes the same block and a restarted validator still
//! has what it voted for.

use crate::block::{Block, BlockHash, BlockHeight};
use crate::certificate::BlockCertificate;
use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::execution::Receipt;
use charter_ledger::storage::Commit;
use charter_ledger::{PassportId, TxId};
use charter_store::columns::{DECIDED, OUTCOMES, TRANSACTIONS, UNDECIDED};
use charter_store::{NodeStore, StoreError};
use rocksdb::{ColumnFamily, Direction, IteratorMode, WriteBatch};
use std::collections::HashSet;

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

/// What became of one transaction of a decided block: committed, or rejected by the ledger (a
/// block may carry a transaction that fails; it then changes nothing but its sender's fate).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TransactionOutcome {
    pub id: TxId,
    pub rejection: Option<Rejection>,
}

/// The ledger's typed reason, as its stable code and its message.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Rejection {
    pub code: String,
    pub message: String,
}

impl From<&Receipt> for TransactionOutcome {
    fn from(receipt: &Receipt) -> Self {
        Self {
            id: receipt.tx_id,
            rejection: receipt.outcome.as_ref().err().map(|error| Rejection {
                code: error.code().to_string(),
                message: error.to_string(),
            }),
        }
    }
}

/// Where a transaction was included: the first block that carried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TransactionLocation {
    pub height: BlockHeight,
    pub index: u32,
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

impl From<StoreError> for BlockStoreError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(message) => BlockStoreError::Database(message),
            StoreError::Corrupt(message) => BlockStoreError::Corrupt(message),
        }
    }
}

fn decode<T: BorshDeserialize>(bytes: &[u8], what: &str) -> Result<T, BlockStoreError> {
    borsh::from_slice(bytes).map_err(|error| BlockStoreError::Corrupt(format!("{what}: {error}")))
}

fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("writing to a Vec cannot fail")
}

/// height (8, big-endian) ‖ round (4, big-endian) ‖ block hash (32)
/// A database entry as stored: key and value.
type RawEntry = (Box<[u8]>, Box<[u8]>);

fn undecided_key(height: BlockHeight, round: u32, hash: &BlockHash) -> Vec<u8> {
    let mut key = height.0.to_be_bytes().to_vec();
    key.extend_from_slice(&round.to_be_bytes());
    key.extend_from_slice(&hash.0);
    key
}

/// Cheap to clone: clones share one database, so the API can read what consensus writes.
#[derive(Clone)]
pub struct BlockStore {
    store: NodeStore,
}

impl BlockStore {
    pub fn new(store: NodeStore) -> Self {
        Self { store }
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, BlockStoreError> {
        Ok(self.store.column(name)?)
    }

    pub fn store_undecided(
        &self,
        height: BlockHeight,
        undecided: &UndecidedBlock,
    ) -> Result<(), BlockStoreError> {
        let key = undecided_key(height, undecided.round, &undecided.block.hash());
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(UNDECIDED)?, key, encode(undecided));
        Ok(self.store.write_synced(batch)?)
    }

    /// Undecided proposals at `height`, in (round, hash) order.
    pub fn undecided_at(
        &self,
        height: BlockHeight,
    ) -> Result<Vec<UndecidedBlock>, BlockStoreError> {
        (self.undecided_entries(height)?.iter())
            .map(|(_, value)| decode(value, "undecided block"))
            .collect()
    }

    /// The keys and values of the undecided proposals at `height`.
    fn undecided_entries(&self, height: BlockHeight) -> Result<Vec<RawEntry>, BlockStoreError> {
        let prefix = height.0.to_be_bytes();
        let mut found = Vec::new();
        for entry in self.store.db().iterator_cf(
            self.cf(UNDECIDED)?,
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (key, value) = entry.map_err(database_error)?;
            if !key.starts_with(&prefix) {
                break;
            }
            found.push((key, value));
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

    /// Stores a decided block with the outcome of each of its transactions and `state`, the
    /// state changes it makes; indexes the transactions by id; and drops the proposals of its
    /// height: all in one synced write. Proposals are stored for the next height only, so
    /// none of a lower height remain.
    pub fn commit(
        &self,
        decided: &DecidedBlock,
        outcomes: &[TransactionOutcome],
        state: &Commit,
    ) -> Result<(), BlockStoreError> {
        let height = decided.block.header.height;
        debug_assert_eq!(
            state.version, height.0,
            "a block commits the state of its height"
        );
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(DECIDED)?, height.0.to_be_bytes(), encode(decided));
        batch.put_cf(
            self.cf(OUTCOMES)?,
            height.0.to_be_bytes(),
            encode(&outcomes),
        );
        let mut indexed = HashSet::with_capacity(outcomes.len());
        for (index, outcome) in outcomes.iter().enumerate() {
            // A transaction carried again (a replay, which the ledger rejects) keeps the
            // location where it first appeared, in an earlier block or earlier in this one.
            if indexed.insert(outcome.id) && self.location(&outcome.id)?.is_none() {
                let location = TransactionLocation {
                    height,
                    index: index as u32,
                };
                batch.put_cf(self.cf(TRANSACTIONS)?, outcome.id.0, encode(&location));
            }
        }
        // One point delete per proposal: RocksDB 7.8 makes every later read of the column
        // family pay for each range tombstone in its memtable, which would slow each height
        // down by the number of heights before it until a flush.
        for (key, _) in self.undecided_entries(height)? {
            batch.delete_cf(self.cf(UNDECIDED)?, key);
        }
        Ok(self.store.state().write_with(batch, state)?)
    }

    fn read<T: BorshDeserialize>(
        &self,
        family: &str,
        key: &[u8],
        what: &str,
    ) -> Result<Option<T>, BlockStoreError> {
        match (self.store.db())
            .get_pinned_cf(self.cf(family)?, key)
            .map_err(database_error)?
        {
            None => Ok(None),
            Some(bytes) => decode(&bytes, what).map(Some),
        }
    }

    /// Where a transaction was included, if it was.
    pub fn location(&self, id: &TxId) -> Result<Option<TransactionLocation>, BlockStoreError> {
        self.read(TRANSACTIONS, &id.0, "transaction location")
    }

    /// The outcomes of a decided block's transactions, in block order.
    pub fn outcomes(
        &self,
        height: BlockHeight,
    ) -> Result<Option<Vec<TransactionOutcome>>, BlockStoreError> {
        self.read(OUTCOMES, &height.0.to_be_bytes(), "transaction outcomes")
    }

    pub fn decided(&self, height: BlockHeight) -> Result<Option<DecidedBlock>, BlockStoreError> {
        self.read(DECIDED, &height.0.to_be_bytes(), "decided block")
    }

    fn edge_height(&self, mode: IteratorMode<'_>) -> Result<Option<BlockHeight>, BlockStoreError> {
        match self.store.db().iterator_cf(self.cf(DECIDED)?, mode).next() {
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
