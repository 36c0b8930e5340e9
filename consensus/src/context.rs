//! Charter's context for the Malachite engine: its trait implementations for Charter's
//! types, how votes and proposals are shaped, and which validator proposes when.
//!
//! - The decided **value** is a [`Block`] (`block.rs`), identified by its hash.
//! - Votes are signed as the ledger's [`charter_ledger::evidence::Vote`] statement, so two
//!   conflicting votes seen on the network are, as they are, slashing evidence the ledger
//!   checks. Proposals are signed as [`crate::guarded_signer::Proposal`].

use crate::block::{Block, BlockHash, BlockHeight};
use crate::validator_set::ValidatorSet as EpochValidators;
use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519PublicKey, Ed25519Signature};
use charter_ledger::evidence::{self, VoteType as LedgerVoteType};
use charter_ledger::ids::{CellId, FederationId, PassportId};

use malachitebft_core_types as mal;
use std::fmt;

/// Charter's engine context for one cell.
#[derive(Clone, Debug)]
pub struct CellContext {
    pub federation: FederationId,
    pub cell: CellId,
}

impl mal::Height for BlockHeight {
    const ZERO: Self = BlockHeight(0);
    const INITIAL: Self = BlockHeight(1);

    fn increment_by(&self, n: u64) -> Self {
        BlockHeight(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(BlockHeight)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator is named by its passport.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct ValidatorAddress(pub PassportId);

impl fmt::Display for ValidatorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mal::Address for ValidatorAddress {}

impl mal::Value for Block {
    type Id = BlockHash;

    fn id(&self) -> BlockHash {
        self.hash()
    }
}

/// A prevote or precommit, as the engine handles it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct ConsensusVote {
    pub height: BlockHeight,
    pub round: u32,
    pub vote_type: mal::VoteType,
    pub value: mal::NilOrVal<BlockHash>,
    pub validator: ValidatorAddress,
    pub extension: Option<mal::SignedExtension<CellContext>>,
}

impl ConsensusVote {
    fn new(
        vote_type: mal::VoteType,
        height: BlockHeight,
        round: mal::Round,
        value: mal::NilOrVal<BlockHash>,
        validator: ValidatorAddress,
    ) -> Self {
        let round = round.as_u32().unwrap_or(0);
        Self {
            height,
            round,
            vote_type,
            value,
            validator,
            extension: None,
        }
    }

    /// The statement the validator signs: the ledger's vote, without extension, bound to the
    /// federation and the cell.
    pub fn statement(&self, context: &CellContext) -> evidence::Vote {
        evidence::Vote {
            federation: context.federation,
            cell: context.cell,
            height: self.height.0,
            round: self.round,
            vote_type: match self.vote_type {
                mal::VoteType::Prevote => LedgerVoteType::Prevote,
                mal::VoteType::Precommit => LedgerVoteType::Precommit,
            },
            value: match self.value {
                mal::NilOrVal::Nil => None,
                mal::NilOrVal::Val(hash) => Some(hash.0),
            },
        }
    }
}

impl mal::Vote<CellContext> for ConsensusVote {
    fn height(&self) -> BlockHeight {
        self.height
    }

    fn round(&self) -> mal::Round {
        mal::Round::new(self.round)
    }

    fn value(&self) -> &mal::NilOrVal<BlockHash> {
        &self.value
    }

    fn take_value(self) -> mal::NilOrVal<BlockHash> {
        self.value
    }

    fn vote_type(&self) -> mal::VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.validator
    }

    fn extension(&self) -> Option<&mal::SignedExtension<CellContext>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<mal::SignedExtension<CellContext>> {
        self.extension.take()
    }

    fn extend(self, extension: mal::SignedExtension<CellContext>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConsensusProposal {
    pub height: BlockHeight,
    pub round: u32,
    pub block: Block,
    pub pol_round: mal::Round,
    pub proposer: ValidatorAddress,
}

impl ConsensusProposal {
    /// The statement the proposer signs: it names the block by hash.
    pub fn statement(&self, context: &CellContext) -> crate::guarded_signer::Proposal {
        crate::guarded_signer::Proposal {
            federation: context.federation,
            cell: context.cell,
            height: self.height.0,
            round: self.round,
            value: self.block.hash().0,
            pol_round: self.pol_round.as_u32(),
        }
    }
}

impl mal::Proposal<CellContext> for ConsensusProposal {
    fn height(&self) -> BlockHeight {
        self.height
    }

    fn round(&self) -> mal::Round {
        mal::Round::new(self.round)
    }

    fn value(&self) -> &Block {
        &self.block
    }

    fn take_value(self) -> Block {
        self.block
    }

    fn pol_round(&self) -> mal::Round {
        self.pol_round
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.proposer
    }
}

/// A proposal travels as a stream: `Init`, the block, then `Fin` with the proposer's
/// signature over the proposal statement, which receivers check against the proposer the
/// validator set names for that height and round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init {
        height: BlockHeight,
        round: u32,
        pol_round: Option<u32>,
        proposer: ValidatorAddress,
    },
    Block(Box<Block>),
    Fin {
        signature: Ed25519Signature,
    },
}

impl mal::ProposalPart<CellContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init { .. })
    }

    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusValidator {
    pub address: ValidatorAddress,
    pub public_key: Ed25519PublicKey,
    pub power: u64,
}

