//! A cell's genesis: its identity, rules, first passports, validators and arbiter panel.
//! Genesis files are JSON with keys in hex; passport ids are derived, never listed:
//! the `i`-th passport is `PassportId::genesis(cell, i)`.

use crate::controller_keys::{self, ControllerKeysError};
use crate::crypto::bls::{BlsPublicKey, BlsSignature};
use crate::crypto::ed25519::{Ed25519Error, Ed25519PublicKey};
use crate::execution::{add_validator, adjust_electorate, elect_validators, Overlay};
use crate::execution::{StateChanges, StateReader};
use crate::governance::{Beacon, GovernanceRules, Membership, RulesError};
use crate::ids::{Amount, CellId, FederationId, PassportId};
use crate::state::*;
use crate::storage::StorageError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub federation: FederationId,
    pub cell: CellId,
    #[serde(default)]
    pub params: CellParams,
    pub passports: Vec<GenesisPassport>,
    #[serde(default)]
    pub validators: Vec<GenesisValidator>,
    #[serde(default)]
    pub arbiters: ArbiterPanel,
    /// The chamber rules and guardians governance processes start under.
    #[serde(default)]
    pub governance: GovernanceRules,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisPassport {
    pub controller_keys: Vec<Ed25519PublicKey>,
    pub tier: u8,
    #[serde(default)]
    pub balance: Amount,
    #[serde(default)]
    pub bonded: Amount,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    pub passport: PassportId,
    pub consensus_key: Ed25519PublicKey,
    pub bls_key: BlsPublicKey,
    pub bls_proof_of_possession: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("passport #{index}: {reason}")]
    InvalidPassport { index: usize, reason: &'static str },
    #[error("passport #{index}: {error}")]
    InvalidControllerKeys {
        index: usize,
        error: ControllerKeysError,
    },
    /// `error` is `MalformedKey` (not a point), `WeakKey` (small order) or `NonCanonicalKey`.
    #[error("validator {passport}: consensus key: {error}")]
    InvalidConsensusKey {
        passport: PassportId,
        error: Ed25519Error,
    },
    #[error("validator {passport}: {reason}")]
    InvalidValidator {
        passport: PassportId,
        reason: String,
    },
    #[error("arbiter panel: {0}")]
    InvalidArbiters(&'static str),
    #[error("no validator holds power: the cell could never decide a block")]
    NoValidatorPower,
    #[error("total supply overflows")]
    SupplyOverflow,
    #[error("cell parameters: {0}")]
    InvalidParams(&'static str),
    #[error("governance rules: {0}")]
    InvalidGovernance(&'static str),
}

impl Genesis {
    pub fn passport_id(&self, index: usize) -> PassportId {
        PassportId::genesis(self.cell, index as u64)
    }

    /// The initial state, after checking every rule a transaction would have to pass: the
    /// parameters, passports, validators and panel are checked, in that order, before anything
    /// is written; that the first validator set holds power is checked once it is elected.
    pub(crate) fn initial_state(&self) -> Result<StateChanges, GenesisError> {
        self.validate_params()?;
        let supply = self.check_passports()?;
        self.check_validators()?;
        self.check_arbiters()?;
        self.check_governance()?;
        self.build_state(supply)
    }

    /// Where `passport` is in the passport list, if it is a genesis passport.
    fn index_of(&self, passport: &PassportId) -> Option<usize> {
        (0..self.passports.len()).find(|index| self.passport_id(*index) == *passport)
    }
}

/// The checks: what a transaction creating the same objects would have to pass.
impl Genesis {
    fn validate_params(&self) -> Result<(), GenesisError> {
        let params = &self.params;
        let rules: [(bool, &'static str); 4] = [
            (
                params.double_vote_slash_bps <= 10_000,
                "double_vote_slash_bps is above 10,000 (100%)",
            ),
            (
                params.unbonding_delay > 0,
                "unbonding_delay must be positive, or stake could leave before evidence lands",
            ),
            (params.epoch_length > 0, "epoch_length must be positive"),
            (
                params.max_emergency_blocks > 0,
                "max_emergency_blocks must be positive",
            ),
        ];
        match rules.into_iter().find(|(holds, _)| !holds) {
            Some((_, reason)) => Err(GenesisError::InvalidParams(reason)),
            None => Ok(()),
        }
    }

    /// Each passport has controller keys issuance would accept and a tier that exists, and
    /// balances and bonds sum without overflow. Returns that sum, the total supply.
    fn check_passports(&self) -> Result<Amount, GenesisError> {
        let mut supply: Amount = 0;
        for (index, entry) in self.passports.iter().enumerate() {
            controller_keys::validate(&entry.controller_keys)
                .map_err(|error| GenesisError::InvalidControllerKeys { index, error })?;
            if entry.tier > MAX_TIER {
                return Err(GenesisError::InvalidPassport {
                    index,
                    reason: "tier is above 4",
                });
            }
            supply = supply
                .checked_add(entry.balance)
                .and_then(|sum| sum.checked_add(entry.bonded))
                .ok_or(GenesisError::SupplyOverflow)?;
        }
        Ok(supply)
    }

    /// Each validator is a genesis passport bonded at the validator minimum, with keys
    /// registration would accept; no passport, consensus key or BLS key is listed twice.
    fn check_validators(&self) -> Result<(), GenesisError> {
        let mut consensus_keys = BTreeSet::new();
        let mut bls_keys = BTreeSet::new();
        let mut validator_passports = BTreeSet::new();
        for validator in &self.validators {
            let invalid = |reason: String| GenesisError::InvalidValidator {
                passport: validator.passport,
                reason,
            };
            let Some(index) = self.index_of(&validator.passport) else {
                return Err(invalid("not a genesis passport".into()));
            };
            if self.passports[index].bonded < self.params.min_validator_bond {
                return Err(invalid("bond is below the validator minimum".into()));
            }
            // The rule registration applies: canonical, so that the duplicate check below
            // compares points, and of large order, so that its votes can verify.
            validator
                .consensus_key
                .validate_canonical()
                .map_err(|error| GenesisError::InvalidConsensusKey {
                    passport: validator.passport,
                    error,
                })?;
            if !consensus_keys.insert(validator.consensus_key) {
                return Err(invalid("consensus key is used twice".into()));
            }
            if !bls_keys.insert(validator.bls_key) {
                return Err(invalid("BLS key is used twice".into()));
            }
            if !validator_passports.insert(validator.passport) {
                return Err(invalid("listed twice".into()));
            }
            validator
                .bls_key
                .verify_possession(&validator.bls_proof_of_possession)
                .map_err(|error| invalid(error.to_string()))?;
        }
        Ok(())
    }

    /// The panel's members are distinct genesis passports and its threshold is between 1 and
    /// their number (0 only for an empty panel).
    fn check_arbiters(&self) -> Result<(), GenesisError> {
        let members: BTreeSet<_> = self.arbiters.members.iter().collect();
        if members.len() != self.arbiters.members.len() {
            return Err(GenesisError::InvalidArbiters("a member is listed twice"));
        }
        if members.iter().any(|member| self.index_of(member).is_none()) {
            return Err(GenesisError::InvalidArbiters(
                "a member is not a genesis passport",
            ));
        }
        if self.arbiters.threshold as usize > members.len()
            || (self.arbiters.threshold == 0 && !members.is_empty())
        {
            return Err(GenesisError::InvalidArbiters(
                "threshold must be between 1 and the number of members",
            ));
        }
        Ok(())
    }
}

impl Genesis {
    /// The rules are well formed and every seat is a genesis passport.
    fn check_governance(&self) -> Result<(), GenesisError> {
        self.governance
            .validate()
            .map_err(|RulesError::Invalid(reason)| GenesisError::InvalidGovernance(reason))?;
        for chamber in &self.governance.chambers {
            if let Membership::Seats(seats) = &chamber.membership {
                if seats.iter().any(|seat| self.index_of(seat).is_none()) {
                    return Err(GenesisError::InvalidGovernance(
                        "a seat is not a genesis passport",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Building the state of a checked genesis.
impl Genesis {
    fn build_state(&self, supply: Amount) -> Result<StateChanges, GenesisError> {
        let empty = EmptyState;
        let mut state = Overlay::new(&empty, None);
        self.put_passports(&mut state);
        self.put_validators(&mut state)?;
        self.put_first_validator_set(&mut state)?;
        state.put(StateKey::ArbiterPanel, &self.arbiters);
        state.put(StateKey::GovernanceRules, &self.governance);
        state.put(
            StateKey::Beacon,
            &Beacon::genesis(self.federation, self.cell),
        );
        state.put(StateKey::Treasury, &Treasury::default());
        state.put(
            StateKey::CellMode,
            &CellModeState {
                mode: CellMode::Normal,
                expires_at: None,
                sequence: 0,
            },
        );
        state.put(
            StateKey::Cell,
            &CellInfo {
                federation: self.federation,
                cell: self.cell,
                total_supply: supply,
                params: self.params.clone(),
            },
        );
        Ok(state.into_changes())
    }

    /// Each passport at its derived id, active at height 0, with its balance and its bond.
    fn put_passports(&self, state: &mut Overlay<'_>) {
        for (index, entry) in self.passports.iter().enumerate() {
            let id = self.passport_id(index);
            let passport = Passport {
                balance: entry.balance,
                ..Passport::new(id, entry.controller_keys.clone(), self.cell, entry.tier, 0)
            };
            state.put(StateKey::Passport(id), &passport);
            adjust_electorate(state, entry.tier, 1, i128::from(entry.bonded))
                .expect("genesis state is in memory and tiers were checked");
            if entry.bonded > 0 {
                state.put(
                    StateKey::Bond(id),
                    &Bond {
                        bonded: entry.bonded,
                        unbonding: Vec::new(),
                    },
                );
            }
        }
    }

    /// Each validator registered at height 0, as `RegisterValidator` would register it.
    fn put_validators(&self, state: &mut Overlay<'_>) -> Result<(), GenesisError> {
        for validator in &self.validators {
            let record = Validator {
                passport: validator.passport,
                consensus_key: validator.consensus_key,
                bls_key: validator.bls_key,
                registered_at: 0,
            };
            add_validator(state, &record).map_err(|error| GenesisError::InvalidValidator {
                passport: validator.passport,
                reason: error.to_string(),
            })?;
        }
        Ok(())
    }

    /// The set for epoch 1, elected as every later one is; refused if it holds no power, since
    /// the cell could then never decide a block.
    fn put_first_validator_set(&self, state: &mut Overlay<'_>) -> Result<(), GenesisError> {
        let active = elect_validators(state, &self.params, 1).map_err(|error| {
            GenesisError::InvalidValidator {
                passport: PassportId([0; 32]),
                reason: error.to_string(),
            }
        })?;
        if active.total_power() == 0 {
            return Err(GenesisError::NoValidatorPower);
        }
        state.put(StateKey::ActiveValidators, &active);
        Ok(())
    }
}

struct EmptyState;

impl StateReader for EmptyState {
    fn read(&self, _key: &StateKey) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
}
