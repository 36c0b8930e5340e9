//! The engine's types and signing provider against the ledger: what the engine signs is what
//! the ledger accepts as evidence, and the guard holds where the engine signs.

use charter_consensus::block::*;
use charter_consensus::context::*;
use charter_consensus::engine_signer::{EngineSigner, WITHHELD};
use charter_consensus::guarded_signer::{GuardedSigner, SignerError};
use charter_consensus::ValidatorSet;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use charter_ledger::evidence::{DoubleVote, SignedVote};
use charter_ledger::governance::reveal_message;
use charter_ledger::state::{Bond, StateKey};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::transaction::SlashEvidence;
use charter_ledger::{Action, Ledger, StateRoot};
use malachitebft_core_types::{Context, NilOrVal, Round, SigningProvider};
use std::path::Path;

fn cell() -> (DevCell, Ledger<MemoryStorage>) {
    let cell = DevCell::new(31, DevCellConfig::default());
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&cell.genesis).unwrap();
    (cell, ledger)
}

fn context(cell: &DevCell) -> CellContext {
    CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    }
}

fn signer(cell: &DevCell, validator: usize, state: &Path) -> EngineSigner {
    let key = cell.validator(validator).consensus_key.clone().unwrap();
    let guarded = GuardedSigner::open(key.clone(), &state.join("signer.json")).unwrap();
    EngineSigner::new(
        context(cell),
        ValidatorAddress(cell.validator(validator).id),
        key,
        guarded,
    )
}

fn public_key(cell: &DevCell, validator: usize) -> Ed25519PublicKey {
    let key = cell.validator(validator).consensus_key.as_ref().unwrap();
    key.public_key()
}

fn precommit(cell: &DevCell, validator: usize, height: u64, block: u8) -> ConsensusVote {
    let address = ValidatorAddress(cell.validator(validator).id);
    context(cell).new_precommit(
        BlockHeight(height),
        Round::new(0),
        NilOrVal::Val(BlockHash([block; 32])),
        address,
    )
}

#[test]
fn conflicting_votes_from_twins_are_evidence_the_ledger_slashes_on() {
    let (cell, mut ledger) = cell();
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Two processes with the same validator key and separate signer state: the Twins fault.
    let twins = [
        signer(&cell, 1, first_dir.path()),
        signer(&cell, 1, second_dir.path()),
    ];
    let votes = [precommit(&cell, 1, 3, 1), precommit(&cell, 1, 3, 2)];
    let key = public_key(&cell, 1);
    let signed: Vec<SignedVote> = twins
        .iter()
        .zip(&votes)
        .map(|(twin, vote)| {
            let signed = twin.sign_vote(vote.clone());
            assert!(twin.verify_signed_vote(vote, &signed.signature, &key));
            SignedVote {
                vote: vote.statement(&context(&cell)),
                validator_key: key,
                signature: signed.signature,
            }
        })
        .collect();
    let evidence = DoubleVote {
        first: signed[0].clone(),
        second: signed[1].clone(),
    };
    let reporter = cell.member(0);
    let slash = cell.transaction(
        reporter,
        0,
        Action::Slash {
            evidence: SlashEvidence::DoubleVote(Box::new(evidence)),
        },
    );
    let block = ledger.apply_block(&[slash]).unwrap();
    assert_eq!(block.receipts[0].outcome, Ok(()));
    let bond: Bond = ledger
        .get(&StateKey::Bond(cell.validator(1).id))
        .unwrap()
        .unwrap();
    assert_eq!(bond.bonded, 5_000);
}

#[test]
fn one_signer_never_signs_conflicting_votes_and_verification_is_strict() {
    let (cell, _) = cell();
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(&cell, 0, dir.path());
    let vote = precommit(&cell, 0, 4, 1);
    let signature = signer.try_sign_vote(&vote).unwrap();
    assert_eq!(
        signer.try_sign_vote(&vote).unwrap(),
        signature,
        "re-signing the same vote is allowed"
    );
    assert!(matches!(
        signer.try_sign_vote(&precommit(&cell, 0, 4, 2)),
        Err(SignerError::Conflicting { .. })
    ));
    let key = public_key(&cell, 0);
    assert!(signer.verify_signed_vote(&vote, &signature, &key));
    let other_block = precommit(&cell, 0, 4, 9);
    assert!(!signer.verify_signed_vote(&other_block, &signature, &key));
    let other_key = public_key(&cell, 1);
    assert!(!signer.verify_signed_vote(&vote, &signature, &other_key));
}

