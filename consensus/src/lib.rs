//! # charter-consensus
//!
//! A cell's BFT engine: Malachite (Tendermint) with Charter's application behind one small
//! boundary. [`engine::CellEngine`] launches the engine for a validator; the [`host::Host`]
//! answers every request the engine makes, through the [`app::Application`] (`CellApp`:
//! building, judging and committing [`block::Block`]s by executing them on the ledger, and
//! keeping them in the [`block_store`]). Every consensus signature passes through the
//! [`guarded_signer::GuardedSigner`], which the engine reaches as its signing provider
//! ([`engine_signer::EngineSigner`]). Federation finality lives in `charter-federation`.
//!
//! Guarantees:
//! - a decided block commits to its post-execution state root, and its commit certificate
//!   ([`certificate`]) makes that root as good as the validators' signatures;
//! - a validator set is a deterministic function of ledger state (passport-id order,
//!   power = bond at the epoch's start); checkpoints commit to its BLS keys and powers
//!   (`charter_federation::checkpoint::CellValidators::hash`);
//! - the guarded signer never signs two different values for one (height, round, step), across
//!   crashes and restarts;
//! - a proposal is judged only when its stream is complete, from the proposer its height and
//!   round select, and buffered streams are bounded ([`proposal_parts`]).

pub mod app;
pub mod block;
pub mod block_store;
pub mod certificate;
pub mod codec;
pub mod context;
pub mod double_votes;
pub mod engine;
pub mod engine_signer;
pub mod faults;
pub mod guarded_signer;
pub mod host;
pub mod inclusion;
pub mod proposal_parts;
pub mod validator_set;

pub use validator_set::{ValidatorSet, ValidatorSetError};
