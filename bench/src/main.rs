//! `charter-bench`: the measurements that need more than criterion, printed side by side from
//! one run so that their ratios mean something on a shared, noisy machine.
//!
//! - this machine's ed25519 verification rate, one at a time and batched;
//! - the consensus engines alone — Malachite with Charter's host, and hotstuff_rs 0.4 — four
//!   validators each, ordering blocks of the same size for an application that does nothing;
//! - a live 4-validator cell (`charter localnet`) under signed transfers offered at increasing
//!   rates: committed tx/s, submit→commit p50/p99, CPU and RSS per validator, and idle CPU;
//! - checkpoint certificates: BLS sign and aggregate costs, verifying one certificate of 10, 100
//!   and 1,000 cells of 100 validators, and a live 3-cell federation's time from a
//!   checkpoint's block to its final certificate.

mod catch_up;
mod cell_load;
mod certificates;
mod federation_epoch;
mod federation_sim;
mod fixtures;
mod noop;
mod noop_hotstuff;
mod noop_malachite;
mod signatures;

use anyhow::Result;
use catch_up::FILL_RATE;
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
    /// Offered transfers per second, one stage each. A stage counts what commits within it, so
    /// only a rate above what the cell commits shows its limit: the highest default is above.
    #[arg(long, value_delimiter = ',', default_values_t = [500u64, 1000, 2000, 4000, 8000, 9000])]
    rates: Vec<u64>,
    #[arg(long, default_value_t = 15)]
    stage_seconds: u64,
    #[arg(long, default_value_t = 20)]
    idle_seconds: u64,
    /// How many blocks behind the cell a validator restored from a backup is, timed catching
    /// up (0: no catch-up measurement).
    #[arg(long, default_value_t = 1000)]
    catch_up_blocks: u64,
    /// Transfers per second the others commit while it catches up.
    #[arg(long, default_value_t = 1000)]
    catch_up_rate: u64,
    /// Member passports sending transfers.
    #[arg(long, default_value_t = 256)]
    members: usize,
    /// Write each stage's transactions (sent, answered, committed) and blocks (height, round,
    /// seen) to `trace-RATE.tsv` in the cell's directory, for finding what holds the slowest.
    #[arg(long)]
    trace: bool,
    /// Transactions per block in the engines' no-op runs.
    #[arg(long, default_value_t = 500)]
    noop_block_size: usize,
    #[arg(long, default_value_t = 15)]
    noop_seconds: u64,
    /// Cell counts (of 100 validators each) for certificate verification.
    #[arg(long, value_delimiter = ',', default_values_t = [10usize, 100, 1000])]
    certificate_cells: Vec<usize>,
    /// Epochs of the live federation to time from block to final certificate.
    #[arg(long, default_value_t = 5)]
    finality_epochs: u64,
    /// Cell counts (of 100 validators each) of the federation simulation.
    #[arg(long, value_delimiter = ',', default_values_t = [10usize, 100, 1000])]
    simulation_cells: Vec<usize>,
    /// Epochs each simulation runs.
    #[arg(long, default_value_t = 3)]
    simulation_epochs: u64,
    /// The simulation's seed: the same seed gives the same schedule and digest.
    #[arg(long, default_value_t = 1)]
    simulation_seed: u64,
    /// The probability that one delivery to one subscriber is lost in the simulation.
    #[arg(long, default_value_t = 0.01)]
    simulation_loss: f64,
    /// Validators the simulation runs with the node's own code (one per cell).
    #[arg(long, default_value_t = 4)]
    simulation_sampled: usize,
    /// Cells each of them follows besides its own.
    #[arg(long, default_value_t = 32)]
    simulation_follows: usize,
    /// Run only the federation simulation.
    #[arg(long, conflicts_with_all = ["certificates_only", "cell_only"])]
    simulation_only: bool,
    /// Measure only the certificates' signing, aggregation and verification costs: no
    /// processes, nothing else.
    #[arg(long)]
    certificates_only: bool,
    /// Measure only this machine's ed25519 rates and the cell under load.
    #[arg(long, conflicts_with = "certificates_only")]
    cell_only: bool,
    /// Another `charter` binary (an earlier build) to put under the same load first, in the
    /// same run, for a before/after ratio.
    #[arg(long)]
    baseline_charter: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let progress = |line: &str| eprintln!("… {line}");

    if args.simulation_only {
        let dir = data_dir(&args);
        let simulation = simulate(&args, &dir, progress)?;
        print_simulation(&args, &simulation);
        return Ok(());
    }
    if args.certificates_only {
        progress("checkpoint certificate costs");
        print_certificate_costs(&certificates::measure(&args.certificate_cells)?);
        return Ok(());
    }
    progress("ed25519 verification rates");
    let signatures = signatures::measure(1_000, Duration::from_secs(3));
    let dir = data_dir(&args);
    let engines = (!args.cell_only)
        .then(|| measure_engines(&args, &dir, progress))
        .transpose()?;
    let federation = (!args.cell_only)
        .then(|| measure_federation(&args, &dir, progress))
        .transpose()?;
    let simulation = (!args.cell_only)
        .then(|| simulate(&args, &dir, progress))
        .transpose()?;
    let baseline = (args.baseline_charter.as_ref())
        .map(|charter| measure_cell(&args, charter, &dir.join("baseline-cell"), progress))
        .transpose()?;
    let cell = measure_cell(&args, &args.charter, &dir.join("cell"), progress)?;

    print_signatures(&signatures);
    if let Some(engines) = &engines {
        print_engines(args.noop_block_size, engines);
    }
    if let Some(baseline) = &baseline {
        let charter = args
            .baseline_charter
            .as_ref()
            .expect("a baseline has its binary");
        println!("baseline: {}", charter.display());
        print_cell_load(baseline);
        println!("this build: {}", args.charter.display());
    }
    let best = print_cell_load(&cell);
    if let Some((certificates, finality)) = &federation {
        println!();
        print_certificate_costs(certificates);
        println!(
            "3-cell federation, checkpoint block → final certificate at the same node, {} epochs: median {:?}, max {:?}",
            finality.len(),
            finality[finality.len() / 2],
            finality[finality.len() - 1]
        );
    }
    if let Some(simulation) = &simulation {
        println!();
        print_simulation(&args, simulation);
    }
    print_ratios(best, cell.validators, &signatures, engines.as_ref());
    if let Some(baseline) = &baseline {
        println!(
            "cell's best committed tx/s, this build / baseline: {:.2}",
            best / baseline.best_committed_per_second().max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

/// Where the bench keeps its files: `--dir`, or a new directory under the system's temp
/// directory.
fn data_dir(args: &Args) -> PathBuf {
    (args.dir.clone()).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-bench-{}", std::process::id()))
    })
}

