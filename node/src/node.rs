//! `charter run`: one validator — ledger and block store on RocksDB, mempool, and the Malachite
//! engine — printing a line for every block it commits.

use crate::config::NodeConfig;
use crate::evidence::EvidenceReporter;
use crate::finality::{self, Finality};
use crate::gossip::{self, Gossip};
use crate::keys::KeyFile;
use crate::restart::StallWatchdog;
use anyhow::{Context, Result};
use charter_consensus::app::CellApp;
use charter_consensus::block_store::BlockStore;
use charter_consensus::checkpoint_signer::{self, CheckpointSigner};
use charter_consensus::context::CellContext;
use charter_consensus::engine::{CellNode, EngineSettings};
use charter_ledger::storage::RocksStorage;
use charter_ledger::{Genesis, Ledger};
use charter_node::api::{ApiParts, ApiState};
use charter_node::federation_store::FederationStore;
use charter_node::mempool::{MempoolLimits, SharedMempool};
use charter_node::metrics::NodeMetrics;
use charter_node::stop_signals::StopSignals;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

pub fn run(config_path: &Path) -> Result<()> {
    let config = NodeConfig::load(config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_validator(config))
}

async fn run_validator(config: NodeConfig) -> Result<()> {
    let mut stop = StopSignals::listen().context("listening for stop signals")?;
    let genesis: Genesis = serde_json::from_str(
        &std::fs::read_to_string(&config.genesis)
            .with_context(|| format!("reading {}", config.genesis.display()))?,
    )
    .context("parsing the genesis")?;
    let keys = KeyFile::load(&config.key_file)?;
    let (passport, consensus_key) = (keys.passport()?, keys.consensus()?);
    let network_key = config
        .network_key_file
        .as_deref()
        .map(crate::keys::read_network_key)
        .transpose()?;
    let mesh_keypair = libp2p::identity::Keypair::ed25519_from_bytes(
        network_key.as_ref().unwrap_or(&consensus_key).seed(),
    )
    .context("the network seed is not an ed25519 secret key")?;
    let storage = Arc::new(RocksStorage::open(&config.data_dir.join("state"))?);
    let mut ledger = Ledger::open(Arc::clone(&storage))?;
    if ledger.height().is_none() {
        let root = ledger.init_genesis(&genesis)?;
        tracing::info!(%root, "initialized the ledger from genesis");
    }
    let blocks = BlockStore::open(&config.data_dir.join("blocks"))?;
    let context = CellContext {
        federation: genesis.federation,
        cell: genesis.cell,
    };
    let app = CellApp::open(context.clone(), ledger, blocks.clone())?;
    let resumed_at = app.next_height();
    let settings = EngineSettings {
        moniker: config.moniker.clone(),
        home: config.engine_home(),
        listen: config.consensus.listen.clone(),
        peers: config.consensus.peers.clone(),
        timeouts: config.consensus.timeouts.clone(),
        network_key,
    };
    let mempool = SharedMempool::new(MempoolLimits::default());
    let topic = gossip::transactions_topic(&genesis.federation, genesis.cell);
    let node = CellNode::new(
        context,
        settings,
        passport,
        consensus_key,
        app,
        mempool.clone(),
    )?;
    let catching_up_to = node.catching_up_to();
    if let Some(mark) = catching_up_to {
        tracing::warn!(
            mark,
            ledger = resumed_at.0 - 1,
            "this validator's signer signed at a height this node cannot safely vote at (its ledger is behind, or the engine's log of its votes there is gone); following the cell without voting through that height"
        );
    }
    let mut running = node.launch().await?;
    let metrics = Arc::new(NodeMetrics::new());
    let gossip = Gossip::new();
    let federation = match &config.federation {
        Some(section) => {
            let store = FederationStore::open(&config.data_dir)?;
            let collector = Arc::new(Mutex::new(store.restore(&section.genesis)?));
            let topic = gossip::checkpoints_topic(&genesis.federation);
            let (to_finality, inbound) = tokio::sync::mpsc::channel(finality::INBOUND_QUEUE);
            let part = Finality {
                collector: Arc::clone(&collector),
                cell: genesis.cell,
                passport,
                signer: CheckpointSigner::open(
                    keys.bls()?,
                    &checkpoint_signer::record_path(&config.data_dir),
                )?,
                ledger: Ledger::open(Arc::clone(&storage))?,
                publisher: gossip.publisher(&topic),
                store,
                catch_up: Default::default(),
                co_signed: Default::default(),
            };
            tokio::spawn(part.run(running.committed(), inbound));
            Some((collector, topic, to_finality))
        }
        None => None,
    };
    let api = ApiState::new(ApiParts {
        ledger: Ledger::open(Arc::clone(&storage))?,
        blocks,
        mempool: mempool.clone(),
        metrics: Arc::clone(&metrics),
        committed: running.committed_sender(),
        position: running.position(),
        gossip: gossip.publisher(&topic),
        finality: federation
            .as_ref()
            .map(|(collector, _, _)| Arc::clone(collector)),
    });
    if let Some(votes) = running.take_heard_votes() {
        let reporter = EvidenceReporter {
            context: CellContext {
                federation: genesis.federation,
                cell: genesis.cell,
            },
            passport,
            controller: keys.controller()?,
            ledger: Ledger::open(storage)?,
            mempool,
            api: Arc::clone(&api),
            metrics: Arc::clone(&metrics),
        };
        tokio::spawn(reporter.run(votes, running.committed()));
    }
    let gossip = gossip.start(
        mesh_keypair,
        &config.gossip,
        topic,
        federation.map(|(_, topic, to_finality)| (topic, to_finality)),
        Arc::clone(&api),
    )?;
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("binding the API to {}", config.api.listen))?;
    let api_address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, charter_node::api::router(api)).await {
            tracing::error!(%error, "the API server stopped");
        }
    });
    let mut committed = running.committed();
    println!(
        "{}: validator {passport} at height {} listening on {}, api http://{api_address}",
        config.moniker, resumed_at.0, config.consensus.listen
    );
    let stalled_after = Duration::from_secs(config.consensus.restart_when_stalled_secs);
    let mut watchdog =
        StallWatchdog::new(stalled_after, config.consensus.peers.len(), Instant::now());
    let mut check_stall = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = check_stall.tick(), if !stalled_after.is_zero() => {
                let Some(connected) = running.connected_peers().await else { continue };
                if watchdog.should_restart(Instant::now(), connected) {
                    tracing::error!(
                        connected,
                        configured = config.consensus.peers.len(),
                        stalled_secs = stalled_after.as_secs(),
                        "nothing committed and consensus peers missing; starting afresh to dial them again"
                    );
                    return Err(crate::restart::start_afresh())
                        .context("starting afresh to reconnect");
                }
            }
            block = committed.recv() => match block {
                Ok(block) => {
                    watchdog.progressed(Instant::now());
                    metrics.record_block(&block);
                    println!(
                        "committed height={} block={} root={} transactions={}",
                        block.height.0, block.hash, block.state_root, block.outcomes.len()
                    );
                    std::io::stdout().flush()?;
                    if catching_up_to.is_some_and(|mark| block.height.0 >= mark) {
                        tracing::info!(height = block.height.0, "caught up to the signer's record; starting afresh as a validator");
                        return Err(crate::restart::start_afresh())
                            .context("starting afresh as a validator");
                    }
                }
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "progress output fell behind"),
                Err(RecvError::Closed) => break,
            },
            () = stop.recv() => {
                tracing::info!("stopping");
                break;
            }
        }
    }
    gossip.abort();
    running.stop().await;
    Ok(())
}
