//! Two validators' apps on real disk: one proposes, the other judges by re-executing, both
//! commit with a certificate, a block and its state are written together and reopen together,
//! and a store whose ledger and blocks disagree is refused.

use charter_consensus::app::{AppError, CellApp, InvalidBlock};
use charter_consensus::block::{Block, BlockHash, BlockHeight};
use charter_consensus::block_store::UndecidedBlock;
use charter_consensus::certificate::BlockCertificate;
use charter_consensus::context::CellContext;
use charter_consensus::inclusion::{InclusionError, InclusionProof};
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::{Action, Ledger, SignedTransaction, StateRoot};
use charter_store::columns::DECIDED;
use charter_store::NodeStore;
use std::path::Path;

fn dev_cell() -> DevCell {
    DevCell::new(51, DevCellConfig::default())
}

fn context(cell: &DevCell) -> CellContext {
    CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    }
}

fn open(cell: &DevCell, dir: &Path) -> CellApp {
    let store = NodeStore::open(dir).unwrap();
    let mut ledger = Ledger::open(store.state()).unwrap();
    if ledger.height().is_none() {
        ledger.init_genesis(&cell.genesis).unwrap();
    }
    CellApp::open(context(cell), store, reveal_key(cell)).unwrap()
}

/// The tests propose as validator 0.
fn reveal_key(cell: &DevCell) -> BlsSecretKey {
    cell.validator(0).bls_key.clone().unwrap()
}

/// Precommits of validators `signers` for `block`.
fn certify(cell: &DevCell, block: &Block, signers: &[usize]) -> BlockCertificate {
    let keys = signers.iter().map(|index| {
        let validator = cell.validator(*index);
        (validator.id, validator.consensus_key.as_ref().unwrap())
    });
    BlockCertificate::sign(&context(cell), block.header.height, 0, block.hash(), keys)
}

fn transfers(cell: &DevCell, nonce: u64) -> Vec<SignedTransaction> {
    let good = cell.transaction(
        cell.member(0),
        nonce,
        Action::Transfer {
            to: cell.member(1).id,
            amount: 10,
        },
    );
    let overdraw = cell.transaction(
        cell.member(2),
        0,
        Action::Transfer {
            to: cell.member(1).id,
            amount: u64::MAX,
        },
    );
    vec![good, overdraw]
}

#[test]
fn a_block_proposed_by_one_validator_is_judged_and_committed_by_another() {
    let cell = dev_cell();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, mut b) = (open(&cell, a_dir.path()), open(&cell, b_dir.path()));
    let proposer = cell.validator(0).id;
    for height in 1..=3u64 {
        let block = a.propose(proposer, &transfers(&cell, height - 1)).unwrap();
        assert_eq!(block.header.height, BlockHeight(height));
        assert_eq!(
            block.transactions.len(),
            1,
            "the proposer leaves out what would be rejected"
        );
        assert_eq!(b.validate(&block).unwrap(), Ok(()));
        let certificate = certify(&cell, &block, &[0, 1, 2]);
        a.commit(block.clone(), certificate.clone()).unwrap();
        b.commit(block, certificate).unwrap();
    }
    assert_eq!(
        a.ledger().state_root(3).unwrap(),
        b.ledger().state_root(3).unwrap()
    );
    let decided = b.blocks().decided(BlockHeight(3)).unwrap().unwrap();
    assert_eq!(
        decided.block.header.state_root,
        b.ledger().state_root(3).unwrap()
    );
    assert_eq!(
        decided.block.header.parent,
        b.blocks()
            .decided(BlockHeight(2))
            .unwrap()
            .unwrap()
            .block
            .hash()
    );

    drop(b);
    let reopened = open(&cell, b_dir.path());
    assert_eq!(reopened.next_height(), BlockHeight(4));
}

/// Each height's proposals (one per round it was proposed in) are kept until its block is
/// committed and dropped with it, while the next height's are kept.
#[test]
fn a_heights_proposals_leave_the_store_with_its_block() {
    let cell = dev_cell();
    let dir = tempfile::tempdir().unwrap();
    let mut app = open(&cell, dir.path());
    let proposer = cell.validator(0).id;
    for height in 1..=3u64 {
        let block = app
            .propose(proposer, &transfers(&cell, height - 1))
            .unwrap();
        for round in 0..2 {
            let undecided = UndecidedBlock {
                round,
                pol_round: None,
                proposer,
                block: block.clone(),
            };
            app.blocks()
                .store_undecided(BlockHeight(height), &undecided)
                .unwrap();
        }
        assert_eq!(
            app.blocks()
                .undecided_at(BlockHeight(height))
                .unwrap()
                .len(),
            2
        );
        let certificate = certify(&cell, &block, &[0, 1, 2]);
        app.commit(block, certificate).unwrap();
        for held in 1..=height {
            assert!(app
                .blocks()
                .undecided_at(BlockHeight(held))
                .unwrap()
                .is_empty());
        }
    }
    let next = app.propose(proposer, &transfers(&cell, 3)).unwrap();
    let undecided = UndecidedBlock {
        round: 0,
        pol_round: None,
        proposer,
        block: next,
    };
    app.blocks()
        .store_undecided(BlockHeight(4), &undecided)
        .unwrap();
    drop(app);
    let reopened = open(&cell, dir.path());
    assert_eq!(
        reopened.blocks().undecided_at(BlockHeight(4)).unwrap(),
        vec![undecided]
    );
}

