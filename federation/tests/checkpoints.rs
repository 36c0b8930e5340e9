//! Quorum-of-quorums certificates: three cells of four validators with real BLS keys, k = 2.
//! A certificate is final only with more than 2/3 of the power of each listed cell, at least k
//! cells, the checkpoint's own among them and the others on its committee, and an aggregate
//! signature of exactly the listed signers; the next epoch's set comes only from a final
//! checkpoint.

use charter_federation::checkpoint::{
    CellAggregate, CellSigners, CellValidators, Checkpoint, CheckpointCertificate, CheckpointError,
    FederationValidator, FederationView,
};
use charter_federation::checkpoint_signer::{self, CheckpointSigner, CheckpointSignerError};
use charter_federation::collector::{
    Added, Batched, CollectError, Collector, HeardSignature, Ruled,
};
use charter_federation::sets::{KnownSets, ValidatedSet};
use charter_ledger::crypto::bls::{aggregate, BlsError, BlsPublicKey, BlsSecretKey, BlsSignature};
use charter_ledger::BlockHash;
use charter_ledger::{CellId, CheckpointId, FederationId, PassportId, StateRoot};
use std::collections::BTreeMap;

const FEDERATION: FederationId = FederationId([3; 32]);

struct Federation {
    /// The federation genesis.
    view: FederationView,
    /// What a verifier knows: the genesis sets, then the sets final checkpoints handed over.
    sets: KnownSets,
    /// Each cell's validators' BLS keys, in set order.
    keys: BTreeMap<CellId, Vec<BlsSecretKey>>,
}

fn bls_key(cell: u32, index: usize, generation: u8) -> BlsSecretKey {
    BlsSecretKey::key_gen(&[cell as u8 * 16 + index as u8 + 1; 32], &[generation]).unwrap()
}

fn cell_set(cell: u32, generation: u8) -> (CellValidators, Vec<BlsSecretKey>) {
    let keys: Vec<BlsSecretKey> = (0..4)
        .map(|index| bls_key(cell, index, generation))
        .collect();
    let members = keys
        .iter()
        .enumerate()
        .map(|(index, key)| FederationValidator {
            passport: PassportId([cell as u8 * 16 + index as u8; 32]),
            bls_key: key.public_key(),
            power: 10,
        })
        .collect();
    (CellValidators(members), keys)
}

fn federation() -> Federation {
    federation_with_committee(2)
}

fn federation_with_committee(committee: usize) -> Federation {
    let mut cells = BTreeMap::new();
    let mut keys = BTreeMap::new();
    for cell in 0..3 {
        let (set, secret) = cell_set(cell, 0);
        cells.insert(CellId(cell), set);
        keys.insert(CellId(cell), secret);
    }
    let view = FederationView {
        federation: FEDERATION,
        k: 2,
        committee,
        cells,
    };
    Federation {
        sets: KnownSets::new(&view).unwrap(),
        view,
        keys,
    }
}

/// Checking a certificate of its cell's next epoch, as a method for the tests' chains.
trait Verify {
    fn verify(&self, sets: &KnownSets) -> Result<(), CheckpointError>;
}

impl Verify for CheckpointCertificate {
    fn verify(&self, sets: &KnownSets) -> Result<(), CheckpointError> {
        sets.verify(self)
    }
}

impl Federation {
    fn checkpoint(&self, cell: u32, epoch: u64, next: CellValidators) -> Checkpoint {
        Checkpoint {
            federation: FEDERATION,
            cell: CellId(cell),
            epoch,
            height: epoch * 100,
            block: BlockHash([epoch as u8; 32]),
            state_root: StateRoot([7; 32]),
            validators: self.head(cell).hash(),
            next_validators: next.hash(),
        }
    }

    /// The certificate of `cell`'s checkpoint of `epoch` handing over to `next`, which travels
    /// with it when it is a new set.
    fn certify_handing_over(
        &self,
        cell: u32,
        epoch: u64,
        next: CellValidators,
        signers: &[(u32, &[usize])],
    ) -> CheckpointCertificate {
        let checkpoint = self.checkpoint(cell, epoch, next.clone());
        CheckpointCertificate {
            next_set: checkpoint.hands_over().then_some(next),
            ..self.certify(checkpoint, signers)
        }
    }

    /// A certificate signed by the given validators of the given cells.
    fn certify(
        &self,
        checkpoint: Checkpoint,
        signers: &[(u32, &[usize])],
    ) -> CheckpointCertificate {
        let message = checkpoint.signing_bytes();
        let mut signatures = Vec::new();
        let mut bitmaps = Vec::new();
        for (cell, indices) in signers {
            let keys = &self.keys[&CellId(*cell)];
            for index in *indices {
                signatures.push(keys[*index].sign(&message));
            }
            bitmaps.push(CellSigners::from_indices(
                CellId(*cell),
                self.head(*cell).validators(),
                indices.iter().copied(),
            ));
        }
        CheckpointCertificate {
            checkpoint,
            signers: bitmaps,
            signature: aggregate(&signatures).unwrap(),
            next_set: None,
        }
    }

    fn head(&self, cell: u32) -> &ValidatedSet {
        self.sets
            .head(CellId(cell))
            .expect("a cell of the federation")
    }

    fn unchanged(&self, cell: u32) -> CellValidators {
        self.head(cell).validators().clone()
    }
}

const ALL: &[usize] = &[0, 1, 2, 3];
const THREE: &[usize] = &[0, 1, 3];

#[test]
fn a_checkpoint_signed_by_quorums_of_k_cells_including_its_own_is_final() {
    let federation = federation();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    federation
        .certify(checkpoint.clone(), &[(0, ALL), (1, THREE)])
        .verify(&federation.sets)
        .unwrap();
    federation
        .certify(checkpoint, &[(0, THREE), (1, THREE), (2, ALL)])
        .verify(&federation.sets)
        .unwrap();
}

#[test]
fn too_few_cells_a_missing_origin_or_a_cell_below_two_thirds_is_not_final() {
    let federation = federation();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let verify = |signers: &[(u32, &[usize])]| {
        federation
            .certify(checkpoint.clone(), signers)
            .verify(&federation.sets)
    };
    assert_eq!(
        verify(&[(0, ALL)]),
        Err(CheckpointError::TooFewCells { needed: 2, got: 1 })
    );
    assert_eq!(
        verify(&[(1, ALL), (2, ALL)]),
        Err(CheckpointError::OriginMissing(CellId(0)))
    );
    assert_eq!(
        verify(&[(0, ALL), (1, &[0, 1])]),
        Err(CheckpointError::BelowQuorum {
            cell: CellId(1),
            signed: 20,
            total: 40
        })
    );
}

