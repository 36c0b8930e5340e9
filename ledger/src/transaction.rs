//! The signed transaction envelope and its canonical encoding.
//!
//! Encoding is Borsh (little-endian integers, `u32` length prefixes, one-byte enum tags) over
//! types that contain no maps and no floats, so every value has exactly one encoding; decoding
//! refuses trailing bytes, unknown tags and non-0/1 booleans. `docs/wire-format.md` documents
//! every byte.
//!
//! What is signed is `TRANSACTION_DOMAIN || encode(body)`; the body starts with the federation,
//! the cell, the sender and its nonce, so a signature is good for one transaction in one cell
//! of one federation, once.

use crate::crypto::bls::{BlsPublicKey, BlsSecretKey, BlsSignature};
use crate::crypto::ed25519::{Ed25519Error, Ed25519Keypair, Ed25519PublicKey, Ed25519Signature};
use crate::evidence::{ArbiterApproval, DoubleVote, RegistrationTerms, ValidatorApproval};
use crate::governance::{Choice, GuardianApproval, JuryCaseId, ProcessId, Proposal, Verdict};
use crate::ids::{
    Amount, CaseId, CellId, CheckpointId, EscrowId, FederationId, Height, Nonce, PassportId, TxId,
};
use crate::state::{CellMode, SanctionKind};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Prefix of the bytes a sender signs.
pub const TRANSACTION_DOMAIN: &[u8] = b"CHARTER_TX_V1";
/// Largest encoded transaction the ledger decodes.
pub const MAX_TRANSACTION_BYTES: usize = 64 * 1024;
/// Most controller keys one passport may hold.
pub const MAX_CONTROLLER_KEYS: usize = 8;

/// What a sender asks the cell to do, and the context its signature binds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TransactionBody {
    pub federation: FederationId,
    pub cell: CellId,
    pub sender: PassportId,
    pub nonce: Nonce,
    /// Paid from the sender's balance to the treasury when the transaction commits.
    pub fee: Amount,
    pub action: Action,
}

/// A transaction as clients submit it: body, the controller key that signed, and the signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedTransaction {
    pub body: TransactionBody,
    pub signer: Ed25519PublicKey,
    pub signature: Ed25519Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub enum Action {
    /// Move balance to another passport.
    Transfer { to: PassportId, amount: Amount },
    /// Sponsor a new passport; its id is `PassportId::derive(cell, sender, nonce)`.
    IssuePassport {
        controller_keys: Vec<Ed25519PublicKey>,
        tier: u8,
    },
    /// Replace a passport's controller keys: by the subject itself, or by arbiter ruling.
    RotateKeys {
        subject: PassportId,
        new_keys: Vec<Ed25519PublicKey>,
        consent: Consent,
    },
    /// Fork the sender's passport; the child is `PassportId::derive(cell, sender, nonce)`.
    ForkPassport {
        controller_keys: Vec<Ed25519PublicKey>,
    },
    /// Leave the cell. The passport and its history stay in state; liabilities are kept.
    Exit,
    /// Lock balance as stake.
    Bond { amount: Amount },
    /// Start unbonding stake; it can be withdrawn `unbonding_delay` blocks later.
    Unbond { amount: Amount },
    /// Move every matured unbonding entry back to the balance.
    Withdraw,
    /// Become a validator.
    RegisterValidator(Box<ValidatorRegistration>),
    /// Slash stake on evidence the ledger checks itself.
    Slash { evidence: SlashEvidence },
    /// Lock `amount` from the sender for `payee`; the id is `EscrowId::derive(cell, sender, nonce)`.
    EscrowCreate {
        payee: PassportId,
        amount: Amount,
        arbiter: Option<PassportId>,
        /// Funds cannot be released before this height.
        release_height: Height,
        /// From this height an undisputed escrow can be refunded to the payer.
        expiry_height: Height,
    },
    /// Pay the escrow to the payee (payer or arbiter).
    EscrowRelease { escrow: EscrowId },
    /// Freeze the escrow until its arbiter resolves it (payer or payee).
    EscrowDispute { escrow: EscrowId },
    /// Split a disputed escrow between the parties (its arbiter).
    EscrowResolve {
        escrow: EscrowId,
        to_payee: Amount,
        to_payer: Amount,
    },
    /// Return an expired, undisputed escrow to the payer (payer).
    EscrowRefund { escrow: EscrowId },
    /// Sanction a passport by arbiter-panel ruling.
    Sanction {
        subject: PassportId,
        kind: SanctionKind,
        liability: Amount,
        case: CaseId,
        approvals: Vec<ArbiterApproval>,
    },
    /// Change the cell's mode, approved by validators holding more than 2/3 of the power.
    SetCellMode {
        mode: CellMode,
        /// Required for emergency modes, absent for `Normal`.
        expires_at: Option<Height>,
        approvals: Vec<ValidatorApproval>,
    },
    /// Lift the lockdown of the bridge to `remote`, which two final certificates for its
    /// `epoch` put in place, keeping the checkpoint `keep` as final; approved by validators
    /// holding more than 2/3 of the power.
    LiftBridgeLockdown {
        remote: CellId,
        epoch: u64,
        keep: CheckpointId,
        approvals: Vec<ValidatorApproval>,
    },
    /// Open a governance process; the proposer is its first sponsor. Its id is the cell's
    /// next process id.
    Propose { proposal: Proposal },
    /// Join a process's sponsors while it gathers them.
    Sponsor { process: ProcessId },
    /// Vote on an open process, or change the sender's vote, while voting is open.
    Vote { process: ProcessId, choice: Choice },
    /// Delegate the sender's vote to another passport, replacing any delegation it had.
    Delegate { to: PassportId },
    /// Withdraw the sender's delegation.
    Undelegate,
    /// Stop a pending process, approved by the guardians' threshold.
    Veto {
        process: ProcessId,
        reason: String,
        approvals: Vec<GuardianApproval>,
    },
    /// Join the jury pool, locking the rules' juror bond.
    JoinJuryPool,
    /// Leave the jury pool; the bond returns after the rules' notice.
    LeaveJuryPool,
    /// Send a disputed escrow (the sender is its payer or payee) to a jury.
    RequestJury { escrow: EscrowId },
    /// A drawn juror's ruling on a case.
    RuleOnCase { case: JuryCaseId, verdict: Verdict },
    /// Send a slash of up to `amount` of the offender's stake to a jury under a fresh case
    /// number (the sender is a member of the arbiter panel), instead of gathering the
    /// panel's approvals.
    RequestSlashJury {
        offender: PassportId,
        amount: Amount,
        case: CaseId,
    },
}

