//! `charter-bench`: the measurements that need more than criterion, printed side by side from
//! one run so that their ratios mean something on a shared, noisy machine.
//!
//! - this machine's ed25519 verification rate, one at a time and batched;
//! - a live 4-validator cell (`charter localnet`) under signed transfers offered at increasing
//!   rates: committed tx/s, submit→commit p50/p99, CPU and RSS per validator, and idle CPU.

mod cell_load;
mod signatures;

use anyhow::Result;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "charter-bench")]
struct Args {
    /// The `charter` binary to run the cell with (build it with --release).
    #[arg(long, default_value = "target/release/charter")]
    charter: PathBuf,
    /// Where the cell lives; a new directory under the system temp directory when absent.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Offered transfers per second, one stage each.
    #[arg(long, value_delimiter = ',', default_values_t = [100u64, 200, 400, 800, 1600])]
    rates: Vec<u64>,
    #[arg(long, default_value_t = 15)]
    stage_seconds: u64,
    #[arg(long, default_value_t = 20)]
    idle_seconds: u64,
    /// Member passports sending transfers.
    #[arg(long, default_value_t = 64)]
    members: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let progress = |line: &str| eprintln!("… {line}");

    progress("ed25519 verification rates");
    let signatures = signatures::measure(1_000, Duration::from_secs(3));

    let dir = args.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-bench-{}", std::process::id()))
    });
    progress(&format!("cell under load in {}", dir.display()));
    let cell = cell_load::run(
        &cell_load::CellLoadConfig {
            charter: args.charter,
            dir,
            members: args.members,
            rates: args.rates,
            stage: Duration::from_secs(args.stage_seconds),
            idle: Duration::from_secs(args.idle_seconds),
        },
        progress,
    )?;

    println!("== ed25519 verification on this machine");
    println!(
        "one at a time  {:>10.0} /s\nbatched        {:>10.0} /s   ({:.2}x one at a time)",
        signatures.single_per_second,
        signatures.batched_per_second,
        signatures.batched_per_second / signatures.single_per_second
    );
    println!();
    println!("== 4-validator cell, signed transfers through the validators' APIs");
    println!(
        "idle: {:.1}% of one core for all four validators",
        cell.idle_cpu_percent
    );
    println!(
        "{:>8} {:>9} {:>10} {:>9} {:>9} {:>24} {:>24}  refused",
        "offered",
        "submitted",
        "committed",
        "p50",
        "p99",
        "CPU % per validator",
        "RSS MiB per validator"
    );
    let best = cell
        .stages
        .iter()
        .map(|stage| stage.committed_per_second)
        .fold(0.0, f64::max);
    for stage in &cell.stages {
        let millis = |latency: Option<Duration>| {
            latency.map_or("-".to_string(), |latency| {
                format!("{} ms", latency.as_millis())
            })
        };
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|value| format!("{value:.0}"))
                .collect::<Vec<_>>()
                .join("/")
        };
        println!(
            "{:>8} {:>9} {:>10.0} {:>9} {:>9} {:>24} {:>24}  {:?}",
            stage.offered_per_second,
            stage.submitted,
            stage.committed_per_second,
            millis(stage.p50),
            millis(stage.p99),
            list(&stage.cpu_percent),
            list(&stage.rss_mib),
            stage.refused
        );
    }
    println!();
    println!("== ratios");
    println!(
        "best committed tx/s is {:.4} of one core's single ed25519 verifications per second, {:.4} of batched",
        best / signatures.single_per_second,
        best / signatures.batched_per_second
    );
    Ok(())
}
