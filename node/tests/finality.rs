//! A node's handling of the federation's messages (`Finality::handle_all`), with a small
//! federation's real BLS keys: certificates heard together are verified in one batch and
//! counted on the metrics, and a forged one among them is still refused and penalized; its
//! signatures go to its cell's aggregators alone, and aggregates to the committee and the cell;
//! and its own cell's hand-over that is not final is signed again each epoch until it is.

use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, CheckpointCertificate,
    FederationValidator, FederationView,
};
use charter_federation::checkpoint_signer::CheckpointSigner;
use charter_federation::collector::{Collector, FederationMessage};
use charter_federation::committee::aggregators;
use charter_ledger::crypto::bls::{aggregate, BlsSecretKey};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{CellId, FederationId, Ledger, PassportId, StateRoot};
use charter_node::federation_store::FederationStore;
use charter_node::finality::{Finality, SIGNATURE_GATHERING};
use charter_node::gossip::{
    aggregator_topic, cell_checkpoints_topic, certificates_topic, checkpoints_topic, Heard,
};
use charter_node::metrics::NodeMetrics;
use charter_node::publisher::Publisher;
use charter_p2p::Verdict;
use libp2p::gossipsub::MessageId;
use libp2p::PeerId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
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
    certificate_of(1, epoch, None)
}

/// `cell`'s checkpoint of `epoch`, handing over to `next` if given, signed by every validator
/// of cells 0 and 1.
fn certificate_of(cell: u8, epoch: u64, next: Option<CellValidators>) -> CheckpointCertificate {
    let checkpoint = Checkpoint {
        federation: FEDERATION,
        cell: CellId(cell.into()),
        epoch,
        height: epoch * 10,
        block: BlockHash([epoch as u8; 32]),
        state_root: StateRoot([3; 32]),
        validators: set(cell).hash(),
        next_validators: next.as_ref().unwrap_or(&set(cell)).hash(),
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
        next_set: next,
    }
}

/// `charter_federation_certificates_batch_verified_total` as `/metrics` shows it.
fn batch_verified(metrics: &NodeMetrics) -> String {
    counter(
        metrics,
        "charter_federation_certificates_batch_verified_total",
    )
}

/// The counter `name`, without labels, as `/metrics` shows it.
fn counter(metrics: &NodeMetrics, name: &str) -> String {
    let name = format!("{name} ");
    let rendered = metrics.render();
    let line = rendered.lines().find(|line| line.starts_with(&name));
    line.expect("the counter is shown")
        .trim_start_matches(&name)
        .to_string()
}

/// Validator 0 of cell 0 in a federation of cells 0 and 1 (k = 2), following both, its data
/// in `dir`; the messages it publishes, and its metrics.
fn validator_0_of_cell_0(dir: &Path) -> (Finality<MemoryStorage>, Published, Arc<NodeMetrics>) {
    let genesis = FederationView {
        federation: FEDERATION,
        k: 2,
        committee: 1,
        cells: BTreeMap::from([(CellId(0), set(0)), (CellId(1), set(1))]),
    };
    let (outbound, published) = tokio::sync::mpsc::channel(64);
    let metrics = Arc::new(NodeMetrics::new());
    let store = FederationStore::open(dir).unwrap();
    let finality = Finality {
        collector: Arc::new(Mutex::new(Collector::new(&genesis).unwrap())),
        cell: CellId(0),
        passport: set(0).0[0].passport,
        signer: CheckpointSigner::open(keys(0)[0].clone(), &dir.join("signer.json")).unwrap(),
        ledger: Ledger::open(MemoryStorage::new()).unwrap(),
        publisher: Publisher::new(&checkpoints_topic(&FEDERATION), outbound),
        own_hand_overs: store.own_hand_overs().unwrap(),
        store,
        follows: BTreeSet::from([CellId(0), CellId(1)]),
        catch_up: Default::default(),
        co_signed: Default::default(),
        aggregated: Default::default(),
        metrics: metrics.clone(),
        verdicts: tokio::sync::mpsc::channel(1).0,
    };
    (finality, published, metrics)
}

