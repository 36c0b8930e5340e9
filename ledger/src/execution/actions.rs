//! The rules of every transaction kind. Each doctrine of the ledger model is stated once, here,
//! where it is enforced:
//!
//! - **Conservation.** Value only moves: every debit has an equal credit (balance, bond,
//!   unbonding, escrow or treasury) in the same transaction, with checked arithmetic.
//! - **Consent.** Rotating keys, forking and exiting act on the sender's own passport, or (for
//!   rotation and sanctions) carry an arbiter-panel ruling.
//! - **Liability follows lineage.** A fork copies its parent's sanctions and liabilities; a
//!   sanction or slash later imposed on a passport reaches its forks and its sponsor.
//! - **Evidence, not trust.** A slash carries either two conflicting votes signed by one
//!   validator key or a ruling signed by the panel threshold, and each is usable once.

use super::mode::mode_permits;
use super::overlay::Overlay;
use crate::controller_keys;
use crate::crypto::ed25519::Ed25519PublicKey;
use crate::error::TxError;
use crate::evidence::{
    ArbiterApproval, BridgeRulingTerms, DoubleVote, ModeChangeTerms, RegistrationTerms, Ruling,
    RulingTerms, ValidatorApproval,
};
use crate::ids::{Amount, CaseId, CellId, CheckpointId, EscrowId, Height, PassportId};
use crate::state::*;
use crate::storage::StorageError;
use crate::transaction::{
    Action, Consent, SignedTransaction, SlashEvidence, TransactionBody, ValidatorRegistration,
};
use std::collections::BTreeSet;

pub(crate) enum Failure {
    Rejected(TxError),
    Storage(StorageError),
}

impl From<TxError> for Failure {
    fn from(error: TxError) -> Self {
        Failure::Rejected(error)
    }
}

impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Self {
        Failure::Storage(error)
    }
}

type Outcome = Result<(), Failure>;

/// The state a transaction's rules see, with the facts of its block.
struct Context<'s, 'a> {
    state: &'s mut Overlay<'a>,
    cell: &'s CellInfo,
    height: Height,
    body: &'s TransactionBody,
}

pub(crate) fn apply(
    state: &mut Overlay<'_>,
    cell: &CellInfo,
    height: Height,
    tx: &SignedTransaction,
) -> Outcome {
    let body = &tx.body;
    if body.federation != cell.federation {
        return Err(TxError::WrongFederation {
            expected: cell.federation,
            got: body.federation,
        }
        .into());
    }
    if body.cell != cell.cell {
        return Err(TxError::WrongCell {
            expected: cell.cell,
            got: body.cell,
        }
        .into());
    }
    let mut ctx = Context {
        state,
        cell,
        height,
        body,
    };
    let mut sender = ctx.passport(&body.sender)?;
    if !sender.controller_keys.contains(&tx.signer) {
        return Err(TxError::SignerNotController(sender.id).into());
    }
    ensure_active(&sender)?;
    if body.nonce < sender.nonce {
        return Err(TxError::StaleNonce {
            expected: sender.nonce,
            got: body.nonce,
        }
        .into());
    }
    if body.nonce > sender.nonce {
        return Err(TxError::FutureNonce {
            expected: sender.nonce,
            got: body.nonce,
        }
        .into());
    }
    if body.fee < cell.params.min_fee {
        return Err(TxError::FeeTooLow {
            minimum: cell.params.min_fee,
            offered: body.fee,
        }
        .into());
    }
    let mode: CellModeState = ctx.state.require(&StateKey::CellMode)?;
    if !mode_permits(mode.mode, &body.action, &cell.params, height) {
        return Err(TxError::ModeForbids {
            mode: mode.mode,
            action: body.action.kind(),
        }
        .into());
    }
    debit(&mut sender, body.fee)?;
    sender.nonce += 1;
    ctx.put_passport(&sender);
    ctx.pay_treasury(body.fee)?;

    match &body.action {
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
        Action::Slash {
            evidence: SlashEvidence::DoubleVote(evidence),
        } => ctx.slash_double_vote(evidence),
        Action::Slash {
            evidence:
                SlashEvidence::ArbiterRuling {
                    offender,
                    amount,
                    case,
                    approvals,
                },
        } => ctx.slash_by_ruling(offender, *amount, case, approvals),
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
            mode: new_mode,
            expires_at,
            approvals,
        } => ctx.set_cell_mode(&mode, *new_mode, *expires_at, approvals),
        Action::LiftBridgeLockdown {
            remote,
            epoch,
            keep,
            approvals,
        } => ctx.lift_bridge_lockdown(*remote, *epoch, *keep, approvals),
    }
}

