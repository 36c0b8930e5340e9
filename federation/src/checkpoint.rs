//! Federation finality: a cell's checkpoint, the message its federation's validators BLS-sign
//! for it, and the certificate that makes it final — a quorum of quorums.
//!
//! Every `E` blocks a cell takes a checkpoint of its chain (the epoch's last block, its state
//! root, and the hashes of the validator set that certified it and of the set that will
//! certify the next epoch).
//! A validator of any cell that has verified the checkpoint signs `CHECKPOINT_DOMAIN ‖
//! borsh(checkpoint)` with its BLS key. A certificate is the checkpoint, one signer bitmap per
//! cell over that cell's validator set (in the set's order), and the aggregate of the
//! signatures. It is final when every listed cell's signers hold more than 2/3 of that cell's
//! power and at least `k` cells — the checkpoint's own among them — are listed.
//!
//! A verifier needs only the federation's validator sets: from the federation genesis, then
//! from each cell's final certificates (one carries the next set when it is a new one). `docs/checkpoints.md` gives
//! the byte layout for verifiers in other languages.

use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::crypto::bls::{BlsError, BlsPublicKey, BlsSignature};
use charter_ledger::BlockHash;
use charter_ledger::{Amount, CellId, CheckpointId, FederationId, PassportId, StateRoot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Prefix of the bytes a validator BLS-signs for a checkpoint.
pub const CHECKPOINT_DOMAIN: &[u8] = b"CHARTER_CHECKPOINT_V1";

/// One validator of a cell as the federation knows it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct FederationValidator {
    pub passport: PassportId,
    pub bls_key: BlsPublicKey,
    pub power: Amount,
}

/// A cell's validator set as the federation knows it, in passport-id order.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct CellValidators(pub Vec<FederationValidator>);

impl CellValidators {
    pub fn total_power(&self) -> u128 {
        self.0.iter().map(|member| u128::from(member.power)).sum()
    }

    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"charter/federation-validators/v1");
        hasher.update(&borsh::to_vec(self).expect("writing to a Vec cannot fail"));
        *hasher.finalize().as_bytes()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Checkpoint {
    pub federation: FederationId,
    pub cell: CellId,
    pub epoch: u64,
    /// The epoch's last block.
    pub height: u64,
    pub block: BlockHash,
    pub state_root: StateRoot,
    /// The set that certified this epoch's blocks ([`CellValidators::hash`]).
    #[serde(with = "hex::serde")]
    pub validators: [u8; 32],
    /// The set that certifies the next epoch ([`CellValidators::hash`]); the same as
    /// `validators` when the set did not change.
    #[serde(with = "hex::serde")]
    pub next_validators: [u8; 32],
}

impl Checkpoint {
    /// The exact bytes every signer BLS-signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = CHECKPOINT_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }

    /// Names the checkpoint: blake3 of what is signed.
    pub fn id(&self) -> CheckpointId {
        CheckpointId(*blake3::hash(&self.signing_bytes()).as_bytes())
    }

    /// Whether the cell hands over to a set other than the one that certified this epoch.
    pub fn hands_over(&self) -> bool {
        self.next_validators != self.validators
    }

    /// Checks that `next_set` is what must travel with this checkpoint: the set it hands over
    /// when it is a new one, and nothing otherwise.
    pub fn check_next_set(&self, next_set: Option<&CellValidators>) -> Result<(), CheckpointError> {
        match (self.hands_over(), next_set) {
            (false, None) => Ok(()),
            (true, Some(set)) if set.hash() == self.next_validators => Ok(()),
            (true, None) => Err(CheckpointError::NextSetMissing(self.cell)),
            (_, Some(_)) => Err(CheckpointError::NextSetMismatch(self.cell)),
        }
    }
}

impl CheckpointError {
    /// Every [`CheckpointError::reason`], so that metrics can show each at zero from the start.
    pub const REASONS: [&'static str; 17] = [
        "wrong_federation",
        "unknown_cell",
        "cells_out_of_order",
        "bitmap_size",
        "below_quorum",
        "too_few_cells",
        "origin_missing",
        "not_on_committee",
        "committees_mixed",
        "invalid_rule",
        "other_validator_set",
        "unknown_validator_set",
        "invalid_key",
        "powerless_set",
        "next_set_missing",
        "next_set_mismatch",
        "bad_signature",
    ];

    /// A short, stable name for the refusal: the `reason` label of the federation metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::WrongFederation(_) => "wrong_federation",
            Self::UnknownCell(_) => "unknown_cell",
            Self::CellsOutOfOrder(_) => "cells_out_of_order",
            Self::BitmapSize { .. } => "bitmap_size",
            Self::BelowQuorum { .. } => "below_quorum",
            Self::TooFewCells { .. } => "too_few_cells",
            Self::OriginMissing(_) => "origin_missing",
            Self::NotOnCommittee { .. } => "not_on_committee",
            Self::CommitteesMixed { .. } => "committees_mixed",
            Self::InvalidRule { .. } => "invalid_rule",
            Self::OtherValidatorSet(_) => "other_validator_set",
            Self::UnknownValidatorSet { .. } => "unknown_validator_set",
            Self::InvalidKey { .. } => "invalid_key",
            Self::PowerlessSet(_) => "powerless_set",
            Self::NextSetMissing(_) => "next_set_missing",
            Self::NextSetMismatch(_) => "next_set_mismatch",
            Self::Signature(_) => "bad_signature",
        }
    }

    /// Whether the certificate is invalid whatever the verifier has learned: only an unknown
    /// or superseded set (which a verifier behind on hand-overs sees) is not.
    pub fn provably_invalid(&self) -> bool {
        !matches!(
            self,
            Self::OtherValidatorSet(_) | Self::UnknownValidatorSet { .. }
        )
    }
}