/// With committees of one of the two other cells, only the cell drawn for a checkpoint co-signs
/// it: a certificate naming the other, or a signature from it, is refused whatever its quorum,
/// and the draw moves with the epoch.
#[test]
fn only_a_checkpoints_committee_co_signs_it() {
    let federation = federation_with_committee(1);
    let mut drawn_over_epochs = std::collections::BTreeSet::new();
    for epoch in 1..=8 {
        let checkpoint = federation.checkpoint(0, epoch, federation.unchanged(0));
        let [drawn] = federation.sets.committee(CellId(0), epoch)[..] else {
            panic!("a committee of one");
        };
        drawn_over_epochs.insert(drawn);
        let off = if drawn == CellId(1) { 2 } else { 1 };
        let not_on_committee = CheckpointError::NotOnCommittee {
            cell: CellId(off),
            origin: CellId(0),
            epoch,
        };
        let verify = |signers: &[(u32, &[usize])]| {
            (federation.certify(checkpoint.clone(), signers)).verify(&federation.sets)
        };
        verify(&[(0, ALL), (drawn.0, ALL)]).unwrap();
        assert_eq!(
            verify(&[(0, ALL), (off, ALL)]),
            Err(not_on_committee.clone())
        );
        assert_eq!(
            verify(&[(0, ALL), (1, ALL), (2, ALL)]),
            Err(not_on_committee.clone())
        );

        let mut collector = Collector::new(&federation.view).unwrap();
        let signer = federation.head(off).validators().0[0].passport;
        let signature = federation.keys[&CellId(off)][0].sign(&checkpoint.signing_bytes());
        let refused = collector
            .add_signature(&checkpoint, None, CellId(off), signer, signature)
            .unwrap_err();
        assert_eq!(refused, CollectError::Certificate(not_on_committee));
        assert!(refused.provably_invalid());
    }
    assert_eq!(
        drawn_over_epochs.len(),
        2,
        "both other cells sit on some committee"
    );
}

#[test]
fn a_federation_genesis_whose_committee_cannot_hold_k_minus_one_cells_is_refused() {
    let mut view = federation().view;
    view.k = 3;
    view.committee = 1;
    assert_eq!(
        KnownSets::new(&view).unwrap_err(),
        CheckpointError::InvalidRule {
            k: 3,
            committee: 1,
            cells: 3
        }
    );
    view.k = 4;
    view.committee = 3;
    assert!(
        KnownSets::new(&view).is_err(),
        "k above the number of cells"
    );
    view.k = 0;
    view.committee = 0;
    assert!(KnownSets::new(&view).is_err(), "k of zero");
}

#[test]
fn a_flipped_bitmap_bit_or_a_foreign_signature_is_rejected() {
    let federation = federation();
    let checkpoint = federation.checkpoint(1, 4, federation.unchanged(1));
    let certificate = federation.certify(checkpoint.clone(), &[(0, THREE), (1, THREE)]);

    // Claiming validator 2 of cell 0 signed, when it did not.
    let mut flipped = certificate.clone();
    flipped.signers[0].bitmap[0] ^= 1 << 2;
    assert_eq!(
        flipped.verify(&federation.sets),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );
    // A bit beyond the cell's validators.
    let mut beyond = certificate.clone();
    beyond.signers[1].bitmap[0] |= 1 << 6;
    assert!(matches!(
        beyond.verify(&federation.sets),
        Err(CheckpointError::BitmapSize { .. })
    ));

    // A key outside the federation signs in place of validator 3 of cell 1.
    let message = checkpoint.signing_bytes();
    let mut signatures: Vec<_> = [0, 1, 3]
        .iter()
        .map(|index| federation.keys[&CellId(0)][*index].sign(&message))
        .collect();
    signatures.extend(
        [0, 1]
            .iter()
            .map(|index| federation.keys[&CellId(1)][*index].sign(&message)),
    );
    signatures.push(bls_key(9, 9, 9).sign(&message));
    let mut foreign = certificate.clone();
    foreign.signature = aggregate(&signatures).unwrap();
    assert_eq!(
        foreign.verify(&federation.sets),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );

    // The same signers on another checkpoint prove nothing about this one.
    let mut other = certificate;
    other.checkpoint.state_root = StateRoot([8; 32]);
    assert_eq!(
        other.verify(&federation.sets),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );
}

#[test]
fn malformed_certificates_are_named_for_what_is_wrong() {
    let federation = federation();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let certificate = federation.certify(checkpoint, &[(0, ALL), (1, ALL)]);

    let mut foreign_federation = certificate.clone();
    foreign_federation.checkpoint.federation = FederationId([4; 32]);
    assert_eq!(
        foreign_federation.verify(&federation.sets),
        Err(CheckpointError::WrongFederation(FederationId([4; 32])))
    );
    let mut unknown = certificate.clone();
    unknown.signers[1].cell = CellId(9);
    assert_eq!(
        unknown.verify(&federation.sets),
        Err(CheckpointError::UnknownCell(CellId(9)))
    );
    let mut repeated = certificate.clone();
    repeated.signers[1].cell = CellId(0);
    assert_eq!(
        repeated.verify(&federation.sets),
        Err(CheckpointError::CellsOutOfOrder(CellId(0)))
    );
    let mut stale_set = certificate.clone();
    stale_set.checkpoint.validators = [0; 32];
    assert_eq!(
        stale_set.verify(&federation.sets),
        Err(CheckpointError::OtherValidatorSet(CellId(0)))
    );
    let mut origin_in_another_set = certificate.clone();
    origin_in_another_set.signers[0].validators = federation.head(1).hash();
    assert_eq!(
        origin_in_another_set.verify(&federation.sets),
        Err(CheckpointError::OtherValidatorSet(CellId(0)))
    );
    let mut unheld_set = certificate;
    unheld_set.signers[1].validators = [9; 32];
    assert_eq!(
        unheld_set.verify(&federation.sets),
        Err(CheckpointError::UnknownValidatorSet {
            cell: CellId(1),
            hash: [9; 32]
        })
    );
}

#[test]
fn a_cells_next_validators_are_learned_only_from_its_final_checkpoint() {
    let mut federation = federation();
    let (next, next_keys) = cell_set(2, 1);
    let certificate = federation.certify_handing_over(2, 1, next.clone(), &[(1, ALL), (2, ALL)]);
    federation.sets.advance(&certificate).unwrap();
    assert_eq!(federation.head(2).validators(), &next);

    // Epoch 2 of cell 2 is certified by its new validators; the old ones no longer count.
    let old_keys = std::mem::replace(federation.keys.get_mut(&CellId(2)).unwrap(), next_keys);
    let epoch_two = federation.checkpoint(2, 2, next);
    federation
        .certify(epoch_two.clone(), &[(0, ALL), (2, ALL)])
        .verify(&federation.sets)
        .unwrap();
    federation.keys.insert(CellId(2), old_keys);
    assert_eq!(
        federation
            .certify(epoch_two, &[(0, ALL), (2, ALL)])
            .verify(&federation.sets),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );
}

