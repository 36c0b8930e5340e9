//! This machine's ed25519 verification rate for transaction signatures, one at a time and in
//! batches, measured on the ledger's own verification functions. Every signature has its own
//! key, so a batch gains nothing from keys it sees twice.

use charter_ledger::crypto::ed25519::{
    verify_transactions, Ed25519Keypair, Ed25519PublicKey, Ed25519Signature,
};
use std::time::{Duration, Instant};

pub struct SignatureRates {
    pub single_per_second: f64,
    /// In batches of `count`, the rate the bound is computed from.
    pub batched_per_second: f64,
    /// In smaller batches: (batch size, verifications per second). A node verifies what
    /// arrives in one batch, so these are the rates a lightly loaded node sees.
    pub by_batch_size: Vec<(usize, f64)>,
}

/// Batch sizes measured besides the full batch.
const SMALLER_BATCHES: [usize; 3] = [16, 64, 256];

/// Verifies the same `count` signed 150-byte messages one by one and in one batch, and in
/// batches of each of [`SMALLER_BATCHES`], repeating for at least `duration` each.
pub fn measure(count: usize, duration: Duration) -> SignatureRates {
    let signed: Vec<(Ed25519PublicKey, Vec<u8>, Ed25519Signature)> = (0..count)
        .map(|index| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&(index as u64).to_le_bytes());
            let key = Ed25519Keypair::from_seed(seed);
            let message = vec![index as u8; 150];
            let signature = key.sign(&message);
            (key.public_key(), message, signature)
        })
        .collect();
    let single = rate(duration, count, || {
        for (key, message, signature) in &signed {
            (key.verify_transaction(message, signature)).expect("a valid signature");
        }
    });
    let items: Vec<(Ed25519PublicKey, &[u8], Ed25519Signature)> = signed
        .iter()
        .map(|(key, message, signature)| (*key, message.as_slice(), *signature))
        .collect();
    let batched_rate = |size: usize| {
        rate(duration, count, || {
            for batch in items.chunks(size) {
                verify_transactions(batch).expect("valid signatures");
            }
        })
    };
    SignatureRates {
        single_per_second: single,
        batched_per_second: batched_rate(count),
        by_batch_size: (SMALLER_BATCHES.iter())
            .filter(|size| **size < count)
            .map(|size| (*size, batched_rate(*size)))
            .collect(),
    }
}

/// Runs `round` (which verifies `per_round` signatures) until `duration` has passed.
fn rate(duration: Duration, per_round: usize, mut round: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < duration {
        round();
        rounds += 1;
    }
    (rounds * per_round as u64) as f64 / started.elapsed().as_secs_f64()
}
