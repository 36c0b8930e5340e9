//! The app side of consensus for one cell, independent of the engine's message plumbing: build
//! a proposal, judge a proposal by re-executing it, commit a decided block, recover after a
//! crash. The engine adapter answers Malachite's requests by calling these.

use crate::block::{Block, BlockHash, BlockHeader, BlockHeight};
use crate::block_store::{BlockStore, BlockStoreError, DecidedBlock, TransactionOutcome};
use crate::certificate::{BlockCertificate, CertificateError};
use crate::context::CellContext;
use crate::faults::CrashPoint;
use crate::validator_set::{ValidatorSet, ValidatorSetError};
use charter_ledger::execution::CheckedTransaction;
use charter_ledger::storage::Storage;
use charter_ledger::{
    Ledger, LedgerError, PassportId, PreparedBlock, SignedTransaction, StateRoot,
};

/// Why a proposed block is not valid. Validators prevote nil on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    #[error("the block is for another federation or cell")]
    WrongCell,
    #[error("the block is for height {got}; the next height is {expected}")]
    WrongHeight {
        expected: BlockHeight,
        got: BlockHeight,
    },
    #[error("the block does not extend the last decided block")]
    WrongParent,
    #[error("the block names {got} as proposer; {expected} proposes this round")]
    WrongProposer {
        expected: PassportId,
        got: PassportId,
    },
    #[error("the header does not commit to the block's transactions")]
    InconsistentTransactions,
    #[error("executing the block gives state root {computed}, the header claims {claimed}")]
    StateRootMismatch {
        claimed: StateRoot,
        computed: StateRoot,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] BlockStoreError),
    #[error(transparent)]
    ValidatorSet(#[from] ValidatorSetError),
    #[error("decided block is invalid here: {0}")]
    InvalidDecidedBlock(InvalidBlock),
    #[error("decided block's certificate does not verify: {0}")]
    Certificate(#[from] CertificateError),
    #[error("the certificate is for block {certified}, not {block}")]
    CertificateForAnotherBlock {
        certified: BlockHash,
        block: BlockHash,
    },
    /// Blocks are stored before the ledger applies them, so a ledger ahead of its blocks means
    /// the data directory was copied while the node ran (its parts at different moments) or
    /// damaged.
    #[error(
        "the ledger has applied height {ledger} but the block store ends at height {blocks}: \
         this data directory is inconsistent (copied from a running node, or damaged); restore a \
         copy taken from a stopped node, or, to resync from the cell, empty its `state` and \
         `blocks` directories and everything in `engine` but `signer_state.json`"
    )]
    LedgerAheadOfBlocks { ledger: u64, blocks: u64 },
}

/// What the engine's host asks of the application it orders blocks for. [`CellApp`] — the
/// ledger — is the application; the trait is the boundary that lets the same engine and host
/// run another application beside it (a no-op one, to measure the engine alone).
pub trait Application: Send + 'static {
    /// The height the next decided block will have.
    fn next_height(&self) -> BlockHeight;
    /// The validator set deciding the next block.
    fn validator_set(&self) -> Result<ValidatorSet, AppError>;
    /// Decided blocks and undecided proposals.
    fn blocks(&self) -> &BlockStore;
    /// Builds the next block from the pool's candidates.
    fn propose(
        &mut self,
        proposer: PassportId,
        candidates: &[SignedTransaction],
    ) -> Result<Block, AppError>;
    /// Judges a proposal; `Ok(Err(_))` is a well-formed verdict that it is invalid.
    fn validate(
        &mut self,
        block: &Block,
        expected_proposer: PassportId,
    ) -> Result<Result<(), InvalidBlock>, AppError>;
    /// Commits a decided block with its certificate; the outcome of each transaction.
    fn commit(
        &mut self,
        block: Block,
        certificate: BlockCertificate,
    ) -> Result<Vec<TransactionOutcome>, AppError>;
}

