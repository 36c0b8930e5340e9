//! # charter-node
//!
//! The parts of a Charter node that are libraries with typed errors — the mempool and the
//! layout of a local cell; the
//! command line (`main.rs` and the command modules beside it) reports errors at the edge.

pub mod localnet;
pub mod mempool;