#[test]
fn every_transaction_of_a_decided_block_is_indexed_with_its_outcome() {
    let cell = dev_cell();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, mut b) = (open(&cell, a_dir.path()), open(&cell, b_dir.path()));
    let proposer = cell.validator(0).id;
    let candidates = transfers(&cell, 0);
    // A proposer may include a transaction that fails; it changes nothing, so the root stays.
    let mut block = a.propose(proposer, &candidates).unwrap();
    block.transactions = candidates.clone();
    block.header.transactions_root = Block::transactions_root(&block.transactions);
    assert_eq!(b.validate(&block).unwrap(), Ok(()));
    let outcomes = b
        .commit(block.clone(), certify(&cell, &block, &[0, 1, 2]))
        .unwrap();

    let (good, overdraw) = (candidates[0].id(), candidates[1].id());
    assert_eq!(
        outcomes,
        b.blocks().outcomes(BlockHeight(1)).unwrap().unwrap()
    );
    assert_eq!(outcomes[0].id, good);
    assert_eq!(outcomes[0].rejection, None);
    assert_eq!(outcomes[1].id, overdraw);
    let rejection = outcomes[1].rejection.as_ref().expect("the overdraw fails");
    assert_eq!(rejection.code, "insufficient_balance");
    for (index, id) in [good, overdraw].iter().enumerate() {
        let location = b.blocks().location(id).unwrap().unwrap();
        assert_eq!(
            (location.height, location.index),
            (BlockHeight(1), index as u32)
        );
    }
    assert_eq!(
        b.blocks().location(&charter_ledger::TxId([9; 32])).unwrap(),
        None
    );

    // The block's inclusion proof verifies for its transactions, and for nothing altered.
    let decided = b.blocks().decided(BlockHeight(1)).unwrap().unwrap();
    let proof = InclusionProof {
        header: decided.block.header.clone(),
        transactions: outcomes.iter().map(|outcome| outcome.id).collect(),
        certificate: decided.certificate.clone(),
    };
    let validators = b.validator_set().unwrap();
    let context = context(&cell);
    proof.verify(&good, &context, &validators).unwrap();
    assert_eq!(
        proof.verify(&charter_ledger::TxId([9; 32]), &context, &validators),
        Err(InclusionError::NotIncluded(charter_ledger::TxId([9; 32])))
    );
    let mut reordered = proof.clone();
    reordered.transactions.reverse();
    assert_eq!(
        reordered.verify(&good, &context, &validators),
        Err(InclusionError::TransactionsRoot)
    );
    let mut other_header = proof.clone();
    other_header.header.state_root = StateRoot([1; 32]);
    assert_eq!(
        other_header.verify(&good, &context, &validators),
        Err(InclusionError::OtherBlock)
    );
    let mut weak = proof.clone();
    weak.certificate.signatures.truncate(2);
    assert!(matches!(
        weak.verify(&good, &context, &validators),
        Err(InclusionError::Certificate(_))
    ));
}

#[test]
fn a_proposal_takes_the_reveal_signed_ahead_for_its_height_and_leaves_the_others() {
    let cell = dev_cell();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, mut b) = (open(&cell, a_dir.path()), open(&cell, b_dir.path()));
    let proposer = cell.validator(0).id;
    // Signed ahead for a later block only: the proposal signs its own height's reveal.
    a.sign_reveal_ahead(BlockHeight(3));
    let block = a.propose(proposer, &[]).unwrap();
    assert_eq!(block.header.reveal, cell.reveal_as(0, 1).signature);
    assert_eq!(b.validate(&block).unwrap(), Ok(()));
    assert_eq!(a.reveals_signed_ahead(), vec![BlockHeight(3)]);
    // Signed ahead for its own height too: the proposal takes that one, and leaves the later.
    a.sign_reveal_ahead(BlockHeight(1));
    let block = a.propose(proposer, &[]).unwrap();
    assert_eq!(a.reveals_signed_ahead(), vec![BlockHeight(3)]);
    assert_eq!(block.header.reveal, cell.reveal_as(0, 1).signature);
    assert_eq!(b.validate(&block).unwrap(), Ok(()));
    for app in [&mut a, &mut b] {
        app.commit(block.clone(), certify(&cell, &block, &[0, 1, 2]))
            .unwrap();
    }
    // Asked again for a height whose reveal is pending, and once the chain passed one: the
    // pending one is replaced, not doubled, and the passed one is dropped.
    a.sign_reveal_ahead(BlockHeight(3));
    a.sign_reveal_ahead(BlockHeight(1));
    assert_eq!(a.reveals_signed_ahead(), vec![BlockHeight(3)]);
    let next = a.propose(proposer, &[]).unwrap();
    assert_eq!(next.header.reveal, cell.reveal_as(0, 2).signature);
    assert_eq!(b.validate(&next).unwrap(), Ok(()));
}

