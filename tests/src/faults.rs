//! The fault harness: a cell of real `charter run` processes under the simulated agents' load,
//! faults injected on a seeded schedule, and at the end a history checker that reads every
//! node's data directory after the processes are gone. The cell may be federated with a second
//! one, spared the faults, so that its checkpoints (and the other cell's) are signed and become
//! final while the faults run.
//!
//! Faults: SIGKILL of a validator at a random moment, a restart that aborts itself right after
//! writing a block and its state (`charter run --crash-during-commit`), and a twin — a second process
//! holding one validator's keys, so that identity signs conflicting votes whenever its two
//! processes see different proposals. Where the machine allows network namespaces, every node
//! runs in its own and the network is cut too: one validator away from the rest (1|3), or the
//! cell in halves (2|2), then healed; and, where the kernel has netem, one link delayed and lossy.
//! One fault at a time (the twin's restarts aside); after a 2|2 split the cell must resume.
//! Every wait for a validator to reach a height is bounded ([`REACH_WITHIN`]): one that does
//! not is a liveness failure in the summary, naming the node, its height and the last warning or
//! error in its log.
//!
//! The checker's promises: every transaction a client saw committed is committed exactly once
//! on every honest validator's node; all nodes, the twinned validator's two included, hold the
//! same block and state root at every height both have (those two are silent where the guard
//! refuses to contradict what their key signed elsewhere, so they are not required to keep
//! up); every node's supply is conserved; every double vote slashed is the twinned
//! identity's, and when twins ran that identity was slashed. In a federation, besides: every
//! node of both cells holds the same final checkpoint for each cell and epoch, no cell certified
//! two, and every honest validator's checkpoint signer record names, for each cell and epoch, the
//! checkpoint every other honest validator's names and the final one.

use crate::hostile::{HostilePeer, HostileSent};
use crate::netns::{Netem, Network};
use crate::{Behind, Cell, Stuck};
use charter_client::ApiClient;
use charter_consensus::block::BlockHeight;
use charter_consensus::block_store::BlockStore;
use charter_devnet::agents::{Agents, ApiChain};
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_federation::checkpoint_signer;
use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use charter_ledger::governance::CaseEvent;
use charter_ledger::transaction::{ActionKind, SlashEvidence};
use charter_ledger::{Action, CellId, CheckpointId, Ledger, StateRoot, TxId};
use charter_node::federation_store::FederationStore;
use charter_store::{NodeStore, StateStore};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the load follows a transaction before moving on without an answer.
const FOLLOW_SECONDS: u64 = 10;

/// How long an honest validator may take to reach a height before it counts as stuck: a
/// restarted one syncs in seconds, and one cut off redials within about 40 s of the heal
/// (libp2p's ping timeout, then `restart_when_stalled_secs`), so three times that is a failure,
/// not a slow machine.
pub const REACH_WITHIN: Duration = Duration::from_secs(120);

/// How long the fault phase may run past its planned end to inject every kind once.
const FAULTS_OVERRUN: Duration = Duration::from_secs(120);

/// What to run and for how long.
#[derive(Clone, Debug)]
pub struct Plan {
    pub validators: usize,
    /// How long faults are injected (longer if some kind has not been injected yet).
    pub fault_seconds: u64,
    pub seed: u64,
    /// Run a twin of the last validator throughout.
    pub twins: bool,
    /// Transactions the agents send per round.
    pub batch: usize,
    /// Then take one validator down and two, checking the cell keeps committing with one down
    /// and stops with two (and the same by partitions, when they run).
    pub liveness: bool,
    /// Run every node in a network namespace of its own and cut the network too, where the
    /// machine allows it.
    pub partitions: bool,
    /// Run a hostile peer against the cell throughout (see [`crate::hostile`]).
    pub hostile_peer: bool,
    /// Federate the cell with a second cell of [`SPARED_VALIDATORS`], spared the faults, so
    /// that each checkpoint is final only with both cells' quorums; the checker then reads what
    /// every validator signed.
    pub federated: bool,
}

impl Plan {
    /// Every fault and check, for `fault_seconds` from `seed`: five validators, one twinned,
    /// federated with a second cell, partitions and a hostile peer where the machine allows.
    pub fn everything(fault_seconds: u64, seed: u64) -> Self {
        Self {
            validators: 5,
            fault_seconds,
            seed,
            twins: true,
            batch: 16,
            liveness: true,
            partitions: true,
            hostile_peer: true,
            federated: true,
        }
    }
}

/// Blocks per epoch when the cell is federated: a checkpoint every few seconds.
const EPOCH_LENGTH: u64 = 5;
/// Validators of the cell federated with the one under test.
const SPARED_VALIDATORS: usize = 4;
/// Where a node keeps its one database, under its data directory (`NodeConfig::store_dir`).
const STORE: &str = "store";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Kill,
    CrashDuringCommit,
    TwinKill,
    /// One validator cut off from the others (1|3).
    Isolate,
    /// The validators cut into halves (2|2).
    Split,
    /// Delay and loss on one validator's link.
    Degrade,
    /// A validator's data directory copied file by file while it runs, then the validator killed
    /// and restarted from the copy (with its live signer record).
    RestoreCopy,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::Kill,
        Fault::CrashDuringCommit,
        Fault::TwinKill,
        Fault::Isolate,
        Fault::Split,
        Fault::Degrade,
        Fault::RestoreCopy,
    ];

    /// How often each kind is drawn, once every kind has run once.
    fn weight(self) -> u32 {
        match self {
            Fault::Kill => 3,
            Fault::CrashDuringCommit => 2,
            _ => 1,
        }
    }
}

/// What a run did and what the checker found.
#[derive(Debug, Default)]
pub struct Summary {
    pub faults: BTreeMap<Fault, u64>,
    pub acknowledged: usize,
    /// Transactions the clients saw committed, by kind.
    pub acknowledged_by_kind: BTreeMap<ActionKind, u64>,
    /// Transactions committed on the first honest validator's node, by kind.
    pub committed_by_kind: BTreeMap<ActionKind, u64>,
    /// Governance events (processes proposed, tallied, executed, …; jury cases filed, drawn
    /// with their jurors, settled) up to the honest validators' common height, how many of
    /// them were executions and jury verdicts, and the heights at which the honest validators'
    /// governance did different things.
    pub process_events: usize,
    pub processes_executed: usize,
    pub cases_settled: usize,
    pub process_conflicts: Vec<u64>,
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
    /// Seconds from healing the network to every honest validator committing past the height the
    /// cell had then.
    pub heal_recoveries: Vec<f64>,
    /// Restarts from a mid-write copy that resumed from it, and that refused it as inconsistent
    /// (and were then resynced from the cell).
    pub copies_resumed: u64,
    pub copies_refused: u64,
    /// What the hostile peer got out, when one ran.
    pub hostile: Option<HostileSent>,
    /// Why the network was not cut, or not degraded, when the plan asked for it.
    pub partitions_unavailable: Option<String>,
    pub netem_unavailable: Option<String>,
    /// Blocks a second with no validator down, and with one down.
    pub rate_all_up: Option<f64>,
    pub rate_one_down: Option<f64>,
    /// Heights committed in the window with two of the four honest validators down.
    pub heights_with_two_down: Option<u64>,
    /// Seconds from restarting the two until the cell committed again.
    pub resume_after_two: Option<f64>,
    /// Blocks a second with one validator partitioned away.
    pub rate_one_partitioned: Option<f64>,
    /// Heights committed in the window with the cell split 2|2.
    pub heights_split: Option<u64>,
    /// Seconds from healing the split until the cell committed again.
    pub resume_after_heal: Option<f64>,
    pub twins: Option<usize>,
    pub nodes: usize,
    /// What the checker found of checkpoints, when the cell was federated.
    pub checkpoints: Option<CheckpointHistory>,
    /// Validators that did not reach a height within [`REACH_WITHIN`].
    pub stuck: Vec<LivenessFailure>,
}

