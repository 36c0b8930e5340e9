//! Delegation of votes: a passport may let another cast its weight on every process it does
//! not vote on itself, until it withdraws or leaves the cell. A delegation that would close a
//! cycle, or whose chain onward is already `max_delegation_depth` steps long, is refused, so
//! checking one is bounded work. Chains can still grow longer from below (a delegate that
//! delegates in turn); a tally follows at most `max_delegation_depth` steps of them.

use super::context::{ensure_active, Context, Outcome};
use super::sorted_lists::{insert_sorted, remove_sorted};
use crate::error::TxError;
use crate::governance::{Delegation, GovernanceRules};
use crate::ids::PassportId;
use crate::state::StateKey;

/// Most passports that may delegate to one passport.
pub const MAX_DELEGATORS: usize = 4_096;

impl Context<'_, '_> {
    pub(super) fn delegate(&mut self, to: &PassportId) -> Outcome {
        let sender = *self.sender();
        if *to == sender {
            return Err(TxError::InvalidDelegation("a passport cannot delegate to itself").into());
        }
        ensure_active(&self.passport(to)?)?;
        let rules: GovernanceRules = self.state.require(&StateKey::GovernanceRules)?;
        self.check_chain(&sender, to, rules.max_delegation_depth)?;
        self.withdraw_delegation(&sender)?;
        if !insert_sorted(
            self.state,
            StateKey::Delegators(*to),
            sender,
            MAX_DELEGATORS,
        )? {
            return Err(
                TxError::InvalidDelegation("the delegate already has 4,096 delegators").into(),
            );
        }
        let delegation = Delegation {
            to: *to,
            since: self.height,
        };
        self.state.put(StateKey::Delegation(sender), &delegation);
        Ok(())
    }

    pub(super) fn undelegate(&mut self) -> Outcome {
        let sender = *self.sender();
        if !self.withdraw_delegation(&sender)? {
            return Err(TxError::InvalidDelegation("there is no delegation to withdraw").into());
        }
        Ok(())
    }

    /// Follows the chain onward from `to`: it must end within `max_depth` steps counting
    /// `from → to`, and must not pass through `from`.
    fn check_chain(&self, from: &PassportId, to: &PassportId, max_depth: u8) -> Outcome {
        let mut current = *to;
        let mut steps = 1u8;
        while let Some(next) = self
            .state
            .get::<Delegation>(&StateKey::Delegation(current))?
        {
            if next.to == *from {
                return Err(TxError::DelegationCycle(*to).into());
            }
            steps += 1;
            if steps > max_depth {
                return Err(TxError::DelegationTooDeep(*to).into());
            }
            current = next.to;
        }
        Ok(())
    }

    /// Ends `passport`'s delegation, if it has one (as `Undelegate` does, and as leaving the
    /// cell does); says whether it had.
    pub(super) fn withdraw_delegation(
        &mut self,
        passport: &PassportId,
    ) -> Result<bool, super::context::Failure> {
        let key = StateKey::Delegation(*passport);
        let Some(old) = self.state.get::<Delegation>(&key)? else {
            return Ok(false);
        };
        remove_sorted(self.state, StateKey::Delegators(old.to), passport)?;
        self.state.delete(key);
        Ok(true)
    }
}
