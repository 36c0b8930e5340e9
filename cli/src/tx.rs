//! `charter tx`: build, sign, submit and follow transactions of any kind, and make the
//! signatures other parties contribute to one (arbiter rulings, validator mode approvals, a
//! validator's registration).
//!
//! Actions are given as JSON in the shape the API shows them, e.g.
//! `{"Transfer":{"to":"<passport>","amount":100}}` or `"Withdraw"`; the federation, cell, fee
//! and nonce come from the node unless given.

use anyhow::{bail, Context, Result};
use charter_client::ApiClient;
use charter_ledger::evidence::{
    ArbiterApproval, BridgeRulingTerms, ModeChangeTerms, RegistrationTerms, Ruling, RulingTerms,
    ValidatorApproval,
};
use charter_ledger::state::CellMode;
use charter_ledger::transaction::ValidatorRegistration;
use charter_ledger::{
    Action, Amount, CaseId, CellId, CheckpointId, FederationId, Height, Nonce, SignedTransaction,
    TransactionBody,
};
use charter_node::keys::KeyFile;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Args)]
pub struct TxArgs {
    /// The node's API, e.g. http://127.0.0.1:8000 (printed by `charter run` and in localnet.json).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8000")]
    api: String,
    #[command(subcommand)]
    command: TxCommand,
}

#[derive(Args)]
struct Signing {
    /// The sender's key file (its passport and controller key).
    #[arg(long)]
    key: PathBuf,
    /// The action as JSON in the API's shape (node/openapi.json, Action), e.g.
    /// {"Transfer":{"to":"<passport>","amount":100}} or "Withdraw"; or @FILE to read it.
    #[arg(long)]
    action: String,
    /// The fee the sender pays; defaults to the cell's minimum fee.
    #[arg(long)]
    fee: Option<Amount>,
    /// The transaction's nonce; defaults to the sender's next nonce on the chain.
    #[arg(long)]
    nonce: Option<Nonce>,
}

#[derive(Subcommand)]
enum TxCommand {
    /// Sign an action, submit it, and follow it for up to 60 s until it commits or is rejected.
    Send {
        #[command(flatten)]
        signing: Signing,
        /// Return once the node admitted it, without following it.
        #[arg(long)]
        no_wait: bool,
    },
    /// Sign an action and print the transaction's encoding (hex), without submitting it.
    Sign {
        #[command(flatten)]
        signing: Signing,
    },
    /// Submit a transaction's encoding (hex) and print its id.
    Submit {
        /// The signed transaction's encoding (hex).
        hex: String,
    },
    /// Follow a transaction until it is decided (or `--wait` seconds pass).
    Follow {
        /// The transaction id (hex).
        id: String,
        /// Seconds to wait for a decision, at most 60 (the API's limit).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=60))]
        wait: u64,
    },
    /// As an arbiter, approve a ruling; prints the approval to put in the transaction.
    ApproveRuling {
        /// The arbiter's key file.
        #[arg(long)]
        key: PathBuf,
        /// The case number (32 bytes, hex), fresh for every ruling.
        #[arg(long)]
        case: String,
        /// The ruling as JSON, e.g. {"Slash":{"offender":"<passport>","amount":100}}.
        #[arg(long)]
        ruling: String,
    },
    /// As a validator, approve a change of the cell's mode; prints the approval. The approval
    /// binds the cell's current mode sequence: another mode change committed first voids it.
    ApproveMode {
        /// The validator's key file.
        #[arg(long)]
        key: PathBuf,
        /// The mode to approve, as the API shows modes.
        #[arg(long, value_parser = ["Normal", "Elevated", "Safe", "Lockdown", "Recovery"])]
        mode: String,
        /// Required for every mode but Normal (and refused with Normal): the height, at most
        /// max_emergency_blocks ahead, at which the mode lapses back to Normal unless renewed.
        #[arg(long)]
        expires_at: Option<Height>,
    },
    /// As a validator, approve lifting the lockdown of the bridge to a cell that certified two
    /// checkpoints for one epoch, keeping one of them; prints the approval.
    ApproveBridge {
        /// The validator's key file.
        #[arg(long)]
        key: PathBuf,
        /// The cell that equivocated.
        #[arg(long)]
        remote: u32,
        /// The epoch it certified twice.
        #[arg(long)]
        epoch: u64,
        /// The id of the checkpoint to keep (hex; `charter verify` and the equivocation
        /// proof in `/v1/federation` name both).
        #[arg(long)]
        keep: String,
    },
    /// Print the `RegisterValidator` action for a validator key file (from `charter keygen
    /// --validator`), with both keys' signatures binding them to its passport.
    Registration {
        /// The validator's key file (with its passport filled in).
        #[arg(long)]
        key: PathBuf,
    },
}

/// Prints a validator's approval of `message`, signed with its consensus key.
fn print_validator_approval(keys: &KeyFile, message: &[u8]) -> Result<()> {
    let approval = ValidatorApproval::sign(keys.passport()?, &keys.consensus()?, message);
    println!("{}", serde_json::to_string(&approval)?);
    Ok(())
}

/// What a client needs to know about the cell to sign for it.
pub(crate) struct CellFacts {
    pub(crate) federation: FederationId,
    pub(crate) cell: CellId,
    min_fee: Amount,
    mode_sequence: u64,
}

pub(crate) fn cell_facts(api: &ApiClient) -> Result<CellFacts> {
    let status = api.get("/v1/status")?;
    let field = |value: &Value, what: &str| -> Result<Value> {
        value
            .get(what)
            .cloned()
            .with_context(|| format!("the node's status has no {what}"))
    };
    Ok(CellFacts {
        federation: serde_json::from_value(field(&status, "federation")?)?,
        cell: serde_json::from_value(field(&status, "cell")?)?,
        min_fee: serde_json::from_value(field(&field(&status, "params")?, "min_fee")?)?,
        mode_sequence: serde_json::from_value(field(&field(&status, "mode")?, "sequence")?)?,
    })
}

