//! # charter-consensus
//!
//! The app side of a cell's BFT engine. Today it holds the validator set the engine runs
//! with — the ledger's epoch set — with its quorum rule, and the guarded signer through which
//! every consensus signature passes; the Malachite integration and checkpoints build on them.
//!
//! Guarantees:
//! - a validator set is a deterministic function of ledger state (passport-id order,
//!   power = bond at the epoch's start), and its hash is what checkpoints commit to;
//! - the guarded signer never signs two different values for one (height, round, step), across
//!   crashes and restarts.

pub mod app;
pub mod block_store;
pub mod certificate;
pub mod checkpoint;
pub mod checkpoint_signer;
pub mod codec;
pub mod context;
pub mod double_votes;
pub mod engine;
pub mod finality;
pub mod host;
pub mod inclusion;
pub mod signer;
pub mod signing;
pub mod validator_set;

pub use validator_set::{ValidatorSet, ValidatorSetError};
