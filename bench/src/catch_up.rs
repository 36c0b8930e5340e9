//! How fast a validator that was down catches up. The last validator of the loaded cell is
//! killed; the others commit signed transfers for a while; it is started again from its store
//! and followed until it holds every block the cell had when it came back. Compares its rate
//! with the cell's own commit rate over the same blocks.

use crate::cell_load::{offer, sign_stage, CellLoadConfig, Localnet, Sender};
use anyhow::{bail, Context, Result};
use charter_client::ApiClient;
use charter_ledger::Genesis;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a restarted validator may take to catch up before the measurement gives up.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(100);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub struct CatchUpResult {
    /// Blocks the validator missed.
    pub behind: u64,
    /// The cell's blocks per second while the validator was down.
    pub cell_blocks_per_second: f64,
    /// From its restart to the first block it took from the others.
    pub first_block_after: Duration,
    /// Blocks per second from that first block until it held every block it missed.
    pub blocks_per_second: f64,
}

/// Stops a process this measurement started when it ends, however it ends.
struct Restarted(Child);

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
    let status = Command::new("kill")
        .args(["-KILL", &localnet.pids[laggard].to_string()])
        .status()?;
    if !status.success() {
        bail!("could not kill validator {laggard}");
    }
    let tip = ApiClient::new(&localnet.apis[0])?;
    let (from, down_since) = (height(&tip)?, Instant::now());
    progress(&format!(
        "validator {laggard} killed at height {from}; the others commit {} tx/s for {:?}",
        config.catch_up_rate, config.catch_up_load
    ));
    load(&mut senders[..laggard], genesis, config);
    let to = height(&tip)?;
    let cell_blocks_per_second = (to - from) as f64 / down_since.elapsed().as_secs_f64();

    let log = std::fs::File::create(config.dir.join(format!("node-{laggard}-restarted.log")))?;
    let _restarted = Restarted(
        Command::new(&config.charter)
            .arg("run")
            .arg("--config")
            .arg(&localnet.configs[laggard])
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .context("restarting the validator")?,
    );
    let restarted = Instant::now();
    progress(&format!(
        "validator {laggard} restarted, {} blocks behind",
        to - from
    ));
    let laggard_api = ApiClient::new(&localnet.apis[laggard])?;
    let (mut first, mut last_progress) = (None, Instant::now());
    loop {
        if restarted.elapsed() > CATCH_UP_LIMIT {
            bail!("validator {laggard} did not catch up within {CATCH_UP_LIMIT:?}");
        }
        std::thread::sleep(POLL);
        let Ok(held) = height(&laggard_api) else {
            continue;
        };
        if held > from && first.is_none() {
            first = Some((held, restarted.elapsed()));
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            progress(&format!("validator {laggard} at height {held} of {to}"));
            last_progress = Instant::now();
        }
        if let (Some((first_height, first_at)), true) = (first, held >= to) {
            let seconds = (restarted.elapsed() - first_at).as_secs_f64();
            return Ok(CatchUpResult {
                behind: to - from,
                cell_blocks_per_second,
                first_block_after: first_at,
                blocks_per_second: (held - first_height) as f64 / seconds.max(f64::MIN_POSITIVE),
            });
        }
    }
}

/// Transfers through `senders` at the configured rate for the configured time.
fn load(senders: &mut [Sender], genesis: &Genesis, config: &CellLoadConfig) {
    let (per_sender, signed) =
        sign_stage(senders, genesis, config.catch_up_rate, config.catch_up_load);
    std::thread::scope(|scope| {
        for (sender, signed) in senders.iter().zip(&signed) {
            scope.spawn(move || offer(&sender.api, signed, per_sender, config.catch_up_load));
        }
    });
    senders.iter_mut().for_each(Sender::resync_nonces);
}

fn height(api: &ApiClient) -> Result<u64> {
    (api.get("/v1/status")?["height"].as_u64()).context("the status has a height")
}
