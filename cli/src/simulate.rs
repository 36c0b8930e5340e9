//! `charter simulate`: one cell's ledger on RocksDB under simulated agents, block after block,
//! with no network — the ledger's real execution, commitment and storage path.

use anyhow::{ensure, Context, Result};
use charter_devnet::agents::{voting, Agents, ChainUnread, ChainView, RECENT_JURY_CASES};
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::governance::{CaseSubject, JuryCase, Process};
use charter_ledger::state::{ActiveValidators, Bond, CellModeState, Passport, StateKey, Validator};
use charter_ledger::storage::Storage;
use charter_ledger::{Ledger, PassportId};
use charter_store::NodeStore;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Data directory; a fresh one under the system temp directory when absent. An existing
    /// directory continues its chain (with the same --seed).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    blocks: u64,
    #[arg(long, default_value_t = 500)]
    block_size: usize,
    /// Members acting as agents (besides 4 validators and 3 arbiters; at least 2).
    #[arg(long, default_value_t = 64)]
    agents: usize,
    /// Seeds keys, genesis and the workload: the same seed replays the same chain.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print a progress line every this many blocks.
    #[arg(long, default_value_t = 20)]
    report_every: u64,
}

pub fn run(args: SimulateArgs) -> Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-simulate-{}", std::process::id()))
    });
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let cell = DevCell::new(
        args.seed,
        DevCellConfig {
            members: args.agents.max(2),
            ..DevCellConfig::default()
        },
    );
    let mut ledger = Ledger::open(NodeStore::open(&data_dir.join("store"))?.state())?;
    match ledger.height() {
        None => {
            let root = ledger.init_genesis(&cell.genesis)?;
            println!(
                "genesis of {} passports, state root {root}",
                cell.passports.len()
            );
        }
        Some(height) => println!(
            "continuing the chain at height {height} in {}",
            data_dir.display()
        ),
    }
    let proposers = cell.clone();
    let mut workload = Agents::new(cell, args.seed, &LatestState(&ledger));

    let mut window = Progress::default();
    let mut total = Progress::default();
    for _ in 0..args.blocks {
        let height = ledger.height().context("ledger has no genesis")? + 1;
        let transactions = workload.next_block(height, args.block_size, &LatestState(&ledger));
        let started = Instant::now();
        let reveal = proposers.reveal_as(proposer(&proposers, &ledger, height)?, height);
        let block = ledger.apply_revealed_block(&reveal, &transactions)?;
        let elapsed = started.elapsed();
        let committed: Vec<bool> = block
            .receipts
            .iter()
            .map(|receipt| receipt.outcome.is_ok())
            .collect();
        workload.observe(&transactions, &committed, &LatestState(&ledger));
        for progress in [&mut window, &mut total] {
            progress.record(&block.receipts, elapsed);
        }
        if height % args.report_every == 0 {
            println!(
                "height {height:>6}  root {}…  {}",
                &block.state_root.to_string()[..16],
                window.summary()
            );
            window = Progress::default();
        }
    }
    let audit = ledger.audit_supply()?;
    ensure!(audit.is_conserved(), "conservation violated: {audit:?}");
    println!("total: {}", total.summary());
    println!(
        "supply {} conserved: balances {} + bonded {} + unbonding {} + escrowed {} + treasury {} + jurors' bonds {}",
        audit.total_supply,
        audit.balances,
        audit.bonded,
        audit.unbonding,
        audit.escrowed,
        audit.treasury,
        audit.jury_bonds
    );
    let processes = ledger.processes(None, u64::MAX)?;
    let statuses = processes
        .iter()
        .map(|process| format!("{:?}", process.status));
    println!("governance processes: {}", count_by_status(statuses));
    let cases = ledger.jury_cases(None, u64::MAX)?;
    let statuses = cases.iter().map(|case| {
        let subject = match case.subject {
            CaseSubject::Escrow(_) => "escrow",
            CaseSubject::Slash { .. } => "slash",
        };
        let verdict = case
            .outcome
            .as_ref()
            .map_or(String::new(), |outcome| format!(" {:?}", outcome.verdict));
        format!("{subject} {:?}{verdict}", case.status)
    });
    println!("jury cases: {}", count_by_status(statuses));
    println!("chain data: {}", data_dir.display());
    Ok(())
}

