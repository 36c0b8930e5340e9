//! BLS signatures on BLS12-381 as the IETF draft (draft-irtf-cfrg-bls-signature-05) specifies
//! them, in the minimal-pubkey-size variant: 48-byte compressed G1 public keys, 96-byte
//! compressed G2 signatures, ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`.
//!
//! The ledger needs KeyValidate and PopVerify so that no BLS key enters state without a proof
//! of possession (which is what makes aggregating signatures over one message safe against
//! rogue-key attacks). Signing, Aggregate and FastAggregateVerify live here too, so that
//! ledger, checkpoints and tests share one implementation of the standard.
//!
//! Decoding follows the zcash/IETF serialization: a compressed point has the compression flag
//! set, the infinity flag only with all other bits zero, a canonical x below the field modulus,
//! a point on the curve, and — checked separately, so the error says which — membership in the
//! prime-order subgroup.

use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{
    multi_miller_loop, G1Affine, G1Projective, G2Affine, G2Prepared, G2Projective, Gt, Scalar,
};
use borsh::{BorshDeserialize, BorshSerialize};
use std::collections::BTreeMap;
use std::fmt;

/// Domain separation tag for signatures on messages.
pub const SIGNATURE_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag for proofs of possession.
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    #[error("public key is not a valid compressed G1 point in the prime-order subgroup")]
    MalformedPublicKey,
    #[error("public key is the identity point")]
    IdentityPublicKey,
    #[error("signature is not a valid compressed G2 point in the prime-order subgroup")]
    MalformedSignature,
    #[error("signature does not verify")]
    BadSignature,
    #[error("proof of possession does not verify")]
    BadProofOfPossession,
    #[error("key material must be at least 32 bytes")]
    ShortKeyMaterial,
    #[error("a compressed {what} is {expected} bytes, not {got}")]
    WrongLength {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("public key is on the curve but outside the prime-order subgroup")]
    PublicKeyNotInSubgroup,
    #[error("signature is on the curve but outside the prime-order subgroup")]
    SignatureNotInSubgroup,
    #[error("nothing to aggregate")]
    EmptyAggregate,
    #[error("the aggregate of the public keys is the identity point")]
    IdentityAggregateKey,
    #[error("signature is the identity point")]
    IdentitySignature,
}

/// A compressed G1 public key as sent on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct BlsPublicKey(pub [u8; 48]);

/// A compressed G2 signature (or proof of possession) as sent on the wire.
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlsSignature(pub [u8; 96]);

/// A BLS secret key: a non-zero scalar.
#[derive(Clone)]
pub struct BlsSecretKey(Scalar);

