//! Which transactions each cell mode accepts.
//!
//! | mode | refuses |
//! |---|---|
//! | NORMAL | nothing |
//! | ELEVATED | forks; new passports of tier 3 or more |
//! | SAFE | as ELEVATED, plus validator registration and transfers above `safe_mode_transfer_limit`; escrows above it need an arbiter and a release at least `safe_mode_escrow_delay` blocks away |
//! | LOCKDOWN | everything but re-attestation (`RotateKeys`), proofs (`Slash`), the validators' governance (`SetCellMode`, `LiftBridgeLockdown`) and governance processes (`Propose`, `Sponsor`, `Vote`, `Delegate`, `Undelegate`, `Veto`), which may end the lockdown, and jurors' rulings (`RuleOnCase`), so that a case before a jury is not lost to it |
//! | RECOVERY | new passports, forks, new validators, new bonds, new escrows and new jurors; unwinding is allowed |

use crate::ids::Height;
use crate::state::{CellMode, CellParams};
use crate::transaction::Action;

const HIGH_TIER: u8 = 3;

pub fn mode_permits(mode: CellMode, action: &Action, params: &CellParams, height: Height) -> bool {
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
            Action::EscrowCreate {
                amount,
                arbiter,
                release_height,
                ..
            } => {
                *amount <= params.safe_mode_transfer_limit
                    || (arbiter.is_some()
                        && *release_height >= height.saturating_add(params.safe_mode_escrow_delay))
            }
            Action::ForkPassport { .. } | Action::RegisterValidator(_) => false,
            Action::IssuePassport { tier, .. } => *tier < HIGH_TIER,
            _ => true,
        },
        CellMode::Lockdown => matches!(
            action,
            Action::RotateKeys { .. }
                | Action::Slash { .. }
                | Action::SetCellMode { .. }
                | Action::LiftBridgeLockdown { .. }
                | Action::Propose { .. }
                | Action::Sponsor { .. }
                | Action::Vote { .. }
                | Action::Delegate { .. }
                | Action::Undelegate
                | Action::Veto { .. }
                | Action::RuleOnCase { .. }
        ),
        CellMode::Recovery => !matches!(
            action,
            Action::IssuePassport { .. }
                | Action::ForkPassport { .. }
                | Action::RegisterValidator(_)
                | Action::Bond { .. }
                | Action::EscrowCreate { .. }
                | Action::JoinJuryPool
        ),
    }
}
