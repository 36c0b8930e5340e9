//! The node's part in federation finality. At the end of each epoch of its own cell it builds
//! the checkpoint from what it committed and, as a validator, signs it (guarded: never two
//! checkpoints for one cell and epoch) and sends its signature to its cell's aggregators of
//! that checkpoint; it co-signs other cells' checkpoints once their own cell has vouched for
//! them; as an aggregator it collects its cell's signatures and publishes their aggregate; it
//! assembles its cell's certificates from cells' aggregates, publishes each when it becomes
//! final, and keeps final certificates (and any equivocation proof) on disk so that its view
//! of the federation survives restarts.
//!
//! A cell that certified two checkpoints for one epoch is quarantined: the bridge to it is in
//! lockdown until this cell's validators rule which checkpoint to keep (`LiftBridgeLockdown`,
//! read from the ledger once committed). For its own cell a node keeps the checkpoint it
//! signed itself.

use crate::federation_store::{FederationStore, FederationStoreError, OwnHandOver};
use crate::gossip::{
    aggregator_topic, cell_checkpoints_topic, certificates_topic, Heard, Verdicts,
};
use crate::metrics::NodeMetrics;
use crate::publisher::Publisher;
use borsh::BorshDeserialize;
use charter_consensus::host::CommittedBlock;
use charter_federation::checkpoint::{
    CellAggregate, CellValidators, Checkpoint, CheckpointCertificate, CheckpointError,
};
use charter_federation::checkpoint_signer::CheckpointSigner;
use charter_federation::collector::{
    Added, CollectError, Collector, FederationMessage, HeardSignature,
};
use charter_federation::committee::aggregators;
use charter_ledger::crypto::bls::BlsSignature;
use charter_ledger::state::{ActiveValidators, BridgeRuling, CellInfo, StateKey};
use charter_ledger::storage::{Storage, StorageError};
use charter_ledger::{CellId, CheckpointId, FederationId, Ledger, LedgerError, PassportId};
use charter_p2p::Verdict;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// A certificate that could not be written is logged, not fatal: it is also held in memory and
/// gossiped.
fn log_unkept(kept: Result<(), FederationStoreError>) {
    if let Err(error) = kept {
        tracing::error!(%error, "could not write to the federation store");
    }
}

fn publish_on(publisher: &Publisher, message: &FederationMessage) {
    let bytes = borsh::to_vec(message).expect("writing to a Vec cannot fail");
    if !publisher.publish(bytes) {
        tracing::warn!("the gossip queue is full; a checkpoint message was dropped");
    }
}

/// A refused message penalizes its sender only if no honest node could have sent it.
fn refused(error: &CollectError) -> Verdict {
    match error.provably_invalid() {
        true => Verdict::Reject,
        false => Verdict::Ignore,
    }
}

/// Whether `batch` is the two final certificates of one cell and epoch that prove it
/// equivocated.
fn is_equivocation_proof(batch: &[CheckpointCertificate]) -> bool {
    match batch {
        [first, second] => {
            let (first, second) = (&first.checkpoint, &second.checkpoint);
            first.cell == second.cell && first.epoch == second.epoch && first != second
        }
        _ => false,
    }
}

/// A checkpoint, and the new set it hands over when it hands over one.
type Handing = (Checkpoint, Option<CellValidators>);

/// Who signed a checkpoint, with what.
struct Signed {
    cell: CellId,
    signer: PassportId,
    signature: BlsSignature,
}

/// Messages from the topics of finality waiting to be handled.
pub const INBOUND_QUEUE: usize = 4_096;
/// Most queued messages handled together (their certificates verified in one batch).
pub const INBOUND_BATCH: usize = 64;
/// How long validators' signatures queued alone wait for more before they are checked. An
/// aggregator's signatures come from its cell's validators within about a hop of each other,
/// and checked together in one batch each costs a quarter of one checked alone; the wait adds
/// at most this much to each of the two aggregations a checkpoint's finality waits on.
pub const SIGNATURE_GATHERING: Duration = Duration::from_millis(20);

pub struct Finality<S: Storage> {
    pub collector: Arc<Mutex<Collector>>,
    /// This validator's identity and guarded BLS signer.
    pub cell: CellId,
    pub passport: PassportId,
    pub signer: CheckpointSigner,
    /// A read-only handle on the ledger consensus commits to.
    pub ledger: Ledger<S>,
    pub publisher: Publisher,
    /// Where final certificates and equivocation proofs are kept.
    pub store: FederationStore,
    /// The cells whose every final certificate this node takes (its own among them); of the
    /// others it takes the hand-overs only.
    pub follows: BTreeSet<CellId>,
    pub catch_up: CatchUp,
    /// Other cells' checkpoints this process co-signed.
    pub co_signed: Once,
    /// Checkpoints whose aggregate of our cell's signatures this process published.
    pub aggregated: Once,
    /// Our cell's checkpoints that hand over a new set and are not final here yet, oldest
    /// first (kept in the store too, for restarts).
    pub own_hand_overs: Vec<OwnHandOver>,
    pub metrics: Arc<NodeMetrics>,
    /// Where the verdict on each message heard goes back to the mesh.
    pub verdicts: Verdicts,
}

