//! # charter-node
//!
//! A Charter validator as a library: [`node::Node`] assembles one from its configuration —
//! storage, [`admission`] and the mempool, the consensus engine, the [`gossip`] mesh, the
//! [`evidence`] reporter, federation [`finality`] and the HTTP [`api`] — and runs it. The
//! `charter` binary (`charter-cli`) parses the command line and calls into this crate.
//! Beside the runtime: the node's [`config`] and [`keys`] files, its [`metrics`], and the store
//! of the federation's final certificates. Nothing here is for development only: dev cells,
//! simulated agents and local networks are `charter-devnet`.

pub mod admission;
pub mod api;
pub mod catch_up;
pub mod config;
pub mod evidence;
pub mod explorer;
pub mod federation_metrics;
pub mod federation_store;
pub mod finality;
pub mod gossip;
pub mod http_errors;
pub mod keys;
pub mod latest_ledger;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod publisher;
pub mod restart;
pub mod stop_signals;
pub mod submission_batch;
pub mod transaction_gossip;
