//! ed25519 keys and signatures as they appear on the wire and in state.
//!
//! Two validity rules, each a pure function of the bytes:
//!
//! - **Transactions** follow ZIP-215 ([`Ed25519PublicKey::verify_transaction`]): canonical `s`,
//!   `A` and `R` any encodings of curve points, and the cofactored equation
//!   `[8][s]B = [8]R + [8][k]A`. Its batch verification ([`verify_transactions`]) accepts a batch
//!   exactly when each signature in it would verify alone (but for a 2^-128 chance), so a
//!   node may verify transactions in whatever batches it meets them in, and remember the
//!   verdict, and every node still reaches the same verdict on every transaction. The
//!   cofactorless rule cannot promise that: a signer who puts a small-order component in its own
//!   `R` makes a signature that a cofactorless batch accepts or refuses depending on its other
//!   members. The batch equation is ed25519-zebra's, written here over `curve25519-dalek` so
//!   that signers' keys can stay decompressed between batches ([`KeyPoints`]): decompressing a
//!   point costs about as much as a signature's share of a batch.
//! - **Every other signed statement** (votes, approvals, proofs of key ownership) follows
//!   `verify_strict` (RFC 8032 with canonical `s`, no small-order keys or `R` points, and the
//!   cofactorless equation compared on `R`'s bytes), checked one at a time.