#[test]
fn a_transaction_carried_twice_in_a_block_is_indexed_where_it_first_appears() {
    let cell = dev_cell();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, mut b) = (open(&cell, a_dir.path()), open(&cell, b_dir.path()));
    let proposer = cell.validator(0).id;
    let transfer = transfers(&cell, 0)[0].clone();
    let mut block = a
        .propose(proposer, std::slice::from_ref(&transfer))
        .unwrap();
    block.transactions = vec![transfer.clone(), transfer.clone()];
    block.header.transactions_root = Block::transactions_root(&block.transactions);
    assert_eq!(b.validate(&block).unwrap(), Ok(()));
    let outcomes = b
        .commit(block.clone(), certify(&cell, &block, &[0, 1, 2]))
        .unwrap();
    assert_eq!(outcomes[0].rejection, None);
    let replay = outcomes[1].rejection.as_ref().expect("the replay fails");
    assert_eq!(replay.code, "stale_nonce");
    let location = b.blocks().location(&transfer.id()).unwrap().unwrap();
    assert_eq!((location.height, location.index), (BlockHeight(1), 0));
}

/// A Byzantine proposer puts a forged transaction between two good ones. One validator had
/// verified a good one on admission and tried the forgery there too, another had seen none of
/// them: both accept the block, reject the forgery in it, agree on the root, and neither
/// remembers the forgery as verified.
#[test]
fn a_forged_signature_in_a_block_is_rejected_on_every_node_whatever_each_verified_before() {
    let cell = dev_cell();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut apps: Vec<CellApp> = dirs.iter().map(|dir| open(&cell, dir.path())).collect();
    let pay = |member: usize| {
        let to = cell.member(1).id;
        cell.transaction(cell.member(member), 0, Action::Transfer { to, amount: 10 })
    };
    let (first, second) = (pay(0), pay(3));
    let mut forged = pay(4);
    forged.signature.0[40] ^= 1;
    let remembered = apps[1].verified_signatures();
    remembered.check(&first);
    remembered.check(&forged);
    assert!(remembered.contains(&first.id()) && !remembered.contains(&forged.id()));

    let proposer = cell.validator(0).id;
    let mut block = apps[0]
        .propose(proposer, &[first.clone(), second.clone()])
        .unwrap();
    block.transactions = vec![first, forged.clone(), second];
    block.header.transactions_root = Block::transactions_root(&block.transactions);
    let certificate = certify(&cell, &block, &[0, 1, 2]);
    for validator in &mut apps[1..] {
        assert_eq!(validator.validate(&block).unwrap(), Ok(()));
        let outcomes = validator
            .commit(block.clone(), certificate.clone())
            .unwrap();
        let codes: Vec<Option<&str>> = (outcomes.iter())
            .map(|outcome| outcome.rejection.as_ref().map(|r| r.code.as_str()))
            .collect();
        assert_eq!(codes, [None, Some("bad_signature"), None]);
        let height = validator.ledger().height().unwrap();
        assert_eq!(
            validator.ledger().state_root(height).unwrap(),
            block.header.state_root
        );
        assert!(!validator.verified_signatures().contains(&forged.id()));
    }
}

