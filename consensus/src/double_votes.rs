//! Double votes heard on the consensus network, turned into slashing evidence.
//!
//! Malachite 0.5 notices equivocation in its vote keeper but keeps it to itself, so the node
//! listens to the votes its network actor delivers ([`tap_votes`]) and remembers the first vote
//! of each validator at each height, round and step ([`DoubleVoteDetector`]). A second, different
//! vote there is a [`DoubleVote`] exactly as the ledger checks it, because votes are signed as the
//! ledger's vote statement.
//!
//! The tap sees votes before the engine has judged them, so the detector verifies each one
//! against the validator's key before it counts, and keeps only a window of heights around the
//! committed one: a hostile peer can neither plant a forged first vote nor fill memory.

use crate::context::{CellContext, ConsensusVote};
use charter_ledger::crypto::ed25519::{Ed25519PublicKey, Ed25519Signature};
use charter_ledger::evidence::{DoubleVote, SignedVote, VoteType};
use charter_ledger::PassportId;
use malachitebft_app_channel::app::engine::network::{NetworkEvent, NetworkMsg};
use malachitebft_app_channel::app::node::EngineHandle;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::mpsc;

/// A vote as it arrived from a peer: unverified.
#[derive(Clone, Debug)]
pub struct HeardVote {
    pub vote: ConsensusVote,
    pub signature: Ed25519Signature,
}

/// Why a heard vote was not counted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeardVoteError {
    #[error("the voter {0} is not a validator of this cell")]
    UnknownValidator(PassportId),
    #[error("the vote's signature does not verify against {0}'s key")]
    BadSignature(PassportId),
    #[error("height {height} is outside the heights watched ({from}..={to})")]
    OutOfWindow { height: u64, from: u64, to: u64 },
}

/// One validator's vote slot: the statement an honest validator signs at most once.
type Slot = (u64, u32, VoteType, PassportId);

/// Remembers the first verified vote in each slot and reports the first conflicting one.
pub struct DoubleVoteDetector {
    context: CellContext,
    /// Heights watched on either side of the latest committed one.
    window: u64,
    committed: u64,
    first: BTreeMap<Slot, SignedVote>,
    reported: BTreeSet<Slot>,
}

impl DoubleVoteDetector {
    pub fn new(context: CellContext, window: u64) -> Self {
        Self {
            context,
            window,
            committed: 0,
            first: BTreeMap::new(),
            reported: BTreeSet::new(),
        }
    }

    /// Moves the window to a newly committed height and forgets the slots that fell out of it.
    pub fn committed(&mut self, height: u64) {
        self.committed = self.committed.max(height);
        let from = self.committed.saturating_sub(self.window);
        let in_window = |slot: &Slot| slot.0 >= from;
        self.first.retain(|slot, _| in_window(slot));
        self.reported.retain(in_window);
    }

    /// Counts a heard vote, `key` being the voter's consensus key (`None` when it is not a
    /// validator). Returns the evidence the first time the voter contradicts itself in a slot.
    pub fn observe(
        &mut self,
        heard: &HeardVote,
        key: Option<Ed25519PublicKey>,
    ) -> Result<Option<DoubleVote>, HeardVoteError> {
        let voter = heard.vote.validator.0;
        let height = heard.vote.height.0;
        let (from, to) = (
            self.committed.saturating_sub(self.window),
            self.committed.saturating_add(self.window),
        );
        if !(from..=to).contains(&height) {
            return Err(HeardVoteError::OutOfWindow { height, from, to });
        }
        let signed = self.verify(heard, key)?;
        let slot = (height, signed.vote.round, signed.vote.vote_type, voter);
        let Some(first) = self.first.get(&slot) else {
            self.first.insert(slot, signed);
            return Ok(None);
        };
        if first.vote == signed.vote || !self.reported.insert(slot) {
            return Ok(None);
        }
        Ok(Some(DoubleVote {
            first: first.clone(),
            second: signed,
        }))
    }

    /// The heard vote as the statement its voter signed, if the signature verifies against
    /// `key` (the voter's consensus key; `None` when it is not a validator).
    pub fn verify(
        &self,
        heard: &HeardVote,
        key: Option<Ed25519PublicKey>,
    ) -> Result<SignedVote, HeardVoteError> {
        let voter = heard.vote.validator.0;
        let key = key.ok_or(HeardVoteError::UnknownValidator(voter))?;
        let signed = SignedVote {
            vote: heard.vote.statement(&self.context),
            validator_key: key,
            signature: heard.signature,
        };
        key.verify(&signed.vote.signing_bytes(), &signed.signature)
            .map_err(|_| HeardVoteError::BadSignature(voter))?;
        Ok(signed)
    }
}

/// What the tap actor receives from the network actor.
struct Tapped(NetworkEvent<CellContext>);

impl From<NetworkEvent<CellContext>> for Tapped {
    fn from(event: NetworkEvent<CellContext>) -> Self {
        Self(event)
    }
}

/// Passes every vote the network delivers on to the node, dropping them when it falls behind
/// (the engine's own handling never waits on this).
struct VoteTap;

