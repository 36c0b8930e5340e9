//! What the simulation charges for the work of a node, in simulated time. The schedule must
//! follow from the seed alone, so it never uses a measured time; these are this machine's unit
//! costs from `charter-bench --certificates-only`, and the simulation prints the CPU time the
//! sampled nodes really spent beside what the model charged them.

use super::network::{Micros, MILLISECOND};
use charter_node::finality::SIGNATURE_GATHERING;

/// One BLS signature.
pub const SIGN: Micros = 3_700;
/// Checking one cell aggregate: one pairing check.
pub const VERIFY_AGGREGATE: Micros = 2 * MILLISECOND;
/// Checking a batch of validators' signatures: once per batch (the final exponentiation, and a
/// checkpoint's hash and Miller loop), then each signature. One alone costs 2.7 ms, each of 64
/// on one checkpoint 0.64 ms.
pub const SIGNATURE_BATCH: Micros = 2 * MILLISECOND;
pub const SIGNATURE_IN_BATCH: Micros = 700;
/// Checking a batch of certificates of 23 cells: once per batch, then each certificate. One
/// alone costs 3.3 ms, each of 100 in a batch 2.2 ms.
pub const CERTIFICATE_BATCH: Micros = 1_100;
pub const CERTIFICATE_IN_BATCH: Micros = 2_200;
/// Decoding a message and finding it needs nothing more.
pub const MESSAGE: Micros = 20;
/// Signatures a validator gathers in one wait when its cell's 99 others come within about 100
/// ms of each other.
pub const GATHERED: Micros = 20;

/// How long a validator's signature waits for others before it is checked
/// ([`SIGNATURE_GATHERING`]).
pub fn gathering() -> Micros {
    SIGNATURE_GATHERING.as_micros() as Micros
}
