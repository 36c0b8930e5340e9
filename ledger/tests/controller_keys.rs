//! Controller keys enter state only as canonical encodings of ed25519 points of large order:
//! at issuance, rotation, fork and genesis alike.

mod common;

use charter_ledger::controller_keys::ControllerKeysError;
use charter_ledger::crypto::ed25519::{Ed25519Error, Ed25519PublicKey};
use charter_ledger::devnet::{DevCell, DevCellConfig};
use charter_ledger::genesis::GenesisError;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::transaction::Consent;
use charter_ledger::*;
use common::{keypair, Harness};
use ed25519_dalek::VerifyingKey;

/// The field prime p = 2^255 − 19, little-endian.
const P: [u8; 32] = {
    let mut bytes = [0xff; 32];
    bytes[0] = 0xed;
    bytes[31] = 0x7f;
    bytes
};

/// The encoding of `y` (small) with the sign bit of x clear.
fn encode_y(y: u8) -> [u8; 32] {
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
fn one_point_two_encodings() -> (Ed25519PublicKey, Ed25519PublicKey) {
    let y = (0..19)
        .find(|y| VerifyingKey::from_bytes(&encode_y(*y)).is_ok_and(|key| !key.is_weak()))
        .expect("some y below 19 is on the curve with large order");
    let (canonical, other) = (encode_y(y), encode_y_plus_p(y));
    let decoded = |bytes| VerifyingKey::from_bytes(bytes).unwrap().to_edwards();
    assert_ne!(canonical, other);
    assert_eq!(decoded(&canonical), decoded(&other), "one point");
    (Ed25519PublicKey(canonical), Ed25519PublicKey(other))
}

/// Key sets no passport may hold, each with a line saying why and the reason it is refused.
fn refused_key_sets() -> Vec<(&'static str, Vec<Ed25519PublicKey>, ControllerKeysError)> {
    let (canonical, non_canonical) = one_point_two_encodings();
    let invalid = |index, error| ControllerKeysError::InvalidKey { index, error };
    // 0xff × 32 decodes: its y is 2^255 − 1 = p + 18, and y = 18 is on the curve.
    assert!(VerifyingKey::from_bytes(&[0xff; 32]).is_ok());
    let key = keypair(1).public_key();
    vec![
        (
            "0xff × 32",
            vec![Ed25519PublicKey([0xff; 32])],
            invalid(0, Ed25519Error::NonCanonicalKey),
        ),
        (
            "a non-canonical encoding",
            vec![key, non_canonical],
            invalid(1, Ed25519Error::NonCanonicalKey),
        ),
        (
            "two encodings of one point",
            vec![canonical, non_canonical],
            invalid(1, Ed25519Error::NonCanonicalKey),
        ),
        (
            "y = 2, not on the curve",
            vec![Ed25519PublicKey(encode_y(2))],
            invalid(0, Ed25519Error::MalformedKey),
        ),
        (
            "the identity, of small order",
            vec![Ed25519PublicKey(encode_y(1))],
            invalid(0, Ed25519Error::WeakKey),
        ),
        (
            "one key twice",
            vec![key, canonical, key],
            ControllerKeysError::Duplicate { index: 2, first: 0 },
        ),
        (
            "no key",
            vec![],
            ControllerKeysError::Count { count: 0, max: 8 },
        ),
        (
            "nine keys",
            (1..=9).map(|seed| keypair(seed).public_key()).collect(),
            ControllerKeysError::Count { count: 9, max: 8 },
        ),
    ]
}

/// Runs `submit` on a fresh dev cell for each refused key set and lists every outcome that is
/// not the expected refusal.
fn misjudged(
    submit: impl Fn(&mut Harness, Vec<Ed25519PublicKey>) -> Result<(), TxError>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (case, keys, reason) in refused_key_sets() {
        let mut h = Harness::new();
        let outcome = submit(&mut h, keys);
        if outcome != Err(TxError::InvalidControllerKeys(reason)) {
            wrong.push(format!("{case}: {outcome:?}"));
        }
    }
    wrong
}

#[test]
fn a_canonical_key_of_large_order_is_accepted() {
    let (canonical, _) = one_point_two_encodings();
    let mut h = Harness::new();
    let sponsor = h.cell.member(0).clone();
    let action = Action::IssuePassport {
        controller_keys: vec![canonical, keypair(1).public_key()],
        tier: 1,
    };
    h.submit(&sponsor, action).unwrap();
}

#[test]
fn issuance_refuses_keys_that_are_not_canonical_points_of_large_order() {
    let wrong = misjudged(|h, keys| {
        let sponsor = h.cell.member(0).clone();
        let action = Action::IssuePassport {
            controller_keys: keys,
            tier: 1,
        };
        h.submit(&sponsor, action)
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn rotation_refuses_keys_that_are_not_canonical_points_of_large_order() {
    let wrong = misjudged(|h, keys| {
        let alice = h.cell.member(0).clone();
        let action = Action::RotateKeys {
            subject: alice.id,
            new_keys: keys,
            consent: Consent::Subject,
        };
        h.submit(&alice, action)
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_fork_refuses_keys_that_are_not_canonical_points_of_large_order() {
    let wrong = misjudged(|h, keys| {
        let parent = h.cell.member(0).clone();
        let action = Action::ForkPassport {
            controller_keys: keys,
        };
        h.submit(&parent, action)
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn genesis_refuses_keys_that_are_not_canonical_points_of_large_order() {
    let mut wrong = Vec::new();
    for (case, keys, error) in refused_key_sets() {
        let mut genesis = DevCell::new(21, DevCellConfig::default()).genesis;
        genesis.passports[5].controller_keys = keys;
        let outcome = Ledger::open(MemoryStorage::new())
            .unwrap()
            .init_genesis(&genesis);
        let expected = GenesisError::InvalidControllerKeys { index: 5, error };
        if outcome != Err(LedgerError::Genesis(expected)) {
            wrong.push(format!("{case}: {outcome:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
