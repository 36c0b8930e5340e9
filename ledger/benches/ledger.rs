//! Ledger throughput, measured side by side in one run:
//!
//! - executing a block of 1,000 transfers with signatures pre-verified, verified one at a
//!   time, and verified in one batch;
//! - preparing a block (execution plus state root) of 1,000 transfers on a small state and on
//!   a state of 1,000,000 passports; the difference from execution alone is the root's cost;
//! - the end of an empty block that tallies a governance process with 1,000 ballots and 1,000
//!   delegations, beside the same block with nothing due;
//! - preparing an empty block with its proposer's beacon reveal mixed in, beside the same block
//!   without one, and verifying the reveal against the proposer's BLS key: the reveal's cost;
//! - a proposal's reveal: the proposer signing its own with the pairing check, without it, and
//!   ahead of the block, and a validator judging 1,000 transfers with the reveal checked before
//!   or beside them.
//!
//! `cargo bench -p charter-ledger` prints the figures; criterion reports elements per second.

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::execution::{execute_block, CheckedTransaction, StateReader};
use charter_ledger::governance::SignedReveal;
use charter_ledger::state::StateKey;
use charter_ledger::storage::{MemoryStorage, Storage, StorageError};
use charter_ledger::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const BLOCK: usize = 1_000;

/// A cell whose members send one transfer each to the next member.
fn transfers(members: usize) -> (DevCell, Vec<SignedTransaction>) {
    let cell = DevCell::new(
        1,
        DevCellConfig {
            members,
            ..DevCellConfig::default()
        },
    );
    let transactions = (0..BLOCK)
        .map(|index| {
            let to = cell.member((index + 1) % members).id;
            cell.transaction(
                cell.member(index % members),
                0,
                Action::Transfer { to, amount: 1 },
            )
        })
        .collect();
    (cell, transactions)
}

fn ledger_for(genesis: &Genesis) -> Ledger<MemoryStorage> {
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(genesis).unwrap();
    ledger
}

struct Latest<'a>(&'a MemoryStorage);

impl StateReader for Latest<'_> {
    fn read(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StorageError> {
        let version = self.0.latest_version()?.unwrap_or(0);
        self.0.value(version, commitment::key_hash(key))
    }
}

fn execution(c: &mut Criterion) {
    let (cell, transactions) = transfers(BLOCK);
    let ledger = ledger_for(&cell.genesis);
    let state = Latest(ledger.storage());
    let mut group = c.benchmark_group("execute 1,000 transfers");
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.sample_size(20);
    group.bench_function("signatures pre-verified", |b| {
        b.iter(|| {
            let checked: Vec<_> = transactions
                .iter()
                .map(CheckedTransaction::pre_verified)
                .collect();
            execute_block(&state, 1, None, &checked).unwrap()
        })
    });
    group.bench_function("verified one at a time", |b| {
        b.iter(|| {
            let checked: Vec<_> = transactions
                .iter()
                .map(CheckedTransaction::verify)
                .collect();
            execute_block(&state, 1, None, &checked).unwrap()
        })
    });
    group.bench_function("verified in one batch", |b| {
        b.iter(|| {
            let checked = CheckedTransaction::verify_all(&transactions);
            execute_block(&state, 1, None, &checked).unwrap()
        })
    });
    group.finish();
}

/// A genesis of `passports` passports sharing one controller key (generating a million keys
/// would only slow the set-up), with a block of transfers among the first 1,000.
fn large_state(passports: usize) -> (Genesis, Vec<SignedTransaction>) {
    let (cell, transactions) = transfers(BLOCK);
    let mut genesis = cell.genesis.clone();
    let template = genesis.passports.last().unwrap().clone();
    genesis.passports.resize(passports, template);
    (genesis, transactions)
}