/// A validator that did not reach a height in the time allowed.
#[derive(Clone, Debug)]
pub struct LivenessFailure {
    /// 0 for the cell under test, 1 for the one spared the faults.
    pub cell: u32,
    /// What the harness was doing ("settling after the faults", say).
    pub during: &'static str,
    pub waited: Duration,
    pub stuck: Stuck,
}

impl fmt::Display for LivenessFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Stuck {
            node,
            height,
            target,
            last_reason,
        } = &self.stuck;
        let reason = last_reason.as_deref().unwrap_or("no warning or error");
        write!(
            f,
            "cell {} node {node} stuck at height {height}, short of {target}, for {} s while {}; its log last said: {reason}",
            self.cell,
            self.waited.as_secs(),
            self.during
        )
    }
}

/// Checkpoints across a federation's nodes: what became final, and what each validator signed.
#[derive(Debug, Default)]
pub struct CheckpointHistory {
    /// Per cell, epochs with a final certificate on some node, and the latest such epoch.
    pub final_epochs: BTreeMap<u32, (u64, u64)>,
    /// Per cell, the epochs its honest validators signed a checkpoint for.
    pub signed_epochs: BTreeMap<u32, u64>,
    /// Signatures recorded by honest validators, over all cells and epochs.
    pub honest_signatures: u64,
    /// Cells and epochs for which nodes hold different final checkpoints.
    pub conflicting_finals: Vec<(u32, u64)>,
    /// Honest validators' signatures on a checkpoint other than another honest validator's, or
    /// than the final one, for the same cell and epoch.
    pub honest_conflicts: Vec<String>,
    /// Nodes holding proof that a cell certified two checkpoints for one epoch.
    pub equivocations: Vec<String>,
    /// Cells and epochs for which the twinned identity's two processes signed different
    /// checkpoints.
    pub twin_conflicts: u64,
    /// Processes of the cell spared the faults that ended by themselves.
    pub spared_exits: Vec<String>,
}

impl Summary {
    /// Validators that were stuck at some point, each counted once.
    pub fn stuck_validators(&self) -> usize {
        let stuck: BTreeSet<(u32, usize)> = (self.stuck.iter())
            .map(|failure| (failure.cell, failure.stuck.node))
            .collect();
        stuck.len()
    }

    /// Records the validators of `cell` that `behind` names as liveness failures.
    fn note_behind(&mut self, cell: u32, during: &'static str, behind: Behind) {
        for stuck in behind.stuck {
            let failure = LivenessFailure {
                cell,
                during,
                waited: behind.waited,
                stuck,
            };
            eprintln!("LIVENESS FAILURE: {failure}");
            self.stuck.push(failure);
        }
    }

    /// Kinds of transaction no honest node committed.
    pub fn kinds_never_committed(&self) -> Vec<ActionKind> {
        ActionKind::ALL
            .into_iter()
            .filter(|kind| !self.committed_by_kind.contains_key(kind))
            .collect()
    }

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
        if !self.process_conflicts.is_empty() {
            broken.push(format!(
                "governance processes differ between nodes at heights {:?}",
                self.process_conflicts
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
                "the cell committed {:?} heights with two of its four honest validators down",
                self.heights_with_two_down
            ));
        }
        if self.heights_split.is_some_and(|heights| heights > 1) {
            broken.push(format!(
                "the cell committed {:?} heights while split 2|2",
                self.heights_split
            ));
        }
        if let Some(checkpoints) = &self.checkpoints {
            broken.extend(checkpoints.violations());
        }
        if !self.stuck.is_empty() {
            let failures: Vec<String> = self.stuck.iter().map(ToString::to_string).collect();
            broken.push(format!(
                "{} stuck validators: {failures:?}",
                self.stuck_validators()
            ));
        }
        broken
    }
}

impl CheckpointHistory {
    fn violations(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if !self.conflicting_finals.is_empty() {
            broken.push(format!(
                "nodes hold different final checkpoints for (cell, epoch) {:?}",
                self.conflicting_finals
            ));
        }
        if !self.honest_conflicts.is_empty() {
            broken.push(format!(
                "honest validators signed conflicting checkpoints: {:?}",
                self.honest_conflicts
            ));
        }
        if !self.equivocations.is_empty() {
            broken.push(format!(
                "a cell certified two checkpoints for one epoch: {:?}",
                self.equivocations
            ));
        }
        if !self.spared_exits.is_empty() {
            broken.push(format!(
                "processes of the cell spared the faults ended by themselves: {:?}",
                self.spared_exits
            ));
        }
        for cell in [0, 1] {
            if !self.final_epochs.contains_key(&cell) {
                broken.push(format!("no checkpoint of cell {cell} became final"));
            }
        }
        broken
    }
}

