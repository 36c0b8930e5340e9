//! Jury duty and cases before juries: a passport joins the pool with a bond and leaves it on
//! notice; a party sends a disputed escrow to a jury, or an arbiter a slash case; drawn jurors
//! rule. The draw, the close of a case and the return of a bond run at the end of their blocks
//! (`verdicts`).
//!
//! **Doctrines.** The pool holds active passports only: a sanction that suspends or revokes a
//! juror dismisses it (`discipline`), and a juror cannot exit. A case draws only from the pool
//! as it stood when the case was filed, without its parties. A juror's bond stays locked until
//! every case that could have drawn it has closed, so that an absence can always be charged.
//! One ruling per juror, final. The stake a slash case is about stays until the case closes.

use super::context::{debit, ensure_active, ensure_positive, Context, Failure, Outcome};
use super::overlay::Overlay;
use super::sorted_lists::{insert_sorted, remove_sorted};
use crate::error::TxError;
use crate::governance::{
    CaseEvent, CaseStatus, CaseSubject, GovernanceRules, Juror, JurorRuling, JuryCase, JuryCaseId,
    JuryDeadline, Verdict, MAX_JURY_POOL,
};
use crate::ids::{Amount, CaseId, EscrowId, Height, PassportId};
use crate::state::{ArbiterPanel, EscrowStatus, StateKey};
use crate::storage::StorageError;

impl Context<'_, '_> {
    pub(super) fn join_jury_pool(&mut self) -> Outcome {
        let rules: GovernanceRules = self.state.require(&StateKey::GovernanceRules)?;
        let juries = &rules.juries;
        let mut passport = self.passport(self.sender())?;
        ensure_active(&passport)?;
        if !(juries.min_tier..=juries.max_tier).contains(&passport.tier) {
            return Err(TxError::JurorTierNotAllowed {
                tier: passport.tier,
                min: juries.min_tier,
                max: juries.max_tier,
            }
            .into());
        }
        let key = StateKey::Juror(passport.id);
        if self.state.get::<Juror>(&key)?.is_some() {
            return Err(TxError::AlreadyJuror.into());
        }
        debit(&mut passport, juries.juror_bond)?;
        if !insert_sorted(self.state, StateKey::JuryPool, passport.id, MAX_JURY_POOL)? {
            return Err(TxError::JuryPoolFull(MAX_JURY_POOL).into());
        }
        self.put_passport(&passport);
        let juror = Juror {
            bond: juries.juror_bond,
            joined_at: self.height,
            released_at: None,
        };
        self.state.put(key, &juror);
        Ok(())
    }

    pub(super) fn leave_jury_pool(&mut self) -> Outcome {
        let passport = *self.sender();
        let key = StateKey::Juror(passport);
        let mut juror: Juror = (self.state.get::<Juror>(&key)?)
            .filter(|juror| juror.released_at.is_none())
            .ok_or(TxError::NotInJuryPool)?;
        let release_at = release_height(self.state, self.height)?;
        leave_pool(self.state, &passport, &mut juror, release_at)?;
        self.state.put(key, &juror);
        Ok(())
    }

    /// Takes a passport that can no longer act out of the jury pool, on the usual notice.
    pub(super) fn dismiss_juror(&mut self, passport: &PassportId) -> Outcome {
        let key = StateKey::Juror(*passport);
        let Some(mut juror) = self.state.get::<Juror>(&key)? else {
            return Ok(());
        };
        if juror.released_at.is_none() {
            let release_at = release_height(self.state, self.height)?;
            leave_pool(self.state, passport, &mut juror, release_at)?;
            self.state.put(key, &juror);
        }
        Ok(())
    }

    pub(super) fn request_jury(&mut self, escrow_id: &EscrowId) -> Outcome {
        let mut escrow = self.open_escrow(escrow_id, EscrowStatus::Disputed, "disputed")?;
        let sender = *self.sender();
        if sender != escrow.payer && sender != escrow.payee {
            return Err(TxError::NotAuthorized(
                "only the payer or the payee can send a dispute to a jury",
            )
            .into());
        }
        let parties: Vec<PassportId> = [Some(escrow.payer), Some(escrow.payee), escrow.arbiter]
            .into_iter()
            .flatten()
            .collect();
        self.file_case(CaseSubject::Escrow(escrow.id), &parties)?;
        escrow.status = EscrowStatus::BeforeJury;
        self.state.put(StateKey::Escrow(escrow.id), &escrow);
        Ok(())
    }

    /// Files a slash case under a fresh arbiters' case number, which it spends at once so that
    /// neither a panel ruling nor a `SlashRuling` process can punish the same case again. The
    /// jury is drawn without the offender, the filer and those the slash would also reach (the
    /// offender's sponsor and forks).
    pub(super) fn request_slash_jury(
        &mut self,
        offender: &PassportId,
        amount: Amount,
        case: &CaseId,
    ) -> Outcome {
        ensure_positive(amount)?;
        let filer = *self.sender();
        let panel: ArbiterPanel = self.state.require(&StateKey::ArbiterPanel)?;
        if !panel.members.contains(&filer) {
            return Err(TxError::NotAuthorized(
                "only a member of the arbiter panel can send a slash case to a jury",
            )
            .into());
        }
        if *offender == filer {
            return Err(TxError::NotAuthorized(
                "an arbiter cannot send a slash of its own stake to a jury",
            )
            .into());
        }
        let accused = self.passport(offender)?;
        self.ensure_case_not_held(case)?;
        self.spend_case(case)?;
        let subject = CaseSubject::Slash {
            offender: *offender,
            amount,
            case: *case,
        };
        let mut parties = vec![*offender, filer];
        parties.extend(accused.sponsor);
        parties.extend(self.forks_of(&accused)?);
        let id = self.file_case(subject, &parties)?;
        let key = StateKey::SlashCasesAgainst(*offender);
        insert_sorted(self.state, key, id, usize::MAX)?;
        Ok(())
    }

