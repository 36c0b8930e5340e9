//! One validator's federation work in one epoch, measured with the node's own code: the messages
//! a validator of cell 0 hears in a federation of `N` cells of 100 validators, with committees
//! of up to 32, fed to its `Finality` as the mesh queues them (64 at a time), and what handling
//! them costs it — its cell's signatures on the checkpoints it aggregates, its cell's aggregate
//! on its own checkpoint, the origin aggregates it co-signs on, its committee's aggregates (from
//! each cell's three aggregators), and the final certificates of the [`FOLLOWED`] other cells
//! it follows (a node takes only the hand-overs of the others; none happens in the measured
//! epoch). The validator is the one of cell 0 that aggregates the most of the epoch's
//! checkpoints its cell signs. Nothing of it grows with `N`: it is bounded by the committee and
//! the cells followed.

use crate::fixtures::{
    busiest_aggregator, committee_and_k, node, Validators, FEDERATION, VALIDATORS,
};
use anyhow::{ensure, Result};
use charter_federation::checkpoint::{Checkpoint, CheckpointCertificate};
use charter_federation::collector::FederationMessage;
use charter_federation::committee::{aggregators, committee, AGGREGATORS};
use charter_ledger::crypto::bls::aggregate;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::CellId;
use charter_node::finality::Finality;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// What one validator received, sent and spent on the federation in one epoch.
pub struct EpochWork {
    pub cells: usize,
    pub committee: usize,
    pub k: usize,
    pub messages: usize,
    pub bytes_received: usize,
    pub bytes_sent: usize,
    /// Checkpoints whose signatures of cell 0 this validator aggregates.
    pub aggregated: usize,
    /// Time in the node's handlers (one thread), signing and writing to disk included, until
    /// every cell's certificate, its own included, is final at the node.
    pub handling: Duration,
    /// The part of `handling` spent on the followed cells' final certificates.
    pub certificates: Duration,
    /// Cells followed besides cell 0.
    pub followed: usize,
}

/// Messages the mesh hands finality at once, at most.
const QUEUED: usize = 64;
const EPOCH: u64 = 1;
/// Cells a node follows besides its own (in a federation of more): those its cell bridges
/// with, say.
const FOLLOWED: usize = 32;

/// Measures [`EpochWork`] for each federation size.
pub fn measure(cell_counts: &[usize], data: &Path) -> Result<Vec<EpochWork>> {
    let validators = Validators::new()?;
    (cell_counts.iter())
        .map(|cells| measure_one(*cells, &validators, &data.join(format!("epoch-{cells}"))))
        .collect()
}

fn measure_one(cells: usize, validators: &Validators, dir: &Path) -> Result<EpochWork> {
    let (size, k) = committee_and_k(cells);
    let view = validators.view(cells);
    let all: Vec<CellId> = view.cells.keys().copied().collect();
    let drawn = |origin: CellId| committee(&FEDERATION.0, &all, origin, EPOCH, size);
    let (position, aggregated) = busiest_aggregator(&all, EPOCH);
    let inputs = Inputs {
        validators,
        k,
        position,
        drawn,
    };
    let own = validators.checkpoint(CellId(0), EPOCH);
    let follows: BTreeSet<CellId> = all.iter().copied().take(FOLLOWED + 1).collect();
    let (heard, certificates) = inputs.epoch(&all, &follows, &own)?;
    let (mut node, mut published) = node(&view, validators, (CellId(0), position), &follows, dir)?;

    let started = Instant::now();
    node.own_checkpoint_built(&own, None);
    handle(&mut node, &heard);
    let before_certificates = started.elapsed();
    handle(&mut node, &certificates);
    let handling = started.elapsed();
    let bytes_sent = std::iter::from_fn(|| published.try_recv().ok())
        .map(|(_, bytes)| bytes.len())
        .sum();
    let final_here = {
        let collector = node.collector.lock().expect("not poisoned");
        (follows.iter())
            .filter(|cell| collector.final_certificate(**cell, EPOCH).is_some())
            .count()
    };
    ensure!(
        final_here == follows.len(),
        "{final_here} of the {} cells followed final at the node",
        follows.len()
    );
    let received = || heard.iter().chain(&certificates);
    Ok(EpochWork {
        cells,
        committee: size,
        k,
        messages: received().count(),
        bytes_received: received().map(Vec::len).sum(),
        bytes_sent,
        aggregated,
        handling,
        certificates: handling - before_certificates,
        followed: follows.len() - 1,
    })
}

/// Hands `messages` to the node as the mesh queues them.
fn handle(node: &mut Finality<MemoryStorage>, messages: &[Vec<u8>]) {
    for queued in messages.chunks(QUEUED) {
        let queued: Vec<&[u8]> = queued.iter().map(Vec::as_slice).collect();
        node.handle_all(&queued);
    }
}

