//! Governance processes, by transaction: proposing, sponsoring, voting and the guardians'
//! veto. Tallies and execution happen at deadlines (`deadlines`), not here.
//!
//! - **Eligibility.** Sponsors and voters must sit in a chamber the process's rules name, as
//!   the chambers stood when it was proposed.
//! - **Windows.** Sponsors join until the sponsoring period ends; ballots count from
//!   `voting_opens` to `voting_closes`; a veto lands any time before execution.
//! - **One ballot per passport.** A later ballot replaces the earlier one; repeating the same
//!   choice is refused.

use super::chambers::{is_member, member_count};
use super::context::{Context, Failure, Outcome};
use super::overlay::Overlay;
use super::sorted_lists::insert_sorted;
use crate::error::TxError;
use crate::governance::*;
use crate::ids::{Height, PassportId};
use crate::state::{Passport, StateKey};
use crate::storage::StorageError;
use std::collections::BTreeSet;

impl Context<'_, '_> {
    pub(super) fn propose(&mut self, proposal: &Proposal) -> Outcome {
        let rules: GovernanceRules = self.state.require(&StateKey::GovernanceRules)?;
        self.check_proposal(proposal, &rules)?;
        let kind_rules = rules.kind(proposal.kind()).clone();
        let proposer = self.passport(self.sender())?;
        let sponsors_kind = (kind_rules.sponsors.iter())
            .any(|rule| is_member(rules.chamber(rule.chamber), &proposer));
        if !sponsors_kind {
            return Err(TxError::IneligibleSponsor(
                "the proposer sits in no chamber that sponsors this kind",
            )
            .into());
        }
        if let Proposal::SlashRuling { case, .. } = proposal {
            self.ensure_case_not_held(case)?;
        }
        let id: ProcessId = self
            .state
            .get(&StateKey::NextProcess)?
            .unwrap_or(ProcessId(0));
        self.state.put(StateKey::NextProcess, &ProcessId(id.0 + 1));
        let mut process = Process {
            id,
            proposal: proposal.clone(),
            proposer: proposer.id,
            sponsors: vec![proposer.id],
            rules_version: rules.version,
            rules: kind_rules,
            chambers: rules.chambers,
            max_delegation_depth: rules.max_delegation_depth,
            proposed_at: self.height,
            schedule: None,
            status: ProcessStatus::Sponsoring,
            tallies: Vec::new(),
            history: vec![ProcessEvent::Proposed {
                height: self.height,
            }],
        };
        if !self.schedule_if_sponsored(&mut process)? {
            add_deadline(self.state, process.sponsoring_closes(), id)?;
        }
        if let Proposal::SlashRuling { case, .. } = proposal {
            self.state.put(StateKey::SlashRulingCase(*case), &id);
        }
        self.put_process(&process);
        Ok(())
    }

    pub(super) fn sponsor(&mut self, id: ProcessId) -> Outcome {
        let mut process = self.process(id)?;
        require_status(&process, ProcessStatus::Sponsoring, "gathering sponsors")?;
        let sponsor = self.passport(self.sender())?;
        if process.sponsors.contains(&sponsor.id) {
            return Err(TxError::IneligibleSponsor("already a sponsor of this process").into());
        }
        let still_needed = self.unmet_sponsor_rules(&process)?;
        let counts = (still_needed.iter())
            .any(|rule| is_member(&process.chambers[usize::from(rule.chamber)], &sponsor));
        if !counts {
            return Err(TxError::IneligibleSponsor(
                "the sponsor sits in no chamber whose sponsors the process still needs",
            )
            .into());
        }
        process.sponsors.push(sponsor.id);
        self.schedule_if_sponsored(&mut process)?;
        self.put_process(&process);
        Ok(())
    }

