//! The end of every block, for juries: the cases whose draw height it is draw their jury from
//! the beacon; the cases whose ruling period ends close, pay the escrow out or slash the
//! offender by the majority, and charge the absent jurors; the bonds whose notice ends return.
//! Nobody submits anything.

use super::context::{Context, Failure, Outcome};
use super::juries::{add_jury_deadline, leave_pool, release_height};
use super::overlay::Overlay;
use super::sorted_lists::remove_sorted;
use crate::governance::{
    draw_jury, Beacon, CaseEvent, CaseOutcome, CaseStatus, CaseSubject, Juror, JuryCase,
    JuryCaseId, JuryDeadline, Verdict,
};
use crate::ids::{Amount, EscrowId, Height, PassportId};
use crate::state::{CellInfo, Escrow, EscrowStatus, StateKey};
use crate::storage::StorageError;

pub(super) fn run_jury_deadlines(
    block: &mut Overlay<'_>,
    height: Height,
) -> Result<(), StorageError> {
    let key = StateKey::JuryDeadlines(height);
    let Some(due) = block.get::<Vec<JuryDeadline>>(&key)? else {
        return Ok(());
    };
    block.delete(key);
    for deadline in due {
        match deadline {
            JuryDeadline::Draw(case) => draw(block, height, case)?,
            JuryDeadline::Close(case) => close(block, height, case)?,
            JuryDeadline::ReleaseJuror(passport) => release(block, height, &passport)?,
        }
    }
    Ok(())
}

/// Seats the jury the beacon of this height draws from the case's pool.
fn draw(block: &mut Overlay<'_>, height: Height, id: JuryCaseId) -> Result<(), StorageError> {
    let mut case: JuryCase = block.require(&StateKey::JuryCase(id))?;
    assert_eq!(case.status, CaseStatus::AwaitingDraw, "a case draws once");
    let beacon: Beacon = block.require(&StateKey::Beacon)?;
    case.jurors = draw_jury(&beacon.mix, id, &case.pool, case.rules.size);
    case.seed = Some(beacon.mix);
    case.status = CaseStatus::Ruling;
    case.history.push(CaseEvent::Drawn { height });
    add_jury_deadline(block, case.closes_at, JuryDeadline::Close(id))?;
    block.put(StateKey::JuryCase(id), &case);
    Ok(())
}

/// Counts the rulings, carries out the verdict and charges each absent juror, removing it from
/// the pool. A claim holds only when more than half the jurors drawn rule for it: ties,
/// silence and absences leave the escrow with its payer and the offender with its stake.
fn close(block: &mut Overlay<'_>, height: Height, id: JuryCaseId) -> Result<(), StorageError> {
    let mut case: JuryCase = block.require(&StateKey::JuryCase(id))?;
    assert_eq!(case.status, CaseStatus::Ruling, "a case closes once, drawn");
    let count = |verdict| case.rulings.iter().filter(|r| r.verdict == verdict).count() as u32;
    let (for_claim, against_claim) = (count(Verdict::ForClaim), count(Verdict::AgainstClaim));
    let verdict = if 2 * for_claim as usize > case.jurors.len() {
        Verdict::ForClaim
    } else {
        Verdict::AgainstClaim
    };
    let absent: Vec<PassportId> = (case.jurors.iter())
        .filter(|juror| !case.rulings.iter().any(|ruling| ruling.juror == **juror))
        .copied()
        .collect();
    let mut penalties: Amount = 0;
    for juror in &absent {
        penalties += charge_absence(block, height, juror, &case)?;
    }
    let slashed = carry_out(block, height, &case, verdict, penalties)?;
    case.status = CaseStatus::Settled;
    case.outcome = Some(CaseOutcome {
        for_claim,
        against_claim,
        verdict,
        absent,
        penalties,
        slashed,
    });
    case.history.push(CaseEvent::Settled { height, verdict });
    block.put(StateKey::JuryCase(id), &case);
    Ok(())
}

/// Takes the case's absence penalty (at most what is left of the bond) and removes the juror
/// from the pool on the rules' notice. Returns what it took.
fn charge_absence(
    block: &mut Overlay<'_>,
    height: Height,
    passport: &PassportId,
    case: &JuryCase,
) -> Result<Amount, StorageError> {
    let key = StateKey::Juror(*passport);
    let Some(mut juror) = block.get::<Juror>(&key)? else {
        return Ok(0);
    };
    let penalty = case.rules.absence_penalty.min(juror.bond);
    juror.bond -= penalty;
    if juror.released_at.is_none() {
        let release_at = release_height(block, height)?;
        leave_pool(block, passport, &mut juror, release_at)?;
    }
    block.put(key, &juror);
    Ok(penalty)
}

/// Does what the verdict says to the case's subject — pays the escrow to the side it names, or
/// slashes the offender if the claim holds and releases its stake either way — and pays the
/// penalties to the treasury. Returns what it slashed.
fn carry_out(
    block: &mut Overlay<'_>,
    height: Height,
    case: &JuryCase,
    verdict: Verdict,
    penalties: Amount,
) -> Result<Amount, StorageError> {
    let cell: CellInfo = block.require(&StateKey::Cell)?;
    let mut ctx = Context {
        state: block,
        cell: &cell,
        height,
        body: None,
    };
    let slashed = match case.subject {
        CaseSubject::Escrow(escrow) => settle_escrow(&mut ctx, &escrow, verdict).map(|()| 0),
        CaseSubject::Slash {
            offender,
            amount,
            case: number,
        } => {
            remove_sorted(ctx.state, StateKey::SlashCasesAgainst(offender), &case.id)?;
            match verdict {
                Verdict::ForClaim => ctx.seize(&offender, amount, number),
                Verdict::AgainstClaim => Ok(0),
            }
        }
    };
    slashed
        .and_then(|slashed| ctx.pay_treasury(penalties).map(|()| slashed))
        .map_err(|failure| unpayable("a jury's ruling", failure))
}

fn settle_escrow(ctx: &mut Context<'_, '_>, id: &EscrowId, verdict: Verdict) -> Outcome {
    let escrow: Escrow = ctx.state.require(&StateKey::Escrow(*id))?;
    assert_eq!(
        escrow.status,
        EscrowStatus::BeforeJury,
        "a jury settles its escrow"
    );
    let amount = escrow.amount;
    match verdict {
        Verdict::ForClaim => ctx.settle(escrow, EscrowStatus::Resolved, amount, 0),
        Verdict::AgainstClaim => ctx.settle(escrow, EscrowStatus::Refunded, 0, amount),
    }
}

/// Returns what is left of a juror's bond once its notice has run.
fn release(
    block: &mut Overlay<'_>,
    height: Height,
    passport: &PassportId,
) -> Result<(), StorageError> {
    let key = StateKey::Juror(*passport);
    let juror: Juror = block.require(&key)?;
    debug_assert_eq!(juror.released_at, Some(height));
    block.delete(key);
    let cell: CellInfo = block.require(&StateKey::Cell)?;
    let mut ctx = Context {
        state: block,
        cell: &cell,
        height,
        body: None,
    };
    ctx.credit_passport(passport, juror.bond)
        .map_err(|failure| unpayable("a juror's bond", failure))
}

/// Moving value the ledger already holds cannot break a rule while the supply is conserved
/// and the parties exist, so a failure here means the state itself is wrong.
fn unpayable(what: &str, failure: Failure) -> StorageError {
    match failure {
        Failure::Storage(error) => error,
        Failure::Rejected(error) => {
            StorageError::Corrupt(format!("{what} could not be paid: {error}"))
        }
    }
}