type Published = tokio::sync::mpsc::Receiver<(String, Vec<u8>)>;

/// The messages published since last asked.
fn drain(published: &mut Published) -> Vec<FederationMessage> {
    std::iter::from_fn(|| published.try_recv().ok())
        .map(|(_, bytes)| borsh::from_slice(&bytes).unwrap())
        .collect()
}

/// The epoch and carried set of each signature among `messages`, in order, once each however
/// many aggregators it went to.
fn signed(messages: &[FederationMessage]) -> Vec<(u64, Option<CellValidators>)> {
    let mut signed: Vec<(u64, Option<CellValidators>)> = Vec::new();
    for message in messages {
        if let FederationMessage::Signature {
            checkpoint,
            next_set,
            ..
        } = message
        {
            let entry = (checkpoint.epoch, next_set.clone());
            if !signed.contains(&entry) {
                signed.push(entry);
            }
        }
    }
    signed
}

/// The `Signature` message of validator `index` of cell 0 on `checkpoint`, encoded.
fn signature_of_cell_0(checkpoint: &Checkpoint, index: usize) -> Vec<u8> {
    let signature = keys(0)[index].sign(&checkpoint.signing_bytes());
    borsh::to_vec(&FederationMessage::Signature {
        checkpoint: checkpoint.clone(),
        next_set: None,
        cell: CellId(0),
        signer: set(0).0[index].passport,
        signature,
    })
    .unwrap()
}

/// Cell 0's checkpoint of `epoch`, certified by `validators` and handing over to `next`.
fn own_checkpoint(epoch: u64, validators: &CellValidators, next: &CellValidators) -> Checkpoint {
    Checkpoint {
        federation: FEDERATION,
        cell: CellId(0),
        epoch,
        height: epoch * 10,
        block: BlockHash([epoch as u8; 32]),
        state_root: StateRoot([4; 32]),
        validators: validators.hash(),
        next_validators: next.hash(),
    }
}

/// A checkpoint of our cell that hands over a new set and is not final holds back every later
/// one: the validator signs it again with each new epoch, across a restart, until it is final;
/// then it stops.
#[test]
fn an_own_hand_over_that_is_not_final_is_signed_again_each_epoch_until_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut next = set(0);
    next.0[3].power = 40;
    let hand_over = own_checkpoint(1, &set(0), &next);
    let (mut finality, mut published, metrics) = validator_0_of_cell_0(dir.path());
    finality.own_checkpoint_built(&hand_over, Some(next.clone()));
    assert_eq!(
        signed(&drain(&mut published)),
        vec![(1, Some(next.clone()))]
    );
    finality.own_checkpoint_built(&own_checkpoint(2, &next, &next), None);
    assert_eq!(
        signed(&drain(&mut published)),
        vec![(1, Some(next.clone())), (2, None)],
        "epoch 1's hand-over again, then epoch 2"
    );
    assert_eq!(
        counter(&metrics, "charter_federation_hand_overs_resigned_total"),
        "1"
    );

    // Restarted, the validator still holds the hand-over.
    drop(finality);
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    finality.own_checkpoint_built(&own_checkpoint(3, &next, &next), None);
    assert_eq!(
        signed(&drain(&mut published)),
        vec![(1, Some(next.clone())), (3, None)]
    );

    // Once it is final, it is not signed again.
    let message = hand_over.signing_bytes();
    let signatures: Vec<_> = (keys(0).iter().chain(&keys(1)))
        .map(|key| key.sign(&message))
        .collect();
    let certificate = CheckpointCertificate {
        checkpoint: hand_over,
        signers: vec![
            CellSigners::from_indices(CellId(0), &set(0), 0..4),
            CellSigners::from_indices(CellId(1), &set(1), 0..4),
        ],
        signature: aggregate(&signatures).unwrap(),
        next_set: Some(next.clone()),
    };
    let heard = borsh::to_vec(&FederationMessage::Certificate(certificate)).unwrap();
    assert_eq!(finality.handle(&heard), Verdict::Accept);
    drain(&mut published);
    finality.own_checkpoint_built(&own_checkpoint(4, &next, &next), None);
    assert_eq!(signed(&drain(&mut published)), vec![(4, None)]);
    let restarted = FederationStore::open(dir.path()).unwrap();
    assert_eq!(restarted.own_hand_overs().unwrap(), vec![]);
}

