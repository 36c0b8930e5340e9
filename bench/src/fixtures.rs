//! What the federation benches share: a federation whose cells all have the same 100
//! validators (the work depends on how many keys are checked, not on whether they repeat, and
//! one set is learned once, which keeps set-up short), their checkpoints and aggregates, and a
//! validator's [`Finality`] over in-memory storage.

use anyhow::{Context, Result};
use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, FederationValidator, FederationView,
};
use charter_federation::checkpoint_signer::CheckpointSigner;
use charter_federation::collector::Collector;
use charter_federation::committee::{aggregators, committee};
use charter_ledger::crypto::bls::{BlsSecretKey, BlsSignature};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{CellId, FederationId, Ledger, PassportId, StateRoot};
use charter_node::federation_store::FederationStore;
use charter_node::finality::Finality;
use charter_node::metrics::NodeMetrics;
use charter_node::publisher::Publisher;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub const VALIDATORS: usize = 100;
/// Signers of a cell's aggregate: the first 67 of 100, more than 2/3 of equal power.
pub const QUORUM: usize = 67;
/// The committee size a federation genesis gives by default.
pub const COMMITTEE: usize = 32;
pub const FEDERATION: FederationId = FederationId([9; 32]);

/// What a node's finality publishes: (topic, message bytes).
pub type Published = tokio::sync::mpsc::Receiver<(String, Vec<u8>)>;

/// The validators every cell has.
pub struct Validators {
    pub keys: Vec<BlsSecretKey>,
    pub set: CellValidators,
    /// The sum of the first [`QUORUM`] keys: signing with it gives their aggregate signature.
    pub quorum: BlsSecretKey,
}

impl Validators {
    pub fn new() -> Result<Self> {
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
        Ok(Self { keys, set, quorum })
    }

    /// A federation of `cells` cells with these validators, committees of up to
    /// [`COMMITTEE`] and the threshold that tolerates a third of them Byzantine.
    pub fn view(&self, cells: usize) -> FederationView {
        let (committee, k) = committee_and_k(cells);
        FederationView {
            federation: FEDERATION,
            k,
            committee,
            cells: (0..cells as u32)
                .map(|cell| (CellId(cell), self.set.clone()))
                .collect(),
        }
    }

    /// `cell`'s checkpoint of `epoch`, its set unchanged.
    pub fn checkpoint(&self, cell: CellId, epoch: u64) -> Checkpoint {
        let block = blake3::hash(&[cell.0.to_le_bytes(), (epoch as u32).to_le_bytes()].concat());
        Checkpoint {
            federation: FEDERATION,
            cell,
            epoch,
            height: 100 * epoch,
            block: BlockHash(*block.as_bytes()),
            state_root: StateRoot([7; 32]),
            validators: self.set.hash(),
            next_validators: self.set.hash(),
        }
    }

    /// The signature of a cell's quorum on `checkpoint`, the same from every cell.
    pub fn quorum_signature(&self, checkpoint: &Checkpoint) -> BlsSignature {
        self.quorum.sign(&checkpoint.signing_bytes())
    }

    /// `cell`'s aggregate of its quorum's `signature` on `checkpoint`.
    pub fn aggregate(
        &self,
        checkpoint: &Checkpoint,
        cell: CellId,
        signature: BlsSignature,
    ) -> CellAggregate {
        CellAggregate {
            checkpoint: checkpoint.clone(),
            next_set: None,
            signers: self.quorum_signers(cell),
            signature,
        }
    }

    /// The signer entry of `cell`'s quorum.
    pub fn quorum_signers(&self, cell: CellId) -> CellSigners {
        CellSigners::from_indices(cell, &self.set, 0..QUORUM)
    }
}

/// The committee size and the threshold `k` (cells, the origin included) of a federation of
/// `cells`: every other cell up to [`COMMITTEE`], and a third of the committee tolerated.
pub fn committee_and_k(cells: usize) -> (usize, usize) {
    let size = COMMITTEE.min(cells - 1);
    (size, size - (size.max(1) - 1) / 3 + 1)
}

/// The position in cell 0's set (of [`VALIDATORS`]) that aggregates the most of the
/// checkpoints cell 0 signs in `epoch` — its own and those whose committee it is on — and how
/// many: the validator of cell 0 with the most federation work that epoch.
pub fn busiest_aggregator(cells: &[CellId], epoch: u64) -> (usize, usize) {
    let (size, _) = committee_and_k(cells.len());
    let signed_by_0: Vec<CellId> = (cells.iter().copied())
        .filter(|origin| {
            *origin == cells[0]
                || committee(&FEDERATION.0, cells, *origin, epoch, size).contains(&cells[0])
        })
        .collect();
    let duties = |position: usize| {
        (signed_by_0.iter())
            .filter(|origin| {
                aggregators(&FEDERATION.0, cells[0], **origin, epoch, VALIDATORS)
                    .contains(&position)
            })
            .count()
    };
    let busiest = (0..VALIDATORS)
        .max_by_key(|position| (duties(*position), std::cmp::Reverse(*position)))
        .expect("validators");
    (busiest, duties(busiest))
}

/// The validator at `position` of `cell`, following `follows`, with its files in `dir`.
pub fn node(
    view: &FederationView,
    validators: &Validators,
    (cell, position): (CellId, usize),
    follows: &BTreeSet<CellId>,
    dir: &Path,
) -> Result<(Finality<MemoryStorage>, Published)> {
    std::fs::create_dir_all(dir)?;
    let (outbound, published) = tokio::sync::mpsc::channel(1 << 16);
    let store = FederationStore::open(dir)?;
    let finality = Finality {
        collector: Arc::new(Mutex::new(Collector::new(view)?)),
        cell,
        passport: view.cells[&cell].0[position].passport,
        signer: CheckpointSigner::open(
            validators.keys[position].clone(),
            &dir.join("signer.json"),
        )?,
        ledger: Ledger::open(MemoryStorage::new())?,
        publisher: Publisher::new("checkpoints", outbound),
        own_hand_overs: Vec::new(),
        store,
        follows: follows.clone(),
        catch_up: Default::default(),
        co_signed: Default::default(),
        aggregated: Default::default(),
        metrics: Arc::new(NodeMetrics::new()),
        verdicts: tokio::sync::mpsc::channel(1).0,
    };
    Ok((finality, published))
}