/// Most of our own cell's hand-overs held while not final. Only the oldest is signed again
/// (each later one waits on it), so past this a cell's operators have a partition to mend,
/// and newer hand-overs are not held.
const OWN_HAND_OVERS_KEPT: usize = 64;

/// Most checkpoints remembered as done; the oldest are forgotten first.
const DONE_KEPT: usize = 1_024;

/// Checkpoints (by cell and epoch) this process did something for that it does once per
/// checkpoint, however many messages about it arrive: co-signing another cell's, publishing
/// its cell's aggregate. Doing it again on each would publish a fresh message each time, which
/// every other node would answer in kind, without end. (After a restart a node may sign one
/// again; its guard makes that the same signature.)
#[derive(Default)]
pub struct Once(BTreeSet<(CellId, u64)>);

impl Once {
    /// Whether `cell`'s checkpoint of `epoch` is new here; remembers it.
    fn first_time(&mut self, cell: CellId, epoch: u64) -> bool {
        let new = self.0.insert((cell, epoch));
        if self.0.len() > DONE_KEPT {
            self.0.pop_first();
        }
        new
    }
}

/// Most final certificates in one answer to `Missing`.
const CATCH_UP_BATCH: usize = 16;
/// Most answers to `Missing` a node gives per final epoch of its own cell, so that requests,
/// honest or not, cost a bounded amount of gossip.
const ANSWERS_PER_EPOCH: u32 = 8;

/// Catching up on final certificates gossiped while this node was down or out of the mesh:
/// without them it could not follow another cell's validator set across a hand-over.
#[derive(Default)]
pub struct CatchUp {
    /// Our own cell's latest epoch, which paces requests.
    own_epoch: u64,
    /// Per cell, our own cell's epoch when we last asked for what we lack from it: once per
    /// epoch of ours at most (what shows a lack is an epoch number not yet verified, so it
    /// cannot be what paces us).
    asked_in: BTreeMap<CellId, u64>,
    /// Our cell's latest final epoch when we last answered, and how many answers we gave
    /// since it became final.
    answered: Option<(u64, u32)>,
}

impl<S: Storage> Finality<S> {
    fn collector(&self) -> std::sync::MutexGuard<'_, Collector> {
        self.collector
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The validator set in force at `height` (the ledger keeps every height's state).
    fn validators_at(&self, height: u64) -> Result<CellValidators, LedgerError> {
        let (value, _) = self
            .ledger
            .get_with_proof(&StateKey::ActiveValidators, height)?;
        let active: ActiveValidators = value
            .as_deref()
            .map(borsh::from_slice)
            .transpose()
            .map_err(|error| StorageError::Corrupt(format!("validator set: {error}")))?
            .unwrap_or_default();
        Ok(CellValidators::from(&active))
    }

    /// The checkpoint of the epoch `block` ends, if it ends one, with the set it hands over
    /// when that is a new one.
    fn checkpoint_of(&mut self, block: &CommittedBlock) -> Result<Option<Handing>, LedgerError> {
        self.ledger.refresh()?;
        let cell: CellInfo = self
            .ledger
            .get(&StateKey::Cell)?
            .ok_or(LedgerError::NotInitialized)?;
        let height = block.height.0;
        let epoch_length = cell.params.epoch_length;
        if !height.is_multiple_of(epoch_length) {
            return Ok(None);
        }
        // The set elected at the end of the previous epoch certified this one; the set
        // elected at this block's end certifies the next.
        let validators = self.validators_at(height - 1)?.hash();
        let next = self.validators_at(height)?;
        let checkpoint = Checkpoint {
            federation: cell.federation,
            cell: cell.cell,
            epoch: height / epoch_length,
            height,
            block: block.hash,
            state_root: block.state_root,
            validators,
            next_validators: next.hash(),
        };
        let next_set = checkpoint.hands_over().then_some(next);
        Ok(Some((checkpoint, next_set)))
    }

    /// Signs (if the guard allows), collects our own signature and publishes it; not when
    /// this validator is not in its cell's set as the federation knows it (it was slashed out
    /// or never joined), since no node would count its signature. `next_set` is the new set
    /// our own cell's checkpoint hands over, sent with our signature.
    fn sign(&mut self, checkpoint: &Checkpoint, next_set: Option<CellValidators>) {
        let member = (self.collector().sets().head(self.cell)).is_some_and(|set| {
            (set.validators().0.iter()).any(|member| member.passport == self.passport)
        });
        if !member {
            tracing::debug!(
                cell = checkpoint.cell.0,
                epoch = checkpoint.epoch,
                "not signing the checkpoint: not in our cell's validator set"
            );
            return;
        }
        let signature = match self.signer.sign(checkpoint) {
            Ok(signature) => signature,
            Err(error) => {
                tracing::warn!(%error, "not signing the checkpoint");
                return;
            }
        };
        let added = self.collector().add_own_signature(
            checkpoint,
            next_set.as_ref(),
            (self.cell, self.passport, signature),
            self.signer.public_key(),
        );
        match added {
            Ok(Some(certificate)) => self.keep_and_publish(&certificate),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "our own checkpoint signature was not collected"),
        }
        let message = FederationMessage::Signature {
            checkpoint: checkpoint.clone(),
            next_set,
            cell: self.cell,
            signer: self.passport,
            signature,
        };
        self.send_to_aggregators(checkpoint, &message);
        self.aggregate_if_due(checkpoint, false);
    }

