//! The fault harness: a cell of real `charter run` processes under the simulated agents' load,
//! faults injected on a seeded schedule, and at the end a history checker that reads every
//! node's data directory after the processes are gone.
//!
//! Faults: SIGKILL of a validator at a random moment, a restart that aborts itself between
//! storing a block and applying it (`CHARTER_CRASH_DURING_COMMIT`), and a twin — a second process
//! holding one validator's keys, so that identity signs conflicting votes whenever its two
//! processes see different proposals. At most one honest validator is down at a time, so the
//! cell should stay live throughout.
//!
//! The checker's promises: every transaction a client saw committed is committed exactly once
//! on every validator's node; all nodes, twins included, hold the same block and state root at
//! every height both have (a twin may fall behind for good: see [`run`]); every node's
//! supply is conserved; every double vote slashed is the twins' identity's, and when twins ran
//! their identity was slashed.

use crate::Cell;
use charter_consensus::app::CRASH_DURING_COMMIT;
use charter_consensus::block_store::BlockStore;
use charter_consensus::context::BlockHeight;
use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use charter_ledger::devnet::DevCell;
use charter_ledger::storage::RocksStorage;
use charter_ledger::transaction::SlashEvidence;
use charter_ledger::{Action, Ledger, StateRoot, TxId};
use charter_node::client::ApiClient;
use charter_node::workload::{ApiChain, Workload};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the load follows a transaction before moving on without an answer.
const FOLLOW_SECONDS: u64 = 10;

/// What to run and for how long.
#[derive(Clone, Debug)]
pub struct Plan {
    pub validators: usize,
    /// How long faults are injected.
    pub fault_seconds: u64,
    pub seed: u64,
    /// Run a twin of the last validator throughout.
    pub twins: bool,
    /// Transactions the agents send per round.
    pub batch: usize,
    /// Then take one validator down and two, checking the cell keeps committing with one down
    /// and stops with two.
    pub liveness: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Kill,
    CrashDuringCommit,
    TwinKill,
}

/// What a run did and what the checker found.
#[derive(Debug, Default)]
pub struct Summary {
    pub faults: BTreeMap<Fault, u64>,
    pub acknowledged: usize,
    pub lost: Vec<String>,
    pub committed_twice: Vec<String>,
    pub heights: u64,
    pub conflicting_heights: Vec<u64>,
    pub supply: u64,
    pub supply_violations: Vec<usize>,
    /// Offences slashed for double votes, by offender validator index.
    pub double_votes_slashed: BTreeMap<usize, u64>,
    /// Seconds from a restart to the node committing past the height the cell had then.
    pub recoveries: Vec<f64>,
    /// Blocks a second with no validator down, and with one down.
    pub rate_all_up: Option<f64>,
    pub rate_one_down: Option<f64>,
    /// Heights committed in the window with two of four down.
    pub heights_with_two_down: Option<u64>,
    /// Seconds from restarting the two until the cell committed again.
    pub resume_after_two: Option<f64>,
    pub twins: Option<usize>,
    pub nodes: usize,
}

impl Summary {
    /// The promises broken; empty when the history checks out.
    pub fn violations(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if !self.lost.is_empty() {
            broken.push(format!("acknowledged but lost: {:?}", self.lost));
        }
        if !self.committed_twice.is_empty() {
            broken.push(format!("committed twice: {:?}", self.committed_twice));
        }
        if !self.conflicting_heights.is_empty() {
            broken.push(format!(
                "nodes disagree at heights {:?}",
                self.conflicting_heights
            ));
        }
        if !self.supply_violations.is_empty() {
            broken.push(format!(
                "supply not conserved on nodes {:?}",
                self.supply_violations
            ));
        }
        let honest_slashed: Vec<_> = self
            .double_votes_slashed
            .keys()
            .filter(|offender| Some(**offender) != self.twins)
            .collect();
        if !honest_slashed.is_empty() {
            broken.push(format!(
                "honest validators slashed for double votes: {honest_slashed:?}"
            ));
        }
        if let Some(twinned) = self.twins {
            if !self.double_votes_slashed.contains_key(&twinned) {
                broken.push(format!(
                    "validator {twinned} ran twins and was never slashed"
                ));
            }
        }
        if self
            .heights_with_two_down
            .is_some_and(|heights| heights > 1)
        {
            broken.push(format!(
                "the cell committed {:?} heights with two of four validators down",
                self.heights_with_two_down
            ));
        }
        broken
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(fault, count)| format!("{fault:?} {count}"))
            .collect();
        writeln!(
            f,
            "faults injected: {} ({})",
            self.faults.values().sum::<u64>(),
            faults.join(", ")
        )?;
        writeln!(
            f,
            "history checker over {} nodes, validators' heights 1..={}: {} transactions acknowledged, {} lost, {} committed twice, {} heights in conflict",
            self.nodes,
            self.heights,
            self.acknowledged,
            self.lost.len(),
            self.committed_twice.len(),
            self.conflicting_heights.len()
        )?;
        writeln!(
            f,
            "supply {} conserved on {} of {} nodes; double votes slashed by offender: {:?}",
            self.supply,
            self.nodes - self.supply_violations.len(),
            self.nodes,
            self.double_votes_slashed
        )?;
        if !self.recoveries.is_empty() {
            let mut sorted = self.recoveries.clone();
            sorted.sort_by(f64::total_cmp);
            writeln!(
                f,
                "recovery after restart: {} restarts, median {:.1} s, max {:.1} s",
                sorted.len(),
                sorted[sorted.len() / 2],
                sorted[sorted.len() - 1]
            )?;
        }
        if let (Some(all), Some(one)) = (self.rate_all_up, self.rate_one_down) {
            writeln!(
                f,
                "liveness: {all:.1} blocks/s with all up, {one:.1} with one of four down; with two down {:?} heights, resumed {:.1} s after they returned",
                self.heights_with_two_down,
                self.resume_after_two.unwrap_or(f64::NAN)
            )?;
        }
        Ok(())
    }
}

