//! What every transaction passes before its action runs, in this order: it is addressed to
//! this federation and cell; its sender is a known passport, one of whose controller keys
//! signed it (the signature itself is verified before execution); the sender is active; its
//! nonce is exactly the sender's next; its fee reaches the cell minimum; the cell's mode accepts
//! its action. Passing costs the sender the fee, paid to the treasury, and its nonce.

use super::context::{debit, ensure_active, Context, Outcome};
use super::mode::mode_permits;
use crate::error::TxError;
use crate::state::{CellInfo, CellModeState, Passport, StateKey};
use crate::transaction::{SignedTransaction, TransactionBody};

pub(super) fn admit(ctx: &mut Context<'_, '_>, tx: &SignedTransaction) -> Outcome {
    let body = ctx.body();
    check_addressing(body, ctx.cell)?;
    let mut sender = ctx.passport(&body.sender)?;
    check_sender(&sender, tx)?;
    check_fee(body, ctx.cell)?;
    check_mode(ctx)?;
    debit(&mut sender, body.fee)?;
    sender.nonce += 1;
    ctx.put_passport(&sender);
    ctx.pay_treasury(body.fee)
}

/// The signed bytes bind the federation and the cell, so a transaction cannot be replayed in
/// another cell.
fn check_addressing(body: &TransactionBody, cell: &CellInfo) -> Result<(), TxError> {
    if body.federation != cell.federation {
        return Err(TxError::WrongFederation {
            expected: cell.federation,
            got: body.federation,
        });
    }
    if body.cell != cell.cell {
        return Err(TxError::WrongCell {
            expected: cell.cell,
            got: body.cell,
        });
    }
    Ok(())
}

/// Nonces are exactly sequential, so a transaction applies at most once and in its sender's
/// order.
fn check_sender(sender: &Passport, tx: &SignedTransaction) -> Result<(), TxError> {
    if !sender.controller_keys.contains(&tx.signer) {
        return Err(TxError::SignerNotController(sender.id));
    }
    ensure_active(sender)?;
    let nonce = tx.body.nonce;
    if nonce < sender.nonce {
        return Err(TxError::StaleNonce {
            expected: sender.nonce,
            got: nonce,
        });
    }
    if nonce > sender.nonce {
        return Err(TxError::FutureNonce {
            expected: sender.nonce,
            got: nonce,
        });
    }
    Ok(())
}

fn check_fee(body: &TransactionBody, cell: &CellInfo) -> Result<(), TxError> {
    if body.fee < cell.params.min_fee {
        return Err(TxError::FeeTooLow {
            minimum: cell.params.min_fee,
            offered: body.fee,
        });
    }
    Ok(())
}

fn check_mode(ctx: &Context<'_, '_>) -> Outcome {
    let mode: CellModeState = ctx.state.require(&StateKey::CellMode)?;
    let action = &ctx.body().action;
    if !mode_permits(mode.mode, action, &ctx.cell.params, ctx.height) {
        return Err(TxError::ModeForbids {
            mode: mode.mode,
            action: action.kind(),
        }
        .into());
    }
    Ok(())
}