    /// Signs our own cell's checkpoint of a new epoch, after signing again the oldest of our
    /// cell's hand-overs that is not final yet.
    pub fn own_checkpoint_built(
        &mut self,
        checkpoint: &Checkpoint,
        next_set: Option<CellValidators>,
    ) {
        self.catch_up.own_epoch = checkpoint.epoch;
        self.metrics.federation.record_built(checkpoint.epoch);
        self.resign_stalled_hand_over();
        if let Some(set) = &next_set {
            self.hold_hand_over(checkpoint, set);
        }
        self.sign(checkpoint, next_set);
    }

    /// Our cell's oldest checkpoint that hands over a new set and is not final holds back
    /// every later one (each names a set that no other cell takes before that checkpoint is
    /// final), so our signature on it goes out again each epoch until it is: cells that were
    /// down, or out of the mesh, when it was first gossiped can then co-sign it.
    fn resign_stalled_hand_over(&mut self) {
        let final_epoch = self.collector().latest_final_epoch(self.cell);
        let held = self.own_hand_overs.len();
        (self.own_hand_overs).retain(|hand_over| hand_over.checkpoint.epoch > final_epoch);
        if self.own_hand_overs.len() != held {
            log_unkept(self.store.keep_own_hand_overs(&self.own_hand_overs));
        }
        let Some(stalled) = self.own_hand_overs.first().cloned() else {
            return;
        };
        tracing::info!(
            epoch = stalled.checkpoint.epoch,
            final_epoch,
            "our cell's checkpoint handing over a new validator set is not final yet; signing it again"
        );
        self.metrics.federation.record_hand_over_resigned();
        self.sign(&stalled.checkpoint, Some(stalled.next_set));
        self.aggregate_if_due(&stalled.checkpoint, true);
    }

    /// Holds our cell's checkpoint handing over `set` until it is final.
    fn hold_hand_over(&mut self, checkpoint: &Checkpoint, set: &CellValidators) {
        if self.own_hand_overs.len() >= OWN_HAND_OVERS_KEPT {
            tracing::warn!(
                epoch = checkpoint.epoch,
                "too many of our cell's hand-overs wait to be final; not holding this one"
            );
            return;
        }
        self.own_hand_overs.push(OwnHandOver {
            checkpoint: checkpoint.clone(),
            next_set: set.clone(),
        });
        log_unkept(self.store.keep_own_hand_overs(&self.own_hand_overs));
    }

    /// Publishes on the federation's topic.
    fn publish(&self, message: &FederationMessage) {
        publish_on(&self.publisher, message);
    }

    /// Sends our signature on `checkpoint` to our cell's other aggregators of it, each on its
    /// own topic ([`aggregator_topic`]).
    fn send_to_aggregators(&self, checkpoint: &Checkpoint, signature: &FederationMessage) {
        let federation = self.federation();
        for aggregator in self.own_aggregators(checkpoint) {
            if aggregator != self.passport {
                let topic = aggregator_topic(&federation, self.cell, &aggregator);
                self.publish_to(&topic, signature);
            }
        }
    }

    fn federation(&self) -> FederationId {
        self.collector().sets().federation()
    }

    fn publish_to(&self, topic: &str, message: &FederationMessage) {
        publish_on(&self.publisher.to(topic), message);
    }

    /// The validators of our cell that aggregate its signatures on `checkpoint`, by the set
    /// of our cell the federation knows.
    fn own_aggregators(&self, checkpoint: &Checkpoint) -> Vec<PassportId> {
        let collector = self.collector();
        let sets = collector.sets();
        let Some(set) = sets.head(self.cell) else {
            return Vec::new();
        };
        let members = &set.validators().0;
        let seed = sets.federation().0;
        let (origin, epoch) = (checkpoint.cell, checkpoint.epoch);
        (aggregators(&seed, self.cell, origin, epoch, members.len()).into_iter())
            .map(|position| members[position].passport)
            .collect()
    }

    /// Publishes on `cell`'s own topic ([`cell_checkpoints_topic`]).
    fn publish_to_cell(&self, cell: CellId, message: &FederationMessage) {
        self.publish_to(&cell_checkpoints_topic(&self.federation(), cell), message);
    }

