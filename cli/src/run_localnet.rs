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
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// Where genesis, keys, configs, data and logs go; a new directory under the system temp
    /// directory when absent.
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

pub fn run(args: LocalnetArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| {
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
    let cell_dir = |cell: u32| {
        if federated {
            dir.join(format!("cell-{cell}"))
        } else {
            dir.clone()
        }
    };
    let mut geneses = Vec::new();
    let mut cells = Vec::new();
    for cell in 0..args.cells {
        let path = cell_dir(cell);
        std::fs::create_dir_all(&path)?;
        let config = DevCellConfig::sized(CellId(cell), args.validators, args.members, Some(epoch));
        crate::keys_command::dev_genesis(args.seed, &config, &path)?;
        let genesis: Genesis =
            serde_json::from_str(&std::fs::read_to_string(path.join("genesis.json"))?)?;
        cells.push(allocate(&path, &loopback(args.validators))?);
        geneses.push(genesis);
    }
    let federation_genesis = if federated {
        let k = args.k.unwrap_or(args.cells as usize / 2 + 1);
        let out = dir.join("federation.json");
        let mut genesis_args = vec![];
        for cell in 0..args.cells {
            genesis_args.push(cell_dir(cell).join("genesis.json"));
        }
        crate::federation_command::write_federation_genesis(k, &genesis_args, &out)?;
        Some("../federation.json")
    } else {
        None
    };
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

    let charter = std::env::current_exe().context("locating the charter binary")?;
    let (sender, reports) = std::sync::mpsc::channel::<(usize, CommittedLine)>();
    // Listening before any validator starts, so that an interrupt at any point stops them all.
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut stop = {
        let _inside = signals.enter();
        StopSignals::listen()?
    };
    let mut children: Vec<Child> = Vec::new();
    let mut layout = Vec::new();
    for (process, Started { cell, node }) in started.iter().enumerate() {
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
        let genesis = &geneses[*cell as usize];
        layout.push(json!({
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
    drop(sender);
    let layout_path = dir.join("localnet.json");
    std::fs::write(
        &layout_path,
        serde_json::to_string_pretty(&json!({ "dir": dir, "nodes": layout }))?,
    )?;
    println!(
        "layout in {}; Ctrl-C stops every validator",
        layout_path.display()
    );
    let nodes = &cells[0];
    println!(
        "explore the cell: curl {}/v1/status (also /v1/blocks/latest, /v1/openapi.json, /metrics{})",
        nodes[0].api,
        if federated { ", /v1/federation" } else { "" }
    );

    let stop_demo = Arc::new(AtomicBool::new(false));
    let demo_stats = Arc::new(Mutex::new(LiveStats::default()));
    let demo = (args.agents_batch > 0)
        .then(|| -> Result<_> {
            let cell = DevCell::new(
                args.seed,
                DevCellConfig::sized(CellId(0), args.validators, args.members, Some(epoch)),
            );
            let apis = nodes
                .iter()
                .map(|node| ApiClient::new(&node.api))
                .collect::<Result<Vec<_>, _>>()?;
            let (stats, stop) = (Arc::clone(&demo_stats), Arc::clone(&stop_demo));
            let (batch, seed) = (args.agents_batch, args.seed);
            Ok(std::thread::spawn(move || {
                charter_devnet::agents::live::drive(cell, apis, batch, seed, stats, stop)
            }))
        })
        .transpose()?;

    let interrupted = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&interrupted);
    std::thread::spawn(move || {
        signals.block_on(stop.recv());
        stopping.store(true, Ordering::SeqCst);
    });

    let federation_api = federated
        .then(|| ApiClient::new(&nodes[0].api))
        .transpose()?;
    let mut latest: BTreeMap<usize, CommittedLine> = BTreeMap::new();
    let mut reported = 0;
    while !interrupted.load(Ordering::SeqCst) {
        let Ok((process, block)) = reports.recv_timeout(std::time::Duration::from_millis(200))
        else {
            let exits: Vec<Option<std::process::ExitStatus>> = children
                .iter_mut()
                .map(|child| child.try_wait().ok().flatten())
                .collect();
            match exits.iter().copied().collect::<Option<Vec<_>>>() {
                // Ctrl-C in a terminal reaches the validators too, and they stop cleanly.
                Some(statuses) if statuses.iter().all(|status| status.success()) => break,
                Some(_) => anyhow::bail!(
                    "every validator has exited; see the logs in {}",
                    dir.display()
                ),
                None => continue,
            }
        };
        latest.insert(process, block);
        let lowest = (0..started.len())
            .filter_map(|process| latest.get(&process))
            .map(|block| block.height)
            .min();
        let Some(height) = lowest.filter(|height| {
            latest.len() == started.len() && *height >= reported + args.report_every
        }) else {
            continue;
        };
        reported = height;
        let heights: Vec<String> = (0..args.cells)
            .map(|cell| {
                let cell_heights: Vec<String> = started
                    .iter()
                    .enumerate()
                    .filter(|(_, node)| node.cell == cell)
                    .map(|(process, _)| latest[&process].height.to_string())
                    .collect();
                cell_heights.join("/")
            })
            .collect();
        let root = &latest[&0].root;
        let agents = match demo {
            Some(_) => demo_stats
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take_summary(),
            None => String::new(),
        };
        let finality = federation_api
            .as_ref()
            .map(final_epochs)
            .unwrap_or_default();
        println!(
            "height {height:>6}  validators at {}  root {}…  {finality}{agents}",
            heights.join(" | "),
            &root[..16]
        );
    }
    stop_demo.store(true, Ordering::SeqCst);
    println!("stopping {} validators", children.len());
    for child in &mut children {
        if !matches!(child.try_wait(), Ok(None)) {
            continue;
        }
        // Each validator handles SIGINT by stopping its engine and closing its stores.
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
    }
    for child in &mut children {
        let _ = child.wait();
    }
    println!("stopped; data and logs remain in {}", dir.display());
    Ok(())
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