/// The federation simulation at each size `args` gives, after one cell's aggregation with real
/// signatures.
fn simulate(
    args: &Args,
    dir: &std::path::Path,
    progress: impl Fn(&str),
) -> Result<(federation_sim::InCell, Vec<federation_sim::SimRun>)> {
    let validators = fixtures::Validators::new()?;
    progress("one cell's aggregation with real signatures");
    let in_cell = federation_sim::in_cell_aggregation(&validators)?;
    let runs = (args.simulation_cells.iter())
        .map(|cells| {
            progress(&format!("federation simulation, {cells} cells"));
            let config = federation_sim::SimConfig {
                cells: *cells,
                epochs: args.simulation_epochs,
                sampled: args.simulation_sampled,
                follows: args.simulation_follows,
                loss: args.simulation_loss,
                seed: args.simulation_seed,
                dir: dir.join(format!("simulation-{cells}")),
            };
            federation_sim::run(&config, &validators)
        })
        .collect::<Result<_>>()?;
    Ok((in_cell, runs))
}

/// A live cell of `charter` in `dir` under the stages of load `args` gives.
fn measure_cell(
    args: &Args,
    charter: &std::path::Path,
    dir: &std::path::Path,
    progress: impl Fn(&str),
) -> Result<cell_load::CellLoadResult> {
    progress(&format!(
        "cell of {} under load in {}",
        charter.display(),
        dir.display()
    ));
    cell_load::run(
        &cell_load::CellLoadConfig {
            charter: charter.to_path_buf(),
            dir: dir.to_path_buf(),
            members: args.members,
            rates: args.rates.clone(),
            stage: Duration::from_secs(args.stage_seconds),
            idle: Duration::from_secs(args.idle_seconds),
            catch_up_blocks: args.catch_up_blocks,
            catch_up_rate: args.catch_up_rate,
            trace: args.trace,
        },
        progress,
    )
}

/// Malachite with Charter's host, then hotstuff_rs, each ordering no-op blocks.
fn measure_engines(
    args: &Args,
    dir: &std::path::Path,
    progress: impl Fn(&str),
) -> Result<[noop::EngineRun; 2]> {
    let window = Duration::from_secs(args.noop_seconds);
    progress("Malachite with a no-op application");
    let malachite = noop_malachite::run(args.noop_block_size, window, &dir.join("noop"))?;
    progress("hotstuff_rs with a no-op application");
    let hotstuff = noop_hotstuff::run(args.noop_block_size, window)?;
    Ok([malachite, hotstuff])
}

