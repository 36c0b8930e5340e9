//! How fast a validator far behind catches up. The last validator of the loaded cell is
//! killed and its data directory copied; it is started again and the whole cell commits
//! light load until it is `catch_up_blocks` past the copy; then that validator is stopped, its
//! data directory put back as the copy had it, and it is started again, as an operator
//! restoring an old backup would. It is followed, while the others commit `catch_up_rate`
//! transfers per second, until it holds every block the cell had when it came back; its rate
//! is compared with the cell's over the same time.

use crate::cell_load::{offer, sign_stage, CellLoadConfig, Localnet, Sender};
use anyhow::{bail, Context, Result};
use charter_client::ApiClient;
use charter_ledger::Genesis;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest a restarted validator may take to catch up before the measurement gives up.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(1800);
const POLL: Duration = Duration::from_millis(100);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Transfers per second while the cell makes the blocks the restored validator will miss:
/// light, so that blocks follow each other as fast as consensus allows.
pub(crate) const FILL_RATE: u64 = 100;
/// Load is signed and offered in pieces of this length until it is told to stop.
const LOAD_PIECE: Duration = Duration::from_secs(5);

pub struct CatchUpResult {
    /// Blocks the validator missed.
    pub behind: u64,
    /// Blocks per second at which the whole cell made the blocks it missed (light load).
    pub made_blocks_per_second: f64,
    /// The cell's blocks per second while the validator caught up.
    pub cell_blocks_per_second: f64,
    /// From its restart to the first block it took from the others.
    pub first_block_after: Duration,
    /// Blocks per second from that first block until it held every block it missed.
    pub blocks_per_second: f64,
}

/// A validator process this measurement started, stopped (SIGINT) when dropped.
struct Restarted(Child);

impl Restarted {
    fn start(charter: &Path, config: &Path, log: &Path) -> Result<Self> {
        let log = std::fs::File::create(log)?;
        let child = Command::new(charter)
            .arg("run")
            .arg("--config")
            .arg(config)
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .context("restarting the validator")?;
        Ok(Self(child))
    }
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

pub(crate) fn measure(
    localnet: &Localnet,
    senders: &mut [Sender],
    genesis: &Genesis,
    config: &CellLoadConfig,
    progress: &impl Fn(&str),
) -> Result<CatchUpResult> {
    let laggard = localnet.pids.len() - 1;
    let tip = ApiClient::new(&localnet.apis[0])?;
    let data = config.dir.join(format!("data-{laggard}"));
    let backup = config.dir.join(format!("data-{laggard}-backup"));
    kill(localnet.pids[laggard])?;
    copy_dir(&data, &backup)?;
    let restart = |name: &str| {
        let log = config.dir.join(format!("node-{laggard}-{name}.log"));
        Restarted::start(&config.charter, &localnet.configs[laggard], &log)
    };
    let backed_up_at = height(&tip)?;
    progress(&format!(
        "validator {laggard} backed up at height {backed_up_at}; the cell commits {FILL_RATE} \
         tx/s until it is {} blocks further",
        config.catch_up_blocks
    ));
    let running = restart("after-backup")?;
    let target = backed_up_at + config.catch_up_blocks;
    let filling = Instant::now();
    load_until(&mut senders[..laggard], genesis, FILL_RATE, || {
        let at = height(&tip).unwrap_or(0);
        progress(&format!("cell at height {at} of {target}"));
        at >= target
    });
    let made_blocks_per_second =
        (height(&tip)? - backed_up_at) as f64 / filling.elapsed().as_secs_f64();
    drop(running);
    std::fs::remove_dir_all(&data)?;
    copy_dir(&backup, &data)?;

    let _restored = restart("restored")?;
    let restarted = Instant::now();
    let to = height(&tip)?;
    progress(&format!(
        "validator {laggard} restored from its backup; the others commit {} tx/s meanwhile",
        config.catch_up_rate
    ));
    let laggard_api = ApiClient::new(&localnet.apis[laggard])?;
    let stop = AtomicBool::new(false);
    let followed = std::thread::scope(|scope| {
        scope.spawn(|| {
            load_until(
                &mut senders[..laggard],
                genesis,
                config.catch_up_rate,
                || stop.load(Ordering::Relaxed),
            )
        });
        let followed = follow(&laggard_api, to, restarted, progress);
        stop.store(true, Ordering::Relaxed);
        followed
    })?;
    let Followed {
        start,
        first: (first_height, first_at),
        caught_up_at,
    } = followed;
    let cell_blocks_per_second =
        (height(&tip)? - to) as f64 / restarted.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    let seconds = (caught_up_at - first_at).as_secs_f64();
    Ok(CatchUpResult {
        behind: to - start,
        made_blocks_per_second,
        cell_blocks_per_second,
        first_block_after: first_at,
        blocks_per_second: (to - first_height) as f64 / seconds.max(f64::MIN_POSITIVE),
    })
}

/// What the restored validator did, timed from its restart.
struct Followed {
    /// The height its store held when it came up.
    start: u64,
    /// The first height above that it held, and when.
    first: (u64, Duration),
    /// When it held the height the cell had at its restart.
    caught_up_at: Duration,
}

/// Polls the restored validator until it holds height `to`.
fn follow(
    laggard: &ApiClient,
    to: u64,
    restarted: Instant,
    progress: &impl Fn(&str),
) -> Result<Followed> {
    let (mut start, mut first, mut last_progress) = (None, None, Instant::now());
    loop {
        if restarted.elapsed() > CATCH_UP_LIMIT {
            bail!("the restored validator did not catch up within {CATCH_UP_LIMIT:?}");
        }
        std::thread::sleep(POLL);
        let Ok(held) = height(laggard) else {
            continue;
        };
        let start = *start.get_or_insert(held);
        if held > start && first.is_none() {
            first = Some((held, restarted.elapsed()));
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            progress(&format!("restored validator at height {held} of {to}"));
            last_progress = Instant::now();
        }
        if let (Some(first), true) = (first, held >= to) {
            let caught_up_at = restarted.elapsed();
            return Ok(Followed {
                start,
                first,
                caught_up_at,
            });
        }
    }
}

/// Transfers through `senders` at `rate`, a piece at a time, until `done` says so after a
/// piece.
fn load_until(senders: &mut [Sender], genesis: &Genesis, rate: u64, done: impl Fn() -> bool) {
    loop {
        let (per_sender, signed) = sign_stage(senders, genesis, rate, LOAD_PIECE);
        std::thread::scope(|scope| {
            for (sender, signed) in senders.iter().zip(&signed) {
                scope.spawn(move || offer(&sender.api, signed, per_sender, LOAD_PIECE));
            }
        });
        senders.iter_mut().for_each(Sender::resync_nonces);
        if done() {
            return;
        }
    }
}

fn kill(pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    if !status.success() {
        bail!("could not kill process {pid}");
    }
    // The database's lock is released once the process has exited (a zombie, until the
    // localnet that started it reaps it, has).
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(") ")
            .next()
            .is_some_and(|rest| rest.starts_with('Z'))
    }) {
        std::thread::sleep(POLL);
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &PathBuf) -> Result<()> {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status()?;
    if !status.success() {
        bail!("could not copy {} to {}", from.display(), to.display());
    }
    Ok(())
}

fn height(api: &ApiClient) -> Result<u64> {
    (api.get("/v1/status")?["height"].as_u64()).context("the status has a height")
}