/// The kind of each message published since last asked, with its topic; requests for the
/// epochs before a checkpoint this node has not seen final are left out.
fn topics(published: &mut Published) -> Vec<(String, &'static str)> {
    std::iter::from_fn(|| published.try_recv().ok())
        .filter_map(|(topic, bytes)| {
            let kind = match borsh::from_slice(&bytes).unwrap() {
                FederationMessage::Signature { .. } => "signature",
                FederationMessage::Aggregate(_) => "aggregate",
                FederationMessage::Certificate(_) => "certificate",
                FederationMessage::Missing { .. } => return None,
                other => panic!("unexpected {other:?}"),
            };
            Some((topic, kind))
        })
        .collect()
}

/// The positions in cell 0's set that aggregate its signatures on its checkpoint of `epoch`.
fn aggregators_of_cell_0(epoch: u64) -> Vec<usize> {
    aggregators(&FEDERATION.0, CellId(0), CellId(0), epoch, 4)
}

/// The first epoch for which validator 0 is, or is not, one of cell 0's aggregators of its
/// own checkpoint.
fn epoch_where_validator_0_aggregates(aggregates: bool) -> u64 {
    (1..)
        .find(|epoch| aggregators_of_cell_0(*epoch).contains(&0) == aggregates)
        .unwrap()
}

/// The messages published since last asked, each with its topic.
fn published_on_topics(published: &mut Published) -> Vec<(String, FederationMessage)> {
    std::iter::from_fn(|| published.try_recv().ok())
        .map(|(topic, bytes)| (topic, borsh::from_slice(&bytes).unwrap()))
        .collect()
}

fn aggregator_topic_of(position: usize) -> String {
    aggregator_topic(&FEDERATION, CellId(0), &set(0).0[position].passport)
}

fn cell_topic(cell: u32) -> String {
    cell_checkpoints_topic(&FEDERATION, CellId(cell))
}

/// A validator sends its signature to its cell's other aggregators of the checkpoint, each on
/// its own topic, and to no one else; as an aggregator it publishes the cell's aggregate, once
/// the signatures sent to it hold a quorum and once only, to the checkpoint's committee and to
/// its own cell's topic.
#[test]
fn signatures_go_to_the_aggregators_alone_and_the_aggregate_to_committee_and_cell_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    let epoch = epoch_where_validator_0_aggregates(true);
    let checkpoint = own_checkpoint(epoch, &set(0), &set(0));
    let heard = |index: usize| signature_of_cell_0(&checkpoint, index);
    assert_eq!(finality.handle(&heard(1)), Verdict::Accept);
    finality.own_checkpoint_built(&checkpoint, None);
    let to_other_aggregators: Vec<(String, &str)> = (aggregators_of_cell_0(epoch).into_iter())
        .filter(|position| *position != 0)
        .map(|position| (aggregator_topic_of(position), "signature"))
        .collect();
    assert_eq!(to_other_aggregators.len(), 2);
    assert_eq!(
        topics(&mut published),
        to_other_aggregators,
        "2 of 4: no quorum"
    );
    assert_eq!(finality.handle(&heard(2)), Verdict::Accept);
    assert_eq!(
        topics(&mut published),
        vec![(cell_topic(0), "aggregate"), (cell_topic(1), "aggregate")]
    );
    assert_eq!(finality.handle(&heard(3)), Verdict::Accept);
    assert_eq!(topics(&mut published), vec![], "once per checkpoint");
}