impl BlsSecretKey {
    /// KeyGen from the draft (section 2.3): HKDF-SHA256 with salt `BLS-SIG-KEYGEN-SALT-`,
    /// re-salted with SHA-256 until the derived scalar is non-zero.
    pub fn key_gen(ikm: &[u8], key_info: &[u8]) -> Result<Self, BlsError> {
        use sha2::Digest;
        if ikm.len() < 32 {
            return Err(BlsError::ShortKeyMaterial);
        }
        // L = ceil((3 * ceil(log2(r))) / 16) = 48
        const L: usize = 48;
        let mut salt = sha2::Sha256::digest(b"BLS-SIG-KEYGEN-SALT-").to_vec();
        let mut input = ikm.to_vec();
        input.push(0); // I2OSP(0, 1)
        let mut info = key_info.to_vec();
        info.extend_from_slice(&(L as u16).to_be_bytes());
        loop {
            let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), &input);
            let mut okm = [0u8; L];
            hkdf.expand(&info, &mut okm)
                .expect("48 bytes is a valid HKDF-SHA256 output length");
            let scalar = scalar_from_be_bytes_mod_r(&okm);
            if scalar != Scalar::zero() {
                return Ok(Self(scalar));
            }
            salt = sha2::Sha256::digest(&salt).to_vec();
        }
    }

    /// SkToPk.
    pub fn public_key(&self) -> BlsPublicKey {
        BlsPublicKey(G1Affine::from(G1Projective::generator() * self.0).to_compressed())
    }

    /// CoreSign with the signature tag.
    pub fn sign(&self, message: &[u8]) -> BlsSignature {
        self.core_sign(message, SIGNATURE_DST)
    }

    /// PopProve: a signature over the compressed public key under the proof-of-possession tag.
    pub fn prove_possession(&self) -> BlsSignature {
        self.core_sign(&self.public_key().0, POP_DST)
    }

    fn core_sign(&self, message: &[u8], dst: &[u8]) -> BlsSignature {
        let point = hash_to_g2(message, dst) * self.0;
        BlsSignature(G2Affine::from(point).to_compressed())
    }

    /// The key whose signature on any message is the aggregate of these keys' signatures on
    /// it: a whole set's signature at the cost of one, for simulations and benchmarks (a live
    /// set aggregates its members' signatures, whose secret keys nobody holds together).
    /// `None` when they cancel out: a secret key is never zero.
    pub fn sum(keys: &[BlsSecretKey]) -> Option<BlsSecretKey> {
        let sum: Scalar = keys.iter().map(|key| key.0).sum();
        (sum != Scalar::zero()).then_some(BlsSecretKey(sum))
    }

    /// The scalar in big-endian bytes (I2OSP(SK, 32)), for key files.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = self.0.to_bytes();
        bytes.reverse();
        bytes
    }

    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let mut little_endian = *bytes;
        little_endian.reverse();
        Option::from(Scalar::from_bytes(&little_endian))
            .filter(|scalar: &Scalar| *scalar != Scalar::zero())
            .map(Self)
    }
}

fn fixed<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N], BlsError> {
    bytes.try_into().map_err(|_| BlsError::WrongLength {
        what,
        expected: N,
        got: bytes.len(),
    })
}

