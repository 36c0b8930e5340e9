//! Starting a validator's engine: Malachite with Charter's context, codec, guarded signer and
//! host. This is the one place that knows how the engine is started; the rest of the node sees
//! a [`RunningEngine`].

use crate::app::Application;
use crate::app::TransactionPool;
use crate::codec::BorshCodec;
use crate::context::*;
use crate::double_votes::{network_actor, tap_votes, HeardVote, VoteTapHandle};
use crate::engine_signer::EngineSigner;
use crate::faults::CrashPoint;
use crate::guarded_signer::GuardedSigner;
use crate::host::{CommittedBlock, ConsensusPosition, Host};
use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519PublicKey};
use charter_ledger::PassportId;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, P2pConfig, TimeoutConfig, ValuePayload, ValueSyncConfig,
};
use malachitebft_app_channel::app::engine::network::NetworkMsg;
use malachitebft_app_channel::app::events::RxEvent;
use malachitebft_app_channel::app::node::{EngineHandle, Node, NodeConfig, NodeHandle};
use malachitebft_app_channel::app::types::core::SigningProvider;
use malachitebft_app_channel::app::types::Keypair;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Votes heard but not yet checked for equivocation; beyond this they are dropped (a cell of
/// 100 validators sends about 200 votes a round).
const HEARD_VOTES_QUEUE: usize = 4_096;

const SYNC_STATUS_INTERVAL: Duration = Duration::from_secs(2);
const SYNC_PARALLEL_REQUESTS: usize = 24;

/// Consensus timeouts. The defaults suit validators on one machine or a LAN: a round whose
/// proposer is down moves on within about three seconds, each further round waits a little
/// longer, and an idle cell makes about one block every one and a half seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    pub propose_ms: u64,
    pub prevote_ms: u64,
    pub precommit_ms: u64,
    /// Added to each timeout per round already failed at this height.
    pub delta_ms: u64,
    /// How long a proposer with nothing to propose waits for transactions before proposing an
    /// empty block (at most three quarters of the propose timeout, leaving the rest for the
    /// empty block to reach the others). An idle cell then makes about one block per this
    /// interval instead of as many as the network allows, and each block costs every
    /// validator its votes, a beacon share and a synced write.
    pub idle_proposal_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            propose_ms: 2_000,
            prevote_ms: 500,
            precommit_ms: 500,
            delta_ms: 250,
            idle_proposal_ms: 1_500,
        }
    }
}

/// How a validator joins its cell's consensus network.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// Names this node in logs and metrics.
    pub moniker: String,
    /// Where the engine keeps its write-ahead log (`home/wal`) and the signer its mark.
    pub home: PathBuf,
    pub listen: libp2p::Multiaddr,
    pub peers: Vec<libp2p::Multiaddr>,
    pub timeouts: Timeouts,
    /// The libp2p identity on the consensus network, when it is not the consensus key's.
    pub network_key: Option<Ed25519Keypair>,
    /// A crash to inject in the guarded signer (crash tests; never in production).
    pub signer_crash: CrashPoint,
}

impl EngineSettings {
    /// Settings for validator `index` of a cell whose validators listen on `addresses`: every
    /// other address is a peer, timeouts are the defaults and the consensus key is the network
    /// identity.
    pub fn in_cell(
        moniker: String,
        home: PathBuf,
        addresses: &[libp2p::Multiaddr],
        index: usize,
    ) -> Self {
        assert!(index < addresses.len(), "validator {index} has no address");
        EngineSettings {
            moniker,
            home,
            listen: addresses[index].clone(),
            peers: (addresses.iter().enumerate())
                .filter(|(other, _)| *other != index)
                .map(|(_, address)| address.clone())
                .collect(),
            timeouts: Timeouts::default(),
            network_key: None,
            signer_crash: CrashPoint::default(),
        }
    }
}

/// The engine's configuration, derived from [`EngineSettings`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
}

