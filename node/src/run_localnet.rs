//! `charter localnet`: a whole cell as separate `charter run` processes on 127.0.0.1, with its
//! layout in `DIR/localnet.json`, progress as blocks commit, and a clean stop on Ctrl-C.

use crate::demo::DemoStats;
use anyhow::{Context, Result};
use charter_ledger::devnet::{DevCell, DevCellConfig};
use charter_ledger::Genesis;
use charter_node::client::ApiClient;
use charter_node::localnet::{write_configs, CommittedLine};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The local cell's genesis: its validators, 3 arbiters and the members agents act for.
fn dev_cell_config(validators: usize, members: usize) -> DevCellConfig {
    DevCellConfig {
        validators,
        members,
        ..DevCellConfig::default()
    }
}

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// Where genesis, keys, configs, data and logs go; a new directory under the system temp
    /// directory when absent.
    #[arg(long)]
    dir: Option<PathBuf>,
    #[arg(long, default_value_t = 4)]
    validators: usize,
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

pub fn run(args: LocalnetArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-localnet-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::keys::dev_genesis(
        args.seed,
        &dev_cell_config(args.validators, args.members),
        &dir,
    )?;
    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json"))?)?;
    let nodes = write_configs(&dir, args.validators)?;
    let charter = std::env::current_exe().context("locating the charter binary")?;
    let (sender, reports) = std::sync::mpsc::channel::<(usize, CommittedLine)>();
    let mut children: Vec<Child> = Vec::new();
    let mut layout = Vec::new();
    for node in &nodes {
        let log = std::fs::File::create(&node.log)?;
        let mut child = Command::new(&charter)
            .args(["run", "--config"])
            .arg(&node.config)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting validator {}", node.index))?;
        println!(
            "started validator {} (pid {}) on {}",
            node.index,
            child.id(),
            node.consensus
        );
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, index) = (sender.clone(), node.index);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(block) = CommittedLine::parse(&line) {
                    if sender.send((index, block)).is_err() {
                        return;
                    }
                }
            }
        });
        layout.push(json!({
            "cell": genesis.cell,
            "validator": genesis.passport_id(node.index).to_hex(),
            "api": node.api,
            "consensus": node.consensus,
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
        "cell layout in {}; Ctrl-C stops every validator",
        layout_path.display()
    );
    println!(
        "explore the cell: curl {}/v1/status (also /v1/blocks/latest, /v1/openapi.json, /metrics)",
        nodes[0].api
    );

    let stop_demo = Arc::new(AtomicBool::new(false));
    let demo_stats = Arc::new(Mutex::new(DemoStats::default()));
    let demo = (args.agents_batch > 0)
        .then(|| -> Result<_> {
            let cell = DevCell::new(args.seed, dev_cell_config(args.validators, args.members));
            let apis = nodes
                .iter()
                .map(|node| ApiClient::new(&node.api))
                .collect::<Result<Vec<_>, _>>()?;
            let (stats, stop) = (Arc::clone(&demo_stats), Arc::clone(&stop_demo));
            let (batch, seed) = (args.agents_batch, args.seed);
            Ok(std::thread::spawn(move || {
                crate::demo::drive(cell, apis, batch, seed, stats, stop)
            }))
        })
        .transpose()?;

    let interrupted = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&interrupted);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        if runtime.block_on(tokio::signal::ctrl_c()).is_ok() {
            stopping.store(true, Ordering::SeqCst);
        }
    });

    let mut latest: BTreeMap<usize, CommittedLine> = BTreeMap::new();
    let mut reported = 0;
    while !interrupted.load(Ordering::SeqCst) {
        let Ok((index, block)) = reports.recv_timeout(std::time::Duration::from_millis(200)) else {
            if children
                .iter_mut()
                .all(|child| matches!(child.try_wait(), Ok(Some(_))))
            {
                anyhow::bail!(
                    "every validator has exited; see the logs in {}",
                    dir.display()
                );
            }
            continue;
        };
        latest.insert(index, block);
        let lowest = (0..nodes.len())
            .filter_map(|index| latest.get(&index))
            .map(|block| block.height)
            .min();
        if let Some(height) = lowest
            .filter(|height| latest.len() == nodes.len() && *height >= reported + args.report_every)
        {
            reported = height;
            let heights: Vec<String> = latest
                .values()
                .map(|block| block.height.to_string())
                .collect();
            let root = &latest[&0].root;
            let agents = match demo {
                Some(_) => demo_stats
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take_summary(),
                None => String::new(),
            };
            println!(
                "height {height:>6}  validators at {}  root {}…  {agents}",
                heights.join("/"),
                &root[..16]
            );
        }
    }
    stop_demo.store(true, Ordering::SeqCst);
    println!("stopping {} validators", children.len());
    for child in &mut children {
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
