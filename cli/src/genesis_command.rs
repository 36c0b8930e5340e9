//! `charter genesis`: builds a cell's genesis from the public keys its founding operators
//! exchanged (`charter public-keys`), with roles, balances and stake, and checks it exactly as a
//! node will before writing it.
//!
//! ```toml
//! federation = "0c85…6de6"            # 32 bytes, hex, agreed by the federation
//! cell = 0
//! arbiter_threshold = 2               # approvals a ruling needs
//!
//! [params]                            # optional: any CellParams field, defaults otherwise
//! min_fee = 0
//!
//! [[passport]]
//! keys = "alice.public.json"          # from `charter public-keys`, or a full key file
//! role = "validator"                  # validator, arbiter or member (default)
//! balance = 1000000
//! bonded = 10000
//! tier = 4                            # default: validator 4, arbiter 3, member params.min_sponsor_tier
//! ```

use anyhow::{Context, Result};
use charter_ledger::crypto::bls::{BlsPublicKey, BlsSignature};
use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use charter_ledger::genesis::{GenesisPassport, GenesisValidator};
use charter_ledger::governance::GovernanceRules;
use charter_ledger::state::{ArbiterPanel, CellParams};
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{Amount, CellId, FederationId, Genesis, Ledger};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct GenesisArgs {
    /// The genesis specification (TOML); key paths in it are relative to it.
    #[arg(long)]
    spec: PathBuf,
    /// Where to write the genesis (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    federation: FederationId,
    cell: CellId,
    #[serde(default)]
    params: CellParams,
    #[serde(default)]
    arbiter_threshold: u32,
    /// The chamber rules and guardians; the defaults of `docs/governance.md` when absent.
    #[serde(default)]
    governance: GovernanceRules,
    passport: Vec<SpecPassport>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    Validator,
    Arbiter,
    #[default]
    Member,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecPassport {
    keys: PathBuf,
    #[serde(default)]
    role: Role,
    #[serde(default)]
    balance: Amount,
    #[serde(default)]
    bonded: Amount,
    tier: Option<u8>,
}

/// The public half of a key file: what an operator hands to whoever assembles the genesis.
/// A full key file reads as one too (its secret fields are ignored).
#[derive(Serialize, Deserialize)]
pub struct PublicKeys {
    pub controller_public_key: Ed25519PublicKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<PublicValidatorKeys>,
}

#[derive(Serialize, Deserialize)]
pub struct PublicValidatorKeys {
    pub consensus_public_key: Ed25519PublicKey,
    pub bls_public_key: BlsPublicKey,
    pub bls_proof_of_possession: BlsSignature,
}

pub fn load_public_keys(path: &Path) -> Result<PublicKeys> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn run(args: GenesisArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.spec)
        .with_context(|| format!("reading {}", args.spec.display()))?;
    let spec: Spec =
        toml::from_str(&text).with_context(|| format!("parsing {}", args.spec.display()))?;
    let base = args.spec.parent().unwrap_or(Path::new("."));
    let mut genesis = Genesis {
        federation: spec.federation,
        cell: spec.cell,
        params: spec.params,
        passports: Vec::new(),
        validators: Vec::new(),
        arbiters: ArbiterPanel {
            members: Vec::new(),
            threshold: spec.arbiter_threshold,
        },
        governance: spec.governance,
    };
    let mut sources = Vec::new();
    for (index, entry) in spec.passport.iter().enumerate() {
        let path = base.join(&entry.keys);
        let keys = load_public_keys(&path)?;
        let passport = genesis.passport_id(index);
        let tier = entry.tier.unwrap_or(match entry.role {
            Role::Validator => charter_ledger::state::MAX_TIER,
            Role::Arbiter => 3,
            Role::Member => genesis.params.min_sponsor_tier,
        });
        genesis.passports.push(GenesisPassport {
            controller_keys: vec![keys.controller_public_key],
            tier,
            balance: entry.balance,
            bonded: entry.bonded,
        });
        match entry.role {
            Role::Validator => {
                let validator = keys.validator.with_context(|| {
                    format!(
                        "{} has no validator keys (charter keygen --validator)",
                        path.display()
                    )
                })?;
                genesis.validators.push(GenesisValidator {
                    passport,
                    consensus_key: validator.consensus_public_key,
                    bls_key: validator.bls_public_key,
                    bls_proof_of_possession: validator.bls_proof_of_possession,
                });
            }
            Role::Arbiter => genesis.arbiters.members.push(passport),
            Role::Member => {}
        }
        sources.push((passport, path));
    }
    validate(&genesis)?;
    std::fs::write(&args.out, serde_json::to_string_pretty(&genesis)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote {}", args.out.display());
    println!("each key file's \"passport\" must name its passport id:");
    for (passport, path) in sources {
        println!("{passport}  {}", path.display());
    }
    Ok(())
}

/// `charter public-keys`: prints the public half of a key file.
/// The same checks a node makes when it starts from `genesis`.
pub fn validate(genesis: &Genesis) -> Result<()> {
    Ledger::open(MemoryStorage::new())?
        .init_genesis(genesis)
        .context("the genesis is not valid")?;
    Ok(())
}

pub fn public_keys(key_file: &Path) -> Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(&load_public_keys(key_file)?)?
    );
    Ok(())
}
