//! # charter-node
//!
//! The parts of a Charter node that are libraries with typed errors — the mempool, the layout
//! of a local cell, the API client and the simulated agents that drive it; the command line (`main.rs` and the command modules beside it) reports errors at the edge.

pub mod client;
pub mod localnet;
pub mod mempool;
pub mod stop_signals;
pub mod workload;