fn ensure_active(passport: &Passport) -> Result<(), TxError> {
    if passport.status == PassportStatus::Active {
        Ok(())
    } else {
        Err(TxError::PassportNotActive {
            passport: passport.id,
            status: passport.status,
        })
    }
}

/// A passport that has exited or been revoked can no longer be a counterparty.
fn ensure_can_receive(passport: &Passport) -> Result<(), TxError> {
    match passport.status {
        PassportStatus::Active | PassportStatus::Suspended => Ok(()),
        status => Err(TxError::PassportNotActive {
            passport: passport.id,
            status,
        }),
    }
}

fn ensure_positive(amount: Amount) -> Result<(), TxError> {
    if amount == 0 {
        Err(TxError::ZeroAmount)
    } else {
        Ok(())
    }
}

fn debit(passport: &mut Passport, amount: Amount) -> Result<(), TxError> {
    passport.balance =
        passport
            .balance
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBalance {
                needed: amount,
                available: passport.balance,
            })?;
    Ok(())
}

fn credit(passport: &mut Passport, amount: Amount) -> Result<(), TxError> {
    passport.balance = passport
        .balance
        .checked_add(amount)
        .ok_or(TxError::AmountOverflow)?;
    Ok(())
}

fn validate_controller_keys(keys: &[Ed25519PublicKey]) -> Result<(), TxError> {
    controller_keys::validate(keys).map_err(TxError::InvalidControllerKeys)
}

impl Context<'_, '_> {
    fn sender(&self) -> &PassportId {
        &self.body.sender
    }

    fn passport(&self, id: &PassportId) -> Result<Passport, Failure> {
        Ok(self
            .state
            .get(&StateKey::Passport(*id))?
            .ok_or(TxError::UnknownPassport(*id))?)
    }

    fn put_passport(&mut self, passport: &Passport) {
        self.state.put(StateKey::Passport(passport.id), passport);
    }

    fn bond_of(&self, id: &PassportId) -> Result<Bond, Failure> {
        Ok(self.state.get(&StateKey::Bond(*id))?.unwrap_or_default())
    }

    fn pay_treasury(&mut self, amount: Amount) -> Outcome {
        let mut treasury: Treasury = self.state.require(&StateKey::Treasury)?;
        treasury.balance = treasury
            .balance
            .checked_add(amount)
            .ok_or(TxError::AmountOverflow)?;
        self.state.put(StateKey::Treasury, &treasury);
        Ok(())
    }

    fn credit_passport(&mut self, id: &PassportId, amount: Amount) -> Outcome {
        let mut passport = self.passport(id)?;
        credit(&mut passport, amount)?;
        self.put_passport(&passport);
        Ok(())
    }

    fn transfer(&mut self, to: &PassportId, amount: Amount) -> Outcome {
        ensure_positive(amount)?;
        let mut sender = self.passport(self.sender())?;
        debit(&mut sender, amount)?;
        self.put_passport(&sender);
        let recipient = self.passport(to)?;
        ensure_can_receive(&recipient)?;
        self.credit_passport(to, amount)
    }

    fn new_passport(
        &self,
        id: PassportId,
        controller_keys: &[Ed25519PublicKey],
        tier: u8,
    ) -> Passport {
        Passport::new(
            id,
            controller_keys.to_vec(),
            self.cell.cell,
            tier,
            self.height,
        )
    }

    /// The id a passport created by this transaction gets.
    fn created_passport_id(&self) -> Result<PassportId, Failure> {
        let id = PassportId::derive(self.cell.cell, self.sender(), self.body.nonce);
        if self
            .state
            .get::<Passport>(&StateKey::Passport(id))?
            .is_some()
        {
            return Err(TxError::PassportExists(id).into());
        }
        Ok(id)
    }

