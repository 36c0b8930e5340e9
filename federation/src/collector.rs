//! Assembling finality from the federation's gossip: every validator's checkpoint signature is
//! checked and collected; once validators holding more than 2/3 of the power of the
//! checkpoint's own cell and of `k − 1` cells of its committee have signed, any node assembles
//! the certificate. Signatures of cells off the committee are refused. Certificates
//! heard from others are checked the same way. Two different final certificates for one cell
//! and epoch are kept as proof that the cell equivocated, and that cell is quarantined (the
//! bridge to it is in lockdown) until a ruling names which of the two to keep.
//!
//! Pure: the node feeds it messages and publishes what it returns.

use crate::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, CheckpointCertificate, CheckpointError,
    FederationView,
};
use crate::sets::{verify_pairings, Checked, KnownSets, Pairing, ValidatedSet};
use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::crypto::bls::{aggregate, BlsError, BlsPublicKey, BlsSignature};
use charter_ledger::{CellId, CheckpointId, PassportId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::{Excluded, Included};

/// What travels on the federation's topics of finality (`docs/checkpoints.md`, Gossip).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum FederationMessage {
    /// One validator's signature on a checkpoint, sent to its cell's aggregators of it (the
    /// checkpoint travels with it, so an aggregator can check it on its own).
    Signature {
        checkpoint: Checkpoint,
        /// The set the checkpoint hands over when it is a new one: its own cell's validators
        /// send it, so that their aggregators pass it on in the cell's aggregate; co-signers
        /// need not.
        next_set: Option<CellValidators>,
        cell: CellId,
        signer: PassportId,
        signature: BlsSignature,
    },
    Certificate(CheckpointCertificate),
    /// A node lacks `cell`'s final certificates for epochs `from_epoch..=to_epoch` (it was
    /// down, or out of the mesh when they were gossiped); the cell's own nodes answer with
    /// `Certificates`.
    Missing {
        cell: CellId,
        from_epoch: u64,
        to_epoch: u64,
    },
    /// Final certificates of one cell, oldest first: an answer to `Missing` or
    /// `MissingHandOvers`, or the two certificates of an equivocation.
    Certificates(Vec<CheckpointCertificate>),
    /// One cell's quorum of signatures on a checkpoint, aggregated inside the cell.
    Aggregate(CellAggregate),
    /// A node lacks `cell`'s final certificates that hand over a new set after `after_epoch`:
    /// asked by a node that does not follow the cell when it meets a set of the cell it does
    /// not know, answered with `Certificates`.
    MissingHandOvers {
        cell: CellId,
        after_epoch: u64,
    },
}

impl FederationMessage {
    /// Whether encoded `bytes` are a validator's signature, by their first byte, the variant's
    /// tag (`Signature` is 0), without decoding the rest.
    pub fn is_signature(bytes: &[u8]) -> bool {
        bytes.first() == Some(&0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error("the checkpoint is of another federation")]
    WrongFederation,
    #[error("{0} is not a cell of this federation")]
    UnknownCell(CellId),
    #[error("{signer} is not a validator of {cell}")]
    NotAValidator { cell: CellId, signer: PassportId },
    #[error("the checkpoint names a validator set other than the one known for {0}")]
    OtherValidatorSet(CellId),
    #[error("the signature does not verify: {0}")]
    BadSignature(BlsError),
    #[error("{0} is quarantined: it certified two checkpoints for one epoch")]
    Quarantined(CellId),
    #[error("a signature of a validator of {0}, sent to an aggregator of another cell")]
    ForeignSignature(CellId),
    #[error("an aggregate of {0} on this checkpoint is already collected")]
    AlreadyCollected(CellId),
    #[error("a certificate of {0}, which this node does not follow, that hands over no new set")]
    NotFollowed(CellId),
    #[error(transparent)]
    Certificate(#[from] CheckpointError),
}

impl CollectError {
    /// Every [`CollectError::reason`], so that metrics can show each at zero from the start.
    pub fn reasons() -> BTreeSet<&'static str> {
        let own = [
            "not_a_validator",
            "quarantined",
            "foreign_signature",
            "already_collected",
            "not_followed",
        ];
        own.into_iter().chain(CheckpointError::REASONS).collect()
    }

    /// A short, stable name for the refusal: the `reason` label of the federation metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::WrongFederation => "wrong_federation",
            Self::UnknownCell(_) => "unknown_cell",
            Self::NotAValidator { .. } => "not_a_validator",
            Self::OtherValidatorSet(_) => "other_validator_set",
            Self::BadSignature(_) => "bad_signature",
            Self::Quarantined(_) => "quarantined",
            Self::ForeignSignature(_) => "foreign_signature",
            Self::AlreadyCollected(_) => "already_collected",
            Self::NotFollowed(_) => "not_followed",
            Self::Certificate(error) => error.reason(),
        }
    }

    /// Whether no honest node could have sent what was refused, whatever it knew: a bad
    /// signature, another federation, a cell that is not one, a malformed certificate, a
    /// signature sent to another cell's aggregator. A
    /// refusal that depends on what this node has learned (a set it has not caught up on, a
    /// validator that joined since, a quarantine) is not.
    pub fn provably_invalid(&self) -> bool {
        match self {
            Self::WrongFederation
            | Self::UnknownCell(_)
            | Self::BadSignature(_)
            | Self::ForeignSignature(_) => true,
            Self::NotAValidator { .. }
            | Self::OtherValidatorSet(_)
            | Self::Quarantined(_)
            | Self::AlreadyCollected(_)
            | Self::NotFollowed(_) => false,
            Self::Certificate(error) => error.provably_invalid(),
        }
    }
}

