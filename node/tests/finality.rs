//! A node's handling of the federation topic (`Finality::handle_all`), with a small federation's
//! real BLS keys: certificates heard together are verified in one batch and counted on the
//! metrics, and a forged one among them is still refused and penalized.

use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellSigners, CellValidators, Checkpoint, CheckpointCertificate, FederationValidator,
    FederationView,
};
use charter_federation::checkpoint_signer::CheckpointSigner;
use charter_federation::collector::{Collector, FederationMessage};
use charter_ledger::crypto::bls::{aggregate, BlsSecretKey};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{CellId, FederationId, Ledger, PassportId, StateRoot};
use charter_node::federation_store::FederationStore;
use charter_node::finality::Finality;
use charter_node::metrics::NodeMetrics;
use charter_node::publisher::Publisher;
use charter_p2p::Verdict;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const FEDERATION: FederationId = FederationId([8; 32]);

fn keys(cell: u8) -> Vec<BlsSecretKey> {
    (0..4)
        .map(|index| BlsSecretKey::key_gen(&[cell * 16 + index + 1; 32], b"").unwrap())
        .collect()
}

fn set(cell: u8) -> CellValidators {
    CellValidators(
        (keys(cell).iter().enumerate())
            .map(|(index, key)| FederationValidator {
                passport: PassportId([cell * 16 + index as u8; 32]),
                bls_key: key.public_key(),
                power: 10,
            })
            .collect(),
    )
}

/// Cell 1's checkpoint of `epoch`, its set unchanged, signed by every validator of cells 0 and 1.
fn certificate(epoch: u64) -> CheckpointCertificate {
    let checkpoint = Checkpoint {
        federation: FEDERATION,
        cell: CellId(1),
        epoch,
        height: epoch * 10,
        block: BlockHash([epoch as u8; 32]),
        state_root: StateRoot([3; 32]),
        validators: set(1).hash(),
        next_validators: set(1).hash(),
    };
    let message = checkpoint.signing_bytes();
    let signatures: Vec<_> = (keys(0).iter().chain(&keys(1)))
        .map(|key| key.sign(&message))
        .collect();
    CheckpointCertificate {
        checkpoint,
        signers: vec![
            CellSigners::from_indices(CellId(0), &set(0), 0..4),
            CellSigners::from_indices(CellId(1), &set(1), 0..4),
        ],
        signature: aggregate(&signatures).unwrap(),
        next_set: None,
    }
}

/// `charter_federation_certificates_batch_verified_total` as `/metrics` shows it.
fn batch_verified(metrics: &NodeMetrics) -> String {
    let name = "charter_federation_certificates_batch_verified_total ";
    let rendered = metrics.render();
    let line = rendered.lines().find(|line| line.starts_with(name));
    line.expect("the counter is shown")
        .trim_start_matches(name)
        .to_string()
}

#[test]
fn certificates_heard_together_are_verified_in_one_batch_and_a_forged_one_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = FederationView {
        federation: FEDERATION,
        k: 2,
        cells: BTreeMap::from([(CellId(0), set(0)), (CellId(1), set(1))]),
    };
    let (outbound, _published) = tokio::sync::mpsc::channel(64);
    let metrics = Arc::new(NodeMetrics::new());
    let mut finality = Finality {
        collector: Arc::new(Mutex::new(Collector::new(&genesis).unwrap())),
        cell: CellId(0),
        passport: set(0).0[0].passport,
        signer: CheckpointSigner::open(keys(0)[0].clone(), &dir.path().join("signer.json"))
            .unwrap(),
        ledger: Ledger::open(MemoryStorage::new()).unwrap(),
        publisher: Publisher::new("checkpoints", outbound),
        store: FederationStore::open(dir.path()).unwrap(),
        catch_up: Default::default(),
        co_signed: Default::default(),
        metrics: metrics.clone(),
        verdicts: tokio::sync::mpsc::channel(1).0,
    };
    let encode = |message: FederationMessage| borsh::to_vec(&message).unwrap();
    let together = [
        encode(FederationMessage::Certificate(certificate(1))),
        encode(FederationMessage::Certificate(certificate(2))),
    ];
    let messages: Vec<&[u8]> = together.iter().map(Vec::as_slice).collect();
    assert_eq!(
        finality.handle_all(&messages),
        vec![Verdict::Accept, Verdict::Accept]
    );
    assert_eq!(batch_verified(&metrics), "2");
    assert!(finality
        .collector
        .lock()
        .unwrap()
        .final_certificate(CellId(1), 2)
        .is_some());

    let mut forged = certificate(4);
    forged.signature = certificate(1).signature;
    let batch = encode(FederationMessage::Certificates(vec![
        certificate(3),
        forged,
    ]));
    assert_eq!(finality.handle_all(&[&batch]), vec![Verdict::Reject]);
    assert_eq!(batch_verified(&metrics), "3", "only the genuine one passed");
    let collector = finality.collector.lock().unwrap();
    assert!(collector.final_certificate(CellId(1), 3).is_some());
    assert!(collector.final_certificate(CellId(1), 4).is_none());
}
