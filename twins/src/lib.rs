//! # charter-twins
//!
//! Twins by the thousand. Real processes give tens of fault schedules an hour; this crate runs
//! a cell's validators in one process — each Malachite's pure core state machine with
//! Charter's context, the node's own host and application on its own store, and its guarded
//! signer — over a simulated network and clock, and generates schedules from seeds: 4 to 7
//! validators, one or two of them run by two processes at once (twins holding one key),
//! message delay, loss and reordering, partitions, kills at rest and in the middle of an
//! input, lost logs and emptied stores. Each schedule is checked for agreement, honest
//! signers, validity and, once it heals, liveness ([`observer`]); a failing seed replays
//! exactly with `charter-twins --seed N`.

pub mod observer;
pub mod pool;
pub mod process;
pub mod schedule;
pub mod simulation;
pub mod wal;

pub use simulation::{run_schedule, Cells, Options, Outcome};

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Runs the schedules of seeds `first..first + count` on `threads` threads, calling `progress`
/// after each; the outcomes come back in seed order.
pub fn run_schedules(
    first: u64,
    count: u64,
    threads: usize,
    options: &Options,
    scratch: &Path,
    progress: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    assert!(threads > 0, "at least one thread runs schedules");
    let cells = Cells::new(scratch);
    let next = AtomicU64::new(first);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= first + count {
                    return;
                }
                let outcome = run_schedule(seed, options, &cells, scratch);
                progress(&outcome);
                outcomes
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(outcome);
            });
        }
    });
    let mut outcomes = outcomes
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    outcomes.sort_by_key(|outcome| outcome.schedule.seed);
    outcomes
}

/// Where schedules keep their stores: memory-backed when the machine has it, since a store
/// lives for seconds.
pub fn default_scratch() -> std::path::PathBuf {
    let shared_memory = Path::new("/dev/shm");
    if shared_memory.is_dir() {
        shared_memory.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}
