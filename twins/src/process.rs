//! One simulated process: a validator's engine as Malachite's core state machine, with the
//! node's own [`Host`] (Charter's application on its own store), its guarded signer, a
//! write-ahead log and timers. The simulation hands it one input at a time; it answers every
//! effect the state machine yields the way Malachite's engine does, and puts what leaves the
//! process in an [`Outbox`]. It can be killed at rest or in the middle of an input and
//! restarted from what it stored, as a real process is.

use crate::pool::TransferPool;
use crate::wal::Wal;
use charter_consensus::app::{AppError, CellApp};
use charter_consensus::block::{BlockHash, BlockHeight};
use charter_consensus::context::{
    CellContext, ConsensusValidatorSet, ConsensusVote, ProposalPart, ValidatorAddress,
};
use charter_consensus::engine_signer::EngineSigner;
use charter_consensus::guarded_signer::{GuardedSigner, SignerError};
use charter_consensus::host::{Host, HostError};
use charter_devnet::fixtures::DevCell;
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_store::{NodeStore, StoreError};
use malachitebft_app_channel::app::engine::host::Next;
use malachitebft_app_channel::app::types::streaming::StreamMessage;
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::{AppMsg, NetworkMsg};
use malachitebft_core_consensus::{
    ConsensusMsg, Effect, Input, LivenessMsg, Params, Resumable, Resume, SignedConsensusMsg, State,
    WalEntry,
};
use malachitebft_core_types::{
    CommitCertificate, Round, SignedMessage, SigningProvider, SigningProviderExt, ThresholdParams,
    Timeout, TimeoutKind, ValueOrigin, ValuePayload, ValueResponse, VoteExtensions,
};
use malachitebft_metrics::Metrics;
use malachitebft_peer::PeerId;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub type Ctx = CellContext;

/// What one process sends another.
#[derive(Clone, Debug)]
pub enum Message {
    Consensus(Box<SignedConsensusMsg<Ctx>>),
    Liveness(LivenessMsg<Ctx>),
    /// A proposal stream, whole, as one connection delivers it.
    Proposal(Vec<StreamMessage<ProposalPart>>),
    /// Asks for the decided block at a height, as Malachite's sync does.
    SyncRequest(BlockHeight),
    SyncResponse(RawDecidedValue<Ctx>),
}

/// What leaves a process while it handles one input.
#[derive(Default)]
pub struct Outbox {
    pub broadcast: Vec<Message>,
    pub replies: Vec<(usize, Message)>,
    /// Timers to start: the timeout, its generation, and when it fires, in milliseconds.
    pub timers: Vec<(Timeout, u64, u64)>,
    /// Blocks the engine decided and the host committed.
    pub committed: Vec<(BlockHeight, BlockHash)>,
    /// Votes this process published, as signed.
    pub votes: Vec<SignedMessage<Ctx, ConsensusVote>>,
    /// Proposals this process streamed: height, round and block.
    pub proposals: Vec<(BlockHeight, u32, BlockHash)>,
    /// Errors the node would stop on.
    pub failures: Vec<String>,
}

/// How a process is built; it outlives every incarnation.
pub struct ProcessSetup {
    pub index: usize,
    pub cell: Arc<DevCell>,
    pub key: Ed25519Keypair,
    /// The validator's BLS key, for its beacon reveals.
    pub reveal_key: BlsSecretKey,
    pub address: ValidatorAddress,
    pub dir: PathBuf,
    /// A store holding the cell's genesis state, copied for a process starting from nothing.
    pub genesis_store: PathBuf,
    /// The member whose transfers this process proposes.
    pub sender: usize,
    /// Whether votes go through the guarded signer: off only to show the simulation catches a
    /// validator that signs conflicting votes.
    pub guard_votes: bool,
    pub timeouts: Durations,
}

/// Timeout lengths, in milliseconds, each growing by `delta` when it elapses (as Malachite's
/// engine lengthens them round after round).
#[derive(Clone, Copy, Debug)]
pub struct Durations {
    pub propose: u64,
    pub prevote: u64,
    pub precommit: u64,
    pub delta: u64,
}

impl Durations {
    fn of(&self, kind: TimeoutKind) -> u64 {
        match kind {
            TimeoutKind::Propose => self.propose,
            TimeoutKind::Prevote => self.prevote,
            TimeoutKind::Precommit => self.precommit,
            TimeoutKind::Rebroadcast => self.propose + self.prevote + self.precommit,
        }
    }

