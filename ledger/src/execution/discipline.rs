//! Slashes, sanctions and the arbiter panel's rulings.
//!
//! - **Evidence, not trust.** A slash carries either two conflicting votes signed by one
//!   validator key or a ruling signed by the panel threshold, and each is usable once.
//! - **Liability follows lineage.** A fork copies its parent's sanctions and liabilities (in
//!   `passports`); a sanction or slash later imposed on a passport reaches its forks and its
//!   sponsor (here).

use super::context::{ensure_active, ensure_positive, Context, Failure, Outcome};
use crate::error::TxError;
use crate::evidence::{ArbiterApproval, DoubleVote, Ruling, RulingTerms};
use crate::governance::ProcessId;
use crate::ids::{Amount, CaseId, PassportId};
use crate::state::*;
use crate::transaction::SlashEvidence;
use std::collections::BTreeSet;

impl Context<'_, '_> {
    /// Slashes on the evidence a `Slash` transaction carries.
    pub(super) fn slash(&mut self, evidence: &SlashEvidence) -> Outcome {
        match evidence {
            SlashEvidence::DoubleVote(evidence) => self.slash_double_vote(evidence),
            SlashEvidence::ArbiterRuling {
                offender,
                amount,
                case,
                approvals,
            } => self.slash_by_ruling(offender, *amount, case, approvals),
        }
    }

    fn slash_double_vote(&mut self, evidence: &DoubleVote) -> Outcome {
        let (first, second) = (&evidence.first, &evidence.second);
        let invalid = |reason| Failure::Rejected(TxError::InvalidEvidence(reason));
        if first.validator_key != second.validator_key {
            return Err(invalid("the votes are signed by different keys"));
        }
        let (a, b) = (&first.vote, &second.vote);
        if (a.height, a.round, a.vote_type) != (b.height, b.round, b.vote_type) {
            return Err(invalid(
                "the votes are for different heights, rounds or steps",
            ));
        }
        if a.value == b.value {
            return Err(invalid("the votes do not conflict"));
        }
        for vote in [a, b] {
            if vote.federation != self.cell.federation || vote.cell != self.cell.cell {
                return Err(invalid("the votes are for another cell"));
            }
        }
        for signed in [first, second] {
            signed
                .validator_key
                .verify(&signed.vote.signing_bytes(), &signed.signature)
                .map_err(|_| invalid("a vote signature does not verify"))?;
        }
        let offender: PassportId = self
            .state
            .get(&StateKey::ConsensusKey(first.validator_key))?
            .ok_or_else(|| invalid("the key is not a registered validator's"))?;
        let case = CaseId(evidence.offence_id());
        let spent = StateKey::SpentEvidence(case.0);
        if self.state.get::<SpentCase>(&spent)?.is_some() {
            return Err(TxError::EvidenceAlreadyUsed.into());
        }
        self.state.put(
            spent,
            &SpentCase {
                at_height: self.height,
            },
        );
        let bond = self.bond_of(&offender)?;
        let stake = u128::from(bond.bonded) + u128::from(bond.unbonding_total());
        let amount =
            (stake * u128::from(self.cell.params.double_vote_slash_bps) / 10_000) as Amount;
        self.seize(&offender, amount, case).map(drop)
    }

    fn slash_by_ruling(
        &mut self,
        offender: &PassportId,
        amount: Amount,
        case: &CaseId,
        approvals: &[ArbiterApproval],
    ) -> Outcome {
        ensure_positive(amount)?;
        self.passport(offender)?;
        self.verify_ruling(
            case,
            Ruling::Slash {
                offender: *offender,
                amount,
            },
            approvals,
        )?;
        self.seize(offender, amount, *case).map(drop)
    }

    /// Seizes up to `amount` of the offender's stake, bonded first and then unbonding in
    /// release order, into the treasury. What could not be seized stays as a liability.
    /// Returns what it seized.
    pub(super) fn seize(
        &mut self,
        offender: &PassportId,
        amount: Amount,
        case: CaseId,
    ) -> Result<Amount, Failure> {
        let mut bond = self.bond_of(offender)?;
        let mut remaining = amount;
        let from_bond = remaining.min(bond.bonded);
        bond.bonded -= from_bond;
        remaining -= from_bond;
        for entry in bond.unbonding.iter_mut() {
            let taken = remaining.min(entry.amount);
            entry.amount -= taken;
            remaining -= taken;
        }
        bond.unbonding.retain(|entry| entry.amount > 0);
        self.state.put(StateKey::Bond(*offender), &bond);
        let passport = self.passport(offender)?;
        self.electorate_restakes(&passport, 0, from_bond)?;
        self.pay_treasury(amount - remaining)?;
        let record = SanctionRecord {
            case,
            kind: SanctionKind::Slashed,
            liability: remaining,
            imposed_at: self.height,
            inherited_from: None,
        };
        self.impose(offender, record)?;
        Ok(amount - remaining)
    }

    pub(super) fn sanction(
        &mut self,
        subject: &PassportId,
        kind: SanctionKind,
        liability: Amount,
        case: &CaseId,
        approvals: &[ArbiterApproval],
    ) -> Outcome {
        if kind == SanctionKind::Slashed {
            return Err(
                TxError::NotAuthorized("slashing takes a Slash transaction with evidence").into(),
            );
        }
        self.passport(subject)?;
        self.verify_ruling(
            case,
            Ruling::Sanction {
                subject: *subject,
                kind,
                liability,
            },
            approvals,
        )?;
        let record = SanctionRecord {
            case: *case,
            kind,
            liability,
            imposed_at: self.height,
            inherited_from: None,
        };
        self.impose(subject, record)
    }