    /// A sponsor needs the cell's sponsor tier and bond, and can only issue lower tiers; the
    /// new passport records its sponsor, who shares its liabilities.
    fn issue_passport(&mut self, controller_keys: &[Ed25519PublicKey], tier: u8) -> Outcome {
        validate_controller_keys(controller_keys)?;
        let sponsor = self.passport(self.sender())?;
        let params = &self.cell.params;
        if sponsor.tier < params.min_sponsor_tier {
            return Err(TxError::NotAuthorized(
                "the sponsor's tier is below the cell's sponsor tier",
            )
            .into());
        }
        let bonded = self.bond_of(&sponsor.id)?.bonded;
        if bonded < params.min_sponsor_bond {
            return Err(TxError::InsufficientBond {
                needed: params.min_sponsor_bond,
                available: bonded,
            }
            .into());
        }
        if tier >= sponsor.tier {
            return Err(TxError::TierNotAllowed {
                requested: tier,
                reason: "must be below the sponsor's tier",
            }
            .into());
        }
        let id = self.created_passport_id()?;
        let mut passport = self.new_passport(id, controller_keys, tier);
        passport.sponsor = Some(sponsor.id);
        self.put_passport(&passport);
        Ok(())
    }

    fn rotate_keys(
        &mut self,
        subject: &PassportId,
        new_keys: &[Ed25519PublicKey],
        consent: &Consent,
    ) -> Outcome {
        validate_controller_keys(new_keys)?;
        match consent {
            Consent::Subject if subject == self.sender() => {}
            Consent::Subject => {
                return Err(TxError::NotAuthorized(
                    "only the subject or an arbiter ruling can rotate its keys",
                )
                .into())
            }
            Consent::Ruling { case, approvals } => {
                let ruling = Ruling::RotateKeys {
                    subject: *subject,
                    new_keys: new_keys.to_vec(),
                };
                self.verify_ruling(case, ruling, approvals)?;
            }
        }
        let mut passport = self.passport(subject)?;
        ensure_can_receive(&passport)?;
        passport.controller_keys = new_keys.to_vec();
        self.put_passport(&passport);
        Ok(())
    }

    fn fork_passport(&mut self, controller_keys: &[Ed25519PublicKey]) -> Outcome {
        validate_controller_keys(controller_keys)?;
        let mut parent = self.passport(self.sender())?;
        let params = &self.cell.params;
        if parent.forks.len() >= params.max_forks as usize {
            return Err(TxError::ForkLimit(
                "the passport has as many forks as a passport may have",
            )
            .into());
        }
        if parent.generation >= params.max_lineage_depth {
            return Err(TxError::ForkLimit("the lineage is as deep as the cell allows").into());
        }
        let id = self.created_passport_id()?;
        let mut child = self.new_passport(id, controller_keys, parent.tier);
        child.generation = parent.generation + 1;
        child.sponsor = parent.sponsor;
        child.lineage = vec![parent.id];
        child.liabilities = parent.liabilities;
        child.sanctions = parent
            .sanctions
            .iter()
            .map(|record| SanctionRecord {
                inherited_from: record.inherited_from.or(Some(parent.id)),
                ..record.clone()
            })
            .collect();
        parent.forks.push(id);
        self.put_passport(&parent);
        self.put_passport(&child);
        Ok(())
    }

    fn exit(&mut self) -> Outcome {
        let bond = self.bond_of(self.sender())?;
        let staked = bond
            .bonded
            .checked_add(bond.unbonding_total())
            .ok_or(TxError::AmountOverflow)?;
        if staked > 0 {
            return Err(TxError::StakeOutstanding(staked).into());
        }
        let mut passport = self.passport(self.sender())?;
        passport.status = PassportStatus::Exited;
        self.put_passport(&passport);
        Ok(())
    }

    fn bond(&mut self, amount: Amount) -> Outcome {
        ensure_positive(amount)?;
        let mut passport = self.passport(self.sender())?;
        debit(&mut passport, amount)?;
        self.put_passport(&passport);
        let mut bond = self.bond_of(self.sender())?;
        bond.bonded = bond
            .bonded
            .checked_add(amount)
            .ok_or(TxError::AmountOverflow)?;
        self.state.put(StateKey::Bond(*self.sender()), &bond);
        Ok(())
    }

