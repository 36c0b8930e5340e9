//! The federation's checkpoint topic, through the node's own dispatch (`Finality::handle`, a
//! validator of cell 0 with its guarded checkpoint signer and certificate store on disk). An
//! input whose first byte is even is a message as a peer sends it. One whose first byte is odd
//! is a script of operations signed with the real keys of a small federation (3 cells of 4
//! validators), so that the deeper states are reached: quorums, co-signing, final
//! certificates, validator-set hand-overs, twins' certificates, rulings, catch-up ranges and
//! requests for hand-overs. Nothing may panic, and a quarantined cell always has an
//! equivocation no ruling settled.
#![no_main]

use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, CheckpointCertificate,
    FederationValidator, FederationView,
};
use charter_federation::checkpoint_signer::CheckpointSigner;
use charter_federation::collector::{Collector, FederationMessage};
use charter_ledger::crypto::bls::{aggregate, BlsPublicKey, BlsSecretKey};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{CellId, CheckpointId, FederationId, Ledger, PassportId, StateRoot};
use charter_node::federation_store::FederationStore;
use charter_node::finality::Finality;
use charter_node::metrics::NodeMetrics;
use charter_node::publisher::Publisher;
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

const FEDERATION: FederationId = FederationId([5; 32]);
const CELLS: u8 = 3;
const VALIDATORS: u8 = 4;

struct Keys {
    genesis: FederationView,
    /// Every key a validator of the federation may hold (two generations each).
    secret: BTreeMap<BlsPublicKey, BlsSecretKey>,
    /// Each cell's set with its second generation of keys.
    rotated: BTreeMap<CellId, CellValidators>,
}

fn set(
    cell: u8,
    generation: u8,
    secret: &mut BTreeMap<BlsPublicKey, BlsSecretKey>,
) -> CellValidators {
    CellValidators(
        (0..VALIDATORS)
            .map(|index| {
                let key = BlsSecretKey::key_gen(&[cell * 16 + index + 1; 32], &[generation])
                    .expect("32 bytes of key material");
                let public = key.public_key();
                secret.insert(public, key);
                FederationValidator {
                    passport: PassportId([cell * 16 + index; 32]),
                    bls_key: public,
                    power: 10,
                }
            })
            .collect(),
    )
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut secret = BTreeMap::new();
        let cells = (0..CELLS)
            .map(|cell| (CellId(cell.into()), set(cell, 0, &mut secret)))
            .collect();
        let rotated = (0..CELLS)
            .map(|cell| (CellId(cell.into()), set(cell, 1, &mut secret)))
            .collect();
        Keys {
            genesis: FederationView {
                federation: FEDERATION,
                k: 2,
                committee: usize::from(CELLS) - 1,
                cells,
            },
            secret,
            rotated,
        }
    })
}

/// Reads the script's bytes; past the end, zeros.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        first
    }

    fn cell(&mut self) -> CellId {
        CellId((self.byte() % CELLS).into())
    }
}

/// A checkpoint of `cell` at `epoch` against the collector's current view of its set, with the
/// set it hands over as it travels: the new set, though one time in four it is left behind.
fn checkpoint(
    collector: &Collector,
    script: &mut Script,
    cell: CellId,
    epoch: u64,
) -> (Checkpoint, Option<CellValidators>) {
    let keys = keys();
    let current = (collector.sets().head(cell))
        .expect("every cell of the federation has a head set")
        .validators()
        .clone();
    let next = match script.byte() % 3 {
        0 => current.clone(),
        1 => CellValidators(current.0[..current.0.len().saturating_sub(1)].to_vec()),
        _ => keys.rotated[&cell].clone(),
    };
    let checkpoint = Checkpoint {
        federation: FEDERATION,
        cell,
        epoch,
        height: epoch * 10,
        block: BlockHash([script.byte(); 32]),
        state_root: StateRoot([script.byte() % 2; 32]),
        validators: current.hash(),
        next_validators: next.hash(),
    };
    let carried = checkpoint.hands_over() && script.byte() % 4 != 0;
    (checkpoint, carried.then_some(next))
}