impl BlsPublicKey {
    /// The bytes of a compressed public key, checked for length only ([`Self::validate`] checks
    /// the point).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BlsError> {
        Ok(Self(fixed(bytes, "public key")?))
    }

    /// KeyValidate: a canonical compressed point in the prime-order subgroup, not the identity.
    pub fn validated(&self) -> Result<ValidatedKey, BlsError> {
        self.validate().map(ValidatedKey)
    }

    fn validate(&self) -> Result<G1Affine, BlsError> {
        let point: G1Affine = Option::from(G1Affine::from_compressed_unchecked(&self.0))
            .ok_or(BlsError::MalformedPublicKey)?;
        if !bool::from(point.is_torsion_free()) {
            return Err(BlsError::PublicKeyNotInSubgroup);
        }
        if bool::from(point.is_identity()) {
            return Err(BlsError::IdentityPublicKey);
        }
        Ok(point)
    }

    /// CoreVerify with the signature tag.
    pub fn verify(&self, message: &[u8], signature: &BlsSignature) -> Result<(), BlsError> {
        core_verify(
            &self.validate()?,
            message,
            SIGNATURE_DST,
            signature,
            BlsError::BadSignature,
        )
    }

    /// PopVerify: the proof is a signature over this key's compressed bytes under the POP tag.
    pub fn verify_possession(&self, proof: &BlsSignature) -> Result<(), BlsError> {
        core_verify(
            &self.validate()?,
            &self.0,
            POP_DST,
            proof,
            BlsError::BadProofOfPossession,
        )
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl BlsSignature {
    /// The bytes of a compressed signature, checked for length only.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BlsError> {
        Ok(Self(fixed(bytes, "signature")?))
    }

    /// signature_to_point with the subgroup check. The identity decodes: a verifier refuses it.
    pub fn point(&self) -> Result<G2Affine, BlsError> {
        let point: G2Affine = Option::from(G2Affine::from_compressed_unchecked(&self.0))
            .ok_or(BlsError::MalformedSignature)?;
        if !bool::from(point.is_torsion_free()) {
            return Err(BlsError::SignatureNotInSubgroup);
        }
        Ok(point)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Aggregate: the sum of the signatures, each decoded and subgroup-checked first.
pub fn aggregate(signatures: &[BlsSignature]) -> Result<BlsSignature, BlsError> {
    if signatures.is_empty() {
        return Err(BlsError::EmptyAggregate);
    }
    let mut sum = G2Projective::identity();
    for signature in signatures {
        sum += signature.point()?;
    }
    Ok(BlsSignature(G2Affine::from(sum).to_compressed()))
}

/// FastAggregateVerify: `signature` is the aggregate of signatures by every one of
/// `public_keys` on the same `message`. Sound only for keys with verified proofs of
/// possession, which is the only way a BLS key enters Charter's state.
pub fn fast_aggregate_verify(
    public_keys: &[BlsPublicKey],
    message: &[u8],
    signature: &BlsSignature,
) -> Result<(), BlsError> {
    if public_keys.is_empty() {
        return Err(BlsError::EmptyAggregate);
    }
    let mut sum = KeySum::default();
    for key in public_keys {
        sum.add(&key.validated()?);
    }
    sum.verify(message, signature)
}

/// A public key that passed KeyValidate, decoded once so that summing it with others costs a
/// point addition and no further checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatedKey(G1Affine);

impl ValidatedKey {
    /// Whether this is `key`: compared by encoding, with no check (this one passed its own).
    pub fn is(&self, key: &BlsPublicKey) -> bool {
        self.0.to_compressed() == key.0
    }

    /// CoreVerify of one signature with the signature tag.
    pub fn verify(&self, message: &[u8], signature: &BlsSignature) -> Result<(), BlsError> {
        core_verify(
            &self.0,
            message,
            SIGNATURE_DST,
            signature,
            BlsError::BadSignature,
        )
    }
}

/// A running sum of validated public keys: the aggregate key of whichever signers were added
/// (and not subtracted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySum(G1Projective);

impl Default for KeySum {
    fn default() -> Self {
        Self(G1Projective::identity())
    }
}

impl KeySum {
    pub fn add(&mut self, key: &ValidatedKey) {
        self.0 += key.0;
    }

    pub fn subtract(&mut self, key: &ValidatedKey) {
        self.0 -= key.0;
    }

    pub fn add_sum(&mut self, other: &KeySum) {
        self.0 += other.0;
    }

    /// CoreVerify of an aggregate signature on one message against this aggregate key, which
    /// goes through KeyValidate as the draft requires: keys `PK` and `-PK` (each with a valid
    /// proof, since whoever knows `sk` knows `-sk`) sum to the identity, which any message
    /// would "verify" against the identity signature.
    pub fn verify(&self, message: &[u8], signature: &BlsSignature) -> Result<(), BlsError> {
        let aggregate = G1Affine::from(self.0);
        if bool::from(aggregate.is_identity()) {
            return Err(BlsError::IdentityAggregateKey);
        }
        core_verify(
            &aggregate,
            message,
            SIGNATURE_DST,
            signature,
            BlsError::BadSignature,
        )
    }
}

/// One aggregate signature to check: its signers' summed key, the message they signed, and the
/// signature.
#[derive(Clone, Copy, Debug)]
pub struct SignedBy<'a> {
    pub key: &'a KeySum,
    pub message: &'a [u8],
    pub signature: &'a BlsSignature,
}

impl SignedBy<'_> {
    /// Names the check by its bytes (the key, the signature and the message), so that a
    /// verifier can tell it already passed.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&G1Affine::from(self.key.0).to_compressed());
        hasher.update(&self.signature.0);
        hasher.update(self.message);
        *hasher.finalize().as_bytes()
    }
}

