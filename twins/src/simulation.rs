//! One schedule, run to its end: the processes of a cell over a simulated network and clock.
//! Every event — a delivery, a timer, a fault, a restart, a sync request — sits in one queue
//! ordered by simulated time, and every random choice comes from the schedule's seed, so a
//! seed replays exactly.

use crate::observer::{Observer, Violation};
use crate::process::{Durations, Message, Outbox, Process, ProcessSetup};
use crate::schedule::{CrashKind, Fault, Links, Schedule};
use charter_consensus::context::ValidatorAddress;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::ids::CellId;
use charter_ledger::Ledger;
use charter_store::NodeStore;
use malachitebft_core_types::Timeout;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How every schedule of a run is shaped.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How long faults last, in simulated milliseconds.
    pub fault_ms: u64,
    /// How long after the heal every honest process must have committed, in simulated
    /// milliseconds.
    pub liveness_ms: u64,
    /// Heights every honest process must commit after the heal.
    pub heights_after_heal: u64,
    /// Off only to show the checks catch a validator whose votes are not guarded.
    pub guard_votes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fault_ms: 8_000,
            liveness_ms: 120_000,
            heights_after_heal: 2,
            guard_votes: true,
        }
    }
}

/// Sync requests go out this often from every process.
const SYNC_INTERVAL_MS: u64 = 400;

const TIMEOUTS: Durations = Durations {
    propose: 400,
    prevote: 150,
    precommit: 150,
    delta: 100,
};

/// The dev cells schedules run on, one per size, built once, each with a store holding its
/// genesis state: a process starting from nothing copies it rather than executing genesis
/// again (which checks every validator's proof of possession, the costliest step of all).
pub struct Cells {
    cells: BTreeMap<usize, (Arc<DevCell>, PathBuf)>,
    _stores: tempfile::TempDir,
}

impl Cells {
    pub fn new(scratch: &Path) -> Self {
        let stores = tempfile::Builder::new()
            .prefix("genesis-")
            .tempdir_in(scratch)
            .expect("a scratch directory for the genesis stores");
        let cells = (4..=7)
            .map(|validators| {
                let config = DevCellConfig::sized(CellId(0), validators, 10, None);
                let cell = Arc::new(DevCell::new(29, config));
                let store = stores.path().join(format!("{validators}-validators"));
                write_genesis(&cell, &store);
                (validators, (cell, store))
            })
            .collect();
        Self {
            cells,
            _stores: stores,
        }
    }

    fn of(&self, validators: usize) -> &(Arc<DevCell>, PathBuf) {
        &self.cells[&validators]
    }
}

fn write_genesis(cell: &DevCell, path: &Path) {
    let store = NodeStore::open(path).expect("a genesis store opens");
    let mut ledger = Ledger::open(store.state()).expect("a new ledger opens");
    ledger
        .init_genesis(&cell.genesis)
        .expect("a dev cell's genesis is valid");
}

/// What one schedule did and broke.
#[derive(Debug)]
pub struct Outcome {
    pub schedule: Schedule,
    pub highest_committed: u64,
    pub twin_equivocations: usize,
    pub violations: Vec<Violation>,
}

enum Event {
    Deliver {
        from: usize,
        to: usize,
        message: Box<Message>,
    },
    Timer {
        process: usize,
        timeout: Timeout,
        generation: u64,
    },
    Fault(Fault),
    Restart {
        process: usize,
    },
    SyncTick {
        process: usize,
    },
    Heal,
}

struct World {
    schedule: Schedule,
    processes: Vec<Process>,
    events: BTreeMap<(u64, u64), Event>,
    sequence: u64,
    now: u64,
    rng: ChaCha8Rng,
    links: Links,
    group_of: Vec<usize>,
    observer: Observer,
}

