//! A live cell under load: `charter localnet` starts the validators, signed transfers are
//! offered at a fixed rate per stage through every validator's API in batch requests (signed
//! before the stage, so that signing does not compete with the cell while it is measured), and
//! commits are timed from the block stream. Reports committed transactions per second, submit→commit latency, and each
//! validator process's CPU and memory, plus the cell's CPU when idle.

use crate::catch_up::{self, CatchUpResult};
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

/// How often a sender submits what came due, as one batch.
const BATCH_INTERVAL: Duration = Duration::from_millis(10);

/// Most transactions in one batch request (the API's limit).
const MAX_BATCH_TRANSACTIONS: usize = 1024;

pub struct CellLoadConfig {
    pub charter: PathBuf,
    pub dir: PathBuf,
    pub members: usize,
    pub rates: Vec<u64>,
    pub stage: Duration,
    pub idle: Duration,
    /// How many blocks behind a validator restored from a backup is (zero: no catch-up
    /// measurement), and the transfers per second the others commit while it catches up.
    pub catch_up_blocks: u64,
    pub catch_up_rate: u64,
    /// Write each stage's transactions and blocks, with their times, to `trace-RATE.tsv` in
    /// `dir`.
    pub trace: bool,
}

pub struct StageResult {
    pub offered_per_second: u64,
    pub submitted: u64,
    /// Offers refused for the moment (a full pool or sender queue) and made again.
    pub retried: u64,
    pub refused: BTreeMap<String, u64>,
    pub committed_per_second: f64,
    /// Blocks committed per second during the stage, empty ones included.
    pub blocks_per_second: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// Per validator: percent of one core, and resident memory in MiB at the stage's end.
    pub cpu_percent: Vec<f64>,
    pub rss_mib: Vec<f64>,
    /// This load generator's own use of the cores, percent of one.
    pub generator_cpu_percent: f64,
}

pub struct CellLoadResult {
    pub validators: usize,
    /// All validators together, percent of one core, with no transactions.
    pub idle_cpu_percent: f64,
    pub stages: Vec<StageResult>,
    pub catch_up: Option<CatchUpResult>,
}

impl CellLoadResult {
    pub fn best_committed_per_second(&self) -> f64 {
        (self.stages.iter())
            .map(|stage| stage.committed_per_second)
            .fold(0.0, f64::max)
    }
}

