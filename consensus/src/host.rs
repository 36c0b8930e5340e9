//! The engine's host: answers every request Malachite makes of the application, using
//! [`CellApp`] for the ledger and the block store.
//!
//! Proposals travel as a stream of parts — `Init`, the block, then `Fin` with the proposer's
//! guarded signature over the proposal — followed by the stream's end. A received stream is
//! judged only when complete: it must come from the proposer the validator set names for its
//! height and round, carry that proposer's valid signature, and re-execute to the state root
//! its header claims. Streams are buffered per peer with bounds (`proposal_parts.rs`), so a peer
//! cannot exhaust memory.

use crate::app::{AppError, Application, TransactionPool};
use crate::block::*;
use crate::block_store::{BlockStoreError, TransactionOutcome, UndecidedBlock};
use crate::certificate::BlockCertificate;
use crate::context::*;
use crate::engine_signer::EngineSigner;
use crate::guarded_signer::SignerError;
use crate::proposal_parts::ProposalParts;
use bytes::Bytes;
use charter_ledger::{LedgerError, SignedTransaction, StateRoot};
use malachitebft_app_channel::app::engine::host::Next;
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, CommitSignature, Context, Height, Round, Validity,
};
use malachitebft_app_channel::app::types::streaming::{StreamId, StreamMessage};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

/// A committed block, as the rest of the node hears of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedBlock {
    pub height: BlockHeight,
    pub hash: BlockHash,
    /// The round its certificate is from (0 when the first proposal was decided).
    pub round: u32,
    pub state_root: StateRoot,
    pub outcomes: Arc<[TransactionOutcome]>,
}

/// The height and round consensus is working on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsensusPosition {
    pub height: BlockHeight,
    pub round: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] BlockStoreError),
    #[error("the guarded signer refused: {0}")]
    Signer(#[from] SignerError),
    #[error("the engine's network channel is closed")]
    NetworkClosed,
}

pub struct Host<A: Application, P: TransactionPool<A>> {
    app: A,
    pool: P,
    context: CellContext,
    signer: Arc<EngineSigner>,
    address: ValidatorAddress,
    streams: ProposalParts,
    committed: broadcast::Sender<CommittedBlock>,
    position: watch::Sender<ConsensusPosition>,
    idle_proposal: Duration,
    /// The engine's request for our proposal while the pool was empty: answered when
    /// transactions arrive or its idle time is up, while the host goes on answering the rest.
    waiting: Option<WaitingProposal>,
    /// The height of the last block that came by sync: a node taking blocks from its peers is
    /// behind, and waiting for transactions as a proposer would only hold its catch-up up.
    synced: Option<BlockHeight>,
}

/// A proposal the engine asked for, waiting for transactions.
struct WaitingProposal {
    height: BlockHeight,
    round: Round,
    reply: oneshot::Sender<LocallyProposedValue<CellContext>>,
    until: Instant,
}

impl<A: Application, P: TransactionPool<A>> Host<A, P> {
    pub fn new(
        app: A,
        pool: P,
        context: CellContext,
        signer: Arc<EngineSigner>,
        address: ValidatorAddress,
        idle_proposal: Duration,
    ) -> Self {
        let (committed, _) = broadcast::channel(1024);
        let position = watch::Sender::new(ConsensusPosition::default());
        let streams = ProposalParts::default();
        Self {
            app,
            pool,
            context,
            signer,
            address,
            streams,
            committed,
            position,
            idle_proposal,
            waiting: None,
            synced: None,
        }
    }

    /// The application, for reading.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// Announces every block this host commits.
    pub fn committed_sender(&self) -> broadcast::Sender<CommittedBlock> {
        self.committed.clone()
    }

    /// Follows the height and round consensus is in.
    pub fn position_sender(&self) -> watch::Sender<ConsensusPosition> {
        self.position.clone()
    }

    pub async fn run(mut self, mut channels: Channels<CellContext>) -> Result<(), HostError> {
        let arrivals = self.pool.arrivals();
        loop {
            let until = self.waiting.as_ref().map(|waiting| waiting.until);
            let message = match until {
                None => channels.consensus.recv().await,
                Some(until) => tokio::select! {
                    message = channels.consensus.recv() => message,
                    () = arrivals.notified() => {
                        self.end_wait(false, &channels.network).await?;
                        continue;
                    }
                    () = tokio::time::sleep_until(until) => {
                        self.end_wait(true, &channels.network).await?;
                        continue;
                    }
                },
            };
            let Some(message) = message else {
                return Ok(());
            };
            self.handle(message, &channels.network).await?;
        }
    }

