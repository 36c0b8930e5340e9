//! # charter-ledger
//!
//! The deterministic state machine every Charter cell runs: passports, bonds, validators,
//! escrows, the arbiter panel, the treasury and the cell mode, changed only by signed
//! transactions, committed to a Jellyfish Merkle tree so that any value can be proven.
//!
//! Guarantees:
//! - **Determinism.** [`execution::execute_block`] is a pure function of the state it reads and
//!   the block; the state root is the same on every machine and every replay.
//! - **Atomicity.** A transaction applies entirely or not at all; a block's state changes reach
//!   storage in one atomic, synced write.
//! - **Conservation.** Balances, bonds, unbonding stake, escrows and the treasury always add
//!   up to the genesis supply ([`ledger::SupplyAudit`]).
//! - **Typed rejections.** Every rule a transaction can break has a [`TxError`] variant.
//!
//! The crate does no I/O except through [`storage::Storage`].

pub mod commitment;
pub mod controller_keys;
pub mod crypto;
pub mod error;
pub mod evidence;
pub mod execution;
pub mod genesis;
pub mod governance;
pub mod ids;
pub mod ledger;
pub mod state;
pub mod storage;
pub mod transaction;

pub use commitment::{verify_proof, ProofError, StateProof, StateRoot};
pub use error::TxError;
pub use genesis::Genesis;
pub use ids::*;
pub use ledger::{AppliedBlock, Ledger, LedgerError, PreparedBlock, SupplyAudit, VerifiedReveal};
pub use transaction::{Action, SignedTransaction, TransactionBody};
