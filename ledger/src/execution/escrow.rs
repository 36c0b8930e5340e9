//! Escrows: value held for a payee until the payer (or the arbiter) releases it, the arbiter
//! (or a jury, `juries`) settles it after a dispute, or it returns to the payer after expiry.

use super::context::{
    debit, ensure_active, ensure_can_receive, ensure_positive, Context, Failure, Outcome,
};
use crate::error::TxError;
use crate::ids::{Amount, EscrowId, Height, PassportId};
use crate::state::{Escrow, EscrowStatus, StateKey};

impl Context<'_, '_> {
    pub(super) fn escrow_create(
        &mut self,
        payee: &PassportId,
        amount: Amount,
        arbiter: &Option<PassportId>,
        release_height: Height,
        expiry_height: Height,
    ) -> Outcome {
        ensure_positive(amount)?;
        if expiry_height <= self.height || release_height > expiry_height {
            return Err(TxError::InvalidEscrowHeights {
                release_height,
                expiry_height,
                height: self.height,
            }
            .into());
        }
        ensure_can_receive(&self.passport(payee)?)?;
        if let Some(arbiter) = arbiter {
            ensure_active(&self.passport(arbiter)?)?;
        }
        let mut payer = self.passport(self.sender())?;
        debit(&mut payer, amount)?;
        self.put_passport(&payer);
        let id = EscrowId::derive(self.cell.cell, self.sender(), self.body().nonce);
        let escrow = Escrow {
            id,
            payer: payer.id,
            payee: *payee,
            amount,
            arbiter: *arbiter,
            release_height,
            expiry_height,
            status: EscrowStatus::Open,
        };
        self.state.put(StateKey::Escrow(id), &escrow);
        Ok(())
    }

    pub(super) fn open_escrow(
        &self,
        id: &EscrowId,
        required: EscrowStatus,
        description: &'static str,
    ) -> Result<Escrow, Failure> {
        let escrow: Escrow = self
            .state
            .get(&StateKey::Escrow(*id))?
            .ok_or(TxError::UnknownEscrow(*id))?;
        if escrow.status != required {
            return Err(TxError::EscrowWrongState {
                status: escrow.status,
                required: description,
            }
            .into());
        }
        Ok(escrow)
    }

    /// Pays out a held escrow and records how it ended.
    pub(super) fn settle(
        &mut self,
        mut escrow: Escrow,
        status: EscrowStatus,
        to_payee: Amount,
        to_payer: Amount,
    ) -> Outcome {
        escrow.status = status;
        self.state.put(StateKey::Escrow(escrow.id), &escrow);
        if to_payee > 0 {
            self.credit_passport(&escrow.payee, to_payee)?;
        }
        if to_payer > 0 {
            self.credit_passport(&escrow.payer, to_payer)?;
        }
        Ok(())
    }

    pub(super) fn escrow_release(&mut self, id: &EscrowId) -> Outcome {
        let escrow = self.open_escrow(id, EscrowStatus::Open, "open")?;
        if *self.sender() != escrow.payer && Some(*self.sender()) != escrow.arbiter {
            return Err(TxError::NotAuthorized(
                "only the payer or the arbiter can release an escrow",
            )
            .into());
        }
        if self.height < escrow.release_height {
            return Err(TxError::EscrowNotReleasable {
                release_height: escrow.release_height,
            }
            .into());
        }
        let amount = escrow.amount;
        self.settle(escrow, EscrowStatus::Released, amount, 0)
    }

    pub(super) fn escrow_dispute(&mut self, id: &EscrowId) -> Outcome {
        let mut escrow = self.open_escrow(id, EscrowStatus::Open, "open")?;
        if *self.sender() != escrow.payer && *self.sender() != escrow.payee {
            return Err(TxError::NotAuthorized(
                "only the payer or the payee can dispute an escrow",
            )
            .into());
        }
        let Some(arbiter) = escrow.arbiter else {
            return Err(TxError::EscrowHasNoArbiter.into());
        };
        ensure_active(&self.passport(&arbiter)?)?;
        if self.height >= escrow.expiry_height {
            return Err(TxError::EscrowWrongState {
                status: escrow.status,
                required: "open and not expired",
            }
            .into());
        }
        escrow.status = EscrowStatus::Disputed;
        self.state.put(StateKey::Escrow(escrow.id), &escrow);
        Ok(())
    }

    pub(super) fn escrow_resolve(
        &mut self,
        id: &EscrowId,
        to_payee: Amount,
        to_payer: Amount,
    ) -> Outcome {
        let escrow = self.open_escrow(id, EscrowStatus::Disputed, "disputed")?;
        if Some(*self.sender()) != escrow.arbiter {
            return Err(TxError::NotAuthorized("only the escrow's arbiter can resolve it").into());
        }
        let split = to_payee
            .checked_add(to_payer)
            .ok_or(TxError::AmountOverflow)?;
        if split != escrow.amount {
            return Err(TxError::ResolutionMismatch {
                split,
                held: escrow.amount,
            }
            .into());
        }
        self.settle(escrow, EscrowStatus::Resolved, to_payee, to_payer)
    }

    /// Returns an expired escrow to its payer. Any party may send it (the money can only go
    /// back to the payer), so an escrow cannot be stranded by a payer who has left. A disputed
    /// escrow is refundable only once its arbiter has let `dispute_timeout` blocks pass after
    /// expiry without resolving it.
    pub(super) fn escrow_refund(&mut self, id: &EscrowId) -> Outcome {
        let escrow: Escrow = self
            .state
            .get(&StateKey::Escrow(*id))?
            .ok_or(TxError::UnknownEscrow(*id))?;
        let refundable_from = match escrow.status {
            EscrowStatus::Open => escrow.expiry_height,
            EscrowStatus::Disputed => escrow
                .expiry_height
                .saturating_add(self.cell.params.dispute_timeout),
            status => {
                return Err(TxError::EscrowWrongState {
                    status,
                    required: "open or disputed",
                }
                .into())
            }
        };
        let sender = Some(*self.sender());
        if sender != Some(escrow.payer) && sender != Some(escrow.payee) && sender != escrow.arbiter
        {
            return Err(TxError::NotAuthorized("only a party to the escrow can refund it").into());
        }
        if self.height < refundable_from {
            return Err(TxError::EscrowNotExpired {
                expiry_height: refundable_from,
            }
            .into());
        }
        let amount = escrow.amount;
        self.settle(escrow, EscrowStatus::Refunded, 0, amount)
    }
}