#[test]
fn the_collector_assembles_a_certificate_once_k_cells_reach_their_quorums() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let message = checkpoint.signing_bytes();
    let signer = |cell: u32, index: usize| {
        (
            CellId(cell),
            federation.view.cells[&CellId(cell)].0[index].passport,
            federation.keys[&CellId(cell)][index].sign(&message),
        )
    };
    let add = |collector: &mut Collector, (cell, passport, signature)| {
        collector.add_signature(&checkpoint, None, cell, passport, signature)
    };
    for index in 0..2 {
        assert_eq!(add(&mut collector, signer(0, index)), Ok(None));
    }
    assert!(
        !collector.origin_vouches(&checkpoint),
        "2 of 4 is no quorum"
    );
    assert_eq!(add(&mut collector, signer(0, 2)), Ok(None));
    assert!(collector.origin_vouches(&checkpoint));
    for index in 0..2 {
        assert_eq!(add(&mut collector, signer(1, index)), Ok(None));
    }
    let certificate = add(&mut collector, signer(1, 3)).unwrap().expect("final");
    certificate.verify(&federation.sets).unwrap();
    assert_eq!(
        collector.final_certificate(CellId(0), 1),
        Some(&certificate)
    );
    assert_eq!(add(&mut collector, signer(2, 0)), Ok(None), "already final");
    // What a node that missed it is sent when it asks.
    assert_eq!(collector.latest_final_epoch(CellId(0)), 1);
    assert_eq!(collector.latest_final_epoch(CellId(1)), 0);
    assert_eq!(collector.finals_in(CellId(0), 1..=5, 16), vec![certificate]);
    assert!(collector.finals_in(CellId(0), 2..=5, 16).is_empty());
    assert_eq!(collector.hole_below(CellId(0), 2), None);
    assert_eq!(collector.hole_below(CellId(0), 5), Some(2..=4));
    assert_eq!(collector.hole_below(CellId(1), 3), Some(1..=2));
    assert_eq!(collector.next_final_after(CellId(0), 0), Some(1));
    assert_eq!(collector.next_final_after(CellId(0), 1), None);

    // What is not a validator's valid signature is refused.
    let next = federation.checkpoint(0, 2, federation.unchanged(0));
    let (cell, passport, _) = signer(1, 2);
    let foreign = federation.keys[&CellId(2)][0].sign(&next.signing_bytes());
    assert!(matches!(
        collector.add_signature(&next, None, cell, passport, foreign),
        Err(CollectError::BadSignature(_))
    ));
    let genuine = federation.keys[&CellId(1)][0].sign(&next.signing_bytes());
    assert!(matches!(
        collector.add_signature(&next, None, CellId(1), PassportId([99; 32]), genuine),
        Err(CollectError::NotAValidator { .. })
    ));
}

impl Federation {
    /// The aggregate of the given validators of `cell` on `checkpoint`.
    fn aggregate(&self, checkpoint: &Checkpoint, cell: u32, indices: &[usize]) -> CellAggregate {
        let message = checkpoint.signing_bytes();
        let keys = &self.keys[&CellId(cell)];
        let signatures: Vec<_> = indices
            .iter()
            .map(|index| keys[*index].sign(&message))
            .collect();
        CellAggregate {
            checkpoint: checkpoint.clone(),
            next_set: None,
            signers: CellSigners::from_indices(
                CellId(cell),
                self.head(cell).validators(),
                indices.iter().copied(),
            ),
            signature: aggregate(&signatures).unwrap(),
        }
    }
}

/// A cell's validators' signatures, collected inside the cell, make its aggregate; the
/// checkpoint's own cell's aggregate vouches for it; with a committee cell's aggregate the
/// certificate is final, the same one a verifier accepts.
#[test]
fn cell_aggregates_vouch_for_a_checkpoint_and_make_its_certificate() {
    let federation = federation();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let message = checkpoint.signing_bytes();

    // Inside cell 1: its validators' signatures, collected, make its aggregate at a quorum.
    let mut inside = Collector::new(&federation.view).unwrap();
    for index in [0, 2, 3] {
        assert_eq!(
            inside.cell_aggregate(&checkpoint, CellId(1)),
            None,
            "no quorum yet"
        );
        let passport = federation.view.cells[&CellId(1)].0[index].passport;
        let signature = federation.keys[&CellId(1)][index].sign(&message);
        (inside.add_signature(&checkpoint, None, CellId(1), passport, signature)).unwrap();
    }
    let from_cell_1 = inside
        .cell_aggregate(&checkpoint, CellId(1))
        .expect("a quorum");
    assert_eq!(
        from_cell_1,
        federation.aggregate(&checkpoint, 1, &[0, 2, 3])
    );

    // Elsewhere: cell 0's aggregate vouches; cell 1's completes the certificate.
    let mut collector = Collector::new(&federation.view).unwrap();
    assert!(!collector.origin_vouches(&checkpoint));
    let from_cell_0 = federation.aggregate(&checkpoint, 0, &[0, 1, 2]);
    assert_eq!(collector.add_aggregate(&from_cell_0), Ok(None));
    assert!(collector.origin_vouches(&checkpoint));
    assert_eq!(collector.progress(CellId(0), 1), vec![(CellId(0), 30, 40)]);
    // The same aggregate again (an aggregator publishing it again) is taken unchecked and
    // passed on; another of cell 0's aggregators' own is not needed, so not checked, nor held
    // against its sender.
    assert_eq!(collector.add_aggregate(&from_cell_0), Ok(None));
    let mut forged_again = federation.aggregate(&checkpoint, 0, &[1, 2, 3]);
    forged_again.signature = from_cell_0.signature;
    let refused = collector.add_aggregate(&forged_again).unwrap_err();
    assert_eq!(refused, CollectError::AlreadyCollected(CellId(0)));
    assert!(!refused.provably_invalid());
    assert_eq!(collector.progress(CellId(0), 1), vec![(CellId(0), 30, 40)]);
    let certificate = (collector.add_aggregate(&from_cell_1))
        .unwrap()
        .expect("final");
    certificate.verify(&federation.sets).unwrap();
    assert_eq!(certificate.signers.len(), 2);
    assert_eq!(
        collector.add_aggregate(&from_cell_1),
        Ok(None),
        "already final"
    );
}

