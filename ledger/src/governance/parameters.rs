//! The cell parameters a governance process may change, and the bounds the ledger holds each
//! one to whatever a process decides.
//!
//! `epoch_length` is not among them: epochs number the checkpoints the federation has already
//! certified, so changing their length would renumber them.

use crate::state::CellParams;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// One changeable field of [`CellParams`].
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    MinFee,
    UnbondingDelay,
    MinValidatorBond,
    MinSponsorTier,
    MinSponsorBond,
    DoubleVoteSlashBps,
    SafeModeTransferLimit,
    SafeModeEscrowDelay,
    MaxEmergencyBlocks,
    DisputeTimeout,
    MaxForks,
    MaxLineageDepth,
}

impl Parameter {
    pub const ALL: [Parameter; 12] = [
        Parameter::MinFee,
        Parameter::UnbondingDelay,
        Parameter::MinValidatorBond,
        Parameter::MinSponsorTier,
        Parameter::MinSponsorBond,
        Parameter::DoubleVoteSlashBps,
        Parameter::SafeModeTransferLimit,
        Parameter::SafeModeEscrowDelay,
        Parameter::MaxEmergencyBlocks,
        Parameter::DisputeTimeout,
        Parameter::MaxForks,
        Parameter::MaxLineageDepth,
    ];

    /// The lowest and highest value a process may set, inclusive. Each bound keeps the cell
    /// able to work: stake can always leave, validators can always be slashed, a fee cannot
    /// price everyone out of the supply.
    pub fn bounds(self) -> (u64, u64) {
        match self {
            Parameter::MinFee => (0, 1_000_000),
            Parameter::UnbondingDelay => (1, 1_000_000),
            Parameter::MinValidatorBond => (1, u64::MAX / 2),
            Parameter::MinSponsorTier => (1, u64::from(crate::state::MAX_TIER)),
            Parameter::MinSponsorBond => (0, u64::MAX / 2),
            Parameter::DoubleVoteSlashBps => (100, 10_000),
            Parameter::SafeModeTransferLimit => (0, u64::MAX / 2),
            Parameter::SafeModeEscrowDelay => (0, 1_000_000),
            Parameter::MaxEmergencyBlocks => (1, 1_000_000),
            Parameter::DisputeTimeout => (1, 1_000_000),
            Parameter::MaxForks => (0, 64),
            Parameter::MaxLineageDepth => (0, 16),
        }
    }

    pub fn within_bounds(self, value: u64) -> bool {
        let (low, high) = self.bounds();
        (low..=high).contains(&value)
    }

    /// The parameter's current value in `params`.
    pub fn get(self, params: &CellParams) -> u64 {
        match self {
            Parameter::MinFee => params.min_fee,
            Parameter::UnbondingDelay => params.unbonding_delay,
            Parameter::MinValidatorBond => params.min_validator_bond,
            Parameter::MinSponsorTier => u64::from(params.min_sponsor_tier),
            Parameter::MinSponsorBond => params.min_sponsor_bond,
            Parameter::DoubleVoteSlashBps => u64::from(params.double_vote_slash_bps),
            Parameter::SafeModeTransferLimit => params.safe_mode_transfer_limit,
            Parameter::SafeModeEscrowDelay => params.safe_mode_escrow_delay,
            Parameter::MaxEmergencyBlocks => params.max_emergency_blocks,
            Parameter::DisputeTimeout => params.dispute_timeout,
            Parameter::MaxForks => u64::from(params.max_forks),
            Parameter::MaxLineageDepth => u64::from(params.max_lineage_depth),
        }
    }

    /// Sets the parameter in `params`; `value` must be within [`Parameter::bounds`], which
    /// every bound keeps inside the field's type.
    pub fn set(self, params: &mut CellParams, value: u64) {
        assert!(
            self.within_bounds(value),
            "{self:?} = {value} is out of bounds"
        );
        fn narrow<T: TryFrom<u64>>(value: u64) -> T {
            T::try_from(value).unwrap_or_else(|_| unreachable!("bounds fit the field's type"))
        }
        match self {
            Parameter::MinFee => params.min_fee = value,
            Parameter::UnbondingDelay => params.unbonding_delay = value,
            Parameter::MinValidatorBond => params.min_validator_bond = value,
            Parameter::MinSponsorTier => params.min_sponsor_tier = narrow(value),
            Parameter::MinSponsorBond => params.min_sponsor_bond = value,
            Parameter::DoubleVoteSlashBps => params.double_vote_slash_bps = narrow(value),
            Parameter::SafeModeTransferLimit => params.safe_mode_transfer_limit = value,
            Parameter::SafeModeEscrowDelay => params.safe_mode_escrow_delay = value,
            Parameter::MaxEmergencyBlocks => params.max_emergency_blocks = value,
            Parameter::DisputeTimeout => params.dispute_timeout = value,
            Parameter::MaxForks => params.max_forks = narrow(value),
            Parameter::MaxLineageDepth => params.max_lineage_depth = narrow(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_fits_its_field_and_set_then_get_returns_the_value() {
        for parameter in Parameter::ALL {
            let (low, high) = parameter.bounds();
            assert!(low <= high, "{parameter:?}");
            for value in [low, high, low + (high - low) / 2] {
                let mut params = CellParams::default();
                parameter.set(&mut params, value);
                assert_eq!(parameter.get(&params), value, "{parameter:?}");
            }
        }
    }
}
