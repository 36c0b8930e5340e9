//! What a verifier knows of the federation's validator sets, and the certificate check that
//! uses it.
//!
//! Every set a cell has held — its genesis set, and each set one of its final checkpoints
//! handed over — is kept by hash, with its keys validated once when it is learned: checking a
//! certificate then costs point additions (or subtractions of the few validators that did not
//! sign) and one pairing check, whatever the number of keys. Each co-signing cell's entry in a
//! certificate names the set it signed with, so whether a certificate verifies depends on the
//! sets it names and not on the order in which a verifier learned them. The checkpoint's own
//! cell is held to its chain: its signers must be the set its latest final checkpoint handed
//! over (its head).

use crate::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, CheckpointCertificate, CheckpointError,
    FederationView,
};
use crate::committee::{committee, HAND_OVER_COMMITTEES};
use charter_ledger::crypto::bls::{verify_batch, BlsSignature, KeySum, SignedBy, ValidatedKey};
use charter_ledger::{CellId, FederationId};
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

/// A cell's validator set with every key validated and decoded, and the sum of all its keys.
#[derive(Clone, Debug)]
pub struct ValidatedSet {
    validators: CellValidators,
    hash: [u8; 32],
    keys: Vec<ValidatedKey>,
    all: KeySum,
    total_power: u128,
}

impl ValidatedSet {
    /// KeyValidate on every member's key; a set with a key that fails it cannot sign anything,
    /// and neither can one with no member or no power.
    pub fn new(cell: CellId, validators: CellValidators) -> Result<Self, CheckpointError> {
        if validators.total_power() == 0 {
            return Err(CheckpointError::PowerlessSet(cell));
        }
        let keys = (validators.0.iter())
            .map(|member| member.bls_key.validated())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| CheckpointError::InvalidKey { cell, error })?;
        let mut all = KeySum::default();
        keys.iter().for_each(|key| all.add(key));
        Ok(Self {
            hash: validators.hash(),
            total_power: validators.total_power(),
            validators,
            keys,
            all,
        })
    }

    pub fn validators(&self) -> &CellValidators {
        &self.validators
    }

    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn total_power(&self) -> u128 {
        self.total_power
    }

    /// More than two thirds of the total power.
    pub fn is_quorum(&self, power: u128) -> bool {
        power * 3 > self.total_power * 2
    }

    /// The validated key of the member at `position`.
    pub fn key(&self, position: usize) -> Option<&ValidatedKey> {
        self.keys.get(position)
    }

    /// The power of the members a bitmap names (bits beyond the set count nothing).
    pub fn signed_power(&self, signers: &CellSigners) -> u128 {
        (self.validators.0.iter().enumerate())
            .filter(|(index, _)| signers.signed(*index))
            .map(|(_, member)| u128::from(member.power))
            .sum()
    }

    /// The signers' aggregate key, for a bitmap already checked against this set's size: from
    /// the set's sum less the missing keys when most signed, else from the signers'.
    fn signers_key(&self, signers: &CellSigners) -> KeySum {
        let signed: Vec<bool> = (0..self.len()).map(|index| signers.signed(index)).collect();
        let count = signed.iter().filter(|signed| **signed).count();
        let most_signed = count * 2 > self.len();
        let mut sum = if most_signed {
            self.all
        } else {
            KeySum::default()
        };
        for (key, signed) in self.keys.iter().zip(&signed) {
            match (most_signed, *signed) {
                (true, false) => sum.subtract(key),
                (false, true) => sum.add(key),
                _ => {}
            }
        }
        sum
    }
}

/// Every validator set each cell of the federation has held, validated, and the set each
/// cell's next checkpoint must name.
#[derive(Clone, Debug)]
pub struct KnownSets {
    federation: FederationId,
    k: usize,
    committee: usize,
    /// The federation's cells, in increasing order.
    cells: Vec<CellId>,
    /// Per cell, the set its next final checkpoint must name: its genesis set, then the one
    /// its latest final checkpoint handed over.
    heads: BTreeMap<CellId, [u8; 32]>,
    held: BTreeMap<(CellId, [u8; 32]), ValidatedSet>,
}

