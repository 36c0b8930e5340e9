//! What the two engines' no-op runs share: the block they order and how a run is reported.

use charter_consensus::context::CellContext;
use charter_ledger::crypto::ed25519::{Ed25519PublicKey, Ed25519Signature};
use charter_ledger::{Action, PassportId, SignedTransaction, TransactionBody};
use std::time::Duration;

/// `count` transfers shaped like real ones (same encoded size), never executed.
pub fn dummy_transactions(context: &CellContext, count: usize) -> Vec<SignedTransaction> {
    (0..count as u64)
        .map(|nonce| SignedTransaction {
            body: TransactionBody {
                federation: context.federation,
                cell: context.cell,
                sender: PassportId([7; 32]),
                nonce,
                fee: 0,
                action: Action::Transfer {
                    to: PassportId([8; 32]),
                    amount: 1,
                },
            },
            signer: Ed25519PublicKey([1; 32]),
            signature: Ed25519Signature([2; 64]),
        })
        .collect()
}

/// Blocks one engine committed in a timed window.
pub struct EngineRun {
    pub blocks: u64,
    pub elapsed: Duration,
    pub block_size: usize,
}

impl EngineRun {
    pub fn blocks_per_second(&self) -> f64 {
        self.blocks as f64 / self.elapsed.as_secs_f64()
    }

    pub fn transactions_per_second(&self) -> f64 {
        self.blocks_per_second() * self.block_size as f64
    }
}