    /// What this node's metrics learn of a certificate final here.
    fn record_final(&self, checkpoint: &Checkpoint) {
        let own = checkpoint.cell == self.cell;
        (self.metrics.federation).record_final(checkpoint.cell, checkpoint.epoch, own);
    }

    fn record_quarantined(&self) {
        let quarantined = self.collector().quarantined().len();
        self.metrics.federation.record_quarantined(quarantined);
    }

    fn keep_and_publish(&self, certificate: &CheckpointCertificate) {
        let checkpoint = &certificate.checkpoint;
        self.record_final(checkpoint);
        tracing::info!(
            cell = checkpoint.cell.0,
            epoch = checkpoint.epoch,
            height = checkpoint.height,
            "checkpoint final"
        );
        log_unkept(self.store.keep_final(certificate));
        self.publish_certificate(certificate);
        self.ask_for_hole_below(checkpoint.cell, checkpoint.epoch);
    }

    /// Publishes a final certificate on its cell's certificate topic, and on the federation's
    /// when it hands over a new set, which every node needs to follow the cell's sets. Of our
    /// own cell's nodes, which all assemble its certificates, only the checkpoint's aggregators
    /// publish them, so that a certificate travels in three copies, not one per validator.
    fn publish_certificate(&self, certificate: &CheckpointCertificate) {
        let checkpoint = &certificate.checkpoint;
        if checkpoint.cell == self.cell
            && !self.own_aggregators(checkpoint).contains(&self.passport)
        {
            return;
        }
        let message = FederationMessage::Certificate(certificate.clone());
        self.publish_to_followers(checkpoint.cell, &message);
        if certificate.next_set.is_some() {
            self.publish(&message);
        }
    }

    /// Publishes on `cell`'s certificate topic ([`certificates_topic`]).
    fn publish_to_followers(&self, cell: CellId, message: &FederationMessage) {
        self.publish_to(&certificates_topic(&self.federation(), cell), message);
    }

    /// Handles one message from a topic of finality, as a peer sent it; what the mesh should
    /// make of it: passed on if it was of use, dropped if not, and its sender penalized if no
    /// honest node could have sent it.
    pub fn handle(&mut self, bytes: &[u8]) -> Verdict {
        self.handle_all(&[bytes])[0]
    }

    /// Handles messages heard together, in order, with the signatures of every certificate
    /// and every validator's signature among them verified in one batch first; each one's
    /// verdict.
    pub fn handle_all(&mut self, messages: &[&[u8]]) -> Vec<Verdict> {
        let decoded: Vec<Option<FederationMessage>> =
            (messages.iter()).map(|bytes| self.decode(bytes)).collect();
        let mut certificates: Vec<&CheckpointCertificate> = Vec::new();
        for message in decoded.iter().flatten() {
            match message {
                FederationMessage::Certificate(certificate) if self.takes(certificate, false) => {
                    certificates.push(certificate)
                }
                FederationMessage::Certificates(batch) if batch.len() <= CATCH_UP_BATCH => {
                    let proof = is_equivocation_proof(batch);
                    certificates.extend(batch.iter().filter(|c| self.takes(c, proof)));
                }
                _ => {}
            }
        }
        let signatures: Vec<HeardSignature> = (decoded.iter().flatten())
            .filter_map(|message| match message {
                FederationMessage::Signature {
                    checkpoint,
                    cell,
                    signer,
                    signature,
                    ..
                } if *cell == self.cell => Some(HeardSignature {
                    checkpoint,
                    cell: *cell,
                    signer: *signer,
                    signature,
                }),
                _ => None,
            })
            .collect();
        if certificates.len() + signatures.len() > 1 {
            let mut collector = self.collector();
            let batched = collector.pre_verify(&certificates, &signatures, &mut rand::thread_rng());
            drop(collector);
            self.metrics.federation.record_batch_verified(batched);
        }
        (decoded.into_iter())
            .map(|message| message.map_or(Verdict::Reject, |message| self.dispatch(message)))
            .collect()
    }

    fn decode(&self, bytes: &[u8]) -> Option<FederationMessage> {
        match FederationMessage::try_from_slice(bytes) {
            Ok(message) => Some(message),
            Err(error) => {
                self.metrics.federation.record_message("undecodable");
                tracing::debug!(%error, "undecodable federation message");
                None
            }
        }
    }

