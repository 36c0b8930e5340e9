//! `charter query`: read a node's state as JSON. With `--proof` a read carries a state proof,
//! which is checked here against the state root the node reported and, with `--against`,
//! against the root a second node certified for the same height — so a light client need not
//! trust either node alone. A transaction read with `--proof` carries its inclusion in a
//! certified block, checked against the validator set of `--genesis` (the trust anchor, good for
//! the first epoch) or else the one the node reports.

use anyhow::{bail, ensure, Context, Result};
use charter_client::ApiClient;
use charter_consensus::context::CellContext;
use charter_consensus::inclusion::InclusionProof;
use charter_consensus::ValidatorSet;
use charter_ledger::governance::{JuryCaseId, ProcessId};
use charter_ledger::state::{ActiveValidators, StateKey};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{
    verify_proof, CellId, EscrowId, Genesis, Ledger, PassportId, StateProof, StateRoot, TxId,
};
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Args)]
pub struct QueryArgs {
    /// The node's API.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8000")]
    api: String,
    /// Fetch and verify a proof: a state proof for passport, bond, escrow, validator,
    /// validators, bridge-ruling, process, ballot, delegation, governance-rules, case, juror,
    /// beacon and slash-cases; an inclusion proof for tx; ignored by status and block.
    #[arg(long, global = true)]
    proof: bool,
    /// With --proof on a state read: another node's API whose block at the read's height must
    /// carry the same state root (that node's word; its certificate is not checked here).
    #[arg(long, global = true)]
    against: Option<String>,
    /// For tx --proof: the cell's genesis, whose validators (the epoch-1 set, good for blocks 1
    /// to epoch_length) must certify the block; without it, the set the node reports.
    #[arg(long, global = true)]
    genesis: Option<std::path::PathBuf>,
    /// State reads: read at this committed height (a checkpoint's, for `charter verify
    /// --read`) instead of the latest.
    #[arg(long = "height", global = true, value_name = "HEIGHT")]
    at_height: Option<u64>,
    #[command(subcommand)]
    what: Query,
}

#[derive(Subcommand)]
enum Query {
    /// Cell, federation, parameters, height, state root, round, mode, validators, mempool and
    /// gossip peers.
    Status,
    /// A decided block (the latest without a height).
    Block {
        /// The block's height.
        height: Option<u64>,
    },
    /// A transaction's status.
    Tx {
        /// The transaction id (hex).
        id: String,
    },
    /// A passport: balance, nonce, tier, status, keys, sponsor and lineage.
    Passport {
        /// The passport id (hex).
        id: PassportId,
    },
    /// A passport's bond: stake, unbonding amount and when it can be withdrawn.
    Bond {
        /// The passport id (hex).
        id: PassportId,
    },
    /// An escrow: parties, amount, heights and status.
    Escrow {
        /// The escrow id (hex).
        id: EscrowId,
    },
    /// The validators of the current epoch.
    Validators,
    /// A validator: its keys and its record.
    Validator {
        /// The validator's passport id (hex).
        id: PassportId,
    },
    /// This cell's validators' ruling on another cell's equivocation at an epoch.
    BridgeRuling {
        /// The cell that equivocated.
        cell: u32,
        /// The epoch it certified twice.
        epoch: u64,
    },
    /// A governance process: proposal, rules, schedule, status, tallies and history.
    Process {
        /// The process id.
        id: u64,
    },
    /// A passport's ballot on a governance process.
    Ballot {
        /// The process id.
        process: u64,
        /// The voter's passport id (hex).
        voter: PassportId,
    },
    /// A passport's delegation of its vote.
    Delegation {
        /// The delegating passport's id (hex).
        id: PassportId,
    },
    /// The governance rules in force: chambers, kinds, guardians, juries.
    GovernanceRules,
    /// A jury case: its pool, seed, jurors, rulings and outcome.
    Case {
        /// The case id.
        id: u64,
    },
    /// A passport's standing as a juror.
    Juror {
        /// The juror's passport id (hex).
        id: PassportId,
    },
    /// The cell's beacon: the mix of its proposers' reveals.
    Beacon,
    /// The slash cases open before juries against a passport (it can neither withdraw nor
    /// exit while there are any).
    SlashCases {
        /// The passport id (hex).
        id: PassportId,
    },
}

