//! Four validators, each with its own Malachite engine, host, guarded signer and store, on loopback TCP with dynamically picked ports: they decide the same blocks, with the
//! same state roots, including the transactions their pools offered.

use charter_consensus::app::CellApp;
use charter_consensus::app::TransactionPool;
use charter_consensus::block::BlockHeight;
use charter_consensus::context::CellContext;
use charter_consensus::engine::{CellEngine, EngineSettings, RunningEngine};
use charter_consensus::host::CommittedBlock;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::{Action, Ledger, SignedTransaction};
use charter_store::{NodeStore, StateStore};
use libp2p::Multiaddr;
use std::collections::BTreeMap;

/// Offers its transactions once, to the first proposal it is asked for.
struct OneShotPool(Vec<SignedTransaction>);

impl TransactionPool<CellApp> for OneShotPool {
    fn candidates(&mut self) -> Vec<SignedTransaction> {
        std::mem::take(&mut self.0)
    }

    fn block_committed(&mut self, _block: &CommittedBlock, _state: &Ledger<StateStore>) {}
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for_height(
    committed: &mut tokio::sync::broadcast::Receiver<CommittedBlock>,
    height: u64,
) -> BTreeMap<u64, CommittedBlock> {
    let mut seen = BTreeMap::new();
    loop {
        let block = committed.recv().await.expect("the validator keeps running");
        let reached = block.height.0 >= height;
        seen.insert(block.height.0, block);
        if reached {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_decide_the_same_blocks_and_state_roots() {
    let cell = DevCell::new(61, DevCellConfig::default());
    let context = CellContext {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
    };
    let addresses: Vec<Multiaddr> = (0..4)
        .map(|_| {
            format!("/ip4/127.0.0.1/tcp/{}", free_port())
                .parse()
                .unwrap()
        })
        .collect();
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut validators: Vec<RunningEngine> = Vec::new();
    let mut receivers = Vec::new();
    for (index, dir) in dirs.iter().enumerate() {
        let store = NodeStore::open(&dir.path().join("store")).unwrap();
        Ledger::open(store.state())
            .unwrap()
            .init_genesis(&cell.genesis)
            .unwrap();
        let reveal_key = cell.validator(index).bls_key.clone().unwrap();
        let app = CellApp::open(context.clone(), store, reveal_key).unwrap();
        let transfer = cell.transaction(
            cell.member(index),
            0,
            Action::Transfer {
                to: cell.member(7).id,
                amount: 10,
            },
        );
        let settings = EngineSettings::in_cell(
            format!("validator-{index}"),
            dir.path().join("engine"),
            &addresses,
            index,
        );
        let validator = cell.validator(index);
        let node = CellEngine::new(
            context.clone(),
            settings,
            validator.id,
            validator.consensus_key.clone().unwrap(),
            app,
            OneShotPool(vec![transfer]),
        )
        .unwrap();
        let running = node.launch().await.unwrap();
        receivers.push(running.committed());
        validators.push(running);
    }

    let mut histories = Vec::new();
    for receiver in &mut receivers {
        histories.push(wait_for_height(receiver, 4).await);
    }
    let at_four: Vec<&CommittedBlock> = histories.iter().map(|history| &history[&4]).collect();
    assert!(at_four.iter().all(|block| block.height == BlockHeight(4)));
    assert!(at_four
        .windows(2)
        .all(|pair| pair[0].hash == pair[1].hash && pair[0].state_root == pair[1].state_root));
    let transactions: usize = histories[0]
        .values()
        .map(|block| block.outcomes.len())
        .sum();
    assert!(
        transactions > 0,
        "the pools' transfers were proposed and committed"
    );

    for validator in validators {
        validator.stop().await;
    }
}
