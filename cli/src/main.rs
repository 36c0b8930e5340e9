//! `charter`: the command-line entry point. It parses the command line and calls the command
//! modules beside it, which call the libraries; errors are reported here, at the edge, with
//! `anyhow`, and the libraries return typed errors.

mod federation_command;
mod genesis_command;
mod gov_command;
mod keys_command;
mod localnet_view;
mod query;
mod run_localnet;
mod signer_command;
mod simulate;
mod tx;

use anyhow::Result;
use charter_consensus::faults::{CrashPoint, FaultPlan};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "charter",
    version,
    about = "Charter: a BFT ledger for federations of autonomous agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a key file: a passport controller key, and with --validator also a consensus
    /// key and a BLS key with its proof of possession.
    Keygen {
        /// Also generate the validator keys: a consensus key and a BLS key with its proof of
        /// possession.
        #[arg(long)]
        validator: bool,
        /// Where to write the key file (mode 0600; an existing file is refused); printed to
        /// stdout when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the public half of a key file, to hand to whoever assembles the genesis.
    PublicKeys {
        /// The key file (docs/genesis-and-keys.md).
        #[arg(long)]
        key: PathBuf,
    },
    /// Build a cell's genesis from operators' public keys, roles, balances and stake.
    Genesis(genesis_command::GenesisArgs),
    /// Build a federation genesis (its id, k, and every cell's validators) from cell geneses.
    FederationGenesis(federation_command::FederationGenesisArgs),
    /// Verify checkpoint certificates, and a state read against the last one, offline from
    /// files with nothing but the federation genesis.
    Verify(federation_command::VerifyArgs),
    /// Write a development genesis and the key file of every passport in it, all derived
    /// from a seed: the validators, 3 arbiters, then the members. Existing files are not
    /// overwritten.
    DevGenesis {
        /// Seeds every key; the same seed gives the same genesis and keys.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The cell's id; cells from one seed form one federation.
        #[arg(long, default_value_t = 0)]
        cell: u32,
        /// Validators, each bonded with power (at least 1).
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Member passports with a balance, after the validators and the 3 arbiters.
        #[arg(long, default_value_t = 16)]
        members: usize,
        /// Blocks per epoch: the validator set changes only at an epoch's end, and in a
        /// federation each epoch's last block is checkpointed (default: 100, the genesis
        /// default).
        #[arg(long)]
        epoch_length: Option<u64>,
        /// The last this many validators bond only the minimum, holding a minor share of the
        /// power (a Byzantine identity under test).
        #[arg(long, default_value_t = 0)]
        minor_validators: usize,
        /// The directory to write `genesis.json` and `keys/passport-N.json` into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a validator: ledger, block store, mempool and the BFT engine, from a TOML config.
    Run {
        /// The node's TOML configuration (docs/genesis-and-keys.md, section 5).
        #[arg(long)]
        config: PathBuf,
        /// Crash tests only: abort after deciding the N-th block this process commits, before
        /// writing anything of it.
        #[arg(long, value_name = "N", hide_short_help = true)]
        crash_before_commit: Option<u64>,
        /// Crash tests only: abort after writing the N-th block this process commits (with its
        /// state, in one batch), before acting on it.
        #[arg(long, value_name = "N", hide_short_help = true)]
        crash_during_commit: Option<u64>,
        /// Crash tests only: abort after the guarded signer persisted its N-th new position in
        /// this process and before it signs there.
        #[arg(long, value_name = "N", hide_short_help = true)]
        crash_after_signer_persists: Option<u64>,
    },
    /// Start a local cell, or with --cells a federation of cells: every validator as its own
    /// process on 127.0.0.1.
    Localnet(run_localnet::LocalnetArgs),
    /// Build, sign, submit and follow transactions through a node's API.
    Tx(tx::TxArgs),
    /// Read state, blocks and transactions from a node's API, with verified state proofs.
    Query(query::QueryArgs),
    /// Governance processes: propose, sponsor, vote, delegate, veto, and read them.
    Gov(gov_command::GovArgs),
    /// Inspect a stopped validator's guarded signer, or ask it for a signature.
    Signer(signer_command::SignerArgs),
    /// Run a cell's ledger on RocksDB, without a network, under a workload of simulated agents
    /// issuing passports, bonding, paying through escrow and settling disputes.
    Simulate(simulate::SimulateArgs),
}

fn main() -> Result<()> {
    // Logs go to stderr: stdout carries the commands' own output.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Keygen { validator, out } => keys_command::keygen(validator, out.as_deref()),
        Command::DevGenesis {
            seed,
            cell,
            validators,
            members,
            epoch_length,
            minor_validators,
            out,
        } => keys_command::dev_genesis(
            seed,
            &charter_devnet::fixtures::DevCellConfig {
                minor_validators,
                ..charter_devnet::fixtures::DevCellConfig::sized(
                    charter_ledger::CellId(cell),
                    validators,
                    members,
                    epoch_length,
                )
            },
            &out,
        ),
        Command::PublicKeys { key } => genesis_command::public_keys(&key),
        Command::Genesis(args) => genesis_command::run(args),
        Command::FederationGenesis(args) => federation_command::federation_genesis(args),
        Command::Verify(args) => federation_command::verify(args),
        Command::Run {
            config,
            crash_before_commit,
            crash_during_commit,
            crash_after_signer_persists,
        } => {
            let faults = FaultPlan {
                before_commit: CrashPoint::at(crash_before_commit.unwrap_or(0)),
                during_commit: CrashPoint::at(crash_during_commit.unwrap_or(0)),
                after_signer_persists: CrashPoint::at(crash_after_signer_persists.unwrap_or(0)),
            };
            Ok(charter_node::node::run_validator(&config, faults)?)
        }
        Command::Localnet(args) => run_localnet::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Tx(args) => tx::run(args),
        Command::Query(args) => query::run(args),
        Command::Gov(args) => gov_command::run(args),
        Command::Signer(args) => signer_command::run(args),
    }
}
