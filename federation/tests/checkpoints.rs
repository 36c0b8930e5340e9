//! Quorum-of-quorums certificates: three cells of four validators with real BLS keys, k = 2.
//! A certificate is final only with more than 2/3 of the power of each listed cell, at least k
//! cells, the checkpoint's own among them, and an aggregate signature of exactly the listed
//! signers; the next epoch's set comes only from a final checkpoint.

use charter_federation::checkpoint::{
    CellSigners, CellValidators, Checkpoint, CheckpointCertificate, CheckpointError,
    FederationValidator, FederationView,
};
use charter_federation::checkpoint_signer::{self, CheckpointSigner, CheckpointSignerError};
use charter_federation::collector::{Added, CollectError, Collector, Ruled};
use charter_ledger::crypto::bls::{aggregate, BlsError, BlsSecretKey};
use charter_ledger::BlockHash;
use charter_ledger::{CellId, CheckpointId, FederationId, PassportId, StateRoot};
use std::collections::BTreeMap;

const FEDERATION: FederationId = FederationId([3; 32]);

struct Federation {
    view: FederationView,
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
    let mut cells = BTreeMap::new();
    let mut keys = BTreeMap::new();
    for cell in 0..3 {
        let (set, secret) = cell_set(cell, 0);
        cells.insert(CellId(cell), set);
        keys.insert(CellId(cell), secret);
    }
    Federation {
        view: FederationView {
            federation: FEDERATION,
            k: 2,
            cells,
        },
        keys,
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
            validators: self.view.cells[&CellId(cell)].hash(),
            next_validators: next,
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
                keys.len(),
                indices.iter().copied(),
            ));
        }
        CheckpointCertificate {
            checkpoint,
            signers: bitmaps,
            signature: aggregate(&signatures).unwrap(),
        }
    }

    fn unchanged(&self, cell: u32) -> CellValidators {
        self.view.cells[&CellId(cell)].clone()
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
        .verify(&federation.view)
        .unwrap();
    federation
        .certify(checkpoint, &[(0, THREE), (1, THREE), (2, ALL)])
        .verify(&federation.view)
        .unwrap();
}

