//! The electorate: how many active passports each tier holds and the stake they bond, which
//! is the weight of every chamber by tiers. Each rule that makes a passport active or not, or
//! changes an active passport's bond, moves it here; `Ledger::count_electorate` recounts it
//! from all of state after every block in debug builds.

use super::context::{Context, Outcome};
use super::overlay::Overlay;
use crate::governance::Electorate;
use crate::ids::Amount;
use crate::state::{Passport, PassportStatus, StateKey};
use crate::storage::StorageError;

/// Adds `passports` active passports of `tier` bonding `bonded` more (both may be negative).
pub(crate) fn adjust_electorate(
    state: &mut Overlay<'_>,
    tier: u8,
    passports: i64,
    bonded: i128,
) -> Result<(), StorageError> {
    let mut electorate: Electorate = state.get(&StateKey::Electorate)?.unwrap_or_default();
    let tier = usize::from(tier);
    let corrupt = || StorageError::Corrupt(format!("the electorate of tier {tier} went negative"));
    let count = electorate.passports.get_mut(tier).ok_or_else(corrupt)?;
    *count = count.checked_add_signed(passports).ok_or_else(corrupt)?;
    let stake = &mut electorate.bonded[tier];
    *stake = i128::from(*stake)
        .checked_add(bonded)
        .and_then(|sum| u64::try_from(sum).ok())
        .ok_or_else(corrupt)?;
    state.put(StateKey::Electorate, &electorate);
    Ok(())
}

impl Context<'_, '_> {
    /// A new passport, active from creation and bonding nothing.
    pub(super) fn electorate_admits(&mut self, passport: &Passport) -> Outcome {
        debug_assert_eq!(passport.status, PassportStatus::Active);
        Ok(adjust_electorate(self.state, passport.tier, 1, 0)?)
    }

    /// `passport`, active until now, stops being active.
    pub(super) fn electorate_loses(&mut self, passport: &Passport) -> Outcome {
        let bonded = self.bond_of(&passport.id)?.bonded;
        Ok(adjust_electorate(
            self.state,
            passport.tier,
            -1,
            -i128::from(bonded),
        )?)
    }

    /// `passport`'s bond grew by `added` and shrank by `removed`; counted while it is active.
    pub(super) fn electorate_restakes(
        &mut self,
        passport: &Passport,
        added: Amount,
        removed: Amount,
    ) -> Outcome {
        if passport.status != PassportStatus::Active || added == removed {
            return Ok(());
        }
        let delta = i128::from(added) - i128::from(removed);
        Ok(adjust_electorate(self.state, passport.tier, 0, delta)?)
    }
}