#[test]
fn a_forged_short_or_off_committee_aggregate_is_refused() {
    let federation = federation_with_committee(1);
    let epoch = 1;
    let checkpoint = federation.checkpoint(0, epoch, federation.unchanged(0));
    let [drawn] = federation.sets.committee(CellId(0), epoch)[..] else {
        panic!("a committee of one");
    };
    let off = if drawn == CellId(1) { 2 } else { 1 };
    let mut collector = Collector::new(&federation.view).unwrap();
    let refused = |collector: &mut Collector, aggregate: &CellAggregate| {
        let error = collector.add_aggregate(aggregate).unwrap_err();
        assert!(error.provably_invalid(), "{error}");
        error
    };

    let off_committee = federation.aggregate(&checkpoint, off, ALL);
    assert!(matches!(
        refused(&mut collector, &off_committee),
        CollectError::Certificate(CheckpointError::NotOnCommittee { .. })
    ));
    let short = federation.aggregate(&checkpoint, drawn.0, &[0, 1]);
    assert!(matches!(
        refused(&mut collector, &short),
        CollectError::Certificate(CheckpointError::BelowQuorum { .. })
    ));
    let mut forged = federation.aggregate(&checkpoint, drawn.0, &[0, 1, 2]);
    forged.signers = CellSigners::from_indices(drawn, federation.head(drawn.0).validators(), 1..4);
    assert!(matches!(
        refused(&mut collector, &forged),
        CollectError::Certificate(CheckpointError::Signature(_))
    ));
    let mut carrying = federation.aggregate(&checkpoint, 0, ALL);
    carrying.next_set = Some(federation.unchanged(0));
    assert!(matches!(
        refused(&mut collector, &carrying),
        CollectError::Certificate(CheckpointError::NextSetMismatch(_))
    ));
    assert!(
        !collector.origin_vouches(&checkpoint),
        "nothing refused was kept"
    );
}

#[test]
fn two_final_certificates_for_one_epoch_quarantine_the_cell_until_a_ruling_keeps_one() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    // Twins: cell 2's validators certify two different checkpoints for epoch 1.
    let first = federation.checkpoint(2, 1, federation.unchanged(2));
    let mut second = first.clone();
    second.state_root = StateRoot([66; 32]);
    let first = federation.certify(first, &[(1, ALL), (2, ALL)]);
    let second = federation.certify(second, &[(0, THREE), (2, ALL)]);
    assert_eq!(collector.add_certificate(&first), Ok(Added::Final));
    assert_eq!(collector.add_certificate(&first), Ok(Added::Known));
    assert_eq!(collector.add_certificate(&second), Ok(Added::Equivocation));
    assert_eq!(
        collector.add_certificate(&second),
        Ok(Added::Known),
        "the proof heard again proves nothing new"
    );
    assert!(collector.quarantined().contains(&CellId(2)));
    let proof = collector.equivocations().next().unwrap();
    assert_ne!(proof.first.checkpoint, proof.second.checkpoint);

    // The quarantined cell's further checkpoints are refused.
    let next = federation.checkpoint(2, 2, federation.unchanged(2));
    let signature = federation.keys[&CellId(2)][0].sign(&next.signing_bytes());
    let passport = federation.view.cells[&CellId(2)].0[0].passport;
    assert_eq!(
        collector.add_signature(&next, None, CellId(2), passport, signature),
        Err(CollectError::Quarantined(CellId(2)))
    );

    // A ruling that names neither checkpoint settles nothing.
    let ruled = collector.rule(CellId(2), 1, CheckpointId([7; 32]));
    assert_eq!(ruled, Ruled::default());
    assert!(collector.quarantined().contains(&CellId(2)));
    // A ruling that keeps the second makes it final and lifts the quarantine.
    let ruled = collector.rule(CellId(2), 1, second.checkpoint.id());
    assert_eq!(ruled.kept.as_ref(), Some(&second));
    assert!(ruled.dropped.is_empty());
    assert_eq!(collector.final_certificate(CellId(2), 1), Some(&second));
    assert!(collector.quarantined().is_empty());
    assert!(collector.unsettled().is_empty());
    // The first heard again is overruled.
    assert_eq!(collector.add_certificate(&first), Ok(Added::Overruled));
    assert!(collector.quarantined().is_empty());
    // And the cell's next checkpoints become final again.
    let next = federation.certify(next, &[(0, ALL), (2, ALL)]);
    assert_eq!(collector.add_certificate(&next), Ok(Added::Final));
}

#[test]
fn a_validator_never_signs_two_checkpoints_for_one_cell_and_epoch_across_restarts() {
    let federation = federation();
    let dir = tempfile::tempdir().unwrap();
    let path = checkpoint_signer::record_path(dir.path());
    let first = federation.checkpoint(1, 3, federation.unchanged(1));
    let mut other = first.clone();
    other.state_root = StateRoot([9; 32]);
    let signature = {
        let mut signer = CheckpointSigner::open(bls_key(0, 0, 0), &path).unwrap();
        signer.sign(&first).unwrap()
    };
    let mut signer = CheckpointSigner::open(bls_key(0, 0, 0), &path).unwrap();
    assert_eq!(
        signer.sign(&first).unwrap(),
        signature,
        "the same one again"
    );
    assert!(matches!(
        signer.sign(&other),
        Err(CheckpointSignerError::Conflicting { epoch: 3, .. })
    ));
    let next_epoch = federation.checkpoint(1, 4, federation.unchanged(1));
    signer.sign(&next_epoch).unwrap();
    // What an auditor reads back: one checkpoint per epoch, the ones signed.
    assert_eq!(
        checkpoint_signer::read_record(&path).unwrap(),
        BTreeMap::from([
            ((CellId(1), 3), first.id()),
            ((CellId(1), 4), next_epoch.id())
        ])
    );
}

#[test]
fn a_checkpoint_signer_record_that_is_not_cell_slash_epoch_is_an_error_not_an_empty_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = checkpoint_signer::record_path(dir.path());
    assert_eq!(
        checkpoint_signer::read_record(&path).unwrap(),
        BTreeMap::new()
    );
    for record in [
        r#"{"1-3": "00"}"#,
        r#"{"x/3": "00"}"#,
        r#"{"1/3": "zz"}"#,
        "[]",
    ] {
        std::fs::write(&path, record).unwrap();
        assert!(
            matches!(
                checkpoint_signer::read_record(&path),
                Err(CheckpointSignerError::State { .. })
            ),
            "{record}"
        );
    }
}