/// What a restarted engine asks when its write-ahead log lags the signer's record: a step the
/// signer already passed. Another value at a position already voted at gets the vote cast
/// there, as it was signed (so the others keep counting it); an earlier position never voted
/// at gets a signature nobody accepts. Neither records anything, and the next step is signed.
#[test]
fn an_engine_replaying_a_passed_step_gets_the_recorded_vote_or_silence_and_the_node_runs_on() {
    let (cell, _) = cell();
    let dir = tempfile::tempdir().unwrap();
    let key = public_key(&cell, 0);
    let address = ValidatorAddress(cell.validator(0).id);
    let at = |round: u32, value: NilOrVal<BlockHash>| {
        context(&cell).new_prevote(BlockHeight(219), Round::new(round), value, address)
    };
    let cast = {
        let before_the_crash = signer(&cell, 0, dir.path());
        let signed = before_the_crash.sign_vote(at(2, NilOrVal::Nil));
        assert!(before_the_crash.verify_signed_vote(&signed.message, &signed.signature, &key));
        signed
    };
    let restarted = signer(&cell, 0, dir.path());
    let again = restarted.sign_vote(at(2, NilOrVal::Val(BlockHash([7; 32]))));
    assert_eq!(
        (again.message.clone(), again.signature),
        (cast.message, cast.signature)
    );
    let earlier = at(0, NilOrVal::Val(BlockHash([7; 32])));
    let answer = restarted.sign_vote(earlier.clone());
    assert_eq!(answer.signature, WITHHELD);
    assert!(!restarted.verify_signed_vote(&earlier, &answer.signature, &key));
    let next = at(3, NilOrVal::Val(BlockHash([7; 32])));
    let answer = restarted.sign_vote(next.clone());
    assert!(restarted.verify_signed_vote(&next, &answer.signature, &key));
}

fn proposal(
    cell: &DevCell,
    proposer: usize,
    height: u64,
    round: u32,
    root: u8,
) -> ConsensusProposal {
    let header = BlockHeader {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
        height: BlockHeight(height),
        parent: BlockHash([0; 32]),
        proposer: cell.validator(proposer).id,
        reveal: (cell.validator(proposer).bls_key.as_ref().unwrap()).sign(&reveal_message(
            cell.genesis.federation,
            cell.genesis.cell,
            height,
        )),
        transactions_root: Block::transactions_root(&[]),
        state_root: StateRoot([root; 32]),
    };
    let block = Block {
        header,
        transactions: Vec::new(),
    };
    let address = ValidatorAddress(cell.validator(proposer).id);
    context(cell).new_proposal(
        BlockHeight(height),
        Round::new(round),
        block,
        Round::Nil,
        address,
    )
}

#[test]
fn own_proposals_are_guarded_and_local_copies_of_others_are_not() {
    let (cell, _) = cell();
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(&cell, 0, dir.path());
    signer
        .try_sign_proposal(&proposal(&cell, 0, 5, 1, 1))
        .unwrap();
    assert!(matches!(
        signer.try_sign_proposal(&proposal(&cell, 0, 5, 1, 2)),
        Err(SignerError::Conflicting { .. })
    ));
    // The engine signs implicit copies of other proposers' values, also for earlier rounds.
    signer
        .try_sign_proposal(&proposal(&cell, 1, 5, 0, 3))
        .unwrap();
    signer
        .try_sign_proposal(&proposal(&cell, 2, 4, 0, 4))
        .unwrap();
}

#[test]
fn the_engines_copy_of_our_own_block_synced_back_below_our_mark_is_signed_unguarded() {
    let (cell, _) = cell();
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(&cell, 0, dir.path());
    signer
        .try_sign_proposal(&proposal(&cell, 0, 5, 0, 1))
        .unwrap();
    let synced_back = proposal(&cell, 0, 4, 0, 2);
    assert!(
        signer.try_sign_proposal(&synced_back).is_err(),
        "a proposal to publish below the mark is refused"
    );
    let signature = signer.try_sign_engine_proposal(&synced_back).unwrap();
    let statement = synced_back.statement(&context(&cell)).signing_bytes();
    let key = public_key(&cell, 0);
    assert!(key.verify(&statement, &signature).is_ok());
    // At the mark's height the engine's copy is guarded like any proposal of ours.
    assert!(signer
        .try_sign_engine_proposal(&proposal(&cell, 0, 5, 0, 3))
        .is_err());
}

#[test]
fn proposers_rotate_through_the_epoch_set_with_height_and_round() {
    let (cell, ledger) = cell();
    let set = ConsensusValidatorSet::from(&ValidatorSet::from_ledger(&ledger).unwrap());
    let ctx = context(&cell);
    let proposer = |height, round| {
        ctx.select_proposer(&set, BlockHeight(height), Round::new(round))
            .address
    };
    let first_four: Vec<_> = (1..=4).map(|height| proposer(height, 0)).collect();
    let mut distinct = first_four.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        4,
        "four heights give every validator a turn"
    );
    assert_eq!(proposer(5, 0), first_four[0]);
    assert_eq!(
        proposer(1, 1),
        first_four[1],
        "a new round moves to the next proposer"
    );
}

#[test]
fn a_block_hash_commits_to_its_state_root_and_transactions() {
    let (cell, _) = cell();
    let base = proposal(&cell, 0, 1, 0, 1).block;
    let other_root = proposal(&cell, 0, 1, 0, 2).block;
    assert_ne!(base.hash(), other_root.hash());
    assert!(base.is_consistent());
    let mut smuggled = base.clone();
    smuggled
        .transactions
        .push(cell.transaction(cell.member(0), 0, Action::Withdraw));
    assert!(!smuggled.is_consistent());
}