/// Certificate costs, and a live 3-cell federation's times to finality, sorted.
fn measure_federation(
    args: &Args,
    dir: &std::path::Path,
    progress: impl Fn(&str),
) -> Result<(certificates::CertificateCosts, Vec<Duration>)> {
    progress("checkpoint certificate costs");
    let costs = certificates::measure(&args.certificate_cells)?;
    progress("a 3-cell federation, from checkpoint block to final certificate");
    let federation = dir.join("federation");
    let mut finality =
        certificates::time_to_finality(&args.charter, &federation, args.finality_epochs)?;
    finality.sort();
    Ok((costs, finality))
}

fn print_signatures(signatures: &signatures::SignatureRates) {
    println!("== ed25519 verification on this machine");
    println!(
        "one at a time       {:>10.0} /s\nbatched             {:>10.0} /s   ({:.2}x one at a time)",
        signatures.single_per_second,
        signatures.batched_per_second,
        signatures.batched_per_second / signatures.single_per_second
    );
    for (size, rate) in &signatures.by_batch_size {
        println!(
            "in batches of {size:<5} {rate:>10.0} /s   ({:.2}x one at a time)",
            rate / signatures.single_per_second
        );
    }
    println!();
}

fn print_engines(block_size: usize, [malachite, hotstuff]: &[noop::EngineRun; 2]) {
    println!(
        "== consensus engines alone: 4 validators, no-op application, {block_size} transactions per block"
    );
    for (name, run) in [("Malachite 0.5", malachite), ("hotstuff_rs 0.4", hotstuff)] {
        println!(
            "{name:<16} {:>7.1} blocks/s {:>9.0} tx/s   ({} blocks in {:.1} s)",
            run.blocks_per_second(),
            run.transactions_per_second(),
            run.blocks,
            run.elapsed.as_secs_f64()
        );
    }
    println!();
}

/// The cell's best rate beside its bounds, from this run: every validator verifies every
/// transaction's signature once, so with `validators` sharing this machine's cores the cell
/// cannot commit more than cores × batched verifications per second ÷ validators.
fn print_ratios(
    best: f64,
    validators: usize,
    signatures: &signatures::SignatureRates,
    engines: Option<&[noop::EngineRun; 2]>,
) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let bound = cores as f64 * signatures.batched_per_second / validators.max(1) as f64;
    let ratio = |a: f64, b: f64| a / b.max(f64::MIN_POSITIVE);
    println!();
    println!("== ratios");
    if let Some([malachite, hotstuff]) = engines {
        println!(
            "Malachite / hotstuff_rs blocks per second (no-op): {:.2}",
            ratio(malachite.blocks_per_second(), hotstuff.blocks_per_second())
        );
        println!(
            "cell's best committed tx/s / Malachite no-op tx/s: {:.3}",
            ratio(best, malachite.transactions_per_second())
        );
    }
    println!(
        "cell's best committed tx/s / the verification bound ({cores} cores × {:.0} batched verifications/s ÷ {validators} validators = {bound:.0} tx/s): {:.3}",
        signatures.batched_per_second,
        ratio(best, bound)
    );
}