    fn unbond(&mut self, amount: Amount) -> Outcome {
        ensure_positive(amount)?;
        let mut bond = self.bond_of(self.sender())?;
        bond.bonded = bond
            .bonded
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBond {
                needed: amount,
                available: bond.bonded,
            })?;
        let release_height = self.height.saturating_add(self.cell.params.unbonding_delay);
        bond.unbonding.push(UnbondingEntry {
            amount,
            release_height,
        });
        self.state.put(StateKey::Bond(*self.sender()), &bond);
        Ok(())
    }

    fn withdraw(&mut self) -> Outcome {
        let mut bond = self.bond_of(self.sender())?;
        let height = self.height;
        let (matured, pending): (Vec<_>, Vec<_>) = bond
            .unbonding
            .into_iter()
            .partition(|entry| entry.release_height <= height);
        if matured.is_empty() {
            return Err(TxError::NothingToWithdraw.into());
        }
        bond.unbonding = pending;
        let total = matured
            .iter()
            .try_fold(0u64, |sum, entry| sum.checked_add(entry.amount))
            .ok_or(TxError::AmountOverflow)?;
        self.state.put(StateKey::Bond(*self.sender()), &bond);
        self.credit_passport(&self.body.sender, total)
    }

    /// Both keys must sign the terms binding them to the sender, so that nobody can register
    /// (or block, by registering first) keys they do not hold.
    fn register_validator(&mut self, registration: &ValidatorRegistration) -> Outcome {
        let ValidatorRegistration {
            consensus_key,
            bls_key,
            bls_proof_of_possession: proof,
            consensus_signature,
            bls_signature,
        } = registration;
        let sender = *self.sender();
        if self
            .state
            .get::<Validator>(&StateKey::Validator(sender))?
            .is_some()
        {
            return Err(TxError::AlreadyValidator(sender).into());
        }
        let bonded = self.bond_of(&sender)?.bonded;
        let minimum = self.cell.params.min_validator_bond;
        if bonded < minimum {
            return Err(TxError::InsufficientBond {
                needed: minimum,
                available: bonded,
            }
            .into());
        }
        consensus_key
            .verifying_key()
            .map_err(TxError::InvalidConsensusKey)?;
        if self
            .state
            .get::<PassportId>(&StateKey::ConsensusKey(*consensus_key))?
            .is_some()
        {
            return Err(TxError::ConsensusKeyInUse.into());
        }
        bls_key
            .verify_possession(proof)
            .map_err(TxError::InvalidBlsKey)?;
        if self
            .state
            .get::<PassportId>(&StateKey::BlsKey(*bls_key))?
            .is_some()
        {
            return Err(TxError::BlsKeyInUse.into());
        }
        let terms = RegistrationTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            passport: sender,
            consensus_key: *consensus_key,
            bls_key: *bls_key,
        }
        .signing_bytes();
        consensus_key
            .verify(&terms, consensus_signature)
            .map_err(TxError::InvalidConsensusKey)?;
        bls_key
            .verify(&terms, bls_signature)
            .map_err(TxError::InvalidBlsKey)?;
        let validator = Validator {
            passport: sender,
            consensus_key: *consensus_key,
            bls_key: *bls_key,
            registered_at: self.height,
        };
        add_validator(self.state, &validator)?;
        Ok(())
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
        self.slash(&offender, amount, case)
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
        self.slash(offender, amount, *case)
    }

    /// Seizes up to `amount` of the offender's stake, bonded first and then unbonding in
    /// release order, into the treasury. What could not be seized stays as a liability.
    fn slash(&mut self, offender: &PassportId, amount: Amount, case: CaseId) -> Outcome {
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
        self.pay_treasury(amount - remaining)?;
        let record = SanctionRecord {
            case,
            kind: SanctionKind::Slashed,
            liability: remaining,
            imposed_at: self.height,
            inherited_from: None,
        };
        self.impose(offender, record)
    }

    fn sanction(
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
        apply_sanction_status(&mut passport, record.kind);
        let mut forks: Vec<PassportId> = Vec::new();
        let mut pending: Vec<PassportId> = passport.forks.iter().rev().copied().collect();
        while let Some(id) = pending.pop() {
            forks.push(id);
            pending.extend(self.passport(&id)?.forks.iter().rev());
        }
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
                apply_sanction_status(&mut related, record.kind);
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

    /// Checks that at least the panel threshold of distinct, active panel members signed these
    /// terms, and spends the case number.
    fn verify_ruling(
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

    fn spend_case(&mut self, case: &CaseId) -> Outcome {
        let key = StateKey::SpentCase(case.0);
        if self.state.get::<SpentCase>(&key)?.is_some() {
            return Err(TxError::EvidenceAlreadyUsed.into());
        }
        self.state.put(
            key,
            &SpentCase {
                at_height: self.height,
            },
        );
        Ok(())
    }

    fn escrow_create(
        &mut self,
        payee: &PassportId,
        amount: Amount,
        arbiter: &Option<PassportId>,
        release_height: Height,
        expiry_height: Height,
    ) -> Outcome {
        ensure_positive(amount)?;
        if expiry_height <= self.height || release_height > expiry_height {
            return Err(TxError::InvalidEscrowHeights {
                release_height,
                expiry_height,
                height: self.height,
            }
            .into());
        }
        ensure_can_receive(&self.passport(payee)?)?;
        if let Some(arbiter) = arbiter {
            ensure_active(&self.passport(arbiter)?)?;
        }
        let mut payer = self.passport(self.sender())?;
        debit(&mut payer, amount)?;
        self.put_passport(&payer);
        let id = EscrowId::derive(self.cell.cell, self.sender(), self.body.nonce);
        let escrow = Escrow {
            id,
            payer: payer.id,
            payee: *payee,
            amount,
            arbiter: *arbiter,
            release_height,
            expiry_height,
            status: EscrowStatus::Open,
        };
        self.state.put(StateKey::Escrow(id), &escrow);
        Ok(())
    }

    fn open_escrow(
        &self,
        id: &EscrowId,
        required: EscrowStatus,
        description: &'static str,
    ) -> Result<Escrow, Failure> {
        let escrow: Escrow = self
            .state
            .get(&StateKey::Escrow(*id))?
            .ok_or(TxError::UnknownEscrow(*id))?;
        if escrow.status != required {
            return Err(TxError::EscrowWrongState {
                status: escrow.status,
                required: description,
            }
            .into());
        }
        Ok(escrow)
    }

    /// Pays out a held escrow and records how it ended.
    fn settle(
        &mut self,
        mut escrow: Escrow,
        status: EscrowStatus,
        to_payee: Amount,
        to_payer: Amount,
    ) -> Outcome {
        escrow.status = status;
        self.state.put(StateKey::Escrow(escrow.id), &escrow);
        if to_payee > 0 {
            self.credit_passport(&escrow.payee, to_payee)?;
        }
        if to_payer > 0 {
            self.credit_passport(&escrow.payer, to_payer)?;
        }
        Ok(())
    }

    fn escrow_release(&mut self, id: &EscrowId) -> Outcome {
        let escrow = self.open_escrow(id, EscrowStatus::Open, "open")?;
        if *self.sender() != escrow.payer && Some(*self.sender()) != escrow.arbiter {
            return Err(TxError::NotAuthorized(
                "only the payer or the arbiter can release an escrow",
            )
            .into());
        }
        if self.height < escrow.release_height {
            return Err(TxError::EscrowNotReleasable {
                release_height: escrow.release_height,
            }
            .into());
        }
        let amount = escrow.amount;
        self.settle(escrow, EscrowStatus::Released, amount, 0)
    }

    fn escrow_dispute(&mut self, id: &EscrowId) -> Outcome {
        let mut escrow = self.open_escrow(id, EscrowStatus::Open, "open")?;
        if *self.sender() != escrow.payer && *self.sender() != escrow.payee {
            return Err(TxError::NotAuthorized(
                "only the payer or the payee can dispute an escrow",
            )
            .into());
        }
        let Some(arbiter) = escrow.arbiter else {
            return Err(TxError::EscrowHasNoArbiter.into());
        };
        ensure_active(&self.passport(&arbiter)?)?;
        if self.height >= escrow.expiry_height {
            return Err(TxError::EscrowWrongState {
                status: escrow.status,
                required: "open and not expired",
            }
            .into());
        }
        escrow.status = EscrowStatus::Disputed;
        self.state.put(StateKey::Escrow(escrow.id), &escrow);
        Ok(())
    }

    fn escrow_resolve(&mut self, id: &EscrowId, to_payee: Amount, to_payer: Amount) -> Outcome {
        let escrow = self.open_escrow(id, EscrowStatus::Disputed, "disputed")?;
        if Some(*self.sender()) != escrow.arbiter {
            return Err(TxError::NotAuthorized("only the escrow's arbiter can resolve it").into());
        }
        let split = to_payee
            .checked_add(to_payer)
            .ok_or(TxError::AmountOverflow)?;
        if split != escrow.amount {
            return Err(TxError::ResolutionMismatch {
                split,
                held: escrow.amount,
            }
            .into());
        }
        self.settle(escrow, EscrowStatus::Resolved, to_payee, to_payer)
    }

    /// Returns an expired escrow to its payer. Any party may send it (the money can only go
    /// back to the payer), so an escrow cannot be stranded by a payer who has left. A disputed
    /// escrow is refundable only once its arbiter has let `dispute_timeout` blocks pass after
    /// expiry without resolving it.
    fn escrow_refund(&mut self, id: &EscrowId) -> Outcome {
        let escrow: Escrow = self
            .state
            .get(&StateKey::Escrow(*id))?
            .ok_or(TxError::UnknownEscrow(*id))?;
        let refundable_from = match escrow.status {
            EscrowStatus::Open => escrow.expiry_height,
            EscrowStatus::Disputed => escrow
                .expiry_height
                .saturating_add(self.cell.params.dispute_timeout),
            status => {
                return Err(TxError::EscrowWrongState {
                    status,
                    required: "open or disputed",
                }
                .into())
            }
        };
        let sender = Some(*self.sender());
        if sender != Some(escrow.payer) && sender != Some(escrow.payee) && sender != escrow.arbiter
        {
            return Err(TxError::NotAuthorized("only a party to the escrow can refund it").into());
        }
        if self.height < refundable_from {
            return Err(TxError::EscrowNotExpired {
                expiry_height: refundable_from,
            }
            .into());
        }
        let amount = escrow.amount;
        self.settle(escrow, EscrowStatus::Refunded, 0, amount)
    }

    fn set_cell_mode(
        &mut self,
        current: &CellModeState,
        mode: CellMode,
        expires_at: Option<Height>,
        approvals: &[ValidatorApproval],
    ) -> Outcome {
        match (mode, expires_at) {
            (CellMode::Normal, None) => {}
            (CellMode::Normal, Some(_)) => {
                return Err(TxError::InvalidModeChange("normal mode has no expiry").into())
            }
            (_, Some(expiry))
                if expiry > self.height
                    && expiry - self.height <= self.cell.params.max_emergency_blocks => {}
            _ => {
                return Err(TxError::InvalidModeChange(
                    "an emergency mode needs an expiry within the cell's longest emergency window",
                )
                .into())
            }
        }
        let terms = ModeChangeTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            sequence: current.sequence,
            mode,
            expires_at,
        };
        self.require_validator_supermajority(&terms.signing_bytes(), approvals)?;
        let next = CellModeState {
            mode,
            expires_at,
            sequence: current.sequence + 1,
        };
        self.state.put(StateKey::CellMode, &next);
        Ok(())
    }
}