/// A validator's signature on a checkpoint, as a `Signature` message carries it.
#[derive(Clone, Copy, Debug)]
pub struct HeardSignature<'a> {
    pub checkpoint: &'a Checkpoint,
    pub cell: CellId,
    pub signer: PassportId,
    pub signature: &'a BlsSignature,
}

/// How many pairings of each kind passed in one batch ([`Collector::pre_verify`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Batched {
    pub certificates: usize,
    pub signatures: usize,
}

/// Two final certificates for one cell and epoch that differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equivocation {
    pub first: CheckpointCertificate,
    pub second: CheckpointCertificate,
}

/// What a ruling changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruled {
    /// The certificate now final for the epoch, when it replaced the one held.
    pub kept: Option<CheckpointCertificate>,
    /// The one it replaced.
    pub overruled: Option<CheckpointCertificate>,
    /// Later epochs of the cell whose certificates no longer chain from the kept one and
    /// were dropped.
    pub dropped: Vec<u64>,
}

/// What adding a certificate did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    /// Final, and new here.
    Final,
    /// Already known.
    Known,
    /// Final, and conflicting with a final one already known: the cell is quarantined.
    Equivocation,
    /// Final, but another checkpoint was ruled the one to keep and is held.
    Overruled,
}

struct Pending {
    checkpoint: Checkpoint,
    /// The new set the checkpoint hands over, once a signature brought it.
    next_set: Option<CellValidators>,
    /// Per cell: signer position in the cell's set → signature.
    signatures: BTreeMap<CellId, BTreeMap<usize, BlsSignature>>,
    /// Per cell, the first verified aggregate of a quorum of its signers.
    aggregates: BTreeMap<CellId, (CellSigners, BlsSignature)>,
    /// When the entry was made, in entries made before it: the oldest go first when full.
    made: u64,
}

/// Most certificates whose signatures are checked in one batch (≈ 2.7 ms each on this
/// machine's cores).
const MAX_BATCH: usize = 64;

/// Most checkpoints collected at once, so a peer cannot exhaust memory with made-up ones (a
/// checkpoint is collected only with a valid signature of a known validator). The entries of
/// checkpoints that never become final here (another cell's, co-signed but not followed) are
/// dropped oldest first, by when they were made: epochs of different cells do not compare.
const MAX_PENDING: usize = 256;

pub struct Collector {
    sets: KnownSets,
    pending: BTreeMap<CheckpointId, Pending>,
    /// Pending entries made so far.
    pending_made: u64,
    finals: BTreeMap<(CellId, u64), CheckpointCertificate>,
    equivocations: BTreeMap<(CellId, u64), Equivocation>,
    /// Which checkpoint to keep where a cell equivocated.
    rulings: BTreeMap<(CellId, u64), CheckpointId>,
    /// Cells with an equivocation whose final certificate is not the one a ruling kept.
    quarantined: BTreeSet<CellId>,
    /// The outcome of each pairing of the latest batch checked together
    /// ([`Collector::pre_verify`]), by [`Checked::name`] for certificates and
    /// [`SignedBy::digest`] for validators' signatures: a pairing's outcome is a function of
    /// those bytes, so neither a pass nor a failure is worked out twice.
    batch_checked: BTreeMap<[u8; 32], Result<(), CheckpointError>>,
}