/// A validator that does not aggregate a checkpoint sends its signature to the three that do,
/// and learns that its cell vouched from their aggregate on its cell's topic.
#[test]
fn a_validator_that_does_not_aggregate_learns_its_cells_quorum_from_the_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    let epoch = epoch_where_validator_0_aggregates(false);
    let checkpoint = own_checkpoint(epoch, &set(0), &set(0));
    finality.own_checkpoint_built(&checkpoint, None);
    let expected: Vec<(String, &str)> = (aggregators_of_cell_0(epoch).into_iter())
        .map(|position| (aggregator_topic_of(position), "signature"))
        .collect();
    assert_eq!(topics(&mut published), expected);

    let message = checkpoint.signing_bytes();
    let signatures: Vec<_> = keys(0)[1..].iter().map(|key| key.sign(&message)).collect();
    let aggregate = FederationMessage::Aggregate(CellAggregate {
        checkpoint: checkpoint.clone(),
        next_set: None,
        signers: CellSigners::from_indices(CellId(0), &set(0), 1..4),
        signature: charter_ledger::crypto::bls::aggregate(&signatures).unwrap(),
    });
    let heard = borsh::to_vec(&aggregate).unwrap();
    assert_eq!(finality.handle(&heard), Verdict::Accept);
    let collector = finality.collector.lock().unwrap();
    assert!(collector.origin_vouches(&checkpoint));
    assert_eq!(
        collector.progress(CellId(0), epoch),
        vec![(CellId(0), 30, 40)]
    );
}

/// A signature of another cell's validator has no place on this node's topics: refused, its
/// sender penalized, counted by its reason, and never checked.
#[test]
fn a_signature_of_another_cells_validator_is_refused_unchecked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, _published, metrics) = validator_0_of_cell_0(dir.path());
    let checkpoint = Checkpoint {
        cell: CellId(1),
        validators: set(1).hash(),
        next_validators: set(1).hash(),
        ..own_checkpoint(1, &set(1), &set(1))
    };
    let signature = keys(1)[0].sign(&checkpoint.signing_bytes());
    let heard = |signer: u32| {
        borsh::to_vec(&FederationMessage::Signature {
            checkpoint: checkpoint.clone(),
            next_set: None,
            cell: CellId(1),
            signer: set(1).0[0].passport,
            signature: [signature, keys(0)[0].sign(b"forged")][signer as usize],
        })
        .unwrap()
    };
    let (genuine, forged) = (heard(0), heard(1));
    let together: Vec<&[u8]> = vec![&genuine, &forged];
    assert_eq!(
        finality.handle_all(&together),
        vec![Verdict::Reject, Verdict::Reject]
    );
    let rendered = metrics.render();
    assert!(
        rendered.contains(
            "charter_federation_signatures_refused_total{reason=\"foreign_signature\"} 2"
        ),
        "{rendered}"
    );
    assert_eq!(
        counter(
            &metrics,
            "charter_federation_signatures_batch_verified_total"
        ),
        "0"
    );
    let collector = finality.collector.lock().unwrap();
    assert_eq!(collector.progress(CellId(1), 1), vec![]);
}

/// Validators' signatures heard together are verified in one batch and counted.
#[test]
fn signatures_heard_together_are_verified_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, _published, metrics) = validator_0_of_cell_0(dir.path());
    let checkpoint = own_checkpoint(1, &set(0), &set(0));
    let heard: Vec<Vec<u8>> = (1..3)
        .map(|index| signature_of_cell_0(&checkpoint, index))
        .collect();
    let together: Vec<&[u8]> = heard.iter().map(Vec::as_slice).collect();
    let verdicts = finality.handle_all(&together);
    assert_eq!(verdicts, vec![Verdict::Accept, Verdict::Accept]);
    let batched = counter(
        &metrics,
        "charter_federation_signatures_batch_verified_total",
    );
    assert_eq!(batched, "2");
    let collector = finality.collector.lock().unwrap();
    assert_eq!(collector.progress(CellId(0), 1), vec![(CellId(0), 20, 40)]);
}

