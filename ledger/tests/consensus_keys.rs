//! Validator consensus keys enter state only as canonical encodings of ed25519 points of large
//! order, at registration and at genesis alike, so that "already registered" means "the same
//! point" and no validator holds power under a key nobody can sign with.

mod common;

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::{Ed25519Error, Ed25519PublicKey};
use charter_ledger::genesis::GenesisError;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::*;
use common::encodings::{all_ones, encode_y, one_point_two_encodings};
use common::{keypair, Harness};

/// A dev genesis whose first validator's consensus key is the canonical encoding of a point
/// that has a second encoding, and that canonical encoding.
fn genesis_holding_a_point_with_two_encodings() -> (Genesis, Ed25519PublicKey) {
    let (canonical, _) = one_point_two_encodings();
    let mut genesis = DevCell::new(7, DevCellConfig::default()).genesis;
    genesis.validators[0].consensus_key = canonical;
    (genesis, canonical)
}

/// Consensus keys no validator may hold while the genesis above is in force, each with a line
/// saying why and the reason it is refused.
fn refused_consensus_keys() -> Vec<(&'static str, Ed25519PublicKey, Ed25519Error)> {
    let (_, second_encoding) = one_point_two_encodings();
    vec![
        ("0xff × 32", all_ones(), Ed25519Error::NonCanonicalKey),
        (
            "the second encoding of validator 0's key",
            second_encoding,
            Ed25519Error::NonCanonicalKey,
        ),
        (
            "y = 2, not on the curve",
            Ed25519PublicKey(encode_y(2)),
            Ed25519Error::MalformedKey,
        ),
        (
            "the identity, of small order",
            Ed25519PublicKey(encode_y(1)),
            Ed25519Error::WeakKey,
        ),
    ]
}

/// A registration of `passport`'s keys with its consensus key replaced by `key`. The
/// signatures are over the original key, so only the key checks can decide the outcome.
fn registration_of(h: &Harness, passport: PassportId, key: Ed25519PublicKey) -> Action {
    let bls = BlsSecretKey::key_gen(&[52; 32], b"").unwrap();
    let Action::RegisterValidator(mut registration) =
        h.cell.registration(passport, &keypair(52), &bls)
    else {
        unreachable!("a registration")
    };
    registration.consensus_key = key;
    Action::RegisterValidator(registration)
}

#[test]
fn registration_refuses_consensus_keys_that_are_not_canonical_points_of_large_order() {
    let (genesis, canonical) = genesis_holding_a_point_with_two_encodings();
    let mut h = Harness::from_cell(DevCell {
        genesis,
        ..DevCell::new(7, DevCellConfig::default())
    });
    let bob = h.cell.member(1).clone();
    h.submit(&bob, Action::Bond { amount: 1_000 }).unwrap();
    let mut wrong = Vec::new();
    for (case, key, error) in refused_consensus_keys() {
        let outcome = h.submit(&bob, registration_of(&h, bob.id, key));
        if outcome != Err(TxError::InvalidConsensusKey(error)) {
            wrong.push(format!("{case}: {outcome:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(
        h.submit(&bob, registration_of(&h, bob.id, canonical)),
        Err(TxError::ConsensusKeyInUse),
        "the canonical encoding of a registered point is in use"
    );
    h.submit(&bob, registration_of(&h, bob.id, keypair(52).public_key()))
        .unwrap();
}

#[test]
fn genesis_refuses_consensus_keys_that_are_not_canonical_points_of_large_order() {
    let (base, _) = genesis_holding_a_point_with_two_encodings();
    let init = |genesis: &Genesis| {
        Ledger::open(MemoryStorage::new())
            .unwrap()
            .init_genesis(genesis)
    };
    init(&base).expect("a canonical key of large order is admitted");
    let mut wrong = Vec::new();
    for (case, key, error) in refused_consensus_keys() {
        let mut genesis = base.clone();
        genesis.validators[1].consensus_key = key;
        let expected = GenesisError::InvalidConsensusKey {
            passport: genesis.validators[1].passport,
            error,
        };
        let outcome = init(&genesis);
        if outcome != Err(LedgerError::Genesis(expected)) {
            wrong.push(format!("{case}: {outcome:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
