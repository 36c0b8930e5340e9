//! A transaction's proof of inclusion in a certified block: the block's header, the ids of its
//! transactions in order, and the commit certificate. Whoever knows the validator set checks
//! it with nothing else: the ids hash to the header's transactions root, the header hashes to
//! the block the certificate names, and validators holding more than 2/3 of the power signed
//! that block.

use crate::block::{Block, BlockHeader};
use crate::certificate::{BlockCertificate, CertificateError};
use crate::context::CellContext;
use crate::validator_set::ValidatorSet;
use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::TxId;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct InclusionProof {
    pub header: BlockHeader,
    pub transactions: Vec<TxId>,
    pub certificate: BlockCertificate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InclusionError {
    #[error("transaction {0} is not among the block's transactions")]
    NotIncluded(TxId),
    #[error("the transaction ids do not hash to the header's transactions root")]
    TransactionsRoot,
    #[error("the certificate is for another block or height")]
    OtherBlock,
    #[error("the certificate does not verify: {0}")]
    Certificate(#[from] CertificateError),
}

impl InclusionProof {
    pub fn verify(
        &self,
        id: &TxId,
        context: &CellContext,
        validators: &ValidatorSet,
    ) -> Result<(), InclusionError> {
        if !self.transactions.contains(id) {
            return Err(InclusionError::NotIncluded(*id));
        }
        if Block::transactions_root_of_ids(&self.transactions) != self.header.transactions_root {
            return Err(InclusionError::TransactionsRoot);
        }
        if self.certificate.block != self.header.hash()
            || self.certificate.height != self.header.height
        {
            return Err(InclusionError::OtherBlock);
        }
        self.certificate.verify(context, validators)?;
        Ok(())
    }
}