/// Liabilities are a record of what is owed, not value held, so the counter saturates rather
/// than letting a huge earlier liability block later sanctions.
fn add_sanction(passport: &mut Passport, record: SanctionRecord) {
    passport.liabilities = passport.liabilities.saturating_add(record.liability);
    passport.sanctions.push(record);
}

fn apply_sanction_status(passport: &mut Passport, kind: SanctionKind) {
    match kind {
        SanctionKind::Suspension if passport.status == PassportStatus::Active => {
            passport.status = PassportStatus::Suspended
        }
        SanctionKind::Revocation => passport.status = PassportStatus::Revoked,
        _ => {}
    }
}

/// Registers a validator: its record, its consensus-key index entry and its place in the
/// sorted validator index. Shared by genesis and `RegisterValidator`.
pub(crate) fn add_validator(
    state: &mut Overlay<'_>,
    validator: &Validator,
) -> Result<(), StorageError> {
    let mut index: Vec<PassportId> = state.get(&StateKey::ValidatorIndex)?.unwrap_or_default();
    if let Err(position) = index.binary_search(&validator.passport) {
        index.insert(position, validator.passport);
    }
    state.put(StateKey::ValidatorIndex, &index);
    state.put(
        StateKey::ConsensusKey(validator.consensus_key),
        &validator.passport,
    );
    state.put(StateKey::BlsKey(validator.bls_key), &validator.passport);
    state.put(StateKey::Validator(validator.passport), validator);
    Ok(())
}

