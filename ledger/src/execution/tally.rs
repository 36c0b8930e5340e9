//! The tally of a process at the end of its voting: a pure function of the state at that
//! moment, so the order ballots arrived in cannot change it.
//!
//! Each passport counts once. A voter counts for its own ballot; a passport that did not vote
//! counts for the ballot of the nearest voter up its chain of delegations, if that voter is
//! at most the process's `max_delegation_depth` steps away (a chain that grew longer since
//! counts no further). In each chamber a counted passport adds its
//! weight there if it is a member (as the chambers stood when the process was proposed, with
//! status and bonds as they stand now).

use super::chambers::{is_member, total_weight, weight};
use super::overlay::Overlay;
use crate::governance::{Ballot, ChamberTally, Choice, Process};
use crate::ids::PassportId;
use crate::state::{Passport, StateKey};
use crate::storage::StorageError;

pub(super) fn tally(
    state: &Overlay<'_>,
    process: &Process,
) -> Result<Vec<ChamberTally>, StorageError> {
    let counted = counted_passports(state, process, process.max_delegation_depth)?;
    let mut tallies = Vec::with_capacity(process.rules.chambers.len());
    for vote in &process.rules.chambers {
        let chamber = &process.chambers[usize::from(vote.chamber)];
        let mut tally = ChamberTally {
            chamber: vote.chamber,
            eligible: total_weight(state, chamber)?,
            yes: 0,
            no: 0,
            abstain: 0,
            quorum_bps: vote.quorum_bps,
            threshold_bps: vote.threshold_bps,
            passed: false,
        };
        for (passport, choice) in &counted {
            if !is_member(chamber, passport) {
                continue;
            }
            let weight = weight(state, chamber, passport)?;
            match choice {
                Choice::Yes => tally.yes += weight,
                Choice::No => tally.no += weight,
                Choice::Abstain => tally.abstain += weight,
            }
        }
        tally.judge();
        tallies.push(tally);
    }
    Ok(tallies)
}

/// Every passport the tally counts, with the choice it counts for: each voter, then the
/// passports that reach it through delegations without passing another voter.
fn counted_passports(
    state: &Overlay<'_>,
    process: &Process,
    max_depth: u8,
) -> Result<Vec<(Passport, Choice)>, StorageError> {
    let voters: Vec<PassportId> = state
        .get(&StateKey::Voters(process.id))?
        .unwrap_or_default();
    let mut counted = Vec::new();
    for voter in &voters {
        let ballot: Ballot = state.require(&StateKey::Ballot {
            process: process.id,
            voter: *voter,
        })?;
        let mut level = vec![*voter];
        for depth in 0..=max_depth {
            let mut next = Vec::new();
            for passport in &level {
                counted.push((
                    state.require(&StateKey::Passport(*passport))?,
                    ballot.choice,
                ));
                if depth < max_depth {
                    let delegators: Vec<PassportId> = state
                        .get(&StateKey::Delegators(*passport))?
                        .unwrap_or_default();
                    next.extend(
                        delegators
                            .into_iter()
                            .filter(|d| voters.binary_search(d).is_err()),
                    );
                }
            }
            level = next;
        }
    }
    Ok(counted)
}
