//! Signature schemes the ledger checks for itself: ed25519 for transactions, votes and rulings,
//! and BLS (IETF draft, G1 public keys, G2 signatures) for checkpoint keys.

pub mod bls;
pub mod ed25519;
