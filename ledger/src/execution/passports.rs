//! Passports: payments between them, issuance by a sponsor, key rotation, forks and exit.
//!
//! **Consent.** Rotating keys, forking and exiting act on the sender's own passport, or (for
//! rotation and sanctions) carry an arbiter-panel ruling.

use super::context::{debit, ensure_can_receive, ensure_positive, Context, Failure, Outcome};
use crate::controller_keys;
use crate::crypto::ed25519::Ed25519PublicKey;
use crate::error::TxError;
use crate::evidence::Ruling;
use crate::governance::Juror;
use crate::ids::{Amount, PassportId};
use crate::state::{Passport, PassportStatus, SanctionRecord, StateKey};
use crate::transaction::Consent;

fn validate_controller_keys(keys: &[Ed25519PublicKey]) -> Result<(), TxError> {
    controller_keys::validate(keys).map_err(TxError::InvalidControllerKeys)
}

impl Context<'_, '_> {
    pub(super) fn transfer(&mut self, to: &PassportId, amount: Amount) -> Outcome {
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
        let id = PassportId::derive(self.cell.cell, self.sender(), self.body().nonce);
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
    pub(super) fn issue_passport(
        &mut self,
        controller_keys: &[Ed25519PublicKey],
        tier: u8,
    ) -> Outcome {
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
        self.electorate_admits(&passport)
    }

    pub(super) fn rotate_keys(
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

    /// The fork starts with its parent's record: liability follows lineage (`discipline`).
    pub(super) fn fork_passport(&mut self, controller_keys: &[Ed25519PublicKey]) -> Outcome {
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
        self.electorate_admits(&child)
    }

    /// A passport leaves with its history: its record and liabilities stay. Its stake must be
    /// withdrawn first, since an exited passport can send nothing and would strand it.
    pub(super) fn exit(&mut self) -> Outcome {
        self.ensure_no_slash_case(self.sender())?;
        let bond = self.bond_of(self.sender())?;
        let staked = bond
            .bonded
            .checked_add(bond.unbonding_total())
            .ok_or(TxError::AmountOverflow)?;
        if staked > 0 {
            return Err(TxError::StakeOutstanding(staked).into());
        }
        if let Some(juror) = self.state.get::<Juror>(&StateKey::Juror(*self.sender()))? {
            return Err(TxError::StakeOutstanding(juror.bond).into());
        }
        let mut passport = self.passport(self.sender())?;
        self.electorate_loses(&passport)?;
        self.withdraw_delegation(&passport.id)?;
        passport.status = PassportStatus::Exited;
        self.put_passport(&passport);
        Ok(())
    }
}