/// Checks several aggregate signatures, each with its own key and message, in one pairing
/// product: with a random odd 64-bit `rᵢ` per item, `e(−G1, Σ rᵢ·σᵢ) · Π e(rᵢ·PKᵢ, H(mᵢ))`
/// is the identity. Items on one message share its term, `e(Σ rᵢ·PKᵢ, H(m))`: that is one
/// hash to the curve and one Miller loop per distinct message plus one, and a single final
/// exponentiation, where checking them one by one costs two loops and an exponentiation each.
/// Each key and signature is refused as [`KeySum::verify`] refuses it. A batch holding a
/// signature that does not verify passes with probability at most 2⁻⁶³ (each `rᵢ` is odd, so 63
/// of its bits are random, and secret until the product is formed), and the error does not say
/// which: check one by one to name it.
pub fn verify_batch(
    items: &[SignedBy<'_>],
    rng: &mut impl rand_core::RngCore,
) -> Result<(), BlsError> {
    let mut signatures = G2Projective::identity();
    let mut keys_by_message: BTreeMap<&[u8], G1Projective> = BTreeMap::new();
    for item in items {
        if bool::from(item.key.0.is_identity()) {
            return Err(BlsError::IdentityAggregateKey);
        }
        let signature = item.signature.point()?;
        if bool::from(signature.is_identity()) {
            return Err(BlsError::IdentitySignature);
        }
        let weight = rng.next_u64() | 1;
        signatures += times(G2Projective::from(signature), weight);
        *keys_by_message.entry(item.message).or_default() += times(item.key.0, weight);
    }
    let (keys, messages): (Vec<G1Affine>, Vec<G2Prepared>) = (keys_by_message.into_iter())
        .map(|(message, key)| {
            let point = G2Affine::from(hash_to_g2(message, SIGNATURE_DST));
            (G1Affine::from(key), G2Prepared::from(point))
        })
        .unzip();
    let generator = -G1Affine::generator();
    let signatures = G2Prepared::from(G2Affine::from(signatures));
    let mut terms: Vec<(&G1Affine, &G2Prepared)> = keys.iter().zip(&messages).collect();
    terms.push((&generator, &signatures));
    if multi_miller_loop(&terms).final_exponentiation() == Gt::identity() {
        Ok(())
    } else {
        Err(BlsError::BadSignature)
    }
}

/// `weight · point` by doubling and adding over the 64 bits of a public-sized weight: a
/// quarter of the work of a multiplication by a full scalar.
fn times<P>(point: P, weight: u64) -> P
where
    P: Copy + std::ops::AddAssign + group::Group,
{
    let mut sum = P::identity();
    for bit in (0..64).rev() {
        sum = sum.double();
        if weight >> bit & 1 == 1 {
            sum += point;
        }
    }
    sum
}

fn core_verify(
    public_key: &G1Affine,
    message: &[u8],
    dst: &[u8],
    signature: &BlsSignature,
    failure: BlsError,
) -> Result<(), BlsError> {
    let signature = signature.point()?;
    if bool::from(signature.is_identity()) {
        return Err(BlsError::IdentitySignature);
    }
    let message_point = G2Prepared::from(G2Affine::from(hash_to_g2(message, dst)));
    let signature = G2Prepared::from(signature);
    // e(PK, H(m)) == e(G1, sig), as e(PK, H(m)) · e(−G1, sig) == 1: one final exponentiation.
    let product = multi_miller_loop(&[
        (public_key, &message_point),
        (&-G1Affine::generator(), &signature),
    ])
    .final_exponentiation();
    if product == Gt::identity() {
        Ok(())
    } else {
        Err(failure)
    }
}

fn hash_to_g2(message: &[u8], dst: &[u8]) -> G2Projective {
    <G2Projective as HashToCurve<ExpandMsgXmd<sha2_for_bls::Sha256>>>::hash_to_curve(message, dst)
}

/// OS2IP(bytes) mod r for a 48-byte big-endian integer.
fn scalar_from_be_bytes_mod_r(bytes: &[u8; 48]) -> Scalar {
    // from_bytes_wide reduces a 64-byte little-endian integer modulo r.
    let mut wide = [0u8; 64];
    for (index, byte) in bytes.iter().rev().enumerate() {
        wide[index] = *byte;
    }
    Scalar::from_bytes_wide(&wide)
}

impl fmt::Debug for BlsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsPublicKey({}…)", &self.to_hex()[..12])
    }
}