#[test]
fn signatures_collected_from_a_set_that_hands_over_to_a_smaller_one_are_dropped() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    // Validator 3 of cell 1 co-signs cell 0's checkpoint, which is not final yet.
    let pending = federation.checkpoint(0, 1, federation.unchanged(0));
    let member = &federation.view.cells[&CellId(1)].0[3];
    let signature = federation.keys[&CellId(1)][3].sign(&pending.signing_bytes());
    assert_eq!(
        collector.add_signature(&pending, None, CellId(1), member.passport, signature),
        Ok(None)
    );
    // Cell 1 hands over to a set of three.
    let smaller = CellValidators(federation.view.cells[&CellId(1)].0[..3].to_vec());
    let handover = federation.certify_handing_over(1, 1, smaller, &[(0, ALL), (1, ALL)]);
    assert_eq!(collector.add_certificate(&handover), Ok(Added::Final));
    // Position 3 named a member of the old set: it no longer counts, and nothing reads past
    // the new set.
    assert!(collector
        .progress(CellId(0), 1)
        .iter()
        .all(|(cell, _, _)| *cell != CellId(1)));
    assert!(!collector.origin_vouches(&pending));
}

#[test]
fn catch_up_ranges_from_the_network_cannot_panic() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let certificate = federation.certify(
        federation.checkpoint(0, 1, federation.unchanged(0)),
        &[(0, ALL), (1, ALL)],
    );
    collector.add_certificate(&certificate).unwrap();
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 5..=1;
    assert!(collector.finals_in(CellId(0), backwards, 16).is_empty());
    assert!(collector.finals_in(CellId(0), 0..=u64::MAX, 16).len() == 1);
    assert_eq!(collector.next_final_after(CellId(0), u64::MAX), None);
    assert!(collector
        .hand_overs_after(CellId(0), u64::MAX, 16)
        .is_empty());
    assert!(
        collector.hand_overs_after(CellId(0), 0, 16).is_empty(),
        "epoch 1 hands over nothing"
    );
    assert_eq!(collector.hole_below(CellId(0), 0), None);
    assert_eq!(
        collector.hole_below(CellId(0), u64::MAX),
        Some(2..=u64::MAX - 1)
    );
}

/// The defect that made verification depend on order: cell 1 hands over to new keys at its
/// epoch 1; cell 0's epoch-1 checkpoint was co-signed by cell 1's genesis set, cell 2's by its
/// new one. Each certificate names the set it was signed with, so every order in which a
/// verifier learns them accepts all three, and one naming a set not learned yet waits.
#[test]
fn certificates_verify_against_the_sets_they_name_in_whatever_order_they_are_learned() {
    let mut federation = federation();
    let (rotated, rotated_keys) = cell_set(1, 1);
    let handover = federation.certify_handing_over(1, 1, rotated.clone(), &[(1, ALL), (2, ALL)]);
    let by_old_set = federation.certify(
        federation.checkpoint(0, 1, federation.unchanged(0)),
        &[(0, ALL), (1, THREE)],
    );
    federation.sets.advance(&handover).unwrap();
    federation.keys.insert(CellId(1), rotated_keys);
    let by_new_set = federation.certify(
        federation.checkpoint(2, 1, federation.unchanged(2)),
        &[(1, ALL), (2, THREE)],
    );
    let certificates = [handover, by_old_set, by_new_set];
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let mut sets = KnownSets::new(&federation.view).unwrap();
        let mut waiting: Vec<&CheckpointCertificate> =
            order.iter().map(|index| &certificates[*index]).collect();
        while !waiting.is_empty() {
            let before = waiting.len();
            waiting.retain(|certificate| match sets.advance(certificate) {
                Ok(()) => false,
                Err(CheckpointError::UnknownValidatorSet { cell, .. }) => {
                    assert_eq!(cell, CellId(1), "only cell 1's new set can be unknown");
                    true
                }
                Err(error) => panic!("order {order:?}: {error}"),
            });
            assert!(waiting.len() < before, "order {order:?} made no progress");
        }
    }
}

/// A signer bitmap is summed from the set's aggregate key less the validators that did not
/// sign when most did, and from the signers' keys otherwise; both name exactly the signers.
#[test]
fn the_signers_key_is_exact_whether_most_or_few_of_the_set_signed() {
    let keys: Vec<BlsSecretKey> = (0..5).map(|index| bls_key(5, index, 0)).collect();
    let powers = [100, 1, 1, 1, 1];
    let set = CellValidators(
        (keys.iter().zip(powers))
            .enumerate()
            .map(|(index, (key, power))| FederationValidator {
                passport: PassportId([80 + index as u8; 32]),
                bls_key: key.public_key(),
                power,
            })
            .collect(),
    );
    let view = FederationView {
        federation: FEDERATION,
        k: 1,
        committee: 0,
        cells: BTreeMap::from([(CellId(5), set.clone())]),
    };
    let sets = KnownSets::new(&view).unwrap();
    let checkpoint = Checkpoint {
        federation: FEDERATION,
        cell: CellId(5),
        epoch: 1,
        height: 100,
        block: BlockHash([1; 32]),
        state_root: StateRoot([7; 32]),
        validators: set.hash(),
        next_validators: set.hash(),
    };
    let certify = |signers: &[usize], signing: &[usize]| {
        let message = checkpoint.signing_bytes();
        CheckpointCertificate {
            checkpoint: checkpoint.clone(),
            signers: vec![CellSigners::from_indices(
                CellId(5),
                &set,
                signers.iter().copied(),
            )],
            signature: aggregate(
                &signing
                    .iter()
                    .map(|i| keys[*i].sign(&message))
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
            next_set: None,
        }
    };
    for signers in [&[0][..], &[0, 2], &[0, 1, 2, 4], &[0, 1, 2, 3, 4]] {
        assert_eq!(
            certify(signers, signers).verify(&sets),
            Ok(()),
            "{signers:?}"
        );
        let mut one_short = signers.to_vec();
        one_short.pop();
        if !one_short.is_empty() {
            assert_eq!(
                certify(signers, &one_short).verify(&sets),
                Err(CheckpointError::Signature(BlsError::BadSignature)),
                "{signers:?} claimed, {one_short:?} signed"
            );
        }
    }
    assert_eq!(
        certify(&[1, 2, 3, 4], &[1, 2, 3, 4]).verify(&sets),
        Err(CheckpointError::BelowQuorum {
            cell: CellId(5),
            signed: 4,
            total: 104
        })
    );
}

/// A second certificate for a final epoch proves equivocation only if the cell's signers are
/// the set that certified that epoch: an old set cannot incriminate the cell.
#[test]
fn a_second_certificate_by_another_set_of_the_cell_proves_no_equivocation() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let (rotated, rotated_keys) = cell_set(2, 1);
    let handover = federation.certify_handing_over(2, 1, rotated, &[(1, ALL), (2, ALL)]);
    assert_eq!(collector.add_certificate(&handover), Ok(Added::Final));
    let mut rotated_federation = federation;
    rotated_federation.sets.advance(&handover).unwrap();
    rotated_federation.keys.insert(CellId(2), rotated_keys);
    // The new set signs a different checkpoint for epoch 1, which its genesis set certified.
    let mut forged = handover.checkpoint.clone();
    forged.validators = rotated_federation.head(2).hash();
    forged.state_root = StateRoot([66; 32]);
    let forged = rotated_federation.certify(forged, &[(1, ALL), (2, ALL)]);
    assert_eq!(
        collector.add_certificate(&forged),
        Err(CollectError::Certificate(
            CheckpointError::OtherValidatorSet(CellId(2))
        ))
    );
    assert!(collector.quarantined().is_empty());
}