/// The agents' load, through whichever validator APIs are up.
struct Load {
    stop: Arc<AtomicBool>,
    up: Arc<Mutex<BTreeSet<usize>>>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(
        dev: DevCell,
        apis: Vec<String>,
        up: BTreeSet<usize>,
        batch: usize,
        seed: u64,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let up = Arc::new(Mutex::new(up));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let worker = {
            let (stop, up, acknowledged) = (stop.clone(), up.clone(), acknowledged.clone());
            let apis: Vec<ApiClient> = apis
                .iter()
                .map(|api| ApiClient::new(api).expect("an http:// address"))
                .collect();
            std::thread::spawn(move || {
                let live = || -> Vec<usize> { lock(&up).iter().copied().collect() };
                let first = live().first().copied().unwrap_or(0);
                let mut workload = Workload::new(dev, seed, &ApiChain(&apis[first]));
                while !stop.load(Ordering::SeqCst) {
                    let nodes = live();
                    let Some(reader) = nodes.first().map(|node| &apis[*node]) else {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    let senders_apis: Vec<&ApiClient> =
                        nodes.iter().map(|node| &apis[*node]).collect();
                    let Ok(played) =
                        workload.play_round(reader, &senders_apis, batch, FOLLOW_SECONDS)
                    else {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    lock(&acknowledged).extend(
                        played
                            .into_iter()
                            .filter(|one| one.outcome.is_ok())
                            .filter_map(|one| one.id),
                    );
                }
            })
        };
        Self {
            stop,
            up,
            acknowledged,
            worker: Some(worker),
        }
    }

    fn set_up(&self, node: usize, up: bool) {
        let mut nodes = lock(&self.up);
        if up {
            nodes.insert(node);
        } else {
            nodes.remove(&node);
        }
    }

    fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(worker) = self.worker.take() {
            worker.join().expect("the load does not panic");
        }
        std::mem::take(&mut *lock(&self.acknowledged))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A node brought back, waiting to commit past the height the cell had when it restarted.
struct Recovering {
    node: usize,
    since: Instant,
    target: u64,
}

/// The highest height any running process has reported.
fn cell_height(cell: &Cell) -> u64 {
    (0..cell.nodes.len())
        .map(|node| cell.latest(node))
        .max()
        .unwrap_or(0)
}

/// Runs the plan in `dir` and checks the history.
pub fn run(dir: &Path, plan: &Plan) -> Summary {
    let mut summary = Summary::default();
    let mut rng = ChaCha20Rng::seed_from_u64(plan.seed);
    let mut cell = Cell::running(dir, plan.validators);
    let validators = plan.validators;
    let twin = plan.twins.then(|| {
        let of = validators - 1;
        let twin = cell.add_twin(of);
        cell.start(twin);
        summary.twins = Some(of);
        twin
    });
    let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();
    let load = Load::start(
        cell.dev_cell(),
        apis,
        (0..validators).collect(),
        plan.batch,
        plan.seed,
    );
    eprintln!("faults for {} s", plan.fault_seconds);
    let deadline = Instant::now() + Duration::from_secs(plan.fault_seconds);
    let mut next_fault = Instant::now() + Duration::from_secs(2);
    let mut down: BTreeMap<usize, (Instant, Option<u64>)> = BTreeMap::new();
    let mut recovering: Vec<Recovering> = Vec::new();
    // Nodes whose current process will abort itself in a commit.
    let mut armed: BTreeSet<usize> = BTreeSet::new();
    while Instant::now() < deadline {
        cell.poll(Duration::from_millis(100));
        for (node, status) in cell.reap_exited() {
            eprintln!("node {node} ended by itself ({status})");
            armed.remove(&node);
            load.set_up(node, false);
            // A twin stops itself when its signer refuses to contradict what that process
            // signed before (its other half's block reached it); it is retried less often.
            let pause = if Some(node) == twin { 5 } else { 1 };
            down.insert(node, (Instant::now() + Duration::from_secs(pause), None));
        }
        let now = Instant::now();
        let restarts: Vec<usize> = down
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(node, _)| *node)
            .collect();
        for node in restarts {
            let (_, crash_after) = down.remove(&node).expect("listed as down");
            match crash_after {
                Some(commits) => {
                    cell.start_with_env(node, &[(CRASH_DURING_COMMIT, &commits.to_string())]);
                    armed.insert(node);
                }
                None => cell.start(node),
            }
            if node < validators {
                load.set_up(node, true);
            }
            recovering.push(Recovering {
                node,
                since: now,
                target: cell_height(&cell) + 1,
            });
        }
        recovering.retain(|waiting| {
            let caught_up = cell.latest(waiting.node) >= waiting.target;
            if caught_up {
                summary
                    .recoveries
                    .push(waiting.since.elapsed().as_secs_f64());
            }
            !caught_up
        });
        // One validator down at a time (the twin, which may be restarting, aside).
        if now < next_fault || down.keys().any(|node| Some(*node) != twin) {
            continue;
        }
        next_fault = now + Duration::from_millis(rng.gen_range(1_000..4_000));
        let outage = Duration::from_millis(rng.gen_range(500..4_000));
        let (node, fault) = match twin {
            Some(twin) if rng.gen_bool(0.2) => (twin, Fault::TwinKill),
            _ if rng.gen_bool(0.3) => (rng.gen_range(0..validators), Fault::CrashDuringCommit),
            _ => (rng.gen_range(0..validators), Fault::Kill),
        };
        if !cell.is_running(node) || down.contains_key(&node) {
            continue;
        }
        eprintln!("{fault:?} node {node} at height {}", cell_height(&cell));
        cell.kill(node);
        armed.remove(&node);
        load.set_up(node, false);
        *summary.faults.entry(fault).or_default() += 1;
        let crash_after = (fault == Fault::CrashDuringCommit).then(|| rng.gen_range(1..=5));
        down.insert(node, (now + outage, crash_after));
    }
    // Everyone back, without injected crashes.
    for node in armed {
        cell.kill(node);
        cell.start(node);
    }
    for node in down.into_keys() {
        cell.start(node);
        load.set_up(node, true);
    }
    for (node, _) in cell.reap_exited() {
        cell.start(node);
        load.set_up(node, true);
    }
    if plan.liveness {
        liveness(&mut cell, &load, validators, &mut summary);
    }
    let acknowledged = load.stop();
    summary.acknowledged = acknowledged.len();
    let target = cell_height(&cell) + 2;
    eprintln!("load stopped; waiting for every validator to reach height {target}");
    cell.wait_until(|history| {
        (0..validators).all(|node| {
            history
                .get(&node)
                .and_then(|blocks| blocks.keys().next_back())
                .is_some_and(|height| *height >= target)
        })
    });
    for node in 0..cell.nodes.len() {
        cell.kill(node);
    }
    check(&cell, &acknowledged, &mut summary);
    summary
}

/// One validator down: the cell keeps committing. Two of four down: it stops, and resumes once
/// they return.
fn liveness(cell: &mut Cell, load: &Load, validators: usize, summary: &mut Summary) {
    let rate = |cell: &mut Cell, observer: usize, heights: u64| {
        let from = cell.latest(observer);
        let since = Instant::now();
        cell.wait_until(|history| {
            history
                .get(&observer)
                .and_then(|blocks| blocks.keys().next_back())
                .is_some_and(|height| *height >= from + heights)
        });
        heights as f64 / since.elapsed().as_secs_f64()
    };
    eprintln!("liveness: all up");
    summary.rate_all_up = Some(rate(cell, 0, 10));
    eprintln!("liveness: one down");
    cell.kill(validators - 2);
    load.set_up(validators - 2, false);
    summary.rate_one_down = Some(rate(cell, 0, 10));
    eprintln!("liveness: two down");
    cell.kill(validators - 3);
    load.set_up(validators - 3, false);
    // A block already decided when the second went down may still be reported.
    cell.poll(Duration::from_secs(1));
    let stalled_at = cell.latest(0);
    cell.poll(Duration::from_secs(5));
    summary.heights_with_two_down = Some(cell.latest(0) - stalled_at);
    let since = Instant::now();
    for node in [validators - 3, validators - 2] {
        cell.start(node);
        load.set_up(node, true);
    }
    cell.wait_until(|history| {
        history
            .get(&0)
            .and_then(|blocks| blocks.keys().next_back())
            .is_some_and(|height| *height > stalled_at + 1)
    });
    summary.resume_after_two = Some(since.elapsed().as_secs_f64());
}

/// What one node's data directory holds.
struct NodeHistory {
    blocks: BTreeMap<u64, [u8; 32]>,
    roots: BTreeMap<u64, StateRoot>,
    /// Committed (not rejected) occurrences of each transaction.
    committed: BTreeMap<TxId, u32>,
    /// Keys of the offenders of committed double-vote slashes, once per offence.
    slashed: BTreeSet<(Ed25519PublicKey, u64, u32)>,
    conserved: bool,
    supply: u64,
}

fn read_history(data: &Path) -> NodeHistory {
    let storage = Arc::new(RocksStorage::open(&data.join("state")).expect("the state opens"));
    let ledger = Ledger::open(storage).expect("the ledger opens");
    let blocks = BlockStore::open(&data.join("blocks")).expect("the block store opens");
    let latest = blocks
        .latest_height()
        .expect("readable")
        .map_or(0, |height| height.0);
    let mut history = NodeHistory {
        blocks: BTreeMap::new(),
        roots: BTreeMap::new(),
        committed: BTreeMap::new(),
        slashed: BTreeSet::new(),
        conserved: false,
        supply: 0,
    };
    for height in 1..=latest {
        let decided = blocks
            .decided(BlockHeight(height))
            .expect("readable")
            .unwrap_or_else(|| panic!("{} has a gap at height {height}", data.display()));
        let outcomes = blocks
            .outcomes(BlockHeight(height))
            .expect("readable")
            .expect("every decided block has its outcomes");
        for (transaction, outcome) in decided.block.transactions.iter().zip(&outcomes) {
            if outcome.rejection.is_some() {
                continue;
            }
            *history.committed.entry(outcome.id).or_default() += 1;
            if let Action::Slash {
                evidence: SlashEvidence::DoubleVote(evidence),
            } = &transaction.body.action
            {
                let vote = &evidence.first.vote;
                history
                    .slashed
                    .insert((evidence.first.validator_key, vote.height, vote.round));
            }
        }
        history.blocks.insert(height, decided.block.hash().0);
    }
    if let Some(applied) = ledger.height() {
        for height in 1..=applied {
            history.roots.insert(
                height,
                ledger.state_root(height).expect("a root per height"),
            );
        }
        let audit = ledger.audit_supply().expect("the supply can be audited");
        history.conserved = audit.is_conserved();
        history.supply = audit.total_supply;
    }
    history
}

/// Heights both maps hold with different values.
fn differing_heights<'a, T: PartialEq>(
    first: &'a BTreeMap<u64, T>,
    other: &'a BTreeMap<u64, T>,
) -> impl Iterator<Item = u64> + 'a {
    other
        .iter()
        .filter(|(height, value)| first.get(height).is_some_and(|mine| mine != *value))
        .map(|(height, _)| *height)
}