impl KnownSets {
    /// The sets of the federation genesis, each cell's head; refused when a key fails
    /// KeyValidate or `k` and the committee size make no rule for its cells.
    pub fn new(genesis: &FederationView) -> Result<Self, CheckpointError> {
        let cells: Vec<CellId> = genesis.cells.keys().copied().collect();
        let (k, committee) = (genesis.k, genesis.committee);
        if !(1..=cells.len()).contains(&k) || committee < k - 1 {
            let cells = cells.len();
            return Err(CheckpointError::InvalidRule {
                k,
                committee,
                cells,
            });
        }
        let mut sets = Self {
            federation: genesis.federation,
            k,
            committee,
            cells,
            heads: BTreeMap::new(),
            held: BTreeMap::new(),
        };
        for (cell, set) in &genesis.cells {
            sets.hand_over(*cell, set)?;
        }
        Ok(sets)
    }

    pub fn federation(&self) -> FederationId {
        self.federation
    }

    /// Cells whose quorums a checkpoint needs: its own and `k − 1` of its committee.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Cells on each checkpoint's committee (fewer when the federation has fewer others).
    pub fn committee_size(&self) -> usize {
        self.committee
    }

    /// The cells that may co-sign `origin`'s checkpoint of `epoch`.
    pub fn committee(&self, origin: CellId, epoch: u64) -> Vec<CellId> {
        let seed = &self.federation.0;
        committee(seed, &self.cells, origin, epoch, self.committee)
    }

    /// The committees that may co-sign `checkpoint`, any one of which makes it final: its
    /// epoch's, and for a checkpoint that hands over a new set the next epochs' too
    /// ([`HAND_OVER_COMMITTEES`] in all).
    pub fn committees(&self, checkpoint: &Checkpoint) -> Vec<Vec<CellId>> {
        let count = match checkpoint.hands_over() {
            true => HAND_OVER_COMMITTEES,
            false => 1,
        };
        (0..count)
            .map(|later| self.committee(checkpoint.cell, checkpoint.epoch.saturating_add(later)))
            .collect()
    }

    /// Whether `cell` may sign `checkpoint`: it is the checkpoint's cell, or on one of its
    /// committees.
    pub fn may_sign(&self, checkpoint: &Checkpoint, cell: CellId) -> bool {
        cell == checkpoint.cell
            || (self.committees(checkpoint).iter()).any(|committee| committee.contains(&cell))
    }

    /// The federation's cells, in increasing order.
    pub fn cells(&self) -> &[CellId] {
        &self.cells
    }

    pub fn is_cell(&self, cell: CellId) -> bool {
        self.heads.contains_key(&cell)
    }

    /// Each cell with its head set, in cell order.
    pub fn heads(&self) -> impl Iterator<Item = (CellId, &ValidatedSet)> {
        self.heads
            .iter()
            .map(|(cell, hash)| (*cell, &self.held[&(*cell, *hash)]))
    }

    /// The set `cell`'s next final checkpoint must name.
    pub fn head(&self, cell: CellId) -> Option<&ValidatedSet> {
        let hash = self.heads.get(&cell)?;
        self.held.get(&(cell, *hash))
    }

    /// The set of `cell` with hash `hash`, if the cell has held it.
    pub fn held(&self, cell: CellId, hash: &[u8; 32]) -> Option<&ValidatedSet> {
        self.held.get(&(cell, *hash))
    }

    /// The sets as a view: the federation, `k` and each cell's head.
    pub fn view(&self) -> FederationView {
        FederationView {
            federation: self.federation,
            k: self.k,
            committee: self.committee,
            cells: (self.heads())
                .map(|(cell, set)| (cell, set.validators.clone()))
                .collect(),
        }
    }