impl Collector {
    /// A collector that knows the federation genesis; refused when a genesis key fails
    /// KeyValidate.
    pub fn new(genesis: &FederationView) -> Result<Self, CheckpointError> {
        Ok(Self {
            sets: KnownSets::new(genesis)?,
            pending: BTreeMap::new(),
            pending_made: 0,
            finals: BTreeMap::new(),
            equivocations: BTreeMap::new(),
            rulings: BTreeMap::new(),
            quarantined: BTreeSet::new(),
            batch_checked: BTreeMap::new(),
        })
    }

    /// Every validator set known here, and each cell's current one.
    pub fn sets(&self) -> &KnownSets {
        &self.sets
    }

    pub fn quarantined(&self) -> &BTreeSet<CellId> {
        &self.quarantined
    }

    pub fn equivocations(&self) -> impl Iterator<Item = &Equivocation> {
        self.equivocations.values()
    }

    /// The checkpoint a ruling kept for `cell` at `epoch`.
    pub fn ruling(&self, cell: CellId, epoch: u64) -> Option<CheckpointId> {
        self.rulings.get(&(cell, epoch)).copied()
    }

    /// Where a cell equivocated and no ruling has settled it yet.
    pub fn unsettled(&self) -> Vec<(CellId, u64)> {
        self.equivocations
            .keys()
            .filter(|position| !self.settled(position))
            .copied()
            .collect()
    }

    fn settled(&self, position: &(CellId, u64)) -> bool {
        let kept = self
            .finals
            .get(position)
            .map(|final_| final_.checkpoint.id());
        kept.is_some() && kept == self.rulings.get(position).copied()
    }

    fn requarantine(&mut self) {
        self.quarantined = self.unsettled().into_iter().map(|(cell, _)| cell).collect();
    }

    /// Records which checkpoint to keep for `cell` at `epoch` (the validators' ruling, or a
    /// node's own signed checkpoint for its own cell). Where the cell equivocated and the kept
    /// checkpoint is the other of the two, it becomes the final one and the cell's later
    /// certificates are checked again against the validator set it hands over. The quarantine
    /// lifts once every equivocation of the cell is settled.
    pub fn rule(&mut self, cell: CellId, epoch: u64, keep: CheckpointId) -> Ruled {
        let position = (cell, epoch);
        self.rulings.insert(position, keep);
        let mut ruled = Ruled::default();
        let replacement = self.equivocations.get(&position).and_then(|proof| {
            [&proof.first, &proof.second]
                .into_iter()
                .find(|certificate| certificate.checkpoint.id() == keep)
                .cloned()
        });
        if let Some(kept) = replacement.filter(|_| !self.settled(&position)) {
            ruled.overruled = self.finals.get(&position).cloned();
            ruled.dropped = self.replace_final(&kept);
            ruled.kept = Some(kept);
        }
        self.requarantine();
        ruled
    }

    /// Makes `kept` the final certificate of its epoch and re-chains the cell's later ones;
    /// returns the epochs that no longer chain.
    fn replace_final(&mut self, kept: &CheckpointCertificate) -> Vec<u64> {
        let (cell, epoch) = (kept.checkpoint.cell, kept.checkpoint.epoch);
        let later: Vec<CheckpointCertificate> = self
            .finals
            .range((Excluded((cell, epoch)), Included((cell, u64::MAX))))
            .map(|(_, certificate)| certificate.clone())
            .collect();
        self.finals
            .retain(|(held, at), _| *held != cell || *at <= epoch);
        self.finals.insert((cell, epoch), kept.clone());
        let mut installed = self.install_set(kept).is_ok();
        let mut dropped = Vec::new();
        for certificate in later {
            installed = installed && self.advance(&certificate).is_ok();
            if installed {
                self.finals
                    .insert((cell, certificate.checkpoint.epoch), certificate);
            } else {
                dropped.push(certificate.checkpoint.epoch);
            }
        }
        dropped
    }

    pub fn final_certificate(&self, cell: CellId, epoch: u64) -> Option<&CheckpointCertificate> {
        self.finals.get(&(cell, epoch))
    }

    pub fn latest_final(&self, cell: CellId) -> Option<&CheckpointCertificate> {
        self.finals
            .range((cell, 0)..=(cell, u64::MAX))
            .next_back()
            .map(|(_, certificate)| certificate)
    }

    /// The epoch of `cell`'s latest final checkpoint; 0 (its genesis) when none is.
    pub fn latest_final_epoch(&self, cell: CellId) -> u64 {
        self.latest_final(cell)
            .map_or(0, |certificate| certificate.checkpoint.epoch)
    }

