//! Starting the node afresh in place: it execs its own binary with the same arguments, which is
//! exactly a crash and restart (the engine's write-ahead log and the guarded signer's durable
//! record make that safe). Two things need it:
//!
//! - Reconnecting. Malachite 0.5 dials the configured consensus peers once, at start, and never
//!   again: a connection a partition ends (libp2p's ping closes it after about 20 s of silence)
//!   stays ended on both sides until one of the two processes starts afresh. So a validator that
//!   has committed nothing for a while and lacks peers starts afresh, and dials every peer again.
//! - Taking part again after catching up. A node whose ledger is below the height its signer last
//!   signed at follows the cell as an observer (see `CellEngine::catching_up_to`); the engine's
//!   validator role is fixed when it starts, so once caught up the node starts afresh.

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// Decides when a stalled, under-connected validator should start afresh.
#[derive(Debug)]
pub struct StallWatchdog {
    stalled_after: Duration,
    configured_peers: usize,
    last_progress: Instant,
}

impl StallWatchdog {
    pub fn new(stalled_after: Duration, configured_peers: usize, now: Instant) -> Self {
        Self {
            stalled_after,
            configured_peers,
            last_progress: now,
        }
    }

    /// A block was committed.
    pub fn progressed(&mut self, now: Instant) {
        self.last_progress = now;
    }

    /// Whether to start afresh: nothing committed for the stall time while connected to fewer
    /// peers than configured. A cell that is merely waiting for a crashed validator still
    /// commits, and one whose peers are all connected gains nothing from dialling them again.
    pub fn should_restart(&self, now: Instant, connected_peers: usize) -> bool {
        now.duration_since(self.last_progress) >= self.stalled_after
            && connected_peers < self.configured_peers
    }
}

/// Replaces this process with a fresh run of the same binary and arguments; returns only if
/// that failed (the binary was replaced or removed, say).
pub fn start_afresh() -> std::io::Error {
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => return error,
    };
    std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_only_when_stalled_and_missing_peers() {
        let start = Instant::now();
        let mut watchdog = StallWatchdog::new(Duration::from_secs(20), 3, start);
        let stalled = start + Duration::from_secs(20);
        assert!(!watchdog.should_restart(start + Duration::from_secs(19), 0));
        assert!(watchdog.should_restart(stalled, 2));
        assert!(
            !watchdog.should_restart(stalled, 3),
            "all peers connected: the stall is elsewhere"
        );
        watchdog.progressed(stalled);
        assert!(!watchdog.should_restart(stalled + Duration::from_secs(19), 0));
        assert!(watchdog.should_restart(stalled + Duration::from_secs(20), 0));
    }
}