impl EngineConfig {
    fn new(settings: &EngineSettings) -> Self {
        let ms = Duration::from_millis;
        let timeouts = &settings.timeouts;
        let timeouts = TimeoutConfig {
            timeout_propose: ms(timeouts.propose_ms),
            timeout_propose_delta: ms(timeouts.delta_ms),
            timeout_prevote: ms(timeouts.prevote_ms),
            timeout_prevote_delta: ms(timeouts.delta_ms),
            timeout_precommit: ms(timeouts.precommit_ms),
            timeout_precommit_delta: ms(timeouts.delta_ms),
            timeout_rebroadcast: ms(timeouts.propose_ms
                + timeouts.prevote_ms
                + timeouts.precommit_ms),
        };
        let p2p = P2pConfig {
            listen_addr: settings.listen.clone(),
            persistent_peers: settings.peers.clone(),
            ..P2pConfig::default()
        };
        // Parts-only: the engine learns of a proposal only through the host, which judges it
        // (a proposal-only engine would mark every received value valid unasked).
        let consensus = ConsensusConfig {
            timeouts,
            p2p,
            value_payload: ValuePayload::PartsOnly,
            queue_capacity: 0,
        };
        Self {
            moniker: settings.moniker.clone(),
            consensus,
            value_sync: ValueSyncConfig {
                // A validator learns that peers are ahead from their status, so a restarted one
                // waits up to this long before it asks for the first block it missed.
                status_update_interval: SYNC_STATUS_INTERVAL,
                // Heights asked for at once while catching up (and decided values held ahead of
                // the one being committed): each request is one block, so a window this wide
                // keeps the link busy while the blocks before are committed.
                parallel_requests: SYNC_PARALLEL_REQUESTS,
                ..ValueSyncConfig::default()
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("opening the guarded signer: {0}")]
    Signer(#[from] crate::guarded_signer::SignerError),
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    #[error("creating the engine's home directory: {0}")]
    Home(#[from] std::io::Error),
    #[error("starting the engine: {0}")]
    Start(String),
    #[error("this validator was already started")]
    AlreadyStarted,
}

/// The engine's handle to our signer, shared with the host (which signs proposal streams).
#[derive(Clone)]
pub struct SharedSigner(Arc<EngineSigner>);

impl SigningProvider<CellContext> for SharedSigner {
    fn sign_vote(&self, vote: ConsensusVote) -> malachitebft_core_types::SignedVote<CellContext> {
        self.0.sign_vote(vote)
    }
    fn verify_signed_vote(
        &self,
        vote: &ConsensusVote,
        signature: &charter_ledger::crypto::ed25519::Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        self.0.verify_signed_vote(vote, signature, public_key)
    }
    fn sign_proposal(
        &self,
        proposal: ConsensusProposal,
    ) -> malachitebft_core_types::SignedProposal<CellContext> {
        self.0.sign_proposal(proposal)
    }
    fn verify_signed_proposal(
        &self,
        proposal: &ConsensusProposal,
        signature: &charter_ledger::crypto::ed25519::Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        self.0
            .verify_signed_proposal(proposal, signature, public_key)
    }
    fn sign_proposal_part(
        &self,
        part: ProposalPart,
    ) -> malachitebft_core_types::SignedProposalPart<CellContext> {
        self.0.sign_proposal_part(part)
    }
    fn verify_signed_proposal_part(
        &self,
        part: &ProposalPart,
        signature: &charter_ledger::crypto::ed25519::Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        self.0
            .verify_signed_proposal_part(part, signature, public_key)
    }
    fn sign_vote_extension(
        &self,
        extension: (),
    ) -> malachitebft_core_types::SignedExtension<CellContext> {
        self.0.sign_vote_extension(extension)
    }
    fn verify_signed_vote_extension(
        &self,
        extension: &(),
        signature: &charter_ledger::crypto::ed25519::Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        self.0
            .verify_signed_vote_extension(extension, signature, public_key)
    }
}

/// Where the guarded signer keeps its record, in the engine's home.
pub fn signer_state_path(home: &std::path::Path) -> PathBuf {
    home.join("signer_state.json")
}

/// What the engine's `Node` needs: this validator's identity, keys, settings, and the app and
/// pool it hands to the host when started.
pub struct CellEngine<A: Application, P: TransactionPool<A>> {
    inner: Arc<CellEngineInner<A, P>>,
}

struct CellEngineInner<A: Application, P: TransactionPool<A>> {
    context: CellContext,
    settings: EngineSettings,
    passport: PassportId,
    key: Ed25519Keypair,
    signer: SharedSigner,
    parts: Mutex<Option<(A, P)>>,
    /// The height of the guarded signer's record, while the node must not vote up to it.
    catching_up_to: Option<u64>,
}

/// Malachite's write-ahead log in the engine's home.
const WRITE_AHEAD_LOG: &str = "wal/consensus.wal";

/// The address the engine runs under while catching up: no validator's, so the engine only
/// follows the cell (Malachite signs nothing for a node outside the validator set).
const OBSERVER: PassportId = PassportId([0; 32]);

impl<A: Application, P: TransactionPool<A>> Clone for CellEngine<A, P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// A started validator: the engine, its host, and the stream of blocks it commits.
pub struct RunningEngine {
    engine: EngineHandle,
    events: malachitebft_app_channel::app::events::TxEvent<CellContext>,
    committed: broadcast::Sender<CommittedBlock>,
    position: watch::Sender<ConsensusPosition>,
    host: tokio::task::JoinHandle<()>,
    vote_tap: VoteTapHandle,
    heard_votes: Option<mpsc::Receiver<HeardVote>>,
}

impl RunningEngine {
    pub fn committed(&self) -> broadcast::Receiver<CommittedBlock> {
        self.committed.subscribe()
    }

    /// The sender side, for parts of the node that subscribe later (API clients).
    pub fn committed_sender(&self) -> broadcast::Sender<CommittedBlock> {
        self.committed.clone()
    }

    pub fn position(&self) -> watch::Receiver<ConsensusPosition> {
        self.position.subscribe()
    }

    /// The votes peers send, unverified, for double-vote detection; `None` once taken.
    pub fn take_heard_votes(&mut self) -> Option<mpsc::Receiver<HeardVote>> {
        self.heard_votes.take()
    }

    /// How many peers the consensus network is connected to; `None` if its actor does not
    /// answer.
    pub async fn connected_peers(&self) -> Option<usize> {
        let network = network_actor(&self.engine)?;
        ractor::call!(network, |reply| NetworkMsg::GetState { reply }).ok()
    }

    /// Stops the engine and the host, waiting for the engine's actors to finish.
    pub async fn stop(self) {
        drop(self.vote_tap);
        let _ = self.engine.actor.kill_and_wait(None).await;
        self.host.abort();
        self.engine.handle.abort();
    }
}

#[async_trait::async_trait]
impl NodeHandle<CellContext> for RunningEngine {
    fn subscribe(&self) -> RxEvent<CellContext> {
        self.events.subscribe()
    }

    async fn kill(&self, _reason: Option<String>) -> eyre::Result<()> {
        self.engine.actor.kill_and_wait(None).await?;
        self.host.abort();
        self.engine.handle.abort();
        Ok(())
    }
}

impl<A: Application, P: TransactionPool<A> + 'static> CellEngine<A, P> {
    /// Prepares a validator; opening the guarded signer reads its persisted mark.
    pub fn new(
        context: CellContext,
        settings: EngineSettings,
        passport: PassportId,
        key: Ed25519Keypair,
        app: A,
        pool: P,
    ) -> Result<Self, EngineError> {
        std::fs::create_dir_all(&settings.home)?;
        let mut guarded = GuardedSigner::open(key.clone(), &signer_state_path(&settings.home))?;
        guarded.crash_after_persisting(settings.signer_crash);
        // A ledger below the height this key last signed at (a data directory restored or
        // resynced) would have the engine ask for signatures the guard must refuse, and so
        // would the height itself without the write-ahead log that replays this node's votes
        // there; through that height the node follows the cell without voting. A node that
        // merely restarts is at that height with its log, and votes.
        let next = app.next_height().0;
        let has_log = settings.home.join(WRITE_AHEAD_LOG).exists();
        let catching_up_to = guarded
            .high_water_mark()
            .map(|mark| mark.height)
            .filter(|mark| next < *mark || (next == *mark && !has_log));
        let signer = SharedSigner(Arc::new(EngineSigner::new(
            context.clone(),
            ValidatorAddress(passport),
            key.clone(),
            guarded,
        )));
        let inner = CellEngineInner {
            context,
            settings,
            passport,
            key,
            signer,
            parts: Mutex::new(Some((app, pool))),
            catching_up_to,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// While the node must not vote up to the height of the guarded signer's record, that
    /// height: the node follows the cell without voting until it has committed it, and must
    /// then start afresh to take part again.
    pub fn catching_up_to(&self) -> Option<u64> {
        self.inner.catching_up_to
    }

    /// Starts the engine and the host.
    pub async fn launch(&self) -> Result<RunningEngine, EngineError> {
        let (app, pool) = self
            .inner
            .parts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .ok_or(EngineError::AlreadyStarted)?;
        let validators = ConsensusValidatorSet::from(&app.validator_set()?);
        let start_height = Some(app.next_height());
        let idle_proposal = Duration::from_millis(self.inner.settings.timeouts.idle_proposal_ms);
        let host = Host::new(
            app,
            pool,
            self.inner.context.clone(),
            Arc::clone(&self.inner.signer.0),
            ValidatorAddress(self.inner.passport),
            idle_proposal,
        );
        let committed = host.committed_sender();
        let position = host.position_sender();
        let config = EngineConfig::new(&self.inner.settings);
        let (channels, engine) = malachitebft_app_channel::start_engine(
            self.inner.context.clone(),
            self.clone(),
            config,
            BorshCodec,
            BorshCodec,
            start_height,
            validators,
        )
        .await
        .map_err(|error| EngineError::Start(format!("{error:#}")))?;
        let (vote_tap, heard_votes) = tap_votes(&engine, HEARD_VOTES_QUEUE)
            .await
            .map_err(|error| EngineError::Start(error.to_string()))?;
        let events = channels.events.clone();
        let host = tokio::spawn(async move {
            if let Err(error) = host.run(channels).await {
                tracing::error!(%error, "the consensus host stopped");
            }
        });
        Ok(RunningEngine {
            engine,
            events,
            committed,
            position,
            host,
            vote_tap,
            heard_votes: Some(heard_votes),
        })
    }
}

#[async_trait::async_trait]
impl<A: Application, P: TransactionPool<A> + 'static> Node for CellEngine<A, P> {
    type Context = CellContext;
    type Config = EngineConfig;
    type Genesis = ();
    // The key is handed over in memory when the node is built; there is no file to load.
    type PrivateKeyFile = ();
    type SigningProvider = SharedSigner;
    type NodeHandle = RunningEngine;

    async fn start(&self) -> eyre::Result<RunningEngine> {
        Ok(self.launch().await?)
    }

    async fn run(self) -> eyre::Result<()> {
        let running = self.launch().await?;
        running.engine.handle.await?;
        Ok(())
    }

    fn get_home_dir(&self) -> PathBuf {
        self.inner.settings.home.clone()
    }

    fn load_config(&self) -> eyre::Result<EngineConfig> {
        Ok(EngineConfig::new(&self.inner.settings))
    }

    fn get_address(&self, _public_key: &Ed25519PublicKey) -> ValidatorAddress {
        match self.inner.catching_up_to {
            Some(_) => ValidatorAddress(OBSERVER),
            None => ValidatorAddress(self.inner.passport),
        }
    }

    fn get_public_key(&self, private_key: &Ed25519Keypair) -> Ed25519PublicKey {
        private_key.public_key()
    }

    fn get_keypair(&self, private_key: Ed25519Keypair) -> Keypair {
        let identity = self.inner.settings.network_key.as_ref();
        Keypair::ed25519_from_bytes(identity.unwrap_or(&private_key).seed())
            .expect("a 32-byte seed is a valid ed25519 secret key")
    }

    fn load_private_key(&self, _file: ()) -> Ed25519Keypair {
        self.inner.key.clone()
    }

    fn load_private_key_file(&self) -> eyre::Result<()> {
        Ok(())
    }

    fn load_genesis(&self) -> eyre::Result<()> {
        Ok(())
    }

    fn get_signing_provider(&self, _private_key: Ed25519Keypair) -> SharedSigner {
        self.inner.signer.clone()
    }
}
