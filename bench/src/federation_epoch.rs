//! One validator's federation work in one epoch, measured with the node's own code: the messages
//! a validator of cell 0 hears in a federation of `N` cells of 100 validators, with committees
//! of up to 32, fed to its `Finality` as the mesh queues them (64 at a time), and what handling
//! them costs it — its own cell's signatures on the checkpoints its cell signs, the origin
//! aggregates it co-signs on, its committee's aggregates, and every other cell's final
//! certificate. Only the certificates grow with `N`; the rest is bounded by the committee.

use anyhow::{ensure, Context, Result};
use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, CheckpointCertificate,
    FederationValidator, FederationView,
};
use charter_federation::checkpoint_signer::CheckpointSigner;
use charter_federation::collector::{Collector, FederationMessage};
use charter_federation::committee::committee;
use charter_ledger::crypto::bls::{aggregate, BlsSecretKey, BlsSignature};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{CellId, FederationId, Ledger, PassportId, StateRoot};
use charter_node::federation_store::FederationStore;
use charter_node::finality::Finality;
use charter_node::metrics::NodeMetrics;
use charter_node::publisher::Publisher;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one validator received, sent and spent on the federation in one epoch.
pub struct EpochWork {
    pub cells: usize,
    pub committee: usize,
    pub k: usize,
    pub messages: usize,
    pub bytes_received: usize,
    pub bytes_sent: usize,
    /// Time in the node's handlers (one thread), signing and writing to disk included, until
    /// every cell's certificate, its own included, is final at the node.
    pub handling: Duration,
}

const VALIDATORS: usize = 100;
const QUORUM: usize = 67;
const COMMITTEE: usize = 32;
const FEDERATION: FederationId = FederationId([9; 32]);
/// Messages the mesh hands finality at once, at most.
const QUEUED: usize = 64;
const EPOCH: u64 = 1;

/// Measures [`EpochWork`] for each federation size; every cell has the same 100 keys (the work
/// depends on how many are checked, not on whether they repeat), which keeps set-up short.
pub fn measure(cell_counts: &[usize], data: &Path) -> Result<Vec<EpochWork>> {
    let keys: Vec<BlsSecretKey> = (0..VALIDATORS)
        .map(|index| BlsSecretKey::key_gen(&[index as u8 + 101; 32], b"epoch"))
        .collect::<Result<_, _>>()?;
    let set = CellValidators(
        (keys.iter().enumerate())
            .map(|(index, key)| FederationValidator {
                passport: PassportId([index as u8; 32]),
                bls_key: key.public_key(),
                power: 1,
            })
            .collect(),
    );
    let quorum = BlsSecretKey::sum(&keys[..QUORUM]).context("keys that cancel out")?;
    (cell_counts.iter())
        .map(|cells| {
            let dir = data.join(format!("epoch-{cells}"));
            measure_one(*cells, &keys, &set, &quorum, &dir)
        })
        .collect()
}

fn measure_one(
    cells: usize,
    keys: &[BlsSecretKey],
    set: &CellValidators,
    quorum: &BlsSecretKey,
    dir: &Path,
) -> Result<EpochWork> {
    let size = COMMITTEE.min(cells - 1);
    let k = size - (size.max(1) - 1) / 3 + 1;
    let view = FederationView {
        federation: FEDERATION,
        k,
        committee: size,
        cells: (0..cells as u32)
            .map(|cell| (CellId(cell), set.clone()))
            .collect(),
    };
    let all: Vec<CellId> = view.cells.keys().copied().collect();
    let inputs = Inputs {
        keys,
        set,
        quorum,
        k,
        drawn: |origin: CellId| committee(&FEDERATION.0, &all, origin, EPOCH, size),
    };
    let own = checkpoint(CellId(0), set);
    let heard = inputs.epoch(&all, &own)?;
    let (mut node, mut published) = node(&view, keys, dir)?;

    let started = Instant::now();
    node.own_checkpoint_built(&own, None);
    for queued in heard.chunks(QUEUED) {
        let messages: Vec<&[u8]> = queued.iter().map(Vec::as_slice).collect();
        node.handle_all(&messages);
    }
    let handling = started.elapsed();
    let bytes_sent = std::iter::from_fn(|| published.try_recv().ok())
        .map(|(_, bytes)| bytes.len())
        .sum();
    let final_here = {
        let collector = node.collector.lock().expect("not poisoned");
        (all.iter())
            .filter(|cell| collector.final_certificate(**cell, EPOCH).is_some())
            .count()
    };
    ensure!(
        final_here == cells,
        "{final_here} of {cells} cells final at the node"
    );
    Ok(EpochWork {
        cells,
        committee: size,
        k,
        messages: heard.len(),
        bytes_received: heard.iter().map(Vec::len).sum(),
        bytes_sent,
        handling,
    })
}

