//! The engine's signing provider: every signature the engine asks for goes through the
//! guarded signer, and every signature it checks is verified strictly against the statement
//! Charter defines for it.
//!
//! Malachite's signing interface cannot fail. An engine restarted mid-height, whose
//! write-ahead log lags what the signer recorded, asks again for steps the signer already
//! passed. For a vote at a position already signed with another value, the node casts again
//! the vote it did cast there — the same statement, so the same signature — which is what it
//! told the other validators before the crash: they keep counting it, and the round goes on
//! with everyone's votes. For an earlier position never signed, the node stays silent: the
//! engine gets a signature nobody accepts (all zeros, which strict verification refuses).
//! Nothing conflicting ever leaves the node, and it goes on to later steps, which the guard
//! signs. Stopping instead would restart into the same replay and stop again, for good.

use crate::block::BlockHash;
use crate::context::{
    CellContext, ConsensusProposal, ConsensusVote, ProposalPart, ValidatorAddress,
};
use crate::guarded_signer::{GuardedSigner, SignerError};
use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519PublicKey, Ed25519Signature};
use malachitebft_core_types as mal;
use std::sync::Mutex;

const PROPOSAL_PART_DOMAIN: &[u8] = b"CHARTER_PROPOSAL_PART_V1";
const VOTE_EXTENSION_DOMAIN: &[u8] = b"CHARTER_VOTE_EXTENSION_V1";

pub struct EngineSigner {
    context: CellContext,
    address: ValidatorAddress,
    /// Signs what is not guarded: the engine's local copies of other validators' proposals
    /// and statements that are never consensus messages of ours.
    key: Ed25519Keypair,
    guarded: Mutex<GuardedSigner>,
}

impl EngineSigner {
    pub fn new(
        context: CellContext,
        address: ValidatorAddress,
        key: Ed25519Keypair,
        guarded: GuardedSigner,
    ) -> Self {
        Self {
            context,
            address,
            key,
            guarded: Mutex::new(guarded),
        }
    }

    fn guarded(&self) -> std::sync::MutexGuard<'_, GuardedSigner> {
        // The signer's state is the persisted mark; a panic elsewhere cannot corrupt it.
        self.guarded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The block this validator proposed at `height` and `round`, if its signer signed one.
    pub fn proposed(&self, height: u64, round: u32) -> Option<[u8; 32]> {
        self.guarded().proposed(height, round)
    }

    /// The guarded signature for one of our votes, or the signer's refusal.
    pub fn try_sign_vote(&self, vote: &ConsensusVote) -> Result<Ed25519Signature, SignerError> {
        Ok(self
            .guarded()
            .sign_vote(&vote.statement(&self.context))?
            .signature)
    }

    /// Our own proposals are guarded. The engine also signs, locally and never to publish, an
    /// "implicit" proposal for every value another validator proposed; that statement can
    /// never pass for ours, so it is signed without moving our mark.
    pub fn try_sign_proposal(
        &self,
        proposal: &ConsensusProposal,
    ) -> Result<Ed25519Signature, SignerError> {
        let statement = proposal.statement(&self.context);
        if proposal.proposer == self.address {
            self.guarded().sign_proposal(&statement)
        } else {
            Ok(self.key.sign(&statement.signing_bytes()))
        }
    }

    /// What the engine asks to sign as a proposal. In parts-only mode it publishes none of
    /// them (the host streams and signs what is published, through [`Self::try_sign_proposal`]);
    /// it keeps them, including an "implicit" one for every value it receives in parts or by
    /// sync. One of our own values below the height our key last signed at can only be a block
    /// we proposed coming back by sync, to a node catching up: it is signed without the guard,
    /// which would refuse an earlier height.
    pub fn try_sign_engine_proposal(
        &self,
        proposal: &ConsensusProposal,
    ) -> Result<Ed25519Signature, SignerError> {
        let below_mark =
            (self.guarded().high_water_mark()).is_some_and(|mark| proposal.height.0 < mark.height);
        match below_mark {
            true => Ok(self
                .key
                .sign(&proposal.statement(&self.context).signing_bytes())),
            false => self.try_sign_proposal(proposal),
        }
    }

    fn verify(public_key: &Ed25519PublicKey, message: &[u8], signature: &Ed25519Signature) -> bool {
        public_key.verify(message, signature).is_ok()
    }
}

/// The signature the engine gets where the guard refused: no verifier accepts it, so this
/// node is silent at that step.
fn withheld(error: SignerError) -> Ed25519Signature {
    tracing::warn!(%error, "the guarded signer refused; staying silent at this step");
    WITHHELD
}

/// All zeros: its R is a point of small order, which strict verification refuses.
pub const WITHHELD: Ed25519Signature = Ed25519Signature([0; 64]);

fn tagged(domain: &[u8], part: &impl borsh::BorshSerialize) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    part.serialize(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

impl mal::SigningProvider<CellContext> for EngineSigner {
    fn sign_vote(&self, vote: ConsensusVote) -> mal::SignedMessage<CellContext, ConsensusVote> {
        match self.try_sign_vote(&vote) {
            Ok(signature) => mal::SignedMessage::new(vote, signature),
            Err(SignerError::Conflicting { signed, .. }) => {
                let cast = ConsensusVote {
                    value: signed.value.map_or(mal::NilOrVal::Nil, |block| {
                        mal::NilOrVal::Val(BlockHash(block))
                    }),
                    ..vote
                };
                tracing::info!(
                    height = cast.height.0,
                    round = cast.round,
                    "the engine asked for another vote where this validator already voted; casting the recorded vote again"
                );
                let signature = self.try_sign_vote(&cast).unwrap_or_else(withheld);
                mal::SignedMessage::new(cast, signature)
            }
            Err(refused) => mal::SignedMessage::new(vote, withheld(refused)),
        }
    }

    fn verify_signed_vote(
        &self,
        vote: &ConsensusVote,
        signature: &Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        Self::verify(
            public_key,
            &vote.statement(&self.context).signing_bytes(),
            signature,
        )
    }

    fn sign_proposal(
        &self,
        proposal: ConsensusProposal,
    ) -> mal::SignedMessage<CellContext, ConsensusProposal> {
        let signature = self
            .try_sign_engine_proposal(&proposal)
            .unwrap_or_else(withheld);
        mal::SignedMessage::new(proposal, signature)
    }

    fn verify_signed_proposal(
        &self,
        proposal: &ConsensusProposal,
        signature: &Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        Self::verify(
            public_key,
            &proposal.statement(&self.context).signing_bytes(),
            signature,
        )
    }

    fn sign_proposal_part(
        &self,
        part: ProposalPart,
    ) -> mal::SignedMessage<CellContext, ProposalPart> {
        let signature = self.key.sign(&tagged(PROPOSAL_PART_DOMAIN, &part));
        mal::SignedMessage::new(part, signature)
    }

    fn verify_signed_proposal_part(
        &self,
        part: &ProposalPart,
        signature: &Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        Self::verify(public_key, &tagged(PROPOSAL_PART_DOMAIN, part), signature)
    }

    fn sign_vote_extension(&self, extension: ()) -> mal::SignedMessage<CellContext, ()> {
        let signature = self.key.sign(&tagged(VOTE_EXTENSION_DOMAIN, &extension));
        mal::SignedMessage::new(extension, signature)
    }

    fn verify_signed_vote_extension(
        &self,
        extension: &(),
        signature: &Ed25519Signature,
        public_key: &Ed25519PublicKey,
    ) -> bool {
        Self::verify(
            public_key,
            &tagged(VOTE_EXTENSION_DOMAIN, extension),
            signature,
        )
    }
}
