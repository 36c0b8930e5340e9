//! # charter-p2p
//!
//! The cell and federation mesh on libp2p: TCP/QUIC with Noise and Yamux, gossipsub for
//! transactions and checkpoint signatures, request-response for direct messages, identify,
//! bootstrap peers from configuration, reconnection with backoff, a size limit on every message
//! and peers authenticated by key.
//!
//! Status: not yet built. The ledger issue ships the state machine only; this crate is filled
//! in by the live-cell issue, and `consensus` will reach it only through a channel boundary.