    fn dispatch(&mut self, message: FederationMessage) -> Verdict {
        let kind = match &message {
            FederationMessage::Signature { .. } => "signature",
            FederationMessage::Certificate(_) => "certificate",
            FederationMessage::Missing { .. } => "missing",
            FederationMessage::Certificates(_) => "certificates",
            FederationMessage::Aggregate(_) => "aggregate",
            FederationMessage::MissingHandOvers { .. } => "missing_hand_overs",
        };
        self.metrics.federation.record_message(kind);
        match message {
            FederationMessage::Signature {
                checkpoint,
                next_set,
                cell,
                signer,
                signature,
            } => {
                let signed = Signed {
                    cell,
                    signer,
                    signature,
                };
                let verdict = self.take_signature(&checkpoint, next_set.as_ref(), signed);
                self.notice_epoch(checkpoint.cell, checkpoint.epoch);
                verdict
            }
            FederationMessage::Certificate(certificate) => {
                let verdict = self.take_certificate(&certificate, false);
                self.notice_epoch(certificate.checkpoint.cell, certificate.checkpoint.epoch);
                verdict
            }
            FederationMessage::Missing {
                cell,
                from_epoch,
                to_epoch,
            } => {
                self.answer_missing(cell, from_epoch..=to_epoch);
                Verdict::Accept
            }
            FederationMessage::Certificates(batch) if batch.len() <= CATCH_UP_BATCH => {
                self.take_batch(&batch)
            }
            FederationMessage::Certificates(batch) => {
                tracing::debug!(size = batch.len(), "an oversized batch of certificates");
                Verdict::Reject
            }
            FederationMessage::Aggregate(aggregate) => {
                let verdict = self.take_aggregate(&aggregate);
                let checkpoint = &aggregate.checkpoint;
                self.notice_epoch(checkpoint.cell, checkpoint.epoch);
                verdict
            }
            FederationMessage::MissingHandOvers { cell, after_epoch } => {
                self.answer_hand_overs(cell, after_epoch);
                Verdict::Accept
            }
        }
    }

    /// Checks and collects the checkpoint signature of a validator of our cell, sent to this
    /// node as one of the checkpoint's aggregators; publishes the certificate it completes, or
    /// the aggregate once the cell's signatures collected hold a quorum.
    fn take_signature(
        &mut self,
        checkpoint: &Checkpoint,
        next_set: Option<&CellValidators>,
        signed: Signed,
    ) -> Verdict {
        let Signed {
            cell,
            signer,
            signature,
        } = signed;
        let added = match cell == self.cell {
            true => (self.collector()).add_signature(checkpoint, next_set, cell, signer, signature),
            false => Err(CollectError::ForeignSignature(cell)),
        };
        (self.metrics.federation).record_signature(added.as_ref().map(|_| ()));
        match added {
            Ok(Some(certificate)) => self.keep_and_publish(&certificate),
            Ok(None) => self.aggregate_if_due(checkpoint, false),
            Err(error) => {
                tracing::debug!(%error, "checkpoint signature not collected");
                return refused(&error);
            }
        }
        Verdict::Accept
    }

    /// Checks and collects a cell's aggregate; publishes the certificate it completes, or
    /// co-signs the checkpoint once its own cell's aggregate vouched for it.
    fn take_aggregate(&mut self, aggregate: &CellAggregate) -> Verdict {
        let added = self.collector().add_aggregate(aggregate);
        (self.metrics.federation).record_signature(added.as_ref().map(|_| ()));
        match added {
            Ok(Some(certificate)) => self.keep_and_publish(&certificate),
            Ok(None) => self.co_sign_if_due(&aggregate.checkpoint),
            Err(error) => {
                tracing::debug!(%error, "cell aggregate not collected");
                self.ask_for_hand_overs_if_behind(&error);
                return refused(&error);
            }
        }
        Verdict::Accept
    }

    /// Co-signs another cell's checkpoint, once, when our cell is on its committee and its own
    /// cell vouched for it.
    fn co_sign_if_due(&mut self, checkpoint: &Checkpoint) {
        if self.should_co_sign(checkpoint)
            && self.co_signed.first_time(checkpoint.cell, checkpoint.epoch)
        {
            self.sign(checkpoint, None);
        }
    }

    /// When this validator is one of our cell's aggregators for `checkpoint` and the
    /// signatures of our cell's validators collected here hold a quorum, publishes their
    /// aggregate — once per checkpoint, or `again` (a hand-over signed again): to the cells of
    /// the checkpoint's committee and to our own cell's other nodes when it is our cell's, so
    /// that the committee co-signs it and our nodes can assemble the certificate; to the
    /// checkpoint's own cell otherwise, which assembles the certificate.
    fn aggregate_if_due(&mut self, checkpoint: &Checkpoint, again: bool) {
        if !self.aggregates_now(checkpoint) {
            return;
        }
        if !self
            .aggregated
            .first_time(checkpoint.cell, checkpoint.epoch)
            && !again
        {
            return;
        }
        let (aggregate, destinations) = {
            let collector = self.collector();
            let origin = checkpoint.cell;
            let destinations: BTreeSet<CellId> = match origin == self.cell {
                true => (collector
                    .sets()
                    .committees(checkpoint)
                    .into_iter()
                    .flatten())
                .chain([origin])
                .collect(),
                false => BTreeSet::from([origin]),
            };
            (
                collector.cell_aggregate(checkpoint, self.cell),
                destinations,
            )
        };
        let Some(aggregate) = aggregate else {
            return;
        };
        let message = FederationMessage::Aggregate(aggregate);
        for cell in destinations {
            self.publish_to_cell(cell, &message);
        }
    }

