//! `charter localnet`: a whole cell — or a federation of cells — as separate `charter run`
//! processes on 127.0.0.1, with the layout in `DIR/localnet.json`, progress as blocks commit
//! (and, in a federation, as checkpoints become final), and a clean stop on Ctrl-C.

use crate::localnet_view::{ValidatorView, ValidatorViews, ANSWER_WITHIN};
use anyhow::{Context, Result};
use charter_client::ApiClient;
use charter_devnet::agents::live::LiveStats;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_devnet::localnet::{allocate, loopback, write_config, LocalValidator};
use charter_ledger::state::CellParams;
use charter_ledger::{CellId, Genesis};
use charter_node::stop_signals::StopSignals;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// Where genesis, keys, configs, data and logs go; a new directory under the system temp
    /// directory when absent. It must not hold a localnet already: nothing is overwritten.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Validators per cell.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Cells: more than one makes a federation whose checkpoints become final across cells.
    #[arg(long, default_value_t = 1)]
    cells: u32,
    /// Cells whose quorums make a checkpoint final (default: a majority of the cells).
    #[arg(long)]
    k: Option<usize>,
    /// Cells on each checkpoint's committee, from which its other `k − 1` cells come
    /// (default: every other cell, up to 32).
    #[arg(long)]
    committee: Option<usize>,
    /// Blocks per epoch (default: the genesis default for one cell, 10 for a federation, so
    /// that checkpoints come every few seconds).
    #[arg(long)]
    epoch_length: Option<u64>,
    /// Member passports in the genesis (after the validators and 3 arbiters), each with a
    /// balance, for agents and load generators.
    #[arg(long, default_value_t = 16)]
    members: usize,
    /// Seeds the genesis keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print a progress line every this many heights.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    report_every: u64,
    /// Transactions the demo agents send per round (issuing passports, bonding, paying through
    /// escrow, disputing and settling); 0 runs the validators alone.
    #[arg(long, default_value_t = 32)]
    agents_batch: usize,
}

/// With nothing else to report, a progress line this often all the same.
const QUIET_LINE_EVERY: Duration = Duration::from_secs(10);

/// One validator process of the localnet.
struct Started {
    cell: u32,
    node: LocalValidator,
}

/// The localnet on disk, before any process starts: geneses, keys and every validator's config.
struct Layout {
    dir: PathBuf,
    federated: bool,
    epoch: u64,
    geneses: Vec<Genesis>,
    /// Each cell's validators.
    cells: Vec<Vec<LocalValidator>>,
    /// Every validator, cell by cell: process `i` runs `started[i]`.
    started: Vec<Started>,
}

/// The validator processes the localnet started.
struct Running {
    children: Vec<Child>,
}

/// The agents acting on cell 0 through its validators' APIs, when asked for.
struct Agents {
    stats: Arc<Mutex<LiveStats>>,
    stop: Arc<AtomicBool>,
    running: bool,
}

pub fn run(args: LocalnetArgs) -> Result<()> {
    let layout = write_layout(&args)?;
    // Listening before any validator starts, so that an interrupt at any point stops them all.
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut stop = {
        let _inside = signals.enter();
        StopSignals::listen()?
    };
    let mut running = start_validators(&layout)?;
    let agents = start_agents(&args, &layout)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&interrupted);
    std::thread::spawn(move || {
        signals.block_on(stop.recv());
        stopping.store(true, Ordering::SeqCst);
    });
    let followed = follow(&args, &layout, &mut running, &agents, &interrupted);
    agents.stop.store(true, Ordering::SeqCst);
    stop_validators(&mut running.children);
    println!("stopped; data and logs remain in {}", layout.dir.display());
    followed
}

/// Writes every cell's dev genesis and keys, the federation genesis when there are several
/// cells, and each validator's config.
fn write_layout(args: &LocalnetArgs) -> Result<Layout> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-localnet-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let federated = args.cells > 1;
    let epoch = args.epoch_length.unwrap_or(if federated {
        10
    } else {
        CellParams::default().epoch_length
    });
    // A lone cell lives in DIR itself; a federation's cells in DIR/cell-<id>.
    let cell_dirs: Vec<PathBuf> = (0..args.cells)
        .map(|cell| match federated {
            true => dir.join(format!("cell-{cell}")),
            false => dir.clone(),
        })
        .collect();
    let mut geneses = Vec::new();
    let mut cells = Vec::new();
    for (cell, path) in cell_dirs.iter().enumerate() {
        std::fs::create_dir_all(path)?;
        let config = DevCellConfig::sized(
            CellId(cell as u32),
            args.validators,
            args.members,
            Some(epoch),
        );
        crate::keys_command::dev_genesis(args.seed, &config, path)?;
        geneses.push(serde_json::from_str(&std::fs::read_to_string(
            path.join("genesis.json"),
        )?)?);
        cells.push(allocate(path, &loopback(args.validators))?);
    }
    let federation_genesis = if federated {
        let k = args.k.unwrap_or(args.cells as usize / 2 + 1);
        let cell_geneses: Vec<PathBuf> = cell_dirs
            .iter()
            .map(|path| path.join("genesis.json"))
            .collect();
        crate::federation_command::write_federation_genesis(
            k,
            args.committee,
            &cell_geneses,
            &dir.join("federation.json"),
        )?;
        Some("../federation.json")
    } else {
        None
    };
    let started = write_configs(&cells, federation_genesis)?;
    Ok(Layout {
        dir,
        federated,
        epoch,
        geneses,
        cells,
        started,
    })
}