    /// Makes `set` the head of `cell`, validating it when it is new; returns whether the head
    /// changed.
    pub fn hand_over(
        &mut self,
        cell: CellId,
        set: &CellValidators,
    ) -> Result<bool, CheckpointError> {
        let hash = set.hash();
        if let Entry::Vacant(unknown) = self.held.entry((cell, hash)) {
            unknown.insert(ValidatedSet::new(cell, set.clone())?);
        }
        Ok(self.heads.insert(cell, hash) != Some(hash))
    }

    /// Checks a certificate of a cell's next epoch: its own cell's signers are the cell's head
    /// set.
    pub fn verify(&self, certificate: &CheckpointCertificate) -> Result<(), CheckpointError> {
        self.check(certificate)?.pairing().verify()
    }

    /// Every check of [`KnownSets::verify`] but the pairing, which is left to be made alone
    /// or with others ([`verify_pairings`]).
    pub fn check<'a>(
        &'a self,
        certificate: &'a CheckpointCertificate,
    ) -> Result<Checked<'a>, CheckpointError> {
        let cell = certificate.checkpoint.cell;
        let head = self
            .heads
            .get(&cell)
            .ok_or(CheckpointError::UnknownCell(cell))?;
        self.check_with_origin(certificate, head)
    }

    /// Every check but the pairing, with the checkpoint's own cell signing as the set
    /// `origin`: the checkpoint names that set, every listed cell is the origin or on one and
    /// the same of its committees ([`KnownSets::committees`]) and its signers hold more than
    /// 2/3 of the power of a set the cell has held (the one its entry names), at least `k`
    /// cells are listed (the origin among them), and the set it hands over travels with it
    /// exactly when it is new. What is left is that the aggregate signature is exactly the
    /// listed signers' signatures on the checkpoint.
    pub fn check_with_origin<'a>(
        &'a self,
        certificate: &'a CheckpointCertificate,
        origin: &[u8; 32],
    ) -> Result<Checked<'a>, CheckpointError> {
        let checkpoint = &certificate.checkpoint;
        if checkpoint.federation != self.federation {
            return Err(CheckpointError::WrongFederation(checkpoint.federation));
        }
        if !self.is_cell(checkpoint.cell) {
            return Err(CheckpointError::UnknownCell(checkpoint.cell));
        }
        if checkpoint.validators != *origin {
            return Err(CheckpointError::OtherValidatorSet(checkpoint.cell));
        }
        self.check_signer_cells(certificate, origin)?;
        if certificate.signers.len() < self.k {
            return Err(CheckpointError::TooFewCells {
                needed: self.k,
                got: certificate.signers.len(),
            });
        }
        if !(certificate.signers.iter()).any(|signers| signers.cell == checkpoint.cell) {
            return Err(CheckpointError::OriginMissing(checkpoint.cell));
        }
        checkpoint.check_next_set(certificate.next_set.as_ref())?;
        Ok(Checked {
            sets: self,
            certificate,
        })
    }

    /// Checks a certificate's signer entries: in increasing cell order, each a cell of the
    /// federation, the origin's naming `origin`, the others all on one of the checkpoint's
    /// committees, and each holding a quorum of the set it names.
    fn check_signer_cells(
        &self,
        certificate: &CheckpointCertificate,
        origin: &[u8; 32],
    ) -> Result<(), CheckpointError> {
        let checkpoint = &certificate.checkpoint;
        let committees = self.committees(checkpoint);
        let mut previous: Option<CellId> = None;
        for signers in &certificate.signers {
            if previous.is_some_and(|previous| previous >= signers.cell) {
                return Err(CheckpointError::CellsOutOfOrder(signers.cell));
            }
            previous = Some(signers.cell);
            if signers.cell == checkpoint.cell && signers.validators != *origin {
                return Err(CheckpointError::OtherValidatorSet(signers.cell));
            }
            if !self.is_cell(signers.cell) {
                return Err(CheckpointError::UnknownCell(signers.cell));
            }
            let on_committee = (committees.iter()).any(|drawn| drawn.contains(&signers.cell));
            if signers.cell != checkpoint.cell && !on_committee {
                return Err(not_on_committee(checkpoint, signers.cell));
            }
            self.quorum_set(signers)?;
        }
        let co_signers = (certificate.signers.iter())
            .map(|signers| signers.cell)
            .filter(|cell| *cell != checkpoint.cell);
        match one_committee(&committees, co_signers) {
            true => Ok(()),
            false => Err(CheckpointError::CommitteesMixed {
                origin: checkpoint.cell,
                epoch: checkpoint.epoch,
            }),
        }
    }

    /// Checks one cell's aggregate on a checkpoint of another cell's next epoch, or of its
    /// own: the checkpoint names its cell's head, the aggregating cell is that cell or on its
    /// committee, the signers hold more than 2/3 of the power of the set they name (for the
    /// checkpoint's own cell, its head), a carried set is the one handed over, and the
    /// signature is theirs.
    pub fn verify_aggregate(&self, aggregate: &CellAggregate) -> Result<(), CheckpointError> {
        let (checkpoint, signers) = (&aggregate.checkpoint, &aggregate.signers);
        if checkpoint.federation != self.federation {
            return Err(CheckpointError::WrongFederation(checkpoint.federation));
        }
        let origin = (self.heads.get(&checkpoint.cell))
            .ok_or(CheckpointError::UnknownCell(checkpoint.cell))?;
        if checkpoint.validators != *origin {
            return Err(CheckpointError::OtherValidatorSet(checkpoint.cell));
        }
        if !self.is_cell(signers.cell) {
            return Err(CheckpointError::UnknownCell(signers.cell));
        }
        if signers.cell == checkpoint.cell && signers.validators != *origin {
            return Err(CheckpointError::OtherValidatorSet(signers.cell));
        }
        if !self.may_sign(checkpoint, signers.cell) {
            return Err(not_on_committee(checkpoint, signers.cell));
        }
        if aggregate.next_set.is_some() {
            checkpoint.check_next_set(aggregate.next_set.as_ref())?;
        }
        let key = self.quorum_set(signers)?.signers_key(signers);
        key.verify(&checkpoint.signing_bytes(), &aggregate.signature)?;
        Ok(())
    }

    /// The set one cell's signers name, once it is known, their bitmap fits it and they hold a
    /// quorum of it.
    fn quorum_set(&self, signers: &CellSigners) -> Result<&ValidatedSet, CheckpointError> {
        let cell = signers.cell;
        let set =
            (self.held(cell, &signers.validators)).ok_or(CheckpointError::UnknownValidatorSet {
                cell,
                hash: signers.validators,
            })?;
        if signers.bitmap.len() != set.len().div_ceil(8)
            || (set.len()..signers.bitmap.len() * 8).any(|index| signers.signed(index))
        {
            return Err(CheckpointError::BitmapSize {
                cell,
                validators: set.len(),
                got: signers.bitmap.len(),
            });
        }
        let signed = set.signed_power(signers);
        if !set.is_quorum(signed) {
            return Err(CheckpointError::BelowQuorum {
                cell,
                signed,
                total: set.total_power(),
            });
        }
        Ok(set)
    }

    /// Verifies a cell's next final checkpoint and makes the set it hands over the cell's head
    /// — how a verifier follows other cells' sets.
    pub fn advance(&mut self, certificate: &CheckpointCertificate) -> Result<(), CheckpointError> {
        self.verify(certificate)?;
        self.take_hand_over(certificate)?;
        Ok(())
    }

    /// Makes the set a certificate hands over its cell's head, without verifying the
    /// certificate (the caller did, or trusts it): the new set it carries, or, when it carries
    /// none, the set that certified its epoch, which must be held here (it is, once the
    /// certificate verified). Returns whether the head changed.
    pub fn take_hand_over(
        &mut self,
        certificate: &CheckpointCertificate,
    ) -> Result<bool, CheckpointError> {
        let checkpoint = &certificate.checkpoint;
        let cell = checkpoint.cell;
        checkpoint.check_next_set(certificate.next_set.as_ref())?;
        if let Some(set) = &certificate.next_set {
            return self.hand_over(cell, set);
        }
        let hash = checkpoint.next_validators;
        if !self.held.contains_key(&(cell, hash)) {
            return Err(CheckpointError::UnknownValidatorSet { cell, hash });
        }
        Ok(self.heads.insert(cell, hash) != Some(hash))
    }
}

