//! Why a transaction was rejected. Every rule the ledger enforces has its own variant, so the
//! API and the CLI can tell a client exactly which rule it broke.

use crate::controller_keys::ControllerKeysError;
use crate::crypto::bls::BlsError;
use crate::crypto::ed25519::Ed25519Error;
use crate::governance::{CaseStatus, JuryCaseId, Parameter, ProcessId, ProcessStatus};
use crate::ids::{Amount, CellId, EscrowId, FederationId, Height, Nonce, PassportId};
use crate::state::{CellMode, EscrowStatus, PassportStatus};
use crate::transaction::ActionKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("bad transaction signature: {0}")]
    BadSignature(Ed25519Error),
    #[error("transaction is for federation {got}, this is {expected}")]
    WrongFederation {
        expected: FederationId,
        got: FederationId,
    },
    #[error("transaction is for {got}, this is {expected}")]
    WrongCell { expected: CellId, got: CellId },
    #[error("unknown passport {0}")]
    UnknownPassport(PassportId),
    #[error("signing key is not a controller key of passport {0}")]
    SignerNotController(PassportId),
    #[error("nonce {got} already used; next is {expected}")]
    StaleNonce { expected: Nonce, got: Nonce },
    #[error("nonce {got} is ahead; next is {expected}")]
    FutureNonce { expected: Nonce, got: Nonce },
    #[error("fee {offered} is below the cell minimum {minimum}")]
    FeeTooLow { minimum: Amount, offered: Amount },
    #[error("insufficient balance: needs {needed}, has {available}")]
    InsufficientBalance { needed: Amount, available: Amount },
    #[error("insufficient bonded stake: needs {needed}, has {available}")]
    InsufficientBond { needed: Amount, available: Amount },
    #[error("amount must be positive")]
    ZeroAmount,
    #[error("amount overflows")]
    AmountOverflow,
    #[error("passport {passport} is {status:?}")]
    PassportNotActive {
        passport: PassportId,
        status: PassportStatus,
    },
    #[error("{action:?} is not accepted while the cell is in {mode:?} mode")]
    ModeForbids { mode: CellMode, action: ActionKind },
    #[error("not authorized: {0}")]
    NotAuthorized(&'static str),
    #[error("invalid controller keys: {0}")]
    InvalidControllerKeys(ControllerKeysError),
    #[error("tier {requested} is not allowed: {reason}")]
    TierNotAllowed { requested: u8, reason: &'static str },
    #[error("passport {0} already exists")]
    PassportExists(PassportId),
    #[error("passport still has {0} bonded, unbonding or locked as a juror's bond")]
    StakeOutstanding(Amount),
    #[error("nothing has finished unbonding")]
    NothingToWithdraw,
    #[error("passport {0} is already a validator")]
    AlreadyValidator(PassportId),
    #[error("consensus key is already registered")]
    ConsensusKeyInUse,
    #[error("BLS key is already registered")]
    BlsKeyInUse,
    #[error("fork limit: {0}")]
    ForkLimit(&'static str),
    #[error("invalid consensus key: {0}")]
    InvalidConsensusKey(Ed25519Error),
    #[error("invalid BLS key or proof of possession: {0}")]
    InvalidBlsKey(BlsError),
    #[error("invalid evidence: {0}")]
    InvalidEvidence(&'static str),
    #[error("this evidence or ruling case was already applied")]
    EvidenceAlreadyUsed,
    #[error("unknown escrow {0}")]
    UnknownEscrow(EscrowId),
    #[error("escrow is {status:?}; this needs it {required}")]
    EscrowWrongState {
        status: EscrowStatus,
        required: &'static str,
    },
    #[error("escrow cannot be released before height {release_height}")]
    EscrowNotReleasable { release_height: Height },
    #[error("escrow has not expired; refundable from height {expiry_height}")]
    EscrowNotExpired { expiry_height: Height },
    #[error(
        "escrow heights invalid: release {release_height}, expiry {expiry_height}, now {height}"
    )]
    InvalidEscrowHeights {
        release_height: Height,
        expiry_height: Height,
        height: Height,
    },
    #[error("escrow has no arbiter to settle a dispute")]
    EscrowHasNoArbiter,
    #[error("resolution splits {split} but the escrow holds {held}")]
    ResolutionMismatch { split: Amount, held: Amount },
    #[error("invalid mode change: {0}")]
    InvalidModeChange(&'static str),
    #[error("invalid validator approvals: {0}")]
    InvalidApprovals(&'static str),
    #[error("invalid bridge ruling: {0}")]
    InvalidBridgeRuling(&'static str),
    #[error("approvals carry {approved} of {total} voting power; more than 2/3 is needed")]
    InsufficientValidatorPower { approved: u128, total: u128 },
    #[error("ruling carries {approved} arbiter approvals; the panel threshold is {threshold}")]
    InsufficientArbiterApprovals { approved: usize, threshold: u32 },
    #[error("unknown governance process {0}")]
    UnknownProcess(ProcessId),
    #[error("invalid proposal: {0}")]
    InvalidProposal(&'static str),
    #[error("{parameter:?} = {value} is outside its bounds {min}..={max}")]
    ParameterOutOfBounds {
        parameter: Parameter,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error("invalid governance rules: {0}")]
    InvalidRules(&'static str),
    #[error("proposed under rules version {proposed_under}; the rules are now version {now}")]
    RulesOutdated { proposed_under: u64, now: u64 },
    #[error("not eligible to sponsor this process: {0}")]
    IneligibleSponsor(&'static str),
    #[error("process {process} is {status:?}; this needs it {required}")]
    ProcessWrongState {
        process: ProcessId,
        status: ProcessStatus,
        required: &'static str,
    },
    #[error("voting on process {process} runs from height {opens} to {closes}")]
    OutsideVotingWindow {
        process: ProcessId,
        opens: Height,
        closes: Height,
    },
    #[error("not a member of any chamber that votes on this process")]
    NotInChamber,
    #[error("this passport already cast that vote")]
    AlreadyVoted,
    #[error("invalid delegation: {0}")]
    InvalidDelegation(&'static str),
    #[error("delegating to {0} would close a cycle of delegations")]
    DelegationCycle(PassportId),
    #[error("the chain of delegations from {0} is longer than the rules allow")]
    DelegationTooDeep(PassportId),
    #[error("invalid veto: {0}")]
    InvalidVeto(&'static str),
    #[error("veto carries {approved} guardian approvals; the threshold is {threshold}")]
    InsufficientGuardianApprovals { approved: usize, threshold: u32 },
    #[error("jurors come from tiers {min}..={max}; this passport is tier {tier}")]
    JurorTierNotAllowed { tier: u8, min: u8, max: u8 },
    #[error("this passport is already a juror (or its bond has not yet returned)")]
    AlreadyJuror,
    #[error("this passport is not in the jury pool")]
    NotInJuryPool,
    #[error("the jury pool is full ({0} passports)")]
    JuryPoolFull(usize),
    #[error(
        "the jury pool has {eligible} passports eligible for this case; a jury needs {needed}"
    )]
    JuryPoolTooSmall { eligible: usize, needed: u32 },
    #[error("unknown jury case {0}")]
    UnknownJuryCase(JuryCaseId),
    #[error("jury case {case} is {status:?}; rulings are taken while it is ruling, until height {closes_at}")]
    CaseNotRuling {
        case: JuryCaseId,
        status: CaseStatus,
        closes_at: Height,
    },
    #[error("not a juror drawn for this case")]
    NotAJuror,
    #[error("this juror has already ruled on this case")]
    AlreadyRuled,
    #[error("jury case {0} is deciding a slash of this passport's stake; it cannot leave until the case closes")]
    StakeBeforeJury(JuryCaseId),
    #[error("this case number is held by pending SlashRuling process {0}")]
    CaseHeldByProcess(ProcessId),
}

/// Writes [`TxError::code`] and [`TxError::CODES`] from one table, so that the list of codes
/// cannot leave one out.
macro_rules! tx_error_codes {
    ($($variant:ident => $code:literal,)*) => {
        impl TxError {
            /// Every code [`TxError::code`] gives, so that metrics can show each at zero.
            pub const CODES: &'static [&'static str] = &[$($code),*];

            /// A stable, machine-readable name for the rule broken, used by the API and in
            /// metrics.
            pub fn code(&self) -> &'static str {
                match self {
                    $(TxError::$variant { .. } => $code,)*
                }
            }
        }
    };
}

tx_error_codes! {
    BadSignature => "bad_signature",
    WrongFederation => "wrong_federation",
    WrongCell => "wrong_cell",
    UnknownPassport => "unknown_passport",
    SignerNotController => "signer_not_controller",
    StaleNonce => "stale_nonce",
    FutureNonce => "future_nonce",
    FeeTooLow => "fee_too_low",
    InsufficientBalance => "insufficient_balance",
    InsufficientBond => "insufficient_bond",
    ZeroAmount => "zero_amount",
    AmountOverflow => "amount_overflow",
    PassportNotActive => "passport_not_active",
    ModeForbids => "mode_forbids",
    NotAuthorized => "not_authorized",
    InvalidControllerKeys => "invalid_controller_keys",
    TierNotAllowed => "tier_not_allowed",
    PassportExists => "passport_exists",
    StakeOutstanding => "stake_outstanding",
    NothingToWithdraw => "nothing_to_withdraw",
    AlreadyValidator => "already_validator",
    ConsensusKeyInUse => "consensus_key_in_use",
    BlsKeyInUse => "bls_key_in_use",
    ForkLimit => "fork_limit",
    InvalidConsensusKey => "invalid_consensus_key",
    InvalidBlsKey => "invalid_bls_key",
    InvalidEvidence => "invalid_evidence",
    EvidenceAlreadyUsed => "evidence_already_used",
    UnknownEscrow => "unknown_escrow",
    EscrowWrongState => "escrow_wrong_state",
    EscrowNotReleasable => "escrow_not_releasable",
    EscrowNotExpired => "escrow_not_expired",
    InvalidEscrowHeights => "invalid_escrow_heights",
    EscrowHasNoArbiter => "escrow_has_no_arbiter",
    ResolutionMismatch => "resolution_mismatch",
    InvalidModeChange => "invalid_mode_change",
    InvalidApprovals => "invalid_approvals",
    InvalidBridgeRuling => "invalid_bridge_ruling",
    InsufficientValidatorPower => "insufficient_validator_power",
    InsufficientArbiterApprovals => "insufficient_arbiter_approvals",
    UnknownProcess => "unknown_process",
    InvalidProposal => "invalid_proposal",
    ParameterOutOfBounds => "parameter_out_of_bounds",
    InvalidRules => "invalid_rules",
    RulesOutdated => "rules_outdated",
    IneligibleSponsor => "ineligible_sponsor",
    ProcessWrongState => "process_wrong_state",
    OutsideVotingWindow => "outside_voting_window",
    NotInChamber => "not_in_chamber",
    AlreadyVoted => "already_voted",
    InvalidDelegation => "invalid_delegation",
    DelegationCycle => "delegation_cycle",
    DelegationTooDeep => "delegation_too_deep",
    InvalidVeto => "invalid_veto",
    InsufficientGuardianApprovals => "insufficient_guardian_approvals",
    JurorTierNotAllowed => "juror_tier_not_allowed",
    AlreadyJuror => "already_juror",
    NotInJuryPool => "not_in_jury_pool",
    JuryPoolFull => "jury_pool_full",
    JuryPoolTooSmall => "jury_pool_too_small",
    UnknownJuryCase => "unknown_jury_case",
    CaseNotRuling => "case_not_ruling",
    NotAJuror => "not_a_juror",
    AlreadyRuled => "already_ruled",
    StakeBeforeJury => "stake_before_jury",
    CaseHeldByProcess => "case_held_by_process",
}
