//! The guarded signer: the only place a validator's consensus key signs.
//!
//! It keeps, durably, every position — (round, step) — it has signed at the current height and
//! the value signed there. Before signing it checks the request: the same value at a position
//! already signed is signed again (ed25519 is deterministic, so this is the same signature: the
//! engine's write-ahead-log replay re-asks for every vote of the height after a restart); a
//! different value there is refused as a conflict; a new position must lie beyond every
//! position signed at this height; an earlier height is refused. A new entry is written
//! durably (temporary file, fsync, rename over the old one, fsync of the directory) before the
//! signature is made, so a crash at any instant leaves a record of every signature that ever
//! left the process — the discipline tmkms applies to Tendermint validators.

use crate::faults::CrashPoint;
use charter_durable::write_durably;
use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519Signature};
use charter_ledger::evidence::{SignedVote, Vote, VoteType};
use charter_ledger::ids::{CellId, FederationId, Height};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Prefix of the bytes a proposer signs.
pub const PROPOSAL_DOMAIN: &[u8] = b"CHARTER_PROPOSAL_V1";

/// A block proposal as its proposer signs it. `pol_round` is the round of the proof of lock
/// the proposer re-proposes under, if any.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Proposal {
    pub federation: FederationId,
    pub cell: CellId,
    pub height: Height,
    pub round: u32,
    pub value: [u8; 32],
    pub pol_round: Option<u32>,
}

impl Proposal {
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = PROPOSAL_DOMAIN.to_vec();
        borsh::BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }
}

/// Where in a height a message sits: a round proceeds propose, prevote, precommit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Step {
    Propose,
    Prevote,
    Precommit,
}

/// The highest position signed, and what was signed there (`None`: a nil vote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighWaterMark {
    pub height: Height,
    pub round: u32,
    pub step: Step,
    pub value: Option<[u8; 32]>,
}

impl HighWaterMark {
    fn position(&self) -> (Height, u32, Step) {
        (self.height, self.round, self.step)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("refusing to sign {requested:?}: it conflicts with the signed {signed:?}")]
    Conflicting {
        signed: HighWaterMark,
        requested: HighWaterMark,
    },
    #[error("refusing to sign {requested:?}: already signed the later {signed:?}")]
    Regression {
        signed: HighWaterMark,
        requested: HighWaterMark,
    },
    #[error("signer state {path}: {reason}")]
    State { path: PathBuf, reason: String },
}

/// Every position signed at one height, in position order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SignedAtHeight {
    height: Height,
    signed: Vec<HighWaterMark>,
}

pub struct GuardedSigner {
    key: Ed25519Keypair,
    state_path: PathBuf,
    state: Option<SignedAtHeight>,
    /// An injected crash after persisting a new position, before signing there.
    crash_after_persisting: CrashPoint,
}