/// The validator set for the epoch starting now: validators whose passport is active and whose
/// bond reaches the cell minimum, with their bond as power, in passport-id order.
pub(crate) fn elect_validators(
    state: &Overlay<'_>,
    params: &CellParams,
    epoch: u64,
) -> Result<ActiveValidators, StorageError> {
    let index: Vec<PassportId> = state.get(&StateKey::ValidatorIndex)?.unwrap_or_default();
    let mut members = Vec::with_capacity(index.len());
    for id in index {
        let validator: Validator = state.require(&StateKey::Validator(id))?;
        let passport: Passport = state.require(&StateKey::Passport(id))?;
        let power = state
            .get::<Bond>(&StateKey::Bond(id))?
            .unwrap_or_default()
            .bonded;
        if passport.status == PassportStatus::Active && power >= params.min_validator_bond {
            members.push(ActiveValidator {
                passport: id,
                consensus_key: validator.consensus_key,
                bls_key: validator.bls_key,
                power,
            });
        }
    }
    Ok(ActiveValidators {
        epoch,
        members,
        kept_from: None,
    })
}

/// The validator set for `epoch`, which starts after the block that ends the current one.
///
/// **A cell always has validators that can decide a block.** When the election finds no power
/// (every validator unbonded, exited, slashed below the minimum or sanctioned), the current set
/// is kept for `epoch`, with `kept_from` naming the epoch it was elected for, until an election
/// finds power again. Refusing what would empty the set cannot be the rule: slashes and
/// sanctions must apply whatever they leave, and refusing the last validator's unbonding would
/// lock its stake. Keeping the set moves no value and locks nothing: anyone who bonds the
/// minimum and registers ends it at the next boundary. Its cost is that the kept validators
/// decide blocks with no more stake at risk than they have left; `kept_from`, stored and
/// provable with the set, makes that visible.
pub(crate) fn next_validators(
    state: &Overlay<'_>,
    params: &CellParams,
    epoch: u64,
) -> Result<ActiveValidators, StorageError> {
    let elected = elect_validators(state, params, epoch)?;
    if elected.total_power() > 0 {
        return Ok(elected);
    }
    let current: ActiveValidators = state.require(&StateKey::ActiveValidators)?;
    Ok(ActiveValidators {
        epoch,
        kept_from: Some(current.kept_from.unwrap_or(current.epoch)),
        members: current.members,
    })
}

