//! The app side of consensus for one cell, independent of the engine's message plumbing: build
//! a proposal, judge a proposal by re-executing it, commit a decided block, recover after a
//! crash. The engine adapter answers Malachite's requests by calling these.

use crate::block::{Block, BlockHash, BlockHeader, BlockHeight};
use crate::block_store::{BlockStore, BlockStoreError, DecidedBlock, TransactionOutcome};
use crate::certificate::{BlockCertificate, CertificateError};
use crate::context::CellContext;
use crate::faults::CrashPoint;
use crate::host::CommittedBlock;
use crate::validator_set::{ValidatorSet, ValidatorSetError};
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::execution::{CheckedTransaction, VerifiedSignatures};
use charter_ledger::governance::{BeaconReveal, SignedReveal};
use charter_ledger::{
    Ledger, LedgerError, PassportId, PreparedBlock, SignedTransaction, StateRoot,
};
use charter_store::{NodeStore, StateStore};
use std::sync::Arc;
use tokio::sync::Notify;

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
    #[error("the block names {got} as its proposer, who is not a validator of this height")]
    UnknownProposer { got: PassportId },
    #[error("the header does not commit to the block's transactions")]
    InconsistentTransactions,
    #[error("the header's beacon reveal is not its proposer's: {0}")]
    InvalidReveal(&'static str),
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
    /// A block and its state changes are written in one batch, so the ledger and the blocks
    /// disagree only in a store that was damaged or copied part by part from a running node.
    #[error(
        "the ledger is at height {ledger} but the blocks end at height {blocks}: this data \
         directory is inconsistent (copied from a running node, or damaged); restore a copy \
         taken from a stopped node, or, to resync from the cell, empty its `store` directory \
         and everything in `engine` but `signer_state.json`"
    )]
    StoreInconsistent { ledger: u64, blocks: u64 },
}

/// What the engine's host asks of the application it orders blocks for. [`CellApp`] — the
/// ledger — is the application; the trait is the boundary that lets the same engine and host
/// run another application beside it (a no-op one, to measure the engine alone).
pub trait Application: Send + 'static {
    /// What the application lets a pool read of the state a committed block left.
    type State;
    fn state(&self) -> &Self::State;
    /// The height the next decided block will have.
    fn next_height(&self) -> BlockHeight;
    /// The validator set deciding the next block.
    fn validator_set(&self) -> Result<ValidatorSet, AppError>;
    /// Decided blocks and undecided proposals.
    fn blocks(&self) -> &BlockStore;
    /// Told as soon as it is known that this validator proposes the first round of `height`:
    /// what of building that block needs no state can start early, off the path of the blocks
    /// before it.
    fn will_propose(&mut self, _height: BlockHeight) {}
    /// Builds the next block from the pool's candidates.
    fn propose(
        &mut self,
        proposer: PassportId,
        candidates: &[SignedTransaction],
    ) -> Result<Block, AppError>;
    /// Judges a proposal; `Ok(Err(_))` is a well-formed verdict that it is invalid. The
    /// verdict depends on the block and the chain alone, never on the round it is proposed
    /// in: the engine decides a value judged valid once, whichever round decides it.
    fn validate(&mut self, block: &Block) -> Result<Result<(), InvalidBlock>, AppError>;
    /// Commits a decided block with its certificate; the outcome of each transaction.
    fn commit(
        &mut self,
        block: Block,
        certificate: BlockCertificate,
    ) -> Result<Vec<TransactionOutcome>, AppError>;
}

/// Where proposals get their transactions, and who hears of each committed block, with a read
/// of the state it left (to drop what the block made stale).
pub trait TransactionPool<A: Application>: Send {
    fn candidates(&mut self) -> Vec<SignedTransaction>;
    fn block_committed(&mut self, block: &CommittedBlock, state: &A::State);
    /// Notified when transactions arrive, so that a proposer waiting for some proposes at once.
    /// A pool that never notifies leaves an idle proposer waiting its whole idle time.
    fn arrivals(&self) -> Arc<Notify> {
        Arc::new(Notify::new())
    }
}