impl fmt::Display for CheckpointHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells: Vec<String> = self
            .final_epochs
            .iter()
            .map(|(cell, (epochs, latest))| {
                let signed = self.signed_epochs.get(cell).copied().unwrap_or(0);
                format!(
                    "cell {cell} {epochs} final of {signed} signed (latest final epoch {latest})"
                )
            })
            .collect();
        write!(
            f,
            "checkpoints: {}; {} signatures recorded by honest validators, {} conflicting with another's or the final checkpoint; {} (cell, epoch) with different final checkpoints on two nodes, {} equivocation proofs; the twinned identity signed different checkpoints for {} epochs",
            cells.join(", "),
            self.honest_signatures,
            self.honest_conflicts.len(),
            self.conflicting_finals.len(),
            self.equivocations.len(),
            self.twin_conflicts
        )
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
            "history checker over {} nodes, honest validators' heights 1..={}: {} transactions acknowledged, {} lost, {} committed twice, {} heights in conflict",
            self.nodes,
            self.heights,
            self.acknowledged,
            self.lost.len(),
            self.committed_twice.len(),
            self.conflicting_heights.len()
        )?;
        let by_kind = |counts: &BTreeMap<ActionKind, u64>| -> String {
            let counts: Vec<String> = counts
                .iter()
                .map(|(kind, count)| format!("{kind:?} {count}"))
                .collect();
            counts.join(", ")
        };
        writeln!(
            f,
            "acknowledged by kind: {}",
            by_kind(&self.acknowledged_by_kind)
        )?;
        writeln!(
            f,
            "committed by kind ({} of {} kinds): {}",
            self.committed_by_kind.len(),
            ActionKind::ALL.len(),
            by_kind(&self.committed_by_kind)
        )?;
        writeln!(
            f,
            "governance: {} process and jury events on every honest validator at the same heights ({} executions, {} jury verdicts), {} heights in conflict",
            self.process_events,
            self.processes_executed,
            self.cases_settled,
            self.process_conflicts.len()
        )?;
        writeln!(
            f,
            "supply {} conserved on {} of {} nodes; double votes slashed by offender: {:?}",
            self.supply,
            self.nodes - self.supply_violations.len(),
            self.nodes,
            self.double_votes_slashed
        )?;
        writeln!(f, "stuck validators: {}", self.stuck_validators())?;
        for failure in &self.stuck {
            writeln!(f, "  {failure}")?;
        }
        self.fmt_recoveries(f)?;
        self.fmt_liveness(f)?;
        if self.copies_resumed + self.copies_refused > 0 {
            writeln!(
                f,
                "restarts from a copy taken mid-write: {} resumed from the copy, {} refused it as inconsistent and resynced from the cell",
                self.copies_resumed, self.copies_refused
            )?;
        }
        if let Some(sent) = &self.hostile {
            writeln!(
                f,
                "hostile peer sent {} garbage messages, {} oversized, {} replays, and {} non-handshakes to validators' ports",
                sent.garbage, sent.oversized, sent.replays, sent.not_handshakes
            )?;
        }
        if let Some(checkpoints) = &self.checkpoints {
            writeln!(f, "{checkpoints}")?;
        }
        if let Some(reason) = &self.partitions_unavailable {
            writeln!(f, "partitions not run: {reason}")?;
        }
        if let Some(reason) = &self.netem_unavailable {
            writeln!(f, "delay and loss not run: {reason}")?;
        }
        Ok(())
    }
}

impl Summary {
    /// Median and maximum recovery times, after restarts and after heals.
    fn fmt_recoveries(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (after, times) in [
            ("restart", &self.recoveries),
            ("heal", &self.heal_recoveries),
        ] {
            if let Some((median, max)) = median_and_max(times) {
                writeln!(
                    f,
                    "recovery after {after}: {} times, median {median:.1} s, max {max:.1} s",
                    times.len()
                )?;
            }
        }
        Ok(())
    }

    /// What the liveness checks measured.
    fn fmt_liveness(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(all), Some(one)) = (self.rate_all_up, self.rate_one_down) {
            writeln!(
                f,
                "liveness of the four honest validators: {all:.1} blocks/s with all up, {one:.1} with one down; with two down {:?} heights, resumed {:.1} s after they returned",
                self.heights_with_two_down,
                self.resume_after_two.unwrap_or(f64::NAN)
            )?;
        }
        if let (Some(one), Some(split)) = (self.rate_one_partitioned, self.heights_split) {
            writeln!(
                f,
                "partitions: {one:.1} blocks/s with one of the four honest validators cut off; split 2|2 {split} heights, resumed {:.1} s after the heal",
                self.resume_after_heal.unwrap_or(f64::NAN)
            )?;
        }
        Ok(())
    }
}

/// The median and the maximum of `times`, if there are any.
pub fn median_and_max(times: &[f64]) -> Option<(f64, f64)> {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some((*sorted.get(sorted.len() / 2)?, *sorted.last()?))
}

/// The agents' load, through whichever validator APIs are up.
struct Load {
    stop: Arc<AtomicBool>,
    up: Arc<Mutex<BTreeSet<usize>>>,
    acknowledged: Arc<Mutex<Vec<(String, ActionKind)>>>,
    worker: Option<std::thread::JoinHandle<()>>,
    /// Disconnected when the worker returns.
    finished: mpsc::Receiver<()>,
}

/// How long stopping the load waits for its round in flight. A round follows its transactions
/// for [`FOLLOW_SECONDS`], but one sent to a node that accepts connections and never answers (a
/// wedged or stopped process) waits out the API client's read timeout (90 s) per request.
const LOAD_STOP_WITHIN: Duration = Duration::from_secs(2 * FOLLOW_SECONDS);

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
        let (finishing, finished) = mpsc::channel();
        let worker = {
            let (stop, up, acknowledged) = (stop.clone(), up.clone(), acknowledged.clone());
            let apis: Vec<ApiClient> = apis
                .iter()
                .map(|api| ApiClient::new(api).expect("an http:// address"))
                .collect();
            std::thread::spawn(move || {
                let _finishing = finishing;
                let live = || -> Vec<usize> { lock(&up).iter().copied().collect() };
                let first = live().first().copied().unwrap_or(0);
                let mut agents = Agents::new(dev, seed, &ApiChain(&apis[first]));
                while !stop.load(Ordering::SeqCst) {
                    let nodes = live();
                    let Some(reader) = nodes.first().map(|node| &apis[*node]) else {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    let senders_apis: Vec<&ApiClient> =
                        nodes.iter().map(|node| &apis[*node]).collect();
                    let Ok(played) =
                        agents.play_round(reader, &senders_apis, batch, FOLLOW_SECONDS)
                    else {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    lock(&acknowledged).extend(
                        played
                            .into_iter()
                            .filter(|one| one.outcome.is_ok())
                            .filter_map(|one| Some((one.id?, one.kind))),
                    );
                }
            })
        };
        Self {
            stop,
            up,
            acknowledged,
            worker: Some(worker),
            finished,
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

    /// Stops the load; returns the transactions clients saw committed. A round still in flight
    /// after [`LOAD_STOP_WITHIN`] is left to end by itself, and what it gets acknowledged is not
    /// counted.
    fn stop(&mut self) -> Vec<(String, ActionKind)> {
        self.stop.store(true, Ordering::SeqCst);
        match self.finished.recv_timeout(LOAD_STOP_WITHIN) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                eprintln!("the load's last round waits on a node that does not answer; left to end by itself");
            }
            _ => {
                if let Some(worker) = self.worker.take() {
                    worker.join().expect("the load does not panic");
                }
            }
        }
        std::mem::take(&mut *lock(&self.acknowledged))
    }
}