use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use curve25519_dalek::Scalar;
use ed25519_dalek::Signer;
use rand::Rng;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

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
    #[error("public key is not the canonical encoding of its point")]
    NonCanonicalKey,
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

    /// Checks that the key may be stored as part of an identity: it is a point, not of small
    /// order, and written as its point's one canonical encoding. Decompression also accepts
    /// y ≥ p (possible for y < 19, since 2^255 − p = 19) and x = 0 with the sign bit set, so
    /// some points have a second encoding; admitting only the bytes the point compresses back
    /// to makes two admitted keys the same point exactly when they are the same bytes.
    pub fn validate_canonical(&self) -> Result<(), Ed25519Error> {
        let key = self.verifying_key()?;
        if key.to_edwards().compress().to_bytes() != self.0 {
            return Err(Ed25519Error::NonCanonicalKey);
        }
        Ok(())
    }

    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<(), Ed25519Error> {
        let key = self.verifying_key()?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &signature)
            .map_err(|_| Ed25519Error::BadSignature)
    }

    /// Verifies a transaction's signature by ZIP-215 (see the module's description).
    pub fn verify_transaction(
        &self,
        message: &[u8],
        signature: &Ed25519Signature,
    ) -> Result<(), Ed25519Error> {
        let key = ed25519_zebra::VerificationKey::try_from(self.0)
            .map_err(|_| Ed25519Error::MalformedKey)?;
        key.verify(&ed25519_zebra::Signature::from_bytes(&signature.0), message)
            .map_err(|_| Ed25519Error::BadSignature)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Verifies many transactions' `(key, message, signature)` triples by ZIP-215, at once. `Ok`
/// means every one is valid; otherwise the result lists, in order, each one's verdict alone.
pub fn verify_transactions(
    items: &[(Ed25519PublicKey, &[u8], Ed25519Signature)],
) -> Result<(), Vec<Result<(), Ed25519Error>>> {
    KeyPoints::default().verify_transactions(items)
}

/// Keys most kept decompressed; past this the keys are forgotten and decompressed again as
/// they come (a point and its key take 192 bytes: about 6 MiB with the map's slack).
const KEPT_POINTS: usize = 16_384;

/// Transaction signers' keys as curve points, so that a sender's key is decompressed once
/// rather than with each of its signatures. A key's point is a pure function of its bytes, so
/// keeping it changes no verdict. Shared by its clones.
#[derive(Clone, Debug, Default)]
pub struct KeyPoints(Arc<Mutex<HashMap<Ed25519PublicKey, EdwardsPoint>>>);

impl KeyPoints {
    /// As [`verify_transactions`], with the keys kept here.
    pub fn verify_transactions(
        &self,
        items: &[(Ed25519PublicKey, &[u8], Ed25519Signature)],
    ) -> Result<(), Vec<Result<(), Ed25519Error>>> {
        match self.points(items) {
            Some(points) if batch_equation_holds(items, &points) => Ok(()),
            _ => Err(items
                .iter()
                .map(|(key, message, signature)| key.verify_transaction(message, signature))
                .collect()),
        }
    }

    /// Each item's key as a point; `None` when one is not a point. Keys not kept are
    /// decompressed outside the lock, so that admission's threads and the consensus app do not
    /// wait on each other's decompressions.
    fn points(
        &self,
        items: &[(Ed25519PublicKey, &[u8], Ed25519Signature)],
    ) -> Option<Vec<EdwardsPoint>> {
        let kept: Vec<Option<EdwardsPoint>> = {
            let known = self.lock();
            items
                .iter()
                .map(|(key, _, _)| known.get(key).copied())
                .collect()
        };
        let mut decompressed = Vec::new();
        let mut points = Vec::with_capacity(items.len());
        for ((key, _, _), kept) in items.iter().zip(kept) {
            let point = match kept {
                Some(point) => point,
                None => {
                    let point = CompressedEdwardsY(key.0).decompress()?;
                    decompressed.push((*key, point));
                    point
                }
            };
            points.push(point);
        }
        if !decompressed.is_empty() {
            let mut known = self.lock();
            if known.len() + decompressed.len() > KEPT_POINTS {
                known.clear();
            }
            known.extend(decompressed);
        }
        Some(points)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Ed25519PublicKey, EdwardsPoint>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// ZIP-215's batch equation `[8](Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ − (Σ zᵢsᵢ)B) = 0` with random 128-bit
/// `zᵢ`: it holds for a batch exactly when each signature's own equation holds, but for a
/// 2^-128 chance. `R` and `A` may be any encodings of points, `s` must be canonical.
fn batch_equation_holds(
    items: &[(Ed25519PublicKey, &[u8], Ed25519Signature)],
    keys: &[EdwardsPoint],
) -> bool {
    debug_assert_eq!(items.len(), keys.len());
    let mut rng = rand::thread_rng();
    let mut scalars = Vec::with_capacity(2 * items.len() + 1);
    let mut points = Vec::with_capacity(2 * items.len() + 1);
    let mut base_coefficient = Scalar::ZERO;
    for ((key, message, signature), key_point) in items.iter().zip(keys) {
        let (r_bytes, s_bytes) = signature.0.split_at(32);
        let r_bytes: [u8; 32] = r_bytes.try_into().expect("32 bytes of 64");
        let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        let s_bytes: [u8; 32] = s_bytes.try_into().expect("32 bytes of 64");
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(r_bytes)
                .chain_update(key.0)
                .chain_update(message),
        );
        let z = Scalar::from(rng.gen::<u128>());
        base_coefficient -= z * s;
        scalars.push(z);
        points.push(r);
        scalars.push(z * k);
        points.push(*key_point);
    }
    scalars.push(base_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The field prime p = 2^255 − 19, little-endian.
    const P: [u8; 32] = {
        let mut bytes = [0xff; 32];
        bytes[0] = 0xed;
        bytes[31] = 0x7f;
        bytes
    };

    const SIGN: u8 = 0x80;

    fn encoding(low_byte: u8, base: [u8; 32], sign: u8) -> Ed25519PublicKey {
        let mut bytes = base;
        bytes[0] += low_byte;
        bytes[31] |= sign;
        Ed25519PublicKey(bytes)
    }

    /// Only points with y < 19 (written also as y + p) or x = 0 (y = ±1, written also with the
    /// sign bit set) have two encodings. Of each such pair exactly the canonical one is
    /// admitted, or neither when the point is of small order or y is not on the curve.
    #[test]
    fn every_point_has_at_most_one_admitted_encoding() {
        let mut admitted = 0;
        for y in 0..19u8 {
            for sign in [0, SIGN] {
                let canonical = encoding(y, [0; 32], sign);
                let other = encoding(y, P, sign);
                match canonical.verifying_key() {
                    Ok(key) => assert_eq!(
                        other.verifying_key().unwrap().to_edwards(),
                        key.to_edwards()
                    ),
                    Err(_) => assert!(other.verifying_key().is_err()),
                }
                assert!(other.validate_canonical().is_err(), "y + p for y = {y}");
                if canonical.validate_canonical().is_ok() {
                    admitted += 1;
                }
            }
        }
        assert!(admitted > 0, "some y below 19 is a point of large order");
        // x = 0 only at y = 1 and y = p − 1, both of small order, so their encodings with the
        // sign bit set are refused as well.
        let mut p_minus_one = P;
        p_minus_one[0] -= 1;
        for key in [encoding(1, [0; 32], SIGN), encoding(0, p_minus_one, SIGN)] {
            assert_eq!(key.validate_canonical(), Err(Ed25519Error::WeakKey));
        }
    }

    #[test]
    fn a_generated_key_is_admitted_and_an_off_curve_one_is_not() {
        let key = Ed25519Keypair::from_seed([7; 32]).public_key();
        assert_eq!(key.validate_canonical(), Ok(()));
        let off_curve = encoding(2, [0; 32], 0);
        assert_eq!(
            off_curve.validate_canonical(),
            Err(Ed25519Error::MalformedKey)
        );
        let non_canonical = Ed25519PublicKey([0xff; 32]);
        assert_eq!(
            non_canonical.validate_canonical(),
            Err(Ed25519Error::NonCanonicalKey)
        );
    }

    /// A signature its key holder made with a small-order point added to `R`: valid by ZIP-215,
    /// not by the cofactorless rule.
    fn with_torsion_in_r(seed: u8, message: &[u8]) -> (Ed25519PublicKey, Ed25519Signature) {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        use curve25519_dalek::Scalar;
        use sha2::{Digest, Sha512};
        let secret = Scalar::from_bytes_mod_order([seed; 32]);
        let nonce = Scalar::from_bytes_mod_order([seed.wrapping_add(1); 32]);
        let public = (ED25519_BASEPOINT_POINT * secret).compress();
        let r = (ED25519_BASEPOINT_POINT * nonce + EIGHT_TORSION[1]).compress();
        let hash = Sha512::new()
            .chain_update(r.as_bytes())
            .chain_update(public.as_bytes())
            .chain_update(message)
            .finalize();
        let k = Scalar::from_bytes_mod_order_wide(&hash.into());
        let s = nonce + k * secret;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        (
            Ed25519PublicKey(public.to_bytes()),
            Ed25519Signature(signature),
        )
    }

    #[test]
    fn transactions_follow_zip215_where_other_statements_are_strict() {
        let (key, signature) = with_torsion_in_r(3, b"message");
        assert_eq!(key.verify_transaction(b"message", &signature), Ok(()));
        assert_eq!(
            key.verify(b"message", &signature),
            Err(Ed25519Error::BadSignature)
        );
        assert_eq!(
            key.verify_transaction(b"another message", &signature),
            Err(Ed25519Error::BadSignature)
        );
    }

    /// Signatures valid and not: with torsion in `R`, tampered, by a key signing several
    /// messages, by a key that is not a point, and with a non-canonical `s`.
    fn mixed_signatures() -> Vec<(Ed25519PublicKey, Vec<u8>, Ed25519Signature)> {
        let mut signed = Vec::new();
        for index in 0..24u8 {
            let message = vec![index; 40];
            let (key, mut signature) = match index % 4 {
                0 => with_torsion_in_r(index, &message),
                1 => {
                    let keypair = Ed25519Keypair::from_seed([1; 32]);
                    (keypair.public_key(), keypair.sign(&message))
                }
                _ => {
                    let keypair = Ed25519Keypair::from_seed([index; 32]);
                    (keypair.public_key(), keypair.sign(&message))
                }
            };
            if index % 6 == 5 {
                signature.0[40] ^= 1;
            }
            signed.push((key, message, signature));
        }
        let off_curve = (0..=u8::MAX)
            .map(|low| encoding(low, [0; 32], 0))
            .find(|key| CompressedEdwardsY(key.0).decompress().is_none())
            .expect("some small y is not on the curve");
        let keypair = Ed25519Keypair::from_seed([99; 32]);
        signed.push((off_curve, b"off".to_vec(), keypair.sign(b"off")));
        let mut non_canonical_s = keypair.sign(b"large s");
        non_canonical_s.0[63] |= 0xf0;
        signed.push((keypair.public_key(), b"large s".to_vec(), non_canonical_s));
        signed
    }

    #[test]
    fn a_transaction_signature_has_its_own_verdict_in_every_batch() {
        use rand::seq::SliceRandom;
        use rand::{Rng, SeedableRng};
        let signed = mixed_signatures();
        let alone: Vec<Result<(), Ed25519Error>> = (signed.iter())
            .map(|(key, message, signature)| key.verify_transaction(message, signature))
            .collect();
        assert!(alone.iter().any(Result::is_err) && alone.iter().any(Result::is_ok));
        assert_eq!(alone[alone.len() - 2], Err(Ed25519Error::MalformedKey));
        assert_eq!(alone[alone.len() - 1], Err(Ed25519Error::BadSignature));
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(215);
        let kept = KeyPoints::default();
        for round in 0..400 {
            let mut members: Vec<usize> = (0..signed.len()).collect();
            members.shuffle(&mut rng);
            members.truncate(rng.gen_range(1..=signed.len()));
            let items: Vec<(Ed25519PublicKey, &[u8], Ed25519Signature)> = (members.iter())
                .map(|index| {
                    (
                        signed[*index].0,
                        signed[*index].1.as_slice(),
                        signed[*index].2,
                    )
                })
                .collect();
            let outcome = if round % 2 == 0 {
                verify_transactions(&items)
            } else {
                kept.verify_transactions(&items)
            };
            let verdicts = match outcome {
                Ok(()) => vec![Ok(()); items.len()],
                Err(each) => each,
            };
            let expected: Vec<_> = members.iter().map(|index| alone[*index].clone()).collect();
            assert_eq!(verdicts, expected, "batch of {members:?}");
        }
    }

    #[test]
    fn a_batch_of_valid_signatures_passes_whole_with_keys_kept_or_not() {
        let signed: Vec<_> = (mixed_signatures().into_iter())
            .filter(|(key, message, signature)| key.verify_transaction(message, signature).is_ok())
            .collect();
        assert!(signed.len() > 10);
        let items: Vec<(Ed25519PublicKey, &[u8], Ed25519Signature)> = (signed.iter())
            .map(|(key, message, signature)| (*key, message.as_slice(), *signature))
            .collect();
        let kept = KeyPoints::default();
        assert_eq!(verify_transactions(&items), Ok(()));
        assert_eq!(kept.verify_transactions(&items), Ok(()));
        assert_eq!(kept.verify_transactions(&items), Ok(()));
    }
}
