//! The objects that live in a cell's state tree, and the keys they live under.
//!
//! Every value is stored Borsh-encoded under `blake3(encode(StateKey))` in the Jellyfish Merkle
//! tree, so each one can be proven to a light client, present or absent.

use crate::crypto::bls::BlsPublicKey;
use crate::crypto::ed25519::Ed25519PublicKey;
use crate::ids::{Amount, CaseId, CellId, EscrowId, FederationId, Height, Nonce, PassportId};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Where an object lives in the state tree.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub enum StateKey {
    Cell,
    Passport(PassportId),
    Bond(PassportId),
    Validator(PassportId),
    /// Which passport a consensus key belongs to (each key serves one validator).
    ConsensusKey(Ed25519PublicKey),
    /// The ids of every registered validator, sorted.
    ValidatorIndex,
    Escrow(EscrowId),
    ArbiterPanel,
    Treasury,
    CellMode,
    /// Marks evidence or a ruling case as spent, so it cannot be applied twice.
    SpentCase([u8; 32]),
}

impl StateKey {
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }
}

/// Fixed facts and rules of a cell, set at genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CellInfo {
    pub federation: FederationId,
    pub cell: CellId,
    pub total_supply: Amount,
    pub params: CellParams,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CellParams {
    /// Lowest fee a transaction may offer.
    pub min_fee: Amount,
    /// Blocks between `Unbond` and the stake becoming withdrawable.
    pub unbonding_delay: Height,
    /// Bond a passport needs to register as a validator.
    pub min_validator_bond: Amount,
    /// Tier and bond a passport needs to sponsor new passports (which get a lower tier).
    pub min_sponsor_tier: u8,
    pub min_sponsor_bond: Amount,
    /// Share of a double-voter's stake (bond and unbonding) that is slashed, in basis points.
    pub double_vote_slash_bps: u16,
    /// In SAFE mode, transfers above this amount must go through escrow.
    pub safe_mode_transfer_limit: Amount,
}

impl Default for CellParams {
    fn default() -> Self {
        Self {
            min_fee: 0,
            unbonding_delay: 10,
            min_validator_bond: 1_000,
            min_sponsor_tier: 2,
            min_sponsor_bond: 100,
            double_vote_slash_bps: 5_000,
            safe_mode_transfer_limit: 1_000,
        }
    }
}

/// Highest passport tier: eligible for governance.
pub const MAX_TIER: u8 = 4;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub enum PassportStatus {
    Active,
    Suspended,
    Revoked,
    Exited,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub enum SanctionKind {
    /// Recorded against the passport; no change of status.
    Warning,
    /// The passport can no longer send transactions.
    Suspension,
    /// Permanently revoked.
    Revocation,
    /// Stake was slashed.
    Slashed,
}

/// A sanction on a passport's record. `inherited_from` names the passport it was first imposed
/// on when it reached this one through lineage or sponsorship.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SanctionRecord {
    pub case: CaseId,
    pub kind: SanctionKind,
    pub liability: Amount,
    pub imposed_at: Height,
    pub inherited_from: Option<PassportId>,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Passport {
    pub id: PassportId,
    pub controller_keys: Vec<Ed25519PublicKey>,
    pub home_cell: CellId,
    pub tier: u8,
    pub sponsor: Option<PassportId>,
    /// Parents: the passport this one was forked from.
    pub lineage: Vec<PassportId>,
    /// Passports forked from this one, in creation order.
    pub forks: Vec<PassportId>,
    pub status: PassportStatus,
    pub sanctions: Vec<SanctionRecord>,
    pub liabilities: Amount,
    pub balance: Amount,
    pub nonce: Nonce,
    pub created_at: Height,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UnbondingEntry {
    pub amount: Amount,
    pub release_height: Height,
}

/// Stake a passport has locked. A validator's voting power is `bonded`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Bond {
    pub bonded: Amount,
    /// In release order.
    pub unbonding: Vec<UnbondingEntry>,
}

impl Bond {
    pub fn unbonding_total(&self) -> Amount {
        self.unbonding.iter().map(|entry| entry.amount).sum()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Validator {
    pub passport: PassportId,
    pub consensus_key: Ed25519PublicKey,
    pub bls_key: BlsPublicKey,
    pub registered_at: Height,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub enum EscrowStatus {
    Open,
    Released,
    Disputed,
    Resolved,
    Refunded,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Escrow {
    pub id: EscrowId,
    pub payer: PassportId,
    pub payee: PassportId,
    /// The amount escrowed; see [`Escrow::held`] for what it still holds.
    pub amount: Amount,
    pub arbiter: Option<PassportId>,
    pub release_height: Height,
    pub expiry_height: Height,
    pub status: EscrowStatus,
}

/// Passports whose rulings, signed by at least `threshold` of them, slash and sanction.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct ArbiterPanel {
    pub members: Vec<PassportId>,
    pub threshold: u32,
}

#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Treasury {
    pub balance: Amount,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub enum CellMode {
    Normal,
    Elevated,
    Safe,
    Lockdown,
    Recovery,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CellModeState {
    pub mode: CellMode,
    /// Emergency modes lapse back to `Normal` at this height unless renewed.
    pub expires_at: Option<Height>,
    /// How many mode changes have been applied; approvals sign the next value.
    pub sequence: u64,
}

/// A marker that evidence or a ruling case was used, and when.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SpentCase {
    pub at_height: Height,
}

/// A type stored in state, with the key it is found under.
pub trait StateObject: BorshSerialize + BorshDeserialize {}

impl StateObject for CellInfo {}
impl StateObject for Passport {}
impl StateObject for Bond {}
impl StateObject for Validator {}
impl StateObject for PassportId {}
impl StateObject for Vec<PassportId> {}
impl StateObject for Escrow {}
impl StateObject for ArbiterPanel {}
impl StateObject for Treasury {}
impl StateObject for CellModeState {}
impl StateObject for SpentCase {}

impl Escrow {
    /// What the escrow still holds: its amount while open or disputed, nothing once settled.
    pub fn held(&self) -> Amount {
        match self.status {
            EscrowStatus::Open | EscrowStatus::Disputed => self.amount,
            EscrowStatus::Released | EscrowStatus::Resolved | EscrowStatus::Refunded => 0,
        }
    }
}
