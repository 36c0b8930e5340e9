//! # charter-node
//!
//! A Charter validator as a library: [`node::Node`] assembles one from its configuration —
//! storage, [`admission`] and the mempool, the consensus engine, the [`gossip`] mesh, the
//! [`evidence`] reporter, federation [`finality`] and the HTTP [`api`] — and runs it. The
//! `charter` binary (`src/bin/charter/`) parses the command line and calls into this crate.
//! Beside the runtime: the node's [`config`] and [`keys`] files, its [`metrics`], the store of
//! the federation's final certificates, the API [`client`], and (until they move to a crate of
//! their own) the layout of a local cell and the simulated agents that drive it.

pub mod admission;
pub mod api;
pub mod client;
pub mod config;
pub mod evidence;
pub mod federation_store;
pub mod finality;
pub mod gossip;
pub mod keys;
pub mod localnet;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod publisher;
pub mod restart;
pub mod stop_signals;
pub mod workload;