    /// Proposes what the pool holds now for the waiting request, unless it holds nothing and
    /// the idle time is not up.
    async fn end_wait(
        &mut self,
        idle_time_up: bool,
        network: &mpsc::Sender<NetworkMsg<CellContext>>,
    ) -> Result<(), HostError> {
        let candidates = self.pool.candidates();
        if candidates.is_empty() && !idle_time_up {
            return Ok(());
        }
        let Some(waiting) = self.waiting.take() else {
            return Ok(());
        };
        debug_assert_eq!(
            waiting.height,
            self.app.next_height(),
            "cleared once decided"
        );
        let Some(block) = self.new_proposal(waiting.height, waiting.round, &candidates)? else {
            return Ok(());
        };
        self.send_proposal(
            waiting.height,
            waiting.round,
            Round::Nil,
            block,
            waiting.reply,
            network,
        )
        .await
    }

    /// Answers the engine with our proposal and streams it to the other validators.
    async fn send_proposal(
        &mut self,
        height: BlockHeight,
        round: Round,
        pol_round: Round,
        block: Block,
        reply: oneshot::Sender<LocallyProposedValue<CellContext>>,
        network: &mpsc::Sender<NetworkMsg<CellContext>>,
    ) -> Result<(), HostError> {
        let _ = reply.send(LocallyProposedValue::new(height, round, block.clone()));
        let stream = self.proposal_stream(height, round, pol_round, block)?;
        publish(network, stream).await
    }

    /// One of our own proposals as the stream the other validators receive: `Init`, the block,
    /// `Fin` with our guarded signature over the proposal, then the stream's end. Empty where
    /// the guard refuses (another proposal was signed there): the node then proposes nothing
    /// this round, and the round's timeout passes it on.
    fn proposal_stream(
        &self,
        height: BlockHeight,
        round: Round,
        pol_round: Round,
        block: Block,
    ) -> Result<Vec<StreamMessage<ProposalPart>>, HostError> {
        let round_number = round.as_u32().unwrap_or(0);
        let proposal = ConsensusProposal {
            height,
            round: round_number,
            block,
            pol_round,
            proposer: self.address,
        };
        let signature = match self.signer.try_sign_proposal(&proposal) {
            Ok(signature) => signature,
            Err(refused) => {
                tracing::warn!(%refused, "the guarded signer refused our proposal; proposing nothing this round");
                return Ok(Vec::new());
            }
        };
        let parts = [
            ProposalPart::Init {
                height,
                round: round_number,
                pol_round: pol_round.as_u32(),
                proposer: self.address,
            },
            ProposalPart::Block(Box::new(proposal.block)),
            ProposalPart::Fin { signature },
        ];
        let stream_id = StreamId::new(Bytes::from(
            borsh::to_vec(&(height, round_number)).expect("writing to a Vec cannot fail"),
        ));
        let contents = parts
            .into_iter()
            .map(StreamContent::Data)
            .chain([StreamContent::Fin]);
        Ok(contents
            .enumerate()
            .map(|(sequence, content)| {
                StreamMessage::new(stream_id.clone(), sequence as u64, content)
            })
            .collect())
    }

    fn validator_set(&self) -> Result<ConsensusValidatorSet, HostError> {
        Ok(ConsensusValidatorSet::from(&self.app.validator_set()?))
    }

    /// Answers one request of the engine; what it publishes goes to `network`.
    pub async fn handle(
        &mut self,
        message: AppMsg<CellContext>,
        network: &mpsc::Sender<NetworkMsg<CellContext>>,
    ) -> Result<(), HostError> {
        // A dropped reply means the engine no longer waits for it; nothing to do.
        match message {
            AppMsg::ConsensusReady { reply } => {
                let _ = reply.send((self.app.next_height(), self.validator_set()?));
            }
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                // A request of an earlier round is no longer waited for.
                self.waiting = None;
                self.position.send_replace(ConsensusPosition {
                    height,
                    round: round.as_u32().unwrap_or(0),
                });
                let _ = reply_value.send(self.stored_proposals(height, round)?);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                self.get_value(height, round, timeout, reply, network)
                    .await?;
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtension { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                address,
                value_id,
            } => {
                // Only our own proposals are ours to stream again.
                if address == self.address {
                    self.restream(height, round, valid_round, &value_id, network)
                        .await?;
                }
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let earliest = self
                    .app
                    .blocks()
                    .earliest_height()?
                    .unwrap_or(BlockHeight::INITIAL);
                let _ = reply.send(earliest);
            }
            AppMsg::ReceivedProposalPart { from, part, reply } => {
                let judged = match self.streams.receive(from, part) {
                    Some(parts) => self.judge(parts)?,
                    None => None,
                };
                let _ = reply.send(judged);
            }
            AppMsg::GetValidatorSet { height, reply } => {
                let _ = reply.send(self.validator_set_at(height)?);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                self.waiting = None;
                let (next, committed) = self.decide(&certificate)?;
                let _ = reply.send(next);
                if let Some(committed) = committed {
                    self.announce(committed);
                }
            }
            AppMsg::GetDecidedValue { height, reply } => {
                let _ = reply.send(self.decided_value(height)?);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer: _,
                value_bytes,
                reply,
            } => {
                let _ = reply.send(self.judge_synced(height, round, &value_bytes)?);
            }
        }
        Ok(())
    }

