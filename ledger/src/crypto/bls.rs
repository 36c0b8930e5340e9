//! BLS signatures on BLS12-381 as the IETF draft (draft-irtf-cfrg-bls-signature-05) specifies
//! them, in the minimal-pubkey-size variant: 48-byte compressed G1 public keys, 96-byte
//! compressed G2 signatures, ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`.
//!
//! The ledger needs KeyValidate and PopVerify so that no BLS key enters state without a proof
//! of possession (which is what makes aggregating signatures over one message safe against
//! rogue-key attacks). Signing lives here too so that ledger, consensus and tests share one
//! implementation of the standard.

use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{pairing, G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use borsh::{BorshDeserialize, BorshSerialize};
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

impl BlsPublicKey {
    /// KeyValidate: a canonical compressed point in the prime-order subgroup, not the identity.
    pub fn validate(&self) -> Result<G1Affine, BlsError> {
        let point: G1Affine =
            Option::from(G1Affine::from_compressed(&self.0)).ok_or(BlsError::MalformedPublicKey)?;
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
    pub fn point(&self) -> Result<G2Affine, BlsError> {
        Option::from(G2Affine::from_compressed(&self.0)).ok_or(BlsError::MalformedSignature)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

fn core_verify(
    public_key: &G1Affine,
    message: &[u8],
    dst: &[u8],
    signature: &BlsSignature,
    failure: BlsError,
) -> Result<(), BlsError> {
    let signature = signature.point()?;
    let message_point = G2Affine::from(hash_to_g2(message, dst));
    // e(PK, H(m)) == e(G1, sig)
    if pairing(public_key, &message_point) == pairing(&G1Affine::generator(), &signature) {
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
}