/// Runs the schedule of `seed`, in a fresh directory under `scratch`.
pub fn run_schedule(seed: u64, options: &Options, cells: &Cells, scratch: &Path) -> Outcome {
    let schedule = Schedule::generate(seed, options.fault_ms);
    let dir = tempfile::Builder::new()
        .prefix(&format!("schedule-{seed}-"))
        .tempdir_in(scratch)
        .expect("a scratch directory for the schedule");
    let (cell, genesis_store) = cells.of(schedule.validators).clone();
    let mut world = World::new(schedule, options, (&cell, &genesis_store), dir.path());
    world.run(options);
    Outcome {
        highest_committed: world.observer.highest_committed(),
        twin_equivocations: world.observer.twin_equivocations(),
        violations: world.observer.into_violations(),
        schedule: world.schedule,
    }
}

impl World {
    fn new(
        schedule: Schedule,
        options: &Options,
        (cell, genesis_store): (&Arc<DevCell>, &Path),
        dir: &Path,
    ) -> Self {
        let processes: Vec<Process> = (0..schedule.processes())
            .map(|index| {
                let validator = cell.validator(schedule.validator_of(index));
                Process::new(ProcessSetup {
                    index,
                    cell: cell.clone(),
                    key: validator
                        .consensus_key
                        .clone()
                        .expect("a dev validator has a consensus key"),
                    reveal_key: (validator.bls_key.clone()).expect("a dev validator has a BLS key"),
                    address: ValidatorAddress(validator.id),
                    dir: dir.join(format!("process-{index}")),
                    genesis_store: genesis_store.to_path_buf(),
                    sender: index,
                    guard_votes: options.guard_votes,
                    timeouts: TIMEOUTS,
                })
            })
            .collect();
        let honest = (0..processes.len())
            .map(|process| schedule.is_honest(process))
            .collect();
        let validator_of = (0..processes.len())
            .map(|process| schedule.validator_of(process))
            .collect();
        // The network's choices (delays, losses, sync peers) draw from a stream of their own,
        // derived from the schedule's seed but apart from the one that drew the schedule.
        Self {
            rng: ChaCha8Rng::seed_from_u64(schedule.seed ^ 0x7717_5eed),
            links: schedule.links,
            group_of: vec![0; processes.len()],
            observer: Observer::new(honest, validator_of),
            processes,
            schedule,
            events: BTreeMap::new(),
            sequence: 0,
            now: 0,
        }
    }

    fn at(&mut self, time: u64, event: Event) {
        self.sequence += 1;
        self.events.insert((time, self.sequence), event);
    }

    fn run(&mut self, options: &Options) {
        for (time, fault) in self.schedule.faults.clone() {
            self.at(time, Event::Fault(fault));
        }
        self.at(self.schedule.heal_at_ms, Event::Heal);
        for process in 0..self.processes.len() {
            self.at(SYNC_INTERVAL_MS, Event::SyncTick { process });
            self.with_outbox(process, |process, out| process.start(out));
        }
        let deadline = self.schedule.heal_at_ms + options.liveness_ms;
        let mut target = None;
        while let Some(((time, _), event)) = self.events.pop_first() {
            if time > deadline {
                break;
            }
            self.now = time;
            if matches!(event, Event::Heal) {
                target = Some(self.observer.highest_committed() + options.heights_after_heal);
            }
            self.apply(event);
            if target.is_some_and(|target| self.stuck(target).is_empty()) {
                return;
            }
        }
        let target = target.expect("the heal comes before the deadline");
        let stuck = self.stuck(target);
        self.observer.not_live(target, stuck);
    }