/// Keys are validated once, when a set is learned: a genesis or a hand-over naming a key that
/// fails KeyValidate is refused then, and the cell keeps the set it had.
#[test]
fn a_set_with_a_key_that_fails_key_validate_is_refused_when_learned() {
    let mut federation = federation();
    let mut broken = federation.unchanged(1);
    broken.0[2].bls_key = BlsPublicKey([0x11; 48]);
    let invalid = Err(CheckpointError::InvalidKey {
        cell: CellId(1),
        error: BlsError::MalformedPublicKey,
    });
    let mut genesis = federation.view.clone();
    genesis.cells.insert(CellId(1), broken.clone());
    assert_eq!(KnownSets::new(&genesis).map(|_| ()), invalid);
    assert!(Collector::new(&genesis).is_err());

    let handover = federation.certify_handing_over(1, 1, broken, &[(0, ALL), (1, ALL)]);
    let before = federation.head(1).hash();
    assert_eq!(federation.sets.advance(&handover), invalid);
    assert_eq!(federation.head(1).hash(), before);
}

/// A set with no member, or no power, could never certify anything: it is refused in a genesis
/// and as a hand-over, which would otherwise stop the cell's finality for good.
#[test]
fn a_set_without_members_or_power_is_refused_when_learned() {
    let mut federation = federation();
    let mut powerless = federation.unchanged(1);
    for member in &mut powerless.0 {
        member.power = 0;
    }
    for set in [CellValidators(Vec::new()), powerless] {
        let mut genesis = federation.view.clone();
        genesis.cells.insert(CellId(1), set.clone());
        let refused = Err(CheckpointError::PowerlessSet(CellId(1)));
        assert_eq!(KnownSets::new(&genesis).map(|_| ()), refused);

        let handover = federation.certify_handing_over(1, 1, set, &[(0, ALL), (1, ALL)]);
        let before = federation.head(1).hash();
        assert_eq!(federation.sets.advance(&handover), refused);
        assert_eq!(federation.head(1).hash(), before);
    }
}

/// Only refusals no honest node could have earned penalize the sender on the mesh: one that
/// depends on what this node has learned (a set it lacks, a validator that joined since, a
/// quarantine) does not.
#[test]
fn only_refusals_whatever_the_view_prove_the_sender_dishonest() {
    let set = CellId(1);
    for provable in [
        CollectError::WrongFederation,
        CollectError::UnknownCell(set),
        CollectError::BadSignature(BlsError::BadSignature),
        CollectError::Certificate(CheckpointError::Signature(BlsError::BadSignature)),
        CollectError::Certificate(CheckpointError::BelowQuorum {
            cell: set,
            signed: 1,
            total: 4,
        }),
        CollectError::Certificate(CheckpointError::CellsOutOfOrder(set)),
    ] {
        assert!(provable.provably_invalid(), "{provable}");
    }
    for depends_on_the_view in [
        CollectError::NotAValidator {
            cell: set,
            signer: PassportId([1; 32]),
        },
        CollectError::OtherValidatorSet(set),
        CollectError::Quarantined(set),
        CollectError::Certificate(CheckpointError::UnknownValidatorSet {
            cell: set,
            hash: [2; 32],
        }),
        CollectError::Certificate(CheckpointError::OtherValidatorSet(set)),
    ] {
        assert!(
            !depends_on_the_view.provably_invalid(),
            "{depends_on_the_view}"
        );
    }
}

#[test]
fn every_refusal_reason_is_listed_for_the_metrics() {
    let cell = CellId(1);
    let checkpoint_errors = [
        CheckpointError::WrongFederation(FederationId([1; 32])),
        CheckpointError::UnknownCell(cell),
        CheckpointError::CellsOutOfOrder(cell),
        CheckpointError::BitmapSize {
            cell,
            validators: 4,
            got: 1,
        },
        CheckpointError::BelowQuorum {
            cell,
            signed: 1,
            total: 4,
        },
        CheckpointError::TooFewCells { needed: 2, got: 1 },
        CheckpointError::OriginMissing(cell),
        CheckpointError::NotOnCommittee {
            cell,
            origin: CellId(0),
            epoch: 1,
        },
        CheckpointError::CommitteesMixed {
            origin: CellId(0),
            epoch: 1,
        },
        CheckpointError::InvalidRule {
            k: 0,
            committee: 0,
            cells: 1,
        },
        CheckpointError::OtherValidatorSet(cell),
        CheckpointError::UnknownValidatorSet {
            cell,
            hash: [0; 32],
        },
        CheckpointError::InvalidKey {
            cell,
            error: BlsError::IdentityPublicKey,
        },
        CheckpointError::PowerlessSet(cell),
        CheckpointError::NextSetMissing(cell),
        CheckpointError::NextSetMismatch(cell),
        CheckpointError::Signature(BlsError::BadSignature),
    ];
    let reasons: Vec<&str> = checkpoint_errors
        .iter()
        .map(|error| error.reason())
        .collect();
    assert_eq!(reasons, CheckpointError::REASONS);
    let collect_errors = [
        CollectError::WrongFederation,
        CollectError::UnknownCell(cell),
        CollectError::NotAValidator {
            cell,
            signer: PassportId([2; 32]),
        },
        CollectError::OtherValidatorSet(cell),
        CollectError::BadSignature(BlsError::BadSignature),
        CollectError::Quarantined(cell),
        CollectError::ForeignSignature(cell),
        CollectError::AlreadyCollected(cell),
        CollectError::NotFollowed(cell),
    ];
    let listed = CollectError::reasons();
    let certificate_errors = checkpoint_errors.into_iter().map(CollectError::Certificate);
    for error in collect_errors.into_iter().chain(certificate_errors) {
        assert!(
            listed.contains(error.reason()),
            "{} is not listed",
            error.reason()
        );
    }
}