impl Drop for Load {
    /// A run that panics (a sweep goes on to the next seed) leaves no load behind.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Nodes brought back (restarted, or reconnected by a heal), waiting to commit past the height
/// the cell had then.
struct Recovering {
    nodes: Vec<usize>,
    since: Instant,
    target: u64,
    after_heal: bool,
}

/// A cut or degraded network, until it is healed.
struct NetworkFault {
    until: Instant,
    degraded: Option<usize>,
}

/// How long the liveness check holds the cell split 2|2: longer than libp2p's ping timeout
/// (20 s), so that the connections across the cut end and must be made anew after the heal.
const SPLIT_HELD: Duration = Duration::from_secs(30);

impl NetworkFault {
    fn end(&self, cell: &Cell) {
        match self.degraded {
            Some(node) => cell.degrade(node, None),
            None => cell.heal(),
        }
        .expect("the network can be healed");
    }
}

/// Delay and loss for [`Fault::Degrade`].
const DEGRADED: Netem = Netem {
    delay_ms: 100,
    jitter_ms: 50,
    loss_percent: 10.0,
};

/// `groups` of validators, with the twin (`Some((twin, of))`) beside the validator whose keys it
/// holds: a twin across the cut would lend that identity's vote to the other side.
fn with_twin(mut groups: Vec<Vec<usize>>, twin: Option<(usize, usize)>) -> Vec<Vec<usize>> {
    if let Some((twin, of)) = twin {
        if let Some(group) = groups.iter_mut().find(|group| group.contains(&of)) {
            group.push(twin);
        }
    }
    groups
}

fn cut(cell: &Cell, groups: &[Vec<usize>]) {
    let groups: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
    cell.partition(&groups).expect("the network can be cut");
}

/// Copies `from` to `to` file by file in name order while the node keeps writing, as a backup
/// tool that does not stop it would: each file is as it was when read, and files that vanish
/// before they are read are left out. `pause` after each entry of `from` stands for a slow copy
/// of a large directory: the block store (`blocks/`) is then read well before the ledger
/// (`state/`).
fn copy_while_running(from: &Path, to: &Path, pause: Duration) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let target = to.join(entry.file_name());
        let copied = match entry.file_type()?.is_dir() {
            true => copy_while_running(&entry.path(), &target, Duration::ZERO),
            false => std::fs::copy(entry.path(), &target).map(drop),
        };
        match copied {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
        std::thread::sleep(pause);
    }
    Ok(())
}

/// Whether a process ended by refusing an inconsistent data directory: it exited with an error
/// (injected crashes abort), and the last error in its log is that refusal.
fn refused_copy(status: std::process::ExitStatus, log: &Path) -> bool {
    let log = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
    status.code() == Some(1)
        && log
            .lines()
            .rev()
            .find(|line| line.starts_with("Error: "))
            .is_some_and(|error| error.contains("this data directory is inconsistent"))
}

/// What the refusal tells an operator to do: empty the node's store and the engine's
/// write-ahead log, keeping the guarded signer's record so that the node never signs again where
/// it signed before; the node then syncs the cell's blocks from its peers.
fn resync_from_cell(data: &Path) -> std::io::Result<()> {
    std::fs::remove_dir_all(data.join(STORE))?;
    let engine = data.join("engine");
    let signer = charter_consensus::engine::signer_state_path(&engine);
    for entry in std::fs::read_dir(&engine)? {
        let path = entry?.path();
        if path != signer {
            match path.is_dir() {
                true => std::fs::remove_dir_all(&path)?,
                false => std::fs::remove_file(&path)?,
            }
        }
    }
    Ok(())
}

/// The cell under test, in namespaces if the plan asks and the machine allows (says why not
/// otherwise), and the cell federated with it when the plan asks for one. The validator that
/// runs twins bonds only the minimum: a Byzantine identity with a minor share of the power, so
/// that with its processes down the cell still keeps a quorum with one honest validator down.
fn create_cells(dir: &Path, plan: &Plan, summary: &mut Summary) -> (Cell, Option<Cell>) {
    let mut hosts = None;
    if plan.partitions {
        match Network::probe() {
            Ok(()) => hosts = Some(plan.validators + usize::from(plan.twins)),
            Err(reason) => summary.partitions_unavailable = Some(reason),
        }
    }
    let config = |cell: u32, validators: usize, minor_validators: usize| DevCellConfig {
        minor_validators,
        ..DevCellConfig::sized(
            CellId(cell),
            validators,
            crate::DEV_MEMBERS,
            plan.federated.then_some(EPOCH_LENGTH),
        )
    };
    let under_test = config(0, plan.validators, usize::from(plan.twins));
    let built = "the probe built a network just now";
    if plan.federated {
        let spared = config(1, SPARED_VALIDATORS, 0);
        let (cell, spared) = Cell::federated_pair(dir, [under_test, spared], hosts).expect(built);
        (cell, Some(spared))
    } else {
        (
            Cell::create_with(dir, under_test, hosts).expect(built),
            None,
        )
    }
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
    let mut run = Run::start(dir, plan);
    // A cell that did not start has no history for the faults to disturb; what it has is checked.
    if run.summary.stuck.is_empty() {
        run.faults_then_liveness();
    }
    run.finish()
}

/// A run under way: the cells, the load and the hostile peer on them, and what it found so far.
struct Run<'p> {
    plan: &'p Plan,
    rng: ChaCha20Rng,
    cell: Cell,
    /// The cell federated with the one under test, spared the faults.
    spared: Option<Cell>,
    load: Load,
    hostile: Option<HostilePeer>,
    /// The twin's node index and the validator whose keys it holds.
    twin_of: Option<(usize, usize)>,
    honest: Vec<usize>,
    /// Whether the network can be cut, and one link delayed and made lossy.
    partitions: bool,
    netem: bool,
    /// Nodes restarted from a copy, until they either commit from it or refuse it.
    restored: BTreeSet<usize>,
    summary: Summary,
}

/// The fault phase's state from one step to the next.
struct FaultSchedule {
    kinds: Vec<Fault>,
    /// Kinds not injected yet, the next one last.
    unplayed: Vec<Fault>,
    next_fault: Instant,
    /// Nodes down: when to restart each, and after how many commits that restart aborts itself.
    down: BTreeMap<usize, (Instant, Option<u64>)>,
    recovering: Vec<Recovering>,
    network_fault: Option<NetworkFault>,
    /// Nodes whose current process will abort itself in a commit.
    armed: BTreeSet<usize>,
}

impl FaultSchedule {
    fn new(kinds: Vec<Fault>, rng: &mut ChaCha20Rng) -> Self {
        let mut unplayed = kinds.clone();
        unplayed.shuffle(rng);
        Self {
            kinds,
            unplayed,
            next_fault: Instant::now() + Duration::from_secs(2),
            down: BTreeMap::new(),
            recovering: Vec::new(),
            network_fault: None,
            armed: BTreeSet::new(),
        }
    }

    /// Every kind once, in a random order, then drawn by weight.
    fn draw(&mut self, rng: &mut ChaCha20Rng) -> Fault {
        match self.unplayed.pop() {
            Some(fault) => fault,
            None => *self
                .kinds
                .choose_weighted(rng, |kind| kind.weight())
                .expect("Kill is always a kind"),
        }
    }

    /// `node` is going down for a fault: it no longer counts as recovering from an earlier one.
    fn take_down(&mut self, node: usize, restart_at: Instant, crash_after: Option<u64>) {
        self.recovering
            .retain(|waiting| waiting.after_heal || waiting.nodes != [node]);
        self.armed.remove(&node);
        self.down.insert(node, (restart_at, crash_after));
    }
}