impl Context<'_, '_> {
    fn lift_bridge_lockdown(
        &mut self,
        remote: CellId,
        epoch: u64,
        keep: CheckpointId,
        approvals: &[ValidatorApproval],
    ) -> Outcome {
        if remote == self.cell.cell {
            return Err(TxError::InvalidBridgeRuling("a cell has no bridge to itself").into());
        }
        let key = StateKey::BridgeRuling { remote, epoch };
        if self.state.get::<BridgeRuling>(&key)?.is_some() {
            return Err(TxError::InvalidBridgeRuling(
                "that epoch of that cell is already ruled on",
            )
            .into());
        }
        let terms = BridgeRulingTerms {
            federation: self.cell.federation,
            cell: self.cell.cell,
            remote,
            epoch,
            keep,
        };
        self.require_validator_supermajority(&terms.signing_bytes(), approvals)?;
        self.state.put(
            key,
            &BridgeRuling {
                remote,
                epoch,
                keep,
                decided_at: self.height,
            },
        );
        Ok(())
    }

    /// Checks that `approvals` are signatures of `message` by distinct current validators
    /// holding more than 2/3 of the power.
    fn require_validator_supermajority(
        &self,
        message: &[u8],
        approvals: &[ValidatorApproval],
    ) -> Result<(), Failure> {
        let active: ActiveValidators = self.state.require(&StateKey::ActiveValidators)?;
        let total = active.total_power();
        let mut approved = 0u128;
        let mut approvers = BTreeSet::new();
        for approval in approvals {
            let Some(validator) = active
                .members
                .iter()
                .find(|member| member.passport == approval.validator)
            else {
                return Err(TxError::NotAuthorized(
                    "an approval is from a passport that is not a voting validator",
                )
                .into());
            };
            if !approvers.insert(approval.validator) {
                return Err(TxError::InvalidApprovals("two approvals from one validator").into());
            }
            validator
                .consensus_key
                .verify(message, &approval.signature)
                .map_err(|_| TxError::InvalidApprovals("a validator signature does not verify"))?;
            approved += u128::from(validator.power);
        }
        if total == 0 || approved * 3 <= total * 2 {
            return Err(TxError::InsufficientValidatorPower { approved, total }.into());
        }
        Ok(())
    }
}
