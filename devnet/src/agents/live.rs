//! The demo workload of `charter localnet`: the simulated agents of [`charter_node::workload`] acting
//! on a live cell through the validators' HTTP APIs — each transaction signed, submitted to the
//! validator its sender talks to, and followed until the cell decides it.

use crate::agents::{Agents, ApiChain};
use crate::fixtures::DevCell;
use charter_client::ApiClient;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a submitted transaction is followed before the agent gives up on it.
const FOLLOW_SECONDS: u64 = 30;

/// What the agents achieved since the last report.
pub struct LiveStats {
    committed: u64,
    rejected: BTreeMap<String, u64>,
    since: Instant,
}

impl Default for LiveStats {
    fn default() -> Self {
        Self {
            committed: 0,
            rejected: BTreeMap::new(),
            since: Instant::now(),
        }
    }
}

impl LiveStats {
    /// A one-line summary since the last one, which starts a new window.
    pub fn take_summary(&mut self) -> String {
        let elapsed = std::mem::replace(&mut self.since, Instant::now()).elapsed();
        let rate = self.committed as f64 / elapsed.as_secs_f64().max(1e-9);
        let reasons: Vec<String> = self
            .rejected
            .iter()
            .map(|(code, count)| format!("{code} {count}"))
            .collect();
        let summary = format!(
            "agents committed {:>5} ({rate:>6.1} tx/s)  rejected {}{}",
            self.committed,
            self.rejected.values().sum::<u64>(),
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            }
        );
        self.committed = 0;
        self.rejected.clear();
        summary
    }

    fn reject(&mut self, code: &str) {
        *self.rejected.entry(code.to_string()).or_default() += 1;
    }
}

/// Runs agents in rounds of `batch` transactions until `stop` is set.
pub fn drive(
    cell: DevCell,
    apis: Vec<ApiClient>,
    batch: usize,
    seed: u64,
    stats: Arc<Mutex<LiveStats>>,
    stop: Arc<AtomicBool>,
) {
    // The validators' APIs come up once their engines have started.
    while !apis.iter().all(|api| api.get("/v1/status").is_ok()) {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut workload = Agents::new(cell, seed, &ApiChain(&apis[0]));
    let mut reachable = apis.len();
    while !stop.load(Ordering::SeqCst) {
        // Validators come and go (a user kills one to see the cell go on): the agents read
        // from and submit to those that answer.
        let answering: Vec<&ApiClient> = (apis.iter())
            .filter(|api| api.get("/v1/status").is_ok())
            .collect();
        if answering.len() != reachable {
            reachable = answering.len();
            tracing::info!(
                reachable,
                of = apis.len(),
                "agents use the validators that answer"
            );
        }
        let Some(reader) = answering.first() else {
            std::thread::sleep(Duration::from_secs(1));
            continue;
        };
        let played = match workload.play_round(reader, &answering, batch, FOLLOW_SECONDS) {
            Ok(played) => played,
            Err(error) => {
                tracing::debug!(%error, "an agents' round failed; trying again");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let mut stats = stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for one in played {
            match &one.outcome {
                Ok(()) => stats.committed += 1,
                Err(code) => stats.reject(code),
            }
        }
    }
}