impl Application for CellApp {
    type State = Ledger<StateStore>;

    fn state(&self) -> &Ledger<StateStore> {
        &self.ledger
    }

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

    fn validate(&mut self, block: &Block) -> Result<Result<(), InvalidBlock>, AppError> {
        CellApp::validate(self, block)
    }

    fn commit(
        &mut self,
        block: Block,
        certificate: BlockCertificate,
    ) -> Result<Vec<TransactionOutcome>, AppError> {
        CellApp::commit(self, block, certificate)
    }

    fn will_propose(&mut self, height: BlockHeight) {
        CellApp::sign_reveal_ahead(self, height)
    }
}

/// This validator's beacon reveal for a block it is to propose, being signed on a thread of its
/// own.
struct RevealAhead {
    height: BlockHeight,
    signing: std::thread::JoinHandle<SignedReveal>,
}

pub struct CellApp {
    context: CellContext,
    ledger: Ledger<StateStore>,
    blocks: BlockStore,
    /// The last block validated, executed and ready to commit: committing the block that was
    /// just voted for does not execute it a second time.
    validated: Option<(BlockHash, PreparedBlock)>,
    /// Crashes injected around a block's one write (crash tests).
    crash_before_commit: CrashPoint,
    crash_during_commit: CrashPoint,
    /// Transactions whose signatures this node verified (shared with its mempool): a block's
    /// are verified only where they are not among them.
    verified: VerifiedSignatures,
    /// The validator's BLS key, which signs its share of the beacon in its proposals.
    reveal_key: BlsSecretKey,
    /// Reveals signed ahead for blocks this validator is to propose.
    reveals_ahead: Vec<RevealAhead>,
}

impl CellApp {
    /// Injects crashes around committing a block: after it is decided and before anything of
    /// it is written (`before`), and after its block and state are written and before the
    /// node acts on it (`during`).
    pub fn inject_crashes(&mut self, before: CrashPoint, during: CrashPoint) {
        self.crash_before_commit = before;
        self.crash_during_commit = during;
    }

    /// Opens the app on a node's store, whose ledger holds at least the genesis, for the
    /// validator whose BLS key is `reveal_key`; refuses a store whose ledger and blocks are at
    /// different heights.
    pub fn open(
        context: CellContext,
        store: NodeStore,
        reveal_key: BlsSecretKey,
    ) -> Result<Self, AppError> {
        let app = Self {
            context,
            ledger: Ledger::open(store.state())?,
            blocks: BlockStore::new(store),
            validated: None,
            crash_before_commit: CrashPoint::default(),
            crash_during_commit: CrashPoint::default(),
            verified: VerifiedSignatures::default(),
            reveal_key,
            reveals_ahead: Vec::new(),
        };
        let ledger = app.ledger.height().ok_or(LedgerError::NotInitialized)?;
        let blocks = app.blocks.latest_height()?.map_or(0, |height| height.0);
        if ledger != blocks {
            return Err(AppError::StoreInconsistent { ledger, blocks });
        }
        Ok(app)
    }

    pub fn ledger(&self) -> &Ledger<StateStore> {
        &self.ledger
    }

