//! `charter-twins [--schedules N] [--first-seed S] [--seed S] [--threads T] [--fault-ms MS]
//! [--scratch DIR] [--unguarded-votes]`: generates and runs Twins schedules (see the crate's documentation),
//! prints each violation with the seed that replays it and a summary, and exits 1 if any
//! schedule broke a promise. `--seed S` runs that one schedule; `--unguarded-votes` takes the
//! guard off every validator's votes, to show the checks find what the guard prevents.

use charter_twins::{default_scratch, run_schedules, Options, Outcome};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

struct Arguments {
    first_seed: u64,
    schedules: u64,
    threads: usize,
    scratch: std::path::PathBuf,
    options: Options,
}

fn parse() -> Arguments {
    let mut arguments = Arguments {
        first_seed: 0,
        schedules: 1_000,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        scratch: default_scratch(),
        options: Options::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut text = |name: &str| -> String {
            args.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--schedules" => arguments.schedules = number("--schedules", text),
            "--first-seed" => arguments.first_seed = number("--first-seed", text),
            "--seed" => {
                arguments.first_seed = number("--seed", text);
                arguments.schedules = 1;
            }
            "--threads" => arguments.threads = number("--threads", text).max(1) as usize,
            "--fault-ms" => arguments.options.fault_ms = number("--fault-ms", text),
            "--scratch" => arguments.scratch = text("--scratch").into(),
            "--unguarded-votes" => arguments.options.guard_votes = false,
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    arguments
}

fn number(name: &str, mut text: impl FnMut(&str) -> String) -> u64 {
    let value = text(name);
    value
        .parse()
        .unwrap_or_else(|_| fail(&format!("{name} takes a number, not {value:?}")))
}

fn fail(message: &str) -> ! {
    eprintln!("charter-twins: {message}");
    std::process::exit(2);
}

fn main() {
    // `RUST_LOG=info charter-twins --seed N` shows what every process's engine and host did.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let arguments = parse();
    let started = Instant::now();
    let done = AtomicU64::new(0);
    let progress = |outcome: &Outcome| {
        let done = done.fetch_add(1, Ordering::Relaxed) + 1;
        for violation in &outcome.violations {
            println!("seed {}: {violation}", outcome.schedule.seed);
        }
        if done.is_multiple_of(100) || done == arguments.schedules {
            eprintln!(
                "{done}/{} schedules, {:.0} s",
                arguments.schedules,
                started.elapsed().as_secs_f64()
            );
        }
    };
    let outcomes = run_schedules(
        arguments.first_seed,
        arguments.schedules,
        arguments.threads,
        &arguments.options,
        &arguments.scratch,
        &progress,
    );
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    print_summary(&outcomes, minutes);
    let failed = outcomes
        .iter()
        .any(|outcome| !outcome.violations.is_empty());
    std::process::exit(i32::from(failed));
}

fn print_summary(outcomes: &[Outcome], minutes: f64) {
    let failed: Vec<u64> = outcomes
        .iter()
        .filter(|outcome| !outcome.violations.is_empty())
        .map(|outcome| outcome.schedule.seed)
        .collect();
    let faults: usize = outcomes.iter().map(|o| o.schedule.faults.len()).sum();
    let equivocations: usize = outcomes.iter().map(|o| o.twin_equivocations).sum();
    let heights: u64 = outcomes.iter().map(|o| o.highest_committed).sum();
    println!(
        "{} schedules, {} faults, {} heights committed, {} twin equivocations; {} with violations{}",
        outcomes.len(),
        faults,
        heights,
        equivocations,
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" (seeds {failed:?})")
        }
    );
    println!(
        "{:.1} min, {:.0} schedules per minute",
        minutes,
        outcomes.len() as f64 / minutes.max(f64::EPSILON)
    );
}