/// The cell's validator processes, and the localnet that started them.
pub(crate) struct Localnet {
    child: Child,
    pub(crate) pids: Vec<u32>,
    pub(crate) apis: Vec<String>,
    pub(crate) configs: Vec<PathBuf>,
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
        configs: Vec::new(),
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
            localnet.configs = nodes
                .iter()
                .filter_map(|node| node["config"].as_str())
                .map(PathBuf::from)
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

/// When each transaction, and each block, was seen committed, from validator 0's block stream.
type CommitTimes = Arc<Mutex<Commits>>;

#[derive(Clone, Default)]
struct Commits {
    /// When each transaction was seen committed, and at which height.
    transactions: HashMap<String, (Instant, u64)>,
    blocks: Vec<BlockSeen>,
}

/// A block as validator 0's stream announced it.
#[derive(Clone)]
struct BlockSeen {
    height: u64,
    round: u64,
    transactions: u64,
    seen: Instant,
}

impl Commits {
    /// Of the transactions `submitted` (each with when it was), each one's time to commit,
    /// sorted; how many committed within `stage`; and how many blocks did.
    fn in_stage(
        &self,
        submitted: &[Submission],
        stage: std::ops::RangeInclusive<Instant>,
    ) -> (Vec<Duration>, usize, usize) {
        let mut latencies: Vec<Duration> = (submitted.iter())
            .filter_map(|submission| {
                let (seen, _) = self.transactions.get(&submission.id)?;
                Some(seen.saturating_duration_since(submission.sent))
            })
            .collect();
        latencies.sort();
        let committed = (submitted.iter())
            .filter(|submission| {
                (self.transactions.get(&submission.id)).is_some_and(|(seen, _)| seen <= stage.end())
            })
            .count();
        let blocks = (self.blocks.iter())
            .filter(|block| stage.contains(&block.seen))
            .count();
        (latencies, committed, blocks)
    }
}

fn lock(committed: &CommitTimes) -> std::sync::MutexGuard<'_, Commits> {
    committed
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Follows validator 0's block stream: one thread stamps each block as its announcement
/// arrives, another fetches the blocks' transactions, so that fetching a large block does not
/// delay the stamps of the blocks announced meanwhile.
fn follow_commits(api: &str, committed: CommitTimes, stop: Arc<AtomicBool>) -> Result<()> {
    let client = ApiClient::new(api)?;
    let stream = ApiClient::new(api)?.block_stream()?;
    let (to_fetch, fetching) = std::sync::mpsc::channel::<BlockSeen>();
    let stamps = Arc::clone(&committed);
    std::thread::spawn(move || {
        for data in stream.map_while(Result::ok) {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let seen = Instant::now();
            let Ok(event) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            let Some(height) = event["height"].as_u64() else {
                continue;
            };
            let block = BlockSeen {
                height,
                round: event["round"].as_u64().unwrap_or(0),
                transactions: event["transactions"].as_u64().unwrap_or(0),
                seen,
            };
            lock(&stamps).blocks.push(block.clone());
            if block.transactions > 0 && to_fetch.send(block).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        for BlockSeen { height, seen, .. } in fetching {
            let Ok(block) = client.get(&format!("/v1/blocks/{height}")) else {
                continue;
            };
            let mut committed = lock(&committed);
            for transaction in block["transactions"].as_array().into_iter().flatten() {
                if transaction["status"] == "committed" {
                    if let Some(id) = transaction["id"].as_str() {
                        committed
                            .transactions
                            .insert(id.to_string(), (seen, height));
                    }
                }
            }
        }
    });
    Ok(())
}

pub(crate) struct Member {
    pub(crate) id: PassportId,
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

/// One validator's API and the members that send through it, so that each sender's nonces
/// arrive in order at one mempool.
pub(crate) struct Sender {
    pub(crate) api: ApiClient,
    pub(crate) members: Vec<Member>,
}

/// A stage's transfers through one API, signed before the stage starts so that signing does
/// not compete with the cell for the cores while it is measured: their ids and encodings, in
/// the order they are offered.
pub(crate) struct Signed {
    ids: Vec<String>,
    encoded: Vec<Vec<u8>>,
}

impl Sender {
    /// `count` transfers of 1 from the members in turn, each at its sender's next nonce.
    pub(crate) fn sign(
        &mut self,
        genesis: &Genesis,
        payees: &[PassportId],
        count: usize,
    ) -> Signed {
        let mut signed = Signed {
            ids: Vec::with_capacity(count),
            encoded: Vec::with_capacity(count),
        };
        let members = self.members.len();
        for index in 0..count {
            let member = &mut self.members[index % members];
            let transfer = TransactionBody {
                federation: genesis.federation,
                cell: genesis.cell,
                sender: member.id,
                nonce: member.nonce,
                fee: 0,
                action: Action::Transfer {
                    to: payees[(index + 1) % payees.len()],
                    amount: 1,
                },
            }
            .sign(&member.key);
            member.nonce += 1;
            signed.ids.push(transfer.id().to_hex());
            signed.encoded.push(transfer.encode());
        }
        signed
    }

    /// After a stage the chain is the authority on nonces (a transfer may have been refused
    /// or dropped).
    pub(crate) fn resync_nonces(&mut self) {
        for member in &mut self.members {
            let read = self.api.get(&format!("/v1/passports/{}", member.id));
            if let Some(nonce) = read.ok().and_then(|read| read["value"]["nonce"].as_u64()) {
                member.nonce = nonce;
            }
        }
    }
}

/// What one sender thread did in a stage.
#[derive(Default)]
pub(crate) struct Sent {
    submitted: Vec<Submission>,
    /// Refusals that were final, and those of the transactions still waiting to be offered
    /// again when the stage ended, by code.
    refused: BTreeMap<String, u64>,
    /// Offers refused for the moment and made again.
    retried: u64,
}

/// A transaction the API admitted: when its batch request was sent and when it was answered.
#[derive(Clone)]
pub(crate) struct Submission {
    id: String,
    sent: Instant,
    answered: Instant,
}

/// Refusals that mean "not now": the pool or the sender's queue is full, or an earlier
/// transaction of the sender is still waiting to be offered again (its successors then come
/// too early). Such a transaction is offered again, in its sender's nonce order, after
/// [`BACKOFF`], as a client honouring the API's backpressure does; any other refusal is final.
const RETRIED_CODES: [&str; 3] = ["mempool_full", "sender_backlog", "future_nonce"];

/// How long a sender waits after a request that had refusals to retry.
const BACKOFF: Duration = Duration::from_millis(50);

/// Offers `signed` at `rate` per second for `duration` through `api`: every
/// `BATCH_INTERVAL`, what came due since the last batch goes in one batch request, after the
/// transactions waiting to be offered again.
pub(crate) fn offer(api: &ApiClient, signed: &Signed, rate: f64, duration: Duration) -> Sent {
    let mut sent = Sent::default();
    let started = Instant::now();
    let mut next = 0;
    // Indices of refused-for-now transactions, in offer order, with their last refusal.
    let mut waiting: Vec<(usize, String)> = Vec::new();
    while started.elapsed() < duration {
        let due = ((started.elapsed().as_secs_f64() * rate) as usize).min(signed.encoded.len());
        let fresh = next..due.min(next + MAX_BATCH_TRANSACTIONS.saturating_sub(waiting.len()));
        if waiting.is_empty() && fresh.is_empty() {
            if next == signed.encoded.len() {
                break;
            }
            std::thread::sleep(BATCH_INTERVAL);
            continue;
        }
        next = fresh.end;
        let batch: Vec<usize> = (waiting.drain(..).map(|(index, _)| index))
            .chain(fresh)
            .collect();
        let encoded: Vec<Vec<u8>> = batch.iter().map(|i| signed.encoded[*i].clone()).collect();
        let submitted_at = Instant::now();
        let Ok(results) = api.submit_batch(&encoded) else {
            *sent.refused.entry("unreachable".into()).or_default() += batch.len() as u64;
            continue;
        };
        let answered = Instant::now();
        for (index, result) in batch.into_iter().zip(results) {
            match result {
                Ok(_) => sent.submitted.push(Submission {
                    id: signed.ids[index].clone(),
                    sent: submitted_at,
                    answered,
                }),
                Err(code) if RETRIED_CODES.contains(&code.as_str()) => {
                    sent.retried += 1;
                    waiting.push((index, code));
                }
                Err(code) => *sent.refused.entry(code).or_default() += 1,
            }
        }
        if !waiting.is_empty() {
            std::thread::sleep(BACKOFF);
        }
    }
    for (_, code) in waiting {
        *sent.refused.entry(code).or_default() += 1;
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

/// The whole cell's CPU, as percent of one core, over `window` with no transactions.
fn measure_idle(localnet: &Localnet, window: Duration, ticks: f64) -> Result<f64> {
    // Let start-up work (connections, first compactions) pass before measuring.
    std::thread::sleep(IDLE_SETTLE);
    let before = sample_cpu(&localnet.pids)?;
    let started = Instant::now();
    std::thread::sleep(window);
    let after = sample_cpu(&localnet.pids)?;
    Ok(cpu_percent(&before, &after, started.elapsed(), ticks)
        .iter()
        .sum())
}

/// Waits (up to a few blocks) for what was submitted to commit, then times each commit.
fn settle(submitted: &[Submission], committed: &CommitTimes) -> Commits {
    let drain_until = Instant::now() + Duration::from_secs(10);
    let snapshot = || lock(committed).clone();
    while Instant::now() < drain_until {
        let now = snapshot();
        if (submitted.iter()).all(|submission| now.transactions.contains_key(&submission.id)) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    snapshot()
}

/// One stage: each sender offers its share of `rate` for the stage's length, in parallel.
/// Each sender's transfers for `duration` at `rate` among them all, signed, and the rate each
/// sender offers them at.
pub(crate) fn sign_stage(
    senders: &mut [Sender],
    genesis: &Genesis,
    rate: u64,
    duration: Duration,
) -> (f64, Vec<Signed>) {
    let per_sender = rate as f64 / senders.len() as f64;
    let count = (per_sender * duration.as_secs_f64()).ceil() as usize;
    let payees: Vec<PassportId> = (senders.iter())
        .flat_map(|sender| sender.members.iter().map(|member| member.id))
        .collect();
    let signed = (senders.iter_mut())
        .map(|sender| sender.sign(genesis, &payees, count))
        .collect();
    (per_sender, signed)
}

/// One line per block seen since `start` (`block`, height, round, transactions, ms since
/// `start` seen), then one per transaction admitted (`tx`, the validator it was sent to, ms
/// since `start` sent, answered and seen committed, the height).
fn write_trace(path: &Path, results: &[Sent], commits: &Commits, start: Instant) -> Result<()> {
    use std::io::Write;
    let ms = |at: Instant| at.saturating_duration_since(start).as_secs_f64() * 1e3;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for block in commits.blocks.iter().filter(|block| block.seen >= start) {
        let BlockSeen {
            height,
            round,
            transactions,
            seen,
        } = block;
        writeln!(
            out,
            "block\t{height}\t{round}\t{transactions}\t{:.1}",
            ms(*seen)
        )?;
    }
    for (validator, sent) in results.iter().enumerate() {
        for submission in &sent.submitted {
            let (sent_ms, answered_ms) = (ms(submission.sent), ms(submission.answered));
            let Some((seen, height)) = commits.transactions.get(&submission.id) else {
                writeln!(out, "tx\t{validator}\t{sent_ms:.1}\t{answered_ms:.1}\t\t")?;
                continue;
            };
            let seen_ms = ms(*seen);
            writeln!(
                out,
                "tx\t{validator}\t{sent_ms:.1}\t{answered_ms:.1}\t{seen_ms:.1}\t{height}"
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn run_stage(
    (config, localnet, genesis): (&CellLoadConfig, &Localnet, &Genesis),
    senders: &mut [Sender],
    committed: &CommitTimes,
    rate: u64,
    ticks: f64,
) -> Result<StageResult> {
    let (per_sender, signed) = sign_stage(senders, genesis, rate, config.stage);

    let before = sample_cpu(&localnet.pids)?;
    let generator_before = sample_cpu(&[std::process::id()])?;
    let stage_started = Instant::now();
    let results: Vec<Sent> = std::thread::scope(|scope| {
        let handles: Vec<_> = (senders.iter().zip(&signed))
            .map(|(sender, signed)| {
                scope.spawn(move || offer(&sender.api, signed, per_sender, config.stage))
            })
            .collect();
        (handles.into_iter())
            .map(|handle| handle.join().expect("a sender thread does not panic"))
            .collect()
    });
    let elapsed = stage_started.elapsed();
    let stage_end = Instant::now();
    let cpu_percent = cpu_percent(&before, &sample_cpu(&localnet.pids)?, elapsed, ticks);
    let generator = sample_cpu(&[std::process::id()])?;
    let generator_cpu_percent = self::cpu_percent(&generator_before, &generator, elapsed, ticks)[0];
    let rss_mib = (localnet.pids.iter())
        .map(|pid| rss_mib(*pid))
        .collect::<Result<_>>()?;

    let submitted: Vec<Submission> = (results.iter())
        .flat_map(|sent| sent.submitted.iter().cloned())
        .collect();
    let committed_now = settle(&submitted, committed);
    if config.trace {
        let path = config.dir.join(format!("trace-{rate}.tsv"));
        write_trace(&path, &results, &committed_now, stage_started)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let (latencies, committed_in_stage, blocks_in_stage) =
        committed_now.in_stage(&submitted, stage_started..=stage_end);
    let mut refused = BTreeMap::new();
    for (code, count) in results.iter().flat_map(|sent| &sent.refused) {
        *refused.entry(code.clone()).or_default() += count;
    }
    senders.iter_mut().for_each(Sender::resync_nonces);
    Ok(StageResult {
        offered_per_second: rate,
        submitted: submitted.len() as u64,
        retried: results.iter().map(|sent| sent.retried).sum(),
        refused,
        committed_per_second: committed_in_stage as f64 / elapsed.as_secs_f64(),
        blocks_per_second: blocks_in_stage as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        cpu_percent,
        rss_mib,
        generator_cpu_percent,
    })
}

pub fn run(config: &CellLoadConfig, progress: impl Fn(&str)) -> Result<CellLoadResult> {
    let localnet = start_localnet(config)?;
    let ticks = clock_ticks_per_second();
    progress(&format!(
        "cell up: {} validators, pids {:?}",
        localnet.pids.len(),
        localnet.pids
    ));
    let idle_cpu_percent = measure_idle(&localnet, config.idle, ticks)?;
    progress(&format!(
        "idle: {idle_cpu_percent:.1}% of one core for the whole cell"
    ));

    // Members come after the validators and the 3 arbiters; each API gets its own share.
    let first_member = localnet.apis.len() + 3;
    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(config.dir.join("genesis.json"))?)?;
    let all = members(&config.dir, &genesis, first_member, config.members)?;
    let mut senders: Vec<Sender> = (localnet.apis.iter())
        .map(|api| {
            let api = ApiClient::new(api)?;
            Ok(Sender {
                api,
                members: Vec::new(),
            })
        })
        .collect::<Result<_>>()?;
    let count = senders.len();
    for (index, member) in all.into_iter().enumerate() {
        senders[index % count].members.push(member);
    }

    let committed: CommitTimes = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    follow_commits(&localnet.apis[0], Arc::clone(&committed), Arc::clone(&stop))?;
    let mut stages = Vec::new();
    for &rate in &config.rates {
        let cell = (config, &localnet, &genesis);
        let stage = run_stage(cell, &mut senders, &committed, rate, ticks)?;
        progress(&format!(
            "offered {rate} tx/s: committed {:.0} tx/s, p50 {:?}, p99 {:?}",
            stage.committed_per_second, stage.p50, stage.p99
        ));
        stages.push(stage);
    }
    let catch_up = (config.catch_up_blocks > 0)
        .then(|| catch_up::measure(&localnet, &mut senders, &genesis, config, &progress))
        .transpose()?;
    stop.store(true, Ordering::SeqCst);
    drop(localnet);
    Ok(CellLoadResult {
        validators: senders.len(),
        idle_cpu_percent,
        stages,
        catch_up,
    })
}