    /// Up to `limit` of `cell`'s final certificates that hand over a new set, after
    /// `after_epoch`, oldest first.
    pub fn hand_overs_after(
        &self,
        cell: CellId,
        after_epoch: u64,
        limit: usize,
    ) -> Vec<CheckpointCertificate> {
        (self
            .finals
            .range((Excluded((cell, after_epoch)), Included((cell, u64::MAX)))))
        .map(|(_, certificate)| certificate)
        .filter(|certificate| certificate.next_set.is_some())
        .take(limit)
        .cloned()
        .collect()
    }

    /// The proof that `cell` certified two checkpoints for `epoch`, when one was found.
    pub fn equivocation(&self, cell: CellId, epoch: u64) -> Option<&Equivocation> {
        self.equivocations.get(&(cell, epoch))
    }

    /// Up to `limit` of `cell`'s final certificates for `epochs`, oldest first.
    pub fn finals_in(
        &self,
        cell: CellId,
        epochs: std::ops::RangeInclusive<u64>,
        limit: usize,
    ) -> Vec<CheckpointCertificate> {
        if epochs.is_empty() {
            return Vec::new();
        }
        self.finals
            .range((cell, *epochs.start())..=(cell, *epochs.end()))
            .take(limit)
            .map(|(_, certificate)| certificate.clone())
            .collect()
    }

    /// The epochs just below `epoch` for which no certificate of `cell` is final here, back
    /// to the final one before them (or to its genesis); `None` when `epoch - 1` is final.
    pub fn hole_below(&self, cell: CellId, epoch: u64) -> Option<std::ops::RangeInclusive<u64>> {
        let previous = self
            .finals
            .range((cell, 0)..(cell, epoch))
            .next_back()
            .map_or(0, |((_, final_epoch), _)| *final_epoch);
        (previous + 1 < epoch).then(|| previous + 1..=epoch - 1)
    }

    /// The first epoch after `epoch` with a final certificate of `cell` here.
    pub fn next_final_after(&self, cell: CellId, epoch: u64) -> Option<u64> {
        self.finals
            .range((Excluded((cell, epoch)), Included((cell, u64::MAX))))
            .next()
            .map(|((_, final_epoch), _)| *final_epoch)
    }

    /// Power (signed, total) per cell collected so far for a checkpoint of `cell` at `epoch`
    /// that is not final yet.
    pub fn progress(&self, cell: CellId, epoch: u64) -> Vec<(CellId, u128, u128)> {
        self.pending
            .values()
            .filter(|pending| pending.checkpoint.cell == cell && pending.checkpoint.epoch == epoch)
            .flat_map(|pending| {
                let signing_cells: BTreeSet<CellId> = (pending.signatures.keys())
                    .chain(pending.aggregates.keys())
                    .copied()
                    .collect();
                (signing_cells.into_iter())
                    .filter_map(|signing_cell| self.cell_power(pending, signing_cell))
            })
            .collect()
    }

    /// A cell's signed and total power on a pending checkpoint: its aggregate's, or that of
    /// the signatures collected from it, whichever signed more.
    fn cell_power(&self, pending: &Pending, cell: CellId) -> Option<(CellId, u128, u128)> {
        let collected = (pending.signatures.get(&cell)).and_then(|signed| {
            let set = self.sets.head(cell)?;
            Some((power_of(set, signed), set.total_power()))
        });
        let aggregated = (pending.aggregates.get(&cell)).and_then(|(signers, _)| {
            let set = self.sets.held(cell, &signers.validators)?;
            Some((set.signed_power(signers), set.total_power()))
        });
        let (signed, total) = collected.into_iter().chain(aggregated).max()?;
        Some((cell, signed, total))
    }

    /// Whether the checkpoint's own cell has vouched for it: its signers collected here hold
    /// more than 2/3 of its power. Validators of other cells co-sign only then.
    pub fn origin_vouches(&self, checkpoint: &Checkpoint) -> bool {
        let Some(pending) = self.pending.get(&checkpoint.id()) else {
            return false;
        };
        pending.aggregates.contains_key(&checkpoint.cell)
            || self.has_quorum(pending, checkpoint.cell)
    }

    /// Whether the signatures collected from `cell`'s validators on `checkpoint` hold more
    /// than 2/3 of its power.
    pub fn cell_vouches(&self, checkpoint: &Checkpoint, cell: CellId) -> bool {
        (self.pending.get(&checkpoint.id())).is_some_and(|pending| self.has_quorum(pending, cell))
    }

