//! Stake and the validator set: bonding, unbonding and withdrawing, validator registration,
//! and each epoch's election.

use super::context::{debit, ensure_positive, Context, Outcome};
use super::overlay::Overlay;
use crate::error::TxError;
use crate::evidence::RegistrationTerms;
use crate::ids::{Amount, PassportId};
use crate::state::*;
use crate::storage::StorageError;
use crate::transaction::ValidatorRegistration;

impl Context<'_, '_> {
    pub(super) fn bond(&mut self, amount: Amount) -> Outcome {
        ensure_positive(amount)?;
        let mut passport = self.passport(self.sender())?;
        debit(&mut passport, amount)?;
        self.put_passport(&passport);
        self.electorate_restakes(&passport, amount, 0)?;
        let mut bond = self.bond_of(self.sender())?;
        bond.bonded = bond
            .bonded
            .checked_add(amount)
            .ok_or(TxError::AmountOverflow)?;
        self.state.put(StateKey::Bond(*self.sender()), &bond);
        Ok(())
    }

    pub(super) fn unbond(&mut self, amount: Amount) -> Outcome {
        ensure_positive(amount)?;
        let mut bond = self.bond_of(self.sender())?;
        bond.bonded = bond
            .bonded
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBond {
                needed: amount,
                available: bond.bonded,
            })?;
        let release_height = self.height.saturating_add(self.cell.params.unbonding_delay);
        bond.unbonding.push(UnbondingEntry {
            amount,
            release_height,
        });
        self.state.put(StateKey::Bond(*self.sender()), &bond);
        let passport = self.passport(self.sender())?;
        self.electorate_restakes(&passport, 0, amount)
    }

    pub(super) fn withdraw(&mut self) -> Outcome {
        self.ensure_no_slash_case(self.sender())?;
        let mut bond = self.bond_of(self.sender())?;
        let height = self.height;
        let (matured, pending): (Vec<_>, Vec<_>) = bond
            .unbonding
            .into_iter()
            .partition(|entry| entry.release_height <= height);
        if matured.is_empty() {
            return Err(TxError::NothingToWithdraw.into());
        }
        bond.unbonding = pending;
        let total = matured
            .iter()
            .try_fold(0u64, |sum, entry| sum.checked_add(entry.amount))
            .ok_or(TxError::AmountOverflow)?;
        self.state.put(StateKey::Bond(*self.sender()), &bond);
        self.credit_passport(self.sender(), total)
    }

    /// Both keys must sign the terms binding them to the sender, so that nobody can register
    /// (or block, by registering first) keys they do not hold.
    pub(super) fn register_validator(&mut self, registration: &ValidatorRegistration) -> Outcome {
        let sender = *self.sender();
        if self
            .state
            .get::<Validator>(&StateKey::Validator(sender))?
            .is_some()
        {
            return Err(TxError::AlreadyValidator(sender).into());
        }
        let bonded = self.bond_of(&sender)?.bonded;
        let minimum = self.cell.params.min_validator_bond;
        if bonded < minimum {
            return Err(TxError::InsufficientBond {
                needed: minimum,
                available: bonded,
            }
            .into());
        }
        self.check_registration_keys(sender, registration)?;
        let validator = Validator {
            passport: sender,
            consensus_key: registration.consensus_key,
            bls_key: registration.bls_key,
            registered_at: self.height,
        };
        add_validator(self.state, &validator)?;
        Ok(())
    }

    /// The keys are valid (the consensus key the canonical encoding of a point of large order,
    /// as controller keys are), registered to nobody yet, and both signed the terms binding
    /// them to `passport`.
    fn check_registration_keys(
        &self,
        passport: PassportId,
        registration: &ValidatorRegistration,
    ) -> Outcome {
        let ValidatorRegistration {
            consensus_key,
            bls_key,
            bls_proof_of_possession: proof,
            consensus_signature,
            bls_signature,
        } = registration;
        consensus_key
            .validate_canonical()
            .map_err(TxError::InvalidConsensusKey)?;
        // Only canonical encodings get here, so a point already registered is found under the
        // one byte string it can have.
        if self
            .state
            .get::<PassportId>(&StateKey::ConsensusKey(*consensus_key))?
            .is_some()
        {
            return Err(TxError::ConsensusKeyInUse.into());
        }
        bls_key
            .verify_possession(proof)
            .map_err(TxError::InvalidBlsKey)?;
        if self
            .state
            .get::<PassportId>(&StateKey::BlsKey(*bls_key))?
            .is_some()
        {
            return Err(TxError::BlsKeyInUse.into());
        }
        let terms = RegistrationTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            passport,
            consensus_key: *consensus_key,
            bls_key: *bls_key,
        }
        .signing_bytes();
        consensus_key
            .verify(&terms, consensus_signature)
            .map_err(TxError::InvalidConsensusKey)?;
        bls_key
            .verify(&terms, bls_signature)
            .map_err(TxError::InvalidBlsKey)?;
        Ok(())
    }
}