    /// Streams again a block this node holds, as this round's proposal under the proof of lock
    /// of `valid_round`. It is recorded as this round's proposal before it is signed, so a
    /// restart proposes the same block under the same proof of lock.
    async fn restream(
        &mut self,
        height: BlockHeight,
        round: Round,
        valid_round: Round,
        block: &BlockHash,
        network: &mpsc::Sender<NetworkMsg<CellContext>>,
    ) -> Result<(), HostError> {
        let Some(stored) = self.app.blocks().undecided(height, block)? else {
            return Ok(());
        };
        let proposed = UndecidedBlock {
            round: round.as_u32().unwrap_or(0),
            pol_round: valid_round.as_u32(),
            proposer: self.address.0,
            block: stored.block,
        };
        self.app.blocks().store_undecided(height, &proposed)?;
        let stream = self.proposal_stream(height, round, valid_round, proposed.block)?;
        publish(network, stream).await
    }

    /// The validator set of `height`, which this node knows from the height it last decided.
    fn validator_set_at(
        &self,
        height: BlockHeight,
    ) -> Result<Option<ConsensusValidatorSet>, HostError> {
        let known = height >= self.app.next_height().decrement().unwrap_or_default();
        known.then(|| self.validator_set()).transpose()
    }

    /// Judges a block sync delivered: against the block committed at its height when this
    /// node already committed it, else as the next block.
    fn judge_synced(
        &mut self,
        height: BlockHeight,
        round: Round,
        value_bytes: &[u8],
    ) -> Result<Option<ProposedValue<CellContext>>, HostError> {
        if height >= self.app.next_height() {
            self.synced = Some(height);
            return self.synced_value(height, round, value_bytes);
        }
        let judged = self.committed_value(height, round, value_bytes)?;
        // The answer that completes a decision by sync comes after it, and still shows this
        // node catching up.
        if (judged.as_ref()).is_some_and(|value| value.validity == Validity::Valid) {
            self.synced = Some(height);
        }
        Ok(judged)
    }

    /// Judges a block a peer sent by sync; `None` when its bytes are not a block.
    fn synced_value(
        &mut self,
        height: BlockHeight,
        round: Round,
        value_bytes: &[u8],
    ) -> Result<Option<ProposedValue<CellContext>>, HostError> {
        match borsh::from_slice::<Block>(value_bytes) {
            Ok(block) => {
                let proposer = self.synced_proposer(height, round)?;
                Ok(Some(self.judge_block(
                    height,
                    round,
                    Round::Nil,
                    proposer,
                    block,
                )?))
            }
            Err(error) => {
                tracing::warn!(%error, height = height.0, "undecodable block from sync");
                Ok(None)
            }
        }
    }