/// A validator's keys: a consensus key and a BLS key with its proof of possession, both keys
/// signing the `RegistrationTerms` that bind them to the sender.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorRegistration {
    pub consensus_key: Ed25519PublicKey,
    pub bls_key: BlsPublicKey,
    pub bls_proof_of_possession: BlsSignature,
    pub consensus_signature: Ed25519Signature,
    pub bls_signature: BlsSignature,
}

impl ValidatorRegistration {
    /// Registers the keys `consensus` and `bls` on the terms, both keys signing them.
    pub fn sign(terms: &RegistrationTerms, consensus: &Ed25519Keypair, bls: &BlsSecretKey) -> Self {
        let message = terms.signing_bytes();
        Self {
            consensus_key: consensus.public_key(),
            bls_key: bls.public_key(),
            bls_proof_of_possession: bls.prove_possession(),
            consensus_signature: consensus.sign(&message),
            bls_signature: bls.sign(&message),
        }
    }
}

/// How a transaction that acts on a passport other than (or as well as) the sender's shows the
/// subject's consent.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub enum Consent {
    /// The sender is the subject; its signature is the consent.
    Subject,
    /// An arbiter-panel ruling under a fresh case number.
    Ruling {
        case: CaseId,
        approvals: Vec<ArbiterApproval>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub enum SlashEvidence {
    /// Two conflicting consensus votes signed by one validator key.
    DoubleVote(Box<DoubleVote>),
    /// A panel ruling that `offender` forfeits `amount`.
    ArbiterRuling {
        offender: PassportId,
        amount: Amount,
        case: CaseId,
        approvals: Vec<ArbiterApproval>,
    },
}

/// The closed set of transaction kinds, for metrics, mode rules and error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Transfer,
    IssuePassport,
    RotateKeys,
    ForkPassport,
    Exit,
    Bond,
    Unbond,
    Withdraw,
    RegisterValidator,
    Slash,
    EscrowCreate,
    EscrowRelease,
    EscrowDispute,
    EscrowResolve,
    EscrowRefund,
    Sanction,
    SetCellMode,
    LiftBridgeLockdown,
    Propose,
    Sponsor,
    Vote,
    Delegate,
    Undelegate,
    Veto,
    JoinJuryPool,
    LeaveJuryPool,
    RequestJury,
    RuleOnCase,
    RequestSlashJury,
}