fn print_certificate_costs(certificates: &certificates::CertificateCosts) {
    println!("== checkpoint certificates (BLS12-381, 100 validators per cell)");
    println!(
        "sign {:?} per signature; aggregate one cell's 100 signatures {:?}",
        certificates.sign, certificates.aggregate_cell
    );
    for costs in &certificates.verify {
        println!(
            "{:>5} cells ({:>6} keys): learn the sets {:?}; verify a certificate all signed {:?}, \
             67 of 100 per cell signed {:?}; with every key checked on the verify {:?} ({:.0}× the cached)",
            costs.cells,
            costs.cells * 100,
            costs.learn_sets,
            costs.all_signed,
            costs.quorum_signed,
            costs.keys_checked_per_verify,
            costs.keys_checked_per_verify.as_secs_f64() / costs.all_signed.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
    let batch = &certificates.batch;
    let each = |total: Duration| total / batch.certificates as u32;
    println!(
        "{} certificates of {} cells (67 of 100 signed per cell), different checkpoints: one by one \
         {:?} each, in one batch {:?} each ({:.2}× faster)",
        batch.certificates,
        batch.cells,
        each(batch.one_by_one),
        each(batch.batched),
        batch.one_by_one.as_secs_f64() / batch.batched.as_secs_f64().max(f64::MIN_POSITIVE)
    );
    print_epoch_work(&certificates.epoch);
    let signatures = &certificates.signatures;
    let each = |total: Duration| total / signatures.signatures as u32;
    println!(
        "{} validators' signatures on one checkpoint: one by one {:?} each, in one batch {:?} \
         each ({:.2}× faster)",
        signatures.signatures,
        each(signatures.one_by_one),
        each(signatures.batched),
        signatures.one_by_one.as_secs_f64()
            / signatures.batched.as_secs_f64().max(f64::MIN_POSITIVE)
    );
}

/// One validator's federation work in an epoch per federation size, and its growth per cell
/// between the two largest sizes.
fn print_epoch_work(work: &[federation_epoch::EpochWork]) {
    println!(
        "one validator's federation work in an epoch (its node's own code, 100 validators per \
         cell; the validator of cell 0 with the most checkpoints to aggregate):"
    );
    for epoch in work {
        println!(
            "{:>6} cells (committee {:>2}, k {:>2}, following {:>2}): {:>5} messages, {:>9} bytes \
             received, {:>7} sent; aggregates {} checkpoints; {:.3} s handling, of which {:.3} s \
             the followed cells' certificates",
            epoch.cells,
            epoch.committee,
            epoch.k,
            epoch.followed,
            epoch.messages,
            epoch.bytes_received,
            epoch.bytes_sent,
            epoch.aggregated,
            epoch.handling.as_secs_f64(),
            epoch.certificates.as_secs_f64(),
        );
    }
    if let [.., smaller, larger] = work {
        let added = (larger.cells - smaller.cells) as f64;
        println!(
            "       from {} to {} cells, per added cell: {:.0} bytes, {:.2} ms",
            smaller.cells,
            larger.cells,
            (larger.bytes_received as f64 - smaller.bytes_received as f64) / added,
            (larger.handling.as_secs_f64() - smaller.handling.as_secs_f64()) * 1e3 / added,
        );
    }
}

/// The simulation's runs, one line each, and each figure's growth with the cell count.
fn print_simulation(
    args: &Args,
    (in_cell, runs): &(federation_sim::InCell, Vec<federation_sim::SimRun>),
) {
    println!(
        "== federation simulation: seed {}, {} epochs, 50–150 ms a hop, {:.1}% of deliveries lost; \
         {} validators (one per cell, the first the busiest aggregator of cell 0) run the node's \
         own finality, following {} cells besides their own; the others are modelled",
        args.simulation_seed,
        args.simulation_epochs,
        args.simulation_loss * 100.0,
        args.simulation_sampled,
        args.simulation_follows,
    );
    println!(
        "one cell's aggregation with real signatures: 100 signed in {:?}, 67 aggregated in {:?}, \
         the same bytes as signing with their summed keys (which the simulation does)",
        in_cell.signed, in_cell.aggregated
    );
    println!(
        "per sampled validator and epoch, the busiest (and the mean): messages, KB received, KB sent, \
         signatures / aggregates / certificates taken, CPU-s measured, CPU-s the model charged; \
         block → final certificate at the sampled validators following the cell"
    );
    for run in runs {
        print_simulation_run(run);
    }
    for pair in runs.windows(2) {
        let [smaller, larger] = pair else { continue };
        let slope = |figure: fn(&federation_sim::SimRun) -> f64| {
            let growth = figure(larger) / figure(smaller).max(f64::MIN_POSITIVE);
            growth.ln() / (larger.cells as f64 / smaller.cells as f64).ln()
        };
        println!(
            "  from {} to {} cells, each figure grows as cells^x with x: messages {:.2}, bytes \
             received {:.2}, CPU-s {:.2}, finality median {:.2}, slowest {:.2}",
            smaller.cells,
            larger.cells,
            slope(|run| busiest(run, |stats| stats.messages as f64)),
            slope(|run| busiest(run, |stats| stats.bytes_received as f64)),
            slope(|run| busiest(run, |stats| stats.cpu.as_secs_f64())),
            slope(|run| median(&run.finality)),
            slope(|run| run.finality.last().copied().unwrap_or(0) as f64),
        );
    }
}

fn print_simulation_run(run: &federation_sim::SimRun) {
    let per_epoch = |figure: &dyn Fn(&federation_sim::NodeStats) -> f64| {
        let (busiest, mean) = busiest_and_mean_per_epoch(run, figure);
        format!("{busiest:.0} ({mean:.0})")
    };
    let seconds = |figure: &dyn Fn(&federation_sim::NodeStats) -> f64| {
        let (busiest, mean) = busiest_and_mean_per_epoch(run, figure);
        format!("{busiest:.3} ({mean:.3})")
    };
    let ms = |micros: f64| micros / 1e3;
    println!(
        "{:>6} cells (committee {}, k {}): {} messages, {} KB in, {} KB out, {} / {} / {} taken, \
         {} CPU-s, {} modelled; finality median {:.0} ms, slowest {:.0} ms over {} (not final: {}); \
         {} deliveries lost; digest {}; {:.0} s wall",
        run.cells,
        run.committee,
        run.k,
        per_epoch(&|stats| stats.messages as f64),
        per_epoch(&|stats| stats.bytes_received as f64 / 1e3),
        per_epoch(&|stats| stats.bytes_sent as f64 / 1e3),
        per_epoch(&|stats| stats.signatures_taken as f64),
        per_epoch(&|stats| stats.aggregates_taken as f64),
        per_epoch(&|stats| stats.certificates_taken as f64),
        seconds(&|stats| stats.cpu.as_secs_f64()),
        seconds(&|stats| stats.modeled as f64 / 1e6),
        ms(median(&run.finality)),
        ms(run.finality.last().copied().unwrap_or(0) as f64),
        run.finality.len(),
        run.not_final,
        run.lost,
        run.digest,
        run.wall.as_secs_f64(),
    );
}

/// A figure per epoch at the run's busiest sampled validator, and its mean over them.
fn busiest_and_mean_per_epoch(
    run: &federation_sim::SimRun,
    figure: &dyn Fn(&federation_sim::NodeStats) -> f64,
) -> (f64, f64) {
    let epochs = run.epochs as f64;
    let total: f64 = run.nodes.iter().map(|(_, _, _, stats)| figure(stats)).sum();
    let mean = total / run.nodes.len().max(1) as f64;
    (busiest(run, figure) / epochs, mean / epochs)
}

/// The largest of a figure over a run's sampled validators.
fn busiest(
    run: &federation_sim::SimRun,
    figure: impl Fn(&federation_sim::NodeStats) -> f64,
) -> f64 {
    (run.nodes.iter())
        .map(|(_, _, _, stats)| figure(stats))
        .fold(0.0, f64::max)
}

fn median(sorted: &[u64]) -> f64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or(0) as f64
}

/// The cell's stages, one line each; returns the best committed rate.
fn print_cell_load(cell: &cell_load::CellLoadResult) -> f64 {
    println!(
        "== {}-validator cell, signed transfers through the validators' APIs in batch requests \
         (signed before each stage)",
        cell.validators
    );
    println!(
        "idle: {:.1}% of one core for all four validators",
        cell.idle_cpu_percent
    );
    println!(
        "{:>8} {:>9} {:>8} {:>10} {:>9} {:>9} {:>9} {:>24} {:>24} {:>14}  refused",
        "offered",
        "submitted",
        "retried",
        "committed",
        "blocks/s",
        "p50",
        "p99",
        "CPU % per validator",
        "RSS MiB per validator",
        "generator CPU %"
    );
    let best = cell.best_committed_per_second();
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
            "{:>8} {:>9} {:>8} {:>10.0} {:>9.1} {:>9} {:>9} {:>24} {:>24} {:>14.0}  {:?}",
            stage.offered_per_second,
            stage.submitted,
            stage.retried,
            stage.committed_per_second,
            stage.blocks_per_second,
            millis(stage.p50),
            millis(stage.p99),
            list(&stage.cpu_percent),
            list(&stage.rss_mib),
            stage.generator_cpu_percent,
            stage.refused
        );
    }
    if let Some(catch_up) = &cell.catch_up {
        let rate = catch_up.blocks_per_second;
        println!(
            "catch-up: a validator {} blocks behind took its first block {:.1} s after its \
             restart, then {rate:.1} blocks/s. The cell made those blocks at {:.1} blocks/s \
             ({FILL_RATE} tx/s, every validator up): {:.1}x; it committed {:.2} blocks/s \
             meanwhile: {:.1}x",
            catch_up.behind,
            catch_up.first_block_after.as_secs_f64(),
            catch_up.made_blocks_per_second,
            rate / catch_up.made_blocks_per_second.max(f64::MIN_POSITIVE),
            catch_up.cell_blocks_per_second,
            rate / catch_up.cell_blocks_per_second.max(f64::MIN_POSITIVE)
        );
    }
    best
}
