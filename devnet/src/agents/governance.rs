//! Agents in governance: validators' passports propose (resolutions that need members'
//! sponsors, and parameter changes), members sponsor, validators and members vote while a
//! process is open, members delegate and withdraw their votes in turn, and the guardians veto
//! the first process and every third after it as soon as they see it (again, while it is
//! pending, if a fault lost the veto). Only the latest process is followed; a new one is
//! proposed once it has ended, and none while the chain cannot be read. A process's kind
//! follows from the id it will get, not from how many proposals were sent (a fault loses
//! some), so the first process after the vetoed one is always a resolution to sponsor.

use super::{Agents, ChainView, Intent};
use charter_ledger::governance::{Choice, Parameter, Process, ProcessId, ProcessStatus, Proposal};
use charter_ledger::{Action, Height, PassportId, SignedTransaction};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Most ballots agents cast in one block.
const BALLOTS_PER_BLOCK: usize = 3;
/// Blocks after which a veto not yet seen on the chain is sent again.
const VETO_RETRY_BLOCKS: Height = 5;

/// What the agents did in governance, so that nobody acts twice.
#[derive(Default)]
pub(super) struct Civics {
    proposed: u64,
    sponsored: BTreeSet<(ProcessId, PassportId)>,
    voted: BTreeSet<(ProcessId, PassportId)>,
    /// The height each veto was last sent at: one lost to a fault is sent again after
    /// [`VETO_RETRY_BLOCKS`], while the process is still pending.
    vetoed: BTreeMap<ProcessId, Height>,
    /// Agents delegating now, oldest delegation first.
    delegating: Vec<PassportId>,
    /// Delegation steps taken: even ones delegate, odd ones withdraw the oldest delegation.
    delegation_steps: u64,
}

impl Civics {
    /// Whether to send a veto of `process` at `height`: the first time, and again when the
    /// last one sent has had [`VETO_RETRY_BLOCKS`] to commit.
    fn veto_due(&mut self, process: ProcessId, height: Height) -> bool {
        let due = (self.vetoed.get(&process)).is_none_or(|sent| height >= sent + VETO_RETRY_BLOCKS);
        if due {
            self.vetoed.insert(process, height);
        }
        due
    }
}

impl Agents {
    /// A block's governance: one step on the latest process (proposing a new one once it has
    /// ended), and ballots on it while its voting is open.
    pub(super) fn govern(
        &mut self,
        height: Height,
        chain: &dyn ChainView,
    ) -> Vec<(SignedTransaction, Intent)> {
        let Ok(latest) = chain.latest_process() else {
            return Vec::new();
        };
        let step = self.civic_step(height, latest.as_ref());
        let mut transactions: Vec<_> = step.into_iter().collect();
        if let Some(process) = &latest {
            transactions.extend(self.ballots(height, process));
        }
        transactions
    }

    /// Propose when nothing is pending, else veto, sponsor or delegate.
    fn civic_step(
        &mut self,
        height: Height,
        latest: Option<&Process>,
    ) -> Option<(SignedTransaction, Intent)> {
        let action = match latest {
            Some(process)
                if process.status.is_pending()
                    && process.id.0.is_multiple_of(3)
                    && self.civics.veto_due(process.id, height) =>
            {
                self.cell
                    .veto(process.id, "the guardians' test of their veto", &[0, 1])
            }
            Some(process) if process.status == ProcessStatus::Sponsoring => {
                return self.sponsor(process)
            }
            Some(process) if process.status.is_pending() => return self.delegate_or_withdraw(),
            _ => return Some(self.propose(latest)),
        };
        let courier = self.any_agent();
        let courier = self.agents[courier].clone();
        Some((self.sign(&courier, action), Intent::Plain))
    }

    /// A resolution (which needs members' sponsors) when the process will get an odd id, a
    /// parameter change when it will get an even one.
    fn propose(&mut self, latest: Option<&Process>) -> (SignedTransaction, Intent) {
        let count = self.civics.proposed;
        self.civics.proposed += 1;
        let proposer = self
            .cell
            .validator(count as usize % self.cell.config.validators);
        let next_id = latest.map_or(0, |process| process.id.0 + 1);
        let proposal = if !next_id.is_multiple_of(2) {
            Proposal::Resolution {
                text: format!("the agents' resolution {count}"),
            }
        } else {
            Proposal::ParameterChange {
                parameter: Parameter::MaxEmergencyBlocks,
                value: 1_000 - (next_id / 2) % 2,
            }
        };
        let proposer = proposer.clone();
        (
            self.sign(&proposer, Action::Propose { proposal }),
            Intent::Plain,
        )
    }

    fn sponsor(&mut self, process: &Process) -> Option<(SignedTransaction, Intent)> {
        let agent = self.any_agent();
        let sponsor = self.agents[agent].clone();
        if !self.civics.sponsored.insert((process.id, sponsor.id)) {
            return None;
        }
        let action = Action::Sponsor {
            process: process.id,
        };
        Some((self.sign(&sponsor, action), Intent::Plain))
    }

    /// In turn: an agent delegates to one listed before it (so delegations never form a
    /// cycle), then the agent that delegated longest ago withdraws.
    fn delegate_or_withdraw(&mut self) -> Option<(SignedTransaction, Intent)> {
        self.civics.delegation_steps += 1;
        let withdraws = self.civics.delegation_steps.is_multiple_of(2);
        if let (true, Some(&oldest)) = (withdraws, self.civics.delegating.first()) {
            self.civics.delegating.remove(0);
            let sender = self.agents.iter().find(|agent| agent.id == oldest)?.clone();
            return Some((self.sign(&sender, Action::Undelegate), Intent::Plain));
        }
        let agent = self.any_agent();
        let sender = self.agents[agent].clone();
        if self.civics.delegating.contains(&sender.id) {
            return None;
        }
        let to = self
            .active
            .iter()
            .copied()
            .filter(|other| *other < agent)
            .min()?;
        self.civics.delegating.push(sender.id);
        let action = Action::Delegate {
            to: self.agents[to].id,
        };
        Some((self.sign(&sender, action), Intent::Plain))
    }

    /// Ballots on the latest process while its voting is open at `height`: validators' first,
    /// then members'; one in six says no.
    fn ballots(&mut self, height: Height, process: &Process) -> Vec<(SignedTransaction, Intent)> {
        let open = process.status == ProcessStatus::Open
            && (process.schedule.as_ref())
                .is_some_and(|s| (s.voting_opens..=s.voting_closes).contains(&height));
        if !open {
            return Vec::new();
        }
        let validators = (0..self.cell.config.validators).map(|i| self.cell.validator(i).clone());
        let members = self.active.iter().map(|agent| self.agents[*agent].clone());
        let voters: Vec<_> = validators
            .chain(members)
            .filter(|voter| !self.civics.voted.contains(&(process.id, voter.id)))
            .take(BALLOTS_PER_BLOCK)
            .collect();
        voters
            .into_iter()
            .map(|voter| {
                self.civics.voted.insert((process.id, voter.id));
                let choice = if self.rng.gen_range(0..6) == 0 {
                    Choice::No
                } else {
                    Choice::Yes
                };
                let action = Action::Vote {
                    process: process.id,
                    choice,
                };
                (self.sign(&voter, action), Intent::Plain)
            })
            .collect()
    }
}
