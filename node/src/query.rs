//! `charter query`: read a node's state as JSON. With `--proof` a read carries a state proof,
//! which is checked here against the state root the node reported and, with `--against`,
//! against the root a second node certified for the same height — so a light client need not
//! trust either node alone.

use anyhow::{bail, Context, Result};
use charter_ledger::state::StateKey;
use charter_ledger::{verify_proof, EscrowId, PassportId, StateProof, StateRoot};
use charter_node::client::ApiClient;
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Args)]
pub struct QueryArgs {
    /// The node's API.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8000")]
    api: String,
    /// Fetch and verify a state proof.
    #[arg(long, global = true)]
    proof: bool,
    /// Another node's API whose certified block at the same height must carry the same root.
    #[arg(long, global = true)]
    against: Option<String>,
    #[command(subcommand)]
    what: Query,
}

#[derive(Subcommand)]
enum Query {
    /// Cell, height, state root, round, mode, validators.
    Status,
    /// A decided block (the latest without a height).
    Block {
        height: Option<u64>,
    },
    /// A transaction's status.
    Tx {
        id: String,
    },
    Passport {
        id: PassportId,
    },
    Bond {
        id: PassportId,
    },
    Escrow {
        id: EscrowId,
    },
    /// The validators of the current epoch.
    Validators,
    Validator {
        id: PassportId,
    },
}

pub fn run(args: QueryArgs) -> Result<()> {
    let api = ApiClient::new(&args.api)?;
    let (path, key) = match &args.what {
        Query::Status => ("/v1/status".to_string(), None),
        Query::Block { height: None } => ("/v1/blocks/latest".to_string(), None),
        Query::Block {
            height: Some(height),
        } => (format!("/v1/blocks/{height}"), None),
        Query::Tx { id } => (format!("/v1/transactions/{id}"), None),
        Query::Passport { id } => (format!("/v1/passports/{id}"), Some(StateKey::Passport(*id))),
        Query::Bond { id } => (format!("/v1/bonds/{id}"), Some(StateKey::Bond(*id))),
        Query::Escrow { id } => (format!("/v1/escrows/{id}"), Some(StateKey::Escrow(*id))),
        Query::Validators => (
            "/v1/validators".to_string(),
            Some(StateKey::ActiveValidators),
        ),
        Query::Validator { id } => (
            format!("/v1/validators/{id}"),
            Some(StateKey::Validator(*id)),
        ),
    };
    let proving = args.proof && key.is_some();
    let read = api.get(&if proving {
        format!("{path}?proof=true")
    } else {
        path
    })?;
    println!("{}", serde_json::to_string_pretty(&read)?);
    if let (true, Some(key)) = (proving, key) {
        let root: StateRoot = serde_json::from_value(read["state_root"].clone())?;
        check_proof(&read, &key, &root).context("against the node's own root")?;
        println!("proof verified against state root {root}");
        if let Some(other) = &args.against {
            let height = read["height"].as_u64().context("the read has no height")?;
            let block = ApiClient::new(other)?.get(&format!("/v1/blocks/{height}"))?;
            let certified: StateRoot =
                serde_json::from_value(block["header"]["state_root"].clone())
                    .context("the other node's block has no state root")?;
            check_proof(&read, &key, &certified).context("against the other node's root")?;
            println!("proof verified against the root {other} certified at height {height}");
        }
    }
    Ok(())
}

fn check_proof(read: &Value, key: &StateKey, root: &StateRoot) -> Result<()> {
    let encoded = match read["encoded"].as_str() {
        Some(hex) => Some(hex::decode(hex).context("the value is not hex")?),
        None => None,
    };
    let proof = hex::decode(read["proof"].as_str().context("the read has no proof")?)?;
    let proof = StateProof::decode(&proof).context("the proof does not decode")?;
    if let Err(error) = verify_proof(root, key, encoded.as_deref(), &proof) {
        bail!("the proof does not verify: {error}");
    }
    Ok(())
}