impl From<&charter_ledger::state::ActiveValidators> for CellValidators {
    fn from(active: &charter_ledger::state::ActiveValidators) -> Self {
        Self(
            active
                .members
                .iter()
                .map(|member| FederationValidator {
                    passport: member.passport,
                    bls_key: member.bls_key,
                    power: member.power,
                })
                .collect(),
        )
    }
}

/// Which validators of one cell signed, and with which of the cell's sets: bit `i` (least
/// significant first within each byte) is the `i`-th validator of the set whose hash is
/// `validators`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CellSigners {
    pub cell: CellId,
    /// [`CellValidators::hash`] of the set the bitmap indexes.
    #[serde(with = "hex::serde")]
    pub validators: [u8; 32],
    #[serde(with = "hex::serde")]
    pub bitmap: Vec<u8>,
}

impl CellSigners {
    pub fn signed(&self, index: usize) -> bool {
        self.bitmap
            .get(index / 8)
            .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
    }

    /// The entry for the members at `signers` of `cell`'s set `set`.
    pub fn from_indices(
        cell: CellId,
        set: &CellValidators,
        signers: impl IntoIterator<Item = usize>,
    ) -> Self {
        let size = set.0.len();
        let mut bitmap = vec![0u8; size.div_ceil(8)];
        for index in signers.into_iter().filter(|index| *index < size) {
            bitmap[index / 8] |= 1 << (index % 8);
        }
        Self {
            cell,
            validators: set.hash(),
            bitmap,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CheckpointCertificate {
    pub checkpoint: Checkpoint,
    /// One entry per cell, in cell order.
    pub signers: Vec<CellSigners>,
    pub signature: BlsSignature,
    /// The set the checkpoint hands over, exactly when it is a new one
    /// ([`Checkpoint::check_next_set`]): a verifier learns each set from the certificate that
    /// makes it its cell's, and an unchanged set costs nothing.
    pub next_set: Option<CellValidators>,
}

/// One cell's signatures on a checkpoint, aggregated inside the cell: what that cell adds to
/// the checkpoint's certificate. Its validators' signatures go only to the cell's aggregators
/// of the checkpoint; one aggregate per cell travels to the cells that need it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CellAggregate {
    pub checkpoint: Checkpoint,
    /// The set the checkpoint hands over when it is a new one, carried by the checkpoint's own
    /// cell's aggregate ([`Checkpoint::check_next_set`]); none from a co-signing cell.
    pub next_set: Option<CellValidators>,
    pub signers: CellSigners,
    /// The aggregate of the signatures of the validators `signers` names.
    pub signature: BlsSignature,
}

/// The federation, its finality rule, and each cell's validator set: the federation genesis
/// (`charter federation-genesis` writes it), or a verifier's current sets
/// ([`crate::sets::KnownSets`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationView {
    pub federation: FederationId,
    /// Cells whose quorums a checkpoint needs: its own, and `k − 1` of its committee.
    pub k: usize,
    /// Cells on each checkpoint's committee ([`crate::committee::committee`]); every other
    /// cell when the federation has no more.
    pub committee: usize,
    pub cells: BTreeMap<CellId, CellValidators>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint is for federation {0}, not this one")]
    WrongFederation(FederationId),
    #[error("cell {0} is not a cell of this federation")]
    UnknownCell(CellId),
    #[error("cell {0} is listed twice, or out of order")]
    CellsOutOfOrder(CellId),
    #[error("cell {cell}'s bitmap is {got} bytes for {validators} validators")]
    BitmapSize {
        cell: CellId,
        validators: usize,
        got: usize,
    },
    #[error("cell {cell}'s signers hold {signed} of {total} power, not more than 2/3")]
    BelowQuorum {
        cell: CellId,
        signed: u128,
        total: u128,
    },
    #[error("{got} cells reached a quorum; finality needs {needed}")]
    TooFewCells { needed: usize, got: usize },
    #[error("the checkpoint's own cell {0} is not among the signing cells")]
    OriginMissing(CellId),
    #[error("cell {cell} is not on the committee of cell {origin}'s checkpoint of epoch {epoch}")]
    NotOnCommittee {
        cell: CellId,
        origin: CellId,
        epoch: u64,
    },
    #[error(
        "the cells co-signing cell {origin}'s hand-over of epoch {epoch} are not all on one of its committees"
    )]
    CommitteesMixed { origin: CellId, epoch: u64 },
    #[error(
        "k = {k} with committees of {committee} is no finality rule for {cells} cells: it needs 1 ≤ k ≤ {cells} and k − 1 ≤ committee"
    )]
    InvalidRule {
        k: usize,
        committee: usize,
        cells: usize,
    },
    #[error(
        "the checkpoint names a validator set other than the one the federation knows for cell {0}"
    )]
    OtherValidatorSet(CellId),
    #[error(
        "no validator set of cell {cell} with hash {} is known here (its genesis set, or one its final checkpoints handed over)",
        hex::encode(hash)
    )]
    UnknownValidatorSet { cell: CellId, hash: [u8; 32] },
    #[error("a validator set of cell {cell} has a key that fails KeyValidate: {error}")]
    InvalidKey { cell: CellId, error: BlsError },
    #[error("a validator set of cell {0} has no member, or no power: nothing could certify it")]
    PowerlessSet(CellId),
    #[error("cell {0}'s checkpoint hands over a new validator set that does not travel with it")]
    NextSetMissing(CellId),
    #[error(
        "the validator set travelling with cell {0}'s checkpoint is not the new one it hands over"
    )]
    NextSetMismatch(CellId),
    #[error("the aggregate signature does not verify: {0}")]
    Signature(#[from] BlsError),
}