impl<S: Storage + Send + 'static> Application for CellApp<S> {
    fn next_height(&self) -> BlockHeight {
        CellApp::next_height(self)
    }

    fn validator_set(&self) -> Result<ValidatorSet, AppError> {
        CellApp::validator_set(self)
    }

    fn blocks(&self) -> &BlockStore {
        CellApp::blocks(self)
    }

    fn propose(
        &mut self,
        proposer: PassportId,
        candidates: &[SignedTransaction],
    ) -> Result<Block, AppError> {
        CellApp::propose(self, proposer, candidates)
    }

    fn validate(
        &mut self,
        block: &Block,
        expected_proposer: PassportId,
    ) -> Result<Result<(), InvalidBlock>, AppError> {
        CellApp::validate(self, block, expected_proposer)
    }

    fn commit(
        &mut self,
        block: Block,
        certificate: BlockCertificate,
    ) -> Result<Vec<TransactionOutcome>, AppError> {
        CellApp::commit(self, block, certificate)
    }
}

pub struct CellApp<S: Storage> {
    context: CellContext,
    ledger: Ledger<S>,
    blocks: BlockStore,
    /// The last block validated, executed and ready to commit: committing the block that was
    /// just voted for does not execute it a second time.
    validated: Option<(BlockHash, PreparedBlock)>,
    /// An injected crash between storing a decided block and applying it, which
    /// [`CellApp::open`] recovers from.
    crash_during_commit: CrashPoint,
}

impl<S: Storage> CellApp<S> {
    /// Injects a crash between storing a decided block and applying it (crash tests).
    pub fn crash_during_commit(&mut self, point: CrashPoint) {
        self.crash_during_commit = point;
    }

    /// Opens the app, first replaying any decided block the ledger has not applied (the node
    /// stopped between storing a block and applying it); refuses a ledger ahead of its blocks.
    pub fn open(
        context: CellContext,
        ledger: Ledger<S>,
        blocks: BlockStore,
    ) -> Result<Self, AppError> {
        let mut app = Self {
            context,
            ledger,
            blocks,
            validated: None,
            crash_during_commit: CrashPoint::default(),
        };
        let ledger_height = app.ledger.height().ok_or(LedgerError::NotInitialized)?;
        let stored = app.blocks.latest_height()?.map_or(0, |height| height.0);
        if ledger_height > stored {
            return Err(AppError::LedgerAheadOfBlocks {
                ledger: ledger_height,
                blocks: stored,
            });
        }
        for height in ledger_height + 1..=stored {
            let decided = app.blocks.decided(BlockHeight(height))?.ok_or_else(|| {
                BlockStoreError::Corrupt(format!("decided block {height} is missing"))
            })?;
            tracing::info!(
                height,
                "replaying a decided block the ledger had not applied"
            );
            let prepared = app.execute(&decided.block)?;
            app.ledger.commit(prepared)?;
        }
        Ok(app)
    }

    pub fn ledger(&self) -> &Ledger<S> {
        &self.ledger
    }

    pub fn blocks(&self) -> &BlockStore {
        &self.blocks
    }

    pub fn next_height(&self) -> BlockHeight {
        BlockHeight(self.ledger.height().unwrap_or(0) + 1)
    }

    /// The validator set deciding the next block.
    pub fn validator_set(&self) -> Result<ValidatorSet, AppError> {
        Ok(ValidatorSet::from_ledger(&self.ledger)?)
    }

    fn parent(&self) -> Result<BlockHash, AppError> {
        let Some(height) = self.ledger.height().filter(|height| *height > 0) else {
            return Ok(BlockHash([0; 32]));
        };
        let decided = self.blocks.decided(BlockHeight(height))?.ok_or_else(|| {
            BlockStoreError::Corrupt(format!("decided block {height} is missing"))
        })?;
        Ok(decided.block.hash())
    }