/// A certificate for `checkpoint` signed by every current validator of its cell and `other`.
fn certify(
    collector: &Collector,
    (checkpoint, next_set): (Checkpoint, Option<CellValidators>),
    other: CellId,
) -> Option<CheckpointCertificate> {
    let message = checkpoint.signing_bytes();
    let mut cells = vec![checkpoint.cell, other];
    cells.sort();
    cells.dedup();
    let mut signers = Vec::new();
    let mut signatures = Vec::new();
    for cell in cells {
        let set = (collector.sets().head(cell))
            .expect("every cell of the federation has a head set")
            .validators();
        for member in &set.0 {
            signatures.push(keys().secret[&member.bls_key].sign(&message));
        }
        signers.push(CellSigners::from_indices(cell, set, 0..set.0.len()));
    }
    Some(CheckpointCertificate {
        checkpoint,
        signers,
        signature: aggregate(&signatures).ok()?,
        next_set,
    })
}

/// The aggregate of the first `count` (modulo the set's size, plus one) current validators
/// of `signing` on `checkpoint`.
fn cell_aggregate(
    collector: &Collector,
    (checkpoint, next_set): (Checkpoint, Option<CellValidators>),
    signing: CellId,
    count: u8,
) -> Option<CellAggregate> {
    let set = (collector.sets().head(signing))
        .expect("every cell of the federation has a head set")
        .validators();
    let count = usize::from(count) % set.0.len().max(1) + 1;
    let message = checkpoint.signing_bytes();
    let signatures: Vec<_> = (set.0.iter().take(count))
        .map(|member| keys().secret[&member.bls_key].sign(&message))
        .collect();
    Some(CellAggregate {
        signers: CellSigners::from_indices(signing, set, 0..count),
        signature: aggregate(&signatures).ok()?,
        checkpoint,
        next_set,
    })
}

/// A validator of cell 0 handling the federation topic, on files of its own that last one input.
struct Node {
    finality: Finality<MemoryStorage>,
    dir: PathBuf,
    /// Keeps the queue to the (absent) mesh open; what the node publishes is dropped when full.
    _published: tokio::sync::mpsc::Receiver<(String, Vec<u8>)>,
}

