//! `charter signer`: an operator's view of a validator's guarded signer, on a stopped node —
//! the persisted record of what it signed at its latest height, and a way to ask it for a
//! signature exactly as the engine does (which is how one checks that it refuses to sign
//! anything conflicting with that record).

use anyhow::{bail, Context, Result};
use charter_consensus::engine::signer_state_path;
use charter_consensus::guarded_signer::{GuardedSigner, Proposal};
use charter_ledger::evidence::{Vote, VoteType};
use charter_ledger::Genesis;
use charter_node::config::NodeConfig;
use charter_node::keys::KeyFile;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct SignerArgs {
    /// The validator's configuration (its key file, data directory and, for sign, genesis).
    #[arg(long)]
    config: PathBuf,
    #[command(subcommand)]
    command: SignerCommand,
}

#[derive(Clone, Copy, ValueEnum)]
enum Step {
    Propose,
    Prevote,
    Precommit,
}

#[derive(Subcommand)]
enum SignerCommand {
    /// Print the highest position signed and the value signed there.
    Show,
    /// Ask the guarded signer for a signature, as the engine would: refused (exit status 1) if
    /// it conflicts with what was signed or is behind it; a signature granted is recorded in
    /// the validator's signer state.
    Sign {
        /// The block height to sign at.
        #[arg(long)]
        height: u64,
        /// The consensus round.
        #[arg(long)]
        round: u32,
        /// What to sign: a proposal, a prevote or a precommit.
        #[arg(long, value_enum)]
        step: Step,
        /// The block hash (hex), or `nil` for a nil vote.
        #[arg(long)]
        value: String,
    },
}

pub fn run(args: SignerArgs) -> Result<()> {
    let config = NodeConfig::load(&args.config)?;
    let key = KeyFile::load(&config.key_file)?.consensus()?;
    let mut signer = GuardedSigner::open(key, &signer_state_path(&config.engine_home()))?;
    match args.command {
        SignerCommand::Show => {
            println!(
                "{}",
                serde_json::to_string_pretty(&signer.high_water_mark())?
            );
            Ok(())
        }
        SignerCommand::Sign {
            height,
            round,
            step,
            value,
        } => {
            let genesis: Genesis = serde_json::from_str(
                &std::fs::read_to_string(&config.genesis)
                    .with_context(|| format!("reading {}", config.genesis.display()))?,
            )?;
            let value = match value.as_str() {
                "nil" => None,
                hex => {
                    let mut bytes = [0u8; 32];
                    hex::decode_to_slice(hex, &mut bytes)
                        .context("the value is a 32-byte hash in hex, or nil")?;
                    Some(bytes)
                }
            };
            let vote = |vote_type| Vote {
                federation: genesis.federation,
                cell: genesis.cell,
                height,
                round,
                vote_type,
                value,
            };
            let signature = match step {
                Step::Prevote => signer.sign_vote(&vote(VoteType::Prevote))?.signature,
                Step::Precommit => signer.sign_vote(&vote(VoteType::Precommit))?.signature,
                Step::Propose => {
                    let Some(value) = value else {
                        bail!("a proposal is for a block, not nil");
                    };
                    signer.sign_proposal(&Proposal {
                        federation: genesis.federation,
                        cell: genesis.cell,
                        height,
                        round,
                        value,
                        pol_round: None,
                    })?
                }
            };
            println!("{}", json!({ "signature": signature }));
            Ok(())
        }
    }
}