    /// Opens a case on `subject` drawing from the pool without `parties`, at the rules in
    /// state; its draw is due `draw_delay` blocks from now.
    fn file_case(
        &mut self,
        subject: CaseSubject,
        parties: &[PassportId],
    ) -> Result<JuryCaseId, Failure> {
        let rules: GovernanceRules = self.state.require(&StateKey::GovernanceRules)?;
        let juries = rules.juries;
        let pool: Vec<PassportId> = (self.state.get::<Vec<PassportId>>(&StateKey::JuryPool)?)
            .unwrap_or_default()
            .into_iter()
            .filter(|passport| !parties.contains(passport))
            .collect();
        if pool.len() < juries.size as usize {
            return Err(TxError::JuryPoolTooSmall {
                eligible: pool.len(),
                needed: juries.size,
            }
            .into());
        }
        let id: JuryCaseId = (self.state.get(&StateKey::NextJuryCase)?).unwrap_or(JuryCaseId(0));
        let draw_at = self.height + juries.draw_delay;
        let case = JuryCase {
            id,
            subject,
            rules_version: rules.version,
            closes_at: draw_at + juries.ruling_blocks,
            rules: juries,
            filed_at: self.height,
            draw_at,
            pool,
            seed: None,
            jurors: Vec::new(),
            rulings: Vec::new(),
            status: CaseStatus::AwaitingDraw,
            outcome: None,
            history: vec![CaseEvent::Filed {
                height: self.height,
                by: *self.sender(),
            }],
        };
        add_jury_deadline(self.state, draw_at, JuryDeadline::Draw(id))?;
        let last_close: Height = self.state.get(&StateKey::LastJuryClose)?.unwrap_or(0);
        let last_close = last_close.max(case.closes_at);
        self.state.put(StateKey::LastJuryClose, &last_close);
        self.state.put(StateKey::JuryCase(id), &case);
        self.state
            .put(StateKey::NextJuryCase, &JuryCaseId(id.0 + 1));
        Ok(id)
    }

    /// Refuses to let stake leave a passport while a jury decides whether to slash it.
    pub(super) fn ensure_no_slash_case(&self, passport: &PassportId) -> Outcome {
        let key = StateKey::SlashCasesAgainst(*passport);
        match self.state.get::<Vec<JuryCaseId>>(&key)?.as_deref() {
            Some([first, ..]) => Err(TxError::StakeBeforeJury(*first).into()),
            _ => Ok(()),
        }
    }

    pub(super) fn rule_on_case(&mut self, id: JuryCaseId, verdict: Verdict) -> Outcome {
        let key = StateKey::JuryCase(id);
        let mut case: JuryCase = (self.state.get(&key)?).ok_or(TxError::UnknownJuryCase(id))?;
        if case.status != CaseStatus::Ruling {
            return Err(TxError::CaseNotRuling {
                case: id,
                status: case.status,
                closes_at: case.closes_at,
            }
            .into());
        }
        debug_assert!(self.height <= case.closes_at, "a case closes at closes_at");
        let juror = *self.sender();
        if !case.jurors.contains(&juror) {
            return Err(TxError::NotAJuror.into());
        }
        if case.rulings.iter().any(|ruling| ruling.juror == juror) {
            return Err(TxError::AlreadyRuled.into());
        }
        case.rulings.push(JurorRuling {
            juror,
            verdict,
            height: self.height,
        });
        self.state.put(key, &case);
        Ok(())
    }
}

/// When a juror leaving the pool at `height` gets its bond back: after the rules' notice, and
/// after the last case filed so far has closed (a rules change may have shortened the notice
/// below what an open case whose pool holds the juror still needs).
pub(super) fn release_height(state: &Overlay<'_>, height: Height) -> Result<Height, StorageError> {
    let rules: GovernanceRules = state.require(&StateKey::GovernanceRules)?;
    let last_close: Height = state.get(&StateKey::LastJuryClose)?.unwrap_or(0);
    Ok((height + rules.juries.notice_blocks()).max(last_close + 1))
}

/// Takes a juror out of the pool; the rest of its bond returns at the end of `release_at`.
pub(super) fn leave_pool(
    state: &mut Overlay<'_>,
    passport: &PassportId,
    juror: &mut Juror,
    release_at: Height,
) -> Result<(), StorageError> {
    debug_assert!(juror.released_at.is_none(), "a juror leaves the pool once");
    remove_sorted(state, StateKey::JuryPool, passport)?;
    juror.released_at = Some(release_at);
    add_jury_deadline(state, release_at, JuryDeadline::ReleaseJuror(*passport))
}

pub(super) fn add_jury_deadline(
    state: &mut Overlay<'_>,
    height: Height,
    deadline: JuryDeadline,
) -> Result<(), StorageError> {
    let key = StateKey::JuryDeadlines(height);
    insert_sorted(state, key, deadline, usize::MAX).map(|_| ())
}
