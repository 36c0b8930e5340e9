//! How far a node is behind its cell while it catches up, and how fast it closes the gap.
//!
//! The cell's height is learned from the consensus votes this node hears: a vote at height `h`
//! whose signature verifies against a validator's key means the cell decided `h − 1` at least.
//! The rate is the blocks this node committed over the last few seconds.

use crate::metrics::{lock, register};
use prometheus::{IntGauge, Registry};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A node this many blocks behind (or fewer) is in step: the cell decides the next height while
/// this node commits the last.
const IN_STEP: u64 = 2;
/// The commits the rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How often catching up is logged.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Where a catching-up node stands (served in `/v1/status` as `catch_up`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatchUpReport {
    /// The latest height this node committed.
    pub height: u64,
    /// The height the cell has decided, as far as this node has heard.
    pub target: u64,
    /// Blocks this node committed per second over the last 10 seconds.
    pub blocks_per_second: f64,
    /// At that rate, seconds until it reaches `target`; `null` while it commits nothing.
    pub seconds_left: Option<f64>,
}

#[derive(Default)]
struct Progress {
    target: u64,
    /// Recent commits, oldest first: when, and at which height.
    commits: VecDeque<(Instant, u64)>,
    last_logged: Option<Instant>,
}

pub struct CatchUp {
    progress: Mutex<Progress>,
    target_gauge: IntGauge,
}

impl CatchUp {
    pub fn new(registry: &Registry) -> Self {
        let target_gauge = IntGauge::new(
            "catch_up_target_height",
            "The height the cell has decided as this node heard it from verified votes",
        )
        .expect("a valid gauge");
        Self {
            progress: Mutex::default(),
            target_gauge: register(registry, target_gauge),
        }
    }

    /// The cell has decided at least `height`.
    pub fn heard(&self, height: u64) {
        let mut progress = lock(&self.progress);
        if height > progress.target {
            progress.target = height;
            self.target_gauge.set(height as i64);
        }
    }

    /// This node committed `height` at `now`; logs progress now and then while behind.
    pub fn committed(&self, height: u64, now: Instant) {
        {
            let mut progress = lock(&self.progress);
            progress.commits.push_back((now, height));
            while progress
                .commits
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW)
            {
                progress.commits.pop_front();
            }
        }
        self.heard(height);
        let Some(report) = self.report(now) else {
            return;
        };
        let mut progress = lock(&self.progress);
        if progress
            .last_logged
            .is_some_and(|logged| now.duration_since(logged) < LOG_EVERY)
        {
            return;
        }
        progress.last_logged = Some(now);
        tracing::info!(
            height = report.height,
            target = report.target,
            blocks_per_second = format!("{:.1}", report.blocks_per_second),
            seconds_left = report.seconds_left.map(|left| format!("{left:.0}")),
            "catching up with the cell"
        );
    }

    /// Where this node stands while it is more than a couple of blocks behind; `None` in step.
    pub fn report(&self, now: Instant) -> Option<CatchUpReport> {
        let progress = lock(&self.progress);
        let &(_, height) = progress.commits.back()?;
        if progress.target <= height + IN_STEP {
            return None;
        }
        let blocks_per_second = match (progress.commits.front(), progress.commits.len()) {
            (Some(&(first_at, first)), 2..) => {
                let elapsed = now.duration_since(first_at).max(Duration::from_millis(1));
                (height - first) as f64 / elapsed.as_secs_f64()
            }
            _ => 0.0,
        };
        let behind = (progress.target - height) as f64;
        Some(CatchUpReport {
            height,
            target: progress.target,
            blocks_per_second,
            seconds_left: (blocks_per_second > 0.0).then(|| behind / blocks_per_second),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catch_up() -> CatchUp {
        CatchUp::new(&Registry::new())
    }

    #[test]
    fn a_node_within_two_blocks_of_what_it_heard_is_in_step() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.committed(10, start);
        catch_up.heard(12);
        assert_eq!(catch_up.report(start), None);
        catch_up.heard(13);
        assert!(catch_up.report(start).is_some());
    }

    #[test]
    fn progress_is_the_rate_of_recent_commits_and_the_time_left_at_that_rate() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.heard(1_000);
        for second in 0..=4 {
            catch_up.committed(100 + 50 * second, start + Duration::from_secs(second));
        }
        let report = catch_up
            .report(start + Duration::from_secs(4))
            .expect("behind");
        assert_eq!((report.height, report.target), (300, 1_000));
        assert_eq!(report.blocks_per_second, 50.0);
        assert_eq!(report.seconds_left, Some(14.0));
    }

    #[test]
    fn the_rate_forgets_commits_older_than_its_window() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.heard(1_000);
        catch_up.committed(10, start);
        catch_up.committed(20, start + Duration::from_secs(1));
        catch_up.committed(21, start + Duration::from_secs(20));
        let report = catch_up
            .report(start + Duration::from_secs(20))
            .expect("behind");
        assert_eq!(report.blocks_per_second, 0.0);
        assert_eq!(report.seconds_left, None);
    }

    #[test]
    fn an_older_height_heard_never_lowers_the_target() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.committed(1, start);
        catch_up.heard(50);
        catch_up.heard(40);
        assert_eq!(catch_up.report(start).map(|report| report.target), Some(50));
    }
}