    /// The signatures this app has verified, for the mempool to add what it admits.
    pub fn verified_signatures(&self) -> VerifiedSignatures {
        self.verified.clone()
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
        let signed = self.signed_reveal();
        let reveal = self.ledger.own_reveal(proposer, &signed)?;
        let checked = self.verified.check_all(candidates);
        let trial = self.ledger.prepare_revealed_block(&reveal, &checked)?;
        let (transactions, prepared) = if trial.receipts.iter().all(|r| r.outcome.is_ok()) {
            // Every candidate commits: the trial is the block.
            (candidates.to_vec(), trial)
        } else {
            let transactions: Vec<SignedTransaction> = (candidates.iter().zip(&trial.receipts))
                .filter(|(_, receipt)| receipt.outcome.is_ok())
                .map(|(transaction, _)| transaction.clone())
                .collect();
            let included: Vec<_> = (transactions.iter())
                .map(CheckedTransaction::pre_verified)
                .collect();
            let prepared = self.ledger.prepare_revealed_block(&reveal, &included)?;
            (transactions, prepared)
        };
        let header = BlockHeader {
            federation: self.context.federation,
            cell: self.context.cell,
            height: BlockHeight(prepared.height),
            parent: self.parent()?,
            proposer,
            reveal: *reveal.signature(),
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

    /// Starts signing this validator's reveal for the block at `height` on a thread of its own.
    pub fn sign_reveal_ahead(&mut self, height: BlockHeight) {
        let next = self.next_height();
        (self.reveals_ahead).retain(|ahead| ahead.height >= next && ahead.height != height);
        if height < next {
            return;
        }
        let (key, federation, cell) = (
            self.reveal_key.clone(),
            self.context.federation,
            self.context.cell,
        );
        let signing = std::thread::Builder::new()
            .name("reveal-ahead".into())
            .spawn(move || SignedReveal::sign(&key, federation, cell, height.0));
        match signing {
            Ok(signing) => self.reveals_ahead.push(RevealAhead { height, signing }),
            Err(error) => {
                tracing::warn!(%error, "cannot sign a reveal ahead; it will be signed when proposing")
            }
        }
    }

    /// The heights of the blocks whose reveals are signed ahead and not yet taken, in the
    /// order they were asked for.
    pub fn reveals_signed_ahead(&self) -> Vec<BlockHeight> {
        self.reveals_ahead
            .iter()
            .map(|ahead| ahead.height)
            .collect()
    }

    /// This validator's reveal for the next block: the one signed ahead for it, or one signed
    /// now.
    fn signed_reveal(&mut self) -> SignedReveal {
        let next = self.next_height();
        let ahead = (self.reveals_ahead.iter()).position(|ahead| ahead.height == next);
        match ahead.map(|index| self.reveals_ahead.remove(index).signing.join()) {
            Some(Ok(signed)) => signed,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => SignedReveal::sign(
                &self.reveal_key,
                self.context.federation,
                self.context.cell,
                next.0,
            ),
        }
    }

    /// Judges a proposal: it must extend the chain at the next height, name a validator of
    /// this height as the proposer that built it, carry that proposer's beacon reveal, commit
    /// to its own transactions, and — executed here — give the state root its header claims. The header's proposer is the
    /// validator that first proposed the block: one re-proposed in a later round under a
    /// proof of lock keeps it, so it is not required to be the round's proposer (the proposal
    /// stream's signature is what shows who proposes in a round).
    pub fn validate(&mut self, block: &Block) -> Result<Result<(), InvalidBlock>, AppError> {
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
        if !self.validator_set()?.contains(&header.proposer) {
            return Ok(Err(InvalidBlock::UnknownProposer {
                got: header.proposer,
            }));
        }
        if !block.is_consistent() {
            return Ok(Err(InvalidBlock::InconsistentTransactions));
        }
        let checked = self.verified.check_all(&block.transactions);
        let prepared = match (self.ledger).prepare_proposed_block(&header_reveal(block), &checked) {
            Err(LedgerError::InvalidReveal { reason, .. }) => {
                return Ok(Err(InvalidBlock::InvalidReveal(reason)))
            }
            prepared => prepared?,
        };
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
    /// executes it (or reuses its validation), and writes it with its transactions' outcomes
    /// and its state changes in one synced batch. Returns the outcomes.
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
        let decided = DecidedBlock { block, certificate };
        self.crash_before_commit
            .reached("after deciding a block, before writing it");
        let blocks = &self.blocks;
        self.ledger.commit_with(prepared, |state| {
            blocks
                .commit(&decided, &outcomes, &state)
                .map_err(AppError::from)
        })?;
        self.crash_during_commit
            .reached("after writing a block and its state, before acting on it");
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
            _ => self.ledger.prepare_proposed_block(
                &header_reveal(block),
                &self.verified.check_all(&block.transactions),
            )?,
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

/// The beacon reveal a block's header carries, from the validator it names as its proposer.
fn header_reveal(block: &Block) -> BeaconReveal {
    BeaconReveal {
        proposer: block.header.proposer,
        signature: block.header.reveal,
    }
}