    /// Whether this validator aggregates our cell's signatures on `checkpoint` and the ones
    /// collected here hold a quorum.
    fn aggregates_now(&self, checkpoint: &Checkpoint) -> bool {
        self.own_aggregators(checkpoint).contains(&self.passport)
            && self.collector().cell_vouches(checkpoint, self.cell)
    }

    /// Whether our cell co-signs another cell's checkpoint: it is on the checkpoint's committee,
    /// and the checkpoint's own cell vouched for it.
    fn should_co_sign(&self, checkpoint: &Checkpoint) -> bool {
        let collector = self.collector();
        let on_committee = (collector.sets()).may_sign(checkpoint, self.cell);
        checkpoint.cell != self.cell && on_committee && collector.origin_vouches(checkpoint)
    }

    /// Asks for `cell`'s final certificates we lack when a message about its `epoch` shows
    /// that some before it never reached us; at most once per epoch of our own cell.
    fn notice_epoch(&mut self, cell: CellId, epoch: u64) {
        if !self.follows.contains(&cell) {
            return;
        }
        let latest = self.collector().latest_final_epoch(cell);
        let own_epoch = self.catch_up.own_epoch;
        let asked = self.catch_up.asked_in.get(&cell) == Some(&own_epoch);
        if epoch <= latest.saturating_add(1) || asked {
            return;
        }
        self.catch_up.asked_in.insert(cell, own_epoch);
        self.ask_for(cell, latest + 1..=epoch - 1);
    }

    /// Asks for the epochs missing just below a final certificate of `cell` taken at `epoch`.
    fn ask_for_hole_below(&self, cell: CellId, epoch: u64) {
        let hole = self.collector().hole_below(cell, epoch);
        if let Some(epochs) = hole {
            self.ask_for(cell, epochs);
        }
    }

    /// Asks `cell`'s nodes, on its certificate topic, for its final certificates of `epochs`:
    /// only of a cell this node follows, since of the others it takes the hand-overs alone.
    fn ask_for(&self, cell: CellId, epochs: std::ops::RangeInclusive<u64>) {
        if !self.follows.contains(&cell) || self.collector().quarantined().contains(&cell) {
            return;
        }
        tracing::debug!(
            cell = cell.0,
            ?epochs,
            "asking for missed final certificates"
        );
        let missing = FederationMessage::Missing {
            cell,
            from_epoch: *epochs.start(),
            to_epoch: *epochs.end(),
        };
        self.publish_to_followers(cell, &missing);
    }

    /// Asks, on the federation topic, for the hand-overs of a cell this node does not follow
    /// when a refusal shows it lacks one of the cell's sets; at most once per epoch of our own
    /// cell.
    fn ask_for_hand_overs_if_behind(&mut self, refusal: &CollectError) {
        let cell = match refusal {
            CollectError::OtherValidatorSet(cell)
            | CollectError::Certificate(CheckpointError::OtherValidatorSet(cell))
            | CollectError::Certificate(CheckpointError::UnknownValidatorSet { cell, .. }) => *cell,
            _ => return,
        };
        let own_epoch = self.catch_up.own_epoch;
        if self.follows.contains(&cell) || self.catch_up.asked_in.get(&cell) == Some(&own_epoch) {
            return;
        }
        self.catch_up.asked_in.insert(cell, own_epoch);
        let after_epoch = self.collector().latest_final_epoch(cell);
        tracing::debug!(
            cell = cell.0,
            after_epoch,
            "asking for hand-overs of a cell not followed"
        );
        self.publish(&FederationMessage::MissingHandOvers { cell, after_epoch });
    }

    /// Our cell's nodes answer for it, on its certificate topic, a bounded number of times per
    /// epoch of ours.
    fn answer_missing(&mut self, cell: CellId, epochs: std::ops::RangeInclusive<u64>) {
        if cell != self.cell {
            return;
        }
        let batch = self.collector().finals_in(cell, epochs, CATCH_UP_BATCH);
        if self.may_answer(&batch) {
            self.publish_to_followers(cell, &FederationMessage::Certificates(batch));
        }
    }

    /// Our cell's nodes answer for its hand-overs on the federation topic, within the same
    /// bound.
    fn answer_hand_overs(&mut self, cell: CellId, after_epoch: u64) {
        if cell != self.cell {
            return;
        }
        let batch = (self.collector()).hand_overs_after(cell, after_epoch, CATCH_UP_BATCH);
        if self.may_answer(&batch) {
            self.publish(&FederationMessage::Certificates(batch));
        }
    }