impl fmt::Debug for BlsSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsSignature({}…)", &self.to_hex()[..12])
    }
}

impl fmt::Debug for BlsSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsSecretKey({:?})", self.public_key())
    }
}

super::serde_hex!(BlsPublicKey, 48);
super::serde_hex!(BlsSignature, 96);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> BlsSecretKey {
        BlsSecretKey::key_gen(&[seed; 32], b"").unwrap()
    }

    /// The Ethereum consensus-spec `sign` vector (same ciphersuite): private key
    /// 0x263d…40e3 signing 32 zero bytes.
    #[test]
    fn signature_matches_the_published_vector() {
        let secret = BlsSecretKey::from_bytes(
            &hex::decode("263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3")
                .unwrap()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        let signature = secret.sign(&[0u8; 32]);
        assert_eq!(
            signature.to_hex(),
            "b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55"
        );
        secret.public_key().verify(&[0u8; 32], &signature).unwrap();
    }

    #[test]
    fn proof_of_possession_verifies_only_for_its_own_key() {
        let (alice, bob) = (key(1), key(2));
        let proof = alice.prove_possession();
        alice.public_key().verify_possession(&proof).unwrap();
        assert_eq!(
            bob.public_key().verify_possession(&proof),
            Err(BlsError::BadProofOfPossession)
        );
        // A signature over the key bytes under the message tag is not a proof of possession.
        let wrong_tag = alice.sign(&alice.public_key().0);
        assert_eq!(
            alice.public_key().verify_possession(&wrong_tag),
            Err(BlsError::BadProofOfPossession)
        );
    }

    #[test]
    fn malformed_and_identity_keys_are_rejected() {
        assert_eq!(
            BlsPublicKey([0x11; 48]).validate(),
            Err(BlsError::MalformedPublicKey)
        );
        let mut identity = [0u8; 48];
        identity[0] = 0xc0; // compressed, infinity
        assert_eq!(
            BlsPublicKey(identity).validate(),
            Err(BlsError::IdentityPublicKey)
        );
        assert_eq!(
            key(1)
                .public_key()
                .verify_possession(&BlsSignature([0x22; 96])),
            Err(BlsError::MalformedSignature)
        );
    }

    #[test]
    fn key_gen_is_deterministic_and_rejects_short_material() {
        assert_eq!(key(7).to_bytes(), key(7).to_bytes());
        assert_ne!(key(7).to_bytes(), key(8).to_bytes());
        assert_eq!(
            BlsSecretKey::key_gen(&[1; 31], b"").err(),
            Some(BlsError::ShortKeyMaterial)
        );
        let round_trip = BlsSecretKey::from_bytes(&key(7).to_bytes()).unwrap();
        assert_eq!(round_trip.public_key(), key(7).public_key());
    }

    /// RFC 9380, appendix J.10.1: BLS12381G2_XMD:SHA-256_SSWU_RO_ with the QUUX test tag; the
    /// expected points are P.x = x0 + I·x1, P.y = y0 + I·y1, compared in the serialization
    /// order x1 ‖ x0 ‖ y1 ‖ y0.
    #[test]
    fn hash_to_curve_matches_the_rfc_9380_vectors() {
        const DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
        let vectors: [(&[u8], [&str; 4]); 2] = [
            (
                b"",
                [
                    "05cb8437535e20ecffaef7752baddf98034139c38452458baeefab379ba13dff5bf5dd71b72418717047f5b0f37da03d",
                    "0141ebfbdca40eb85b87142e130ab689c673cf60f1a3e98d69335266f30d9b8d4ac44c1038e9dcdd5393faf5c41fb78a",
                    "12424ac32561493f3fe3c260708a12b7c620e7be00099a974e259ddc7d1f6395c3c811cdd19f1e8dbf3e9ecfdcbab8d6",
                    "0503921d7f6a12805e72940b963c0cf3471c7b2a524950ca195d11062ee75ec076daf2d4bc358c4b190c0c98064fdd92",
                ],
            ),
            (
                b"abc",
                [
                    "139cddbccdc5e91b9623efd38c49f81a6f83f175e80b06fc374de9eb4b41dfe4ca3a230ed250fbe3a2acf73a41177fd8",
                    "02c2d18e033b960562aae3cab37a27ce00d80ccd5ba4b7fe0e7a210245129dbec7780ccc7954725f4168aff2787776e6",
                    "00aa65dae3c8d732d10ecd2c50f8a1baf3001578f71c694e03866e9f3d49ac1e1ce70dd94a733534f106d4cec0eddd16",
                    "1787327b68159716a37440985269cf584bcb1e621d3a7202be6ea05c4cfe244aeb197642555a0645fb87bf7466b2ba48",
                ],
            ),
        ];
        for (message, [x1, x0, y1, y0]) in vectors {
            let point = G2Affine::from(hash_to_g2(message, DST));
            assert_eq!(
                hex::encode(point.to_uncompressed()),
                format!("{x1}{x0}{y1}{y0}"),
                "message {message:?}"
            );
        }
    }

    #[test]
    fn aggregate_signatures_verify_for_exactly_the_keys_that_signed() {
        let keys: Vec<BlsSecretKey> = (1..=4).map(key).collect();
        let public: Vec<BlsPublicKey> = keys.iter().map(BlsSecretKey::public_key).collect();
        let message = b"checkpoint";
        let signatures: Vec<BlsSignature> = keys.iter().map(|key| key.sign(message)).collect();
        let all = aggregate(&signatures).unwrap();
        fast_aggregate_verify(&public, message, &all).unwrap();
        // Aggregation is order-independent.
        let mut reversed = signatures.clone();
        reversed.reverse();
        assert_eq!(aggregate(&reversed).unwrap(), all);
        assert_eq!(
            fast_aggregate_verify(&public[..3], message, &all),
            Err(BlsError::BadSignature),
            "a key that did not sign is missing from the aggregate"
        );
        let three = aggregate(&signatures[..3]).unwrap();
        assert_eq!(
            fast_aggregate_verify(&public, message, &three),
            Err(BlsError::BadSignature),
            "a key claimed that did not sign"
        );
        assert_eq!(
            fast_aggregate_verify(&public, b"another checkpoint", &all),
            Err(BlsError::BadSignature)
        );
        assert_eq!(aggregate(&[]), Err(BlsError::EmptyAggregate));
        assert_eq!(
            fast_aggregate_verify(&[], message, &all),
            Err(BlsError::EmptyAggregate)
        );
        let mut malformed = signatures.clone();
        malformed[1] = BlsSignature([0x22; 96]);
        assert_eq!(aggregate(&malformed), Err(BlsError::MalformedSignature));
    }

    /// The first encoding, with canonical flags and x = 0, 1, 2, … in its last bytes, that
    /// `accept` (given the unchecked decoding) picks.
    fn find_encoding<const N: usize, P>(
        decode: impl Fn(&[u8; N]) -> Option<P>,
        accept: impl Fn(Option<P>) -> bool,
    ) -> [u8; N] {
        (1u16..)
            .map(|x| {
                let mut bytes = [0u8; N];
                bytes[0] = 0x80;
                bytes[N - 2..].copy_from_slice(&x.to_be_bytes());
                bytes
            })
            .find(|bytes| accept(decode(bytes)))
            .expect("such an x exists")
    }

    #[test]
    fn every_malformed_encoding_is_rejected_with_a_typed_error() {
        let valid = key(1).public_key();
        assert_eq!(
            BlsPublicKey::from_slice(&valid.0[..47]),
            Err(BlsError::WrongLength {
                what: "public key",
                expected: 48,
                got: 47
            })
        );
        assert_eq!(
            BlsSignature::from_slice(&[0; 97]).err(),
            Some(BlsError::WrongLength {
                what: "signature",
                expected: 96,
                got: 97
            })
        );
        let mut uncompressed_flag = valid.0;
        uncompressed_flag[0] &= 0x7f;
        let mut infinity_with_bits = [0u8; 48];
        infinity_with_bits[0] = 0xc0;
        infinity_with_bits[47] = 1;
        let mut beyond_modulus = [0xffu8; 48];
        beyond_modulus[0] = 0x9f;
        let off_curve = find_encoding::<48, G1Affine>(
            |bytes| Option::from(G1Affine::from_compressed_unchecked(bytes)),
            |point| point.is_none(),
        );
        for (name, bytes) in [
            ("no compression flag", uncompressed_flag),
            ("infinity with other bits", infinity_with_bits),
            ("x beyond the modulus", beyond_modulus),
            ("x not on the curve", off_curve),
        ] {
            assert_eq!(
                BlsPublicKey(bytes).validate(),
                Err(BlsError::MalformedPublicKey),
                "{name}"
            );
        }
        let outside_subgroup = find_encoding::<48, G1Affine>(
            |bytes| Option::from(G1Affine::from_compressed_unchecked(bytes)),
            |point| point.is_some_and(|point| !bool::from(point.is_torsion_free())),
        );
        assert_eq!(
            BlsPublicKey(outside_subgroup).validate(),
            Err(BlsError::PublicKeyNotInSubgroup)
        );
        let signature_outside_subgroup = find_encoding::<96, G2Affine>(
            |bytes| Option::from(G2Affine::from_compressed_unchecked(bytes)),
            |point| point.is_some_and(|point| !bool::from(point.is_torsion_free())),
        );
        assert_eq!(
            valid.verify(b"m", &BlsSignature(signature_outside_subgroup)),
            Err(BlsError::SignatureNotInSubgroup)
        );
        assert_eq!(
            valid.verify(b"m", &BlsSignature(identity_signature())),
            Err(BlsError::IdentitySignature)
        );
    }

    /// A batch passes exactly when every item would pass alone. Two signatures swapped
    /// between their items sum to the right total, which an unweighted batch would accept: the
    /// random weights are what refuse it.
    #[test]
    fn a_batch_verifies_exactly_when_every_item_does() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let signers: Vec<BlsSecretKey> = (20..24).map(key).collect();
        let messages: Vec<Vec<u8>> = (0..4u8).map(|index| vec![index; 40]).collect();
        let keys = key_sums(&signers);
        let mut signatures: Vec<BlsSignature> = (signers.iter().zip(&messages))
            .map(|(signer, message)| signer.sign(message))
            .collect();
        let batch = |signatures: &[BlsSignature], rng: &mut rand_chacha::ChaCha20Rng| {
            let items: Vec<SignedBy> = (0..4)
                .map(|index| SignedBy {
                    key: &keys[index],
                    message: &messages[index],
                    signature: &signatures[index],
                })
                .collect();
            verify_batch(&items, rng)
        };
        batch(&signatures, &mut rng).unwrap();
        verify_batch(&[], &mut rng).unwrap();
        let both = BlsSecretKey::sum(&signers[..2]).unwrap().sign(b"both");
        let mut summed = keys[0];
        summed.add_sum(&keys[1]);
        assert_eq!(
            both,
            aggregate(&[signers[0].sign(b"both"), signers[1].sign(b"both")]).unwrap()
        );
        summed.verify(b"both", &both).unwrap();

        signatures.swap(1, 2);
        let swapped_sum = aggregate(&signatures).unwrap();
        signatures.swap(1, 2);
        assert_eq!(swapped_sum, aggregate(&signatures).unwrap());
        signatures.swap(1, 2);
        assert_eq!(batch(&signatures, &mut rng), Err(BlsError::BadSignature));
        signatures.swap(1, 2);

        signatures[3] = signers[0].sign(&messages[3]);
        assert_eq!(batch(&signatures, &mut rng), Err(BlsError::BadSignature));
        signatures[3] = BlsSignature(identity_signature());
        assert_eq!(
            batch(&signatures, &mut rng),
            Err(BlsError::IdentitySignature)
        );
        let nobody = KeySum::default();
        let unsigned = SignedBy {
            key: &nobody,
            message: b"m",
            signature: &signatures[0],
        };
        assert_eq!(
            verify_batch(&[unsigned], &mut rng),
            Err(BlsError::IdentityAggregateKey)
        );
    }

    /// Each signer's public key, as a sum of one key.
    fn key_sums(signers: &[BlsSecretKey]) -> Vec<KeySum> {
        (signers.iter())
            .map(|signer| {
                let mut sum = KeySum::default();
                sum.add(&signer.public_key().validated().unwrap());
                sum
            })
            .collect()
    }

    /// Items on one message share its term: the batch still passes exactly when every item
    /// does, including two signatures swapped between signers of that message.
    #[test]
    fn a_batch_of_signers_of_one_message_verifies_exactly_when_each_does() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let signers: Vec<BlsSecretKey> = (30..36).map(key).collect();
        let keys = key_sums(&signers);
        let message = b"one checkpoint";
        let mut signatures: Vec<BlsSignature> =
            signers.iter().map(|signer| signer.sign(message)).collect();
        let other = b"another checkpoint";
        let mut batch = |signatures: &[BlsSignature]| {
            let mut items: Vec<SignedBy> = (keys.iter().zip(signatures))
                .map(|(key, signature)| SignedBy {
                    key,
                    message,
                    signature,
                })
                .collect();
            let signed_other = signers[0].sign(other);
            items.push(SignedBy {
                key: &keys[0],
                message: other,
                signature: &signed_other,
            });
            verify_batch(&items, &mut rng)
        };
        batch(&signatures).unwrap();
        signatures.swap(2, 4);
        assert_eq!(batch(&signatures), Err(BlsError::BadSignature));
        signatures.swap(2, 4);
        signatures[5] = signers[5].sign(other);
        assert_eq!(batch(&signatures), Err(BlsError::BadSignature));
    }

    fn identity_signature() -> [u8; 96] {
        let mut identity = [0u8; 96];
        identity[0] = 0xc0;
        identity
    }

    /// A key and its negation, each with a valid proof of possession, sum to the identity; with
    /// the identity signature they would "verify" any message. CoreVerify's KeyValidate of the
    /// aggregate refuses them, as py_ecc and milagro do.
    #[test]
    fn keys_summing_to_the_identity_verify_nothing() {
        let key = key(9);
        let negated = BlsSecretKey(-key.0);
        negated
            .public_key()
            .verify_possession(&negated.prove_possession())
            .unwrap();
        let cancelling = [key.public_key(), negated.public_key()];
        for message in [&b"any message"[..], b"another"] {
            assert_eq!(
                fast_aggregate_verify(&cancelling, message, &BlsSignature(identity_signature())),
                Err(BlsError::IdentityAggregateKey)
            );
        }
        // Their honest aggregate signature is the identity too, and is refused the same way.
        let honest = aggregate(&[key.sign(b"m"), negated.sign(b"m")]).unwrap();
        assert_eq!(
            fast_aggregate_verify(&cancelling, b"m", &honest),
            Err(BlsError::IdentityAggregateKey)
        );
        assert!(BlsSecretKey::sum(&[key.clone(), negated.clone()]).is_none());
        // With a third key the sum is that key, and only its own signature verifies.
        let third = self::key(10);
        let keys = [key.public_key(), negated.public_key(), third.public_key()];
        fast_aggregate_verify(&keys, b"m", &third.sign(b"m")).unwrap();
    }
}