fn check(cell: &Cell, acknowledged: &[String], summary: &mut Summary) {
    let histories: Vec<NodeHistory> = (0..cell.nodes.len())
        .map(|node| read_history(&cell.data_dir(node)))
        .collect();
    summary.nodes = histories.len();
    summary.heights = histories[..cell.validators()]
        .iter()
        .filter_map(|history| history.blocks.keys().next_back().copied())
        .min()
        .unwrap_or(0);
    let mut conflicts = BTreeSet::new();
    for history in &histories[1..] {
        conflicts.extend(differing_heights(&histories[0].blocks, &history.blocks));
        conflicts.extend(differing_heights(&histories[0].roots, &history.roots));
    }
    summary.conflicting_heights = conflicts.into_iter().collect();
    for id in acknowledged {
        let id = TxId::from_hex(id).expect("the API names transactions in hex");
        let counts: Vec<u32> = histories[..cell.validators()]
            .iter()
            .map(|history| history.committed.get(&id).copied().unwrap_or(0))
            .collect();
        if counts.contains(&0) {
            summary.lost.push(id.to_string());
        } else if counts.iter().any(|count| *count > 1) {
            summary.committed_twice.push(id.to_string());
        }
    }
    summary.supply_violations = histories
        .iter()
        .enumerate()
        .filter(|(_, history)| !history.conserved)
        .map(|(node, _)| node)
        .collect();
    summary.supply = histories[0].supply;
    let dev = cell.dev_cell();
    let validator_of = |key: &Ed25519PublicKey| {
        (0..cell.validators()).find(|index| {
            dev.validator(*index)
                .consensus_key
                .as_ref()
                .is_some_and(|keypair| keypair.public_key() == *key)
        })
    };
    for (key, _, _) in &histories[0].slashed {
        let offender = validator_of(key).unwrap_or(usize::MAX);
        *summary.double_votes_slashed.entry(offender).or_default() += 1;
    }
}
