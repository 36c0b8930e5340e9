//! The host between validators, on real stores: a block locked in one round and re-proposed by
//! the next round's proposer is judged valid (it keeps the validator that built it as its
//! proposer), and a proposer restarted after re-proposing streams the same re-proposal again,
//! under the same proof of lock; and a new block that names another validator as its builder
//! (and so carries its beacon reveal) is not a proposal. The Twins simulation (`charter-twins`) found both: without
//! them a cell whose validators locked on a block could never decide it again. And a block
//! that sync delivers after its height was committed here is judged against the committed
//! block, not as the next height's: seen in a localnet restart, where the late answer was called
//! invalid and sync held it against the honest peer that sent it. And on committing a block,
//! the validator that proposes the first round of the height after next, and only it, starts
//! signing its reveal for that block.

use bytes::Bytes;
use charter_consensus::app::{CellApp, TransactionPool};
use charter_consensus::block::{Block, BlockHash, BlockHeight};
use charter_consensus::certificate::BlockCertificate;
use charter_consensus::context::*;
use charter_consensus::engine_signer::EngineSigner;
use charter_consensus::guarded_signer::GuardedSigner;
use charter_consensus::host::{CommittedBlock, Host};
use charter_consensus::ValidatorSet;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{Ledger, SignedTransaction};
use charter_store::{NodeStore, StateStore};
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::core::{Context, Round, Validity};
use malachitebft_app_channel::app::types::streaming::{StreamId, StreamMessage};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use malachitebft_app_channel::{AppMsg, NetworkMsg};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

struct NoTransactions;

impl TransactionPool<CellApp> for NoTransactions {
    fn candidates(&mut self) -> Vec<SignedTransaction> {
        Vec::new()
    }

    fn block_committed(&mut self, _: &CommittedBlock, _: &Ledger<StateStore>) {}
}

/// One validator's host on its own store and signer, and what it publishes.
struct Validator {
    host: Host<CellApp, NoTransactions>,
    network: mpsc::Sender<NetworkMsg<CellContext>>,
    published: mpsc::Receiver<NetworkMsg<CellContext>>,
    address: ValidatorAddress,
}

type Stream = Vec<StreamMessage<ProposalPart>>;

impl Validator {
    fn open(cell: &DevCell, address: ValidatorAddress, dir: &Path) -> Self {
        let context = CellContext {
            federation: cell.genesis.federation,
            cell: cell.genesis.cell,
        };
        let store = NodeStore::open(&dir.join("store")).unwrap();
        let mut ledger = Ledger::open(store.state()).unwrap();
        if ledger.height().is_none() {
            ledger.init_genesis(&cell.genesis).unwrap();
        }
        let passport = (0..cell.config.validators)
            .map(|index| cell.validator(index))
            .find(|validator| validator.id == address.0)
            .unwrap();
        let reveal_key = passport.bls_key.clone().unwrap();
        let app = CellApp::open(context.clone(), store, reveal_key).unwrap();
        let key = passport.consensus_key.clone().unwrap();
        let guarded = GuardedSigner::open(key.clone(), &dir.join("signer.json")).unwrap();
        let signer = Arc::new(EngineSigner::new(context.clone(), address, key, guarded));
        let host = Host::new(
            app,
            NoTransactions,
            context,
            signer,
            address,
            Duration::ZERO,
        );
        let (network, published) = mpsc::channel(16);
        Self {
            host,
            network,
            published,
            address,
        }
    }

    async fn ask<T>(
        &mut self,
        message: impl FnOnce(oneshot::Sender<T>) -> AppMsg<CellContext>,
    ) -> Option<T> {
        let (reply, mut answer) = oneshot::channel();
        self.host
            .handle(message(reply), &self.network)
            .await
            .unwrap();
        answer.try_recv().ok()
    }

    fn stream(&mut self) -> Stream {
        let mut parts = Vec::new();
        while let Ok(NetworkMsg::PublishProposalPart(part)) = self.published.try_recv() {
            parts.push(part);
        }
        parts
    }

    async fn propose(&mut self, round: u32) -> Stream {
        let value = self
            .ask(|reply| AppMsg::GetValue {
                height: BlockHeight(1),
                round: Round::new(round),
                timeout: Duration::from_secs(1),
                reply,
            })
            .await;
        assert!(value.is_some(), "the proposer proposes");
        self.stream()
    }

    async fn judge(&mut self, from: &Validator, stream: Stream) -> ProposedValue<CellContext> {
        (self.judge_if_well_formed(from, stream).await)
            .expect("a complete stream from the round's proposer is judged")
    }

    /// Tells the host that validators 0 to 2 decided `block` at height 1; whether it answered
    /// the engine with its next step.
    async fn decide(&mut self, cell: &DevCell, block: &Block) -> bool {
        let certificate = commit_certificate(cell, &[0, 1, 2], block);
        let next = self
            .ask(|reply| AppMsg::Decided {
                certificate,
                extensions: Default::default(),
                reply,
            })
            .await;
        next.is_some()
    }