    fn has_quorum(&self, pending: &Pending, cell: CellId) -> bool {
        let Some(set) = self.sets.head(cell) else {
            return false;
        };
        (pending.signatures.get(&cell)).is_some_and(|signed| set.is_quorum(power_of(set, signed)))
    }

    /// The aggregate of the signatures collected from `cell`'s validators on `checkpoint`,
    /// once they hold more than 2/3 of its power: what the cell's aggregators publish. The
    /// checkpoint's own cell's aggregate carries the set it hands over when that is new.
    pub fn cell_aggregate(&self, checkpoint: &Checkpoint, cell: CellId) -> Option<CellAggregate> {
        let pending = self.pending.get(&checkpoint.id())?;
        let signed = pending.signatures.get(&cell)?;
        let set = self.sets.head(cell)?;
        if !set.is_quorum(power_of(set, signed)) {
            return None;
        }
        let own = cell == checkpoint.cell;
        let signatures: Vec<BlsSignature> = signed.values().copied().collect();
        Some(CellAggregate {
            checkpoint: checkpoint.clone(),
            next_set: (pending.next_set.clone()).filter(|_| own && checkpoint.hands_over()),
            signers: CellSigners::from_indices(cell, set.validators(), signed.keys().copied()),
            signature: aggregate(&signatures).ok()?,
        })
    }

    /// Checks and collects one validator's signature; returns the certificate it completed, if
    /// any (the caller publishes it).
    pub fn add_signature(
        &mut self,
        checkpoint: &Checkpoint,
        next_set: Option<&CellValidators>,
        cell: CellId,
        signer: PassportId,
        signature: BlsSignature,
    ) -> Result<Option<CheckpointCertificate>, CollectError> {
        let signed = (cell, signer, signature);
        self.collect_signature(checkpoint, next_set, signed, None)
    }

    /// Collects this validator's own signature, made with the key whose public half is
    /// `own_key`: it verifies exactly when that is the key its cell's set holds for it, which is
    /// checked in place of the pairing.
    pub fn add_own_signature(
        &mut self,
        checkpoint: &Checkpoint,
        next_set: Option<&CellValidators>,
        (cell, signer, signature): (CellId, PassportId, BlsSignature),
        own_key: &BlsPublicKey,
    ) -> Result<Option<CheckpointCertificate>, CollectError> {
        let signed = (cell, signer, signature);
        self.collect_signature(checkpoint, next_set, signed, Some(own_key))
    }

    fn collect_signature(
        &mut self,
        checkpoint: &Checkpoint,
        next_set: Option<&CellValidators>,
        (cell, signer, signature): (CellId, PassportId, BlsSignature),
        own_key: Option<&BlsPublicKey>,
    ) -> Result<Option<CheckpointCertificate>, CollectError> {
        if checkpoint.federation != self.sets.federation() {
            return Err(CollectError::WrongFederation);
        }
        if next_set.is_some() {
            checkpoint.check_next_set(next_set)?;
        }
        for involved in [checkpoint.cell, cell] {
            if self.quarantined.contains(&involved) {
                return Err(CollectError::Quarantined(involved));
            }
        }
        if self
            .finals
            .contains_key(&(checkpoint.cell, checkpoint.epoch))
        {
            return Ok(None);
        }
        let position = self.check_signature(checkpoint, (cell, signer, signature), own_key)?;
        let id = checkpoint.id();
        (self
            .pending_entry(checkpoint, next_set)
            .signatures
            .entry(cell))
        .or_default()
        .insert(position, signature);
        self.assemble_and_add(&id)
    }

    /// Checks a validator's signature on a checkpoint that names its cell's head: the signer
    /// is a member of its cell's current set, the cell is the checkpoint's or on its committee,
    /// and the signature verifies (unless the latest batch passed it, or it is our own made
    /// with `own_key`, the key the set holds for us). Returns the signer's position in its
    /// cell's set.
    fn check_signature(
        &self,
        checkpoint: &Checkpoint,
        (cell, signer, signature): (CellId, PassportId, BlsSignature),
        own_key: Option<&BlsPublicKey>,
    ) -> Result<usize, CollectError> {
        let origin =
            (self.sets.head(checkpoint.cell)).ok_or(CollectError::UnknownCell(checkpoint.cell))?;
        if origin.hash() != checkpoint.validators {
            return Err(CollectError::OtherValidatorSet(checkpoint.cell));
        }
        let set = (self.sets.head(cell)).ok_or(CollectError::UnknownCell(cell))?;
        if !(self.sets).may_sign(checkpoint, cell) {
            return Err(CollectError::Certificate(CheckpointError::NotOnCommittee {
                cell,
                origin: checkpoint.cell,
                epoch: checkpoint.epoch,
            }));
        }
        let position = (set.validators().0.iter())
            .position(|member| member.passport == signer)
            .ok_or(CollectError::NotAValidator { cell, signer })?;
        let key = set
            .key(position)
            .expect("a member's position indexes its key");
        if let Some(own_key) = own_key {
            return match key.is(own_key) {
                true => Ok(position),
                false => Err(CollectError::BadSignature(BlsError::BadSignature)),
            };
        }
        let pairing = Pairing::single(key, checkpoint.signing_bytes(), signature);
        self.verify_pairing(pairing).map_err(|error| match error {
            CheckpointError::Signature(error) => CollectError::BadSignature(error),
            other => CollectError::Certificate(other),
        })?;
        Ok(position)
    }