impl mal::Validator<CellContext> for ConsensusValidator {
    fn address(&self) -> &ValidatorAddress {
        &self.address
    }

    fn public_key(&self) -> &Ed25519PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> u64 {
        self.power
    }
}

/// The engine's view of an epoch's validator set, in the ledger's passport-id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusValidatorSet {
    validators: Vec<ConsensusValidator>,
}

impl From<&EpochValidators> for ConsensusValidatorSet {
    fn from(set: &EpochValidators) -> Self {
        let validators = set
            .members()
            .iter()
            .map(|member| ConsensusValidator {
                address: ValidatorAddress(member.passport),
                public_key: member.consensus_key,
                power: member.power,
            })
            .collect();
        Self { validators }
    }
}

impl mal::ValidatorSet<CellContext> for ConsensusValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> u64 {
        self.validators
            .iter()
            .map(|validator| validator.power)
            .sum()
    }

    fn get_by_address(&self, address: &ValidatorAddress) -> Option<&ConsensusValidator> {
        self.validators
            .iter()
            .find(|validator| validator.address == *address)
    }

    fn get_by_index(&self, index: usize) -> Option<&ConsensusValidator> {
        self.validators.get(index)
    }
}

/// Ed25519 with the ledger's key types and strict verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519Scheme;

impl mal::SigningScheme for Ed25519Scheme {
    type DecodingError = String;
    type Signature = Ed25519Signature;
    type PublicKey = Ed25519PublicKey;
    type PrivateKey = Ed25519Keypair;

    fn decode_signature(bytes: &[u8]) -> Result<Ed25519Signature, String> {
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| format!("a signature is 64 bytes, not {}", bytes.len()))?;
        Ok(Ed25519Signature(bytes))
    }

    fn encode_signature(signature: &Ed25519Signature) -> Vec<u8> {
        signature.0.to_vec()
    }
}

impl mal::Context for CellContext {
    type Address = ValidatorAddress;
    type Height = BlockHeight;
    type ProposalPart = ProposalPart;
    type Proposal = ConsensusProposal;
    type Validator = ConsensusValidator;
    type ValidatorSet = ConsensusValidatorSet;
    type Value = Block;
    type Vote = ConsensusVote;
    type Extension = ();
    type SigningScheme = Ed25519Scheme;

    /// Round-robin over the set in passport-id order, advancing with height and round.
    fn select_proposer<'a>(
        &self,
        validator_set: &'a ConsensusValidatorSet,
        height: BlockHeight,
        round: mal::Round,
    ) -> &'a ConsensusValidator {
        let count = validator_set.validators.len() as u64;
        assert!(
            count > 0,
            "a cell always has validators: ValidatorSet refuses an empty one"
        );
        let round = u64::from(round.as_u32().unwrap_or(0));
        let index = height.0.wrapping_sub(1).wrapping_add(round) % count;
        &validator_set.validators[index as usize]
    }

    fn new_proposal(
        &self,
        height: BlockHeight,
        round: mal::Round,
        block: Block,
        pol_round: mal::Round,
        proposer: ValidatorAddress,
    ) -> ConsensusProposal {
        ConsensusProposal {
            height,
            round: round.as_u32().unwrap_or(0),
            block,
            pol_round,
            proposer,
        }
    }

    fn new_prevote(
        &self,
        height: BlockHeight,
        round: mal::Round,
        value: mal::NilOrVal<BlockHash>,
        validator: ValidatorAddress,
    ) -> ConsensusVote {
        ConsensusVote::new(mal::VoteType::Prevote, height, round, value, validator)
    }

    fn new_precommit(
        &self,
        height: BlockHeight,
        round: mal::Round,
        value: mal::NilOrVal<BlockHash>,
        validator: ValidatorAddress,
    ) -> ConsensusVote {
        ConsensusVote::new(mal::VoteType::Precommit, height, round, value, validator)
    }
}
