//! # charter-node
//!
//! The parts of a Charter node that are libraries with typed errors — the mempool, the HTTP
//! API and its metrics, the queue out to the gossip mesh, the store of the federation's final
//! certificates, the layout of a local cell, the API
//! client and the simulated agents that drive it; the command line (`main.rs` and the command
//! modules beside it) reports errors at the edge.

pub mod api;
pub mod client;
pub mod federation_store;
pub mod localnet;
pub mod mempool;
pub mod metrics;
pub mod publisher;
pub mod stop_signals;
pub mod workload;
