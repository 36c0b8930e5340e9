//! The Malachite engine alone: four validators in this process — each with Charter's host,
//! context, guarded signer, block store and Malachite's own libp2p network on loopback — ordering
//! blocks of fixed dummy transactions for an application that does nothing with them.

use crate::noop::{dummy_transactions, EngineRun};
use anyhow::Result;
use charter_consensus::app::{AppError, Application, InvalidBlock, TransactionPool};
use charter_consensus::block::{Block, BlockHash, BlockHeader, BlockHeight};
use charter_consensus::block_store::{BlockStore, DecidedBlock, TransactionOutcome};
use charter_consensus::certificate::BlockCertificate;
use charter_consensus::context::CellContext;
use charter_consensus::engine::{CellEngine, EngineSettings};
use charter_consensus::host::CommittedBlock;
use charter_consensus::ValidatorSet;
use charter_ledger::crypto::bls::{BlsSecretKey, BlsSignature};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::state::ActiveValidator;
use charter_ledger::storage::Commit;
use charter_ledger::{CellId, FederationId, PassportId, SignedTransaction, StateRoot};
use charter_store::NodeStore;
use std::time::{Duration, Instant};

/// Orders blocks and keeps them (the host needs the proposals), and does nothing else.
struct NoopApp {
    context: CellContext,
    validators: ValidatorSet,
    blocks: BlockStore,
    decided: u64,
}

impl Application for NoopApp {
    type State = ();

    fn state(&self) -> &() {
        &()
    }

    fn next_height(&self) -> BlockHeight {
        BlockHeight(self.decided + 1)
    }

    fn validator_set(&self) -> Result<ValidatorSet, AppError> {
        Ok(self.validators.clone())
    }

    fn blocks(&self) -> &BlockStore {
        &self.blocks
    }

    fn propose(
        &mut self,
        proposer: PassportId,
        candidates: &[SignedTransaction],
    ) -> Result<Block, AppError> {
        Ok(Block {
            header: BlockHeader {
                federation: self.context.federation,
                cell: self.context.cell,
                height: self.next_height(),
                parent: BlockHash([0; 32]),
                proposer,
                reveal: BlsSignature([0; 96]),
                transactions_root: Block::transactions_root(candidates),
                state_root: StateRoot([0; 32]),
            },
            transactions: candidates.to_vec(),
        })
    }

    fn validate(&mut self, _block: &Block) -> Result<Result<(), InvalidBlock>, AppError> {
        Ok(Ok(()))
    }

    fn commit(
        &mut self,
        block: Block,
        certificate: BlockCertificate,
    ) -> Result<Vec<TransactionOutcome>, AppError> {
        let height = block.header.height.0;
        self.blocks.commit(
            &DecidedBlock { block, certificate },
            &[],
            &Commit::unchanged(height),
        )?;
        self.decided += 1;
        Ok(Vec::new())
    }
}

/// Offers the same block's worth of transactions to every proposal.
struct FixedPool(Vec<SignedTransaction>);

impl TransactionPool<NoopApp> for FixedPool {
    fn candidates(&mut self) -> Vec<SignedTransaction> {
        self.0.clone()
    }

    fn block_committed(&mut self, _block: &CommittedBlock, _state: &()) {}
}

fn free_address() -> Result<libp2p::Multiaddr> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Ok(format!("/ip4/127.0.0.1/tcp/{port}").parse()?)
}

/// Runs four validators for `duration` after a warm-up; `home` holds their stores.
pub fn run(block_size: usize, duration: Duration, home: &std::path::Path) -> Result<EngineRun> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let context = CellContext {
            federation: FederationId([9; 32]),
            cell: CellId(0),
        };
        let keys: Vec<(PassportId, Ed25519Keypair)> = (0..4u8)
            .map(|index| {
                (
                    PassportId([index + 1; 32]),
                    Ed25519Keypair::from_seed([index + 1; 32]),
                )
            })
            .collect();
        let validators = ValidatorSet::new(
            keys.iter()
                .enumerate()
                .map(|(index, (passport, key))| ActiveValidator {
                    passport: *passport,
                    consensus_key: key.public_key(),
                    bls_key: BlsSecretKey::key_gen(&[index as u8 + 1; 32], b"")
                        .expect("32 bytes of key material")
                        .public_key(),
                    power: 1,
                })
                .collect(),
        )?;
        let addresses: Vec<libp2p::Multiaddr> = (0..keys.len())
            .map(|_| free_address())
            .collect::<Result<_>>()?;
        let transactions = dummy_transactions(&context, block_size);
        let mut running = Vec::new();
        for (index, (passport, key)) in keys.iter().enumerate() {
            let dir = home.join(format!("malachite-{index}"));
            let app = NoopApp {
                context: context.clone(),
                validators: validators.clone(),
                blocks: BlockStore::new(NodeStore::open(&dir.join("store"))?),
                decided: 0,
            };
            let settings = EngineSettings::in_cell(
                format!("noop-{index}"),
                dir.join("engine"),
                &addresses,
                index,
            );
            let node = CellEngine::new(
                context.clone(),
                settings,
                *passport,
                key.clone(),
                app,
                FixedPool(transactions.clone()),
            )?;
            running.push(node.launch().await?);
        }
        let mut committed = running[0].committed();
        // Warm up: the network connects and a few blocks pass.
        let mut height = 0;
        while height < 5 {
            height = committed.recv().await?.height.0;
        }
        let (start_height, started) = (height, Instant::now());
        while started.elapsed() < duration {
            height = committed.recv().await?.height.0;
        }
        let elapsed = started.elapsed();
        for validator in running {
            validator.stop().await;
        }
        Ok(EngineRun {
            blocks: height - start_height,
            elapsed,
            block_size,
        })
    })
}
