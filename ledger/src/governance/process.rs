//! Governance processes as ledger objects: what a process proposes, the phases it moves
//! through, the ballots and delegations that decide it, and the record it keeps.

use super::parameters::Parameter;
use super::rules::{Chamber, GovernanceRules, KindRules};
use crate::crypto::ed25519::{Ed25519PublicKey, Ed25519Signature};
use crate::ids::{Amount, CaseId, CellId, CheckpointId, FederationId, Height, PassportId};
use crate::state::{CellMode, MAX_TIER};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

pub const VETO_DOMAIN: &[u8] = b"CHARTER_VETO_V1";
/// Longest resolution text and veto reason, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 1_024;

numbered_id!(
    /// Numbers processes in the order they were proposed in a cell, from 0.
    ProcessId
);

/// What a process would do if it passes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proposal {
    /// Set one cell parameter, within its bounds; takes effect from the next block.
    ParameterChange { parameter: Parameter, value: u64 },
    /// Set the cell's mode: `duration` blocks from execution for an emergency mode, none for
    /// `Normal`. Ratifies or reverses what the validators' fast path decided.
    CellModeChange {
        mode: CellMode,
        duration: Option<Height>,
    },
    /// Slash `amount` of the offender's stake under a fresh case number.
    SlashRuling {
        offender: PassportId,
        amount: Amount,
        case: CaseId,
    },
    /// Lift the lockdown of the bridge to `remote` for `epoch`, keeping `keep` final.
    BridgeRuling {
        remote: CellId,
        epoch: u64,
        keep: CheckpointId,
    },
    /// Replace the seats of a seated chamber.
    CouncilElection { chamber: u8, seats: Vec<PassportId> },
    /// A text the cell resolves; it changes nothing else.
    Resolution { text: String },
    /// Replace the chamber rules; the new ones get the next version.
    RulesChange { rules: Box<GovernanceRules> },
}

/// The kinds of process, each with its own rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessKind {
    ParameterChange = 0,
    CellModeChange = 1,
    SlashRuling = 2,
    BridgeRuling = 3,
    CouncilElection = 4,
    Resolution = 5,
    RulesChange = 6,
}

impl ProcessKind {
    pub const ALL: [ProcessKind; 7] = [
        ProcessKind::ParameterChange,
        ProcessKind::CellModeChange,
        ProcessKind::SlashRuling,
        ProcessKind::BridgeRuling,
        ProcessKind::CouncilElection,
        ProcessKind::Resolution,
        ProcessKind::RulesChange,
    ];
}

impl Proposal {
    pub fn kind(&self) -> ProcessKind {
        match self {
            Proposal::ParameterChange { .. } => ProcessKind::ParameterChange,
            Proposal::CellModeChange { .. } => ProcessKind::CellModeChange,
            Proposal::SlashRuling { .. } => ProcessKind::SlashRuling,
            Proposal::BridgeRuling { .. } => ProcessKind::BridgeRuling,
            Proposal::CouncilElection { .. } => ProcessKind::CouncilElection,
            Proposal::Resolution { .. } => ProcessKind::Resolution,
            Proposal::RulesChange { .. } => ProcessKind::RulesChange,
        }
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ProcessStatus {
    /// Gathering sponsors.
    Sponsoring,
    /// Sponsored: deliberating until `voting_opens`, then voting until `voting_closes`.
    Open,
    /// Passed its tally; executes at `executes_at` unless vetoed first.
    Passed,
    Executed,
    /// Executing it broke a rule of the ledger (the state had changed since it was proposed);
    /// nothing of it applied.
    Failed,
    Rejected,
    Vetoed,
    /// Not sponsored in time.
    Expired,
}

impl ProcessStatus {
    /// Whether a guardian veto can still stop it.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            ProcessStatus::Sponsoring | ProcessStatus::Open | ProcessStatus::Passed
        )
    }
}

/// The heights a sponsored process runs to. Ballots count at heights
/// `voting_opens..=voting_closes`; the tally runs at the end of block `voting_closes`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Schedule {
    pub sponsored_at: Height,
    pub voting_opens: Height,
    pub voting_closes: Height,
    pub executes_at: Height,
}