    fn lengthen(&mut self, kind: TimeoutKind) {
        match kind {
            TimeoutKind::Propose => self.propose += self.delta,
            TimeoutKind::Prevote => self.prevote += self.delta,
            TimeoutKind::Precommit => self.precommit += self.delta,
            TimeoutKind::Rebroadcast => {}
        }
    }
}

/// The engine's work queue: inputs for the state machine, and heights to start (which replay
/// the write-ahead log first).
enum Step {
    Input(Box<Input<Ctx>>),
    StartHeight(BlockHeight, ConsensusValidatorSet, bool),
}

/// A process that was killed while handling an input; nothing after that instant happens.
#[derive(Debug)]
struct Killed;

/// Why a process could not start from what it stored.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("copying the genesis store: {0}")]
    Copy(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Signer(#[from] SignerError),
    #[error(transparent)]
    Host(#[from] HostError),
}

pub struct Process {
    setup: ProcessSetup,
    wal: Wal,
    running: Option<Running>,
    timer_generation: u64,
}

struct Running {
    consensus: State<Ctx>,
    metrics: Metrics,
    effects: Effects,
}

/// Everything the effect handler touches besides the state machine.
struct Effects {
    host: Host<CellApp, TransferPool>,
    network: mpsc::Sender<NetworkMsg<Ctx>>,
    published: mpsc::Receiver<NetworkMsg<Ctx>>,
    signer: Arc<EngineSigner>,
    context: Ctx,
    key: Ed25519Keypair,
    guard_votes: bool,
    timers: HashMap<Timeout, u64>,
    durations: Durations,
    initial_durations: Durations,
    recovering: bool,
    /// Effects left before an injected kill.
    kill_after: Option<u32>,
    killed: bool,
}

/// The peer id a process is known by.
pub fn peer_id(process: usize) -> PeerId {
    let index = u32::try_from(process).expect("a simulation has few processes");
    let mut bytes = vec![0x00, 0x04];
    bytes.extend_from_slice(&index.to_be_bytes());
    PeerId::from_bytes(&bytes).expect("an identity multihash of four bytes is a peer id")
}

impl Process {
    pub fn new(setup: ProcessSetup) -> Self {
        Self {
            setup,
            wal: Wal::default(),
            running: None,
            timer_generation: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The height the engine works on, while it runs.
    pub fn height(&self) -> Option<BlockHeight> {
        self.running
            .as_ref()
            .map(|running| running.consensus.height())
    }

    /// Starts the engine from the store, the signer's record and the log, as the node does.
    pub fn start(&mut self, out: &mut Outbox) {
        assert!(
            self.running.is_none(),
            "a running process is not started again"
        );
        match self.open() {
            Ok((running, height, validators)) => {
                self.running = Some(running);
                self.run(Step::StartHeight(height, validators, false), out);
            }
            Err(error) => out.failures.push(format!("start: {error}")),
        }
    }

    fn open(&mut self) -> Result<(Running, BlockHeight, ConsensusValidatorSet), StartError> {
        let setup = &self.setup;
        let context = CellContext {
            federation: setup.cell.genesis.federation,
            cell: setup.cell.genesis.cell,
        };
        let store_dir = setup.dir.join("store");
        if !store_dir.exists() {
            copy_files(&setup.genesis_store, &store_dir)?;
        }
        let store = NodeStore::open(&store_dir)?;
        let app = CellApp::open(context.clone(), store, setup.reveal_key.clone())?;
        let recipient = (setup.sender + 1) % setup.cell.config.members;
        let amount = 1 + setup.index as u64;
        let pool = TransferPool::new(&setup.cell, setup.sender, recipient, amount, app.ledger());
        let guarded = GuardedSigner::open(setup.key.clone(), &setup.dir.join("signer.json"))?;
        let signer = Arc::new(EngineSigner::new(
            context.clone(),
            setup.address,
            setup.key.clone(),
            guarded,
        ));
        let host = Host::new(
            app,
            pool,
            context.clone(),
            signer.clone(),
            setup.address,
            Duration::ZERO,
        );
        let (network, published) = mpsc::channel(64);
        let mut effects = Effects {
            host,
            network,
            published,
            signer,
            context: context.clone(),
            key: setup.key.clone(),
            guard_votes: setup.guard_votes,
            timers: HashMap::new(),
            durations: setup.timeouts,
            initial_durations: setup.timeouts,
            recovering: false,
            kill_after: None,
            killed: false,
        };
        let (height, validators) = effects
            .ask(|reply| AppMsg::ConsensusReady { reply })?
            .expect("the host answers ConsensusReady");
        let params = Params {
            initial_height: height,
            initial_validator_set: validators.clone(),
            address: setup.address,
            threshold_params: ThresholdParams::default(),
            value_payload: ValuePayload::PartsOnly,
        };
        let consensus = State::new(context, params, 128);
        let running = Running {
            consensus,
            metrics: Metrics::new(),
            effects,
        };
        Ok((running, height, validators))
    }

    /// Kills the process now. What its log had not flushed is lost; `lose_log` loses the rest
    /// of the log too, and `lose_store` its store (its signer's record survives both).
    pub fn kill(&mut self, lose_log: bool, lose_store: bool) {
        self.running = None;
        self.wal.lose_unflushed();
        if lose_log {
            self.wal = Wal::default();
        }
        if lose_store {
            let store = self.setup.dir.join("store");
            if let Err(error) = std::fs::remove_dir_all(&store) {
                assert!(
                    error.kind() == std::io::ErrorKind::NotFound,
                    "emptying {}: {error}",
                    store.display()
                );
            }
        }
    }

    /// Arms a kill after `effects` more effects, in the middle of some later input.
    pub fn kill_after(&mut self, effects: u32) {
        if let Some(running) = &mut self.running {
            running.effects.kill_after = Some(effects);
        }
    }

    pub fn receive(&mut self, from: usize, message: Message, out: &mut Outbox) {
        let Some(running) = &mut self.running else {
            return;
        };
        let input = match message {
            Message::Consensus(consensus) => match *consensus {
                SignedConsensusMsg::Vote(vote) => Input::Vote(vote),
                SignedConsensusMsg::Proposal(proposal) => Input::Proposal(proposal),
            },
            Message::Liveness(LivenessMsg::Vote(vote)) => Input::Vote(vote),
            Message::Liveness(LivenessMsg::PolkaCertificate(certificate)) => {
                Input::PolkaCertificate(certificate)
            }
            Message::Liveness(LivenessMsg::SkipRoundCertificate(certificate)) => {
                Input::RoundCertificate(certificate)
            }
            Message::Proposal(parts) => {
                return self.receive_stream(from, parts, out);
            }
            Message::SyncRequest(height) => {
                let decided = running
                    .effects
                    .ask(|reply| AppMsg::GetDecidedValue { height, reply });
                match decided {
                    Ok(Some(Some(value))) => out.replies.push((from, Message::SyncResponse(value))),
                    Ok(_) => {}
                    Err(error) => out.failures.push(format!("serving sync: {error}")),
                }
                return;
            }
            // The host names a synced block's proposer itself, from the commit's round.
            Message::SyncResponse(value) => Input::SyncValueResponse(ValueResponse::new(
                peer_id(from),
                self.setup.address,
                value.value_bytes,
                value.certificate,
            )),
        };
        self.run(Step::Input(Box::new(input)), out);
    }

    fn receive_stream(
        &mut self,
        from: usize,
        parts: Vec<StreamMessage<ProposalPart>>,
        out: &mut Outbox,
    ) {
        for part in parts {
            let Some(running) = &mut self.running else {
                return;
            };
            let judged = running.effects.ask(|reply| AppMsg::ReceivedProposalPart {
                from: peer_id(from),
                part,
                reply,
            });
            match judged {
                Ok(Some(Some(value))) => {
                    self.run(
                        Step::Input(Box::new(Input::ProposedValue(
                            value,
                            ValueOrigin::Consensus,
                        ))),
                        out,
                    );
                }
                Ok(_) => {}
                Err(error) => out.failures.push(format!("judging a proposal: {error}")),
            }
        }
    }

    /// A timer fired; it counts only if it is still the one the engine last started.
    pub fn timer_fired(&mut self, timeout: Timeout, generation: u64, out: &mut Outbox) {
        let Some(running) = &mut self.running else {
            return;
        };
        if running.effects.timers.get(&timeout) != Some(&generation) {
            return;
        }
        running.effects.timers.remove(&timeout);
        running.effects.durations.lengthen(timeout.kind);
        self.run(Step::Input(Box::new(Input::TimeoutElapsed(timeout))), out);
    }

    /// Handles a step and every step it leads to, as the engine's mailbox would.
    fn run(&mut self, first: Step, out: &mut Outbox) {
        let mut steps = VecDeque::from([first]);
        while let Some(step) = steps.pop_front() {
            let Some(running) = &mut self.running else {
                return;
            };
            let mut context = StepContext {
                wal: &mut self.wal,
                steps: &mut steps,
                out,
                timer_generation: &mut self.timer_generation,
            };
            match step {
                Step::Input(input) => running.process(*input, &mut context),
                Step::StartHeight(height, validators, restart) => {
                    running.start_height(height, validators, restart, &mut context)
                }
            }
            if running.effects.killed {
                self.kill(false, false);
                return;
            }
        }
    }
}

/// Copies the files of a database directory (RocksDB keeps no subdirectories).
fn copy_files(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

/// What the effect handler writes to while the state machine holds the consensus state.
struct StepContext<'a> {
    wal: &'a mut Wal,
    steps: &'a mut VecDeque<Step>,
    out: &'a mut Outbox,
    timer_generation: &'a mut u64,
}

impl StepContext<'_> {
    /// An input for the state machine once the current one is handled, as the engine sends
    /// itself a message.
    fn follow(&mut self, input: Input<Ctx>) {
        self.steps.push_back(Step::Input(Box::new(input)));
    }
}

/// Sends a message to every other process, noting the votes among them.
fn publish(message: Message, out: &mut Outbox) {
    match &message {
        Message::Consensus(consensus) => {
            if let SignedConsensusMsg::Vote(vote) = consensus.as_ref() {
                out.votes.push(vote.clone());
            }
        }
        Message::Liveness(LivenessMsg::Vote(vote)) => out.votes.push(vote.clone()),
        _ => {}
    }
    out.broadcast.push(message);
}

impl Running {
    fn process(&mut self, input: Input<Ctx>, context: &mut StepContext<'_>) {
        let Running {
            consensus,
            metrics,
            effects,
        } = self;
        let result: Result<(), malachitebft_core_consensus::Error<Ctx>> = malachitebft_core_consensus::process!(
            input: input,
            state: consensus,
            metrics: metrics,
            with: effect => effects.handle(effect, context)
        );
        // The state machine's own refusals (a vote for an unknown validator, a bad
        // certificate) are how it ignores bad input; the node logs them and goes on.
        drop(result);
    }

    /// Starts a height as the engine does: the log's entries for it are replayed, without
    /// being logged again, before anything new is handled.
    fn start_height(
        &mut self,
        height: BlockHeight,
        validators: ConsensusValidatorSet,
        restart: bool,
        context: &mut StepContext<'_>,
    ) {
        let entries = if restart {
            context.wal.reset(height);
            Vec::new()
        } else {
            context.wal.entries_for(height)
        };
        self.effects.recovering = !entries.is_empty();
        self.process(Input::StartHeight(height, validators), context);
        for entry in entries {
            let input = match entry {
                WalEntry::ConsensusMsg(SignedConsensusMsg::Vote(vote)) => Input::Vote(vote),
                WalEntry::ConsensusMsg(SignedConsensusMsg::Proposal(proposal)) => {
                    Input::Proposal(proposal)
                }
                WalEntry::Timeout(timeout) => {
                    self.effects.timers.remove(&timeout);
                    self.effects.durations.lengthen(timeout.kind);
                    Input::TimeoutElapsed(timeout)
                }
                WalEntry::ProposedValue(value) => {
                    Input::ProposedValue(value, ValueOrigin::Consensus)
                }
            };
            self.process(input, context);
        }
        self.effects.recovering = false;
    }
}

impl Effects {
    /// Asks the host, as the engine's channel does; `None` when it sends no reply.
    fn ask<T>(
        &mut self,
        message: impl FnOnce(oneshot::Sender<T>) -> AppMsg<Ctx>,
    ) -> Result<Option<T>, HostError> {
        let (reply, mut answer) = oneshot::channel();
        futures::executor::block_on(self.host.handle(message(reply), &self.network))?;
        Ok(answer.try_recv().ok())
    }

    fn handle(
        &mut self,
        effect: Effect<Ctx>,
        context: &mut StepContext<'_>,
    ) -> Result<Resume<Ctx>, Killed> {
        if self.killed {
            return Err(Killed);
        }
        let resume = match self.apply(effect, context) {
            Ok(resume) => resume,
            Err(error) => {
                context.out.failures.push(error.to_string());
                self.killed = true;
                return Err(Killed);
            }
        };
        match &mut self.kill_after {
            Some(0) => self.killed = true,
            Some(left) => *left -= 1,
            None => {}
        }
        Ok(resume)
    }

    /// Answers one effect as Malachite's engine does.
    fn apply(
        &mut self,
        effect: Effect<Ctx>,
        context: &mut StepContext<'_>,
    ) -> Result<Resume<Ctx>, HostError> {
        let resume = match effect {
            Effect::ResetTimeouts(r) => {
                self.durations = self.initial_durations;
                r.resume_with(())
            }
            Effect::CancelAllTimeouts(r) => {
                self.timers.clear();
                r.resume_with(())
            }
            Effect::CancelTimeout(timeout, r) => {
                self.timers.remove(&timeout);
                r.resume_with(())
            }
            Effect::ScheduleTimeout(timeout, r) => {
                self.schedule(timeout, context);
                r.resume_with(())
            }
            Effect::GetValidatorSet(height, r) => {
                let validators = self.ask(|reply| AppMsg::GetValidatorSet { height, reply })?;
                r.resume_with(validators.flatten())
            }
            Effect::StartRound(height, round, proposer, role, r) => {
                self.flush(context.wal);
                let stored = self.ask(|reply_value| AppMsg::StartedRound {
                    height,
                    round,
                    proposer,
                    role,
                    reply_value,
                })?;
                for value in stored.unwrap_or_default() {
                    context.follow(Input::ProposedValue(value, ValueOrigin::Consensus));
                }
                r.resume_with(())
            }
            Effect::PublishConsensusMsg(message, r) => {
                self.flush(context.wal);
                publish(Message::Consensus(Box::new(message)), context.out);
                r.resume_with(())
            }
            Effect::PublishLivenessMsg(message, r) => {
                publish(Message::Liveness(message), context.out);
                r.resume_with(())
            }
            Effect::RepublishVote(vote, r) => {
                publish(Message::Liveness(LivenessMsg::Vote(vote)), context.out);
                r.resume_with(())
            }
            Effect::RepublishRoundCertificate(certificate, r) => {
                let message = LivenessMsg::SkipRoundCertificate(certificate);
                publish(Message::Liveness(message), context.out);
                r.resume_with(())
            }
            Effect::GetValue(height, round, timeout, r) => {
                self.propose(height, round, timeout, context)?;
                r.resume_with(())
            }
            Effect::RestreamProposal(height, round, valid_round, address, value_id, r) => {
                let message = AppMsg::RestreamProposal {
                    height,
                    round,
                    valid_round,
                    address,
                    value_id,
                };
                futures::executor::block_on(self.host.handle(message, &self.network))?;
                self.publish_streams(context.out);
                r.resume_with(())
            }
            Effect::SyncValue(value, r) => {
                self.synced(value, context)?;
                r.resume_with(())
            }
            Effect::Decide(certificate, extensions, r) => {
                self.decide(certificate, extensions, context)?;
                r.resume_with(())
            }
            Effect::WalAppend(entry, r) => {
                if !self.recovering {
                    context.wal.append(entry);
                }
                r.resume_with(())
            }
            signing => self.sign_or_verify(signing),
        };
        Ok(resume)
    }

    /// The effects the signing provider answers.
    fn sign_or_verify(&self, effect: Effect<Ctx>) -> Resume<Ctx> {
        let signer = &self.signer;
        match effect {
            Effect::SignVote(vote, r) => r.resume_with(self.sign_vote(vote)),
            Effect::SignProposal(proposal, r) => r.resume_with(signer.sign_proposal(proposal)),
            Effect::VerifySignature(message, key, r) => {
                let valid = match &message.message {
                    ConsensusMsg::Vote(vote) => {
                        signer.verify_signed_vote(vote, &message.signature, &key)
                    }
                    ConsensusMsg::Proposal(proposal) => {
                        signer.verify_signed_proposal(proposal, &message.signature, &key)
                    }
                };
                r.resume_with(valid)
            }
            Effect::VerifyCommitCertificate(certificate, set, thresholds, r) => r.resume_with(
                signer.verify_commit_certificate(&self.context, &certificate, &set, thresholds),
            ),
            Effect::VerifyPolkaCertificate(certificate, set, thresholds, r) => r.resume_with(
                signer.verify_polka_certificate(&self.context, &certificate, &set, thresholds),
            ),
            Effect::VerifyRoundCertificate(certificate, set, thresholds, r) => r.resume_with(
                signer.verify_round_certificate(&self.context, &certificate, &set, thresholds),
            ),
            // Charter uses no vote extensions.
            Effect::ExtendVote(_, _, _, r) => r.resume_with(None),
            Effect::VerifyVoteExtension(_, _, _, _, _, r) => r.resume_with(Ok(())),
            other => unreachable!("{other:?} is answered by the engine, not the signer"),
        }
    }

    fn schedule(&mut self, timeout: Timeout, context: &mut StepContext<'_>) {
        *context.timer_generation += 1;
        let generation = *context.timer_generation;
        self.timers.insert(timeout, generation);
        let after = self.durations.of(timeout.kind);
        context.out.timers.push((timeout, generation, after));
    }

    /// Asks the host for this round's proposal, which it streams to the others.
    fn propose(
        &mut self,
        height: BlockHeight,
        round: Round,
        timeout: Timeout,
        context: &mut StepContext<'_>,
    ) -> Result<(), HostError> {
        let timeout = Duration::from_millis(self.durations.of(timeout.kind));
        let value = self.ask(|reply| AppMsg::GetValue {
            height,
            round,
            timeout,
            reply,
        })?;
        if let Some(value) = value {
            context.follow(Input::Propose(value));
        }
        self.publish_streams(context.out);
        Ok(())
    }

    /// A block a peer sent by sync: judged by the host, then handed to the state machine.
    fn synced(
        &mut self,
        value: ValueResponse<Ctx>,
        context: &mut StepContext<'_>,
    ) -> Result<(), HostError> {
        let peer = value.peer;
        let synced = self.ask(|reply| AppMsg::ProcessSyncedValue {
            height: value.certificate.height,
            round: value.certificate.round,
            proposer: value.proposer,
            value_bytes: value.value_bytes,
            reply,
        })?;
        if let Some(synced) = synced.flatten() {
            context.follow(Input::ProposedValue(synced, ValueOrigin::Sync(peer)));
        }
        Ok(())
    }

    /// The host commits the decided block; the engine then starts the next height.
    fn decide(
        &mut self,
        certificate: CommitCertificate<Ctx>,
        extensions: VoteExtensions<Ctx>,
        context: &mut StepContext<'_>,
    ) -> Result<(), HostError> {
        self.flush(context.wal);
        let decided = (certificate.height, certificate.value_id);
        let next = self.ask(|reply| AppMsg::Decided {
            certificate,
            extensions,
            reply,
        })?;
        match next {
            Some(Next::Start(height, validators)) => {
                context.out.committed.push(decided);
                let start = Step::StartHeight(height, validators, false);
                context.steps.push_back(start);
            }
            Some(Next::Restart(height, validators)) => {
                let restart = Step::StartHeight(height, validators, true);
                context.steps.push_back(restart);
            }
            None => {}
        }
        Ok(())
    }

    /// The log is written through before anything leaves the process, except while it is
    /// being replayed.
    fn flush(&self, wal: &mut Wal) {
        if !self.recovering {
            wal.flush();
        }
    }

    fn sign_vote(&self, vote: ConsensusVote) -> SignedMessage<Ctx, ConsensusVote> {
        if self.guard_votes {
            return self.signer.sign_vote(vote);
        }
        let signature = self
            .key
            .sign(&vote.statement(&self.context).signing_bytes());
        SignedMessage::new(vote, signature)
    }

    /// Sends the proposal streams the host published, each as one message.
    fn publish_streams(&mut self, out: &mut Outbox) {
        let mut parts = Vec::new();
        while let Ok(NetworkMsg::PublishProposalPart(part)) = self.published.try_recv() {
            parts.push(part);
        }
        if parts.is_empty() {
            return;
        }
        if let Some(proposal) = streamed_proposal(&parts) {
            out.proposals.push(proposal);
        }
        out.broadcast.push(Message::Proposal(parts));
    }
}

/// The height, round and block of a proposal stream.
fn streamed_proposal(
    parts: &[StreamMessage<ProposalPart>],
) -> Option<(BlockHeight, u32, BlockHash)> {
    let data = |index: usize| parts.get(index).and_then(|part| part.content.as_data());
    match (data(0)?, data(1)?) {
        (ProposalPart::Init { height, round, .. }, ProposalPart::Block(block)) => {
            Some((*height, *round, block.hash()))
        }
        _ => None,
    }
}
