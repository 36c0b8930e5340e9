//! Block execution: a pure function of (state view, height, transactions) to (state changes,
//! receipts). It reads state only through [`StateReader`] and writes nothing; the caller
//! commits the changes. No clocks, no randomness, no unordered iteration: every validator that
//! executes the same block on the same state gets the same changes.
//!
//! A transaction either applies completely or not at all: each one runs against its own
//! overlay, which is merged into the block's changes only when every rule passed.
//!
//! `envelope` holds the checks every transaction passes before its action; `dispatch` hands the
//! action to the rules of its domain (`passports`, `stake`, `discipline`, `escrow`,
//! `emergency`, and governance's `processes`, `delegation` and `juries`), each of which states the
//! doctrines it enforces; `context` is what they share. After a block's transactions,
//! `deadlines` moves on the governance processes due at its height (`tally`, `enactment`),
//! `verdicts` draws and closes the jury cases due (`juries` holds their transactions), and
//! the last block of an epoch elects the next validator set. Before the transactions,
//! `beacon` mixes the proposer's reveal into the cell's randomness.

mod beacon;
mod chambers;
mod context;
mod deadlines;
mod delegation;
mod discipline;
mod dispatch;
mod electorate;
mod emergency;
mod enactment;
mod envelope;
mod escrow;
mod juries;
mod mode;
mod overlay;
mod passports;
mod processes;
mod sorted_lists;
mod stake;
mod tally;
mod verdicts;
mod verified;

use crate::crypto::bls::BlsSignature;
pub(crate) use crate::crypto::ed25519::{Ed25519Error, KeyPoints};
use crate::error::TxError;
use crate::ids::{Height, TxId};
use crate::state::{CellInfo, CellMode, CellModeState, StateKey};
use crate::storage::StorageError;
use crate::transaction::SignedTransaction;
pub(crate) use electorate::adjust_electorate;
pub use mode::mode_permits;
pub(crate) use overlay::Overlay;
pub use overlay::{StateChanges, StateReader};
use stake::next_validators;
pub(crate) use stake::{add_validator, elect_validators};
pub use verified::VerifiedSignatures;

/// A transaction paired with the verdict on its signature.
#[derive(Clone, Debug)]
pub struct CheckedTransaction<'a> {
    pub transaction: &'a SignedTransaction,
    pub id: TxId,
    signature: Result<(), Ed25519Error>,
}

impl<'a> CheckedTransaction<'a> {
    /// Verifies every signature of a block in one batch (falling back to one-by-one only when
    /// the batch fails, to name which ones are bad).
    pub fn verify_all(transactions: &'a [SignedTransaction]) -> Vec<CheckedTransaction<'a>> {
        let all: Vec<&SignedTransaction> = transactions.iter().collect();
        (transactions
            .iter()
            .zip(batch_verdicts(&KeyPoints::default(), &all)))
        .map(|(transaction, signature)| CheckedTransaction {
            id: transaction.id(),
            transaction,
            signature,
        })
        .collect()
    }

    /// Verifies one signature on its own.
    pub fn verify(transaction: &'a SignedTransaction) -> Self {
        Self::verify_as(transaction, transaction.id())
    }

    fn verify_as(transaction: &'a SignedTransaction, id: TxId) -> Self {
        debug_assert_eq!(id, transaction.id());
        Self {
            id,
            signature: transaction.verify_signature(),
            transaction,
        }
    }

    /// For a transaction whose signature the caller has already verified (the mempool admits
    /// only verified transactions); skips the check.
    pub fn pre_verified(transaction: &'a SignedTransaction) -> Self {
        Self::pre_verified_as(transaction, transaction.id())
    }

    fn pre_verified_as(transaction: &'a SignedTransaction, id: TxId) -> Self {
        debug_assert_eq!(id, transaction.id());
        Self {
            id,
            signature: Ok(()),
            transaction,
        }
    }
}

/// The verdict on each transaction's signature: all verified in one batch, and one by one only
/// when the batch fails, to name the bad ones.
fn batch_verdicts(
    keys: &KeyPoints,
    transactions: &[&SignedTransaction],
) -> Vec<Result<(), Ed25519Error>> {
    let messages: Vec<Vec<u8>> = (transactions.iter())
        .map(|transaction| transaction.body.signing_bytes())
        .collect();
    let items: Vec<_> = (transactions.iter().zip(&messages))
        .map(|(tx, message)| (tx.signer, message.as_slice(), tx.signature))
        .collect();
    match keys.verify_transactions(&items) {
        Ok(()) => vec![Ok(()); transactions.len()],
        Err(each) => each,
    }
}

/// What happened to one transaction of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub tx_id: TxId,
    pub outcome: Result<(), TxError>,
}