/// Registers a validator: its record, its consensus-key index entry and its place in the
/// sorted validator index. Shared by genesis and `RegisterValidator`.
pub(crate) fn add_validator(
    state: &mut Overlay<'_>,
    validator: &Validator,
) -> Result<(), StorageError> {
    let mut index: Vec<PassportId> = state.get(&StateKey::ValidatorIndex)?.unwrap_or_default();
    if let Err(position) = index.binary_search(&validator.passport) {
        index.insert(position, validator.passport);
    }
    state.put(StateKey::ValidatorIndex, &index);
    state.put(
        StateKey::ConsensusKey(validator.consensus_key),
        &validator.passport,
    );
    state.put(StateKey::BlsKey(validator.bls_key), &validator.passport);
    state.put(StateKey::Validator(validator.passport), validator);
    Ok(())
}

/// The validator set for the epoch starting now: validators whose passport is active and whose
/// bond reaches the cell minimum, with their bond as power, in passport-id order.
pub(crate) fn elect_validators(
    state: &Overlay<'_>,
    params: &CellParams,
    epoch: u64,
) -> Result<ActiveValidators, StorageError> {
    let index: Vec<PassportId> = state.get(&StateKey::ValidatorIndex)?.unwrap_or_default();
    let mut members = Vec::with_capacity(index.len());
    for id in index {
        let validator: Validator = state.require(&StateKey::Validator(id))?;
        let passport: Passport = state.require(&StateKey::Passport(id))?;
        let power = state
            .get::<Bond>(&StateKey::Bond(id))?
            .unwrap_or_default()
            .bonded;
        if passport.status == PassportStatus::Active && power >= params.min_validator_bond {
            members.push(ActiveValidator {
                passport: id,
                consensus_key: validator.consensus_key,
                bls_key: validator.bls_key,
                power,
            });
        }
    }
    Ok(ActiveValidators {
        epoch,
        members,
        kept_from: None,
    })
}

/// The validator set for `epoch`, which starts after the block that ends the current one.
///
/// **A cell always has validators that can decide a block.** When the election finds no power
/// (every validator unbonded, exited, slashed below the minimum or sanctioned), the current set
/// is kept for `epoch`, with `kept_from` naming the epoch it was elected for, until an election
/// finds power again. Refusing what would empty the set cannot be the rule: slashes and
/// sanctions must apply whatever they leave, and refusing the last validator's unbonding would
/// lock its stake. Keeping the set moves no value and locks nothing: anyone who bonds the
/// minimum and registers ends it at the next boundary. Its cost is that the kept validators
/// decide blocks with no more stake at risk than they have left; `kept_from`, stored and
/// provable with the set, makes that visible.
pub(crate) fn next_validators(
    state: &Overlay<'_>,
    params: &CellParams,
    epoch: u64,
) -> Result<ActiveValidators, StorageError> {
    let elected = elect_validators(state, params, epoch)?;
    if elected.total_power() > 0 {
        return Ok(elected);
    }
    let current: ActiveValidators = state.require(&StateKey::ActiveValidators)?;
    Ok(ActiveValidators {
        epoch,
        kept_from: Some(current.kept_from.unwrap_or(current.epoch)),
        members: current.members,
    })
}