pub(crate) fn json_argument<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => text.to_string(),
    };
    serde_json::from_str(&text).with_context(|| format!("parsing the {what}"))
}

fn sign(api: &ApiClient, signing: &Signing) -> Result<SignedTransaction> {
    let action: Action = json_argument(&signing.action, "action")?;
    sign_action(api, &signing.key, action, signing.fee, signing.nonce)
}

/// Signs `action` from the passport of the key file at `key`, the fee and nonce defaulting to
/// the cell's minimum and the sender's next.
pub(crate) fn sign_action(
    api: &ApiClient,
    key: &std::path::Path,
    action: Action,
    fee: Option<Amount>,
    nonce: Option<Nonce>,
) -> Result<SignedTransaction> {
    let keys = KeyFile::load(key)?;
    let sender = keys.passport()?;
    let facts = cell_facts(api)?;
    let nonce = match nonce {
        Some(nonce) => nonce,
        None => {
            let read = api.get(&format!("/v1/passports/{}", sender.to_hex()))?;
            read["value"]["nonce"]
                .as_u64()
                .with_context(|| format!("passport {sender} does not exist on this cell"))?
        }
    };
    Ok(TransactionBody {
        federation: facts.federation,
        cell: facts.cell,
        sender,
        nonce,
        fee: fee.unwrap_or(facts.min_fee),
        action,
    }
    .sign(&keys.controller()?))
}

pub(crate) fn submit(api: &ApiClient, encoded: &[u8]) -> Result<String> {
    let (status, answer) = api.json("POST", "/v1/transactions", encoded)?;
    if status != 202 {
        bail!(
            "refused ({status}): {} — {}",
            answer["error"].as_str().unwrap_or("?"),
            answer["message"].as_str().unwrap_or("")
        );
    }
    Ok(answer["id"].as_str().unwrap_or_default().to_string())
}

/// Follows a transaction; fails unless it committed.
pub(crate) fn follow(api: &ApiClient, id: &str, wait: u64) -> Result<()> {
    let (status, answer) = api.json("GET", &format!("/v1/transactions/{id}?wait={wait}"), b"")?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    match (status, answer["status"].as_str()) {
        (200, Some("committed")) => Ok(()),
        (200, Some("pending")) => bail!("still pending after {wait} s"),
        _ => bail!("transaction {id} did not commit"),
    }
}

pub fn run(args: TxArgs) -> Result<()> {
    let api = ApiClient::new(&args.api)?;
    match args.command {
        TxCommand::Send { signing, no_wait } => {
            let transaction = sign(&api, &signing)?;
            let id = submit(&api, &transaction.encode())?;
            if no_wait {
                println!("{}", json!({ "id": id, "status": "pending" }));
                return Ok(());
            }
            follow(&api, &id, 60)
        }
        TxCommand::Sign { signing } => {
            println!("{}", hex::encode(sign(&api, &signing)?.encode()));
            Ok(())
        }
        TxCommand::Submit { hex } => {
            let encoded = hex::decode(hex.trim()).context("the transaction is not hex")?;
            println!("{}", json!({ "id": submit(&api, &encoded)? }));
            Ok(())
        }
        TxCommand::Follow { id, wait } => follow(&api, &id, wait),
        TxCommand::ApproveRuling { key, case, ruling } => {
            let keys = KeyFile::load(&key)?;
            let facts = cell_facts(&api)?;
            let terms = RulingTerms {
                federation: facts.federation,
                cell: facts.cell,
                case: CaseId::from_hex(&case).context("the case is not 32 hex bytes")?,
                ruling: json_argument::<Ruling>(&ruling, "ruling")?,
            };
            let approval = ArbiterApproval::sign(keys.passport()?, &keys.controller()?, &terms);
            println!("{}", serde_json::to_string(&approval)?);
            Ok(())
        }
        TxCommand::ApproveMode {
            key,
            mode,
            expires_at,
        } => {
            let keys = KeyFile::load(&key)?;
            let facts = cell_facts(&api)?;
            let terms = ModeChangeTerms {
                federation: facts.federation,
                cell: facts.cell,
                sequence: facts.mode_sequence,
                mode: serde_json::from_value::<CellMode>(Value::String(mode))
                    .context("unknown mode")?,
                expires_at,
            };
            print_validator_approval(&keys, &terms.signing_bytes())
        }
        TxCommand::ApproveBridge {
            key,
            remote,
            epoch,
            keep,
        } => {
            let keys = KeyFile::load(&key)?;
            let facts = cell_facts(&api)?;
            let terms = BridgeRulingTerms {
                federation: facts.federation,
                cell: facts.cell,
                remote: CellId(remote),
                epoch,
                keep: CheckpointId::from_hex(&keep)
                    .context("the checkpoint id is not 32 hex bytes")?,
            };
            print_validator_approval(&keys, &terms.signing_bytes())
        }
        TxCommand::Registration { key } => {
            let keys = KeyFile::load(&key)?;
            let facts = cell_facts(&api)?;
            let (consensus, bls) = (keys.consensus()?, keys.bls()?);
            let terms = RegistrationTerms {
                federation: facts.federation,
                cell: facts.cell,
                passport: keys.passport()?,
                consensus_key: consensus.public_key(),
                bls_key: bls.public_key(),
            };
            let registration = ValidatorRegistration::sign(&terms, &consensus, &bls);
            let action = Action::RegisterValidator(Box::new(registration));
            println!("{}", serde_json::to_string(&action)?);
            Ok(())
        }
    }
}