impl GuardedSigner {
    /// Opens the signer with its persisted record. A missing state file means this key has
    /// never signed; an unreadable one is an error, never a reset.
    pub fn open(key: Ed25519Keypair, state_path: &Path) -> Result<Self, SignerError> {
        let state_error = |reason: String| SignerError::State {
            path: state_path.to_path_buf(),
            reason,
        };
        let state: Option<SignedAtHeight> = match std::fs::read(state_path) {
            Ok(bytes) => Some(
                serde_json::from_slice(&bytes).map_err(|error| state_error(error.to_string()))?,
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(state_error(error.to_string())),
        };
        // The guard relies on a record holding at least one position, all at its height.
        if let Some(state) = &state {
            let consistent = !state.signed.is_empty()
                && state
                    .signed
                    .iter()
                    .all(|signed| signed.height == state.height);
            if !consistent {
                return Err(state_error(
                    "the record names no signed position at its height".to_string(),
                ));
            }
        }
        Ok(Self {
            key,
            state_path: state_path.to_path_buf(),
            state,
            crash_after_persisting: CrashPoint::default(),
        })
    }

    /// Injects a crash between persisting a new position and signing there (crash tests).
    pub fn crash_after_persisting(&mut self, point: CrashPoint) {
        self.crash_after_persisting = point;
    }

    /// The highest position signed.
    pub fn high_water_mark(&self) -> Option<&HighWaterMark> {
        self.state.as_ref().and_then(|state| state.signed.last())
    }

    /// The block this key proposed at `height` and `round`, if it signed a proposal there.
    pub fn proposed(&self, height: Height, round: u32) -> Option<[u8; 32]> {
        let state = self.state.as_ref().filter(|state| state.height == height)?;
        state
            .signed
            .iter()
            .find(|mark| mark.round == round && mark.step == Step::Propose)
            .and_then(|mark| mark.value)
    }

    pub fn sign_vote(&mut self, vote: &Vote) -> Result<SignedVote, SignerError> {
        let step = match vote.vote_type {
            VoteType::Prevote => Step::Prevote,
            VoteType::Precommit => Step::Precommit,
        };
        self.guard(HighWaterMark {
            height: vote.height,
            round: vote.round,
            step,
            value: vote.value,
        })?;
        Ok(SignedVote {
            vote: vote.clone(),
            validator_key: self.key.public_key(),
            signature: self.key.sign(&vote.signing_bytes()),
        })
    }

    pub fn sign_proposal(&mut self, proposal: &Proposal) -> Result<Ed25519Signature, SignerError> {
        self.guard(HighWaterMark {
            height: proposal.height,
            round: proposal.round,
            step: Step::Propose,
            value: Some(proposal.value),
        })?;
        Ok(self.key.sign(&proposal.signing_bytes()))
    }

    /// Checks `requested` against what was signed and records it durably if it is new.
    /// Everything that signs goes through here first.
    fn guard(&mut self, requested: HighWaterMark) -> Result<(), SignerError> {
        let mut next = match &self.state {
            Some(state) if requested.height < state.height => {
                let signed = state
                    .signed
                    .last()
                    .cloned()
                    .expect("a recorded height has a signature");
                return Err(SignerError::Regression { signed, requested });
            }
            Some(state) if requested.height == state.height => {
                let position = requested.position();
                if let Some(signed) = state
                    .signed
                    .iter()
                    .find(|signed| signed.position() == position)
                {
                    if signed.value == requested.value {
                        return Ok(());
                    }
                    return Err(SignerError::Conflicting {
                        signed: signed.clone(),
                        requested,
                    });
                }
                let latest = state
                    .signed
                    .last()
                    .expect("a recorded height has a signature");
                if position < latest.position() {
                    return Err(SignerError::Regression {
                        signed: latest.clone(),
                        requested,
                    });
                }
                state.clone()
            }
            _ => SignedAtHeight {
                height: requested.height,
                signed: Vec::new(),
            },
        };
        next.signed.push(requested);
        self.persist(&next)?;
        self.state = Some(next);
        self.crash_after_persisting
            .reached("between persisting a position and signing there");
        Ok(())
    }

    fn persist(&self, state: &SignedAtHeight) -> Result<(), SignerError> {
        let bytes = serde_json::to_vec_pretty(state).expect("signer state always serializes");
        write_durably(&self.state_path, &bytes).map_err(|error| SignerError::State {
            path: self.state_path.clone(),
            reason: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(height: Height, round: u32, vote_type: VoteType, value: Option<u8>) -> Vote {
        Vote {
            federation: FederationId([1; 32]),
            cell: CellId(0),
            height,
            round,
            vote_type,
            value: value.map(|byte| [byte; 32]),
        }
    }

    fn signer(dir: &Path) -> GuardedSigner {
        GuardedSigner::open(Ed25519Keypair::from_seed([7; 32]), &dir.join("signer.json")).unwrap()
    }

    #[test]
    fn signs_forward_and_refuses_conflicts_and_regressions() {
        let dir = tempfile::tempdir().unwrap();
        let mut signer = signer(dir.path());
        let first = signer
            .sign_vote(&vote(5, 0, VoteType::Prevote, Some(1)))
            .unwrap();
        let again = signer
            .sign_vote(&vote(5, 0, VoteType::Prevote, Some(1)))
            .unwrap();
        assert_eq!(first.signature, again.signature);
        assert!(matches!(
            signer.sign_vote(&vote(5, 0, VoteType::Prevote, Some(2))),
            Err(SignerError::Conflicting { .. })
        ));
        assert!(matches!(
            signer.sign_vote(&vote(5, 0, VoteType::Prevote, None)),
            Err(SignerError::Conflicting { .. })
        ));
        signer
            .sign_vote(&vote(5, 0, VoteType::Precommit, None))
            .unwrap();
        // The write-ahead-log replay after a restart asks again for earlier votes of the height:
        // the same vote is signed again, a different one is a conflict.
        let replayed = signer
            .sign_vote(&vote(5, 0, VoteType::Prevote, Some(1)))
            .unwrap();
        assert_eq!(replayed.signature, first.signature);
        assert!(matches!(
            signer.sign_vote(&vote(5, 0, VoteType::Prevote, Some(3))),
            Err(SignerError::Conflicting { .. })
        ));
        assert!(matches!(
            signer.sign_vote(&vote(4, 9, VoteType::Precommit, Some(1))),
            Err(SignerError::Regression { .. })
        ));
        signer
            .sign_vote(&vote(5, 1, VoteType::Prevote, Some(3)))
            .unwrap();
        // A position never signed, below one already signed at this height, is refused.
        signer
            .sign_vote(&vote(5, 3, VoteType::Prevote, Some(1)))
            .unwrap();
        assert!(matches!(
            signer.sign_vote(&vote(5, 2, VoteType::Precommit, Some(1))),
            Err(SignerError::Regression { .. })
        ));
        let proposal = Proposal {
            federation: FederationId([1; 32]),
            cell: CellId(0),
            height: 6,
            round: 0,
            value: [4; 32],
            pol_round: None,
        };
        signer.sign_proposal(&proposal).unwrap();
        let other = Proposal {
            value: [5; 32],
            ..proposal
        };
        assert!(matches!(
            signer.sign_proposal(&other),
            Err(SignerError::Conflicting { .. })
        ));
    }

    #[test]
    fn the_mark_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        signer(dir.path())
            .sign_vote(&vote(9, 2, VoteType::Precommit, Some(1)))
            .unwrap();
        let mut restarted = signer(dir.path());
        assert_eq!(restarted.high_water_mark().unwrap().height, 9);
        assert!(matches!(
            restarted.sign_vote(&vote(9, 2, VoteType::Precommit, Some(2))),
            Err(SignerError::Conflicting { .. })
        ));
        restarted
            .sign_vote(&vote(9, 2, VoteType::Precommit, Some(1)))
            .unwrap();
    }

    /// A crash after the mark is written and before the signature leaves: the restarted signer
    /// may sign exactly what the mark names, and nothing conflicting with it.
    #[test]
    fn a_crash_between_persisting_and_signing_cannot_lead_to_a_conflicting_signature() {
        let dir = tempfile::tempdir().unwrap();
        let mut crashed = signer(dir.path());
        crashed
            .guard(HighWaterMark {
                height: 3,
                round: 0,
                step: Step::Prevote,
                value: Some([1; 32]),
            })
            .unwrap();
        drop(crashed);
        let mut restarted = signer(dir.path());
        assert!(matches!(
            restarted.sign_vote(&vote(3, 0, VoteType::Prevote, Some(2))),
            Err(SignerError::Conflicting { .. })
        ));
        restarted
            .sign_vote(&vote(3, 0, VoteType::Prevote, Some(1)))
            .unwrap();
    }

    #[test]
    fn an_unreadable_state_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        for unreadable in [&b"{ not json"[..], br#"{"height":5,"signed":[]}"#] {
            std::fs::write(dir.path().join("signer.json"), unreadable).unwrap();
            assert!(matches!(
                GuardedSigner::open(
                    Ed25519Keypair::from_seed([7; 32]),
                    &dir.path().join("signer.json")
                ),
                Err(SignerError::State { .. })
            ));
        }
    }

    proptest::proptest! {
        /// Over random requests and restarts, no two signatures for one position differ in value.
        #[test]
        fn never_two_signatures_for_one_position(
            requests in proptest::collection::vec((0u64..4, 0u32..3, proptest::bool::ANY, proptest::option::of(0u8..3), proptest::bool::ANY), 1..60),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut signer = signer(dir.path());
            let mut signed: std::collections::BTreeMap<(Height, u32, Step), Option<[u8; 32]>> = Default::default();
            for (height, round, precommit, value, restart) in requests {
                if restart {
                    signer = self::signer(dir.path());
                }
                let vote_type = if precommit { VoteType::Precommit } else { VoteType::Prevote };
                let request = vote(height, round, vote_type, value);
                if let Ok(signature) = signer.sign_vote(&request) {
                    let step = if precommit { Step::Precommit } else { Step::Prevote };
                    let earlier = signed.insert((height, round, step), request.value);
                    proptest::prop_assert!(earlier.is_none() || earlier == Some(request.value));
                    proptest::prop_assert!(signature.validator_key.verify(&request.signing_bytes(), &signature.signature).is_ok());
                }
            }
        }
    }
}
