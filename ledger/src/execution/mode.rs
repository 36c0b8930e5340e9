//! Which transactions each cell mode accepts.
//!
//! | mode | refuses |
//! |---|---|
//! | NORMAL | nothing |
//! | ELEVATED | forks; new passports of tier 3 or more |
//! | SAFE | as ELEVATED, plus validator registration and transfers above `safe_mode_transfer_limit` (send those through escrow) |
//! | LOCKDOWN | everything but re-attestation (`RotateKeys`), proofs (`Slash`) and `SetCellMode` |
//! | RECOVERY | new passports, forks, new validators, new bonds and new escrows; unwinding is allowed |

use crate::state::{CellMode, CellParams};
use crate::transaction::Action;

const HIGH_TIER: u8 = 3;

pub fn mode_permits(mode: CellMode, action: &Action, params: &CellParams) -> bool {
    match mode {
        CellMode::Normal => true,
        CellMode::Elevated => !matches!(
            action,
            Action::ForkPassport { .. }
                | Action::IssuePassport {
                    tier: HIGH_TIER..,
                    ..
                }
        ),
        CellMode::Safe => match action {
            Action::Transfer { amount, .. } => *amount <= params.safe_mode_transfer_limit,
            Action::ForkPassport { .. } | Action::RegisterValidator { .. } => false,
            Action::IssuePassport { tier, .. } => *tier < HIGH_TIER,
            _ => true,
        },
        CellMode::Lockdown => matches!(
            action,
            Action::RotateKeys { .. } | Action::Slash { .. } | Action::SetCellMode { .. }
        ),
        CellMode::Recovery => !matches!(
            action,
            Action::IssuePassport { .. }
                | Action::ForkPassport { .. }
                | Action::RegisterValidator { .. }
                | Action::Bond { .. }
                | Action::EscrowCreate { .. }
        ),
    }
}