/// Each validator's config: its own cell's validators as consensus peers, everyone on the
/// gossip mesh.
fn write_configs(
    cells: &[Vec<LocalValidator>],
    federation_genesis: Option<&str>,
) -> Result<Vec<Started>> {
    let everyone: Vec<LocalValidator> = cells.iter().flatten().cloned().collect();
    let mut started = Vec::new();
    for (cell, nodes) in cells.iter().enumerate() {
        let others: Vec<LocalValidator> = everyone
            .iter()
            .filter(|node| !nodes.iter().any(|own| own.config == node.config))
            .cloned()
            .collect();
        for node in nodes {
            write_config(node, nodes, &others, federation_genesis)?;
            started.push(Started {
                cell: cell as u32,
                node: node.clone(),
            });
        }
    }
    Ok(started)
}

/// Starts every validator as a `charter run` process, reading the blocks each commits, and
/// writes `DIR/localnet.json`.
fn start_validators(layout: &Layout) -> Result<Running> {
    let charter = std::env::current_exe().context("locating the charter binary")?;
    let mut children: Vec<Child> = Vec::new();
    let mut nodes = Vec::new();
    for Started { cell, node } in layout.started.iter() {
        let log = std::fs::File::create(&node.log)?;
        // Its log holds what it prints too: every committed block, then its tracing.
        let child = Command::new(&charter)
            .args(["run", "--config"])
            .arg(&node.config)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting validator {} of cell {cell}", node.index))?;
        println!(
            "started cell {cell} validator {} (pid {}) on {}",
            node.index,
            child.id(),
            node.consensus
        );
        let genesis = &layout.geneses[*cell as usize];
        nodes.push(json!({
            "cell": genesis.cell,
            "validator": genesis.passport_id(node.index).to_hex(),
            "api": node.api,
            "consensus": node.consensus,
            "gossip": node.gossip,
            "pid": child.id(),
            "config": node.config,
            "log": node.log,
        }));
        children.push(child);
    }
    let layout_path = layout.dir.join("localnet.json");
    std::fs::write(
        &layout_path,
        serde_json::to_string_pretty(&json!({ "dir": layout.dir, "nodes": nodes }))?,
    )?;
    println!(
        "layout in {}; Ctrl-C stops every validator",
        layout_path.display()
    );
    let scrape = write_prometheus_config(layout)?;
    println!(
        "metrics: prometheus --config.file={} (dashboard: config/grafana/charter-dashboard.json)",
        scrape.display()
    );
    println!(
        "explore the cell: curl {}/v1/status (also /v1/blocks/latest, /v1/openapi.json, /metrics{})",
        layout.cells[0][0].api,
        if layout.federated { ", /v1/federation" } else { "" }
    );
    Ok(Running { children })
}