    /// Checks and collects one cell's aggregate; returns the certificate it completed, if any
    /// (the caller publishes it). Each of a cell's aggregators publishes one, and a node needs
    /// one: once a cell's aggregate on the checkpoint is collected, the very same aggregate is
    /// taken again unchecked (it is passed on, as a hand-over's is when published again), and
    /// another is refused unchecked — unless it brings the set the checkpoint hands over, which
    /// is not here yet.
    pub fn add_aggregate(
        &mut self,
        aggregate: &CellAggregate,
    ) -> Result<Option<CheckpointCertificate>, CollectError> {
        let checkpoint = &aggregate.checkpoint;
        for involved in [checkpoint.cell, aggregate.signers.cell] {
            if self.quarantined.contains(&involved) {
                return Err(CollectError::Quarantined(involved));
            }
        }
        if (self.finals).contains_key(&(checkpoint.cell, checkpoint.epoch)) {
            return Ok(None);
        }
        if aggregate.next_set.is_some() {
            checkpoint.check_next_set(aggregate.next_set.as_ref())?;
        }
        if let Some(identical) = self.already_collected(aggregate) {
            return match identical {
                true => Ok(None),
                false => Err(CollectError::AlreadyCollected(aggregate.signers.cell)),
            };
        }
        self.sets.verify_aggregate(aggregate)?;
        let id = checkpoint.id();
        let pending = self.pending_entry(checkpoint, aggregate.next_set.as_ref());
        (pending.aggregates.entry(aggregate.signers.cell))
            .or_insert_with(|| (aggregate.signers.clone(), aggregate.signature));
        self.assemble_and_add(&id)
    }

    /// Whether an aggregate of the aggregate's cell on its checkpoint is collected here and the
    /// aggregate brings nothing new (the set the checkpoint hands over, when missing): then
    /// whether it is the very one collected.
    fn already_collected(&self, aggregate: &CellAggregate) -> Option<bool> {
        let pending = self.pending.get(&aggregate.checkpoint.id())?;
        let (signers, signature) = pending.aggregates.get(&aggregate.signers.cell)?;
        if aggregate.next_set.is_some() && pending.next_set.is_none() {
            return None;
        }
        Some(*signers == aggregate.signers && *signature == aggregate.signature)
    }

