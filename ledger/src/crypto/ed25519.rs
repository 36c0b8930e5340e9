//! ed25519 keys and signatures as they appear on the wire and in state.
//!
//! Validity is `verify_strict` (RFC 8032 with canonical encodings and no small-order keys or
//! `R` points). Blocks are checked with ed25519-dalek's batch verification first; its
//! coefficients are derived from the batch itself, so its verdict is the same on every machine,
//! and a failing batch falls back to `verify_strict` one by one to name the culprits.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::Signer;
use std::fmt;

/// A 32-byte compressed Edwards point as sent on the wire. Not necessarily a valid key:
/// [`Ed25519PublicKey::verifying_key`] says whether it is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Ed25519PublicKey(pub [u8; 32]);

/// A 64-byte ed25519 signature (`R || s`). Ordered bytewise, so signatures can key maps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Ed25519Signature(pub [u8; 64]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ed25519Error {
    #[error("public key is not a valid ed25519 point")]
    MalformedKey,
    #[error("public key has small order")]
    WeakKey,
    #[error("signature does not verify")]
    BadSignature,
}

impl Ed25519PublicKey {
    /// Decompresses the key and refuses small-order points, which would let one signature
    /// verify for many messages.
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, Ed25519Error> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .map_err(|_| Ed25519Error::MalformedKey)?;
        if key.is_weak() {
            return Err(Ed25519Error::WeakKey);
        }
        Ok(key)
    }

    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<(), Ed25519Error> {
        let key = self.verifying_key()?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &signature)
            .map_err(|_| Ed25519Error::BadSignature)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Verifies many `(key, message, signature)` triples at once. `Ok` means every one is valid;
/// otherwise the result lists, in order, the verdict for each.
pub fn verify_batch(
    items: &[(Ed25519PublicKey, &[u8], Ed25519Signature)],
) -> Result<(), Vec<Result<(), Ed25519Error>>> {
    let mut keys = Vec::with_capacity(items.len());
    for (key, _, _) in items {
        match key.verifying_key() {
            Ok(key) => keys.push(key),
            Err(_) => return Err(verify_each(items)),
        }
    }
    let messages: Vec<&[u8]> = items.iter().map(|(_, message, _)| *message).collect();
    let signatures: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|(_, _, signature)| ed25519_dalek::Signature::from_bytes(&signature.0))
        .collect();
    match ed25519_dalek::verify_batch(&messages, &signatures, &keys) {
        Ok(()) => Ok(()),
        Err(_) => Err(verify_each(items)),
    }
}

fn verify_each(
    items: &[(Ed25519PublicKey, &[u8], Ed25519Signature)],
) -> Vec<Result<(), Ed25519Error>> {
    items
        .iter()
        .map(|(key, message, signature)| key.verify(message, signature))
        .collect()
}

/// A signing key held by a client, validator or arbiter. Never serialized into state.
#[derive(Clone)]
pub struct Ed25519Keypair(ed25519_dalek::SigningKey);

impl Ed25519Keypair {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    pub fn generate<R: rand_core::CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        Self(ed25519_dalek::SigningKey::generate(rng))
    }

    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        Ed25519Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for Ed25519Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519Keypair({:?})", self.public_key())
    }
}

impl fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519PublicKey({})", &self.to_hex()[..12])
    }
}

impl fmt::Debug for Ed25519Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519Signature({}…)", hex::encode(&self.0[..6]))
    }
}

super::serde_hex!(Ed25519PublicKey, 32);
super::serde_hex!(Ed25519Signature, 64);
