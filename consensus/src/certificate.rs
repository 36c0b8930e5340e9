//! A block's commit certificate: precommits for its hash from validators holding more than
//! two thirds of the epoch's power. Anyone holding the validator set can check it, so a block
//! header — and the state root in it — is as good as the validators' signatures.

use crate::block::{BlockHash, BlockHeight};
use crate::context::{CellContext, ValidatorAddress};
use crate::validator_set::ValidatorSet;
use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519Signature};
use charter_ledger::evidence::{Vote, VoteType};
use charter_ledger::PassportId;
use malachitebft_core_types as mal;
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CommitSignature {
    pub validator: PassportId,
    pub signature: Ed25519Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockCertificate {
    pub height: BlockHeight,
    pub round: u32,
    pub block: BlockHash,
    pub signatures: Vec<CommitSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("signer {0} is not in the validator set")]
    UnknownValidator(PassportId),
    #[error("validator {0} signed twice")]
    DuplicateSigner(PassportId),
    #[error("the precommit of {0} does not verify")]
    BadSignature(PassportId),
    #[error("signers hold {signed} of {total} voting power; more than two thirds is needed")]
    InsufficientPower { signed: u128, total: u128 },
}

impl BlockCertificate {
    /// What each signer of a certificate signed: a precommit for the block.
    pub fn precommit_statement(
        context: &CellContext,
        height: BlockHeight,
        round: u32,
        block: BlockHash,
    ) -> Vote {
        Vote {
            federation: context.federation,
            cell: context.cell,
            height: height.0,
            round,
            vote_type: VoteType::Precommit,
            value: Some(block.0),
        }
    }

    /// A certificate signed by the given validators' consensus keys (for tools and tests; the
    /// engine assembles certificates from the precommits it receives).
    pub fn sign<'a>(
        context: &CellContext,
        height: BlockHeight,
        round: u32,
        block: BlockHash,
        signers: impl IntoIterator<Item = (PassportId, &'a Ed25519Keypair)>,
    ) -> Self {
        let statement = Self::precommit_statement(context, height, round, block).signing_bytes();
        let signatures = signers
            .into_iter()
            .map(|(validator, key)| CommitSignature {
                validator,
                signature: key.sign(&statement),
            })
            .collect();
        Self {
            height,
            round,
            block,
            signatures,
        }
    }

    /// Checks every signature as a precommit for this block and that the signers hold more than
    /// two thirds of `validators`' power.
    pub fn verify(
        &self,
        context: &CellContext,
        validators: &ValidatorSet,
    ) -> Result<(), CertificateError> {
        let statement =
            Self::precommit_statement(context, self.height, self.round, self.block).signing_bytes();
        let mut signers = BTreeSet::new();
        let mut signed = 0u128;
        for commit in &self.signatures {
            let member = validators
                .members()
                .iter()
                .find(|member| member.passport == commit.validator)
                .ok_or(CertificateError::UnknownValidator(commit.validator))?;
            if !signers.insert(commit.validator) {
                return Err(CertificateError::DuplicateSigner(commit.validator));
            }
            member
                .consensus_key
                .verify(&statement, &commit.signature)
                .map_err(|_| CertificateError::BadSignature(commit.validator))?;
            signed += u128::from(member.power);
        }
        if !validators.is_quorum(signed) {
            return Err(CertificateError::InsufficientPower {
                signed,
                total: validators.total_power(),
            });
        }
        Ok(())
    }
}

impl From<&mal::CommitCertificate<CellContext>> for BlockCertificate {
    fn from(certificate: &mal::CommitCertificate<CellContext>) -> Self {
        Self {
            height: certificate.height,
            round: certificate.round.as_u32().unwrap_or(0),
            block: certificate.value_id,
            signatures: certificate
                .commit_signatures
                .iter()
                .map(|commit| {
                    let ValidatorAddress(validator) = commit.address;
                    CommitSignature {
                        validator,
                        signature: commit.signature,
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charter_devnet::fixtures::{DevCell, DevCellConfig};
    use charter_ledger::storage::MemoryStorage;
    use charter_ledger::Ledger;

    fn setup() -> (DevCell, CellContext, ValidatorSet) {
        let cell = DevCell::new(41, DevCellConfig::default());
        let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
        ledger.init_genesis(&cell.genesis).unwrap();
        let context = CellContext {
            federation: cell.genesis.federation,
            cell: cell.genesis.cell,
        };
        let set = ValidatorSet::from_ledger(&ledger).unwrap();
        (cell, context, set)
    }

    fn certificate(
        cell: &DevCell,
        context: &CellContext,
        signers: &[usize],
        block: u8,
    ) -> BlockCertificate {
        let keys = signers.iter().map(|index| {
            let validator = cell.validator(*index);
            (validator.id, validator.consensus_key.as_ref().unwrap())
        });
        BlockCertificate::sign(context, BlockHeight(7), 1, BlockHash([block; 32]), keys)
    }

    #[test]
    fn three_of_four_certify_and_two_do_not() {
        let (cell, context, set) = setup();
        certificate(&cell, &context, &[0, 1, 3], 9)
            .verify(&context, &set)
            .unwrap();
        assert_eq!(
            certificate(&cell, &context, &[0, 1], 9).verify(&context, &set),
            Err(CertificateError::InsufficientPower {
                signed: 20_000,
                total: 40_000
            })
        );
    }

    #[test]
    fn forged_duplicated_or_foreign_signatures_are_refused() {
        let (cell, context, set) = setup();
        let mut forged = certificate(&cell, &context, &[0, 1, 2], 9);
        forged.block = BlockHash([8; 32]);
        assert!(matches!(
            forged.verify(&context, &set),
            Err(CertificateError::BadSignature(_))
        ));
        let twice = certificate(&cell, &context, &[0, 0, 1, 2], 9);
        assert_eq!(
            twice.verify(&context, &set),
            Err(CertificateError::DuplicateSigner(cell.validator(0).id))
        );
        let mut foreign = certificate(&cell, &context, &[0, 1, 2], 9);
        foreign.signatures[2].validator = cell.member(0).id;
        assert_eq!(
            foreign.verify(&context, &set),
            Err(CertificateError::UnknownValidator(cell.member(0).id))
        );
    }
}
