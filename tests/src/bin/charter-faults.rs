//! `charter-faults --seconds N [--seed S | --seeds A..B] [--no-twins] [--no-partitions]
//! [--no-hostile-peer] [--lone-cell] [--no-liveness] [--dir DIR]`: the fault harness for as
//! long as asked, printing the history checker's summary; exits 1 if a promise was broken
//! (nothing acknowledged lost or committed twice, no conflicting heights, no stuck validator,
//! …).
//!
//! `--seeds A..B` runs seeds A to B, both included, one after another, each in `DIR/seed-S`:
//! it prints each seed's summary as it ends, then a table of every seed's faults by kind,
//! transactions acknowledged, lost and committed twice, heights in conflict, stuck validators
//! and median/max recovery after restarts and heals; exits 1 if any seed broke a promise.
//!
//! Run as root, every node gets a network namespace of its own; SIGINT or SIGTERM stops every
//! process the run started and removes its namespaces, veths and bridge before exiting.

use charter_e2e::faults::{run, Plan};
use charter_e2e::sweep::sweep;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

const USAGE: &str = "usage: charter-faults --seconds N [--seed S | --seeds A..B] [--no-twins] \
    [--no-partitions] [--no-hostile-peer] [--lone-cell] [--no-liveness] [--dir DIR]";

struct Options {
    plan: Plan,
    /// Set by `--seeds`: a sweep instead of the one run of `plan.seed`.
    seeds: Option<RangeInclusive<u64>>,
    dir: Option<PathBuf>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        plan: Plan::everything(600, 1),
        seeds: None,
        dir: None,
    };
    let plan = &mut options.plan;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let number = |text: String| text.parse::<u64>().map_err(|e| format!("{text}: {e}"));
        match arg.as_str() {
            "--seconds" => plan.fault_seconds = number(value()?)?,
            "--seed" => plan.seed = number(value()?)?,
            "--seeds" => options.seeds = Some(seed_range(&value()?)?),
            "--dir" => options.dir = Some(PathBuf::from(value()?)),
            "--no-twins" => plan.twins = false,
            "--no-partitions" => plan.partitions = false,
            "--no-hostile-peer" => plan.hostile_peer = false,
            "--lone-cell" => plan.federated = false,
            "--no-liveness" => plan.liveness = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

/// `A..B`, both included.
fn seed_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let seed = |text: &str| text.parse::<u64>().map_err(|e| format!("seed {text}: {e}"));
    let (first, last) =
        (text.split_once("..")).ok_or_else(|| format!("--seeds takes A..B, not {text}"))?;
    let (first, last) = (seed(first)?, seed(last)?);
    match first <= last {
        true => Ok(first..=last),
        false => Err(format!("--seeds {text} is empty")),
    }
}

/// One run of `plan`; whether it broke a promise.
fn run_one(dir: &Path, plan: &Plan) -> bool {
    let summary = run(dir, plan);
    println!("{summary}");
    let violations = summary.violations();
    for violation in &violations {
        println!("VIOLATION: {violation}");
    }
    !violations.is_empty()
}

/// One run of `plan` per seed, then the table; whether any broke a promise.
fn run_sweep(dir: &Path, plan: &Plan, seeds: RangeInclusive<u64>) -> bool {
    let sweep = sweep(dir, plan, seeds, |run| match &run.outcome {
        Ok(summary) => println!("seed {}:\n{summary}", run.seed),
        Err(panic) => println!("seed {}: the harness panicked: {panic}", run.seed),
    });
    println!("{sweep}");
    sweep.has_violations()
}

fn main() {
    let options = parse(std::env::args().skip(1)).unwrap_or_else(|error| {
        eprintln!("{error}\n{USAGE}");
        std::process::exit(2);
    });
    let dir = options.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-faults-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).expect("the run directory can be created");
    eprintln!("run directory: {}", dir.display());
    let broken = match options.seeds {
        None => run_one(&dir, &options.plan),
        Some(seeds) => run_sweep(&dir, &options.plan, seeds),
    };
    std::process::exit(i32::from(broken));
}