/// Messages as they travel, encoded.
type Encoded = Vec<Vec<u8>>;

/// What the federation's other validators send, from their keys.
struct Inputs<'a, D> {
    validators: &'a Validators,
    k: usize,
    /// The node's position in cell 0's set.
    position: usize,
    drawn: D,
}

impl<D: Fn(CellId) -> Vec<CellId>> Inputs<'_, D> {
    /// Every message the validator hears in the epoch, encoded, in the order it comes: what
    /// its cell's part in finality brings, then the final certificates of the other cells it
    /// `follows`.
    fn epoch(
        &self,
        cells: &[CellId],
        follows: &BTreeSet<CellId>,
        own: &Checkpoint,
    ) -> Result<(Encoded, Encoded)> {
        let encode = |message: &FederationMessage| borsh::to_vec(message).expect("encodes");
        let mut heard: Vec<Vec<u8>> = self.cell_0_part(own, CellId(0))?;
        for origin in cells.iter().copied().filter(|cell| *cell != CellId(0)) {
            if (self.drawn)(origin).contains(&CellId(0)) {
                let theirs = self.validators.checkpoint(origin, EPOCH);
                let aggregate = encode(&self.aggregate(&theirs, origin)?);
                heard.extend(std::iter::repeat_n(aggregate, AGGREGATORS));
                heard.extend(self.cell_0_part(&theirs, origin)?);
            }
        }
        for signing in (self.drawn)(CellId(0)) {
            let aggregate = encode(&self.aggregate(own, signing)?);
            heard.extend(std::iter::repeat_n(aggregate, AGGREGATORS));
        }
        let certificates = (follows.iter().copied())
            .filter(|cell| *cell != CellId(0))
            .map(|origin| Ok(encode(&self.certificate(origin)?)))
            .collect::<Result<_>>()?;
        Ok((heard, certificates))
    }

    /// What the node hears of cell 0's signing of `origin`'s `checkpoint`: its cell's
    /// validators' signatures when it aggregates them, and the aggregates of the cell's other
    /// aggregators when it is the cell's own checkpoint.
    fn cell_0_part(&self, checkpoint: &Checkpoint, origin: CellId) -> Result<Vec<Vec<u8>>> {
        let encode = |message: &FederationMessage| borsh::to_vec(message).expect("encodes");
        let designated = aggregators(&FEDERATION.0, CellId(0), origin, EPOCH, VALIDATORS);
        let mut heard: Vec<Vec<u8>> = Vec::new();
        if designated.contains(&self.position) {
            heard.extend(self.cell_0_signatures(checkpoint).iter().map(encode));
        }
        if origin == CellId(0) {
            let others = designated.iter().filter(|at| **at != self.position).count();
            let aggregate = encode(&self.aggregate(checkpoint, CellId(0))?);
            heard.extend(std::iter::repeat_n(aggregate, others));
        }
        Ok(heard)
    }

    /// The signatures of cell 0's validators other than this node's on `checkpoint`.
    fn cell_0_signatures(&self, checkpoint: &Checkpoint) -> Vec<FederationMessage> {
        let message = checkpoint.signing_bytes();
        (0..VALIDATORS)
            .filter(|index| *index != self.position)
            .map(|index| FederationMessage::Signature {
                checkpoint: checkpoint.clone(),
                next_set: None,
                cell: CellId(0),
                signer: self.validators.set.0[index].passport,
                signature: self.validators.keys[index].sign(&message),
            })
            .collect()
    }

    /// `cell`'s aggregate of its quorum's signatures on `checkpoint`.
    fn aggregate(&self, checkpoint: &Checkpoint, cell: CellId) -> Result<FederationMessage> {
        let signature = self.validators.quorum_signature(checkpoint);
        Ok(FederationMessage::Aggregate(
            self.validators.aggregate(checkpoint, cell, signature),
        ))
    }

    /// The final certificate of `origin`'s checkpoint: its quorum and its committee's first
    /// `k − 1` cells'.
    fn certificate(&self, origin: CellId) -> Result<FederationMessage> {
        let checkpoint = self.validators.checkpoint(origin, EPOCH);
        let mut signing = (self.drawn)(origin);
        signing.truncate(self.k - 1);
        signing.push(origin);
        signing.sort();
        let cell_signature = self.validators.quorum_signature(&checkpoint);
        Ok(FederationMessage::Certificate(CheckpointCertificate {
            checkpoint,
            signature: aggregate(&vec![cell_signature; signing.len()])?,
            signers: (signing.into_iter())
                .map(|cell| self.validators.quorum_signers(cell))
                .collect(),
            next_set: None,
        }))
    }
}
