//! `charter localnet`: a whole cell — or a federation of cells — as separate `charter run`
//! processes on 127.0.0.1, with the layout in `DIR/localnet.json`, progress as blocks commit
//! (and, in a federation, as checkpoints become final), and a clean stop on Ctrl-C.

use anyhow::{Context, Result};
use charter_client::ApiClient;
use charter_devnet::agents::live::LiveStats;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_devnet::localnet::{allocate, loopback, write_config, CommittedLine, LocalValidator};
use charter_ledger::state::CellParams;
use charter_ledger::{CellId, Genesis};
use charter_node::stop_signals::StopSignals;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    #[arg(long, default_value_t = 10)]
    report_every: u64,
    /// Transactions the demo agents send per round (issuing passports, bonding, paying through
    /// escrow, disputing and settling); 0 runs the validators alone.
    #[arg(long, default_value_t = 32)]
    agents_batch: usize,
}

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

/// The validator processes, and the committed blocks they print.
struct Running {
    children: Vec<Child>,
    reports: std::sync::mpsc::Receiver<(usize, CommittedLine)>,
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
    let (sender, reports) = std::sync::mpsc::channel::<(usize, CommittedLine)>();
    let mut children: Vec<Child> = Vec::new();
    let mut nodes = Vec::new();
    for (process, Started { cell, node }) in layout.started.iter().enumerate() {
        let log = std::fs::File::create(&node.log)?;
        let mut child = Command::new(&charter)
            .args(["run", "--config"])
            .arg(&node.config)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting validator {} of cell {cell}", node.index))?;
        println!(
            "started cell {cell} validator {} (pid {}) on {}",
            node.index,
            child.id(),
            node.consensus
        );
        let stdout = child.stdout.take().expect("stdout is piped");
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(block) = CommittedLine::parse(&line) {
                    if sender.send((process, block)).is_err() {
                        return;
                    }
                }
            }
        });
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
    println!(
        "explore the cell: curl {}/v1/status (also /v1/blocks/latest, /v1/openapi.json, /metrics{})",
        layout.cells[0][0].api,
        if layout.federated { ", /v1/federation" } else { "" }
    );
    Ok(Running { children, reports })
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

/// Prints a progress line every `--report-every` heights until interrupted, or until every
/// validator has exited (cleanly: a stop; otherwise: an error).
fn follow(
    args: &LocalnetArgs,
    layout: &Layout,
    running: &mut Running,
    agents: &Agents,
    interrupted: &AtomicBool,
) -> Result<()> {
    let federation_api = layout
        .federated
        .then(|| ApiClient::new(&layout.cells[0][0].api))
        .transpose()?;
    let mut latest: BTreeMap<usize, CommittedLine> = BTreeMap::new();
    let mut reported = 0;
    while !interrupted.load(Ordering::SeqCst) {
        let Ok((process, block)) = running
            .reports
            .recv_timeout(std::time::Duration::from_millis(200))
        else {
            match all_exited(&mut running.children) {
                // Ctrl-C in a terminal reaches the validators too, and they stop cleanly.
                Some(true) => return Ok(()),
                Some(false) => anyhow::bail!(
                    "every validator has exited; see the logs in {}",
                    layout.dir.display()
                ),
                None => continue,
            }
        };
        latest.insert(process, block);
        // A validator that exited (killed, say) stays behind: progress is the running ones'.
        let exited = exited(&mut running.children);
        let running_latest: Vec<&CommittedLine> = (0..layout.started.len())
            .filter(|process| !exited.contains(process))
            .map(|process| latest.get(&process))
            .collect::<Option<_>>()
            .unwrap_or_default();
        let Some(lowest) = running_latest.iter().min_by_key(|block| block.height) else {
            continue;
        };
        if lowest.height < reported + args.report_every {
            continue;
        }
        reported = lowest.height;
        let finality = federation_api
            .as_ref()
            .map(final_epochs)
            .unwrap_or_default();
        println!(
            "height {:>6}  validators at {}  root {}…  {finality}{}",
            lowest.height,
            heights_by_cell(args.cells, &layout.started, &latest, &exited),
            &lowest.root[..16],
            agents_summary(agents)
        );
    }
    Ok(())
}

/// The validators whose process has exited (and is reaped).
fn exited(children: &mut [Child]) -> BTreeSet<usize> {
    (children.iter_mut().enumerate())
        .filter_map(|(process, child)| matches!(child.try_wait(), Ok(Some(_))).then_some(process))
        .collect()
}

/// Whether every validator has exited, and if so whether all of them cleanly.
fn all_exited(children: &mut [Child]) -> Option<bool> {
    let statuses: Option<Vec<std::process::ExitStatus>> = children
        .iter_mut()
        .map(|child| child.try_wait().ok().flatten())
        .collect();
    statuses.map(|statuses| statuses.iter().all(|status| status.success()))
}

/// "12/12/down/12 | 12/12/12/12": each validator's latest height, cell by cell; `down` for one
/// whose process exited.
fn heights_by_cell(
    cells: u32,
    started: &[Started],
    latest: &BTreeMap<usize, CommittedLine>,
    exited: &BTreeSet<usize>,
) -> String {
    let heights: Vec<String> = (0..cells)
        .map(|cell| {
            let cell_heights: Vec<String> = started
                .iter()
                .enumerate()
                .filter(|(_, node)| node.cell == cell)
                .map(
                    |(process, _)| match (exited.contains(&process), latest.get(&process)) {
                        (true, _) => "down".to_string(),
                        (false, Some(block)) => block.height.to_string(),
                        (false, None) => "-".to_string(),
                    },
                )
                .collect();
            cell_heights.join("/")
        })
        .collect();
    heights.join(" | ")
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

/// "final epochs 3/3/2" — each cell's latest final checkpoint, as validator 0 of cell 0 knows.
fn final_epochs(api: &ApiClient) -> String {
    let Ok(federation) = api.get("/v1/federation") else {
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
