//! Runs the `charter` binary as real processes. The binary is the one built next to the test
//! executable (`scripts/test.sh` builds it before the tests), so tests exercise exactly what a
//! user runs. Every process a test starts is killed when the test's handle to it drops. Every
//! wait for a node to reach a height is bounded, and one that runs out names the nodes behind,
//! their heights and the last warning or error each logged.

pub mod faults;
pub mod hostile;
mod load;
pub mod localnet;
pub mod netns;
pub mod openapi;
pub mod service;
pub mod sweep;
mod teardown;
pub mod worked_example;

use charter_devnet::fixtures::{DevCell, DevCellConfig};
pub use charter_devnet::localnet::CommittedLine as Committed;
use charter_devnet::localnet::{write_config, LocalValidator};
use charter_ledger::CellId;
pub use load::TransferLoad;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `charter` binary of this build profile.
pub fn charter_binary() -> PathBuf {
    let executable = std::env::current_exe().expect("the test knows its own path");
    // Test executables live in <target>/<profile>/deps, binaries in <target>/<profile>.
    let binary = executable
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("charter"))
        .find(|binary| binary.exists());
    binary.unwrap_or_else(|| {
        panic!(
            "no charter binary beside {}: build it first with `cargo build --bin charter` (scripts/test.sh does)",
            executable.display()
        )
    })
}

/// Runs `charter ARGS…` to completion.
pub fn charter(args: &[&str]) -> Output {
    Command::new(charter_binary())
        .args(args)
        .output()
        .expect("charter starts")
}

/// Runs `charter ARGS…` to completion and insists that it succeeded.
fn charter_succeeds(args: &[&str]) {
    let out = charter(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How long a test waits for nodes to reach a height before it calls them stuck: a restarted
/// validator syncs in seconds, and one cut off redials its peers within about 40 s of the heal
/// (libp2p's ping timeout, then `restart_when_stalled_secs`); shorter than nextest's limit for
/// a test (two minutes), so that the test fails saying which node is stuck.
pub const HEIGHT_WAIT: Duration = Duration::from_secs(90);

/// A node that did not reach a height in the time allowed.
#[derive(Clone, Debug)]
pub struct Stuck {
    pub node: usize,
    /// The highest height it reported.
    pub height: u64,
    /// The height it was waited for.
    pub target: u64,
    /// The last warning or error in its log: the likeliest reason.
    pub last_reason: Option<String>,
}

impl fmt::Display for Stuck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.last_reason.as_deref().unwrap_or("no warning or error");
        write!(
            f,
            "node {} at height {}, short of {}; its log last said: {reason}",
            self.node, self.height, self.target
        )
    }
}

/// Nodes that did not reach their heights within `waited`.
#[derive(Clone, Debug)]
pub struct Behind {
    pub waited: Duration,
    pub stuck: Vec<Stuck>,
}

