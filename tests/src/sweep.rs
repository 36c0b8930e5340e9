//! Seed sweeps: the fault harness once per seed, one seed after another, each in a directory of
//! its own (`seed-N`), and a table of what each run found. A run that panics is a row too, so
//! one broken seed does not hide the others.

use crate::faults::{median_and_max, run, Fault, Plan, Summary};
use std::fmt;
use std::ops::RangeInclusive;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

/// One seed's run: its summary, or what the harness panicked with.
pub struct SeedRun {
    pub seed: u64,
    pub outcome: Result<Summary, String>,
}

impl SeedRun {
    /// The promises this seed's run broke; a panic counts as one.
    pub fn violations(&self) -> Vec<String> {
        match &self.outcome {
            Ok(summary) => summary.violations(),
            Err(panic) => vec![format!("the harness panicked: {panic}")],
        }
    }
}

/// Every seed's run, in order.
pub struct Sweep {
    pub runs: Vec<SeedRun>,
}

impl Sweep {
    pub fn has_violations(&self) -> bool {
        self.runs.iter().any(|run| !run.violations().is_empty())
    }
}

/// Runs `plan` for each of `seeds` under `dir`, calling `finished` after each.
pub fn sweep(
    dir: &Path,
    plan: &Plan,
    seeds: RangeInclusive<u64>,
    mut finished: impl FnMut(&SeedRun),
) -> Sweep {
    let runs = seeds
        .map(|seed| {
            let run = run_seed(dir, plan, seed);
            finished(&run);
            run
        })
        .collect();
    Sweep { runs }
}

fn run_seed(dir: &Path, plan: &Plan, seed: u64) -> SeedRun {
    let dir = dir.join(format!("seed-{seed}"));
    eprintln!("seed {seed} in {}", dir.display());
    let plan = Plan {
        seed,
        ..plan.clone()
    };
    // A panic unwinds through the cells, whose drops stop their processes and networks.
    let outcome = std::fs::create_dir_all(&dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))
        .and_then(|()| {
            panic::catch_unwind(AssertUnwindSafe(|| run(&dir, &plan))).map_err(panic_message)
        });
    SeedRun { seed, outcome }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => (payload.downcast_ref::<&str>())
            .map_or_else(|| "a panic without a message".into(), |s| s.to_string()),
    }
}

const HEADER: [&str; 16] = [
    "seed",
    "kill",
    "crash",
    "twin",
    "isolate",
    "split",
    "degrade",
    "copy",
    "acked",
    "lost",
    "twice",
    "conflicts",
    "stuck",
    "restart med/max s",
    "heal med/max s",
    "verdict",
];

/// A table row: the seed, its faults by kind, what the checker counted, and the seconds from a
/// restart, and from a heal, to the node committing past the height the cell had then.
fn row(run: &SeedRun) -> Vec<String> {
    let mut cells = vec![run.seed.to_string()];
    let Ok(summary) = &run.outcome else {
        cells.resize(HEADER.len() - 1, "-".into());
        cells.push("panicked".into());
        return cells;
    };
    for fault in Fault::ALL {
        cells.push(summary.faults.get(&fault).copied().unwrap_or(0).to_string());
    }
    cells.extend(
        [
            summary.acknowledged,
            summary.lost.len(),
            summary.committed_twice.len(),
            summary.conflicting_heights.len(),
            summary.stuck_validators(),
        ]
        .map(|count| count.to_string()),
    );
    let recovery = |times: &[f64]| {
        median_and_max(times).map_or("-".into(), |(median, max)| format!("{median:.1}/{max:.1}"))
    };
    cells.push(recovery(&summary.recoveries));
    cells.push(recovery(&summary.heal_recoveries));
    let verdict = match summary.violations().is_empty() {
        true => "ok",
        false => "VIOLATION",
    };
    cells.push(verdict.into());
    cells
}

impl fmt::Display for Sweep {
    /// The table, right-aligned columns, then every violation by seed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header: Vec<String> = HEADER.iter().map(ToString::to_string).collect();
        let rows: Vec<Vec<String>> = (self.runs.iter()).map(row).collect();
        let mut widths: Vec<usize> = header.iter().map(String::len).collect();
        for cells in &rows {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.len());
            }
        }
        for cells in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = (cells.iter().zip(&widths))
                .map(|(cell, width)| format!("{cell:>width$}"))
                .collect();
            writeln!(f, "{}", line.join("  "))?;
        }
        for run in &self.runs {
            for violation in run.violations() {
                writeln!(f, "seed {}: VIOLATION: {violation}", run.seed)?;
            }
        }
        Ok(())
    }
}