    /// Records a sanction on the subject, every passport forked from it (transitively) and the
    /// subject's sponsor, adding its liability to each. A suspension or revocation also
    /// reaches the forks — a fork cannot be a way out of a sanction — but not the sponsor.
    /// Fork limits bound how many passports this touches.
    fn impose(&mut self, subject: &PassportId, record: SanctionRecord) -> Outcome {
        let mut passport = self.passport(subject)?;
        self.apply_sanction_status(&mut passport, record.kind)?;
        let forks = self.forks_of(&passport)?;
        let sponsor = passport.sponsor;
        add_sanction(&mut passport, record.clone());
        self.put_passport(&passport);
        let mut seen = BTreeSet::from([*subject]);
        let reached = forks
            .iter()
            .map(|id| (*id, true))
            .chain(sponsor.map(|id| (id, false)));
        for (id, is_fork) in reached {
            if !seen.insert(id) {
                continue;
            }
            let mut related = self.passport(&id)?;
            if is_fork {
                self.apply_sanction_status(&mut related, record.kind)?;
            }
            add_sanction(
                &mut related,
                SanctionRecord {
                    inherited_from: Some(*subject),
                    ..record.clone()
                },
            );
            self.put_passport(&related);
        }
        Ok(())
    }

    /// Every passport forked from `passport`, transitively, depth first in fork order: those a
    /// sanction on it reaches.
    pub(super) fn forks_of(&self, passport: &Passport) -> Result<Vec<PassportId>, Failure> {
        let mut forks: Vec<PassportId> = Vec::new();
        let mut pending: Vec<PassportId> = passport.forks.iter().rev().copied().collect();
        while let Some(id) = pending.pop() {
            forks.push(id);
            pending.extend(self.passport(&id)?.forks.iter().rev());
        }
        Ok(forks)
    }

    /// Checks that at least the panel threshold of distinct, active panel members signed these
    /// terms, and spends the case number.
    pub(super) fn verify_ruling(
        &mut self,
        case: &CaseId,
        ruling: Ruling,
        approvals: &[ArbiterApproval],
    ) -> Outcome {
        let panel: ArbiterPanel = self.state.require(&StateKey::ArbiterPanel)?;
        let terms = RulingTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            case: *case,
            ruling,
        };
        let message = terms.signing_bytes();
        let mut approvers = BTreeSet::new();
        for approval in approvals {
            if !panel.members.contains(&approval.arbiter) {
                return Err(TxError::NotAuthorized(
                    "an approval is from a passport outside the arbiter panel",
                )
                .into());
            }
            if !approvers.insert(approval.arbiter) {
                return Err(TxError::InvalidEvidence("two approvals from one arbiter").into());
            }
            let arbiter = self.passport(&approval.arbiter)?;
            ensure_active(&arbiter)?;
            if !arbiter.controller_keys.contains(&approval.key) {
                return Err(TxError::SignerNotController(arbiter.id).into());
            }
            approval
                .key
                .verify(&message, &approval.signature)
                .map_err(|_| TxError::InvalidEvidence("an arbiter signature does not verify"))?;
        }
        if (approvers.len() as u64) < u64::from(panel.threshold) || panel.threshold == 0 {
            return Err(TxError::InsufficientArbiterApprovals {
                approved: approvers.len(),
                threshold: panel.threshold,
            }
            .into());
        }
        self.spend_case(case)
    }

    pub(super) fn ensure_case_unspent(&self, case: &CaseId) -> Outcome {
        let key = StateKey::SpentCase(case.0);
        if self.state.get::<SpentCase>(&key)?.is_some() {
            return Err(TxError::EvidenceAlreadyUsed.into());
        }
        Ok(())
    }

    /// Refuses a case number that a pending `SlashRuling` process was proposed under, so that
    /// nothing one arbiter sends can spend it before the chambers' decision executes.
    pub(super) fn ensure_case_not_held(&self, case: &CaseId) -> Outcome {
        let key = StateKey::SlashRulingCase(*case);
        if let Some(process) = self.state.get::<ProcessId>(&key)? {
            if self.process(process)?.status.is_pending() {
                return Err(TxError::CaseHeldByProcess(process).into());
            }
        }
        Ok(())
    }

    pub(super) fn spend_case(&mut self, case: &CaseId) -> Outcome {
        self.ensure_case_unspent(case)?;
        let key = StateKey::SpentCase(case.0);
        self.state.put(
            key,
            &SpentCase {
                at_height: self.height,
            },
        );
        Ok(())
    }
}

/// Liabilities are a record of what is owed, not value held, so the counter saturates rather
/// than letting a huge earlier liability block later sanctions.
fn add_sanction(passport: &mut Passport, record: SanctionRecord) {
    passport.liabilities = passport.liabilities.saturating_add(record.liability);
    passport.sanctions.push(record);
}

impl Context<'_, '_> {
    /// A suspension or revocation ends a passport's place in the electorate, and in the jury
    /// pool: it could not rule, and could not leave by itself.
    fn apply_sanction_status(&mut self, passport: &mut Passport, kind: SanctionKind) -> Outcome {
        let was_active = passport.status == PassportStatus::Active;
        match kind {
            SanctionKind::Suspension if was_active => passport.status = PassportStatus::Suspended,
            SanctionKind::Revocation => passport.status = PassportStatus::Revoked,
            _ => {}
        }
        if was_active && passport.status != PassportStatus::Active {
            self.electorate_loses(passport)?;
            self.dismiss_juror(&passport.id)?;
        }
        Ok(())
    }
}