impl Schedule {
    /// The schedule of a process whose sponsorship completed at `height`.
    pub fn starting(height: Height, rules: &KindRules) -> Self {
        let voting_opens = height + rules.deliberation_blocks + 1;
        let voting_closes = voting_opens + rules.voting_blocks - 1;
        Self {
            sponsored_at: height,
            voting_opens,
            voting_closes,
            executes_at: voting_closes + rules.enactment_blocks,
        }
    }
}

/// How one chamber voted on a process, and the clause it was judged by.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChamberTally {
    pub chamber: u8,
    /// The chamber's whole weight at the tally: what the quorum is a share of.
    pub eligible: u128,
    pub yes: u128,
    pub no: u128,
    pub abstain: u128,
    pub quorum_bps: u16,
    pub threshold_bps: u16,
    pub passed: bool,
}

impl ChamberTally {
    /// The clause: turnout reaches the quorum, and yes reaches the threshold of yes and no.
    pub fn judge(&mut self) {
        let turnout = self.yes + self.no + self.abstain;
        let quorum_met = turnout * 10_000 >= u128::from(self.quorum_bps) * self.eligible;
        let threshold_met = self.yes > 0
            && self.yes * 10_000 >= u128::from(self.threshold_bps) * (self.yes + self.no);
        self.passed = quorum_met && threshold_met;
    }
}

/// One entry of a process's history.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum ProcessEvent {
    Proposed {
        height: Height,
    },
    /// The last sponsor it needed joined.
    Scheduled {
        height: Height,
    },
    Tallied {
        height: Height,
        passed: bool,
    },
    Executed {
        height: Height,
    },
    /// `code` is the rule execution broke, as [`crate::TxError::code`] names it.
    ExecutionFailed {
        height: Height,
        code: String,
    },
    Vetoed {
        height: Height,
        reason: String,
        guardians: Vec<Ed25519PublicKey>,
    },
    Expired {
        height: Height,
    },
}

impl ProcessEvent {
    /// The height of the block at whose end (or in which) it happened.
    pub fn height(&self) -> Height {
        match self {
            ProcessEvent::Proposed { height }
            | ProcessEvent::Scheduled { height }
            | ProcessEvent::Tallied { height, .. }
            | ProcessEvent::Executed { height }
            | ProcessEvent::ExecutionFailed { height, .. }
            | ProcessEvent::Vetoed { height, .. }
            | ProcessEvent::Expired { height } => *height,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Process {
    pub id: ProcessId,
    pub proposal: Proposal,
    pub proposer: PassportId,
    /// The proposer first, then each sponsor in the order it joined.
    pub sponsors: Vec<PassportId>,
    /// The version of the chamber rules it runs under; its kind's rules, the chambers and the
    /// delegation depth of that version, which judge its sponsors, voters and tally whatever
    /// changes later. (Vetoes are judged by the guardians in force when they land.)
    pub rules_version: u64,
    pub rules: KindRules,
    pub chambers: Vec<Chamber>,
    /// How many steps of delegation its tally follows.
    pub max_delegation_depth: u8,
    pub proposed_at: Height,
    pub schedule: Option<Schedule>,
    pub status: ProcessStatus,
    /// One per chamber that votes, in the order the rules list them; empty until tallied.
    pub tallies: Vec<ChamberTally>,
    pub history: Vec<ProcessEvent>,
}

impl Process {
    /// The last height at which a sponsor can join.
    pub fn sponsoring_closes(&self) -> Height {
        self.proposed_at + self.rules.sponsoring_blocks
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    No,
    Abstain,
}

/// A passport's vote on one process; a later vote replaces it until voting closes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Ballot {
    pub choice: Choice,
    pub cast_at: Height,
}

/// A passport's standing delegation of its vote: on any process it does not vote on itself,
/// its weight goes with `to`'s vote, or with whoever `to` delegates to, up to the rules'
/// `max_delegation_depth` steps.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Delegation {
    pub to: PassportId,
    pub since: Height,
}

/// The active passports of each tier, and the stake they have bonded: the weight of every
/// chamber by tiers, kept up to date by each transaction that changes one.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Electorate {
    pub passports: [u64; MAX_TIER as usize + 1],
    pub bonded: [u64; MAX_TIER as usize + 1],
}

/// What guardians sign to veto a process.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct VetoTerms {
    pub federation: FederationId,
    pub cell: CellId,
    pub process: ProcessId,
    pub reason: String,
}

impl VetoTerms {
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = VETO_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GuardianApproval {
    pub key: Ed25519PublicKey,
    pub signature: Ed25519Signature,
}