/// A checkpoint names the set it hands over by its hash; the set travels with the certificate
/// exactly when it is a new one, and must be that set.
#[test]
fn a_new_set_travels_with_its_certificate_and_only_then() {
    let federation = federation();
    let (next, _) = cell_set(2, 1);
    let carried = federation.certify_handing_over(2, 1, next, &[(1, ALL), (2, ALL)]);
    carried.verify(&federation.sets).unwrap();
    let missing = CheckpointCertificate {
        next_set: None,
        ..carried.clone()
    };
    let other = CheckpointCertificate {
        next_set: Some(federation.unchanged(2)),
        ..carried
    };
    let unchanged =
        federation.certify_handing_over(2, 1, federation.unchanged(2), &[(1, ALL), (2, ALL)]);
    assert_eq!(unchanged.next_set, None, "an unchanged set does not travel");
    unchanged.verify(&federation.sets).unwrap();
    let superfluous = CheckpointCertificate {
        next_set: Some(federation.unchanged(2)),
        ..unchanged
    };
    for (refused, expected) in [
        (missing, CheckpointError::NextSetMissing(CellId(2))),
        (other, CheckpointError::NextSetMismatch(CellId(2))),
        (superfluous, CheckpointError::NextSetMismatch(CellId(2))),
    ] {
        assert_eq!(refused.verify(&federation.sets), Err(expected.clone()));
        assert!(expected.provably_invalid());
    }
}

/// Co-signers send no set; the collector assembles a hand-over's certificate once a signature
/// of the checkpoint's own cell brought the new set, and refuses a signature bringing another.
#[test]
fn the_collector_assembles_a_hand_over_only_once_the_new_set_is_here() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let (next, _) = cell_set(0, 1);
    let checkpoint = federation.checkpoint(0, 1, next.clone());
    let message = checkpoint.signing_bytes();
    let mut add = |cell: u32, index: usize, next_set: Option<&CellValidators>| {
        let passport = federation.view.cells[&CellId(cell)].0[index].passport;
        let signature = federation.keys[&CellId(cell)][index].sign(&message);
        collector.add_signature(&checkpoint, next_set, CellId(cell), passport, signature)
    };
    for index in 0..3 {
        assert_eq!(add(0, index, None), Ok(None));
    }
    for index in 0..4 {
        assert_eq!(add(1, index, None), Ok(None), "quorums, but no set yet");
    }
    assert_eq!(
        add(0, 3, Some(&federation.unchanged(0))),
        Err(CollectError::Certificate(CheckpointError::NextSetMismatch(
            CellId(0)
        )))
    );
    let certificate = add(0, 3, Some(&next)).unwrap().expect("final");
    assert_eq!(certificate.next_set.as_ref(), Some(&next));
    assert_eq!(
        collector.sets().head(CellId(0)).map(ValidatedSet::hash),
        Some(next.hash())
    );
}

/// Certificates heard together have their signatures verified in one batch; adding them then
/// skips what passed. A forged aggregate among them fails the batch, is found one by one, and
/// is refused when added, while the others are final.
#[test]
fn certificates_verified_in_a_batch_are_final_and_a_forged_one_among_them_is_refused() {
    use rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(15);
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let certify = |cell: u32, epoch: u64, signers: &[(u32, &[usize])]| {
        federation.certify(
            federation.checkpoint(cell, epoch, federation.unchanged(cell)),
            signers,
        )
    };
    let first = certify(0, 1, &[(0, ALL), (1, ALL)]);
    let second = certify(0, 2, &[(0, THREE), (2, ALL)]);
    let other_cell = certify(1, 1, &[(1, ALL), (2, THREE)]);
    let mut forged = certify(2, 1, &[(0, ALL), (2, ALL)]);
    forged.signature = first.signature;
    let batch = [&second, &forged, &first, &other_cell];
    let batched = collector.pre_verify(&batch, &[], &mut rng);
    assert_eq!(batched.certificates, 3);
    assert_eq!(
        collector.add_certificate(&forged),
        Err(CollectError::Certificate(CheckpointError::Signature(
            BlsError::BadSignature
        )))
    );
    for certificate in [&first, &second, &other_cell] {
        assert_eq!(collector.add_certificate(certificate), Ok(Added::Final));
    }
    assert_eq!(
        collector.pre_verify(&batch, &[], &mut rng),
        Batched::default(),
        "what is final here is not verified again"
    );
}

/// Validators' signatures heard together are verified in one batch (one Miller loop per
/// checkpoint); collecting them then skips what passed. A forged one among them fails the
/// batch, is found one by one and refused; the others are collected.
#[test]
fn signatures_verified_in_a_batch_are_collected_and_a_forged_one_among_them_is_refused() {
    use rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(16);
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let checkpoint = federation.checkpoint(1, 1, federation.unchanged(1));
    let message = checkpoint.signing_bytes();
    let signers: Vec<(PassportId, BlsSignature)> = (0..4)
        .map(|index| {
            let passport = federation.view.cells[&CellId(1)].0[index].passport;
            (passport, federation.keys[&CellId(1)][index].sign(&message))
        })
        .collect();
    let mut signatures: Vec<BlsSignature> =
        signers.iter().map(|(_, signature)| *signature).collect();
    signatures[2] = signatures[3];
    let heard: Vec<HeardSignature> = (signers.iter().zip(&signatures))
        .map(|((signer, _), signature)| HeardSignature {
            checkpoint: &checkpoint,
            cell: CellId(1),
            signer: *signer,
            signature,
        })
        .collect();
    let batched = collector.pre_verify(&[], &heard, &mut rng);
    assert_eq!(batched.signatures, 3, "the forged one failed");
    for (index, (signer, _)) in signers.iter().enumerate() {
        let added =
            collector.add_signature(&checkpoint, None, CellId(1), *signer, signatures[index]);
        match index {
            2 => assert_eq!(
                added,
                Err(CollectError::BadSignature(BlsError::BadSignature))
            ),
            _ => assert_eq!(added, Ok(None)),
        }
    }
    assert!(
        collector.origin_vouches(&checkpoint),
        "the three genuine ones hold a quorum"
    );
}

/// A hand-over's aggregate stripped of the set it hands over, taken first, does not stop the
/// genuine one, which brings the set, from being checked and taken: the certificate needs it.
#[test]
fn an_aggregate_that_brings_the_missing_handed_over_set_is_taken_after_a_stripped_one() {
    let federation = federation();
    let mut next = federation.unchanged(0);
    next.0[0].power += 1;
    let hand_over = federation.checkpoint(0, 1, next.clone());
    let stripped = federation.aggregate(&hand_over, 0, &[0, 1, 2]);
    let mut genuine = stripped.clone();
    genuine.next_set = Some(next.clone());
    let mut collector = Collector::new(&federation.view).unwrap();
    assert_eq!(collector.add_aggregate(&stripped), Ok(None));
    let committee = federation.aggregate(&hand_over, 1, ALL);
    assert_eq!(
        collector.add_aggregate(&committee),
        Ok(None),
        "without the new set, no certificate"
    );
    let mut wrong = genuine.clone();
    wrong.next_set = Some(federation.unchanged(1));
    assert!(matches!(
        collector.add_aggregate(&wrong),
        Err(CollectError::Certificate(CheckpointError::NextSetMismatch(
            _
        )))
    ));
    let certificate = (collector.add_aggregate(&genuine))
        .unwrap()
        .expect("the set was what it lacked");
    assert_eq!(certificate.next_set, Some(next));
}