#[test]
fn too_few_cells_a_missing_origin_or_a_cell_below_two_thirds_is_not_final() {
    let federation = federation();
    let checkpoint = federation.checkpoint(0, 1, federation.unchanged(0));
    let verify = |signers: &[(u32, &[usize])]| {
        federation
            .certify(checkpoint.clone(), signers)
            .verify(&federation.view)
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

#[test]
fn a_flipped_bitmap_bit_or_a_foreign_signature_is_rejected() {
    let federation = federation();
    let checkpoint = federation.checkpoint(1, 4, federation.unchanged(1));
    let certificate = federation.certify(checkpoint.clone(), &[(0, THREE), (1, THREE)]);

    // Claiming validator 2 of cell 0 signed, when it did not.
    let mut flipped = certificate.clone();
    flipped.signers[0].bitmap[0] ^= 1 << 2;
    assert_eq!(
        flipped.verify(&federation.view),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );
    // A bit beyond the cell's validators.
    let mut beyond = certificate.clone();
    beyond.signers[1].bitmap[0] |= 1 << 6;
    assert!(matches!(
        beyond.verify(&federation.view),
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
        foreign.verify(&federation.view),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );

    // The same signers on another checkpoint prove nothing about this one.
    let mut other = certificate;
    other.checkpoint.state_root = StateRoot([8; 32]);
    assert_eq!(
        other.verify(&federation.view),
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
        foreign_federation.verify(&federation.view),
        Err(CheckpointError::WrongFederation(FederationId([4; 32])))
    );
    let mut unknown = certificate.clone();
    unknown.signers[1].cell = CellId(9);
    assert_eq!(
        unknown.verify(&federation.view),
        Err(CheckpointError::UnknownCell(CellId(9)))
    );
    let mut repeated = certificate.clone();
    repeated.signers[1].cell = CellId(0);
    assert_eq!(
        repeated.verify(&federation.view),
        Err(CheckpointError::CellsOutOfOrder(CellId(0)))
    );
    let mut stale_set = certificate;
    stale_set.checkpoint.validators = [0; 32];
    assert_eq!(
        stale_set.verify(&federation.view),
        Err(CheckpointError::OtherValidatorSet(CellId(0)))
    );
}

#[test]
fn a_cells_next_validators_are_learned_only_from_its_final_checkpoint() {
    let mut federation = federation();
    let (next, next_keys) = cell_set(2, 1);
    let handover = federation.checkpoint(2, 1, next.clone());
    let certificate = federation.certify(handover, &[(1, ALL), (2, ALL)]);
    federation.view.advance(&certificate).unwrap();
    assert_eq!(federation.view.cells[&CellId(2)], next);

    // Epoch 2 of cell 2 is certified by its new validators; the old ones no longer count.
    let old_keys = std::mem::replace(federation.keys.get_mut(&CellId(2)).unwrap(), next_keys);
    let epoch_two = federation.checkpoint(2, 2, next);
    federation
        .certify(epoch_two.clone(), &[(0, ALL), (2, ALL)])
        .verify(&federation.view)
        .unwrap();
    federation.keys.insert(CellId(2), old_keys);
    assert_eq!(
        federation
            .certify(epoch_two, &[(0, ALL), (2, ALL)])
            .verify(&federation.view),
        Err(CheckpointError::Signature(BlsError::BadSignature))
    );
}

#[test]
fn the_collector_assembles_a_certificate_once_k_cells_reach_their_quorums() {
    let federation = federation();
    let mut collector = Collector::new(federation.view.clone());
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
        collector.add_signature(&checkpoint, cell, passport, signature)
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
    certificate.verify(&federation.view).unwrap();
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
        collector.add_signature(&next, cell, passport, foreign),
        Err(CollectError::BadSignature(_))
    ));
    let genuine = federation.keys[&CellId(1)][0].sign(&next.signing_bytes());
    assert!(matches!(
        collector.add_signature(&next, CellId(1), PassportId([99; 32]), genuine),
        Err(CollectError::NotAValidator { .. })
    ));
}

#[test]
fn two_final_certificates_for_one_epoch_quarantine_the_cell_until_a_ruling_keeps_one() {
    let federation = federation();
    let mut collector = Collector::new(federation.view.clone());
    // Twins: cell 2's validators certify two different checkpoints for epoch 1.
    let first = federation.checkpoint(2, 1, federation.unchanged(2));
    let mut second = first.clone();
    second.state_root = StateRoot([66; 32]);
    let first = federation.certify(first, &[(1, ALL), (2, ALL)]);
    let second = federation.certify(second, &[(0, THREE), (2, ALL)]);
    assert_eq!(collector.add_certificate(&first), Ok(Added::Final));
    assert_eq!(collector.add_certificate(&first), Ok(Added::Known));
    assert_eq!(collector.add_certificate(&second), Ok(Added::Equivocation));
    assert!(collector.quarantined().contains(&CellId(2)));
    let proof = collector.equivocations().next().unwrap();
    assert_ne!(proof.first.checkpoint, proof.second.checkpoint);

    // The quarantined cell's further checkpoints are refused.
    let next = federation.checkpoint(2, 2, federation.unchanged(2));
    let signature = federation.keys[&CellId(2)][0].sign(&next.signing_bytes());
    let passport = federation.view.cells[&CellId(2)].0[0].passport;
    assert_eq!(
        collector.add_signature(&next, CellId(2), passport, signature),
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
    let mut collector = Collector::new(federation.view.clone());
    // Validator 3 of cell 1 co-signs cell 0's checkpoint, which is not final yet.
    let pending = federation.checkpoint(0, 1, federation.unchanged(0));
    let member = &federation.view.cells[&CellId(1)].0[3];
    let signature = federation.keys[&CellId(1)][3].sign(&pending.signing_bytes());
    assert_eq!(
        collector.add_signature(&pending, CellId(1), member.passport, signature),
        Ok(None)
    );
    // Cell 1 hands over to a set of three.
    let smaller = CellValidators(federation.view.cells[&CellId(1)].0[..3].to_vec());
    let handover = federation.certify(federation.checkpoint(1, 1, smaller), &[(0, ALL), (1, ALL)]);
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
    let mut collector = Collector::new(federation.view.clone());
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
    assert_eq!(collector.hole_below(CellId(0), 0), None);
    assert_eq!(
        collector.hole_below(CellId(0), u64::MAX),
        Some(2..=u64::MAX - 1)
    );
}