#[test]
fn invalid_proposals_are_named_for_what_is_wrong() {
    let cell = dev_cell();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, mut b) = (open(&cell, a_dir.path()), open(&cell, b_dir.path()));
    let proposer = cell.validator(0).id;
    let block = a.propose(proposer, &transfers(&cell, 0)).unwrap();

    let mut wrong_root = block.clone();
    wrong_root.header.state_root = StateRoot([7; 32]);
    assert!(matches!(
        b.validate(&wrong_root).unwrap(),
        Err(InvalidBlock::StateRootMismatch { .. })
    ));
    let mut smuggled = block.clone();
    smuggled.transactions.push(transfers(&cell, 0)[1].clone());
    assert_eq!(
        b.validate(&smuggled).unwrap(),
        Err(InvalidBlock::InconsistentTransactions)
    );
    let mut wrong_parent = block.clone();
    wrong_parent.header.parent = BlockHash([1; 32]);
    assert_eq!(
        b.validate(&wrong_parent).unwrap(),
        Err(InvalidBlock::WrongParent)
    );
    let mut wrong_height = block.clone();
    wrong_height.header.height = BlockHeight(5);
    assert!(matches!(
        b.validate(&wrong_height).unwrap(),
        Err(InvalidBlock::WrongHeight { .. })
    ));
    let mut by_a_member = block.clone();
    by_a_member.header.proposer = cell.member(0).id;
    assert_eq!(
        b.validate(&by_a_member).unwrap(),
        Err(InvalidBlock::UnknownProposer {
            got: cell.member(0).id
        })
    );
    let mut other_cell = block.clone();
    other_cell.header.cell = charter_ledger::CellId(9);
    assert_eq!(
        b.validate(&other_cell).unwrap(),
        Err(InvalidBlock::WrongCell)
    );
    // A reveal is the named proposer's signature over this height, and nothing else: not
    // the proposer's for another height (a reveal chosen among several), not another
    // validator's.
    let mut replayed_reveal = block.clone();
    replayed_reveal.header.reveal = cell.reveal(cell.config.validators as u64 * 2).signature;
    assert!(matches!(
        b.validate(&replayed_reveal).unwrap(),
        Err(InvalidBlock::InvalidReveal(_))
    ));
    let mut someone_elses = block.clone();
    someone_elses.header.proposer = cell.validator(1).id;
    assert!(matches!(
        b.validate(&someone_elses).unwrap(),
        Err(InvalidBlock::InvalidReveal(_))
    ));
    assert_eq!(b.validate(&block).unwrap(), Ok(()));
}

#[test]
fn a_block_without_a_quorum_certificate_is_not_committed() {
    let cell = dev_cell();
    let dir = tempfile::tempdir().unwrap();
    let mut app = open(&cell, dir.path());
    let block = app
        .propose(cell.validator(0).id, &transfers(&cell, 0))
        .unwrap();
    let weak = certify(&cell, &block, &[0, 1]);
    assert!(matches!(
        app.commit(block.clone(), weak),
        Err(AppError::Certificate(_))
    ));
    let mut other = certify(&cell, &block, &[0, 1, 2]);
    other.block = BlockHash([3; 32]);
    assert!(matches!(
        app.commit(block, other),
        Err(AppError::CertificateForAnotherBlock { .. })
    ));
    assert_eq!(app.next_height(), BlockHeight(1));
    assert_eq!(app.blocks().latest_height().unwrap(), None);
}

#[test]
fn a_committed_block_and_its_state_reopen_together() {
    let cell = dev_cell();
    let dir = tempfile::tempdir().unwrap();
    let (root, outcomes) = {
        let mut app = open(&cell, dir.path());
        let block = app
            .propose(cell.validator(0).id, &transfers(&cell, 0))
            .unwrap();
        let certificate = certify(&cell, &block, &[0, 1, 3]);
        let outcomes = app.commit(block, certificate).unwrap();
        (app.ledger().state_root(1).unwrap(), outcomes)
    };
    let reopened = open(&cell, dir.path());
    assert_eq!(reopened.ledger().height(), Some(1));
    assert_eq!(reopened.ledger().state_root(1).unwrap(), root);
    let decided = reopened.blocks().decided(BlockHeight(1)).unwrap().unwrap();
    assert_eq!(decided.block.header.state_root, root);
    assert_eq!(
        reopened.blocks().outcomes(BlockHeight(1)).unwrap(),
        Some(outcomes)
    );
}

#[test]
fn a_store_whose_ledger_and_blocks_disagree_is_refused_as_inconsistent() {
    let cell = dev_cell();
    let dir = tempfile::tempdir().unwrap();
    {
        let mut app = open(&cell, dir.path());
        let block = app
            .propose(cell.validator(0).id, &transfers(&cell, 0))
            .unwrap();
        let certificate = certify(&cell, &block, &[0, 1, 3]);
        app.commit(block, certificate).unwrap();
    }
    // Damage no single write can cause: the block of height 1 gone, its state still there.
    let store = NodeStore::open(dir.path()).unwrap();
    let decided = store.column(DECIDED).unwrap();
    store.db().delete_cf(decided, 1u64.to_be_bytes()).unwrap();
    let refused = CellApp::open(context(&cell), store, reveal_key(&cell)).err();
    assert!(
        matches!(
            refused,
            Some(AppError::StoreInconsistent {
                ledger: 1,
                blocks: 0
            })
        ),
        "{refused:?}"
    );
}