impl<'p> Run<'p> {
    /// Creates and starts the cells, the twin, the load and the hostile peer.
    fn start(dir: &Path, plan: &'p Plan) -> Self {
        let mut summary = Summary::default();
        let (mut cell, mut spared) = create_cells(dir, plan, &mut summary);
        if let Some(spared) = &mut spared {
            if let Err(behind) = spared.start_all_within(REACH_WITHIN) {
                summary.note_behind(1, "starting the cell", behind);
            }
        }
        if let Err(behind) = cell.start_all_within(REACH_WITHIN) {
            summary.note_behind(0, "starting the cell", behind);
        }
        let twin_of = plan.twins.then(|| {
            let of = plan.validators - 1;
            let twin = cell.add_twin(of);
            cell.start(twin);
            (twin, of)
        });
        summary.twins = twin_of.map(|(_, of)| of);
        let partitions = plan.partitions && summary.partitions_unavailable.is_none();
        let netem = partitions && netem_works(&cell, &mut summary);
        let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();
        let all = (0..plan.validators).collect();
        let load = Load::start(cell.dev_cell(), apis, all, plan.batch, plan.seed);
        let hostile = plan.hostile_peer.then(|| {
            let topic = cell.transactions_topic();
            HostilePeer::start(&cell.nodes[..plan.validators], topic, plan.seed)
        });
        Self {
            plan,
            rng: ChaCha20Rng::seed_from_u64(plan.seed),
            cell,
            spared,
            load,
            hostile,
            twin_of,
            honest: honest_validators(plan.validators, summary.twins),
            partitions,
            netem,
            restored: BTreeSet::new(),
            summary,
        }
    }

    /// The validator and twin processes of the twinned identity.
    fn is_twinned(&self, node: usize) -> bool {
        self.twin_of
            .is_some_and(|(twin, of)| node == twin || node == of)
    }

    fn fault_kinds(&self) -> Vec<Fault> {
        let mut kinds = vec![Fault::Kill, Fault::CrashDuringCommit, Fault::RestoreCopy];
        if self.twin_of.is_some() {
            kinds.push(Fault::TwinKill);
        }
        if self.partitions {
            kinds.extend([Fault::Isolate, Fault::Split]);
        }
        if self.netem {
            kinds.push(Fault::Degrade);
        }
        kinds
    }

    /// The faults, everyone back and caught up, then the liveness checks (unless a validator
    /// is stuck: they would measure it, not the cell).
    fn faults_then_liveness(&mut self) {
        let schedule = self.inject_faults();
        self.bring_everyone_back(schedule);
        // The liveness checks measure a cell whose honest validators are all caught up.
        let target = cell_height(&self.cell) + 1;
        let settled = self.settle(target, "settling after the faults");
        for node in 0..self.plan.validators {
            self.load.set_up(node, true);
        }
        match (self.plan.liveness, settled) {
            (true, true) => self.check_liveness(),
            (true, false) => eprintln!("liveness checks skipped: an honest validator is stuck"),
            (false, _) => {}
        }
    }

    /// Injects faults for the time planned, and on until every kind has been injected once (a
    /// slow machine recovers slowly and fits fewer faults in), but no more than
    /// [`FAULTS_OVERRUN`] longer.
    fn inject_faults(&mut self) -> FaultSchedule {
        eprintln!("faults for {} s", self.plan.fault_seconds);
        let deadline = Instant::now() + Duration::from_secs(self.plan.fault_seconds);
        let mut schedule = FaultSchedule::new(self.fault_kinds(), &mut self.rng);
        let overrun = deadline + FAULTS_OVERRUN;
        while Instant::now() < deadline
            || (!schedule.unplayed.is_empty() && Instant::now() < overrun)
        {
            self.cell.poll(Duration::from_millis(100));
            self.note_exits(&mut schedule);
            let now = Instant::now();
            self.restart_due(&mut schedule, now);
            self.heal_due(&mut schedule, now);
            self.note_recoveries(&mut schedule);
            if self.ready_for_fault(&schedule, now) {
                self.inject_one(&mut schedule, now);
            }
        }
        if !schedule.unplayed.is_empty() {
            eprintln!("never injected: {:?}", schedule.unplayed);
        }
        schedule
    }

    /// Processes that ended by themselves (injected crashes, refused copies) go down for a
    /// restart; a node that refused its copied data directory is resynced first.
    fn note_exits(&mut self, schedule: &mut FaultSchedule) {
        for (node, status) in self.cell.reap_exited() {
            eprintln!("node {node} ended by itself ({status})");
            schedule.armed.remove(&node);
            self.load.set_up(node, false);
            if refused_copy(status, &self.cell.nodes[node].log) {
                eprintln!("node {node} refused its copied data directory; resyncing it");
                self.resync(node);
            }
            // The twinned identity's processes are restarted less often than honest ones.
            let pause = if self.is_twinned(node) { 5 } else { 1 };
            let restart_at = Instant::now() + Duration::from_secs(pause);
            schedule.down.insert(node, (restart_at, None));
        }
    }

    fn resync(&mut self, node: usize) {
        self.restored.remove(&node);
        self.summary.copies_refused += 1;
        resync_from_cell(&self.cell.data_dir(node)).expect("the data directory can be emptied");
    }

    /// Restarts the nodes whose outage is over, armed to crash in a commit if the fault said so.
    fn restart_due(&mut self, schedule: &mut FaultSchedule, now: Instant) {
        let due: Vec<usize> = (schedule.down.iter())
            .filter(|(_, (at, _))| *at <= now)
            .map(|(node, _)| *node)
            .collect();
        for node in due {
            let (_, crash_after) = schedule.down.remove(&node).expect("listed as down");
            match crash_after {
                Some(commits) => {
                    let faults = ["--crash-during-commit", &commits.to_string()];
                    self.cell.start_with_faults(node, &faults);
                    schedule.armed.insert(node);
                }
                None => self.cell.start(node),
            }
            if node < self.plan.validators {
                self.load.set_up(node, true);
            }
            if self.honest.contains(&node) {
                schedule.recovering.push(Recovering {
                    nodes: vec![node],
                    since: now,
                    target: cell_height(&self.cell) + 1,
                    after_heal: false,
                });
            }
        }
    }

    fn heal_due(&mut self, schedule: &mut FaultSchedule, now: Instant) {
        let Some(fault) = schedule.network_fault.take_if(|fault| fault.until <= now) else {
            return;
        };
        fault.end(&self.cell);
        eprintln!("healed at height {}", cell_height(&self.cell));
        schedule.recovering.push(Recovering {
            nodes: self.honest.clone(),
            since: now,
            target: cell_height(&self.cell) + 1,
            after_heal: true,
        });
    }

    /// Records how long each node brought back took to commit past the height of its return.
    fn note_recoveries(&mut self, schedule: &mut FaultSchedule) {
        let (cell, summary, restored) = (&self.cell, &mut self.summary, &mut self.restored);
        schedule.recovering.retain(|waiting| {
            let caught_up = (waiting.nodes.iter()).all(|node| cell.latest(*node) >= waiting.target);
            if !caught_up {
                return true;
            }
            if !waiting.after_heal && restored.remove(&waiting.nodes[0]) {
                summary.copies_resumed += 1;
            }
            let times = match waiting.after_heal {
                true => &mut summary.heal_recoveries,
                false => &mut summary.recoveries,
            };
            times.push(waiting.since.elapsed().as_secs_f64());
            false
        });
    }