fn state_root(c: &mut Criterion) {
    let mut group = c.benchmark_group("1,000-transfer block: execution and state root");
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.sample_size(10);
    for passports in [1_000 + 7, 1_000_000] {
        eprintln!("building a state of {passports} passports…");
        let (genesis, transactions) = large_state(passports);
        let ledger = ledger_for(&genesis);
        let state = Latest(ledger.storage());
        group.bench_function(format!("execute only, {passports} passports"), |b| {
            b.iter_batched(
                || {
                    transactions
                        .iter()
                        .map(CheckedTransaction::pre_verified)
                        .collect::<Vec<_>>()
                },
                |checked| execute_block(&state, 1, None, &checked).unwrap(),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(
            format!("execute + state root, {passports} passports"),
            |b| {
                b.iter_batched(
                    || {
                        transactions
                            .iter()
                            .map(CheckedTransaction::pre_verified)
                            .collect::<Vec<_>>()
                    },
                    |checked| ledger.prepare_block(&checked).unwrap().state_root,
                    BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}

/// A ledger where process 0 (a parameter change) has ballots from `voters` members, each of
/// whom `voters` other members delegate to; returns it with the height its voting closes at.
fn tallied_process(voters: usize) -> (Ledger<MemoryStorage>, u64) {
    use charter_ledger::governance::{Choice, Parameter, Process, ProcessId, Proposal};
    let cell = DevCell::new(
        1,
        DevCellConfig {
            members: 2 * voters,
            ..DevCellConfig::default()
        },
    );
    let mut ledger = ledger_for(&cell.genesis);
    let proposal = Proposal::ParameterChange {
        parameter: Parameter::MaxForks,
        value: 6,
    };
    let propose = cell.transaction(cell.validator(0), 0, Action::Propose { proposal });
    let delegations: Vec<_> = (0..voters)
        .map(|index| {
            let to = cell.member(index).id;
            cell.transaction(cell.member(voters + index), 0, Action::Delegate { to })
        })
        .collect();
    ledger.apply_block(&[propose]).unwrap();
    ledger.apply_block(&delegations).unwrap();
    let process: Process = (ledger.get(&StateKey::Process(ProcessId(0))))
        .unwrap()
        .unwrap();
    let schedule = process.schedule.expect("a core member proposes alone");
    while ledger.height().unwrap() + 1 < schedule.voting_opens {
        ledger.apply_block(&[]).unwrap();
    }
    let vote = Action::Vote {
        process: ProcessId(0),
        choice: Choice::Yes,
    };
    let ballots: Vec<_> = (0..voters)
        .map(|index| cell.transaction(cell.member(index), 0, vote.clone()))
        .collect();
    let applied = ledger.apply_block(&ballots).unwrap();
    assert!(applied
        .receipts
        .iter()
        .all(|receipt| receipt.outcome.is_ok()));
    while ledger.height().unwrap() + 1 < schedule.voting_closes {
        ledger.apply_block(&[]).unwrap();
    }
    (ledger, schedule.voting_closes)
}

fn tally(c: &mut Criterion) {
    let (ledger, closes) = tallied_process(1_000);
    let state = Latest(ledger.storage());
    let mut group = c.benchmark_group("end of an empty block");
    group.sample_size(20);
    group.bench_function("nothing due", |b| {
        b.iter(|| execute_block(&state, closes + 1, None, &[]).unwrap())
    });
    group.bench_function("tallying 1,000 ballots and 1,000 delegations", |b| {
        b.iter(|| execute_block(&state, closes, None, &[]).unwrap())
    });
    group.finish();
}

fn beacon(c: &mut Criterion) {
    let cell = DevCell::new(1, DevCellConfig::default());
    let ledger = ledger_for(&cell.genesis);
    let reveal = cell.reveal(1);
    let mut group = c.benchmark_group("preparing an empty block");
    group.sample_size(20);
    let verified = ledger.verify_reveal(&reveal).unwrap();
    group.bench_function("without a reveal", |b| {
        b.iter(|| ledger.prepare_block(&[]).unwrap())
    });
    group.bench_function("with its proposer's verified reveal", |b| {
        b.iter(|| ledger.prepare_revealed_block(&verified, &[]).unwrap())
    });
    group.bench_function("verifying the reveal", |b| {
        b.iter(|| ledger.verify_reveal(&reveal).unwrap())
    });
    group.finish();
}

/// A block's reveal on the two sides of a proposal, each beside the way it was done before:
/// the proposer signing its own reveal, which no longer pairs to check it and may sign it ahead of
/// its block, and a validator
/// judging a block of 1,000 transfers, which now checks the reveal beside the execution.
fn proposal_reveal(c: &mut Criterion) {
    let (cell, transactions) = transfers(BLOCK);
    let ledger = ledger_for(&cell.genesis);
    let checked: Vec<_> = (transactions.iter())
        .map(CheckedTransaction::pre_verified)
        .collect();
    let reveal = cell.reveal(1);
    let proposer = cell.validator(1);
    let key = proposer.bls_key.as_ref().unwrap();
    let mut group = c.benchmark_group("a proposal's reveal");
    group.sample_size(20);
    group.bench_function("proposer: signed, then verified", |b| {
        b.iter(|| ledger.verify_reveal(&cell.reveal_as(1, 1)).unwrap())
    });
    let (federation, cell_id) = (cell.genesis.federation, cell.genesis.cell);
    group.bench_function("proposer: signed with its registered key", |b| {
        b.iter(|| {
            let signed = SignedReveal::sign(key, federation, cell_id, 1);
            ledger.own_reveal(proposer.id, &signed).unwrap()
        })
    });
    let signed = SignedReveal::sign(key, federation, cell_id, 1);
    group.bench_function("proposer: signed ahead with its registered key", |b| {
        b.iter(|| ledger.own_reveal(proposer.id, &signed).unwrap())
    });
    group.bench_function("judge: verified, then 1,000 transfers prepared", |b| {
        b.iter(|| {
            let verified = ledger.verify_reveal(&reveal).unwrap();
            ledger.prepare_revealed_block(&verified, &checked).unwrap()
        })
    });
    group.bench_function("judge: verified beside 1,000 transfers prepared", |b| {
        b.iter(|| ledger.prepare_proposed_block(&reveal, &checked).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    execution,
    state_root,
    tally,
    beacon,
    proposal_reveal
);
criterion_main!(benches);
