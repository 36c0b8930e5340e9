//! Who sits in a chamber and what their votes weigh, read from state at the moment asked.

use super::overlay::Overlay;
use crate::governance::{Chamber, Electorate, Membership, Weighting};
use crate::state::{Bond, Passport, PassportStatus, StateKey};
use crate::storage::StorageError;

/// An active passport is a member of a chamber by tiers when its tier is in range, and of a
/// seated chamber when it holds a seat.
pub(super) fn is_member(chamber: &Chamber, passport: &Passport) -> bool {
    passport.status == PassportStatus::Active
        && match &chamber.membership {
            Membership::Tiers { min, max } => (*min..=*max).contains(&passport.tier),
            Membership::Seats(seats) => seats.contains(&passport.id),
        }
}

/// What a member's vote weighs in the chamber.
pub(super) fn weight(
    state: &Overlay<'_>,
    chamber: &Chamber,
    passport: &Passport,
) -> Result<u128, StorageError> {
    Ok(match chamber.weighting {
        Weighting::PerPassport => 1,
        Weighting::Stake => u128::from(bonded(state, passport)?),
    })
}

fn bonded(state: &Overlay<'_>, passport: &Passport) -> Result<u64, StorageError> {
    let bond: Option<Bond> = state.get(&StateKey::Bond(passport.id))?;
    Ok(bond.map_or(0, |bond| bond.bonded))
}

/// The chamber's whole weight: what a quorum is a share of.
pub(super) fn total_weight(state: &Overlay<'_>, chamber: &Chamber) -> Result<u128, StorageError> {
    if chamber.weighting == Weighting::PerPassport {
        return Ok(u128::from(member_count(state, chamber)?));
    }
    match &chamber.membership {
        Membership::Tiers { min, max } => {
            let electorate: Electorate = state.get(&StateKey::Electorate)?.unwrap_or_default();
            let tiers = usize::from(*min)..=usize::from(*max);
            Ok(electorate.bonded[tiers]
                .iter()
                .map(|n| u128::from(*n))
                .sum())
        }
        Membership::Seats(_) => {
            let mut total = 0;
            for member in seated_members(state, chamber)? {
                total += weight(state, chamber, &member)?;
            }
            Ok(total)
        }
    }
}

/// How many members the chamber has: what a sponsor rule's share is of.
pub(super) fn member_count(state: &Overlay<'_>, chamber: &Chamber) -> Result<u64, StorageError> {
    match &chamber.membership {
        Membership::Tiers { min, max } => {
            let electorate: Electorate = state.get(&StateKey::Electorate)?.unwrap_or_default();
            Ok(electorate.passports[usize::from(*min)..=usize::from(*max)]
                .iter()
                .sum())
        }
        Membership::Seats(_) => Ok(seated_members(state, chamber)?.len() as u64),
    }
}

fn seated_members(state: &Overlay<'_>, chamber: &Chamber) -> Result<Vec<Passport>, StorageError> {
    let Membership::Seats(seats) = &chamber.membership else {
        return Ok(Vec::new());
    };
    let mut members = Vec::with_capacity(seats.len());
    for seat in seats {
        if let Some(passport) = state.get::<Passport>(&StateKey::Passport(*seat))? {
            if is_member(chamber, &passport) {
                members.push(passport);
            }
        }
    }
    Ok(members)
}