/// A signature heard by finality's task, from a peer.
fn heard(data: Vec<u8>, id: u8) -> Heard {
    Heard {
        data,
        id: MessageId::new(&[id]),
        source: PeerId::random(),
    }
}

type Reported = tokio::sync::mpsc::Receiver<(MessageId, PeerId, Verdict)>;

/// Validator 0 of cell 0 running finality's task: where to send what it hears, the verdicts it
/// reports, its metrics, and the task.
fn running_validator_0_of_cell_0(
    dir: &Path,
) -> (
    tokio::sync::mpsc::Sender<Heard>,
    Reported,
    Arc<NodeMetrics>,
    tokio::task::JoinHandle<()>,
) {
    let (mut finality, _published, metrics) = validator_0_of_cell_0(dir);
    let (verdicts, reported) = tokio::sync::mpsc::channel(8);
    finality.verdicts = verdicts;
    let (blocks, committed) = tokio::sync::broadcast::channel(1);
    let (inbound, queue) = tokio::sync::mpsc::channel(8);
    let task = tokio::spawn(async move {
        let _blocks = blocks;
        finality.run(committed, queue).await
    });
    (inbound, reported, metrics, task)
}

#[tokio::test(start_paused = true)]
async fn a_signature_that_comes_alone_waits_for_others_and_is_verified_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let (inbound, mut reported, metrics, task) = running_validator_0_of_cell_0(dir.path());
    let checkpoint = own_checkpoint(1, &set(0), &set(0));

    inbound
        .send(heard(signature_of_cell_0(&checkpoint, 1), 1))
        .await
        .unwrap();
    tokio::time::sleep(SIGNATURE_GATHERING / 2).await;
    inbound
        .send(heard(signature_of_cell_0(&checkpoint, 2), 2))
        .await
        .unwrap();
    for _ in 0..2 {
        let (_, _, verdict) = reported.recv().await.unwrap();
        assert_eq!(verdict, Verdict::Accept);
    }
    let batched = "charter_federation_signatures_batch_verified_total";
    assert_eq!(counter(&metrics, batched), "2", "both checked in one batch");

    inbound
        .send(heard(signature_of_cell_0(&checkpoint, 3), 3))
        .await
        .unwrap();
    let (_, _, verdict) = reported.recv().await.unwrap();
    assert_eq!(
        verdict,
        Verdict::Accept,
        "one alone is checked once the wait is over"
    );
    assert_eq!(counter(&metrics, batched), "2");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn anything_but_a_signature_ends_the_wait_for_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let (inbound, mut reported, _metrics, task) = running_validator_0_of_cell_0(dir.path());
    let checkpoint = own_checkpoint(1, &set(0), &set(0));
    let started = tokio::time::Instant::now();

    inbound
        .send(heard(signature_of_cell_0(&checkpoint, 1), 1))
        .await
        .unwrap();
    tokio::time::sleep(SIGNATURE_GATHERING / 4).await;
    let missing = FederationMessage::Missing {
        cell: CellId(0),
        from_epoch: 1,
        to_epoch: 1,
    };
    inbound
        .send(heard(borsh::to_vec(&missing).unwrap(), 2))
        .await
        .unwrap();
    for _ in 0..2 {
        reported.recv().await.unwrap();
    }
    assert_eq!(
        started.elapsed(),
        SIGNATURE_GATHERING / 4,
        "handled as soon as the request came, on the paused clock"
    );
    task.abort();
}

#[test]
fn certificates_heard_together_are_verified_in_one_batch_and_a_forged_one_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, _published, metrics) = validator_0_of_cell_0(dir.path());
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

fn federation_topic() -> String {
    checkpoints_topic(&FEDERATION)
}

fn certificates_topic_of(cell: u32) -> String {
    certificates_topic(&FEDERATION, CellId(cell))
}