/// Checkpoints that never become final here (another cell's, co-signed but not followed) are
/// dropped from the collected ones oldest made first, whatever their epochs: a cell whose epoch
/// numbers are low keeps collecting its newest checkpoint.
#[test]
fn a_full_collector_drops_the_checkpoint_collected_longest_ago() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let sign = |collector: &mut Collector, cell: u32, epoch: u64| {
        let checkpoint = federation.checkpoint(cell, epoch, federation.unchanged(cell));
        let signature = federation.keys[&CellId(cell)][0].sign(&checkpoint.signing_bytes());
        let passport = federation.view.cells[&CellId(cell)].0[0].passport;
        (collector.add_signature(&checkpoint, None, CellId(cell), passport, signature)).unwrap();
    };
    sign(&mut collector, 1, 1_000);
    for epoch in 1_001..1_256 {
        sign(&mut collector, 1, epoch);
    }
    sign(&mut collector, 0, 1);
    sign(&mut collector, 1, 1_256);
    assert_eq!(collector.progress(CellId(0), 1), vec![(CellId(0), 10, 40)]);
    for dropped in [1_000, 1_001] {
        assert_eq!(collector.progress(CellId(1), dropped), vec![], "made first");
    }
    assert_eq!(collector.progress(CellId(1), 1_002).len(), 1);
}

#[test]
fn a_validators_signature_is_told_from_other_messages_by_its_first_byte() {
    use charter_federation::collector::FederationMessage;
    let federation = federation();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let key = &federation.keys[&CellId(0)][0];
    let signature = FederationMessage::Signature {
        checkpoint: checkpoint.clone(),
        next_set: None,
        cell: CellId(0),
        signer: PassportId([0; 32]),
        signature: key.sign(&checkpoint.signing_bytes()),
    };
    let others = [
        FederationMessage::Missing {
            cell: CellId(0),
            from_epoch: 0,
            to_epoch: 0,
        },
        FederationMessage::Certificates(Vec::new()),
        FederationMessage::MissingHandOvers {
            cell: CellId(0),
            after_epoch: 0,
        },
    ];
    let encoded = |message: &FederationMessage| borsh::to_vec(message).expect("encodes");
    assert!(FederationMessage::is_signature(&encoded(&signature)));
    for other in &others {
        assert!(
            !FederationMessage::is_signature(&encoded(other)),
            "{other:?}"
        );
    }
    assert!(!FederationMessage::is_signature(&[]));
}

#[test]
fn our_own_signature_is_collected_when_the_set_holds_our_key_and_refused_otherwise() {
    let federation = federation();
    let mut collector = Collector::new(&federation.view).unwrap();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let keys = &federation.keys[&CellId(0)];
    let passport = |index: usize| federation.view.cells[&CellId(0)].0[index].passport;
    let ours = keys[0].sign(&checkpoint.signing_bytes());
    let own = |collector: &mut Collector, index: usize, key: &BlsSecretKey| {
        let signed = (CellId(0), passport(index), ours);
        collector.add_own_signature(&checkpoint, None, signed, &key.public_key())
    };
    assert_eq!(
        own(&mut collector, 1, &keys[0]),
        Err(CollectError::BadSignature(BlsError::BadSignature)),
        "our key is not the one the set holds for validator 1"
    );
    assert_eq!(own(&mut collector, 0, &keys[0]), Ok(None));
    let mut checked = Collector::new(&federation.view).unwrap();
    assert_eq!(
        checked.add_signature(&checkpoint, None, CellId(0), passport(0), ours),
        Ok(None)
    );
    for (index, key) in keys.iter().enumerate().take(3).skip(1) {
        let signature = key.sign(&checkpoint.signing_bytes());
        for collector in [&mut collector, &mut checked] {
            let added =
                collector.add_signature(&checkpoint, None, CellId(0), passport(index), signature);
            assert_eq!(added, Ok(None));
        }
    }
    assert_eq!(
        collector.cell_aggregate(&checkpoint, CellId(0)),
        checked.cell_aggregate(&checkpoint, CellId(0)),
        "our own signature counts as one checked"
    );
    assert!(collector.origin_vouches(&checkpoint));
}

#[test]
fn a_hand_over_is_final_with_any_one_of_its_four_committees_but_not_with_a_mix() {
    let federation = federation_with_committee(1);
    let committee = |epoch: u64| federation.sets.committee(CellId(0), epoch);
    let epoch = (1..64)
        .find(|epoch| {
            committee(*epoch) == [CellId(1)]
                && (1..4).any(|later| committee(epoch + later) == [CellId(2)])
        })
        .expect("some epoch's later committees draw the other cell");
    let (next, _) = cell_set(0, 1);
    let hand_over = |signers: &[(u32, &[usize])]| {
        federation.certify_handing_over(0, epoch, next.clone(), signers)
    };
    hand_over(&[(0, ALL), (1, ALL)])
        .verify(&federation.sets)
        .unwrap();
    hand_over(&[(0, ALL), (2, ALL)])
        .verify(&federation.sets)
        .unwrap();
    assert_eq!(
        hand_over(&[(0, ALL), (1, ALL), (2, ALL)]).verify(&federation.sets),
        Err(CheckpointError::CommitteesMixed {
            origin: CellId(0),
            epoch
        })
    );
    let unchanged = federation.checkpoint(0, epoch, federation.unchanged(0));
    assert_eq!(
        federation
            .certify(unchanged, &[(0, ALL), (2, ALL)])
            .verify(&federation.sets),
        Err(CheckpointError::NotOnCommittee {
            cell: CellId(2),
            origin: CellId(0),
            epoch
        }),
        "a checkpoint that hands nothing over has one committee"
    );

    let mut collector = Collector::new(&federation.view).unwrap();
    let checkpoint = federation.checkpoint(0, epoch, next.clone());
    let message = checkpoint.signing_bytes();
    let mut certificate = None;
    for (cell, index) in [(0, 0), (0, 1), (0, 2), (2, 0), (2, 1), (2, 2)] {
        let signer = federation.head(cell).validators().0[index].passport;
        let signature = federation.keys[&CellId(cell)][index].sign(&message);
        let next_set = (cell == 0).then_some(&next);
        let added = collector.add_signature(&checkpoint, next_set, CellId(cell), signer, signature);
        certificate = added.unwrap().or(certificate);
    }
    let certificate = certificate.expect("final with a later committee's cell");
    let cells: Vec<CellId> = certificate
        .signers
        .iter()
        .map(|signers| signers.cell)
        .collect();
    assert_eq!(cells, [CellId(0), CellId(2)]);
}