/// Whether every one of `cells` is on one and the same of `committees`.
fn one_committee(committees: &[Vec<CellId>], cells: impl Iterator<Item = CellId> + Clone) -> bool {
    (committees.iter()).any(|committee| cells.clone().all(|cell| committee.contains(&cell)))
}

fn not_on_committee(checkpoint: &Checkpoint, cell: CellId) -> CheckpointError {
    CheckpointError::NotOnCommittee {
        cell,
        origin: checkpoint.cell,
        epoch: checkpoint.epoch,
    }
}

/// A certificate whose every claim but its signature holds against the known sets: what is
/// left is its pairing check.
pub struct Checked<'a> {
    sets: &'a KnownSets,
    certificate: &'a CheckpointCertificate,
}

impl Checked<'_> {
    /// Names the pairing check by the certificate's bytes, without summing any key: the sets
    /// its signers name by hash never change, so the same bytes make the same check.
    pub fn name(&self) -> [u8; 32] {
        let certificate = self.certificate;
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"charter/certificate-check/v1");
        hasher.update(&borsh::to_vec(&certificate.checkpoint).expect("writing to a Vec"));
        hasher.update(&borsh::to_vec(&certificate.signers).expect("writing to a Vec"));
        hasher.update(&certificate.signature.0);
        *hasher.finalize().as_bytes()
    }

    /// The pairing check: the signers' keys summed, cell by cell.
    pub fn pairing(&self) -> Pairing {
        let mut key = KeySum::default();
        for signers in &self.certificate.signers {
            let set = (self.sets.held(signers.cell, &signers.validators))
                .expect("a checked certificate's sets are held");
            key.add_sum(&set.signers_key(signers));
        }
        Pairing {
            key,
            message: self.certificate.checkpoint.signing_bytes(),
            signature: self.certificate.signature,
        }
    }
}