impl Node {
    fn new() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/federation-message")
            .join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the node's directory can be made");
        let keys = keys();
        let member = &keys.genesis.cells[&CellId(0)].0[0];
        let (outbound, published) = tokio::sync::mpsc::channel(64);
        let finality = Finality {
            collector: Arc::new(Mutex::new(
                Collector::new(&keys.genesis).expect("the genesis keys are valid"),
            )),
            cell: CellId(0),
            passport: member.passport,
            signer: CheckpointSigner::open(
                keys.secret[&member.bls_key].clone(),
                &dir.join("checkpoint-signer.json"),
            )
            .expect("the signer's record opens"),
            ledger: Ledger::open(MemoryStorage::new()).expect("an empty ledger opens"),
            publisher: Publisher::new("checkpoints", outbound),
            store: FederationStore::open(&dir).expect("the store opens"),
            // Cell 1 is followed, the others are not: both kinds of catch-up are exercised.
            follows: BTreeSet::from([CellId(0), CellId(1)]),
            own_hand_overs: Vec::new(),
            catch_up: Default::default(),
            co_signed: Default::default(),
            aggregated: Default::default(),
            metrics: Arc::new(NodeMetrics::new()),
            // The verdicts go to the mesh from `Finality::run`, which the fuzzer does not run.
            verdicts: tokio::sync::mpsc::channel(1).0,
        };
        Node {
            finality,
            dir,
            _published: published,
        }
    }

    fn collector(&self) -> MutexGuard<'_, Collector> {
        self.finality.collector.lock().expect("not poisoned")
    }

    /// Handles a message as heard from a peer (the verdict is for the mesh, absent here).
    fn handle(&mut self, message: &FederationMessage) {
        let bytes = borsh::to_vec(message).expect("encodes");
        let _for_the_mesh = self.finality.handle(&bytes);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_script(node: &mut Node, mut script: Script) {
    for _ in 0..24 {
        if script.0.is_empty() {
            return;
        }
        match script.byte() % 7 {
            // One validator of a cell signs a checkpoint of a cell.
            0 => {
                let cell = script.cell();
                let epoch = u64::from(script.byte() % 6);
                let (checkpoint, next_set) =
                    checkpoint(&node.collector(), &mut script, cell, epoch);
                let signing = script.cell();
                let member = {
                    let collector = node.collector();
                    let set = (collector.sets().head(signing))
                        .expect("every cell of the federation has a head set")
                        .validators();
                    set.0
                        .get(usize::from(script.byte()) % set.0.len().max(1))
                        .cloned()
                };
                let Some(member) = member else {
                    continue;
                };
                let signature = keys().secret[&member.bls_key].sign(&checkpoint.signing_bytes());
                node.handle(&FederationMessage::Signature {
                    checkpoint,
                    next_set,
                    cell: signing,
                    signer: member.passport,
                    signature,
                });
            }
            // Whole cells certify a checkpoint (a second one for an epoch is the twins').
            1 => {
                let cell = script.cell();
                let epoch = u64::from(script.byte() % 6);
                let certificate = {
                    let collector = node.collector();
                    let checkpoint = checkpoint(&collector, &mut script, cell, epoch);
                    certify(&collector, checkpoint, script.cell())
                };
                if let Some(certificate) = certificate {
                    node.handle(&FederationMessage::Certificate(certificate));
                }
            }
            // Someone asks for a range.
            2 => {
                let cell = script.cell();
                let (from_epoch, to_epoch) = (u64::from(script.byte()), u64::from(script.byte()));
                node.handle(&FederationMessage::Missing {
                    cell,
                    from_epoch,
                    to_epoch,
                });
            }
            // A ruling keeps one of an equivocation's checkpoints, or something else.
            3 => rule(&mut node.collector(), &mut script),
            // Someone asks for a cell's hand-overs.
            5 => {
                let cell = script.cell();
                let after_epoch = u64::from(script.byte()).wrapping_sub(2);
                node.handle(&FederationMessage::MissingHandOvers { cell, after_epoch });
            }
            // The first few validators of a cell aggregate their signatures on a checkpoint.
            4 => {
                let cell = script.cell();
                let epoch = u64::from(script.byte() % 6);
                let aggregate = {
                    let collector = node.collector();
                    let checkpoint = checkpoint(&collector, &mut script, cell, epoch);
                    cell_aggregate(&collector, checkpoint, script.cell(), script.byte())
                };
                if let Some(aggregate) = aggregate {
                    node.handle(&FederationMessage::Aggregate(aggregate));
                }
            }
            // What the API reads.
            _ => {
                let cell = script.cell();
                let collector = node.collector();
                let _ = collector.progress(cell, u64::from(script.byte() % 6));
                let _ = collector.latest_final(cell);
            }
        }
        let collector = node.collector();
        for cell in collector.quarantined() {
            assert!(
                collector
                    .unsettled()
                    .iter()
                    .any(|(unsettled, _)| unsettled == cell),
                "{cell} is quarantined with every equivocation settled"
            );
        }
    }
}

fn rule(collector: &mut Collector, script: &mut Script) {
    let choice = script.byte();
    let proofs: Vec<_> = collector.equivocations().cloned().collect();
    let (cell, epoch, keep) = match proofs.get(usize::from(choice / 4)) {
        Some(proof) => {
            let kept = if choice % 2 == 0 {
                &proof.first
            } else {
                &proof.second
            };
            (
                kept.checkpoint.cell,
                kept.checkpoint.epoch,
                kept.checkpoint.id(),
            )
        }
        None => (
            script.cell(),
            u64::from(choice % 6),
            CheckpointId([choice; 32]),
        ),
    };
    let _ = collector.rule(cell, epoch, keep);
}

fuzz_target!(|data: &[u8]| {
    let mut node = Node::new();
    match data.split_first() {
        Some((mode, message)) if mode % 2 == 0 => {
            let _for_the_mesh = node.finality.handle(message);
        }
        Some((_, script)) => run_script(&mut node, Script(script)),
        None => {}
    }
});
