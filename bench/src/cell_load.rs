//! A live cell under load: `charter localnet` starts the validators, signed transfers are
//! offered at a fixed rate per stage through every validator's API, and commits are timed from
//! the block stream. Reports committed transactions per second, submit→commit latency, and each
//! validator process's CPU and memory, plus the cell's CPU when idle.

use anyhow::{bail, Context, Result};
use charter_client::ApiClient;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::{Action, Genesis, PassportId, TransactionBody};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a freshly started cell runs before its idle cost is measured.
const IDLE_SETTLE: Duration = Duration::from_secs(10);

pub struct CellLoadConfig {
    pub charter: PathBuf,
    pub dir: PathBuf,
    pub members: usize,
    pub rates: Vec<u64>,
    pub stage: Duration,
    pub idle: Duration,
}

pub struct StageResult {
    pub offered_per_second: u64,
    pub submitted: u64,
    pub refused: BTreeMap<String, u64>,
    pub committed_per_second: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// Per validator: percent of one core, and resident memory in MiB at the stage's end.
    pub cpu_percent: Vec<f64>,
    pub rss_mib: Vec<f64>,
}

pub struct CellLoadResult {
    /// All validators together, percent of one core, with no transactions.
    pub idle_cpu_percent: f64,
    pub stages: Vec<StageResult>,
}

/// The cell's validator processes, and the localnet that started them.
struct Localnet {
    child: Child,
    pids: Vec<u32>,
    apis: Vec<String>,
}