    /// One fault at a time (the twin, which may be restarting, aside), and none until the cell
    /// has recovered from the last heal.
    fn ready_for_fault(&self, schedule: &FaultSchedule, now: Instant) -> bool {
        now >= schedule.next_fault
            && !schedule.down.keys().any(|node| !self.is_twinned(*node))
            && schedule.network_fault.is_none()
            && !schedule.recovering.iter().any(|waiting| waiting.after_heal)
    }

    fn inject_one(&mut self, schedule: &mut FaultSchedule, now: Instant) {
        let rng = &mut self.rng;
        schedule.next_fault = now + Duration::from_millis(rng.gen_range(1_000..4_000));
        let outage = Duration::from_millis(rng.gen_range(500..4_000));
        let fault = schedule.draw(rng);
        let node = match (fault, self.twin_of) {
            (Fault::TwinKill, Some((twin, _))) => twin,
            _ => rng.gen_range(0..self.plan.validators),
        };
        let held = now + Duration::from_millis(rng.gen_range(2_000..6_000));
        match fault {
            Fault::Isolate | Fault::Split => self.cut_network(schedule, fault, node, held),
            Fault::RestoreCopy if self.cell.is_running(node) => {
                self.restore_copy(schedule, node, now + outage)
            }
            Fault::Degrade => self.degrade_link(schedule, node, held),
            _ if !self.cell.is_running(node) || schedule.down.contains_key(&node) => {
                // Not injectable now (the node is restarting); a kind not yet played waits its
                // turn.
                if !self.summary.faults.contains_key(&fault) {
                    schedule.unplayed.push(fault);
                }
            }
            _ => self.kill(schedule, fault, node, now + outage),
        }
    }

    fn count(&mut self, fault: Fault) {
        *self.summary.faults.entry(fault).or_default() += 1;
    }

    /// Cuts `node` off from the other validators (1|3), or the validators into halves (2|2).
    fn cut_network(
        &mut self,
        schedule: &mut FaultSchedule,
        fault: Fault,
        node: usize,
        held: Instant,
    ) {
        let validators = self.plan.validators;
        let mut order: Vec<usize> = (0..validators).collect();
        let first = match fault {
            Fault::Isolate => {
                order.swap(0, node);
                1
            }
            _ => {
                order.shuffle(&mut self.rng);
                validators / 2
            }
        };
        let groups = vec![order[..first].to_vec(), order[first..].to_vec()];
        let groups = with_twin(groups, self.twin_of);
        eprintln!("{fault:?} {groups:?} at height {}", cell_height(&self.cell));
        cut(&self.cell, &groups);
        schedule.network_fault = Some(NetworkFault {
            until: held,
            degraded: None,
        });
        self.count(fault);
    }

    fn degrade_link(&mut self, schedule: &mut FaultSchedule, node: usize, held: Instant) {
        eprintln!("Degrade node {node} at height {}", cell_height(&self.cell));
        (self.cell.degrade(node, Some(DEGRADED))).expect("netem worked at the start");
        schedule.network_fault = Some(NetworkFault {
            until: held,
            degraded: Some(node),
        });
        self.count(Fault::Degrade);
    }

    /// Copies `node`'s data directory while it runs, kills it, and puts the copy in its place
    /// for the restart at `restart_at`.
    fn restore_copy(&mut self, schedule: &mut FaultSchedule, node: usize, restart_at: Instant) {
        let fault = Fault::RestoreCopy;
        eprintln!(
            "{fault:?} node {node} at height {}",
            cell_height(&self.cell)
        );
        let data = self.cell.data_dir(node);
        let copy = data.with_extension("copy");
        // Every other copy is a slow one.
        let slow = self.summary.faults.get(&fault).copied().unwrap_or(0) % 2 == 1;
        let pause = Duration::from_millis(if slow { 1_500 } else { 0 });
        copy_while_running(&data, &copy, pause).expect("the data directory can be copied");
        self.cell.kill(node);
        replace_with_copy(&data, &copy);
        self.load.set_up(node, false);
        self.restored.insert(node);
        self.count(fault);
        schedule.take_down(node, restart_at, None);
    }

    /// SIGKILLs `node`, to be restarted at `restart_at` (armed to crash in a commit for
    /// [`Fault::CrashDuringCommit`]).
    fn kill(
        &mut self,
        schedule: &mut FaultSchedule,
        fault: Fault,
        node: usize,
        restart_at: Instant,
    ) {
        eprintln!(
            "{fault:?} node {node} at height {}",
            cell_height(&self.cell)
        );
        self.cell.kill(node);
        self.load.set_up(node, false);
        self.count(fault);
        let crash_after = (fault == Fault::CrashDuringCommit).then(|| self.rng.gen_range(1..=5));
        schedule.take_down(node, restart_at, crash_after);
    }

    /// Everyone back, without injected crashes, on a whole network.
    fn bring_everyone_back(&mut self, schedule: FaultSchedule) {
        if let Some(fault) = schedule.network_fault {
            fault.end(&self.cell);
        }
        for node in schedule.armed {
            self.cell.kill(node);
            self.cell.start(node);
        }
        for node in schedule.down.into_keys() {
            self.cell.start(node);
            self.load.set_up(node, true);
        }
    }

    /// Waits up to [`REACH_WITHIN`] until every honest validator has committed `target`,
    /// starting any that is down or stops (after resyncing one that refused its copied data
    /// directory). Those that do not reach it are liveness failures; returns whether all did.
    fn settle(&mut self, target: u64, during: &'static str) -> bool {
        for node in self.honest.clone() {
            if !self.cell.is_running(node) {
                self.cell.start(node);
            }
        }
        let deadline = Instant::now() + REACH_WITHIN;
        loop {
            let behind: Vec<usize> = (self.honest.iter().copied())
                .filter(|node| self.cell.latest(*node) < target)
                .collect();
            if behind.is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                let stuck = behind.iter().map(|node| self.cell.stuck(*node, target));
                let behind = Behind {
                    waited: REACH_WITHIN,
                    stuck: stuck.collect(),
                };
                self.summary.note_behind(0, during, behind);
                return false;
            }
            self.cell.poll(Duration::from_millis(100));
            for (node, status) in self.cell.reap_exited() {
                if !self.honest.contains(&node) {
                    continue;
                }
                if refused_copy(status, &self.cell.nodes[node].log) {
                    self.resync(node);
                }
                self.cell.start(node);
            }
        }
    }

    /// With the twinned identity's processes stopped: one and two honest validators down, then
    /// (where the network can be cut) one cut off and the cell split 2|2.
    fn check_liveness(&mut self) {
        if let Some(twin) = self.twin_of {
            retire_twins(&mut self.cell, &self.load, twin);
        }
        if let Err(behind) = self.measure_liveness() {
            self.summary.note_behind(0, "measuring liveness", behind);
            // The final settle starts whatever the checks left down; the network is made whole.
            if self.partitions {
                self.cell.heal().expect("the network can be healed");
            }
        }
    }

    fn measure_liveness(&mut self) -> Result<(), Behind> {
        liveness(&mut self.cell, &self.load, &self.honest, &mut self.summary)?;
        if self.partitions {
            partition_liveness(&mut self.cell, &self.honest, &mut self.summary)?;
        }
        Ok(())
    }

    /// Stops the load, lets every honest validator commit what it took in, stops every process
    /// and checks the history.
    fn finish(mut self) -> Summary {
        let acknowledged = self.load.stop();
        self.summary.hostile = self.hostile.take().map(HostilePeer::stop);
        self.summary.acknowledged = acknowledged.len();
        let target = cell_height(&self.cell) + 2;
        eprintln!("load stopped; waiting for every honest validator to reach height {target}");
        self.settle(target, "settling after the load stopped");
        for node in 0..self.cell.nodes.len() {
            self.cell.kill(node);
        }
        check(&self.cell, &acknowledged, &mut self.summary);
        if let Some(spared) = self.spared.take() {
            let checkpoints = check_federation(&self.cell, spared, self.summary.twins);
            self.summary.checkpoints = Some(checkpoints);
        }
        self.summary
    }
}