    /// Builds the next block from `candidates` (the mempool's reap), keeping only transactions
    /// that commit, with the header's state root computed by executing them.
    pub fn propose(
        &mut self,
        proposer: PassportId,
        candidates: &[SignedTransaction],
    ) -> Result<Block, AppError> {
        let checked = CheckedTransaction::verify_all(candidates);
        let trial = self.ledger.prepare_block(&checked)?;
        let transactions: Vec<SignedTransaction> = candidates
            .iter()
            .zip(&trial.receipts)
            .filter(|(_, receipt)| receipt.outcome.is_ok())
            .map(|(transaction, _)| transaction.clone())
            .collect();
        let included: Vec<_> = transactions
            .iter()
            .map(CheckedTransaction::pre_verified)
            .collect();
        let prepared = self.ledger.prepare_block(&included)?;
        let header = BlockHeader {
            federation: self.context.federation,
            cell: self.context.cell,
            height: BlockHeight(prepared.height),
            parent: self.parent()?,
            proposer,
            transactions_root: Block::transactions_root(&transactions),
            state_root: prepared.state_root,
        };
        let block = Block {
            header,
            transactions,
        };
        self.validated = Some((block.hash(), prepared));
        Ok(block)
    }

    /// Judges a proposal: it must extend the chain at the next height, come from the expected
    /// proposer, commit to its own transactions, and — executed here — give the state root its
    /// header claims.
    pub fn validate(
        &mut self,
        block: &Block,
        expected_proposer: PassportId,
    ) -> Result<Result<(), InvalidBlock>, AppError> {
        let header = &block.header;
        if header.federation != self.context.federation || header.cell != self.context.cell {
            return Ok(Err(InvalidBlock::WrongCell));
        }
        let expected = self.next_height();
        if header.height != expected {
            return Ok(Err(InvalidBlock::WrongHeight {
                expected,
                got: header.height,
            }));
        }
        if header.parent != self.parent()? {
            return Ok(Err(InvalidBlock::WrongParent));
        }
        if header.proposer != expected_proposer {
            return Ok(Err(InvalidBlock::WrongProposer {
                expected: expected_proposer,
                got: header.proposer,
            }));
        }
        if !block.is_consistent() {
            return Ok(Err(InvalidBlock::InconsistentTransactions));
        }
        let prepared = self
            .ledger
            .prepare_block(&CheckedTransaction::verify_all(&block.transactions))?;
        if prepared.state_root != header.state_root {
            return Ok(Err(InvalidBlock::StateRootMismatch {
                claimed: header.state_root,
                computed: prepared.state_root,
            }));
        }
        self.validated = Some((block.hash(), prepared));
        Ok(Ok(()))
    }

    /// Commits a decided block: checks its certificate against the current epoch's set,
    /// executes it (or reuses its validation), stores it durably with its transactions'
    /// outcomes, then applies it to the ledger. Returns the outcomes.
    pub fn commit(
        &mut self,
        block: Block,
        certificate: BlockCertificate,
    ) -> Result<Vec<TransactionOutcome>, AppError> {
        if certificate.block != block.hash() {
            return Err(AppError::CertificateForAnotherBlock {
                certified: certificate.block,
                block: block.hash(),
            });
        }
        certificate.verify(&self.context, &self.validator_set()?)?;
        let prepared = self.execute(&block)?;
        let outcomes: Vec<TransactionOutcome> = prepared
            .receipts
            .iter()
            .map(TransactionOutcome::from)
            .collect();
        self.blocks
            .commit(&DecidedBlock { block, certificate }, &outcomes)?;
        self.crash_during_commit
            .reached("between storing a block and applying it");
        self.ledger.commit(prepared)?;
        Ok(outcomes)
    }

    /// Executes a decided block, reusing the execution from validation when it was this very
    /// block, and checks the state root its header claims.
    fn execute(&mut self, block: &Block) -> Result<PreparedBlock, AppError> {
        let hash = block.hash();
        let prepared = match self.validated.take() {
            Some((validated, prepared))
                if validated == hash && prepared.height == block.header.height.0 =>
            {
                prepared
            }
            _ => self
                .ledger
                .prepare_block(&CheckedTransaction::verify_all(&block.transactions))?,
        };
        if prepared.state_root != block.header.state_root {
            return Err(AppError::InvalidDecidedBlock(
                InvalidBlock::StateRootMismatch {
                    claimed: block.header.state_root,
                    computed: prepared.state_root,
                },
            ));
        }
        Ok(prepared)
    }
}