/// Cell 0's checkpoint of `epoch` handing over to a new set, signed by its validators 0, 1
/// and 2 as they send it, with cell 1's aggregate on it: what makes it final at validator 0.
fn hand_over_made_final(finality: &mut Finality<MemoryStorage>, epoch: u64) -> Checkpoint {
    let mut next = set(0);
    next.0[3].power = 40;
    let checkpoint = own_checkpoint(epoch, &set(0), &next);
    let message = checkpoint.signing_bytes();
    finality.own_checkpoint_built(&checkpoint, Some(next.clone()));
    for index in [1, 2] {
        let signature = keys(0)[index].sign(&message);
        let heard = borsh::to_vec(&FederationMessage::Signature {
            checkpoint: checkpoint.clone(),
            next_set: Some(next.clone()),
            cell: CellId(0),
            signer: set(0).0[index].passport,
            signature,
        })
        .unwrap();
        finality.handle(&heard);
    }
    let aggregate = |cell: u8, indices: std::ops::Range<usize>| {
        let signatures: Vec<_> = keys(cell)[indices.clone()]
            .iter()
            .map(|key| key.sign(&message))
            .collect();
        borsh::to_vec(&FederationMessage::Aggregate(CellAggregate {
            checkpoint: checkpoint.clone(),
            next_set: (cell == 0).then(|| next.clone()),
            signers: CellSigners::from_indices(CellId(cell.into()), &set(cell), indices),
            signature: aggregate(&signatures).unwrap(),
        }))
        .unwrap()
    };
    finality.handle(&aggregate(0, 1..4));
    assert_eq!(finality.handle(&aggregate(1, 0..4)), Verdict::Accept);
    assert!(finality
        .collector
        .lock()
        .unwrap()
        .final_certificate(CellId(0), epoch)
        .is_some());
    checkpoint
}

/// Of a cell's nodes, which all assemble its certificate, its aggregators of the checkpoint
/// publish it: on the cell's certificate topic, and on the federation topic as well when it
/// hands over a new set. The others keep it.
#[test]
fn a_final_certificate_goes_to_its_followers_and_a_hand_over_to_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    let aggregating = epoch_where_validator_0_aggregates(true);
    hand_over_made_final(&mut finality, aggregating);
    let certificates: Vec<(String, &str)> = (topics(&mut published).into_iter())
        .filter(|(_, kind)| *kind == "certificate")
        .collect();
    assert_eq!(
        certificates,
        vec![
            (certificates_topic_of(0), "certificate"),
            (federation_topic(), "certificate")
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    let not_aggregating = epoch_where_validator_0_aggregates(false);
    hand_over_made_final(&mut finality, not_aggregating);
    assert!(
        !(topics(&mut published).iter()).any(|(_, kind)| *kind == "certificate"),
        "kept, not published"
    );
}

/// A node asks a cell it follows for the epochs it missed, on the cell's certificate topic. Of
/// a cell it does not follow it takes no routine certificate (not even checked), and asks only
/// for its hand-overs, on the federation topic, once it meets a set of the cell it does not
/// hold.
#[test]
fn missed_epochs_are_asked_of_followed_cells_and_hand_overs_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    let heard = borsh::to_vec(&FederationMessage::Certificate(certificate(3))).unwrap();
    assert_eq!(finality.handle(&heard), Verdict::Accept);
    let asked = published_on_topics(&mut published);
    assert_eq!(
        asked,
        vec![(
            certificates_topic_of(1),
            FederationMessage::Missing {
                cell: CellId(1),
                from_epoch: 1,
                to_epoch: 2
            }
        )]
    );

    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, metrics) = validator_0_of_cell_0(dir.path());
    finality.follows = BTreeSet::from([CellId(0)]);
    let together = [heard.as_slice(), heard.as_slice()];
    assert_eq!(
        finality.handle_all(&together),
        vec![Verdict::Ignore, Verdict::Ignore]
    );
    assert_eq!(batch_verified(&metrics), "0", "not checked");
    let refused = r#"charter_federation_certificates_refused_total{reason="not_followed"} 2"#;
    assert!(metrics.render().contains(refused));
    assert_eq!(
        finality
            .collector
            .lock()
            .unwrap()
            .latest_final_epoch(CellId(1)),
        0
    );
    assert_eq!(drain(&mut published), vec![], "no epochs asked of cell 1");

    let mut newer = set(1);
    newer.0[0].power = 20;
    let mut unknown_set = certificate_of(1, 4, Some(set(1)));
    unknown_set.checkpoint.validators = newer.hash();
    let heard = borsh::to_vec(&FederationMessage::Certificate(unknown_set)).unwrap();
    assert_eq!(finality.handle(&heard), Verdict::Ignore);
    let asked = published_on_topics(&mut published);
    assert_eq!(
        asked,
        vec![(
            federation_topic(),
            FederationMessage::MissingHandOvers {
                cell: CellId(1),
                after_epoch: 0
            }
        )]
    );
}

