//! `charter run`: one validator — ledger and block store on RocksDB, mempool, and the Malachite
//! engine — printing a line for every block it commits.

use crate::api::ApiState;
use crate::config::NodeConfig;
use crate::keys::KeyFile;
use anyhow::{Context, Result};
use charter_consensus::app::CellApp;
use charter_consensus::block_store::BlockStore;
use charter_consensus::context::CellContext;
use charter_consensus::engine::{CellNode, EngineSettings};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::storage::RocksStorage;
use charter_ledger::{Genesis, Ledger, PassportId};
use charter_node::mempool::{MempoolLimits, SharedMempool};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

pub fn run(config_path: &Path) -> Result<()> {
    let config = NodeConfig::load(config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_validator(config))
}

fn validator_identity(key_file: &Path) -> Result<(PassportId, Ed25519Keypair)> {
    let text = std::fs::read_to_string(key_file)
        .with_context(|| format!("reading {}", key_file.display()))?;
    let keys: KeyFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", key_file.display()))?;
    let passport = keys.passport.context("the key file names no passport")?;
    let passport = PassportId::from_hex(&passport)
        .context("the key file's passport id is not 32 hex bytes")?;
    let validator = keys
        .validator
        .context("the key file has no validator keys")?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(&validator.consensus_seed, &mut seed)
        .context("the consensus seed is not 32 hex bytes")?;
    Ok((passport, Ed25519Keypair::from_seed(seed)))
}

async fn run_validator(config: NodeConfig) -> Result<()> {
    let genesis: Genesis = serde_json::from_str(
        &std::fs::read_to_string(&config.genesis)
            .with_context(|| format!("reading {}", config.genesis.display()))?,
    )
    .context("parsing the genesis")?;
    let (passport, consensus_key) = validator_identity(&config.key_file)?;
    let storage = Arc::new(RocksStorage::open(&config.data_dir.join("state"))?);
    let mut ledger = Ledger::open(Arc::clone(&storage))?;
    if ledger.height().is_none() {
        let root = ledger.init_genesis(&genesis)?;
        tracing::info!(%root, "initialized the ledger from genesis");
    }
    let blocks = BlockStore::open(&config.data_dir.join("blocks"))?;
    let context = CellContext {
        federation: genesis.federation,
        cell: genesis.cell,
    };
    let app = CellApp::open(context.clone(), ledger, blocks)?;
    let resumed_at = app.next_height();
    let settings = EngineSettings {
        moniker: config.moniker.clone(),
        home: config.data_dir.join("engine"),
        listen: config.consensus.listen.clone(),
        peers: config.consensus.peers.clone(),
        timeouts: config.consensus.timeouts.clone(),
    };
    let mempool = SharedMempool::new(MempoolLimits::default());
    let api = ApiState::new(Ledger::open(storage)?, mempool.clone());
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("binding the API to {}", config.api.listen))?;
    let api_address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, crate::api::router(api)).await {
            tracing::error!(%error, "the API server stopped");
        }
    });
    let node = CellNode::new(context, settings, passport, consensus_key, app, mempool)?;
    let running = node.launch().await?;
    let mut committed = running.committed();
    println!(
        "{}: validator {passport} at height {} listening on {}, api http://{api_address}",
        config.moniker, resumed_at.0, config.consensus.listen
    );
    loop {
        tokio::select! {
            block = committed.recv() => match block {
                Ok(block) => {
                    println!(
                        "committed height={} block={} root={} transactions={}",
                        block.height.0, block.hash, block.state_root, block.transactions
                    );
                    std::io::stdout().flush()?;
                }
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "progress output fell behind"),
                Err(RecvError::Closed) => break,
            },
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("stopping");
                break;
            }
        }
    }
    running.stop().await;
    Ok(())
}