impl fmt::Display for Behind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "after {} s", self.waited.as_secs())?;
        for stuck in &self.stuck {
            write!(f, "; {stuck}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Behind {}

/// The last warning or error in the log at `path`: a `tracing` line at WARN or ERROR, the
/// `Error:` a failed command ends with, or a panic. Only the log's tail is read: a node that
/// restarted in a loop has a long one.
pub fn last_reason(path: &Path) -> Option<String> {
    const TAIL: u64 = 64 * 1024;
    let mut log = std::fs::File::open(path).ok()?;
    let length = log.metadata().ok()?.len();
    log.seek(io::SeekFrom::Start(length.saturating_sub(TAIL)))
        .ok()?;
    let mut tail = Vec::new();
    log.read_to_end(&mut tail).ok()?;
    let tail = String::from_utf8_lossy(&tail);
    let is_reason = |line: &&str| {
        [" WARN ", " ERROR ", "Error: ", "panicked at"]
            .iter()
            .any(|mark| line.contains(mark))
    };
    let line = tail.lines().rev().find(is_reason)?;
    Some(line.trim().to_string())
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
    pub history: History,
    /// Each validator's config, log, consensus and API addresses.
    pub nodes: Vec<LocalValidator>,
    /// Twin processes by node index, with the validator whose keys they hold.
    pub twins: BTreeMap<usize, usize>,
    /// When each node has a network namespace of its own (node `i` on host `i`), so that the
    /// network between them can be cut.
    network: Option<netns::Network>,
    /// The shape of the cell's dev genesis.
    config: DevCellConfig,
    /// When the cell is one of a federation: the other cells' nodes and the federation genesis.
    federation: Option<Federated>,
}

struct Federated {
    others: Vec<LocalValidator>,
    genesis: PathBuf,
}

/// The dev genesis every test cell is made from: `charter dev-genesis --seed 9 --members 16`.
pub const DEV_SEED: u64 = 9;
pub const DEV_MEMBERS: usize = 16;

impl Cell {
    /// Writes a dev genesis, keys and one config per validator, all on loopback with dynamically
    /// picked ports.
    pub fn create(dir: &Path, validators: usize) -> Self {
        let config = DevCellConfig::sized(CellId(0), validators, DEV_MEMBERS, None);
        Self::create_with(dir, config, None).expect("loopback needs no network")
    }

    /// The cell of dev genesis `config`: on loopback, or with `hosts` namespaces (twins need one
    /// each) each validator in a network namespace of its own, so that tests can partition
    /// them.
    pub fn create_with(
        dir: &Path,
        config: DevCellConfig,
        hosts: Option<usize>,
    ) -> io::Result<Self> {
        Ok(match hosts {
            Some(hosts) => {
                let network = netns::Network::create(hosts.max(config.validators))?;
                let addresses = network.hosts()[..config.validators]
                    .iter()
                    .map(|host| host.address)
                    .collect();
                Self::create_on(dir, config, addresses, Some(network))
            }
            None => {
                let addresses = charter_devnet::localnet::loopback(config.validators);
                Self::create_on(dir, config, addresses, None)
            }
        })
    }

    /// Two cells of dev geneses `configs` (of cells 0 and 1), federated so that a checkpoint is
    /// final only with both cells' quorums: cell 0 in `dir`, cell 1 in `dir/cell-1`. With `hosts`
    /// namespaces, cell 0's validators run in namespaces of their own, as
    /// [`Cell::create_with`], and cell 1's in the root namespace on the namespaces' bridge, so
    /// that a partition of cell 0 leaves both halves in reach of cell 1.
    pub fn federated_pair(
        dir: &Path,
        configs: [DevCellConfig; 2],
        hosts: Option<usize>,
    ) -> io::Result<(Self, Self)> {
        let [first_config, second_config] = configs;
        let second_validators = second_config.validators;
        let mut first = Self::create_with(dir, first_config, hosts)?;
        let second_host = first
            .network
            .as_ref()
            .map_or(Ipv4Addr::LOCALHOST, netns::Network::root_address);
        let second_dir = dir.join("cell-1");
        std::fs::create_dir_all(&second_dir)?;
        let mut second = Self::create_on(
            &second_dir,
            second_config,
            vec![second_host; second_validators],
            None,
        );
        let genesis = dir.join("federation.json");
        charter_succeeds(&[
            "federation-genesis",
            "--k",
            "2",
            "--cell-genesis",
            dir.join("genesis.json").to_str().unwrap(),
            "--cell-genesis",
            second_dir.join("genesis.json").to_str().unwrap(),
            "--out",
            genesis.to_str().unwrap(),
        ]);
        let (first_nodes, second_nodes) = (first.nodes.clone(), second.nodes.clone());
        for (cell, others) in [(&mut first, second_nodes), (&mut second, first_nodes)] {
            cell.federation = Some(Federated {
                others,
                genesis: genesis.clone(),
            });
            for node in &cell.nodes {
                cell.write_config(node)?;
            }
        }
        Ok((first, second))
    }

    fn create_on(
        dir: &Path,
        config: DevCellConfig,
        hosts: Vec<Ipv4Addr>,
        network: Option<netns::Network>,
    ) -> Self {
        charter_succeeds(&[
            "dev-genesis",
            "--seed",
            &DEV_SEED.to_string(),
            "--cell",
            &config.cell.0.to_string(),
            "--validators",
            &config.validators.to_string(),
            "--members",
            &config.members.to_string(),
            "--epoch-length",
            &config.params.epoch_length.to_string(),
            "--minor-validators",
            &config.minor_validators.to_string(),
            "--out",
            dir.to_str().unwrap(),
        ]);
        let nodes = charter_devnet::localnet::write_configs(dir, &hosts)
            .expect("the cell directory is writable");
        let (sender, reports) = mpsc::channel();
        Self {
            dir: dir.to_path_buf(),
            processes: BTreeMap::new(),
            reports,
            sender,
            history: BTreeMap::new(),
            nodes,
            twins: BTreeMap::new(),
            network,
            config,
            federation: None,
        }
    }

    /// Writes `node`'s configuration: consensus with the rest of the cell, gossip with every
    /// node of the federation too when the cell is in one.
    fn write_config(&self, node: &LocalValidator) -> io::Result<()> {
        match &self.federation {
            Some(federation) => write_config(
                node,
                &self.nodes,
                &federation.others,
                Some(&federation.genesis.to_string_lossy()),
            ),
            None => write_config(node, &self.nodes, &[], None),
        }
    }

    /// A cell with every validator started and past its first committed block (so every API
    /// is serving).
    pub fn running(dir: &Path, validators: usize) -> Self {
        let mut cell = Self::create(dir, validators);
        cell.start_all();
        cell
    }

    /// Starts every node and waits until each has committed a block; panics naming the nodes
    /// that have not within [`HEIGHT_WAIT`].
    pub fn start_all(&mut self) {
        self.start_all_within(HEIGHT_WAIT)
            .unwrap_or_else(|behind| panic!("the cell did not start: {behind}"));
    }

    /// Starts every node and waits up to `within` until each has committed a block.
    pub fn start_all_within(&mut self, within: Duration) -> Result<(), Behind> {
        let nodes: Vec<usize> = (0..self.nodes.len()).collect();
        for node in &nodes {
            self.start(*node);
        }
        self.wait_past_within(&nodes, 0, within)
    }

    pub fn genesis(&self) -> charter_ledger::Genesis {
        let text =
            std::fs::read_to_string(self.dir.join("genesis.json")).expect("the cell has a genesis");
        serde_json::from_str(&text).expect("the genesis parses")
    }

    /// Waits until `node` has reported committing `height`; panics naming it, where it stands
    /// and why, if it has not within [`HEIGHT_WAIT`].
    pub fn wait_for_height(&mut self, node: usize, height: u64) {
        let reported = |history: &History| {
            history
                .get(&node)
                .is_some_and(|blocks| blocks.contains_key(&height))
        };
        if self.wait_within(HEIGHT_WAIT, reported).is_none() {
            let waited = HEIGHT_WAIT.as_secs();
            panic!("after {waited} s: {}", self.stuck(node, height));
        }
    }

    /// Waits until `node` has reported a block above `height`. Unlike [`Cell::wait_for_height`]
    /// it does not need `height` itself reported: a node that crashed after writing a block
    /// and before reporting it resumes above it. Panics as `wait_for_height` does.
    pub fn wait_past(&mut self, node: usize, height: u64) {
        self.wait_past_within(&[node], height, HEIGHT_WAIT)
            .unwrap_or_else(|behind| panic!("{behind}"));
    }

    /// Waits up to `within` until every one of `nodes` has reported a block above `height`;
    /// Err names those that have not.
    pub fn wait_past_within(
        &mut self,
        nodes: &[usize],
        height: u64,
        within: Duration,
    ) -> Result<(), Behind> {
        let past = |history: &History| nodes.iter().all(|node| latest(history, *node) > height);
        match self.wait_within(within, past) {
            Some(_) => Ok(()),
            None => Err(self.behind(nodes, height + 1, within)),
        }
    }

    /// Which of `nodes` have not reached `target`, after waiting `waited` for them.
    fn behind(&self, nodes: &[usize], target: u64, waited: Duration) -> Behind {
        let stuck = nodes
            .iter()
            .filter(|node| self.latest(**node) < target)
            .map(|node| self.stuck(*node, target))
            .collect();
        Behind { waited, stuck }
    }

    /// Where `node`, waited for at `target`, stands, and the last reason its log gives.
    pub fn stuck(&self, node: usize, target: u64) -> Stuck {
        Stuck {
            node,
            height: self.latest(node),
            target,
            last_reason: last_reason(&self.nodes[node].log),
        }
    }

    /// The dev cell (every passport's keys) behind this cell's genesis.
    pub fn dev_cell(&self) -> DevCell {
        DevCell::new(DEV_SEED, self.config.clone())
    }

    /// Where the cell's files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The gossip topic the cell's transactions travel on, for the cell node 0's status names.
    pub fn transactions_topic(&self) -> String {
        let (_, body) = http(&self.nodes[0].api, "GET", "/v1/status", b"");
        let status: serde_json::Value = serde_json::from_slice(&body).expect("the status is JSON");
        let federation = (status["federation"].as_str())
            .and_then(|hex| charter_ledger::FederationId::from_hex(hex).ok())
            .expect("the status names the federation");
        let cell = status["cell"].as_u64().expect("the status names the cell");
        charter_node::gossip::transactions_topic(&federation, charter_ledger::CellId(cell as u32))
    }

    /// Validators in the genesis (twins are not counted).
    pub fn validators(&self) -> usize {
        self.nodes.len() - self.twins.len()
    }

    /// Adds a second process for validator `of` (the Twins method): the same validator keys,
    /// but its own network identity, data directory and ports, dialling the whole cell. Returns
    /// its node index; start it like any other.
    pub fn add_twin(&mut self, of: usize) -> usize {
        let index = self.nodes.len();
        let seed = [index as u8; 32];
        let network_key = self.dir.join(format!("network-{index}.key"));
        std::fs::write(&network_key, hex::encode(seed)).expect("the cell directory is writable");
        let peer_id =
            charter_devnet::localnet::network_peer_id(seed.to_vec()).expect("a valid seed");
        let host = match &self.network {
            Some(network) => {
                network
                    .hosts()
                    .get(index)
                    .expect("a namespace for the twin")
                    .address
            }
            None => Ipv4Addr::LOCALHOST,
        };
        let twin = charter_devnet::localnet::validator_on(&self.dir, index, host, peer_id)
            .expect("a free port");
        self.write_config(&twin)
            .expect("the cell directory is writable");
        let config = std::fs::read_to_string(&twin.config).expect("the twin's config");
        let config = config.replace(
            &format!("key_file = \"keys/passport-{index}.json\"\n"),
            &format!(
                "key_file = \"keys/passport-{of}.json\"\nnetwork_key_file = \"network-{index}.key\"\n"
            ),
        );
        std::fs::write(&twin.config, config).expect("the cell directory is writable");
        self.nodes.push(twin);
        self.twins.insert(index, of);
        index
    }

    /// Where node `node` keeps its data.
    pub fn data_dir(&self, node: usize) -> PathBuf {
        self.dir.join(format!("data-{node}"))
    }

    pub fn is_running(&self, node: usize) -> bool {
        self.processes.contains_key(&node)
    }

    /// Processes that ended by themselves (an injected crash), with how they ended.
    pub fn reap_exited(&mut self) -> Vec<(usize, std::process::ExitStatus)> {
        let mut exited = Vec::new();
        for (node, child) in self.processes.iter_mut() {
            if let Ok(Some(status)) = teardown::try_wait(child) {
                exited.push((*node, status));
            }
        }
        for (node, _) in &exited {
            self.processes.remove(node);
        }
        exited
    }

    /// Takes in what nodes report for up to `timeout`.
    pub fn poll(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.reports.recv_timeout(left) {
                Ok(report) => {
                    self.record(report);
                }
                Err(_) => return,
            }
        }
    }

    fn record(&mut self, report: Report) -> Option<(usize, u64)> {
        match report {
            Report::Started { node, height } => Some((node, height)),
            Report::Committed { node, block } => {
                self.history
                    .entry(node)
                    .or_default()
                    .insert(block.height, block);
                None
            }
        }
    }

    pub fn start(&mut self, node: usize) {
        self.start_with_faults(node, &[]);
    }

    /// Starts validator `node` with crashes injected by `charter run`'s fault arguments
    /// (`["--crash-during-commit", "3"]`, say).
    pub fn start_with_faults(&mut self, node: usize, faults: &[&str]) {
        let config = self.dir.join(format!("node-{node}.toml"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("node-{node}.log")))
            .expect("the cell directory is writable");
        let mut command = match &self.network {
            Some(network) => network.command(node, &charter_binary()),
            None => Command::new(charter_binary()),
        };
        command
            .args(["run", "--config", config.to_str().unwrap()])
            .args(faults)
            .env("RUST_LOG", "warn")
            // Plain lines, so that a test can quote the last reason a node logged.
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = teardown::spawn(&mut command).expect("charter run starts");
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

    /// Cuts the cell's network into `groups` of nodes (see [`netns::Network::partition`]); only
    /// for a cell made with [`Cell::create_with`] with namespaces.
    pub fn partition(&self, groups: &[&[usize]]) -> io::Result<()> {
        self.namespaces()?.partition(groups)
    }

    /// Ends any partition.
    pub fn heal(&self) -> io::Result<()> {
        self.namespaces()?.heal()
    }

    /// Delay and loss on `node`'s link, or none; see [`netns::Network::degrade`].
    pub fn degrade(&self, node: usize, netem: Option<netns::Netem>) -> io::Result<()> {
        self.namespaces()?.degrade(node, netem)
    }

    fn namespaces(&self) -> io::Result<&netns::Network> {
        self.network.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "this cell runs on loopback, not in network namespaces",
            )
        })
    }

    /// Waits for validator `node`'s process to end by itself; panics if it still runs after
    /// [`HEIGHT_WAIT`].
    pub fn wait_for_exit(&mut self, node: usize) -> std::process::ExitStatus {
        let deadline = Instant::now() + HEIGHT_WAIT;
        loop {
            let child = (self.processes.get_mut(&node)).expect("the validator was started");
            if let Some(status) = teardown::try_wait(child).expect("the process can be waited on") {
                self.processes.remove(&node);
                return status;
            }
            if Instant::now() >= deadline {
                let reason = last_reason(&self.nodes[node].log);
                let waited = HEIGHT_WAIT.as_secs();
                panic!("node {node} still runs after {waited} s; its log last said: {reason:?}");
            }
            // Its reports are taken in meanwhile, as they come.
            self.poll(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.processes.remove(&node) {
            teardown::end(&mut child).expect("the process can be waited on");
        }
    }

    /// Waits for reports until `done` holds for the history; returns the start heights seen.
    /// Panics if it does not hold within [`HEIGHT_WAIT`], saying where every node stands.
    pub fn wait_until(&mut self, done: impl FnMut(&History) -> bool) -> BTreeMap<usize, u64> {
        match self.wait_within(HEIGHT_WAIT, done) {
            Some(started) => started,
            None => {
                let standing: Vec<String> = (0..self.nodes.len())
                    .map(|node| {
                        let reason = last_reason(&self.nodes[node].log);
                        let height = self.latest(node);
                        format!("node {node} at height {height}, last logged {reason:?}")
                    })
                    .collect();
                let waited = HEIGHT_WAIT.as_secs();
                let standing = standing.join("; ");
                panic!("what the test waited for did not come in {waited} s: {standing}")
            }
        }
    }

    /// Waits for reports up to `within` until `done` holds for the history; returns the start
    /// heights seen, or None if it still does not hold.
    fn wait_within(
        &mut self,
        within: Duration,
        mut done: impl FnMut(&History) -> bool,
    ) -> Option<BTreeMap<usize, u64>> {
        let deadline = Instant::now() + within;
        let mut started = BTreeMap::new();
        while !done(&self.history) {
            let left = deadline.checked_duration_since(Instant::now())?;
            // The cell holds a sender itself, so the channel never disconnects: an error is the
            // deadline.
            let report = self.reports.recv_timeout(left).ok()?;
            if let Some((node, height)) = self.record(report) {
                started.insert(node, height);
            }
        }
        Some(started)
    }

    pub fn latest(&self, node: usize) -> u64 {
        latest(&self.history, node)
    }
}

/// What each node has reported committing, by height.
pub type History = BTreeMap<usize, BTreeMap<u64, Committed>>;

fn latest(history: &History, node: usize) -> u64 {
    history
        .get(&node)
        .and_then(|blocks| blocks.keys().next_back().copied())
        .unwrap_or(0)
}

/// One HTTP/1.1 request to `base` (`http://host:port`); returns the status code and body.
pub fn http(base: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    charter_client::ApiClient::new(base)
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
            // In a drop, possibly while unwinding: nothing is left to tell.
            let _ = teardown::end(child);
        }
    }
}