#[derive(Debug, Default)]
pub struct BlockOutcome {
    pub changes: StateChanges,
    pub receipts: Vec<Receipt>,
}

/// Executes the block at `height` on top of `state`, mixing its proposer's `reveal` (already
/// verified) into the beacon first when it carries one.
///
/// Errors only when the state itself cannot be read or is corrupt; a bad transaction is a
/// rejected receipt, never an error.
pub fn execute_block(
    state: &dyn StateReader,
    height: Height,
    reveal: Option<&BlsSignature>,
    transactions: &[CheckedTransaction<'_>],
) -> Result<BlockOutcome, StorageError> {
    let mut projection = Projection::start(state, height)?;
    if let Some(reveal) = reveal {
        projection.mix_beacon(state, reveal)?;
    }
    let mut outcome = BlockOutcome::default();
    for checked in transactions {
        outcome.receipts.push(Receipt {
            tx_id: checked.id,
            outcome: projection.apply(state, checked)?,
        });
    }
    let mut block = Overlay::new(state, None);
    block.merge(projection.changes);
    deadlines::run_deadlines(&mut block, height)?;
    verdicts::run_jury_deadlines(&mut block, height)?;
    let cell: CellInfo = block.require(&StateKey::Cell)?;
    end_epoch(&mut block, &cell, height)?;
    outcome.changes = block.into_changes();
    Ok(outcome)
}

/// The state the block at `height` reaches after the transactions applied so far: what
/// execution builds transaction by transaction, and what a mempool keeps per sender, so that
/// checking one more transaction is one execution on top rather than a re-run of those before.
#[derive(Clone, Debug)]
pub struct Projection {
    height: Height,
    cell: CellInfo,
    changes: StateChanges,
}

impl Projection {
    /// Before the first transaction of the block at `height` on top of `state`: the block's
    /// start, where an emergency mode past its expiry lapses.
    pub fn start(state: &dyn StateReader, height: Height) -> Result<Self, StorageError> {
        let mut block = Overlay::new(state, None);
        let cell: CellInfo = block.require(&StateKey::Cell)?;
        lapse_expired_mode(&mut block, height)?;
        Ok(Self {
            height,
            cell,
            changes: block.into_changes(),
        })
    }

    /// The height of the block this projects.
    pub fn height(&self) -> Height {
        self.height
    }

    /// Makes this a projection of the block at `height`, a later one, keeping what it holds
    /// as if the blocks between had changed nothing it read. What it then judges can be wrong
    /// where they did; a caller that carries projections must project afresh to be exact.
    pub fn carry_to(&mut self, height: Height) {
        debug_assert!(
            height >= self.height,
            "a projection is carried forward only"
        );
        self.height = height;
    }

    /// Runs `checked` on `state` (the state this projection started from) after what it holds;
    /// its effects join the projection when it succeeds. The outer error is only a storage
    /// failure.
    pub fn apply(
        &mut self,
        state: &dyn StateReader,
        checked: &CheckedTransaction<'_>,
    ) -> Result<Result<(), TxError>, StorageError> {
        if let Err(error) = &checked.signature {
            return Ok(Err(TxError::BadSignature(error.clone())));
        }
        let mut tx_state = Overlay::new(state, Some(&self.changes));
        match dispatch::apply(&mut tx_state, &self.cell, self.height, checked.transaction) {
            Ok(()) => {
                let changes = tx_state.into_changes();
                self.changes.extend(changes);
                Ok(Ok(()))
            }
            Err(context::Failure::Rejected(error)) => Ok(Err(error)),
            Err(context::Failure::Storage(error)) => Err(error),
        }
    }
}

/// The last block of every epoch (heights E, 2E, …) elects the next epoch's validator set from
/// the bonds in state after its transactions. Consensus needs the set for a height before it
/// decides that height, so the set for heights kE + 1 … (k + 1)E is fixed once block kE is.
fn end_epoch(block: &mut Overlay<'_>, cell: &CellInfo, height: Height) -> Result<(), StorageError> {
    let epoch_length = cell.params.epoch_length.max(1);
    if height.is_multiple_of(epoch_length) {
        let active = next_validators(block, &cell.params, height / epoch_length + 1)?;
        assert!(
            active.total_power() > 0,
            "genesis and every epoch since give the cell validator power"
        );
        block.put(StateKey::ActiveValidators, &active);
    }
    Ok(())
}

/// Emergency modes end on their own at their expiry height, before that block's transactions.
fn lapse_expired_mode(block: &mut Overlay<'_>, height: Height) -> Result<(), StorageError> {
    let mut mode: CellModeState = block.require(&StateKey::CellMode)?;
    if mode.expires_at.is_some_and(|expiry| height >= expiry) {
        mode.mode = CellMode::Normal;
        mode.expires_at = None;
        block.put(StateKey::CellMode, &mode);
    }
    Ok(())
}
