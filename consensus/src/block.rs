//! What a cell decides: a [`Block`] of transactions and a header that commits to its parent,
//! its transactions, its proposer's beacon reveal and the **post-execution state root**. Its id is the header's hash, so the
//! precommits that decide a block certify its state root, and every state proof ties to a
//! root validators signed. The bytes hashed are documented in `docs/proofs.md`.

use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::crypto::bls::BlsSignature;
use charter_ledger::ids::{CellId, FederationId, PassportId};
pub use charter_ledger::BlockHash;
use charter_ledger::{SignedTransaction, StateRoot, TxId};
use std::fmt;

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct BlockHeight(pub u64);

impl fmt::Display for BlockHeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

const BLOCK_DOMAIN: &[u8] = b"charter/block/v1";
const TRANSACTIONS_DOMAIN: &[u8] = b"charter/block-transactions/v1";

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockHeader {
    pub federation: FederationId,
    pub cell: CellId,
    pub height: BlockHeight,
    /// The previous block's hash; all zeros for the first block.
    pub parent: BlockHash,
    pub proposer: PassportId,
    /// The proposer's share of the cell's beacon: its BLS signature over the height
    /// (`charter_ledger::governance::reveal_message`), which the ledger checks and mixes in.
    pub reveal: BlsSignature,
    /// blake3 over the ids of the block's transactions, in order.
    pub transactions_root: [u8; 32],
    /// The state root after executing this block's transactions.
    pub state_root: StateRoot,
}

impl BlockHeader {
    pub fn hash(&self) -> BlockHash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(BLOCK_DOMAIN);
        hasher.update(&borsh::to_vec(self).expect("writing to a Vec cannot fail"));
        BlockHash(*hasher.finalize().as_bytes())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub transactions: Vec<SignedTransaction>,
}

impl Block {
    pub fn transactions_root(transactions: &[SignedTransaction]) -> [u8; 32] {
        let ids: Vec<TxId> = transactions.iter().map(SignedTransaction::id).collect();
        Self::transactions_root_of_ids(&ids)
    }

    /// The transactions root from the transactions' ids alone (what a light client has).
    pub fn transactions_root_of_ids(ids: &[TxId]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(TRANSACTIONS_DOMAIN);
        for id in ids {
            hasher.update(&id.0);
        }
        *hasher.finalize().as_bytes()
    }

    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// Whether the header commits to exactly these transactions.
    pub fn is_consistent(&self) -> bool {
        self.header.transactions_root == Self::transactions_root(&self.transactions)
    }
}

/// Blocks are ordered by hash: the engine needs an order, and the hash names the content.
impl Ord for Block {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.hash().cmp(&other.hash())
    }
}

impl PartialOrd for Block {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