#[async_trait::async_trait]
impl Actor for VoteTap {
    type Msg = Tapped;
    type State = mpsc::Sender<HeardVote>;
    type Arguments = mpsc::Sender<HeardVote>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Tapped>,
        sender: mpsc::Sender<HeardVote>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(sender)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Tapped>,
        Tapped(event): Tapped,
        sender: &mut mpsc::Sender<HeardVote>,
    ) -> Result<(), ActorProcessingErr> {
        if let NetworkEvent::Vote(_, signed) = event {
            let _ = sender.try_send(HeardVote {
                vote: signed.message,
                signature: signed.signature,
            });
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TapError {
    #[error("the engine has no network actor to listen to")]
    NoNetwork,
    #[error("starting the vote tap: {0}")]
    Spawn(String),
    #[error("subscribing to the network actor: {0}")]
    Subscribe(String),
}

/// The running tap; it stops when this is dropped.
pub struct VoteTapHandle(ActorRef<Tapped>);

impl Drop for VoteTapHandle {
    fn drop(&mut self) {
        self.0.stop(None);
    }
}

/// The engine's network actor, found among the engine node's supervised actors (the channel API
/// does not hand it out).
pub(crate) fn network_actor(engine: &EngineHandle) -> Option<ActorRef<NetworkMsg<CellContext>>> {
    engine
        .actor
        .get_children()
        .into_iter()
        .find(|child| child.is_message_type_of::<NetworkMsg<CellContext>>() == Some(true))
        .map(ActorRef::from)
}

/// Subscribes a tap to the engine's network actor. Votes arrive on the receiver; the tap runs
/// until the returned handle drops.
pub async fn tap_votes(
    engine: &EngineHandle,
    capacity: usize,
) -> Result<(VoteTapHandle, mpsc::Receiver<HeardVote>), TapError> {
    let network = network_actor(engine).ok_or(TapError::NoNetwork)?;
    let (sender, votes) = mpsc::channel(capacity);
    let (tap, _) = Actor::spawn(None, VoteTap, sender)
        .await
        .map_err(|error| TapError::Spawn(error.to_string()))?;
    network
        .cast(NetworkMsg::Subscribe(Box::new(tap.clone())))
        .map_err(|error| TapError::Subscribe(error.to_string()))?;
    Ok((VoteTapHandle(tap), votes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{BlockHash, BlockHeight};
    use crate::context::ValidatorAddress;
    use charter_ledger::crypto::ed25519::Ed25519Keypair;
    use charter_ledger::ids::{CellId, FederationId};
    use malachitebft_core_types::{NilOrVal, VoteType as EngineVoteType};

    fn context() -> CellContext {
        CellContext {
            federation: FederationId([7; 32]),
            cell: CellId(0),
        }
    }

    fn voter() -> (PassportId, Ed25519Keypair) {
        (PassportId([1; 32]), Ed25519Keypair::from_seed([2; 32]))
    }

    fn heard(key: &Ed25519Keypair, height: u64, value: Option<u8>) -> HeardVote {
        let vote = ConsensusVote {
            height: BlockHeight(height),
            round: 0,
            vote_type: EngineVoteType::Prevote,
            value: value.map_or(NilOrVal::Nil, |byte| NilOrVal::Val(BlockHash([byte; 32]))),
            validator: ValidatorAddress(voter().0),
            extension: None,
        };
        let signature = key.sign(&vote.statement(&context()).signing_bytes());
        HeardVote { vote, signature }
    }

    #[test]
    fn a_second_different_vote_in_a_slot_is_evidence_the_ledger_accepts_reported_once() {
        let (_, key) = voter();
        let public = Some(key.public_key());
        let mut detector = DoubleVoteDetector::new(context(), 16);
        assert_eq!(detector.observe(&heard(&key, 3, Some(1)), public), Ok(None));
        assert_eq!(
            detector.observe(&heard(&key, 3, Some(1)), public),
            Ok(None),
            "the same vote heard again is no offence"
        );
        let evidence = detector
            .observe(&heard(&key, 3, None), public)
            .unwrap()
            .expect("a nil vote after a vote for a block is a double vote");
        assert_eq!(evidence.first.vote.value, Some([1; 32]));
        assert_eq!(evidence.second.vote.value, None);
        for signed in [&evidence.first, &evidence.second] {
            assert!(signed
                .validator_key
                .verify(&signed.vote.signing_bytes(), &signed.signature)
                .is_ok());
        }
        assert_eq!(
            detector.observe(&heard(&key, 3, Some(9)), public),
            Ok(None),
            "one offence is reported once"
        );
        assert!(detector
            .observe(&heard(&key, 4, Some(1)), public)
            .unwrap()
            .is_none());
    }

    #[test]
    fn forged_unknown_and_far_votes_are_refused_and_take_no_slot() {
        let (passport, key) = voter();
        let public = Some(key.public_key());
        let forger = Ed25519Keypair::from_seed([3; 32]);
        let mut detector = DoubleVoteDetector::new(context(), 16);
        assert_eq!(
            detector.observe(&heard(&forger, 2, Some(5)), public),
            Err(HeardVoteError::BadSignature(passport))
        );
        assert_eq!(
            detector.observe(&heard(&key, 2, Some(1)), None),
            Err(HeardVoteError::UnknownValidator(passport))
        );
        assert_eq!(
            detector.observe(&heard(&key, 17, Some(1)), public),
            Err(HeardVoteError::OutOfWindow {
                height: 17,
                from: 0,
                to: 16
            })
        );
        // The forged vote did not become the validator's first vote in its slot.
        assert_eq!(detector.observe(&heard(&key, 2, Some(1)), public), Ok(None));
        assert!(detector
            .observe(&heard(&key, 2, Some(2)), public)
            .unwrap()
            .is_some());
    }

    #[test]
    fn slots_that_fall_out_of_the_window_are_forgotten() {
        let (_, key) = voter();
        let public = Some(key.public_key());
        let mut detector = DoubleVoteDetector::new(context(), 4);
        assert_eq!(detector.observe(&heard(&key, 1, Some(1)), public), Ok(None));
        detector.committed(10);
        assert_eq!(
            detector.observe(&heard(&key, 1, Some(2)), public),
            Err(HeardVoteError::OutOfWindow {
                height: 1,
                from: 6,
                to: 14
            })
        );
        assert!(detector.first.is_empty());
    }
}
