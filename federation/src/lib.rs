//! # charter-federation
//!
//! Federation finality, apart from any cell's engine: a cell's [`checkpoint::Checkpoint`] of an
//! epoch, the quorum-of-quorums [`checkpoint::CheckpointCertificate`] that makes it final (BLS
//! per the IETF draft, verifiable by any standard library: `docs/checkpoints.md`), the
//! [`collector::Collector`] that gathers signatures into certificates and catches equivocation,
//! [`sets::KnownSets`], every validator set a verifier has learned with its keys validated once,
//! against which certificates are checked, and the [`checkpoint_signer::CheckpointSigner`], the
//! guarded BLS signer of checkpoints.
//!
//! Guarantees:
//! - a certificate verifies only if, for its own cell and `k − 1` cells of its
//!   [`committee::committee`], validators holding more than 2/3 of the power of a set that cell
//!   has held signed it — for its own cell, the set its previous final checkpoint handed over
//!   — whatever order the verifier learned the sets in;
//! - two final certificates for one cell and epoch are proof the cell equivocated, and the
//!   collector quarantines it until a ruling settles every such proof;
//! - the checkpoint signer never signs two different checkpoints for one cell and epoch,
//!   across crashes and restarts.
//!
//! Depends on the ledger alone (no engine, no database), so verifiers and fuzzers build
//! without Malachite or RocksDB.

pub mod checkpoint;
pub mod checkpoint_signer;
pub mod collector;
pub mod committee;
pub mod sets;