/// Whether `cell`'s links can be delayed and made lossy (says why not in `summary`).
fn netem_works(cell: &Cell, summary: &mut Summary) -> bool {
    let tried = (cell.degrade(0, Some(DEGRADED))).and_then(|()| cell.degrade(0, None));
    match tried {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            summary.netem_unavailable = Some(e.to_string());
            false
        }
        Err(e) => panic!("cannot degrade a link: {e}"),
    }
}

/// Puts the copy `copy` of a validator's data directory in the place of `data`, but for the
/// signer records.
fn replace_with_copy(data: &Path, copy: &Path) {
    // The guarded signer's record is the one file a validator never restores from a copy (it
    // keeps it apart, as tmkms does): with an older record it could sign again where it signed
    // after the copy, and be slashed for it.
    let engine = |data: &Path| charter_consensus::engine::signer_state_path(&data.join("engine"));
    std::fs::copy(engine(data), engine(copy)).expect("the signer's record copies");
    // So is the checkpoint signer's, for the same reason.
    let checkpoints = checkpoint_signer::record_path(data);
    if checkpoints.exists() {
        std::fs::copy(&checkpoints, checkpoint_signer::record_path(copy))
            .expect("the checkpoint signer's record copies");
    }
    std::fs::remove_dir_all(data).expect("the data directory can be removed");
    std::fs::rename(copy, data).expect("the copy can take its place");
}

/// Stops the spared cell and checks the federation's checkpoints over both cells.
fn check_federation(cell: &Cell, mut spared: Cell, twinned: Option<usize>) -> CheckpointHistory {
    let exits: Vec<String> = (spared.reap_exited().into_iter())
        .map(|(node, status)| format!("cell 1 node {node}: {status}"))
        .collect();
    for node in 0..spared.nodes.len() {
        spared.kill(node);
    }
    let mut checkpoints = check_checkpoints(&[cell, &spared], twinned);
    checkpoints.spared_exits = exits;
    checkpoints
}

/// Stops the twinned identity's processes for good, so that the liveness checks measure the
/// honest validators alone (its minor power, in the set or slashed out of it, cannot make a
/// quorum with them).
fn retire_twins(cell: &mut Cell, load: &Load, twin: (usize, usize)) {
    let (twin, of) = twin;
    for node in [of, twin] {
        cell.kill(node);
        load.set_up(node, false);
    }
}

/// One honest validator down: the cell keeps committing. Two of the four honest ones down: it
/// stops, and resumes once they return. Err when the observer did not reach a height in time.
fn liveness(
    cell: &mut Cell,
    load: &Load,
    honest: &[usize],
    summary: &mut Summary,
) -> Result<(), Behind> {
    let observer = honest[0];
    let [.., second_down, first_down] = honest else {
        panic!("liveness needs two honest validators to take down");
    };
    let (first_down, second_down) = (*first_down, *second_down);
    eprintln!("liveness: all up");
    summary.rate_all_up = Some(blocks_per_second(cell, observer, 10)?);
    eprintln!("liveness: one down");
    cell.kill(first_down);
    load.set_up(first_down, false);
    summary.rate_one_down = Some(blocks_per_second(cell, observer, 10)?);
    eprintln!("liveness: two down");
    cell.kill(second_down);
    load.set_up(second_down, false);
    // A block already decided when the second went down may still be reported.
    cell.poll(Duration::from_secs(1));
    let stalled_at = cell.latest(observer);
    cell.poll(Duration::from_secs(5));
    summary.heights_with_two_down = Some(cell.latest(observer) - stalled_at);
    let since = Instant::now();
    for node in [first_down, second_down] {
        cell.start(node);
        load.set_up(node, true);
    }
    cell.wait_past_within(&[observer], stalled_at + 1, REACH_WITHIN)?;
    summary.resume_after_two = Some(since.elapsed().as_secs_f64());
    Ok(())
}

/// One honest validator cut off: the rest keep committing. The honest validators split 2|2:
/// the cell stops, and resumes once healed. Err when the observer did not reach a height in
/// time.
fn partition_liveness(
    cell: &mut Cell,
    honest: &[usize],
    summary: &mut Summary,
) -> Result<(), Behind> {
    let observer = honest[0];
    let (rest, cut_off) = honest.split_at(honest.len() - 1);
    eprintln!("liveness: validator {} cut off", cut_off[0]);
    cut(cell, &[cut_off.to_vec(), rest.to_vec()]);
    summary.rate_one_partitioned = Some(blocks_per_second(cell, observer, 10)?);
    eprintln!("liveness: split 2|2");
    let (first, second) = honest.split_at(honest.len() / 2);
    cut(cell, &[first.to_vec(), second.to_vec()]);
    let highest = |cell: &Cell| honest.iter().map(|node| cell.latest(*node)).max();
    // A block already decided when the cut came may still be reported.
    cell.poll(Duration::from_secs(1));
    let stalled_at = highest(cell).unwrap_or(0);
    cell.poll(SPLIT_HELD);
    summary.heights_split = Some(highest(cell).unwrap_or(0) - stalled_at);
    let since = Instant::now();
    cell.heal().expect("the network can be healed");
    cell.wait_past_within(&[observer], stalled_at + 1, REACH_WITHIN)?;
    summary.resume_after_heal = Some(since.elapsed().as_secs_f64());
    Ok(())
}

/// Blocks a second `observer` commits over its next `heights` heights.
fn blocks_per_second(cell: &mut Cell, observer: usize, heights: u64) -> Result<f64, Behind> {
    let from = cell.latest(observer);
    let since = Instant::now();
    cell.wait_past_within(&[observer], from + heights - 1, REACH_WITHIN)?;
    Ok(heights as f64 / since.elapsed().as_secs_f64())
}

/// What one node's data directory holds.
struct NodeHistory {
    blocks: BTreeMap<u64, [u8; 32]>,
    roots: BTreeMap<u64, StateRoot>,
    /// Committed (not rejected) occurrences of each transaction.
    committed: BTreeMap<TxId, u32>,
    committed_by_kind: BTreeMap<ActionKind, u64>,
    /// Keys of the offenders of committed double-vote slashes, once per offence.
    slashed: BTreeSet<(Ed25519PublicKey, u64, u32)>,
    conserved: bool,
    supply: u64,
    /// What every governance process and jury case did, by the height it did it at.
    process_events: BTreeMap<u64, Vec<String>>,
}