    /// Whether to send `batch` as an answer: not when empty, and at most
    /// [`ANSWERS_PER_EPOCH`] answers per final epoch of our cell; counts it.
    fn may_answer(&mut self, batch: &[CheckpointCertificate]) -> bool {
        let latest = self.collector().latest_final_epoch(self.cell);
        let answers = match self.catch_up.answered {
            Some((at, answers)) if at == latest => answers,
            _ => 0,
        };
        if batch.is_empty() || answers >= ANSWERS_PER_EPOCH {
            return false;
        }
        self.catch_up.answered = Some((latest, answers + 1));
        true
    }

    /// Publishes the two final certificates of `cell`'s equivocation at `epoch` on the
    /// federation topic, so that the nodes that do not follow the cell quarantine it too: from
    /// the nodes that follow it, and of each cell only the aggregators of the second
    /// checkpoint, so that the proof travels in a few copies per following cell.
    fn publish_equivocation(&self, cell: CellId, epoch: u64) {
        let pair = (self.collector().equivocation(cell, epoch))
            .map(|proof| vec![proof.first.clone(), proof.second.clone()]);
        let Some(pair) = pair else {
            return;
        };
        if self.follows.contains(&cell)
            && self
                .own_aggregators(&pair[1].checkpoint)
                .contains(&self.passport)
        {
            self.publish(&FederationMessage::Certificates(pair));
        }
    }

    /// Takes a batch answering `Missing` or `MissingHandOvers`, or proving an equivocation,
    /// then asks for what is still missing above it.
    fn take_batch(&mut self, batch: &[CheckpointCertificate]) -> Verdict {
        let proof = is_equivocation_proof(batch);
        let verdicts: Vec<Verdict> = (batch.iter())
            .map(|certificate| self.take_certificate(certificate, proof))
            .collect();
        if let Some(last) = batch.last().map(|certificate| &certificate.checkpoint) {
            let next = self.collector().next_final_after(last.cell, last.epoch);
            if let Some(next) = next {
                self.ask_for_hole_below(last.cell, next);
            }
        }
        match verdicts.contains(&Verdict::Reject) {
            true => Verdict::Reject,
            false => Verdict::Accept,
        }
    }

    /// Whether this node takes `certificate`: of a cell it follows, or handing over a new set,
    /// or one of the two certificates of an equivocation `proof`.
    fn takes(&self, certificate: &CheckpointCertificate, proof: bool) -> bool {
        proof
            || certificate.next_set.is_some()
            || self.follows.contains(&certificate.checkpoint.cell)
    }

    /// Checks a certificate heard from the federation and keeps it if it is final; passes on
    /// what is new here (a final certificate, or a second one proving an equivocation). Of a
    /// cell this node does not follow, it takes only hand-overs and equivocation proofs.
    fn take_certificate(&mut self, certificate: &CheckpointCertificate, proof: bool) -> Verdict {
        if !self.takes(certificate, proof) {
            let not_taken = CollectError::NotFollowed(certificate.checkpoint.cell);
            self.metrics.federation.record_certificate(Err(&not_taken));
            return refused(&not_taken);
        }
        let added = self.collector().add_certificate(certificate);
        self.metrics.federation.record_certificate(added.as_ref());
        let checkpoint = &certificate.checkpoint;
        match added {
            Ok(Added::Final) => {
                self.record_final(checkpoint);
                log_unkept(self.store.keep_final(certificate));
                self.ask_for_hole_below(checkpoint.cell, checkpoint.epoch);
            }
            Ok(Added::Known) => return Verdict::Ignore,
            Ok(Added::Overruled) => {
                tracing::debug!(
                    cell = checkpoint.cell.0,
                    epoch = checkpoint.epoch,
                    "a certificate for a checkpoint ruled against"
                );
                return Verdict::Ignore;
            }
            Ok(Added::Equivocation) => {
                log_unkept(self.store.keep_equivocation(certificate));
                self.publish_equivocation(checkpoint.cell, checkpoint.epoch);
                self.settle_equivocations();
                self.record_quarantined();
                let lockdown = self.collector().quarantined().contains(&checkpoint.cell);
                tracing::error!(
                    cell = checkpoint.cell.0,
                    epoch = checkpoint.epoch,
                    lockdown,
                    "two final checkpoints for one epoch: the cell equivocated (the bridge to \
                     it stays in lockdown until our validators rule which to keep)"
                );
            }
            Err(error) => {
                tracing::debug!(%error, "certificate not taken");
                self.ask_for_hand_overs_if_behind(&error);
                return refused(&error);
            }
        }
        Verdict::Accept
    }

    /// Which checkpoint to keep where `cell` equivocated at `epoch`: for our own cell the one we
    /// signed, for another the one our cell's validators ruled for, once committed.
    fn ruling(&mut self, cell: CellId, epoch: u64) -> Option<CheckpointId> {
        if cell == self.cell {
            return self.signer.signed(cell, epoch);
        }
        let ruling = self.ledger.refresh().and_then(|()| {
            self.ledger.get::<BridgeRuling>(&StateKey::BridgeRuling {
                remote: cell,
                epoch,
            })
        });
        match ruling {
            Ok(ruling) => ruling.map(|ruling| ruling.keep),
            Err(error) => {
                tracing::error!(%error, "reading the bridge rulings failed");
                None
            }
        }
    }

