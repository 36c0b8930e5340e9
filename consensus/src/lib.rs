//! # charter-consensus
//!
//! The app side of a cell's BFT engine. Today it holds the validator set the engine runs
//! with — derived from bonds in the ledger — and its quorum rule; the Malachite integration,
//! the guarded signer and checkpoints build on it.
//!
//! Guarantees: a validator set is a deterministic function of ledger state (passport-id
//! order, power = bond), and its hash is what checkpoints commit to.

pub mod validator_set;

pub use validator_set::{ValidatorSet, ValidatorSetError};
