//! Controller keys enter state only as canonical encodings of ed25519 points of large order:
//! at issuance, rotation, fork and genesis alike.

mod common;

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::controller_keys::ControllerKeysError;
use charter_ledger::crypto::ed25519::{Ed25519Error, Ed25519PublicKey};
use charter_ledger::genesis::GenesisError;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::transaction::Consent;
use charter_ledger::*;
use common::encodings::{all_ones, encode_y, one_point_two_encodings};
use common::{keypair, Harness};

/// Key sets no passport may hold, each with a line saying why and the reason it is refused.
fn refused_key_sets() -> Vec<(&'static str, Vec<Ed25519PublicKey>, ControllerKeysError)> {
    let (canonical, non_canonical) = one_point_two_encodings();
    let invalid = |index, error| ControllerKeysError::InvalidKey { index, error };
    let key = keypair(1).public_key();
    vec![
        (
            "0xff × 32",
            vec![all_ones()],
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
