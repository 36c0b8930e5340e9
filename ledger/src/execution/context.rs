//! What every rule works with: the `Context` of one transaction (its state, its cell, its
//! block height, its body), how a rule fails, and the checks and value moves rules share.
//!
//! **Conservation.** Value only moves: every debit has an equal credit (balance, bond,
//! unbonding, escrow or treasury) in the same transaction, with checked arithmetic. Passport
//! balances change only through `debit` and `credit`, the treasury only through
//! `Context::pay_treasury`; `ledger::SupplyAudit` checks the sum after every block in debug
//! builds.

use super::overlay::Overlay;
use crate::error::TxError;
use crate::ids::{Amount, Height, PassportId};
use crate::state::{Bond, CellInfo, Passport, PassportStatus, StateKey, Treasury};
use crate::storage::StorageError;
use crate::transaction::TransactionBody;

/// Why a transaction did not apply: a rule it broke, or state that could not be read.
pub(crate) enum Failure {
    Rejected(TxError),
    Storage(StorageError),
}

impl From<TxError> for Failure {
    fn from(error: TxError) -> Self {
        Failure::Rejected(error)
    }
}

impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Self {
        Failure::Storage(error)
    }
}

pub(super) type Outcome = Result<(), Failure>;

/// The state a transaction's rules see, with the facts of its block.
pub(super) struct Context<'s, 'a> {
    pub(super) state: &'s mut Overlay<'a>,
    pub(super) cell: &'s CellInfo,
    pub(super) height: Height,
    /// The transaction's body; `None` when the rules run for the block itself (a process
    /// executing at its deadline), which no rule about a sender is asked to do.
    pub(super) body: Option<&'s TransactionBody>,
}

pub(super) fn ensure_active(passport: &Passport) -> Result<(), TxError> {
    if passport.status == PassportStatus::Active {
        Ok(())
    } else {
        Err(TxError::PassportNotActive {
            passport: passport.id,
            status: passport.status,
        })
    }
}

/// A passport that has exited or been revoked can no longer be a counterparty.
pub(super) fn ensure_can_receive(passport: &Passport) -> Result<(), TxError> {
    match passport.status {
        PassportStatus::Active | PassportStatus::Suspended => Ok(()),
        status => Err(TxError::PassportNotActive {
            passport: passport.id,
            status,
        }),
    }
}

pub(super) fn ensure_positive(amount: Amount) -> Result<(), TxError> {
    if amount == 0 {
        Err(TxError::ZeroAmount)
    } else {
        Ok(())
    }
}

pub(super) fn debit(passport: &mut Passport, amount: Amount) -> Result<(), TxError> {
    passport.balance =
        passport
            .balance
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBalance {
                needed: amount,
                available: passport.balance,
            })?;
    Ok(())
}

fn credit(passport: &mut Passport, amount: Amount) -> Result<(), TxError> {
    passport.balance = passport
        .balance
        .checked_add(amount)
        .ok_or(TxError::AmountOverflow)?;
    Ok(())
}

impl<'s> Context<'s, '_> {
    pub(super) fn body(&self) -> &'s TransactionBody {
        self.body
            .expect("only a transaction's rules ask for its body or sender")
    }

    pub(super) fn sender(&self) -> &'s PassportId {
        &self.body().sender
    }

    pub(super) fn passport(&self, id: &PassportId) -> Result<Passport, Failure> {
        Ok(self
            .state
            .get(&StateKey::Passport(*id))?
            .ok_or(TxError::UnknownPassport(*id))?)
    }

    pub(super) fn put_passport(&mut self, passport: &Passport) {
        self.state.put(StateKey::Passport(passport.id), passport);
    }

    pub(super) fn bond_of(&self, id: &PassportId) -> Result<Bond, Failure> {
        Ok(self.state.get(&StateKey::Bond(*id))?.unwrap_or_default())
    }

    pub(super) fn pay_treasury(&mut self, amount: Amount) -> Outcome {
        let mut treasury: Treasury = self.state.require(&StateKey::Treasury)?;
        treasury.balance = treasury
            .balance
            .checked_add(amount)
            .ok_or(TxError::AmountOverflow)?;
        self.state.put(StateKey::Treasury, &treasury);
        Ok(())
    }

    pub(super) fn credit_passport(&mut self, id: &PassportId, amount: Amount) -> Outcome {
        let mut passport = self.passport(id)?;
        credit(&mut passport, amount)?;
        self.put_passport(&passport);
        Ok(())
    }
}