    /// What the host makes of a stream: `None` when it ignores it as not a proposal.
    async fn judge_if_well_formed(
        &mut self,
        from: &Validator,
        stream: Stream,
    ) -> Option<ProposedValue<CellContext>> {
        let peer = PeerId::from_bytes(&[0, 4, 0, 0, 0, from.address.0 .0[0]]).unwrap();
        let mut judged = None;
        for part in stream {
            let reply = self
                .ask(|reply| AppMsg::ReceivedProposalPart {
                    from: peer,
                    part,
                    reply,
                })
                .await;
            judged = judged.or(reply.flatten());
        }
        judged
    }
}

fn data(stream: &Stream) -> Vec<ProposalPart> {
    stream
        .iter()
        .filter_map(|message| message.content.as_data().cloned())
        .collect()
}

/// The proposer the genesis set selects for `round` of `height`.
fn proposer_of(cell: &DevCell, height: BlockHeight, round: u32) -> ValidatorAddress {
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&cell.genesis).unwrap();
    let set = ConsensusValidatorSet::from(&ValidatorSet::from_ledger(&ledger).unwrap());
    let context = CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    };
    context
        .select_proposer(&set, height, Round::new(round))
        .address
}

/// The proposers of rounds 0, 1 and 2 at height 1.
fn roles(cell: &DevCell) -> [ValidatorAddress; 3] {
    // Proposers take turns, so with four validators these are three different ones.
    [0, 1, 2].map(|round| proposer_of(cell, BlockHeight(1), round))
}

#[tokio::test]
async fn a_block_locked_in_one_round_and_re_proposed_in_the_next_is_judged_valid_again_after_a_restart(
) {
    let cell = DevCell::new(41, DevCellConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let [first, second, third] = roles(&cell);
    let mut builder = Validator::open(&cell, first, &dir.path().join("first"));
    let mut reproposer = Validator::open(&cell, second, &dir.path().join("second"));
    let mut judge = Validator::open(&cell, third, &dir.path().join("third"));

    let proposal = builder.propose(0).await;
    let seen = reproposer.judge(&builder, proposal.clone()).await;
    assert_eq!(seen.validity, Validity::Valid);
    assert_eq!(
        judge.judge(&builder, proposal).await.validity,
        Validity::Valid
    );
    let block: BlockHash = seen.value.hash();
    assert_eq!(seen.value.header.proposer, first.0);

    // Round 1: its proposer re-proposes the block locked in round 0, which keeps its builder.
    reproposer
        .host
        .handle(
            AppMsg::RestreamProposal {
                height: BlockHeight(1),
                round: Round::new(1),
                valid_round: Round::new(0),
                address: second,
                value_id: block,
            },
            &reproposer.network.clone(),
        )
        .await
        .unwrap();
    let reproposal = reproposer.stream();
    let judged = judge.judge(&reproposer, reproposal.clone()).await;
    assert_eq!(judged.validity, Validity::Valid);
    assert_eq!(
        (judged.value.hash(), judged.valid_round),
        (block, Round::new(0))
    );

    // Restarted, the round-1 proposer is asked for a value again (its engine's log lagged):
    // it streams the same re-proposal, proof of lock and signature included.
    drop(reproposer);
    let mut restarted = Validator::open(&cell, second, &dir.path().join("second"));
    let again = restarted.propose(1).await;
    assert_eq!(data(&again), data(&reproposal));
    let judged = judge.judge(&restarted, again).await;
    assert_eq!(judged.validity, Validity::Valid);
}

/// The stream `signer` (validator `index` of `cell`) would send to propose `block` at height 1,
/// `round`, as a new block (no proof of lock).
fn new_proposal_stream(cell: &DevCell, index: usize, round: u32, block: Block) -> Stream {
    let validator = cell.validator(index);
    let context = CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    };
    let proposer = ValidatorAddress(validator.id);
    let proposal = ConsensusProposal {
        height: BlockHeight(1),
        round,
        block: block.clone(),
        pol_round: Round::Nil,
        proposer,
    };
    let key = validator.consensus_key.as_ref().unwrap();
    let signature = key.sign(&proposal.statement(&context).signing_bytes());
    let parts = [
        ProposalPart::Init {
            height: BlockHeight(1),
            round,
            pol_round: None,
            proposer,
        },
        ProposalPart::Block(Box::new(block)),
        ProposalPart::Fin { signature },
    ];
    let id = StreamId::new(Bytes::from(
        borsh::to_vec(&(BlockHeight(1), round)).unwrap(),
    ));
    (parts.into_iter().map(StreamContent::Data))
        .chain([StreamContent::Fin])
        .enumerate()
        .map(|(sequence, content)| StreamMessage::new(id.clone(), sequence as u64, content))
        .collect()
}