impl Drop for Localnet {
    fn drop(&mut self) {
        // SIGINT: localnet stops every validator cleanly, then exits.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn start_localnet(config: &CellLoadConfig) -> Result<Localnet> {
    std::fs::create_dir_all(&config.dir)?;
    let log = std::fs::File::create(config.dir.join("localnet.out"))?;
    let child = Command::new(&config.charter)
        .args([
            "localnet",
            "--agents-batch",
            "0",
            "--report-every",
            "1000000000",
        ])
        .args(["--members", &config.members.to_string()])
        .arg("--dir")
        .arg(&config.dir)
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .context("starting charter localnet")?;
    let layout_path = config.dir.join("localnet.json");
    let started = Instant::now();
    let mut localnet = Localnet {
        child,
        pids: Vec::new(),
        apis: Vec::new(),
    };
    loop {
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the cell did not come up; see {}", config.dir.display());
        }
        if let Ok(text) = std::fs::read_to_string(&layout_path) {
            let layout: Value = serde_json::from_str(&text)?;
            let nodes = layout["nodes"]
                .as_array()
                .context("localnet.json lists nodes")?;
            localnet.pids = nodes
                .iter()
                .filter_map(|node| node["pid"].as_u64())
                .map(|pid| pid as u32)
                .collect();
            localnet.apis = nodes
                .iter()
                .filter_map(|node| node["api"].as_str())
                .map(String::from)
                .collect();
            let up = localnet.apis.iter().all(|api| {
                ApiClient::new(api)
                    .and_then(|client| client.get("/v1/status"))
                    .is_ok_and(|status| status["height"].as_u64().unwrap_or(0) >= 2)
            });
            if up {
                return Ok(localnet);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User plus system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc stat line")?
        .1
        .split_whitespace()
        .collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .context("VmRSS in /proc status")?
        .parse()?;
    Ok(kib / 1024.0)
}

/// Percent of one core each process used between two samples.
fn cpu_percent(before: &[u64], after: &[u64], elapsed: Duration, ticks: f64) -> Vec<f64> {
    before
        .iter()
        .zip(after)
        .map(|(before, after)| (after - before) as f64 / ticks / elapsed.as_secs_f64() * 100.0)
        .collect()
}

fn sample_cpu(pids: &[u32]) -> Result<Vec<u64>> {
    pids.iter().map(|pid| cpu_ticks(*pid)).collect()
}

/// When each transaction was seen committed, from validator 0's block stream.
type CommitTimes = Arc<Mutex<HashMap<String, Instant>>>;

fn follow_commits(api: &str, committed: CommitTimes, stop: Arc<AtomicBool>) -> Result<()> {
    let client = ApiClient::new(api)?;
    let stream = ApiClient::new(api)?.block_stream()?;
    std::thread::spawn(move || {
        for data in stream.map_while(Result::ok) {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let seen = Instant::now();
            let Ok(event) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            if event["transactions"].as_u64() == Some(0) {
                continue;
            }
            let Some(height) = event["height"].as_u64() else {
                continue;
            };
            let Ok(block) = client.get(&format!("/v1/blocks/{height}")) else {
                continue;
            };
            let mut committed = committed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for transaction in block["transactions"].as_array().into_iter().flatten() {
                if transaction["status"] == "committed" {
                    if let Some(id) = transaction["id"].as_str() {
                        committed.insert(id.to_string(), seen);
                    }
                }
            }
        }
    });
    Ok(())
}

struct Member {
    id: PassportId,
    key: Ed25519Keypair,
    nonce: u64,
}

fn members(dir: &Path, genesis: &Genesis, first: usize, count: usize) -> Result<Vec<Member>> {
    (first..first + count)
        .map(|index| {
            let keys: Value = serde_json::from_str(&std::fs::read_to_string(
                dir.join(format!("keys/passport-{index}.json")),
            )?)?;
            let mut seed = [0u8; 32];
            hex::decode_to_slice(
                keys["controller_seed"]
                    .as_str()
                    .context("a controller seed")?,
                &mut seed,
            )?;
            Ok(Member {
                id: genesis.passport_id(index),
                key: Ed25519Keypair::from_seed(seed),
                nonce: 0,
            })
        })
        .collect()
}

/// What one sender thread did in a stage.
#[derive(Default)]
struct Sent {
    submitted: Vec<(String, Instant)>,
    refused: BTreeMap<String, u64>,
}

/// Offers `rate` transfers per second for `duration` through one validator's API, from its
/// share of the members.
fn offer(
    api: &ApiClient,
    genesis: &Genesis,
    members: &mut [Member],
    payees: &[PassportId],
    rate: f64,
    duration: Duration,
) -> Sent {
    let mut sent = Sent::default();
    let started = Instant::now();
    let mut offered = 0u64;
    while started.elapsed() < duration {
        let due = (started.elapsed().as_secs_f64() * rate) as u64;
        if offered >= due {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let member = &mut members[offered as usize % members.len()];
        let payee = payees[(offered as usize + 1) % payees.len()];
        offered += 1;
        let transfer = TransactionBody {
            federation: genesis.federation,
            cell: genesis.cell,
            sender: member.id,
            nonce: member.nonce,
            fee: 0,
            action: Action::Transfer {
                to: payee,
                amount: 1,
            },
        }
        .sign(&member.key);
        match api.json("POST", "/v1/transactions", &transfer.encode()) {
            Ok((202, _)) => {
                member.nonce += 1;
                sent.submitted
                    .push((transfer.id().to_hex(), Instant::now()));
            }
            Ok((_, answer)) => {
                let code = answer["error"].as_str().unwrap_or("unknown").to_string();
                *sent.refused.entry(code).or_default() += 1;
            }
            Err(_) => *sent.refused.entry("unreachable".into()).or_default() += 1,
        }
    }
    sent
}

fn percentile(sorted: &[Duration], fraction: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    Some(sorted[index])
}

pub fn run(config: &CellLoadConfig, progress: impl Fn(&str)) -> Result<CellLoadResult> {
    let localnet = start_localnet(config)?;
    let ticks = clock_ticks_per_second();
    progress(&format!(
        "cell up: {} validators, pids {:?}",
        localnet.pids.len(),
        localnet.pids
    ));

    // Let start-up work (connections, first compactions) pass before measuring the idle cell.
    std::thread::sleep(IDLE_SETTLE);
    let before = sample_cpu(&localnet.pids)?;
    let idle_started = Instant::now();
    std::thread::sleep(config.idle);
    let idle = cpu_percent(
        &before,
        &sample_cpu(&localnet.pids)?,
        idle_started.elapsed(),
        ticks,
    );
    let idle_cpu_percent = idle.iter().sum();
    progress(&format!(
        "idle: {idle_cpu_percent:.1}% of one core for the whole cell"
    ));

    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(config.dir.join("genesis.json"))?)?;
    // Members come after the validators and the 3 arbiters.
    let first_member = localnet.apis.len() + 3;
    let mut all = members(&config.dir, &genesis, first_member, config.members)?;
    let payees: Vec<PassportId> = all.iter().map(|member| member.id).collect();
    let apis: Vec<ApiClient> = localnet
        .apis
        .iter()
        .map(|api| ApiClient::new(api))
        .collect::<Result<_, _>>()?;
    // Each validator's API gets its own share of the members, so each sender's nonces arrive
    // in order at one mempool.
    let mut shares: Vec<Vec<Member>> = (0..apis.len()).map(|_| Vec::new()).collect();
    for (index, member) in all.drain(..).enumerate() {
        shares[index % apis.len()].push(member);
    }

    let committed: CommitTimes = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    follow_commits(&localnet.apis[0], Arc::clone(&committed), Arc::clone(&stop))?;

    let mut stages = Vec::new();
    for &rate in &config.rates {
        let before = sample_cpu(&localnet.pids)?;
        let stage_started = Instant::now();
        let per_api = rate as f64 / apis.len() as f64;
        let results: Vec<Sent> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter_mut()
                .zip(&apis)
                .map(|(share, api)| {
                    let (genesis, payees) = (&genesis, &payees);
                    scope.spawn(move || offer(api, genesis, share, payees, per_api, config.stage))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a sender thread does not panic"))
                .collect()
        });
        let elapsed = stage_started.elapsed();
        let cpu = cpu_percent(&before, &sample_cpu(&localnet.pids)?, elapsed, ticks);
        let rss: Vec<f64> = localnet
            .pids
            .iter()
            .map(|pid| rss_mib(*pid))
            .collect::<Result<_>>()?;
        let stage_end = Instant::now();

        // Give what was submitted up to a few blocks to commit before measuring latency.
        let submitted: Vec<(String, Instant)> = results
            .iter()
            .flat_map(|sent| sent.submitted.iter().cloned())
            .collect();
        let drain_until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < drain_until {
            let done = {
                let committed = committed
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                submitted.iter().all(|(id, _)| committed.contains_key(id))
            };
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let committed_now = committed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let mut latencies: Vec<Duration> = submitted
            .iter()
            .filter_map(|(id, at)| {
                committed_now
                    .get(id)
                    .map(|seen| seen.saturating_duration_since(*at))
            })
            .collect();
        latencies.sort();
        let committed_in_stage = submitted
            .iter()
            .filter(|(id, _)| committed_now.get(id).is_some_and(|seen| *seen <= stage_end))
            .count();
        let mut refused = BTreeMap::new();
        for sent in &results {
            for (code, count) in &sent.refused {
                *refused.entry(code.clone()).or_default() += count;
            }
        }
        let stage = StageResult {
            offered_per_second: rate,
            submitted: submitted.len() as u64,
            refused,
            committed_per_second: committed_in_stage as f64 / elapsed.as_secs_f64(),
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            cpu_percent: cpu,
            rss_mib: rss,
        };
        progress(&format!(
            "offered {rate} tx/s: committed {:.0} tx/s, p50 {:?}, p99 {:?}",
            stage.committed_per_second, stage.p50, stage.p99
        ));
        stages.push(stage);
        // After the drain the chain is the authority on nonces (a transfer may have been
        // dropped from a mempool).
        for (share, api) in shares.iter_mut().zip(&apis) {
            for member in share.iter_mut() {
                if let Ok(read) = api.get(&format!("/v1/passports/{}", member.id)) {
                    if let Some(nonce) = read["value"]["nonce"].as_u64() {
                        member.nonce = nonce;
                    }
                }
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    drop(localnet);
    Ok(CellLoadResult {
        idle_cpu_percent,
        stages,
    })
}