/// Writes `DIR/prometheus.yml`: a Prometheus scrape configuration for every validator's
/// `/metrics`, each target labelled with its cell, for the dashboard in `config/grafana/`.
fn write_prometheus_config(layout: &Layout) -> Result<PathBuf> {
    let mut config = String::from(
        "# Written by charter localnet: every validator's /metrics.\n\
         global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n\
         scrape_configs:\n  - job_name: charter\n    static_configs:\n",
    );
    for started in &layout.started {
        let address = started.node.api.trim_start_matches("http://");
        config.push_str(&format!(
            "      - targets: [\"{address}\"]\n        labels: {{ charter_cell: \"{}\" }}\n",
            started.cell
        ));
    }
    let path = layout.dir.join("prometheus.yml");
    std::fs::write(&path, config).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Starts the simulated agents on cell 0, unless `--agents-batch 0`.
fn start_agents(args: &LocalnetArgs, layout: &Layout) -> Result<Agents> {
    let agents = Agents {
        stats: Arc::new(Mutex::new(LiveStats::default())),
        stop: Arc::new(AtomicBool::new(false)),
        running: args.agents_batch > 0,
    };
    if !agents.running {
        return Ok(agents);
    }
    let cell = DevCell::new(
        args.seed,
        DevCellConfig::sized(CellId(0), args.validators, args.members, Some(layout.epoch)),
    );
    let apis = layout.cells[0]
        .iter()
        .map(|node| ApiClient::new(&node.api))
        .collect::<Result<Vec<_>, _>>()?;
    let (stats, stop) = (Arc::clone(&agents.stats), Arc::clone(&agents.stop));
    let (batch, seed) = (args.agents_batch, args.seed);
    std::thread::spawn(move || {
        charter_devnet::agents::live::drive(cell, apis, batch, seed, stats, stop)
    });
    Ok(agents)
}

/// Prints a progress line every `--report-every` heights, at once when a validator goes down,
/// starts catching up or comes back in step, and every few seconds whatever happens, until
/// interrupted or until every validator has exited (cleanly: a stop; otherwise: an error).
fn follow(
    args: &LocalnetArgs,
    layout: &Layout,
    running: &mut Running,
    agents: &Agents,
    interrupted: &AtomicBool,
) -> Result<()> {
    let apis: Vec<String> = (layout.started.iter())
        .map(|started| started.node.api.clone())
        .collect();
    let stop_watching = Arc::new(AtomicBool::new(false));
    let views = ValidatorViews::watch(&apis, Arc::clone(&stop_watching))?;
    let followed = print_progress(args, layout, running, agents, interrupted, &views);
    stop_watching.store(true, Ordering::SeqCst);
    followed
}

/// The last progress line printed: its height, what each validator was, and when.
struct Printed {
    height: u64,
    kinds: Vec<&'static str>,
    at: Instant,
}

fn print_progress(
    args: &LocalnetArgs,
    layout: &Layout,
    running: &mut Running,
    agents: &Agents,
    interrupted: &AtomicBool,
    views: &ValidatorViews,
) -> Result<()> {
    let mut printed: Option<Printed> = None;
    while !interrupted.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(250));
        let now = views.now();
        let answering = now.iter().any(|view| view.height().is_some());
        match all_exited(&mut running.children) {
            // Ctrl-C in a terminal reaches the validators too, and they stop cleanly.
            Some(true) if !answering => return Ok(()),
            Some(false) if !answering => anyhow::bail!(
                "every validator has exited; see the logs in {}",
                layout.dir.display()
            ),
            _ => {}
        }
        let Some(top) = now.iter().filter_map(ValidatorView::height).max() else {
            continue;
        };
        let kinds: Vec<&'static str> = now.iter().map(ValidatorView::kind).collect();
        let due = printed.as_ref().is_none_or(|last| {
            top >= last.height + args.report_every
                || kinds != last.kinds
                || last.at.elapsed() >= QUIET_LINE_EVERY
        });
        if !due {
            continue;
        }
        println!("{}", progress_line(layout, &now, top, agents));
        printed = Some(Printed {
            height: top,
            kinds,
            at: Instant::now(),
        });
    }
    Ok(())
}

/// `height 212  validators at 212/212/down/211  root 3fa2…  final epochs 20/20/19  agents …`
fn progress_line(layout: &Layout, views: &[ValidatorView], top: u64, agents: &Agents) -> String {
    let root = views.iter().find_map(|view| match view {
        ValidatorView::InStep { height, state_root } if *height == top => Some(state_root),
        _ => None,
    });
    let root = root.map_or("-", |root| root.get(..16).unwrap_or(root));
    let finality = match layout.federated {
        true => final_epochs(&layout.started, views),
        false => String::new(),
    };
    format!(
        "height {top:>6}  validators at {}  root {root}…  {finality}{}",
        views_by_cell(&layout.started, views),
        agents_summary(agents)
    )
}

/// Whether every validator the localnet started has exited, and if so whether all cleanly.
fn all_exited(children: &mut [Child]) -> Option<bool> {
    let statuses: Option<Vec<std::process::ExitStatus>> = children
        .iter_mut()
        .map(|child| child.try_wait().ok().flatten())
        .collect();
    statuses.map(|statuses| statuses.iter().all(|status| status.success()))
}

/// "12/12/down/12 | 12/12/12/12": each validator as it last answered, cell by cell.
fn views_by_cell(started: &[Started], views: &[ValidatorView]) -> String {
    let mut cells: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (node, view) in started.iter().zip(views) {
        cells.entry(node.cell).or_default().push(view.describe());
    }
    let cells: Vec<String> = cells.values().map(|cell| cell.join("/")).collect();
    cells.join(" | ")
}

fn agents_summary(agents: &Agents) -> String {
    match agents.running {
        true => (agents.stats.lock())
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take_summary(),
        false => String::new(),
    }
}

/// Each validator still running handles SIGINT by stopping its engine and closing its store.
fn stop_validators(children: &mut [Child]) {
    println!("stopping {} validators", children.len());
    for child in children.iter_mut() {
        if !matches!(child.try_wait(), Ok(None)) {
            continue;
        }
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
    }
    for child in children.iter_mut() {
        let _ = child.wait();
    }
}

/// "final epochs 3/3/2" — each cell's latest final checkpoint, as the first validator that
/// answers knows.
fn final_epochs(started: &[Started], views: &[ValidatorView]) -> String {
    let answering = (started.iter().zip(views)).find(|(_, view)| view.height().is_some());
    let federation = answering
        .and_then(|(node, _)| ApiClient::new(&node.node.api).ok())
        .map(|api| api.with_timeout(ANSWER_WITHIN))
        .and_then(|api| api.get("/v1/federation").ok());
    let Some(federation) = federation else {
        return String::new();
    };
    let epochs: Vec<String> = federation["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|cell| {
            cell["latest_final_epoch"]
                .as_u64()
                .map_or("-".to_string(), |epoch| epoch.to_string())
        })
        .collect();
    format!("final epochs {}  ", epochs.join("/"))
}