/// The last check of a certificate: that its signature is the listed signers' aggregate
/// signature on its checkpoint.
#[derive(Clone, Debug)]
pub struct Pairing {
    key: KeySum,
    message: Vec<u8>,
    signature: BlsSignature,
}

impl Pairing {
    /// One validator's signature on `message`.
    pub fn single(key: &ValidatedKey, message: Vec<u8>, signature: BlsSignature) -> Self {
        let mut sum = KeySum::default();
        sum.add(key);
        Self {
            key: sum,
            message,
            signature,
        }
    }

    pub fn signed_by(&self) -> SignedBy<'_> {
        SignedBy {
            key: &self.key,
            message: &self.message,
            signature: &self.signature,
        }
    }

    pub fn verify(&self) -> Result<(), CheckpointError> {
        self.key.verify(&self.message, &self.signature)?;
        Ok(())
    }
}

/// Each pairing's outcome, checked together: in one batch, and one by one only when the batch
/// fails, to name which do not verify.
pub fn verify_pairings(
    pairings: &[Pairing],
    rng: &mut impl rand_core::RngCore,
) -> Vec<Result<(), CheckpointError>> {
    let batch: Vec<SignedBy> = pairings.iter().map(Pairing::signed_by).collect();
    if verify_batch(&batch, rng).is_ok() {
        return vec![Ok(()); pairings.len()];
    }
    pairings.iter().map(Pairing::verify).collect()
}
