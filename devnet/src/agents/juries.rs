//! Agents on juries: genesis members keep the jury pool stocked (one joins per block while it
//! holds fewer than [`POOL_TARGET`]); once each case is drawn one pool member that does not
//! sit on it leaves (its bond returns after the notice); the payee of every other disputed
//! escrow sends it to a jury rather than to its arbiter (`settle_escrow`); every other slash
//! the arbiters pursue goes to a jury rather than to the panel's approvals; and the jurors
//! drawn for each recent case rule on it, except that the last drawn juror of every third case
//! stays away, so that absences are charged too.

use super::{Agents, ChainView, Intent};
use charter_ledger::governance::{CaseStatus, JuryCase, JuryCaseId, Verdict};
use charter_ledger::{Action, CaseId, PassportId, SignedTransaction};
use rand::Rng;
use std::collections::BTreeSet;

/// How many passports the agents keep in the jury pool: a jury of three, and the parties of a
/// dispute, who cannot sit on it.
const POOL_TARGET: usize = 6;

/// What the agents did on juries, so that nobody acts twice.
#[derive(Default)]
pub(super) struct JuryDuty {
    /// Genesis agents take turns to join: the next one to ask.
    next_joiner: usize,
    ruled: BTreeSet<(JuryCaseId, PassportId)>,
    /// Cases after whose draw a pool member left.
    left_after: BTreeSet<JuryCaseId>,
    disputes: u64,
    slashes: u64,
}

impl Agents {
    /// A block's jury duty: a join or a leave, and the rulings due on the recent cases.
    pub(super) fn serve_on_juries(
        &mut self,
        chain: &dyn ChainView,
    ) -> Vec<(SignedTransaction, Intent)> {
        let pool = chain.jury_pool();
        let recent = chain.recent_jury_cases();
        let mut transactions: Vec<_> = self
            .join_or_leave(&pool, recent.first())
            .into_iter()
            .collect();
        for case in recent
            .iter()
            .filter(|case| case.status == CaseStatus::Ruling)
        {
            transactions.extend(self.rule(case));
        }
        transactions
    }

    /// Whether this disputed escrow goes to a jury (every other one) rather than its arbiter.
    pub(super) fn sends_to_jury(&mut self) -> bool {
        self.duty.disputes += 1;
        self.duty.disputes.is_multiple_of(2)
    }

    /// Whether this slash goes to a jury (every other one) rather than the panel's approvals.
    pub(super) fn sends_slash_to_jury(&mut self) -> bool {
        self.duty.slashes += 1;
        self.duty.slashes.is_multiple_of(2)
    }

    /// The first arbiter sends a slash of a bonded agent's stake to a jury under a fresh case
    /// number.
    pub(super) fn slash_before_jury(
        &mut self,
        chain: &dyn ChainView,
    ) -> Option<(SignedTransaction, Intent)> {
        let (offender, amount) = self.slash_target(chain)?;
        let action = Action::RequestSlashJury {
            offender,
            amount,
            case: CaseId(self.rng.gen()),
        };
        let arbiter = self.cell.arbiter(0).clone();
        Some((self.sign(&arbiter, action), Intent::Plain))
    }

    fn join_or_leave(
        &mut self,
        pool: &[PassportId],
        latest: Option<&JuryCase>,
    ) -> Option<(SignedTransaction, Intent)> {
        if pool.len() < POOL_TARGET {
            // Genesis agents never exit, so a juror's bond never stands in an exit's way.
            let genesis = self.genesis_agents;
            let joiner = (1..=genesis)
                .map(|step| (self.duty.next_joiner + step) % genesis)
                .find(|index| !pool.contains(&self.agents[*index].id))?;
            self.duty.next_joiner = joiner;
            let joiner = self.agents[joiner].clone();
            return Some((self.sign(&joiner, Action::JoinJuryPool), Intent::Plain));
        }
        let drawn = latest.filter(|case| case.status != CaseStatus::AwaitingDraw)?;
        if !self.duty.left_after.insert(drawn.id) {
            return None;
        }
        let leaver = (self.agents.iter())
            .find(|agent| pool.contains(&agent.id) && !drawn.jurors.contains(&agent.id))?
            .clone();
        Some((self.sign(&leaver, Action::LeaveJuryPool), Intent::Plain))
    }

    /// The rulings of the case's drawn agents that have not ruled; three in four for the claim.
    fn rule(&mut self, case: &JuryCase) -> Vec<(SignedTransaction, Intent)> {
        let present = match case.id.0 % 3 {
            2 => case.jurors.len().saturating_sub(1),
            _ => case.jurors.len(),
        };
        let mut rulings = Vec::new();
        for juror in &case.jurors[..present] {
            let Some(agent) = self.agents.iter().find(|agent| agent.id == *juror).cloned() else {
                continue;
            };
            if !self.duty.ruled.insert((case.id, agent.id)) {
                continue;
            }
            let verdict = if self.rng.gen_bool(0.75) {
                Verdict::ForClaim
            } else {
                Verdict::AgainstClaim
            };
            let action = Action::RuleOnCase {
                case: case.id,
                verdict,
            };
            rulings.push((self.sign(&agent, action), Intent::Plain));
        }
        rulings
    }
}