/// Each governance process's and jury case's history entries (as the latest state holds
/// them), by height; a draw names the jurors it seated.
fn read_governance_events(ledger: &Ledger<StateStore>) -> BTreeMap<u64, Vec<String>> {
    let mut events: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for process in ledger.processes(None, u64::MAX).expect("readable") {
        for event in &process.history {
            events
                .entry(event.height())
                .or_default()
                .push(format!("#{} {event:?}", process.id));
        }
    }
    for case in ledger.jury_cases(None, u64::MAX).expect("readable") {
        for event in &case.history {
            let line = match event {
                CaseEvent::Drawn { .. } => format!("case #{} {event:?} {:?}", case.id, case.jurors),
                _ => format!("case #{} {event:?}", case.id),
            };
            events.entry(event.height()).or_default().push(line);
        }
    }
    events
}

fn read_history(data: &Path) -> NodeHistory {
    let store = NodeStore::open(&data.join(STORE)).expect("the store opens");
    let ledger = Ledger::open(store.state()).expect("the ledger opens");
    let blocks = BlockStore::new(store);
    let latest = blocks
        .latest_height()
        .expect("readable")
        .map_or(0, |height| height.0);
    let mut history = NodeHistory {
        blocks: BTreeMap::new(),
        roots: BTreeMap::new(),
        committed: BTreeMap::new(),
        committed_by_kind: BTreeMap::new(),
        slashed: BTreeSet::new(),
        conserved: false,
        supply: 0,
        process_events: BTreeMap::new(),
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
            *history
                .committed_by_kind
                .entry(transaction.body.action.kind())
                .or_default() += 1;
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
        history.process_events = read_governance_events(&ledger);
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

/// Validators whose every process is honest: all but the twinned one.
fn honest_validators(validators: usize, twinned: Option<usize>) -> Vec<usize> {
    (0..validators).filter(|v| Some(*v) != twinned).collect()
}

fn check(cell: &Cell, acknowledged: &[(String, ActionKind)], summary: &mut Summary) {
    let histories: Vec<NodeHistory> = (0..cell.nodes.len())
        .map(|node| read_history(&cell.data_dir(node)))
        .collect();
    summary.nodes = histories.len();
    let honest: Vec<&NodeHistory> = honest_validators(cell.validators(), summary.twins)
        .into_iter()
        .map(|node| &histories[node])
        .collect();
    summary.heights = honest
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
    let common = |history: &NodeHistory| -> BTreeMap<u64, Vec<String>> {
        (history.process_events.range(..=summary.heights))
            .map(|(height, events)| (*height, events.clone()))
            .collect()
    };
    let first = common(honest[0]);
    let mut differing = BTreeSet::new();
    for history in &honest[1..] {
        differing.extend(differing_heights(&first, &common(history)));
    }
    summary.process_conflicts = differing.into_iter().collect();
    summary.process_events = first.values().map(Vec::len).sum();
    summary.processes_executed = (first.values().flatten())
        .filter(|event| event.contains("Executed"))
        .count();
    summary.cases_settled = (first.values().flatten())
        .filter(|event| event.contains("Settled"))
        .count();
    summary.committed_by_kind = honest[0].committed_by_kind.clone();
    for (id, kind) in acknowledged {
        *summary.acknowledged_by_kind.entry(*kind).or_default() += 1;
        let id = TxId::from_hex(id).expect("the API names transactions in hex");
        let counts: Vec<u32> = honest
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

/// Reads every node's final certificates and every validator process's checkpoint signer
/// record in `cells` (all stopped; the first holds the twins, if any ran, of validator
/// `twinned`), and checks that every node holds the same final checkpoint for each cell and
/// epoch, that no cell certified two, and that every honest validator signed, for each cell
/// and epoch, the same checkpoint as every other honest validator and as the final one.
fn check_checkpoints(cells: &[&Cell], twinned: Option<usize>) -> CheckpointHistory {
    let mut history = CheckpointHistory::default();
    let genesis = cells[0].dir().join("federation.json");
    let mut finals: BTreeMap<(CellId, u64), CheckpointId> = BTreeMap::new();
    // (cell, epoch) → the checkpoint honest validators signed, and who signed it first.
    let mut signed: BTreeMap<(CellId, u64), (CheckpointId, String)> = BTreeMap::new();
    let mut twin_records = Vec::new();
    for (cell_index, cell) in cells.iter().enumerate() {
        for node in 0..cell.nodes.len() {
            let name = format!("cell {cell_index} node {node}");
            let data = cell.data_dir(node);
            let collector = FederationStore::open(&data)
                .and_then(|store| store.restore(&genesis))
                .unwrap_or_else(|error| panic!("{name}'s federation store: {error}"));
            for (cell, _) in collector.sets().heads() {
                for certificate in collector.finals_in(cell, 0..=u64::MAX, usize::MAX) {
                    let checkpoint = &certificate.checkpoint;
                    let position = (checkpoint.cell, checkpoint.epoch);
                    if *finals.entry(position).or_insert(checkpoint.id()) != checkpoint.id() {
                        history.conflicting_finals.push((position.0 .0, position.1));
                    }
                }
            }
            if collector.equivocations().next().is_some() {
                history.equivocations.push(name.clone());
            }
            let record = checkpoint_signer::read_record(&checkpoint_signer::record_path(&data))
                .unwrap_or_else(|error| panic!("{name}'s checkpoint signer: {error}"));
            let validator = cell.twins.get(&node).copied().unwrap_or(node);
            if cell_index == 0 && Some(validator) == twinned {
                twin_records.push(record);
                continue;
            }
            for (position, id) in record {
                history.honest_signatures += 1;
                let (first, by) = signed.entry(position).or_insert((id, name.clone()));
                if *first != id {
                    history.honest_conflicts.push(format!(
                        "{name} and {by} signed different checkpoints for cell {} epoch {}",
                        position.0 .0, position.1
                    ));
                }
            }
        }
    }
    if let [one, other] = &twin_records[..] {
        history.twin_conflicts = (one.iter())
            .filter(|(position, id)| other.get(position).is_some_and(|theirs| theirs != *id))
            .count() as u64;
    }
    for (position, (id, by)) in &signed {
        if finals.get(position).is_some_and(|final_id| final_id != id) {
            history.honest_conflicts.push(format!(
                "{by} signed another checkpoint than the final one for cell {} epoch {}",
                position.0 .0, position.1
            ));
        }
        *history.signed_epochs.entry(position.0 .0).or_default() += 1;
    }
    for (cell, epoch) in finals.keys() {
        let (count, latest) = history.final_epochs.entry(cell.0).or_default();
        *count += 1;
        *latest = (*latest).max(*epoch);
    }
    history.conflicting_finals.sort();
    history.conflicting_finals.dedup();
    history
}
