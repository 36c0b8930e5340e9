//! The objects that live in a cell's state tree, and the keys they live under.
//!
//! Every value is stored Borsh-encoded under `blake3(encode(StateKey))` in the Jellyfish Merkle
//! tree, so each one can be proven to a light client, present or absent.

use crate::crypto::bls::BlsPublicKey;
use crate::crypto::ed25519::Ed25519PublicKey;
use crate::governance::{
    Ballot, Beacon, Delegation, Electorate, GovernanceRules, Juror, JuryCase, JuryCaseId,
    JuryDeadline, Process, ProcessId,
};
use crate::ids::{
    Amount, CaseId, CellId, CheckpointId, EscrowId, FederationId, Height, Nonce, PassportId,
};
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
    /// Marks an arbiter ruling's case number as used, so a ruling cannot be applied twice.
    SpentCase([u8; 32]),
    /// Marks an offence proven by evidence (a double vote) as punished. Kept apart from
    /// ruling cases so that no ruling can pre-empt evidence.
    SpentEvidence([u8; 32]),
    /// Which passport a BLS key belongs to (each key serves one validator).
    BlsKey(BlsPublicKey),
    /// The validators and powers fixed for the current epoch.
    ActiveValidators,
    /// The validators' ruling on a remote cell's equivocation at one epoch.
    BridgeRuling {
        remote: CellId,
        epoch: u64,
    },
    GovernanceRules,
    /// The weight of every chamber by tiers: [`crate::governance::Electorate`].
    Electorate,
    /// The id the next process gets.
    NextProcess,
    Process(ProcessId),
    /// The processes with a deadline at the end of this block, in id order.
    ProcessesDue(Height),
    Ballot {
        process: ProcessId,
        voter: PassportId,
    },
    /// Who has a ballot on a process, sorted.
    Voters(ProcessId),
    Delegation(PassportId),
    /// Who delegates to a passport, sorted.
    Delegators(PassportId),
    /// The cell's randomness: [`crate::governance::Beacon`].
    Beacon,
    /// The passports in the jury pool, sorted.
    JuryPool,
    /// A passport's standing as a juror: [`crate::governance::Juror`].
    Juror(PassportId),
    /// The id the next jury case gets.
    NextJuryCase,
    JuryCase(JuryCaseId),
    /// The jury draws, closings and bond releases due at the end of this block, sorted.
    JuryDeadlines(Height),
    /// The last height at which any case filed so far closes: a juror who leaves gets its bond
    /// back only after it, so every case whose pool held it can still charge its absence.
    LastJuryClose,
    /// The slash cases open before juries against a passport, sorted: while there are any,
    /// it can neither withdraw stake nor exit.
    SlashCasesAgainst(PassportId),
    /// The `SlashRuling` process proposed last under an arbiters' case number: while it is
    /// pending, neither another `SlashRuling` proposal nor a slash case before a jury can take
    /// the number.
    SlashRulingCase(CaseId),
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
    /// In SAFE mode, an escrow above the transfer limit needs an arbiter and cannot be
    /// released for this many blocks.
    pub safe_mode_escrow_delay: Height,
    /// Longest window an emergency mode may be set for; it must be renewed to last longer.
    pub max_emergency_blocks: Height,
    /// Blocks after its expiry that a disputed escrow waits for its arbiter before the payer
    /// can be refunded.
    pub dispute_timeout: Height,
    /// Blocks per epoch; the validator set and its powers change only at epoch boundaries.
    pub epoch_length: Height,
    /// Most forks one passport may create, and most generations of forks below a root passport:
    /// together they bound how many passports one sanction reaches.
    pub max_forks: u32,
    pub max_lineage_depth: u32,
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
            safe_mode_escrow_delay: 10,
            max_emergency_blocks: 1_000,
            dispute_timeout: 100,
            epoch_length: 100,
            max_forks: 8,
            max_lineage_depth: 4,
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
    /// 0 for a passport that is not a fork; a fork is one more than its parent.
    pub generation: u32,
    pub status: PassportStatus,
    pub sanctions: Vec<SanctionRecord>,
    pub liabilities: Amount,
    pub balance: Amount,
    pub nonce: Nonce,
    pub created_at: Height,
}

impl Passport {
    /// An active passport with an empty record, as genesis and every creating transaction
    /// start one; `controller_keys` must have passed [`crate::controller_keys::validate`].
    pub(crate) fn new(
        id: PassportId,
        controller_keys: Vec<Ed25519PublicKey>,
        home_cell: CellId,
        tier: u8,
        created_at: Height,
    ) -> Self {
        Self {
            id,
            controller_keys,
            home_cell,
            tier,
            sponsor: None,
            lineage: Vec::new(),
            forks: Vec::new(),
            generation: 0,
            status: PassportStatus::Active,
            sanctions: Vec::new(),
            liabilities: 0,
            balance: 0,
            nonce: 0,
            created_at,
        }
    }
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
    /// Disputed and sent to a jury, whose ruling settles it.
    BeforeJury,
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
#[serde(deny_unknown_fields)]
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

/// Which of a remote cell's two final checkpoints for one epoch this cell's validators chose to
/// keep, lifting the lockdown of the bridge to it that the equivocation put in place.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BridgeRuling {
    pub remote: CellId,
    pub epoch: u64,
    pub keep: CheckpointId,
    /// The height of the block that committed it.
    pub decided_at: Height,
}

/// A validator with the voting power it holds for an epoch.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ActiveValidator {
    pub passport: PassportId,
    pub consensus_key: Ed25519PublicKey,
    pub bls_key: BlsPublicKey,
    pub power: Amount,
}

/// The validator set of an epoch (heights (e-1)E + 1 … eE), elected at the end of the previous
/// epoch's last block (at genesis for epoch 1) from the bonds then in state. Consensus and mode
/// changes are weighed by it, so stake bonded mid-epoch gains no say until the next one.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct ActiveValidators {
    pub epoch: u64,
    /// In passport-id order.
    pub members: Vec<ActiveValidator>,
    /// `None` when `members` were elected for this epoch. When an election finds no validator
    /// power, the set before it is kept (a cell always has validators that can decide a block)
    /// and this names the epoch whose election chose `members`.
    #[serde(default)]
    pub kept_from: Option<u64>,
}

impl ActiveValidators {
    pub fn total_power(&self) -> u128 {
        self.members
            .iter()
            .map(|member| u128::from(member.power))
            .sum()
    }
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
impl StateObject for ActiveValidators {}
impl StateObject for BridgeRuling {}
impl StateObject for GovernanceRules {}
impl StateObject for Electorate {}
impl StateObject for ProcessId {}
impl StateObject for Vec<ProcessId> {}
impl StateObject for Process {}
impl StateObject for Ballot {}
impl StateObject for Delegation {}
impl StateObject for Beacon {}
impl StateObject for Height {}
impl StateObject for Juror {}
impl StateObject for JuryCaseId {}
impl StateObject for Vec<JuryCaseId> {}
impl StateObject for JuryCase {}
impl StateObject for Vec<JuryDeadline> {}

impl Escrow {
    /// What the escrow still holds: its amount until it is settled, nothing after.
    pub fn held(&self) -> Amount {
        match self.status {
            EscrowStatus::Open | EscrowStatus::Disputed | EscrowStatus::BeforeJury => self.amount,
            EscrowStatus::Released | EscrowStatus::Resolved | EscrowStatus::Refunded => 0,
        }
    }
}
