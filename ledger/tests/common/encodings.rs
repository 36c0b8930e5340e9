//! ed25519 public keys written in ways the ledger must refuse, built by hand: decompression
//! accepts y ≥ p (possible for y < 19, since 2^255 − p = 19), so some points have a second,
//! non-canonical encoding.

use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use ed25519_dalek::VerifyingKey;

/// The field prime p = 2^255 − 19, little-endian.
const P: [u8; 32] = {
    let mut bytes = [0xff; 32];
    bytes[0] = 0xed;
    bytes[31] = 0x7f;
    bytes
};

/// The encoding of `y` (small) with the sign bit of x clear.
pub fn encode_y(y: u8) -> [u8; 32] {
    let mut bytes = [0; 32];
    bytes[0] = y;
    bytes
}

/// The encoding of `y + p` (`y` < 19, so that it still fits in 255 bits): the same field
/// element as `y`, written a second way.
fn encode_y_plus_p(y: u8) -> [u8; 32] {
    assert!(y < 19);
    let mut bytes = P;
    bytes[0] += y;
    bytes
}

/// A point of large order and a second, non-canonical encoding of it. Only points with y < 19
/// have one (2^255 − p = 19), so the first such y on the curve is searched for; the test then
/// checks that the two byte strings really decode to one point.
pub fn one_point_two_encodings() -> (Ed25519PublicKey, Ed25519PublicKey) {
    let y = (0..19)
        .find(|y| VerifyingKey::from_bytes(&encode_y(*y)).is_ok_and(|key| !key.is_weak()))
        .expect("some y below 19 is on the curve with large order");
    let (canonical, other) = (encode_y(y), encode_y_plus_p(y));
    let decoded = |bytes| VerifyingKey::from_bytes(bytes).unwrap().to_edwards();
    assert_ne!(canonical, other);
    assert_eq!(decoded(&canonical), decoded(&other), "one point");
    (Ed25519PublicKey(canonical), Ed25519PublicKey(other))
}

/// `0xff` × 32, which decodes: its y is 2^255 − 1 = p + 18, and y = 18 is on the curve. It is a
/// second encoding of that point, which nobody holds a key for.
pub fn all_ones() -> Ed25519PublicKey {
    assert!(VerifyingKey::from_bytes(&[0xff; 32]).is_ok());
    Ed25519PublicKey([0xff; 32])
}
