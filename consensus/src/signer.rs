//! The guarded signer: the only place a validator's consensus key signs.
//!
//! Before signing a proposal or a vote it compares the request with the high-water mark — the
//! highest (height, round, step) this key has signed and the value it signed there — and
//! refuses anything lower, or anything at the same position for a different value. It then
//! writes the new mark durably (write a temporary file, fsync, rename over the old one, fsync
//! the directory) and only then signs. A crash at any instant therefore leaves a mark at least
//! as high as every signature that ever left the process, and after a restart no conflicting
//! signature can be produced — the discipline tmkms applies to Tendermint validators.
//!
//! Signing the same request again is allowed and yields the same signature (ed25519 is
//! deterministic), so a restarted validator can re-broadcast what it already signed.

use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519Signature};
use charter_ledger::evidence::{SignedVote, Vote, VoteType};
use charter_ledger::ids::{CellId, FederationId, Height};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
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

pub struct GuardedSigner {
    key: Ed25519Keypair,
    state_path: PathBuf,
    mark: Option<HighWaterMark>,
}

impl GuardedSigner {
    /// Opens the signer with its persisted mark. A missing state file means this key has never
    /// signed; an unreadable one is an error, never a reset.
    pub fn open(key: Ed25519Keypair, state_path: &Path) -> Result<Self, SignerError> {
        let state_error = |reason: String| SignerError::State {
            path: state_path.to_path_buf(),
            reason,
        };
        let mark = match std::fs::read(state_path) {
            Ok(bytes) => Some(
                serde_json::from_slice(&bytes).map_err(|error| state_error(error.to_string()))?,
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(state_error(error.to_string())),
        };
        Ok(Self {
            key,
            state_path: state_path.to_path_buf(),
            mark,
        })
    }

    pub fn high_water_mark(&self) -> Option<&HighWaterMark> {
        self.mark.as_ref()
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

    /// Checks `requested` against the mark and persists it as the new mark. Everything that
    /// signs goes through here first.
    fn guard(&mut self, requested: HighWaterMark) -> Result<(), SignerError> {
        if let Some(signed) = &self.mark {
            match requested.position().cmp(&signed.position()) {
                std::cmp::Ordering::Less => {
                    return Err(SignerError::Regression {
                        signed: signed.clone(),
                        requested,
                    })
                }
                std::cmp::Ordering::Equal if requested.value == signed.value => return Ok(()),
                std::cmp::Ordering::Equal => {
                    return Err(SignerError::Conflicting {
                        signed: signed.clone(),
                        requested,
                    })
                }
                std::cmp::Ordering::Greater => {}
            }
        }
        self.persist(&requested)?;
        self.mark = Some(requested);
        Ok(())
    }

    fn persist(&self, mark: &HighWaterMark) -> Result<(), SignerError> {
        let state_error = |reason: String| SignerError::State {
            path: self.state_path.clone(),
            reason,
        };
        let directory = self.state_path.parent().unwrap_or(Path::new("."));
        let temporary = self.state_path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(mark).expect("a mark always serializes");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.state_path)?;
            File::open(directory)?.sync_all()
        };
        write().map_err(|error| state_error(error.to_string()))
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
        assert!(matches!(
            signer.sign_vote(&vote(5, 0, VoteType::Prevote, Some(1))),
            Err(SignerError::Regression { .. })
        ));
        assert!(matches!(
            signer.sign_vote(&vote(4, 9, VoteType::Precommit, Some(1))),
            Err(SignerError::Regression { .. })
        ));
        signer
            .sign_vote(&vote(5, 1, VoteType::Prevote, Some(3)))
            .unwrap();
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
        std::fs::write(dir.path().join("signer.json"), b"{ not json").unwrap();
        assert!(matches!(
            GuardedSigner::open(
                Ed25519Keypair::from_seed([7; 32]),
                &dir.path().join("signer.json")
            ),
            Err(SignerError::State { .. })
        ));
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
