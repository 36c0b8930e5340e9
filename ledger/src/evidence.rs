//! Signed statements the ledger checks for itself: consensus votes (for double-vote evidence),
//! arbiter-panel approvals and validator approvals of a mode change.
//!
//! Each is signed over `DOMAIN || encode(statement)`, where the statement binds the federation
//! and the cell, so no signature made for one purpose or place verifies for another.

use crate::crypto::ed25519::{Ed25519Keypair, Ed25519PublicKey, Ed25519Signature};
use crate::ids::{Amount, CaseId, CellId, CheckpointId, FederationId, Height, PassportId};
use crate::state::{CellMode, SanctionKind};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

pub const VOTE_DOMAIN: &[u8] = b"CHARTER_VOTE_V1";
pub const RULING_DOMAIN: &[u8] = b"CHARTER_RULING_V1";
pub const MODE_CHANGE_DOMAIN: &[u8] = b"CHARTER_MODE_V1";
pub const REGISTRATION_DOMAIN: &[u8] = b"CHARTER_VALIDATOR_V1";
pub const BRIDGE_RULING_DOMAIN: &[u8] = b"CHARTER_BRIDGE_V1";

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
pub enum VoteType {
    Prevote,
    Precommit,
}

/// A consensus vote as a validator signs it with its consensus key. `value` is the block hash
/// voted for, or `None` for nil.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Vote {
    pub federation: FederationId,
    pub cell: CellId,
    pub height: Height,
    pub round: u32,
    pub vote_type: VoteType,
    #[serde(with = "optional_hash_hex")]
    pub value: Option<[u8; 32]>,
}

/// A vote's value in JSON: the block hash in hex, as every hash is, or `null` for nil.
mod optional_hash_hex {
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<[u8; 32]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.map(hex::encode).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<[u8; 32]>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&text, &mut hash).map_err(D::Error::custom)?;
        Ok(Some(hash))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedVote {
    pub vote: Vote,
    pub validator_key: Ed25519PublicKey,
    pub signature: Ed25519Signature,
}

/// Two votes by one key for the same height, round and type but different values: the
/// equivocation Tendermint's safety argument assumes a correct validator never commits.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DoubleVote {
    pub first: SignedVote,
    pub second: SignedVote,
}

impl DoubleVote {
    /// Names the offence: one key equivocating at one height, round and step. Any two
    /// conflicting votes for it prove the same offence, which is punished once.
    pub fn offence_id(&self) -> [u8; 32] {
        let vote = &self.first.vote;
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"charter/double-vote/v1");
        hasher.update(&self.first.validator_key.0);
        hasher.update(&vote.height.to_le_bytes());
        hasher.update(&vote.round.to_le_bytes());
        hasher.update(&[vote.vote_type as u8]);
        *hasher.finalize().as_bytes()
    }
}

/// What an arbiter panel rules; arbiters sign `RULING_DOMAIN || encode(RulingTerms)`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub enum Ruling {
    Slash {
        offender: PassportId,
        amount: Amount,
    },
    Sanction {
        subject: PassportId,
        kind: SanctionKind,
        liability: Amount,
    },
    RotateKeys {
        subject: PassportId,
        new_keys: Vec<Ed25519PublicKey>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RulingTerms {
    pub federation: FederationId,
    pub cell: CellId,
    pub case: CaseId,
    pub ruling: Ruling,
}

/// One panel member's signature, made with one of its passport's controller keys.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ArbiterApproval {
    pub arbiter: PassportId,
    pub key: Ed25519PublicKey,
    pub signature: Ed25519Signature,
}

impl ArbiterApproval {
    /// `arbiter`'s approval of `terms`, signed with one of its passport's controller keys.
    pub fn sign(arbiter: PassportId, key: &Ed25519Keypair, terms: &RulingTerms) -> Self {
        Self {
            arbiter,
            key: key.public_key(),
            signature: key.sign(&terms.signing_bytes()),
        }
    }
}

/// What validators approve when they change the cell's mode. `sequence` is the cell's count of
/// mode changes so far, which makes every approval single-use.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ModeChangeTerms {
    pub federation: FederationId,
    pub cell: CellId,
    pub sequence: u64,
    pub mode: CellMode,
    pub expires_at: Option<Height>,
}

/// What validators approve when they lift the lockdown of the bridge to `remote`, which two
/// final certificates for its `epoch` put in place: the checkpoint (by `Checkpoint::id`) this
/// cell keeps as that epoch's final one. One ruling per remote cell and epoch.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BridgeRulingTerms {
    pub federation: FederationId,
    pub cell: CellId,
    pub remote: CellId,
    pub epoch: u64,
    pub keep: CheckpointId,
}

/// One validator's signature with its consensus key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorApproval {
    pub validator: PassportId,
    pub signature: Ed25519Signature,
}

impl ValidatorApproval {
    /// `validator`'s approval of the terms whose signing bytes are `message`.
    pub fn sign(validator: PassportId, consensus_key: &Ed25519Keypair, message: &[u8]) -> Self {
        Self {
            validator,
            signature: consensus_key.sign(message),
        }
    }
}

/// What a new validator's consensus key and BLS key both sign, binding them to the passport
/// that registers them: nobody can register keys they do not hold, or copy another validator's.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegistrationTerms {
    pub federation: FederationId,
    pub cell: CellId,
    pub passport: PassportId,
    pub consensus_key: Ed25519PublicKey,
    pub bls_key: crate::crypto::bls::BlsPublicKey,
}

fn domain_bytes<T: BorshSerialize>(domain: &[u8], statement: &T) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    statement
        .serialize(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

impl Vote {
    pub fn signing_bytes(&self) -> Vec<u8> {
        domain_bytes(VOTE_DOMAIN, self)
    }
}

impl RulingTerms {
    pub fn signing_bytes(&self) -> Vec<u8> {
        domain_bytes(RULING_DOMAIN, self)
    }
}

impl RegistrationTerms {
    pub fn signing_bytes(&self) -> Vec<u8> {
        domain_bytes(REGISTRATION_DOMAIN, self)
    }
}

impl ModeChangeTerms {
    pub fn signing_bytes(&self) -> Vec<u8> {
        domain_bytes(MODE_CHANGE_DOMAIN, self)
    }
}

impl BridgeRulingTerms {
    pub fn signing_bytes(&self) -> Vec<u8> {
        domain_bytes(BRIDGE_RULING_DOMAIN, self)
    }
}