    /// A block sync delivered for a height this node already committed: the answer whose
    /// certificate completed the decision, or a late one for that height. It is valid if it
    /// is the committed block, and is neither executed nor stored again; calling it invalid
    /// would make sync count an honest peer's answer against it and ask another peer.
    fn committed_value(
        &self,
        height: BlockHeight,
        round: Round,
        value_bytes: &[u8],
    ) -> Result<Option<ProposedValue<CellContext>>, HostError> {
        let Ok(block) = borsh::from_slice::<Block>(value_bytes) else {
            tracing::warn!(height = height.0, "undecodable block from sync");
            return Ok(None);
        };
        let committed = self.app.blocks().decided(height)?;
        let validity = match committed {
            Some(committed) if committed.block.hash() == block.hash() => Validity::Valid,
            _ => Validity::Invalid,
        };
        Ok(Some(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer: self.synced_proposer(height, round)?,
            value: block,
            validity,
        }))
    }

    fn stored_proposals(
        &self,
        height: BlockHeight,
        round: Round,
    ) -> Result<Vec<ProposedValue<CellContext>>, HostError> {
        Ok(self
            .app
            .blocks()
            .undecided_at(height)?
            .into_iter()
            .filter(|stored| Round::new(stored.round) == round)
            .map(|stored| ProposedValue {
                height,
                round,
                valid_round: stored.pol_round.map_or(Round::Nil, Round::new),
                proposer: ValidatorAddress(stored.proposer),
                value: stored.block,
                validity: Validity::Valid,
            })
            .collect())
    }

    /// Answers the engine's request for our proposal at (height, round): what we proposed there
    /// before, nothing, a new block, or, with nothing to propose, later (a waiting proposal).
    /// Without a block to propose, the reply is dropped and the round's propose timeout passes
    /// it to the next proposer.
    async fn get_value(
        &mut self,
        height: BlockHeight,
        round: Round,
        timeout: Duration,
        reply: oneshot::Sender<LocallyProposedValue<CellContext>>,
        network: &mpsc::Sender<NetworkMsg<CellContext>>,
    ) -> Result<(), HostError> {
        match self.own_proposal(height, round)? {
            OwnProposal::Held(block, pol_round) => {
                (self.send_proposal(height, round, pol_round, *block, reply, network)).await
            }
            OwnProposal::Refused => Ok(()),
            OwnProposal::New => {
                let started = std::time::Instant::now();
                let candidates = self.pool.candidates();
                let reap_ms = started.elapsed().as_millis();
                let catching_up = (self.synced).is_some_and(|synced| synced.increment() >= height);
                if candidates.is_empty() && !self.idle_proposal.is_zero() && !catching_up {
                    let until = Instant::now() + self.idle_proposal.min(timeout * 3 / 4);
                    self.waiting = Some(WaitingProposal {
                        height,
                        round,
                        reply,
                        until,
                    });
                    return Ok(());
                }
                let Some(block) = self.new_proposal(height, round, &candidates)? else {
                    return Ok(());
                };
                tracing::info!(
                    height = height.0,
                    round = round.as_i64(),
                    transactions = block.transactions.len(),
                    reap_ms,
                    built_ms = started.elapsed().as_millis(),
                    "built proposal"
                );
                (self.send_proposal(height, round, Round::Nil, block, reply, network)).await
            }
        }
    }

    /// What this validator proposes at (height, round): what it already proposed there if it
    /// did (a restarted proposer must not propose something else), with the round of the
    /// proof of lock it was proposed under; nothing, if its signer signed a proposal there that
    /// the node no longer holds; or a new block.
    fn own_proposal(&self, height: BlockHeight, round: Round) -> Result<OwnProposal, HostError> {
        let round = round.as_u32().unwrap_or(0);
        let proposed_here = self
            .app
            .blocks()
            .undecided_at(height)?
            .into_iter()
            .find(|stored| stored.round == round && stored.proposer == self.address.0);
        // Once the signer has signed a proposal here, that block is the only one this node may
        // propose here, under the proof of lock it was proposed with. A node whose blocks were
        // emptied to resync no longer has it, and proposes nothing.
        if let Some(signed) = self.signer.proposed(height.0, round) {
            let holds_it =
                (proposed_here.as_ref()).is_some_and(|stored| stored.block.hash().0 == signed);
            if !holds_it {
                tracing::warn!(
                    height = height.0,
                    round,
                    "this node's signer proposed a block here that the node no longer holds; proposing nothing this round"
                );
                return Ok(OwnProposal::Refused);
            }
        }
        Ok(match proposed_here {
            Some(stored) => {
                let pol_round = stored_pol_round(&stored);
                OwnProposal::Held(Box::new(stored.block), pol_round)
            }
            None => OwnProposal::New,
        })
    }

    /// A new block of `candidates` at (height, round), recorded as this round's proposal.
    /// None when this node's BLS key is not the one its passport registered: it cannot give
    /// the beacon reveal a block needs, so it proposes nothing and the round moves on.
    fn new_proposal(
        &mut self,
        height: BlockHeight,
        round: Round,
        candidates: &[SignedTransaction],
    ) -> Result<Option<Block>, HostError> {
        let block = match self.app.propose(self.address.0, candidates) {
            Err(AppError::Ledger(LedgerError::InvalidReveal { reason, .. })) => {
                tracing::error!(
                    height = height.0,
                    reason,
                    "cannot reveal this validator's share of the beacon (is the key file's BLS key the one its passport registered?); proposing nothing"
                );
                return Ok(None);
            }
            block => block?,
        };
        let stored = UndecidedBlock {
            round: round.as_u32().unwrap_or(0),
            pol_round: None,
            proposer: self.address.0,
            block: block.clone(),
        };
        self.app.blocks().store_undecided(height, &stored)?;
        Ok(Some(block))
    }

    /// Judges a complete proposal stream; `None` when it is not a well-formed proposal from the
    /// right proposer with a valid signature (the engine then simply does not see it).
    fn judge(
        &mut self,
        parts: Vec<ProposalPart>,
    ) -> Result<Option<ProposedValue<CellContext>>, HostError> {
        let Ok(
            [ProposalPart::Init {
                height,
                round,
                pol_round,
                proposer,
            }, ProposalPart::Block(block), ProposalPart::Fin { signature }],
        ) = <[ProposalPart; 3]>::try_from(parts)
        else {
            return Ok(None);
        };
        if height != self.app.next_height() {
            return Ok(None);
        }
        let set = self.validator_set()?;
        let expected = self
            .context
            .select_proposer(&set, height, Round::new(round));
        if expected.address != proposer {
            tracing::warn!(%proposer, expected = %expected.address, height = height.0, round, "proposal from the wrong proposer");
            return Ok(None);
        }
        // This node's own proposals never come back through the network: one that does was
        // made by another process holding this validator's key, and adopting it would make
        // this node re-propose a block its signer never signed.
        if proposer == self.address {
            tracing::error!(
                height = height.0,
                round,
                "a proposal signed with this validator's key that this node did not make: another process is running with this key"
            );
            return Ok(None);
        }
        // A new block names the round's proposer as the one that built it (and so whose beacon
        // reveal it carries); only a block re-proposed under a proof of lock keeps an earlier
        // round's proposer. Otherwise a proposer could take the reveal another validator gave
        // in a failed round and choose between it and its own.
        if pol_round.is_none() && block.header.proposer != proposer.0 {
            tracing::warn!(%proposer, named = %block.header.proposer, height = height.0, round, "a new block that names another validator as its proposer");
            return Ok(None);
        }
        let pol_round = pol_round.map_or(Round::Nil, Round::new);
        let proposal = ConsensusProposal {
            height,
            round,
            block: *block,
            pol_round,
            proposer,
        };
        let statement = proposal.statement(&self.context).signing_bytes();
        if expected.public_key.verify(&statement, &signature).is_err() {
            tracing::warn!(%proposer, height = height.0, round, "proposal signature does not verify");
            return Ok(None);
        }
        Ok(Some(self.judge_block(
            height,
            Round::new(round),
            pol_round,
            proposer,
            proposal.block,
        )?))
    }

    /// Who proposed a synced block, by the height and round of its commit certificate. The
    /// engine names one too, but from the validator set of the height it was at when the
    /// response arrived: it fetches ahead, and across an epoch boundary that set is an earlier
    /// one, which would make a decided block look invalid and stall the sync. When the block
    /// is judged the ledger is at the height before it (or the block is refused for its
    /// height), so the ledger's set is the one that decided it.
    fn synced_proposer(
        &self,
        height: BlockHeight,
        round: Round,
    ) -> Result<ValidatorAddress, HostError> {
        let set = self.validator_set()?;
        Ok(self.context.select_proposer(&set, height, round).address)
    }

    /// Re-executes a block and records it for the decision, valid or not.
    fn judge_block(
        &mut self,
        height: BlockHeight,
        round: Round,
        pol_round: Round,
        proposer: ValidatorAddress,
        block: Block,
    ) -> Result<ProposedValue<CellContext>, HostError> {
        let started = std::time::Instant::now();
        let validity = match self.app.validate(&block)? {
            Ok(()) => {
                let stored = UndecidedBlock {
                    round: round.as_u32().unwrap_or(0),
                    pol_round: pol_round.as_u32(),
                    proposer: proposer.0,
                    block: block.clone(),
                };
                self.app.blocks().store_undecided(height, &stored)?;
                tracing::info!(
                    height = height.0,
                    round = round.as_i64(),
                    transactions = block.transactions.len(),
                    judged_ms = started.elapsed().as_millis(),
                    "valid proposal"
                );
                Validity::Valid
            }
            Err(reason) => {
                tracing::warn!(%reason, height = height.0, %proposer, "invalid proposal");
                Validity::Invalid
            }
        };
        Ok(ProposedValue {
            height,
            round,
            valid_round: pol_round,
            proposer,
            value: block,
            validity,
        })
    }

    /// Commits the decided block; the engine's next step, and the block to announce once the
    /// engine has it.
    fn decide(
        &mut self,
        certificate: &CommitCertificate<CellContext>,
    ) -> Result<(Next<CellContext>, Option<JustCommitted>), HostError> {
        let height = certificate.height;
        let Some(stored) = self.app.blocks().undecided(height, &certificate.value_id)? else {
            tracing::error!(height = height.0, block = %certificate.value_id, "decided a block this node does not have");
            return Ok((Next::Restart(height, self.validator_set()?), None));
        };
        let transactions = stored.block.transactions.len();
        let state_root = stored.block.header.state_root;
        let started = std::time::Instant::now();
        let outcomes = self
            .app
            .commit(stored.block, BlockCertificate::from(certificate))?;
        let commit_ms = started.elapsed().as_millis();
        let block = CommittedBlock {
            height,
            hash: certificate.value_id,
            round: certificate.round.as_u32().unwrap_or(0),
            state_root,
            outcomes: outcomes.into(),
        };
        let committed = JustCommitted {
            block,
            transactions,
            commit_ms,
        };
        let set = match self.validator_set() {
            Ok(set) => set,
            Err(error) => {
                self.announce(committed);
                return Err(error);
            }
        };
        let next = self.app.next_height();
        // A node taking blocks by sync is behind: what it would sign ahead would go unused.
        if self.synced != Some(height) {
            self.tell_if_proposing(&set, BlockHeight(next.0 + 1));
        }
        Ok((Next::Start(next, set), Some(committed)))
    }

    /// Brings the pool up to a block just committed and tells the rest of the node of it. The
    /// engine starts the next height meanwhile: the host handles the engine's requests in
    /// order, so it reaps the pool for a proposal only once this is done.
    fn announce(&mut self, committed: JustCommitted) {
        let JustCommitted {
            block,
            transactions,
            commit_ms,
        } = committed;
        let started = std::time::Instant::now();
        self.pool.block_committed(&block, self.app.state());
        let pool_ms = started.elapsed().as_millis();
        tracing::info!(height = block.height.0, block = %block.hash, transactions, commit_ms, pool_ms, "committed");
        let _ = self.committed.send(block);
    }

    /// Tells the application when this validator proposes the first round of `height`, as the
    /// set deciding the next block has it (the set a new epoch brings may name another).
    fn tell_if_proposing(&mut self, set: &ConsensusValidatorSet, height: BlockHeight) {
        let proposer = self.context.select_proposer(set, height, Round::new(0));
        if proposer.address == self.address {
            self.app.will_propose(height);
        }
    }

    fn decided_value(
        &self,
        height: BlockHeight,
    ) -> Result<Option<RawDecidedValue<CellContext>>, HostError> {
        let Some(decided) = self.app.blocks().decided(height)? else {
            return Ok(None);
        };
        let certificate = CommitCertificate {
            height,
            round: Round::new(decided.certificate.round),
            value_id: decided.certificate.block,
            commit_signatures: decided
                .certificate
                .signatures
                .iter()
                .map(|commit| CommitSignature {
                    address: ValidatorAddress(commit.validator),
                    signature: commit.signature,
                })
                .collect(),
        };
        let value_bytes =
            Bytes::from(borsh::to_vec(&decided.block).expect("writing to a Vec cannot fail"));
        Ok(Some(RawDecidedValue {
            value_bytes,
            certificate,
        }))
    }
}

/// A block [`Host::decide`] committed, with what its log line tells.
struct JustCommitted {
    block: CommittedBlock,
    transactions: usize,
    commit_ms: u128,
}

/// What [`Host::own_proposal`] found.
enum OwnProposal {
    Held(Box<Block>, Round),
    Refused,
    New,
}

fn stored_pol_round(stored: &UndecidedBlock) -> Round {
    stored.pol_round.map_or(Round::Nil, Round::new)
}

/// Publishes a proposal stream to the other validators, part by part.
async fn publish(
    network: &mpsc::Sender<NetworkMsg<CellContext>>,
    stream: Vec<StreamMessage<ProposalPart>>,
) -> Result<(), HostError> {
    for message in stream {
        network
            .send(NetworkMsg::PublishProposalPart(message))
            .await
            .map_err(|_| HostError::NetworkClosed)?;
    }
    Ok(())
}
