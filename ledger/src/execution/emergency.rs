//! The validators' fast path for emergencies: changes of the cell's mode and rulings on a
//! remote cell's equivocation, each carrying approvals from more than 2/3 of the current
//! validators' power.

use super::context::{Context, Failure, Outcome};
use crate::error::TxError;
use crate::evidence::{BridgeRulingTerms, ModeChangeTerms, ValidatorApproval};
use crate::ids::{CellId, CheckpointId, Height};
use crate::state::{ActiveValidators, BridgeRuling, CellMode, CellModeState, StateKey};
use std::collections::BTreeSet;

impl Context<'_, '_> {
    pub(super) fn set_cell_mode(
        &mut self,
        mode: CellMode,
        expires_at: Option<Height>,
        approvals: &[ValidatorApproval],
    ) -> Outcome {
        self.check_mode_change(mode, expires_at, self.height)?;
        let current: CellModeState = self.state.require(&StateKey::CellMode)?;
        let terms = ModeChangeTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            sequence: current.sequence,
            mode,
            expires_at,
        };
        self.require_validator_supermajority(&terms.signing_bytes(), approvals)?;
        self.change_mode(mode, expires_at, self.height)
    }

    /// Sets the mode, in force from block `from` (this one for a transaction, the next for a
    /// process executing at the end of this one), with a new sequence number so that
    /// approvals of the old one lapse.
    pub(super) fn change_mode(
        &mut self,
        mode: CellMode,
        expires_at: Option<Height>,
        from: Height,
    ) -> Outcome {
        self.check_mode_change(mode, expires_at, from)?;
        let current: CellModeState = self.state.require(&StateKey::CellMode)?;
        let next = CellModeState {
            mode,
            expires_at,
            sequence: current.sequence + 1,
        };
        self.state.put(StateKey::CellMode, &next);
        Ok(())
    }

    /// An emergency mode lapses at its expiry, at most the cell's longest window after `from`.
    fn check_mode_change(
        &self,
        mode: CellMode,
        expires_at: Option<Height>,
        from: Height,
    ) -> Outcome {
        match (mode, expires_at) {
            (CellMode::Normal, None) => {}
            (CellMode::Normal, Some(_)) => {
                return Err(TxError::InvalidModeChange("normal mode has no expiry").into())
            }
            (_, Some(expiry))
                if expiry > from && expiry - from <= self.cell.params.max_emergency_blocks => {}
            _ => {
                return Err(TxError::InvalidModeChange(
                    "an emergency mode needs an expiry within the cell's longest emergency window",
                )
                .into())
            }
        }
        Ok(())
    }

    pub(super) fn lift_bridge_lockdown(
        &mut self,
        remote: CellId,
        epoch: u64,
        keep: CheckpointId,
        approvals: &[ValidatorApproval],
    ) -> Outcome {
        if remote == self.cell.cell {
            return Err(TxError::InvalidBridgeRuling("a cell has no bridge to itself").into());
        }
        self.ensure_bridge_unruled(remote, epoch)?;
        let terms = BridgeRulingTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            remote,
            epoch,
            keep,
        };
        self.require_validator_supermajority(&terms.signing_bytes(), approvals)?;
        self.record_bridge_ruling(remote, epoch, keep);
        Ok(())
    }

    pub(super) fn ensure_bridge_unruled(&self, remote: CellId, epoch: u64) -> Outcome {
        let key = StateKey::BridgeRuling { remote, epoch };
        if self.state.get::<BridgeRuling>(&key)?.is_some() {
            return Err(TxError::InvalidBridgeRuling(
                "that epoch of that cell is already ruled on",
            )
            .into());
        }
        Ok(())
    }

    pub(super) fn record_bridge_ruling(&mut self, remote: CellId, epoch: u64, keep: CheckpointId) {
        let ruling = BridgeRuling {
            remote,
            epoch,
            keep,
            decided_at: self.height,
        };
        self.state
            .put(StateKey::BridgeRuling { remote, epoch }, &ruling);
    }

    /// Checks that `approvals` are signatures of `message` by distinct current validators
    /// holding more than 2/3 of the power.
    fn require_validator_supermajority(
        &self,
        message: &[u8],
        approvals: &[ValidatorApproval],
    ) -> Result<(), Failure> {
        let active: ActiveValidators = self.state.require(&StateKey::ActiveValidators)?;
        let total = active.total_power();
        let mut approved = 0u128;
        let mut approvers = BTreeSet::new();
        for approval in approvals {
            let Some(validator) = active
                .members
                .iter()
                .find(|member| member.passport == approval.validator)
            else {
                return Err(TxError::NotAuthorized(
                    "an approval is from a passport that is not a voting validator",
                )
                .into());
            };
            if !approvers.insert(approval.validator) {
                return Err(TxError::InvalidApprovals("two approvals from one validator").into());
            }
            validator
                .consensus_key
                .verify(message, &approval.signature)
                .map_err(|_| TxError::InvalidApprovals("a validator signature does not verify"))?;
            approved += u128::from(validator.power);
        }
        if total == 0 || approved * 3 <= total * 2 {
            return Err(TxError::InsufficientValidatorPower { approved, total }.into());
        }
        Ok(())
    }
}
