//! Why a transaction was rejected. Every rule the ledger enforces has its own variant, so the
//! API and the CLI can tell a client exactly which rule it broke.

use crate::controller_keys::ControllerKeysError;
use crate::crypto::bls::BlsError;
use crate::crypto::ed25519::Ed25519Error;
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
    #[error("passport still has {0} bonded or unbonding stake")]
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
}

impl TxError {
    /// A stable, machine-readable name for the rule broken, used by the API and in metrics.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::BadSignature(..) => "bad_signature",
            TxError::WrongFederation { .. } => "wrong_federation",
            TxError::WrongCell { .. } => "wrong_cell",
            TxError::UnknownPassport(..) => "unknown_passport",
            TxError::SignerNotController(..) => "signer_not_controller",
            TxError::StaleNonce { .. } => "stale_nonce",
            TxError::FutureNonce { .. } => "future_nonce",
            TxError::FeeTooLow { .. } => "fee_too_low",
            TxError::InsufficientBalance { .. } => "insufficient_balance",
            TxError::InsufficientBond { .. } => "insufficient_bond",
            TxError::ZeroAmount => "zero_amount",
            TxError::AmountOverflow => "amount_overflow",
            TxError::PassportNotActive { .. } => "passport_not_active",
            TxError::ModeForbids { .. } => "mode_forbids",
            TxError::NotAuthorized(..) => "not_authorized",
            TxError::InvalidControllerKeys(..) => "invalid_controller_keys",
            TxError::TierNotAllowed { .. } => "tier_not_allowed",
            TxError::PassportExists(..) => "passport_exists",
            TxError::StakeOutstanding(..) => "stake_outstanding",
            TxError::NothingToWithdraw => "nothing_to_withdraw",
            TxError::AlreadyValidator(..) => "already_validator",
            TxError::ConsensusKeyInUse => "consensus_key_in_use",
            TxError::BlsKeyInUse => "bls_key_in_use",
            TxError::ForkLimit(..) => "fork_limit",
            TxError::InvalidConsensusKey(..) => "invalid_consensus_key",
            TxError::InvalidBlsKey(..) => "invalid_bls_key",
            TxError::InvalidEvidence(..) => "invalid_evidence",
            TxError::EvidenceAlreadyUsed => "evidence_already_used",
            TxError::UnknownEscrow(..) => "unknown_escrow",
            TxError::EscrowWrongState { .. } => "escrow_wrong_state",
            TxError::EscrowNotReleasable { .. } => "escrow_not_releasable",
            TxError::EscrowNotExpired { .. } => "escrow_not_expired",
            TxError::InvalidEscrowHeights { .. } => "invalid_escrow_heights",
            TxError::EscrowHasNoArbiter => "escrow_has_no_arbiter",
            TxError::ResolutionMismatch { .. } => "resolution_mismatch",
            TxError::InvalidModeChange(..) => "invalid_mode_change",
            TxError::InvalidApprovals(..) => "invalid_approvals",
            TxError::InvalidBridgeRuling(..) => "invalid_bridge_ruling",
            TxError::InsufficientValidatorPower { .. } => "insufficient_validator_power",
            TxError::InsufficientArbiterApprovals { .. } => "insufficient_arbiter_approvals",
        }
    }
}