/// The two certificates of an equivocation, heard together on the federation topic, quarantine
/// a cell this node does not follow.
#[test]
fn an_equivocation_proof_quarantines_a_cell_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, _published, _) = validator_0_of_cell_0(dir.path());
    finality.follows = BTreeSet::from([CellId(0)]);
    let first = certificate(3);
    let mut second = certificate(3);
    second.checkpoint.state_root = StateRoot([66; 32]);
    let message = second.checkpoint.signing_bytes();
    let signatures: Vec<_> = (keys(0).iter().chain(&keys(1)))
        .map(|key| key.sign(&message))
        .collect();
    second.signature = aggregate(&signatures).unwrap();
    let proof = FederationMessage::Certificates(vec![first, second]);
    assert_eq!(
        finality.handle(&borsh::to_vec(&proof).unwrap()),
        Verdict::Accept
    );
    let collector = finality.collector.lock().unwrap();
    assert!(collector.quarantined().contains(&CellId(1)));
}

/// A cell's node answers a request for its missed epochs on the cell's certificate topic, and
/// one for its hand-overs on the federation topic, with the hand-overs alone.
#[test]
fn our_cells_missed_epochs_and_hand_overs_are_answered_where_they_were_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut finality, mut published, _) = validator_0_of_cell_0(dir.path());
    let mut next = set(0);
    next.0[3].power = 40;
    let hand_over = certificate_of(0, 1, Some(next.clone()));
    let heard = borsh::to_vec(&FederationMessage::Certificate(hand_over.clone())).unwrap();
    assert_eq!(finality.handle(&heard), Verdict::Accept);
    let mut routine = certificate_of(0, 2, None);
    routine.checkpoint.validators = next.hash();
    routine.checkpoint.next_validators = next.hash();
    let message = routine.checkpoint.signing_bytes();
    let signatures: Vec<_> = (keys(0).iter().chain(&keys(1)))
        .map(|key| key.sign(&message))
        .collect();
    routine.signature = aggregate(&signatures).unwrap();
    routine.signers[0] = CellSigners::from_indices(CellId(0), &next, 0..4);
    let heard = borsh::to_vec(&FederationMessage::Certificate(routine.clone())).unwrap();
    assert_eq!(finality.handle(&heard), Verdict::Accept);
    drain(&mut published);

    let ask = |message: FederationMessage| borsh::to_vec(&message).unwrap();
    let missing = FederationMessage::Missing {
        cell: CellId(0),
        from_epoch: 1,
        to_epoch: 2,
    };
    assert_eq!(finality.handle(&ask(missing)), Verdict::Accept);
    let hand_overs = FederationMessage::MissingHandOvers {
        cell: CellId(0),
        after_epoch: 0,
    };
    assert_eq!(finality.handle(&ask(hand_overs)), Verdict::Accept);
    let answers = published_on_topics(&mut published);
    assert_eq!(
        answers,
        vec![
            (
                certificates_topic_of(0),
                FederationMessage::Certificates(vec![hand_over.clone(), routine])
            ),
            (
                federation_topic(),
                FederationMessage::Certificates(vec![hand_over])
            ),
        ]
    );
}