    /// Applies the rulings on equivocations not settled yet, lifting the lockdown of each
    /// bridge whose equivocations are all settled, and keeps the outcome on disk.
    fn settle_equivocations(&mut self) {
        let unsettled = self.collector().unsettled();
        for (cell, epoch) in unsettled {
            let Some(keep) = self.ruling(cell, epoch) else {
                continue;
            };
            let ruled = self.collector().rule(cell, epoch, keep);
            if let Some(kept) = &ruled.kept {
                log_unkept(self.store.keep_final(kept));
            }
            if let Some(overruled) = &ruled.overruled {
                log_unkept(self.store.keep_equivocation(overruled));
            }
            for dropped in &ruled.dropped {
                if let Err(error) = self.store.drop_final(cell, *dropped) {
                    tracing::error!(%error, "could not drop a certificate");
                }
            }
            let lifted = !self.collector().quarantined().contains(&cell);
            self.record_quarantined();
            tracing::warn!(
                cell = cell.0,
                epoch,
                keep = %keep,
                dropped = ruled.dropped.len(),
                lifted,
                "applied a ruling on an equivocation"
            );
        }
    }

    /// The metrics of what the store kept from before this start.
    fn record_restored(&self) {
        let latest: Vec<(CellId, u64)> = {
            let collector = self.collector();
            let cells: Vec<CellId> = collector.sets().heads().map(|(cell, _)| cell).collect();
            (cells.into_iter())
                .map(|cell| (cell, collector.latest_final_epoch(cell)))
                .collect()
        };
        for (cell, epoch) in latest {
            self.metrics.federation.record_final(cell, epoch, false);
        }
        self.record_quarantined();
    }

    /// Handles `first` with whatever else is queued behind it (up to [`INBOUND_BATCH`]), so
    /// that the certificates and signatures among them are verified in one batch, and returns
    /// each verdict to the mesh. Validators' signatures queued alone first wait for others
    /// ([`gather_signatures`]).
    async fn handle_queued(&mut self, first: Heard, inbound: &mut mpsc::Receiver<Heard>) {
        let mut heard = vec![first];
        while heard.len() < INBOUND_BATCH {
            match inbound.try_recv() {
                Ok(next) => heard.push(next),
                Err(_) => break,
            }
        }
        if heard
            .iter()
            .all(|heard| FederationMessage::is_signature(&heard.data))
        {
            gather_signatures(&mut heard, inbound).await;
        }
        let messages: Vec<&[u8]> = heard.iter().map(|heard| heard.data.as_slice()).collect();
        let verdicts = self.handle_all(&messages);
        for (heard, verdict) in heard.into_iter().zip(verdicts) {
            if self
                .verdicts
                .try_send((heard.id, heard.source, verdict))
                .is_err()
            {
                tracing::warn!("the mesh is behind; a checkpoint message's verdict was dropped");
            }
        }
    }

    /// Runs until the node stops: checkpoints at our cell's epoch ends, and whatever the
    /// topics of finality bring.
    pub async fn run(
        mut self,
        mut committed: broadcast::Receiver<CommittedBlock>,
        mut inbound: mpsc::Receiver<Heard>,
    ) {
        self.record_restored();
        self.settle_equivocations();
        loop {
            tokio::select! {
                block = committed.recv() => match block {
                    Ok(block) => {
                        match self.checkpoint_of(&block) {
                            Ok(Some((checkpoint, next_set))) => {
                                self.own_checkpoint_built(&checkpoint, next_set);
                            }
                            Ok(None) => {}
                            Err(error) => tracing::error!(%error, "building the checkpoint failed"),
                        }
                        self.settle_equivocations();
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "finality fell behind the committed blocks");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                message = inbound.recv() => match message {
                    Some(heard) => self.handle_queued(heard, &mut inbound).await,
                    None => return,
                },
            }
        }
    }
}

/// Waits up to [`SIGNATURE_GATHERING`] for more validators' signatures to check with those in
/// `heard`, until the batch is full or anything else arrives: an aggregate or a certificate is
/// checked before the mesh passes it on, so it does not wait.
async fn gather_signatures(heard: &mut Vec<Heard>, inbound: &mut mpsc::Receiver<Heard>) {
    let deadline = tokio::time::Instant::now() + SIGNATURE_GATHERING;
    while heard.len() < INBOUND_BATCH {
        let Ok(Some(next)) = tokio::time::timeout_at(deadline, inbound.recv()).await else {
            return;
        };
        let signature = FederationMessage::is_signature(&next.data);
        heard.push(next);
        if !signature {
            return;
        }
    }
}
