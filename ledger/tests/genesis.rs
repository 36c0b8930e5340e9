//! A genesis is input like any other: every rule a transaction would have to pass is checked,
//! and a bad genesis is refused with a typed reason.

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use charter_ledger::genesis::GenesisError;
use charter_ledger::state::{CellInfo, StateKey};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::*;

fn init(genesis: &Genesis) -> Result<StateRoot, LedgerError> {
    Ledger::open(MemoryStorage::new())
        .unwrap()
        .init_genesis(genesis)
}

fn dev_genesis() -> Genesis {
    DevCell::new(21, DevCellConfig::default()).genesis
}

#[test]
fn example_genesis_in_config_initializes_a_cell() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/genesis.example.json"
    ))
    .unwrap();
    let genesis: Genesis = serde_json::from_str(&text).unwrap();
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&genesis).unwrap();
    let cell: CellInfo = ledger.get(&StateKey::Cell).unwrap().unwrap();
    assert_eq!(cell.total_supply, 11 * 1_000_000 + 4 * 10_000 + 7 * 100);
    assert_eq!(ledger.active_validators().unwrap().members.len(), 4);
    assert!(ledger.audit_supply().unwrap().is_conserved());
}

#[test]
fn genesis_is_deterministic() {
    assert_eq!(init(&dev_genesis()).unwrap(), init(&dev_genesis()).unwrap());
}

#[test]
fn validator_without_a_valid_proof_of_possession_is_refused() {
    let mut genesis = dev_genesis();
    genesis.validators[1].bls_proof_of_possession = BlsSecretKey::key_gen(&[9; 32], b"")
        .unwrap()
        .prove_possession();
    assert!(matches!(
        init(&genesis),
        Err(LedgerError::Genesis(GenesisError::InvalidValidator { .. }))
    ));
}

#[test]
fn validator_rules_are_checked() {
    let mut duplicate_key = dev_genesis();
    duplicate_key.validators[1].consensus_key = duplicate_key.validators[0].consensus_key;
    let mut unknown = dev_genesis();
    unknown.validators[0].passport = PassportId([1; 32]);
    let mut underbonded = dev_genesis();
    underbonded.passports[0].bonded = 999;
    for genesis in [duplicate_key, unknown, underbonded] {
        assert!(matches!(
            init(&genesis),
            Err(LedgerError::Genesis(GenesisError::InvalidValidator { .. }))
        ));
    }
}

#[test]
fn passport_and_panel_rules_are_checked() {
    let mut no_keys = dev_genesis();
    no_keys.passports[5].controller_keys.clear();
    let mut bad_key = dev_genesis();
    bad_key.passports[5].controller_keys = vec![Ed25519PublicKey([2; 32])];
    for genesis in [no_keys, bad_key] {
        assert!(matches!(
            init(&genesis),
            Err(LedgerError::Genesis(GenesisError::InvalidControllerKeys {
                index: 5,
                ..
            }))
        ));
    }
    let mut tier = dev_genesis();
    tier.passports[5].tier = 5;
    assert!(matches!(
        init(&tier),
        Err(LedgerError::Genesis(GenesisError::InvalidPassport {
            index: 5,
            ..
        }))
    ));
    let mut threshold = dev_genesis();
    threshold.arbiters.threshold = 4;
    let mut outsider = dev_genesis();
    outsider.arbiters.members[0] = PassportId([1; 32]);
    for genesis in [threshold, outsider] {
        assert!(matches!(
            init(&genesis),
            Err(LedgerError::Genesis(GenesisError::InvalidArbiters(_)))
        ));
    }
    let mut overflow = dev_genesis();
    overflow.passports[0].balance = u64::MAX;
    assert_eq!(
        init(&overflow),
        Err(LedgerError::Genesis(GenesisError::SupplyOverflow))
    );
}

#[test]
fn genesis_files_reject_unknown_fields() {
    let mut value = serde_json::to_value(dev_genesis()).unwrap();
    value["surprise"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Genesis>(value).is_err());
}

#[test]
fn cell_parameters_are_checked() {
    let mut slash_above_stake = dev_genesis();
    slash_above_stake.params.double_vote_slash_bps = 10_001;
    let mut instant_unbonding = dev_genesis();
    instant_unbonding.params.unbonding_delay = 0;
    let mut no_epochs = dev_genesis();
    no_epochs.params.epoch_length = 0;
    for genesis in [slash_above_stake, instant_unbonding, no_epochs] {
        assert!(matches!(
            init(&genesis),
            Err(LedgerError::Genesis(GenesisError::InvalidParams(_)))
        ));
    }
}

#[test]
fn a_validator_or_bls_key_listed_twice_is_refused() {
    let mut twice = dev_genesis();
    let mut copy = twice.validators[0].clone();
    copy.consensus_key =
        charter_ledger::crypto::ed25519::Ed25519Keypair::from_seed([5; 32]).public_key();
    copy.bls_key = twice.validators[1].bls_key;
    copy.bls_proof_of_possession = twice.validators[1].bls_proof_of_possession;
    twice.validators.push(copy.clone());
    assert!(matches!(
        init(&twice),
        Err(LedgerError::Genesis(GenesisError::InvalidValidator { .. }))
    ));
    let mut same_passport = dev_genesis();
    let bls = BlsSecretKey::key_gen(&[6; 32], b"").unwrap();
    copy.bls_key = bls.public_key();
    copy.bls_proof_of_possession = bls.prove_possession();
    same_passport.validators.push(copy);
    assert!(matches!(
        init(&same_passport),
        Err(LedgerError::Genesis(GenesisError::InvalidValidator { .. }))
    ));
}

#[test]
fn a_dev_cells_minor_validators_bond_the_minimum_and_hold_that_power() {
    let config = DevCellConfig {
        minor_validators: 1,
        ..DevCellConfig::sized(CellId(0), 5, 4, None)
    };
    let (minimum, full) = (config.params.min_validator_bond, config.validator_bond);
    let genesis = DevCell::new(21, config).genesis;
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&genesis).unwrap();
    let members = ledger.active_validators().unwrap().members;
    let mut powers: Vec<Amount> = members.iter().map(|member| member.power).collect();
    powers.sort();
    assert_eq!(powers, vec![minimum, full, full, full, full]);
    let minor = members
        .iter()
        .find(|member| member.power == minimum)
        .unwrap();
    assert_eq!(minor.passport, genesis.passport_id(4), "the last validator");
}

/// A cell must start with a validator set that can decide its first block.
#[test]
fn a_genesis_without_validator_power_is_refused() {
    let mut no_validators = dev_genesis();
    no_validators.validators.clear();
    let mut no_power = dev_genesis();
    no_power.params.min_validator_bond = 0;
    for validator in &no_power.validators {
        let index = (0..no_power.passports.len())
            .find(|index| no_power.passport_id(*index) == validator.passport)
            .unwrap();
        no_power.passports[index].bonded = 0;
    }
    for genesis in [no_validators, no_power] {
        assert_eq!(
            init(&genesis),
            Err(LedgerError::Genesis(GenesisError::NoValidatorPower))
        );
    }
}
