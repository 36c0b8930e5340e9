//! # charter-devnet
//!
//! Everything that exists to exercise Charter rather than to run it, in one place:
//!
//! - [`fixtures`]: dev cells whose every key derives from a seed ([`fixtures::DevCell`]), so a
//!   failing run replays exactly from the seed it prints;
//! - [`agents`]: the simulated agents — one name for simulated load — that issue passports,
//!   bond, pay through escrow, dispute, slash and govern; against a ledger in process
//!   (`charter simulate`) or against live nodes' APIs ([`agents::live`], what `charter localnet`
//!   and the fault harness run);
//! - [`localnet`]: the layout of a local network of `charter run` processes (ports, configs,
//!   peer ids).
//!
//! Nothing in a validator's runtime depends on this crate. Unstable: it changes with the tests.

pub mod agents;
pub mod fixtures;
pub mod localnet;