    /// The checkpoint's entry among those collected, made (dropping the oldest made when full)
    /// if new, with the set it hands over once one arrives.
    fn pending_entry(
        &mut self,
        checkpoint: &Checkpoint,
        next_set: Option<&CellValidators>,
    ) -> &mut Pending {
        let id = checkpoint.id();
        if !self.pending.contains_key(&id) && self.pending.len() >= MAX_PENDING {
            if let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, pending)| pending.made)
                .map(|(id, _)| *id)
            {
                self.pending.remove(&oldest);
            }
        }
        let made = self.pending_made;
        let pending = self.pending.entry(id).or_insert_with(|| Pending {
            checkpoint: checkpoint.clone(),
            next_set: None,
            signatures: BTreeMap::new(),
            aggregates: BTreeMap::new(),
            made,
        });
        if pending.made == made {
            self.pending_made += 1;
        }
        if pending.next_set.is_none() {
            pending.next_set = next_set.cloned();
        }
        pending
    }

    /// Adds the certificate a pending checkpoint's signatures and aggregates now make, if any.
    fn assemble_and_add(
        &mut self,
        id: &CheckpointId,
    ) -> Result<Option<CheckpointCertificate>, CollectError> {
        let Some(certificate) = self.assemble(id) else {
            return Ok(None);
        };
        self.add_certificate(&certificate)?;
        Ok(Some(certificate))
    }

    /// A certificate from the cells whose signers already hold a quorum — an aggregate from
    /// the cell, or signatures collected from its validators — when there are `k` of them
    /// including the origin and the set the checkpoint hands over is here.
    fn assemble(&self, id: &CheckpointId) -> Option<CheckpointCertificate> {
        let pending = self.pending.get(id)?;
        let checkpoint = &pending.checkpoint;
        let collected = (pending.signatures.keys())
            .filter(|cell| !pending.aggregates.contains_key(cell))
            .filter(|cell| self.has_quorum(pending, **cell));
        let quorums: BTreeSet<CellId> = (pending.aggregates.keys())
            .chain(collected)
            .copied()
            .collect();
        let next_set_known = !checkpoint.hands_over() || pending.next_set.is_some();
        if !quorums.contains(&checkpoint.cell) || !next_set_known {
            return None;
        }
        let quorums = self.on_one_committee(checkpoint, &quorums)?;
        // Aggregating is the costly part (each signature decompressed and checked again): only
        // once the certificate is complete.
        let mut by_cell: BTreeMap<CellId, (CellSigners, BlsSignature)> =
            (pending.aggregates.iter())
                .filter(|(cell, _)| quorums.contains(cell))
                .map(|(cell, aggregate)| (*cell, aggregate.clone()))
                .collect();
        for cell in quorums
            .iter()
            .filter(|cell| !pending.aggregates.contains_key(cell))
        {
            let made = self.cell_aggregate(checkpoint, *cell)?;
            by_cell.insert(*cell, (made.signers, made.signature));
        }
        let (signers, signatures): (Vec<CellSigners>, Vec<BlsSignature>) =
            by_cell.into_values().unzip();
        Some(CheckpointCertificate {
            checkpoint: pending.checkpoint.clone(),
            signers,
            signature: aggregate(&signatures).ok()?,
            next_set: pending.next_set.clone(),
        })
    }

    /// Of the cells holding quorums on `checkpoint` (its own among them), the checkpoint's cell
    /// and those on the first of its committees on which `k − 1` of them are, if one is: a
    /// certificate's co-signers must all be on one committee.
    fn on_one_committee(
        &self,
        checkpoint: &Checkpoint,
        quorums: &BTreeSet<CellId>,
    ) -> Option<BTreeSet<CellId>> {
        let k = self.sets.k();
        (self.sets.committees(checkpoint).into_iter())
            .map(|committee| {
                (quorums.iter().copied())
                    .filter(|cell| *cell == checkpoint.cell || committee.contains(cell))
                    .collect::<BTreeSet<CellId>>()
            })
            .find(|signing| signing.len() >= k)
    }

    /// Checks a certificate and, if final, records it and moves to the validator set it hands
    /// over. A second, different final certificate for the same cell and epoch is kept with
    /// the first as proof and quarantines the cell, unless a ruling already settled that
    /// epoch.
    pub fn add_certificate(
        &mut self,
        certificate: &CheckpointCertificate,
    ) -> Result<Added, CollectError> {
        let checkpoint = &certificate.checkpoint;
        let position = (checkpoint.cell, checkpoint.epoch);
        if let Some(known) = self.finals.get(&position) {
            let proven = (self.equivocations.get(&position))
                .is_some_and(|proof| proof.second.checkpoint == *checkpoint);
            if known.checkpoint == *checkpoint || proven {
                return Ok(Added::Known);
            }
            let overruled = self.settled(&position);
            // Judged with the cell's signers in the set that certified that epoch: the one
            // the known certificate names.
            let checked = (self.sets).check_with_origin(certificate, &known.checkpoint.validators);
            self.verify_certificate(checked?)?;
            if overruled {
                return Ok(Added::Overruled);
            }
            self.equivocations.insert(
                position,
                Equivocation {
                    first: known.clone(),
                    second: certificate.clone(),
                },
            );
            self.requarantine();
            return Ok(Added::Equivocation);
        }
        if self.quarantined.contains(&checkpoint.cell) {
            return Err(CollectError::Quarantined(checkpoint.cell));
        }
        self.advance(certificate)?;
        self.finals.insert(position, certificate.clone());
        self.pending
            .retain(|_, pending| (pending.checkpoint.cell, pending.checkpoint.epoch) != position);
        Ok(Added::Final)
    }

    /// Checks a final certificate and moves to the validator set it hands over.
    fn advance(&mut self, certificate: &CheckpointCertificate) -> Result<(), CheckpointError> {
        self.verify_certificate(self.sets.check(certificate)?)?;
        self.install_set(certificate)
    }

    /// Makes a certificate's pairing check, unless the latest batch made it: then not even
    /// its keys are summed again.
    fn verify_certificate(&self, checked: Checked) -> Result<(), CheckpointError> {
        match self.batch_checked.get(&checked.name()) {
            Some(outcome) => outcome.clone(),
            None => checked.pairing().verify(),
        }
    }

    /// Makes a validator's signature check, unless the latest batch made it.
    fn verify_pairing(&self, pairing: Pairing) -> Result<(), CheckpointError> {
        match self.batch_checked.get(&pairing.signed_by().digest()) {
            Some(outcome) => outcome.clone(),
            None => pairing.verify(),
        }
    }

    /// Verifies the signatures of certificates and validators' signatures about to be added,
    /// together: one Miller loop per certificate and per checkpoint signed, and a single final
    /// exponentiation for the batch, where one by one each costs two loops and one. Only what
    /// passes every other check against the sets known now is in the batch; adding it (in any
    /// order) then skips the pairings that passed. A certificate whose checks change as earlier
    /// ones hand sets over is checked in full, and so is anything past the first [`MAX_BATCH`]
    /// of each kind, which bounds how long one batch holds the collector. Returns how many
    /// pairings of each kind passed.
    pub fn pre_verify(
        &mut self,
        certificates: &[&CheckpointCertificate],
        signatures: &[HeardSignature<'_>],
        rng: &mut impl rand_core::RngCore,
    ) -> Batched {
        let (certificate_names, of_certificates): (Vec<[u8; 32]>, Vec<Pairing>) = (certificates
            .iter())
        .filter(|certificate| !self.is_known(certificate))
        .filter_map(|certificate| self.sets.check(certificate).ok())
        .take(MAX_BATCH)
        .map(|checked| (checked.name(), checked.pairing()))
        .unzip();
        let of_signatures: Vec<Pairing> = (signatures.iter())
            .filter_map(|heard| self.signature_pairing(heard))
            .take(MAX_BATCH)
            .collect();
        let pairings = [of_certificates.as_slice(), of_signatures.as_slice()].concat();
        let outcomes = verify_pairings(&pairings, rng);
        let passed = |outcomes: &[Result<(), CheckpointError>]| {
            outcomes.iter().filter(|outcome| outcome.is_ok()).count()
        };
        let batched = Batched {
            certificates: passed(&outcomes[..of_certificates.len()]),
            signatures: passed(&outcomes[of_certificates.len()..]),
        };
        let names = (certificate_names.into_iter()).chain(
            of_signatures
                .iter()
                .map(|pairing| pairing.signed_by().digest()),
        );
        self.batch_checked = names.zip(outcomes).collect();
        batched
    }

    /// The pairing check of a validator's signature, when the signer is a member of its
    /// cell's current set.
    fn signature_pairing(&self, heard: &HeardSignature<'_>) -> Option<Pairing> {
        if heard.checkpoint.federation != self.sets.federation() {
            return None;
        }
        let set = self.sets.head(heard.cell)?;
        let position =
            (set.validators().0.iter()).position(|member| member.passport == heard.signer)?;
        let key = set.key(position)?;
        let message = heard.checkpoint.signing_bytes();
        Some(Pairing::single(key, message, *heard.signature))
    }

    /// Whether this very checkpoint is final here already.
    fn is_known(&self, certificate: &CheckpointCertificate) -> bool {
        let checkpoint = &certificate.checkpoint;
        (self.finals.get(&(checkpoint.cell, checkpoint.epoch)))
            .is_some_and(|known| known.checkpoint == *checkpoint)
    }

    /// Makes the set `certificate` hands over the current one of its cell. Signatures
    /// collected from a previous, different set are dropped: their positions name members of
    /// that set.
    fn install_set(&mut self, certificate: &CheckpointCertificate) -> Result<(), CheckpointError> {
        if self.sets.take_hand_over(certificate)? {
            let cell = certificate.checkpoint.cell;
            for pending in self.pending.values_mut() {
                pending.signatures.remove(&cell);
            }
        }
        Ok(())
    }
}

/// The power of the signers at `positions` in `set` (a position outside it counts nothing).
fn power_of(set: &ValidatedSet, positions: &BTreeMap<usize, BlsSignature>) -> u128 {
    positions
        .keys()
        .filter_map(|position| set.validators().0.get(*position))
        .map(|member| u128::from(member.power))
        .sum()
}
