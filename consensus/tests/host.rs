//! The host between validators, on real stores: a block locked in one round and re-proposed by
//! the next round's proposer is judged valid (it keeps the validator that built it as its
//! proposer), and a proposer restarted after re-proposing streams the same re-proposal again,
//! under the same proof of lock. The Twins simulation (`charter-twins`) found both: without
//! them a cell whose validators locked on a block could never decide it again.

use charter_consensus::app::{CellApp, TransactionPool};
use charter_consensus::block::{BlockHash, BlockHeight};
use charter_consensus::context::*;
use charter_consensus::engine_signer::EngineSigner;
use charter_consensus::guarded_signer::GuardedSigner;
use charter_consensus::host::{CommittedBlock, Host};
use charter_consensus::ValidatorSet;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{Ledger, SignedTransaction};
use charter_store::{NodeStore, StateStore};
use malachitebft_app_channel::app::types::core::{Context, Round, Validity};
use malachitebft_app_channel::app::types::streaming::StreamMessage;
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
        judged.expect("a complete stream from the round's proposer is judged")
    }
}

fn data(stream: &Stream) -> Vec<ProposalPart> {
    stream
        .iter()
        .filter_map(|message| message.content.as_data().cloned())
        .collect()
}

/// The proposers of rounds 0, 1 and 2 at height 1.
fn roles(cell: &DevCell) -> [ValidatorAddress; 3] {
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&cell.genesis).unwrap();
    let set = ConsensusValidatorSet::from(&ValidatorSet::from_ledger(&ledger).unwrap());
    let context = CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    };
    let proposer = |round| {
        context
            .select_proposer(&set, BlockHeight(1), Round::new(round))
            .address
    };
    // Proposers take turns, so with four validators these are three different ones.
    [proposer(0), proposer(1), proposer(2)]
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
