//! Runs the `charter` binary as real processes. The binary is the one built next to the test
//! executable (`scripts/test.sh` builds it before the tests), so tests exercise exactly what a
//! user runs. Every process a test starts is killed when the test's handle to it drops.

mod load;

pub use charter_node::localnet::CommittedLine as Committed;
pub use load::TransferLoad;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

/// The `charter` binary of this build profile.
pub fn charter_binary() -> PathBuf {
    let test_executable = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = test_executable
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in <target>/<profile>/deps");
    let binary = profile_dir.join("charter");
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build --bin charter` (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// Runs `charter ARGS…` to completion.
pub fn charter(args: &[&str]) -> Output {
    Command::new(charter_binary())
        .args(args)
        .output()
        .expect("charter starts")
}

/// What a validator process printed that a test waits on.
#[derive(Clone, Debug)]
pub enum Report {
    Started { node: usize, height: u64 },
    Committed { node: usize, block: Committed },
}

/// A cell of `charter run` processes on loopback, laid out as `charter localnet` lays it out.
pub struct Cell {
    dir: PathBuf,
    processes: BTreeMap<usize, Child>,
    reports: mpsc::Receiver<Report>,
    sender: mpsc::Sender<Report>,
    /// Everything each node has reported committing.
    pub history: BTreeMap<usize, BTreeMap<u64, Committed>>,
    /// Each validator's config, log, consensus and API addresses.
    pub nodes: Vec<charter_node::localnet::LocalValidator>,
}

impl Cell {
    /// Writes a dev genesis, keys and one config per validator, with dynamically picked ports.
    pub fn create(dir: &Path, validators: usize) -> Self {
        let validator_count = validators.to_string();
        let out = charter(&[
            "dev-genesis",
            "--seed",
            "9",
            "--validators",
            &validator_count,
            "--members",
            "16",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let nodes = charter_node::localnet::write_configs(dir, validators)
            .expect("the cell directory is writable");
        let (sender, reports) = mpsc::channel();
        Self {
            dir: dir.to_path_buf(),
            processes: BTreeMap::new(),
            reports,
            sender,
            history: BTreeMap::new(),
            nodes,
        }
    }

    /// A cell with every validator started and past its first committed block (so every API
    /// is serving).
    pub fn running(dir: &Path, validators: usize) -> Self {
        let mut cell = Self::create(dir, validators);
        for node in 0..validators {
            cell.start(node);
        }
        cell.wait_until(|history| {
            (0..validators).all(|node| history.get(&node).is_some_and(|blocks| !blocks.is_empty()))
        });
        cell
    }

    pub fn genesis(&self) -> charter_ledger::Genesis {
        let text =
            std::fs::read_to_string(self.dir.join("genesis.json")).expect("the cell has a genesis");
        serde_json::from_str(&text).expect("the genesis parses")
    }

    /// Waits until `node` has reported committing `height`.
    pub fn wait_for_height(&mut self, node: usize, height: u64) {
        self.wait_until(|history| {
            history
                .get(&node)
                .is_some_and(|blocks| blocks.contains_key(&height))
        });
    }

    pub fn start(&mut self, node: usize) {
        self.start_with_env(node, &[]);
    }

    /// Starts validator `node` with extra environment variables (fault injection).
    pub fn start_with_env(&mut self, node: usize, env: &[(&str, &str)]) {
        let config = self.dir.join(format!("node-{node}.toml"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("node-{node}.log")))
            .expect("the cell directory is writable");
        let mut child = Command::new(charter_binary())
            .args(["run", "--config", config.to_str().unwrap()])
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("charter run starts");
        let stdout = child.stdout.take().unwrap();
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(report) = parse(node, &line) {
                    if sender.send(report).is_err() {
                        return;
                    }
                }
            }
        });
        self.processes.insert(node, child);
    }

    /// Waits for validator `node`'s process to end by itself.
    pub fn wait_for_exit(&mut self, node: usize) -> std::process::ExitStatus {
        let mut child = self
            .processes
            .remove(&node)
            .expect("the validator was started");
        child.wait().expect("the process can be waited on")
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.processes.remove(&node) {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Waits for reports until `done` holds for the history; returns the start heights seen.
    pub fn wait_until(
        &mut self,
        mut done: impl FnMut(&BTreeMap<usize, BTreeMap<u64, Committed>>) -> bool,
    ) -> BTreeMap<usize, u64> {
        let mut started = BTreeMap::new();
        while !done(&self.history) {
            match self.reports.recv().expect("a reader is alive") {
                Report::Started { node, height } => {
                    started.insert(node, height);
                }
                Report::Committed { node, block } => {
                    self.history
                        .entry(node)
                        .or_default()
                        .insert(block.height, block);
                }
            }
        }
        started
    }

    pub fn latest(&self, node: usize) -> u64 {
        self.history
            .get(&node)
            .and_then(|blocks| blocks.keys().next_back().copied())
            .unwrap_or(0)
    }
}

/// One HTTP/1.1 request to `base` (`http://host:port`); returns the status code and body.
pub fn http(base: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    charter_node::client::ApiClient::new(base)
        .expect("an http:// address")
        .request(method, path, body)
        .expect("the API answers")
}

fn parse(node: usize, line: &str) -> Option<Report> {
    if let Some(rest) = line.split(" at height ").nth(1) {
        let height = rest.split_whitespace().next()?.parse().ok()?;
        return Some(Report::Started { node, height });
    }
    Committed::parse(line).map(|block| Report::Committed { node, block })
}

impl Drop for Cell {
    fn drop(&mut self) {
        for child in self.processes.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