    /// Honest processes that have not committed `target`, with the height they reached.
    fn stuck(&self, target: u64) -> Vec<(usize, u64)> {
        (0..self.processes.len())
            .filter(|process| self.schedule.is_honest(*process))
            .map(|process| (process, self.observer.committed_height(process)))
            .filter(|(_, height)| *height < target)
            .collect()
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Deliver { from, to, message } => {
                if self.reachable(from, to) {
                    self.with_outbox(to, |process, out| process.receive(from, *message, out));
                }
            }
            Event::Timer {
                process,
                timeout,
                generation,
            } => self.with_outbox(process, |process, out| {
                process.timer_fired(timeout, generation, out)
            }),
            Event::Fault(fault) => {
                tracing::info!(ms = self.now, ?fault, "fault");
                self.strike(fault)
            }
            Event::Restart { process } => self.restart(process),
            Event::SyncTick { process } => self.sync_tick(process),
            Event::Heal => {
                self.links = Links::HEALED;
                self.group_of.fill(0);
                for process in 0..self.processes.len() {
                    if !self.processes[process].is_running() {
                        self.restart(process);
                    }
                }
            }
        }
    }

    fn strike(&mut self, fault: Fault) {
        match fault {
            Fault::Partition(groups) => {
                for (group, members) in groups.iter().enumerate() {
                    for process in members {
                        self.group_of[*process] = group;
                    }
                }
            }
            Fault::Heal => self.group_of.fill(0),
            Fault::Crash {
                process,
                kind,
                down_ms,
            } => {
                self.crash(process, kind);
                self.at(self.now + down_ms, Event::Restart { process });
            }
        }
    }

    fn crash(&mut self, process: usize, kind: CrashKind) {
        match kind {
            CrashKind::AtRest => self.processes[process].kill(false, false),
            CrashKind::MidStep { effects } => self.processes[process].kill_after(effects),
            CrashKind::LosingWal => self.processes[process].kill(true, false),
            CrashKind::Resync => {
                self.processes[process].kill(true, true);
                self.observer.store_lost(process);
            }
        }
    }

    fn restart(&mut self, process: usize) {
        if self.processes[process].is_running() {
            self.processes[process].kill(false, false);
        }
        self.with_outbox(process, |process, out| process.start(out));
    }

    /// A process behind asks a reachable process that committed its height for that block.
    fn sync_tick(&mut self, process: usize) {
        self.at(self.now + SYNC_INTERVAL_MS, Event::SyncTick { process });
        let Some(height) = self.processes[process].height() else {
            return;
        };
        let ahead: Vec<usize> = (0..self.processes.len())
            .filter(|peer| *peer != process && self.processes[*peer].is_running())
            .filter(|peer| self.observer.committed_height(*peer) >= height.0)
            .collect();
        if ahead.is_empty() {
            return;
        }
        let peer = ahead[self.rng.gen_range(0..ahead.len())];
        self.send(process, peer, Message::SyncRequest(height));
    }

    fn reachable(&self, from: usize, to: usize) -> bool {
        self.group_of[from] == self.group_of[to]
    }

    fn send(&mut self, from: usize, to: usize, message: Message) {
        if !self.reachable(from, to) || self.rng.gen_range(0..100) < self.links.loss_percent {
            return;
        }
        let delay = self
            .rng
            .gen_range(self.links.min_delay_ms..=self.links.max_delay_ms);
        let message = Box::new(message);
        self.at(self.now + delay, Event::Deliver { from, to, message });
    }

    /// Lets a process act, then sends, schedules and records what it put in its outbox.
    fn with_outbox(&mut self, index: usize, act: impl FnOnce(&mut Process, &mut Outbox)) {
        let mut out = Outbox::default();
        let span = tracing::info_span!("process", index, ms = self.now);
        let process = &mut self.processes[index];
        let acted = span.in_scope(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| act(process, &mut out)))
        });
        // A panic in the engine or the host stops a real node: it is a failure of the process.
        if let Err(panic) = acted {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_default();
            out.failures.push(format!("panicked: {message}"));
            process.kill(false, false);
        }
        for message in out.broadcast {
            for to in (0..self.processes.len()).filter(|to| *to != index) {
                self.send(index, to, message.clone());
            }
        }
        for (to, message) in out.replies {
            self.send(index, to, message);
        }
        for (timeout, generation, after) in out.timers {
            let timer = Event::Timer {
                process: index,
                timeout,
                generation,
            };
            self.at(self.now + after, timer);
        }
        for (height, block) in out.committed {
            self.observer.committed(index, height, block);
        }
        for vote in &out.votes {
            self.observer.voted(index, vote);
        }
        for (height, round, block) in out.proposals {
            self.observer.proposed(index, height, round, block);
        }
        for error in out.failures {
            self.observer.failed(index, error);
        }
    }
}
