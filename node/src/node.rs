//! A validator, assembled in one place from its configuration: ledger and block store on
//! RocksDB, admission and the mempool, the Malachite engine, the gossip mesh, the evidence
//! reporter, federation finality (when the cell is in a federation) and the HTTP API. Started
//! with [`Node::start`], it runs until a stop signal, until the engine ends, or until it must
//! start afresh (see `restart.rs`: the binary execs itself then).

use crate::admission::Admission;
use crate::api::{ApiParts, ApiState};
use crate::config::{ConfigError, NodeConfig, UnknownFollowedCell};
use crate::evidence::EvidenceReporter;
use crate::federation_store::{FederationStore, FederationStoreError};
use crate::finality::{self, Finality};
use crate::gossip::{self, Gossip, Heard};
use crate::keys::{read_network_key, KeyFile, KeyFileError};
use crate::mempool::{MempoolLimits, SharedMempool};
use crate::metrics::NodeMetrics;
use crate::restart::StallWatchdog;
use crate::stop_signals::StopSignals;
use crate::transaction_gossip::TransactionGossip;
use charter_consensus::app::{AppError, CellApp};
use charter_consensus::block_store::{BlockStore, BlockStoreError};
use charter_consensus::context::CellContext;
use charter_consensus::engine::{CellEngine, EngineError, EngineSettings, RunningEngine};
use charter_consensus::faults::FaultPlan;
use charter_consensus::host::CommittedBlock;
use charter_federation::checkpoint_signer::{self, CheckpointSigner, CheckpointSignerError};
use charter_federation::collector::Collector;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::state::{StateKey, Validator};
use charter_ledger::{Genesis, Ledger, LedgerError, PassportId};
use charter_p2p::MeshError;
use charter_store::{NodeStore, StateStore, StoreError};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Keys(#[from] KeyFileError),
    #[error("reading the genesis {path}: {reason}")]
    Genesis { path: PathBuf, reason: String },
    #[error("the network seed is not an ed25519 secret key")]
    NetworkKey,
    #[error(
        "opening the node's store {path}: {source} (if it was copied from a running node, this \
         data directory is inconsistent: restore a copy taken from a stopped node, or, to resync \
         from the cell, empty its `store` directory and everything in `engine` but \
         `signer_state.json`)"
    )]
    Store { path: PathBuf, source: StoreError },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Blocks(#[from] BlockStoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    CheckpointSigner(#[from] CheckpointSignerError),
    #[error(transparent)]
    FederationStore(#[from] FederationStoreError),
    #[error(transparent)]
    UnknownFollowedCell(#[from] UnknownFollowedCell),
    #[error("starting the gossip mesh: {0}")]
    Mesh(#[from] MeshError),
    #[error("binding the API to {address}: {source}")]
    Api {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("writing progress: {0}")]
    Output(std::io::Error),
    #[error("starting the runtime and its signal handlers: {0}")]
    Runtime(std::io::Error),
    #[error("starting afresh {reason}: {source}")]
    StartAfresh {
        reason: &'static str,
        source: std::io::Error,
    },
}

/// Why a running node stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// SIGINT or SIGTERM.
    Signalled,
    /// The engine stopped committing for good (its stream of blocks closed).
    EngineEnded,
    /// The node must start afresh in place (see `restart.rs`), for the reason given.
    StartAfresh(&'static str),
}

/// What a validator is, from its key file and genesis.
struct Identity {
    genesis: Genesis,
    keys: KeyFile,
    passport: PassportId,
    consensus_key: Ed25519Keypair,
    network_key: Option<Ed25519Keypair>,
}

impl Identity {
    fn load(config: &NodeConfig) -> Result<Self, NodeError> {
        let genesis_error = |reason: String| NodeError::Genesis {
            path: config.genesis.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&config.genesis)
            .map_err(|error| genesis_error(error.to_string()))?;
        let genesis =
            serde_json::from_str(&text).map_err(|error| genesis_error(error.to_string()))?;
        let keys = KeyFile::load(&config.key_file)?;
        Ok(Self {
            genesis,
            passport: keys.passport()?,
            consensus_key: keys.consensus()?,
            network_key: config
                .network_key_file
                .as_deref()
                .map(read_network_key)
                .transpose()?,
            keys,
        })
    }

    /// Says so, loudly, when the key file holds other keys than the ones this passport
    /// registered as a validator: the node runs (a passport may register its keys later, and a
    /// node that follows the cell harms nobody), but nothing it signs will count.
    fn warn_if_not_registered(&self, ledger: &Ledger<StateStore>) -> Result<(), NodeError> {
        let key = StateKey::Validator(self.passport);
        let Some(registered) = ledger.get::<Validator>(&key)? else {
            return Ok(());
        };
        let which = if registered.consensus_key != self.consensus_key.public_key() {
            "consensus"
        } else if registered.bls_key != self.keys.bls()?.public_key() {
            "BLS"
        } else {
            return Ok(());
        };
        tracing::error!(
            passport = %self.passport,
            "the key file's {which} key is not the one this passport registered as a validator: \
             nothing this node signs with it will count (run it with that validator's key file)"
        );
        Ok(())
    }

    fn context(&self) -> CellContext {
        CellContext {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
        }
    }

    /// The libp2p identity on the gossip mesh: the network key if one is configured, else the
    /// consensus key (the engine makes the same choice for its own network).
    fn mesh_keypair(&self) -> Result<libp2p::identity::Keypair, NodeError> {
        let seed = self
            .network_key
            .as_ref()
            .unwrap_or(&self.consensus_key)
            .seed();
        libp2p::identity::Keypair::ed25519_from_bytes(seed).map_err(|_| NodeError::NetworkKey)
    }
}

/// The federation's part of a node: the collector the API reads, and the channel finality
/// hears its topics on (the federation's, and its own cell's).
struct FederationPart {
    collector: Arc<Mutex<Collector>>,
    topics: Vec<String>,
    inbound: mpsc::Sender<Heard>,
}

pub struct Node {
    config: NodeConfig,
    passport: PassportId,
    running: RunningEngine,
    metrics: Arc<NodeMetrics>,
    gossip: tokio::task::JoinHandle<()>,
    api_address: SocketAddr,
    /// The height the engine resumed at.
    resumed_at: u64,
    /// Set while the node follows the cell without voting up to its signer's record.
    catching_up_to: Option<u64>,
}

impl Node {
    /// Assembles and starts every part of the validator `config` describes, with the crashes
    /// `faults` injects (none in production: [`FaultPlan::default`]).
    pub async fn start(config: NodeConfig, faults: FaultPlan) -> Result<Self, NodeError> {
        let identity = Identity::load(&config)?;
        let store = open_store(&config.store_dir(), &identity.genesis)?;
        identity.warn_if_not_registered(&Ledger::open(store.state())?)?;
        let mut app = CellApp::open(identity.context(), store.clone(), identity.keys.bls()?)?;
        app.inject_crashes(faults.before_commit, faults.during_commit);
        let resumed_at = app.next_height().0;
        let mempool = SharedMempool::new(MempoolLimits::default(), app.verified_signatures());
        let engine = CellEngine::new(
            identity.context(),
            engine_settings(&config, identity.network_key.clone(), faults),
            identity.passport,
            identity.consensus_key.clone(),
            app,
            mempool.clone(),
        )?;
        let catching_up_to = engine.catching_up_to();
        warn_if_catching_up(catching_up_to, resumed_at);
        let mut running = engine.launch().await?;
        let metrics = Arc::new(NodeMetrics::new());
        let gossip = Gossip::default();
        let genesis = &identity.genesis;
        let topic = gossip::transactions_topic(&genesis.federation, genesis.cell);
        let admission = Arc::new(Admission::new(
            mempool,
            Ledger::open(store.state())?,
            Arc::clone(&metrics),
            TransactionGossip::start(gossip.publisher(&topic)),
        ));
        let federation = start_finality(&config, &identity, &store, &gossip, &running, &metrics)?;
        if let Some(votes) = running.take_heard_votes() {
            let reporter = EvidenceReporter {
                context: identity.context(),
                passport: identity.passport,
                controller: identity.keys.controller()?,
                ledger: Ledger::open(store.state())?,
                admission: Arc::clone(&admission),
                metrics: Arc::clone(&metrics),
            };
            tokio::spawn(reporter.run(votes, running.committed()));
        }
        let api = ApiState::new(ApiParts {
            ledger: Ledger::open(store.state())?,
            blocks: BlockStore::new(store),
            admission: Arc::clone(&admission),
            metrics: Arc::clone(&metrics),
            committed: running.committed_sender(),
            position: running.position(),
            finality: federation.as_ref().map(|part| Arc::clone(&part.collector)),
        });
        let gossip = gossip.start(
            identity.mesh_keypair()?,
            &config.gossip,
            topic,
            federation.map(|part| (part.topics, part.inbound)),
            admission,
            Arc::clone(&metrics),
        )?;
        let api_address = serve_api(config.api.listen, api).await?;
        Ok(Self {
            passport: identity.passport,
            config,
            running,
            metrics,
            gossip,
            api_address,
            resumed_at,
            catching_up_to,
        })
    }

    pub fn api_address(&self) -> SocketAddr {
        self.api_address
    }

    /// Reports every committed block on stdout until the node stops, and says why it did.
    /// A node stalled without its peers, or caught up to its signer's record, must start
    /// afresh; stopping its parts is left to [`Node::stop`].
    pub async fn run(&mut self, stop: &mut StopSignals) -> Result<Stopped, NodeError> {
        println!(
            "{}: validator {} at height {} listening on {}, api http://{}",
            self.config.moniker,
            self.passport,
            self.resumed_at,
            self.config.consensus.listen,
            self.api_address
        );
        let consensus = &self.config.consensus;
        let stalled_after = Duration::from_secs(consensus.restart_when_stalled_secs);
        let mut watchdog = StallWatchdog::new(stalled_after, consensus.peers.len(), Instant::now());
        let mut check_stall = tokio::time::interval(Duration::from_secs(1));
        let mut committed = self.running.committed();
        loop {
            tokio::select! {
                _ = check_stall.tick(), if !stalled_after.is_zero() => {
                    let Some(connected) = self.running.connected_peers().await else { continue };
                    if watchdog.should_restart(Instant::now(), connected) {
                        tracing::error!(
                            connected,
                            configured = consensus.peers.len(),
                            stalled_secs = stalled_after.as_secs(),
                            "nothing committed and consensus peers missing"
                        );
                        return Ok(Stopped::StartAfresh("to dial the missing consensus peers again"));
                    }
                }
                block = committed.recv() => match block {
                    Ok(block) => {
                        watchdog.progressed(Instant::now());
                        if let Some(stopped) = self.committed(&block)? {
                            return Ok(stopped);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "progress output fell behind"),
                    Err(RecvError::Closed) => return Ok(Stopped::EngineEnded),
                },
                () = stop.recv() => return Ok(Stopped::Signalled),
            }
        }
    }

    /// Records and prints a committed block; a node that was catching up and now reached its
    /// signer's record must start afresh to vote again.
    fn committed(&self, block: &CommittedBlock) -> Result<Option<Stopped>, NodeError> {
        self.metrics.record_block(block);
        println!(
            "committed height={} block={} root={} transactions={}",
            block.height.0,
            block.hash,
            block.state_root,
            block.outcomes.len()
        );
        std::io::stdout().flush().map_err(NodeError::Output)?;
        if self
            .catching_up_to
            .is_some_and(|mark| block.height.0 >= mark)
        {
            tracing::info!(height = block.height.0, "caught up to the signer's record");
            return Ok(Some(Stopped::StartAfresh(
                "to take part as a validator again",
            )));
        }
        Ok(None)
    }

    /// Stops the gossip mesh and the engine.
    pub async fn stop(self) {
        self.gossip.abort();
        self.running.stop().await;
    }
}

/// The node's store at `path`, its ledger initialized from `genesis` on a node's first start.
fn open_store(path: &Path, genesis: &Genesis) -> Result<NodeStore, NodeError> {
    let store = NodeStore::open(path).map_err(|source| NodeError::Store {
        path: path.to_path_buf(),
        source,
    })?;
    let mut ledger = Ledger::open(store.state())?;
    if ledger.height().is_none() {
        let root = ledger.init_genesis(genesis)?;
        tracing::info!(%root, "initialized the ledger from genesis");
    }
    Ok(store)
}

fn engine_settings(
    config: &NodeConfig,
    network_key: Option<Ed25519Keypair>,
    faults: FaultPlan,
) -> EngineSettings {
    EngineSettings {
        moniker: config.moniker.clone(),
        home: config.engine_home(),
        listen: config.consensus.listen.clone(),
        peers: config.consensus.peers.clone(),
        timeouts: config.consensus.timeouts.clone(),
        network_key,
        signer_crash: faults.after_signer_persists,
    }
}

fn warn_if_catching_up(catching_up_to: Option<u64>, resumed_at: u64) {
    if let Some(mark) = catching_up_to {
        tracing::warn!(
            mark,
            ledger = resumed_at - 1,
            "this validator's signer signed at a height this node cannot safely vote at (its \
             ledger is behind, or the engine's log of its votes there is gone); following the \
             cell without voting through that height"
        );
    }
}

/// Starts federation finality when `config` puts the cell in a federation.
fn start_finality(
    config: &NodeConfig,
    identity: &Identity,
    store: &NodeStore,
    gossip: &Gossip,
    running: &RunningEngine,
    metrics: &Arc<NodeMetrics>,
) -> Result<Option<FederationPart>, NodeError> {
    let Some(section) = &config.federation else {
        return Ok(None);
    };
    let certificates = FederationStore::open(&config.data_dir)?;
    let collector = Arc::new(Mutex::new(certificates.restore(&section.genesis)?));
    let genesis = &identity.genesis;
    let topic = gossip::checkpoints_topic(&genesis.federation);
    let cell_topic = gossip::cell_checkpoints_topic(&genesis.federation, genesis.cell);
    let inbox = gossip::aggregator_topic(&genesis.federation, genesis.cell, &identity.passport);
    let cells = collector
        .lock()
        .expect("not poisoned")
        .sets()
        .cells()
        .to_vec();
    let follows = section.followed(genesis.cell, &cells)?;
    let publisher = gossip.publisher(&topic);
    let mut topics = vec![topic, cell_topic, inbox];
    (topics).extend(
        (follows.iter()).map(|cell| gossip::certificates_topic(&genesis.federation, *cell)),
    );
    let (inbound, heard) = mpsc::channel(finality::INBOUND_QUEUE);
    let part = Finality {
        collector: Arc::clone(&collector),
        cell: identity.genesis.cell,
        passport: identity.passport,
        signer: CheckpointSigner::open(
            identity.keys.bls()?,
            &checkpoint_signer::record_path(&config.data_dir),
        )?,
        ledger: Ledger::open(store.state())?,
        publisher,
        own_hand_overs: certificates.own_hand_overs()?,
        store: certificates,
        follows,
        catch_up: Default::default(),
        co_signed: Default::default(),
        aggregated: Default::default(),
        metrics: Arc::clone(metrics),
        verdicts: gossip.verdicts(),
    };
    tokio::spawn(part.run(running.committed(), heard));
    Ok(Some(FederationPart {
        collector,
        topics,
        inbound,
    }))
}

/// Serves the API on `address` in the background; returns the address it is bound to.
async fn serve_api(address: SocketAddr, api: Arc<ApiState>) -> Result<SocketAddr, NodeError> {
    let api_error = |source| NodeError::Api { address, source };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(api_error)?;
    let bound = listener.local_addr().map_err(api_error)?;
    let app = crate::api::app(api);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the API server stopped");
        }
    });
    Ok(bound)
}

/// Runs the validator configured at `config_path`, with the crashes `faults` injects, on a
/// runtime of its own until a stop signal or the end of its engine. When it must start afresh, the process is replaced by a fresh run
/// of the same command (see `restart.rs`), and this returns only if that failed.
pub fn run_validator(config_path: &Path, faults: FaultPlan) -> Result<(), NodeError> {
    let config = NodeConfig::load(config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(NodeError::Runtime)?;
    let stopped = runtime.block_on(async {
        let mut stop = StopSignals::listen().map_err(NodeError::Runtime)?;
        let mut node = Node::start(config, faults).await?;
        let stopped = node.run(&mut stop).await?;
        // A node starting afresh is replaced whole, as by a crash and restart.
        if !matches!(stopped, Stopped::StartAfresh(_)) {
            tracing::info!(?stopped, "stopping");
            node.stop().await;
        }
        Ok::<_, NodeError>(stopped)
    })?;
    match stopped {
        Stopped::StartAfresh(reason) => Err(NodeError::StartAfresh {
            reason,
            source: crate::restart::start_afresh(),
        }),
        Stopped::Signalled | Stopped::EngineEnded => Ok(()),
    }
}