pub fn run(args: QueryArgs) -> Result<()> {
    let api = ApiClient::new(&args.api)?;
    let (path, key) = route(&args.what);
    if let (Query::Tx { id }, true) = (&args.what, args.proof) {
        return prove_inclusion(&api, id, args.genesis.as_deref());
    }
    let proving = args.proof && key.is_some();
    let mut query = Vec::new();
    if proving {
        query.push("proof=true".to_string());
    }
    if let (Some(height), Some(_)) = (args.at_height, &key) {
        query.push(format!("height={height}"));
    }
    let read = api.get(&if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    })?;
    println!("{}", serde_json::to_string_pretty(&read)?);
    if let (true, Some(key)) = (proving, key) {
        let root: StateRoot = serde_json::from_value(read["state_root"].clone())?;
        check_proof(&read, &key, &root).context("against the node's own root")?;
        eprintln!("proof verified against state root {root}");
        if let Some(other) = &args.against {
            let height = read["height"].as_u64().context("the read has no height")?;
            let block = certified_block(&ApiClient::new(other)?, height)?;
            let certified: StateRoot =
                serde_json::from_value(block["header"]["state_root"].clone())
                    .context("the other node's block has no state root")?;
            check_proof(&read, &key, &certified).context("against the other node's root")?;
            eprintln!("proof verified against the root {other} certified at height {height}");
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

/// The state height whose validator set certifies block `height`: the end of the epoch before
/// the block's (docs/proofs.md, 4.3). Both numbers come from a node, so neither is trusted to be
/// positive.
fn epoch_set_height(height: u64, epoch_length: u64) -> u64 {
    let epoch_length = epoch_length.max(1);
    height.saturating_sub(1) / epoch_length * epoch_length
}

/// Fetches a transaction with its inclusion proof and checks it.
fn prove_inclusion(api: &ApiClient, id: &str, genesis: Option<&std::path::Path>) -> Result<()> {
    let read = api.get(&format!("/v1/transactions/{id}?proof=true"))?;
    println!("{}", serde_json::to_string_pretty(&read)?);
    let id = TxId::from_hex(id).context("a transaction id is 32 bytes in hex")?;
    let proof = read["proof"]
        .as_str()
        .context("the transaction is not in a block yet")?;
    let proof: InclusionProof =
        borsh::from_slice(&hex::decode(proof)?).context("the inclusion proof does not decode")?;
    let (context, validators, anchor) = match genesis {
        Some(path) => {
            let genesis: Genesis = serde_json::from_str(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )?;
            let height = proof.header.height.0;
            ensure!(
                epoch_set_height(height, genesis.params.epoch_length) == 0,
                "block {height} is past the first epoch ({} blocks): the genesis validators \
                 do not certify it; leave out --genesis to use the set the node reports",
                genesis.params.epoch_length
            );
            let mut ledger = Ledger::open(MemoryStorage::new())?;
            ledger.init_genesis(&genesis)?;
            let context = CellContext {
                federation: genesis.federation,
                cell: genesis.cell,
            };
            (
                context,
                ValidatorSet::from_ledger(&ledger)?,
                "the genesis validators",
            )
        }
        None => {
            let status = api.get("/v1/status")?;
            let context = CellContext {
                federation: serde_json::from_value(status["federation"].clone())?,
                cell: serde_json::from_value(status["cell"].clone())?,
            };
            let epoch_length: u64 =
                serde_json::from_value(status["params"]["epoch_length"].clone())?;
            let set_height = epoch_set_height(proof.header.height.0, epoch_length);
            let read = api.get(&format!("/v1/validators?height={set_height}"))?;
            let active: ActiveValidators = serde_json::from_value(read["value"].clone())?;
            (
                context,
                ValidatorSet::new(active.members)?,
                "the validators the node reports for that epoch",
            )
        }
    };
    if let Err(error) = proof.verify(&id, &context, &validators) {
        bail!("the inclusion proof does not verify: {error}");
    }
    eprintln!(
        "included in block {} at height {}, certified by {anchor}",
        proof.header.hash(),
        proof.header.height
    );
    Ok(())
}

/// A node's block at `height`, waiting a little for a node that is a block or two behind.
fn certified_block(api: &ApiClient, height: u64) -> Result<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match api.json("GET", &format!("/v1/blocks/{height}"), b"")? {
            (200, block) => return Ok(block),
            (404, _) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            (status, answer) => bail!("the other node answered {status}: {answer}"),
        }
    }
}

/// The API path that answers `what`, and the state key its value is proven under (none for
/// reads that are not one state value).
fn route(what: &Query) -> (String, Option<StateKey>) {
    match what {
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
        Query::BridgeRuling { cell, epoch } => (
            format!("/v1/bridges/{cell}/rulings/{epoch}"),
            Some(StateKey::BridgeRuling {
                remote: CellId(*cell),
                epoch: *epoch,
            }),
        ),
        Query::Process { id } => (
            format!("/v1/governance/processes/{id}"),
            Some(StateKey::Process(ProcessId(*id))),
        ),
        Query::Ballot { process, voter } => (
            format!("/v1/governance/processes/{process}/ballots/{voter}"),
            Some(StateKey::Ballot {
                process: ProcessId(*process),
                voter: *voter,
            }),
        ),
        Query::Delegation { id } => (
            format!("/v1/governance/delegations/{id}"),
            Some(StateKey::Delegation(*id)),
        ),
        Query::GovernanceRules => (
            "/v1/governance/rules".to_string(),
            Some(StateKey::GovernanceRules),
        ),
        Query::Case { id } => (
            format!("/v1/governance/cases/{id}"),
            Some(StateKey::JuryCase(JuryCaseId(*id))),
        ),
        Query::Juror { id } => (
            format!("/v1/governance/jurors/{id}"),
            Some(StateKey::Juror(*id)),
        ),
        Query::Beacon => ("/v1/governance/beacon".to_string(), Some(StateKey::Beacon)),
        Query::SlashCases { id } => (
            format!("/v1/governance/slash-cases/{id}"),
            Some(StateKey::SlashCasesAgainst(*id)),
        ),
    }
}
