//! One transaction: its envelope, then the rules of its action, found by domain.

use super::context::{Context, Outcome};
use super::envelope;
use super::overlay::Overlay;
use crate::ids::Height;
use crate::state::CellInfo;
use crate::transaction::{Action, SignedTransaction};

pub(crate) fn apply(
    state: &mut Overlay<'_>,
    cell: &CellInfo,
    height: Height,
    tx: &SignedTransaction,
) -> Outcome {
    let mut ctx = Context {
        state,
        cell,
        height,
        body: Some(&tx.body),
    };
    envelope::admit(&mut ctx, tx)?;
    dispatch(&mut ctx, &tx.body.action)
}

fn dispatch(ctx: &mut Context<'_, '_>, action: &Action) -> Outcome {
    match action {
        Action::Transfer { to, amount } => ctx.transfer(to, *amount),
        Action::IssuePassport {
            controller_keys,
            tier,
        } => ctx.issue_passport(controller_keys, *tier),
        Action::RotateKeys {
            subject,
            new_keys,
            consent,
        } => ctx.rotate_keys(subject, new_keys, consent),
        Action::ForkPassport { controller_keys } => ctx.fork_passport(controller_keys),
        Action::Exit => ctx.exit(),
        Action::Bond { amount } => ctx.bond(*amount),
        Action::Unbond { amount } => ctx.unbond(*amount),
        Action::Withdraw => ctx.withdraw(),
        Action::RegisterValidator(registration) => ctx.register_validator(registration),
        Action::Slash { evidence } => ctx.slash(evidence),
        Action::EscrowCreate {
            payee,
            amount,
            arbiter,
            release_height,
            expiry_height,
        } => ctx.escrow_create(payee, *amount, arbiter, *release_height, *expiry_height),
        Action::EscrowRelease { escrow } => ctx.escrow_release(escrow),
        Action::EscrowDispute { escrow } => ctx.escrow_dispute(escrow),
        Action::EscrowResolve {
            escrow,
            to_payee,
            to_payer,
        } => ctx.escrow_resolve(escrow, *to_payee, *to_payer),
        Action::EscrowRefund { escrow } => ctx.escrow_refund(escrow),
        Action::Sanction {
            subject,
            kind,
            liability,
            case,
            approvals,
        } => ctx.sanction(subject, *kind, *liability, case, approvals),
        Action::SetCellMode {
            mode,
            expires_at,
            approvals,
        } => ctx.set_cell_mode(*mode, *expires_at, approvals),
        Action::LiftBridgeLockdown {
            remote,
            epoch,
            keep,
            approvals,
        } => ctx.lift_bridge_lockdown(*remote, *epoch, *keep, approvals),
        Action::Propose { proposal } => ctx.propose(proposal),
        Action::Sponsor { process } => ctx.sponsor(*process),
        Action::Vote { process, choice } => ctx.vote(*process, *choice),
        Action::Delegate { to } => ctx.delegate(to),
        Action::Undelegate => ctx.undelegate(),
        Action::Veto {
            process,
            reason,
            approvals,
        } => ctx.veto(*process, reason, approvals),
        Action::JoinJuryPool => ctx.join_jury_pool(),
        Action::LeaveJuryPool => ctx.leave_jury_pool(),
        Action::RequestJury { escrow } => ctx.request_jury(escrow),
        Action::RuleOnCase { case, verdict } => ctx.rule_on_case(*case, *verdict),
        Action::RequestSlashJury {
            offender,
            amount,
            case,
        } => ctx.request_slash_jury(offender, *amount, case),
    }
}