    /// The sponsor rules the process's sponsors do not meet yet. A rule needs at least its
    /// minimum, and its share of the chamber's members rounded up, capped at `MAX_SPONSORS`;
    /// only a sponsor that counts toward one of these may still join, so the sponsors of a
    /// process are at most `MAX_SPONSORS` for each of its rules.
    fn unmet_sponsor_rules<'p>(
        &self,
        process: &'p Process,
    ) -> Result<Vec<&'p SponsorRule>, Failure> {
        let mut unmet = Vec::new();
        for rule in &process.rules.sponsors {
            let chamber = &process.chambers[usize::from(rule.chamber)];
            let members = member_count(self.state, chamber)?;
            let share = (u128::from(members) * u128::from(rule.share_bps)).div_ceil(10_000);
            let needed = u64::try_from(share)
                .unwrap_or(u64::MAX)
                .max(u64::from(rule.minimum))
                .min(u64::from(MAX_SPONSORS));
            let mut have = 0u64;
            for sponsor in &process.sponsors {
                if is_member(chamber, &self.passport(sponsor)?) {
                    have += 1;
                }
            }
            if have < needed {
                unmet.push(rule);
            }
        }
        Ok(unmet)
    }

    /// Opens the process for deliberation once every sponsor rule is met; says whether it did.
    fn schedule_if_sponsored(&mut self, process: &mut Process) -> Result<bool, Failure> {
        if !self.unmet_sponsor_rules(process)?.is_empty() {
            return Ok(false);
        }
        let schedule = Schedule::starting(self.height, &process.rules);
        add_deadline(self.state, schedule.voting_closes, process.id)?;
        process.schedule = Some(schedule);
        process.status = ProcessStatus::Open;
        (process.history).push(ProcessEvent::Scheduled {
            height: self.height,
        });
        Ok(true)
    }

    pub(super) fn vote(&mut self, id: ProcessId, choice: Choice) -> Outcome {
        let process = self.process(id)?;
        require_status(&process, ProcessStatus::Open, "open")?;
        let schedule = process
            .schedule
            .as_ref()
            .expect("an open process has a schedule");
        if !(schedule.voting_opens..=schedule.voting_closes).contains(&self.height) {
            return Err(TxError::OutsideVotingWindow {
                process: id,
                opens: schedule.voting_opens,
                closes: schedule.voting_closes,
            }
            .into());
        }
        let voter = self.passport(self.sender())?;
        let in_a_voting_chamber = (process.rules.chambers.iter())
            .any(|vote| is_member(&process.chambers[usize::from(vote.chamber)], &voter));
        if !in_a_voting_chamber {
            return Err(TxError::NotInChamber.into());
        }
        let key = StateKey::Ballot {
            process: id,
            voter: voter.id,
        };
        match self.state.get::<Ballot>(&key)? {
            Some(ballot) if ballot.choice == choice => return Err(TxError::AlreadyVoted.into()),
            Some(_) => {}
            None => {
                insert_sorted(self.state, StateKey::Voters(id), voter.id, usize::MAX)?;
            }
        }
        let ballot = Ballot {
            choice,
            cast_at: self.height,
        };
        self.state.put(key, &ballot);
        Ok(())
    }

    pub(super) fn veto(
        &mut self,
        id: ProcessId,
        reason: &str,
        approvals: &[GuardianApproval],
    ) -> Outcome {
        if reason.len() > MAX_TEXT_BYTES {
            return Err(TxError::InvalidVeto("the reason is longer than 1,024 bytes").into());
        }
        let mut process = self.process(id)?;
        if !process.status.is_pending() {
            return Err(TxError::ProcessWrongState {
                process: id,
                status: process.status,
                required: "pending (not yet executed or ended)",
            }
            .into());
        }
        let rules: GovernanceRules = self.state.require(&StateKey::GovernanceRules)?;
        let terms = VetoTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            process: id,
            reason: reason.to_owned(),
        };
        let guardians = verify_guardians(&rules.guardians, &terms, approvals)?;
        process.status = ProcessStatus::Vetoed;
        process.history.push(ProcessEvent::Vetoed {
            height: self.height,
            reason: reason.to_owned(),
            guardians,
        });
        self.put_process(&process);
        Ok(())
    }

    pub(super) fn process(&self, id: ProcessId) -> Result<Process, Failure> {
        Ok(self
            .state
            .get(&StateKey::Process(id))?
            .ok_or(TxError::UnknownProcess(id))?)
    }

    pub(super) fn put_process(&mut self, process: &Process) {
        self.state.put(StateKey::Process(process.id), process);
    }

    /// The seats a council election or a rules change installs must be passports that exist
    /// and are active.
    pub(super) fn check_seats<'p>(
        &self,
        seats: impl IntoIterator<Item = &'p PassportId>,
    ) -> Outcome {
        for seat in seats {
            let passport: Passport = self.passport(seat)?;
            super::context::ensure_active(&passport)?;
        }
        Ok(())
    }
}

fn require_status(process: &Process, status: ProcessStatus, required: &'static str) -> Outcome {
    if process.status != status {
        return Err(TxError::ProcessWrongState {
            process: process.id,
            status: process.status,
            required,
        }
        .into());
    }
    Ok(())
}

/// Checks that distinct guardians reaching the threshold signed the veto's terms; returns
/// their keys in the order given.
fn verify_guardians(
    guardians: &Guardians,
    terms: &VetoTerms,
    approvals: &[GuardianApproval],
) -> Result<Vec<crate::crypto::ed25519::Ed25519PublicKey>, Failure> {
    let message = terms.signing_bytes();
    let mut seen = BTreeSet::new();
    for approval in approvals {
        if !guardians.keys.contains(&approval.key) {
            return Err(TxError::InvalidVeto("an approval's key is not a guardian's").into());
        }
        if !seen.insert(approval.key) {
            return Err(TxError::InvalidVeto("two approvals from one guardian").into());
        }
        approval
            .key
            .verify(&message, &approval.signature)
            .map_err(|_| TxError::InvalidVeto("a guardian signature does not verify"))?;
    }
    if guardians.threshold == 0 || (seen.len() as u64) < u64::from(guardians.threshold) {
        return Err(TxError::InsufficientGuardianApprovals {
            approved: seen.len(),
            threshold: guardians.threshold,
        }
        .into());
    }
    Ok(approvals.iter().map(|approval| approval.key).collect())
}

/// Adds `id` to the processes whose deadline is the end of block `height`.
pub(super) fn add_deadline(
    state: &mut Overlay<'_>,
    height: Height,
    id: ProcessId,
) -> Result<(), StorageError> {
    insert_sorted(state, StateKey::ProcessesDue(height), id, usize::MAX).map(|_| ())
}