impl ActionKind {
    pub const ALL: [ActionKind; 29] = [
        ActionKind::Transfer,
        ActionKind::IssuePassport,
        ActionKind::RotateKeys,
        ActionKind::ForkPassport,
        ActionKind::Exit,
        ActionKind::Bond,
        ActionKind::Unbond,
        ActionKind::Withdraw,
        ActionKind::RegisterValidator,
        ActionKind::Slash,
        ActionKind::EscrowCreate,
        ActionKind::EscrowRelease,
        ActionKind::EscrowDispute,
        ActionKind::EscrowResolve,
        ActionKind::EscrowRefund,
        ActionKind::Sanction,
        ActionKind::SetCellMode,
        ActionKind::LiftBridgeLockdown,
        ActionKind::Propose,
        ActionKind::Sponsor,
        ActionKind::Vote,
        ActionKind::Delegate,
        ActionKind::Undelegate,
        ActionKind::Veto,
        ActionKind::JoinJuryPool,
        ActionKind::LeaveJuryPool,
        ActionKind::RequestJury,
        ActionKind::RuleOnCase,
        ActionKind::RequestSlashJury,
    ];
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Transfer { .. } => ActionKind::Transfer,
            Action::IssuePassport { .. } => ActionKind::IssuePassport,
            Action::RotateKeys { .. } => ActionKind::RotateKeys,
            Action::ForkPassport { .. } => ActionKind::ForkPassport,
            Action::Exit => ActionKind::Exit,
            Action::Bond { .. } => ActionKind::Bond,
            Action::Unbond { .. } => ActionKind::Unbond,
            Action::Withdraw => ActionKind::Withdraw,
            Action::RegisterValidator(_) => ActionKind::RegisterValidator,
            Action::Slash { .. } => ActionKind::Slash,
            Action::EscrowCreate { .. } => ActionKind::EscrowCreate,
            Action::EscrowRelease { .. } => ActionKind::EscrowRelease,
            Action::EscrowDispute { .. } => ActionKind::EscrowDispute,
            Action::EscrowResolve { .. } => ActionKind::EscrowResolve,
            Action::EscrowRefund { .. } => ActionKind::EscrowRefund,
            Action::Sanction { .. } => ActionKind::Sanction,
            Action::SetCellMode { .. } => ActionKind::SetCellMode,
            Action::LiftBridgeLockdown { .. } => ActionKind::LiftBridgeLockdown,
            Action::Propose { .. } => ActionKind::Propose,
            Action::Sponsor { .. } => ActionKind::Sponsor,
            Action::Vote { .. } => ActionKind::Vote,
            Action::Delegate { .. } => ActionKind::Delegate,
            Action::Undelegate => ActionKind::Undelegate,
            Action::Veto { .. } => ActionKind::Veto,
            Action::JoinJuryPool => ActionKind::JoinJuryPool,
            Action::LeaveJuryPool => ActionKind::LeaveJuryPool,
            Action::RequestJury { .. } => ActionKind::RequestJury,
            Action::RuleOnCase { .. } => ActionKind::RuleOnCase,
            Action::RequestSlashJury { .. } => ActionKind::RequestSlashJury,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("transaction is {size} bytes, more than the limit of {limit}")]
    Oversized { size: usize, limit: usize },
    #[error("malformed transaction encoding: {0}")]
    Malformed(String),
}

impl TransactionBody {
    /// The exact bytes a sender signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = TRANSACTION_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }

    pub fn sign(self, keypair: &Ed25519Keypair) -> SignedTransaction {
        let signature = keypair.sign(&self.signing_bytes());
        SignedTransaction {
            body: self,
            signer: keypair.public_key(),
            signature,
        }
    }
}

impl SignedTransaction {
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// Decodes exactly one canonical transaction, refusing oversized input before parsing.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TRANSACTION_BYTES {
            return Err(DecodeError::Oversized {
                size: bytes.len(),
                limit: MAX_TRANSACTION_BYTES,
            });
        }
        borsh::from_slice(bytes).map_err(|error| DecodeError::Malformed(error.to_string()))
    }

    pub fn id(&self) -> TxId {
        TxId(*blake3::hash(&self.encode()).as_bytes())
    }

    /// Checks the signature alone (not that the signer controls the sender: that needs state).
    pub fn verify_signature(&self) -> Result<(), Ed25519Error> {
        self.signer
            .verify_transaction(&self.body.signing_bytes(), &self.signature)
    }
}
