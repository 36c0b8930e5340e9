//! # charter-node
//!
//! The parts of a Charter node that are libraries with typed errors — today the mempool; the
//! command line (`main.rs` and the command modules beside it) reports errors at the edge.

pub mod mempool;