/// How many of something ended (or stand) in each status, e.g. `3 (executed 2, vetoed 1)`.
fn count_by_status(statuses: impl Iterator<Item = String>) -> String {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for status in statuses {
        *by_status.entry(status.to_lowercase()).or_default() += 1;
    }
    let count: u64 = by_status.values().sum();
    let parts: Vec<String> = (by_status.iter())
        .map(|(status, count)| format!("{status} {count}"))
        .collect();
    format!("{count} ({})", parts.join(", "))
}

/// The genesis validator that proposes the block at `height`: the validators still in the
/// active set take turns (the workload's own validator has no key here).
fn proposer<S: Storage>(cell: &DevCell, ledger: &Ledger<S>, height: u64) -> Result<usize> {
    let active = voting(&ledger.active_validators()?);
    let keyed: Vec<usize> = (0..cell.config.validators)
        .filter(|index| active.contains(&cell.validator(*index).id))
        .collect();
    ensure!(
        !keyed.is_empty(),
        "no genesis validator is left in the active set"
    );
    Ok(keyed[(height % keyed.len() as u64) as usize])
}

/// The latest committed state, read straight from the ledger (a network client reads the same
/// through a node's API).
struct LatestState<'a, S: Storage>(&'a Ledger<S>);

impl<S: Storage> ChainView for LatestState<'_, S> {
    fn passport(&self, id: &PassportId) -> Option<Passport> {
        self.0.get(&StateKey::Passport(*id)).ok().flatten()
    }

    fn bond(&self, id: &PassportId) -> Result<Bond, ChainUnread> {
        let bond = self.0.get(&StateKey::Bond(*id)).map_err(|_| ChainUnread)?;
        Ok(bond.unwrap_or_default())
    }

    fn mode(&self) -> Option<CellModeState> {
        self.0.get(&StateKey::CellMode).ok().flatten()
    }

    fn is_validator(&self, id: &PassportId) -> bool {
        self.0
            .get::<Validator>(&StateKey::Validator(*id))
            .ok()
            .flatten()
            .is_some()
    }

    fn voting_validators(&self) -> Vec<PassportId> {
        let active = self.0.get::<ActiveValidators>(&StateKey::ActiveValidators);
        (active.ok().flatten()).map_or_else(Vec::new, |active| voting(&active))
    }

    fn latest_process(&self) -> Result<Option<Process>, ChainUnread> {
        let mut latest = self.0.processes(None, 1).map_err(|_| ChainUnread)?;
        Ok(latest.pop())
    }

    fn jury_pool(&self) -> Vec<PassportId> {
        (self.0.get(&StateKey::JuryPool).ok().flatten()).unwrap_or_default()
    }

    fn recent_jury_cases(&self) -> Vec<JuryCase> {
        (self.0.jury_cases(None, RECENT_JURY_CASES).ok()).unwrap_or_default()
    }
}

#[derive(Default)]
struct Progress {
    committed: u64,
    rejected: BTreeMap<&'static str, u64>,
    busy: Duration,
}

impl Progress {
    fn record(&mut self, receipts: &[charter_ledger::execution::Receipt], elapsed: Duration) {
        for receipt in receipts {
            match &receipt.outcome {
                Ok(()) => self.committed += 1,
                Err(error) => *self.rejected.entry(error.code()).or_default() += 1,
            }
        }
        self.busy += elapsed;
    }

    fn summary(&self) -> String {
        let rate = self.committed as f64 / self.busy.as_secs_f64().max(1e-9);
        let rejected: u64 = self.rejected.values().sum();
        let reasons: Vec<String> = self
            .rejected
            .iter()
            .map(|(code, count)| format!("{code} {count}"))
            .collect();
        format!(
            "committed {:>6} ({rate:>8.0} tx/s of ledger time)  rejected {rejected}{}{}",
            self.committed,
            if reasons.is_empty() { "" } else { ": " },
            reasons.join(", ")
        )
    }
}