/// What the federation's other validators send, from their keys.
struct Inputs<'a, D> {
    keys: &'a [BlsSecretKey],
    set: &'a CellValidators,
    /// The sum of the first [`QUORUM`] validators' keys: signing with it gives their aggregate.
    quorum: &'a BlsSecretKey,
    k: usize,
    drawn: D,
}

impl<D: Fn(CellId) -> Vec<CellId>> Inputs<'_, D> {
    /// Every message a validator of cell 0 hears in the epoch, encoded, in the order it comes.
    fn epoch(&self, cells: &[CellId], own: &Checkpoint) -> Result<Vec<Vec<u8>>> {
        let encode = |message: &FederationMessage| borsh::to_vec(message).expect("encodes");
        let mut heard: Vec<Vec<u8>> = self.cell_0_signatures(own).iter().map(encode).collect();
        for origin in cells.iter().copied().filter(|cell| *cell != CellId(0)) {
            if (self.drawn)(origin).contains(&CellId(0)) {
                let theirs = checkpoint(origin, self.set);
                heard.push(encode(&self.aggregate(&theirs, origin)?));
                heard.extend(self.cell_0_signatures(&theirs).iter().map(encode));
            }
        }
        for signing in (self.drawn)(CellId(0)).into_iter().take(self.k - 1) {
            heard.push(encode(&self.aggregate(own, signing)?));
        }
        for origin in cells.iter().copied().filter(|cell| *cell != CellId(0)) {
            heard.push(encode(&self.certificate(origin)?));
        }
        Ok(heard)
    }

    /// The signatures of cell 0's validators other than this node's on `checkpoint`.
    fn cell_0_signatures(&self, checkpoint: &Checkpoint) -> Vec<FederationMessage> {
        let message = checkpoint.signing_bytes();
        (1..VALIDATORS)
            .map(|index| FederationMessage::Signature {
                checkpoint: checkpoint.clone(),
                next_set: None,
                cell: CellId(0),
                signer: self.set.0[index].passport,
                signature: self.keys[index].sign(&message),
            })
            .collect()
    }

    /// `cell`'s aggregate of its quorum's signatures on `checkpoint`.
    fn aggregate(&self, checkpoint: &Checkpoint, cell: CellId) -> Result<FederationMessage> {
        Ok(FederationMessage::Aggregate(CellAggregate {
            checkpoint: checkpoint.clone(),
            next_set: None,
            signers: CellSigners::from_indices(cell, self.set, 0..QUORUM),
            signature: self.quorum.sign(&checkpoint.signing_bytes()),
        }))
    }

    /// The final certificate of `origin`'s checkpoint: its quorum and its committee's first
    /// `k − 1` cells'.
    fn certificate(&self, origin: CellId) -> Result<FederationMessage> {
        let checkpoint = checkpoint(origin, self.set);
        let mut signing = (self.drawn)(origin);
        signing.truncate(self.k - 1);
        signing.push(origin);
        signing.sort();
        let cell_signature: BlsSignature = self.quorum.sign(&checkpoint.signing_bytes());
        Ok(FederationMessage::Certificate(CheckpointCertificate {
            checkpoint,
            signature: aggregate(&vec![cell_signature; signing.len()])?,
            signers: (signing.into_iter())
                .map(|cell| CellSigners::from_indices(cell, self.set, 0..QUORUM))
                .collect(),
            next_set: None,
        }))
    }
}

fn checkpoint(cell: CellId, set: &CellValidators) -> Checkpoint {
    Checkpoint {
        federation: FEDERATION,
        cell,
        epoch: EPOCH,
        height: 100,
        block: BlockHash([cell.0 as u8; 32]),
        state_root: StateRoot([7; 32]),
        validators: set.hash(),
        next_validators: set.hash(),
    }
}

type Published = tokio::sync::mpsc::Receiver<(String, Vec<u8>)>;

/// Validator 0 of cell 0, with its files in `dir`.
fn node(
    view: &FederationView,
    keys: &[BlsSecretKey],
    dir: &Path,
) -> Result<(Finality<MemoryStorage>, Published)> {
    std::fs::create_dir_all(dir)?;
    let (outbound, published) = tokio::sync::mpsc::channel(1 << 16);
    let store = FederationStore::open(dir)?;
    let finality = Finality {
        collector: Arc::new(Mutex::new(Collector::new(view)?)),
        cell: CellId(0),
        passport: view.cells[&CellId(0)].0[0].passport,
        signer: CheckpointSigner::open(keys[0].clone(), &dir.join("signer.json"))?,
        ledger: Ledger::open(MemoryStorage::new())?,
        publisher: Publisher::new("checkpoints", outbound),
        own_hand_overs: Vec::new(),
        store,
        catch_up: Default::default(),
        co_signed: Default::default(),
        aggregated: Default::default(),
        metrics: Arc::new(NodeMetrics::new()),
        verdicts: tokio::sync::mpsc::channel(1).0,
    };
    Ok((finality, published))
}
