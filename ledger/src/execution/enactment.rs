//! What each kind of proposal may ask, and what it does when it passes. A proposal is checked
//! when it is proposed and again when it executes, since state may have moved in between; an
//! execution that breaks a rule changes nothing and is recorded as failed.

use super::context::{ensure_positive, Context, Outcome};
use crate::error::TxError;
use crate::governance::*;
use crate::ids::{Amount, CaseId, CellId, Height, PassportId};
use crate::state::{CellInfo, CellMode, StateKey};

impl Context<'_, '_> {
    pub(super) fn check_proposal(&self, proposal: &Proposal, rules: &GovernanceRules) -> Outcome {
        match proposal {
            Proposal::ParameterChange { parameter, value } => check_parameter(*parameter, *value),
            Proposal::CellModeChange { mode, duration } => {
                self.check_mode_duration(*mode, *duration)
            }
            Proposal::SlashRuling {
                offender,
                amount,
                case,
            } => self.check_slash_ruling(offender, *amount, case),
            Proposal::BridgeRuling { remote, epoch, .. } => {
                self.check_bridge_ruling(*remote, *epoch)
            }
            Proposal::CouncilElection { chamber, seats } => {
                self.check_election(rules, *chamber, seats)
            }
            Proposal::Resolution { text } => {
                if text.is_empty() || text.len() > MAX_TEXT_BYTES {
                    return Err(TxError::InvalidProposal("a resolution is 1 to 1,024 bytes").into());
                }
                Ok(())
            }
            Proposal::RulesChange { rules } => {
                rules
                    .validate()
                    .map_err(|RulesError::Invalid(reason)| TxError::InvalidRules(reason))?;
                self.check_seats(rules.chambers.iter().flat_map(seats_of))
            }
        }
    }

    /// Carries out a passed process at its execution height. A process that changes the rules
    /// (an election or a rules change) executes only on the rules it was proposed under: on
    /// any others it could undo or misplace a change made since.
    pub(super) fn enact(&mut self, process: &Process) -> Outcome {
        let proposal = &process.proposal;
        let mut rules: GovernanceRules = self.state.require(&StateKey::GovernanceRules)?;
        let changes_rules = matches!(
            proposal,
            Proposal::CouncilElection { .. } | Proposal::RulesChange { .. }
        );
        if changes_rules && rules.version != process.rules_version {
            return Err(TxError::RulesOutdated {
                proposed_under: process.rules_version,
                now: rules.version,
            }
            .into());
        }
        self.check_proposal(proposal, &rules)?;
        match proposal {
            Proposal::ParameterChange { parameter, value } => {
                let mut cell: CellInfo = self.state.require(&StateKey::Cell)?;
                parameter.set(&mut cell.params, *value);
                self.state.put(StateKey::Cell, &cell);
            }
            Proposal::CellModeChange { mode, duration } => {
                let from = self.height + 1;
                let expires_at = duration
                    .map(|blocks| from.checked_add(blocks))
                    .map(|expiry| {
                        expiry.ok_or(TxError::InvalidProposal(
                            "the duration runs past the last height",
                        ))
                    })
                    .transpose()?;
                self.change_mode(*mode, expires_at, from)?;
            }
            Proposal::SlashRuling {
                offender,
                amount,
                case,
            } => {
                self.spend_case(case)?;
                self.seize(offender, *amount, *case)?;
            }
            Proposal::BridgeRuling {
                remote,
                epoch,
                keep,
            } => self.record_bridge_ruling(*remote, *epoch, *keep),
            Proposal::CouncilElection { chamber, seats } => {
                rules.chambers[usize::from(*chamber)].membership = Membership::Seats(seats.clone());
                rules.version += 1;
                self.state.put(StateKey::GovernanceRules, &rules);
            }
            Proposal::Resolution { .. } => {}
            Proposal::RulesChange { rules: new } => {
                let version = rules.version + 1;
                self.state.put(
                    StateKey::GovernanceRules,
                    &GovernanceRules {
                        version,
                        ..(**new).clone()
                    },
                );
            }
        }
        Ok(())
    }

    fn check_mode_duration(&self, mode: CellMode, duration: Option<Height>) -> Outcome {
        let fits = match (mode, duration) {
            (CellMode::Normal, None) => true,
            (CellMode::Normal, Some(_)) | (_, None) => false,
            (_, Some(blocks)) => (1..=self.cell.params.max_emergency_blocks).contains(&blocks),
        };
        if !fits {
            return Err(TxError::InvalidProposal(
                "normal mode has no duration; an emergency mode lasts 1 to max_emergency_blocks",
            )
            .into());
        }
        Ok(())
    }

    fn check_slash_ruling(&self, offender: &PassportId, amount: Amount, case: &CaseId) -> Outcome {
        ensure_positive(amount)?;
        self.passport(offender)?;
        self.ensure_case_unspent(case)
    }

    fn check_bridge_ruling(&self, remote: CellId, epoch: u64) -> Outcome {
        if remote == self.cell.cell {
            return Err(TxError::InvalidBridgeRuling("a cell has no bridge to itself").into());
        }
        self.ensure_bridge_unruled(remote, epoch)
    }

    fn check_election(
        &self,
        rules: &GovernanceRules,
        chamber: u8,
        seats: &[PassportId],
    ) -> Outcome {
        let seated = rules
            .chambers
            .get(usize::from(chamber))
            .is_some_and(|chamber| matches!(chamber.membership, Membership::Seats(_)));
        if !seated {
            return Err(TxError::InvalidProposal("an election is for a seated chamber").into());
        }
        let mut trial = rules.clone();
        trial.chambers[usize::from(chamber)].membership = Membership::Seats(seats.to_vec());
        trial
            .validate()
            .map_err(|RulesError::Invalid(reason)| TxError::InvalidProposal(reason))?;
        self.check_seats(seats)
    }
}

fn check_parameter(parameter: Parameter, value: u64) -> Outcome {
    if !parameter.within_bounds(value) {
        let (min, max) = parameter.bounds();
        return Err(TxError::ParameterOutOfBounds {
            parameter,
            value,
            min,
            max,
        }
        .into());
    }
    Ok(())
}

fn seats_of(chamber: &Chamber) -> &[PassportId] {
    match &chamber.membership {
        Membership::Seats(seats) => seats,
        Membership::Tiers { .. } => &[],
    }
}