/// A round's proposer that takes the block another validator proposed in a failed round (with
/// that validator's beacon reveal) and proposes it as its own new block is ignored: otherwise
/// it could choose between that reveal and its own.
#[tokio::test]
async fn a_new_block_naming_another_validator_as_its_proposer_is_not_a_proposal() {
    let cell = DevCell::new(41, DevCellConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let [first, second, third] = roles(&cell);
    let mut builder = Validator::open(&cell, first, &dir.path().join("first"));
    let mut taker = Validator::open(&cell, second, &dir.path().join("second"));
    let mut judge = Validator::open(&cell, third, &dir.path().join("third"));
    let proposal = builder.propose(0).await;
    let Some(ProposalPart::Block(block)) = data(&proposal).get(1).cloned() else {
        panic!("a proposal stream carries its block second");
    };
    assert_eq!(block.header.proposer, first.0);
    let index = |address: ValidatorAddress| {
        (0..cell.config.validators)
            .find(|index| cell.validator(*index).id == address.0)
            .unwrap()
    };
    let taken = new_proposal_stream(&cell, index(second), 1, (*block).clone());
    assert!(judge.judge_if_well_formed(&taker, taken).await.is_none());

    // Its own new block, with its own name and reveal, is a proposal.
    let own = taker.propose(1).await;
    let judged = judge.judge_if_well_formed(&taker, own).await;
    assert_eq!(judged.map(|judged| judged.validity), Some(Validity::Valid));
}

/// The commit certificate validators `signers` of `cell` give `block` at height 1, round 0.
fn commit_certificate(
    cell: &DevCell,
    signers: &[usize],
    block: &Block,
) -> malachitebft_app_channel::app::types::core::CommitCertificate<CellContext> {
    let context = CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    };
    let statement =
        BlockCertificate::precommit_statement(&context, BlockHeight(1), 0, block.hash())
            .signing_bytes();
    let commit_signatures = (signers.iter())
        .map(|index| {
            let validator = cell.validator(*index);
            let key = validator.consensus_key.as_ref().unwrap();
            malachitebft_app_channel::app::types::core::CommitSignature {
                address: ValidatorAddress(validator.id),
                signature: key.sign(&statement),
            }
        })
        .collect();
    malachitebft_app_channel::app::types::core::CommitCertificate {
        height: BlockHeight(1),
        round: Round::new(0),
        value_id: block.hash(),
        commit_signatures,
    }
}

#[tokio::test]
async fn a_block_synced_after_its_height_was_committed_here_is_valid_and_another_is_not() {
    let cell = DevCell::new(43, DevCellConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let [first, second, _] = roles(&cell);
    let mut proposer = Validator::open(&cell, first, &dir.path().join("first"));
    let mut follower = Validator::open(&cell, second, &dir.path().join("second"));
    let proposal = proposer.propose(0).await;
    let block = follower.judge(&proposer, proposal).await.value;
    assert!(
        follower.decide(&cell, &block).await,
        "the follower commits height 1"
    );

    // Sync's answer for height 1 arrives late, with the committed block or another one.
    let mut other = block.clone();
    other.header.state_root = charter_ledger::StateRoot([1; 32]);
    for (synced, expected) in [(&block, Validity::Valid), (&other, Validity::Invalid)] {
        let judged = follower
            .ask(|reply| AppMsg::ProcessSyncedValue {
                height: BlockHeight(1),
                round: Round::new(0),
                proposer: first,
                value_bytes: Bytes::from(borsh::to_vec(synced).unwrap()),
                reply,
            })
            .await
            .flatten()
            .expect("a block that decodes is judged");
        assert_eq!(judged.validity, expected);
        assert_eq!(judged.value.hash(), synced.hash());
    }
}

#[tokio::test]
async fn on_committing_a_block_the_proposer_of_the_height_after_next_signs_its_reveal_ahead() {
    let cell = DevCell::new(44, DevCellConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let [first, ..] = roles(&cell);
    let third_proposer = proposer_of(&cell, BlockHeight(3), 0);
    let mut proposer = Validator::open(&cell, first, &dir.path().join("proposer"));
    let proposal = proposer.propose(0).await;
    for index in 0..cell.config.validators {
        let address = ValidatorAddress(cell.validator(index).id);
        if address == first {
            continue;
        }
        let mut validator = Validator::open(&cell, address, &dir.path().join(index.to_string()));
        let judged = validator.judge(&proposer, proposal.clone()).await.value;
        let committed = validator.decide(&cell, &judged).await;
        assert!(committed, "validator {index} commits height 1");
        let expected = match address == third_proposer {
            true => vec![BlockHeight(3)],
            false => vec![],
        };
        assert_eq!(validator.host.app().reveals_signed_ahead(), expected);
    }
    assert_ne!(first, third_proposer, "proposers take turns");
}
