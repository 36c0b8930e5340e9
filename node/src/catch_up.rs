//! How far a node is behind its cell while it catches up, and how fast it closes the gap.
//!
//! The cell's height is learned from the consensus votes this node hears: a vote at height `h`
//! whose signature verifies against a validator's key means its voter saw `h − 1` decided. The
//! target is the height more than a third of the validators (by count) voted past, so a lone
//! Byzantine validator signing votes far ahead cannot make a node look behind. The rate is the
//! blocks this node committed over the last few seconds.

use crate::metrics::{lock, register};
use charter_ledger::PassportId;
use prometheus::{IntGauge, Registry};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
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
    /// The height each validator was heard voting past.
    voted_past: BTreeMap<PassportId, u64>,
    /// The height more than a third of the validators voted past.
    target: u64,
    /// Recent commits, oldest first: when, and at which height.
    commits: VecDeque<(Instant, u64)>,
    last_logged: Option<Instant>,
}

impl Progress {
    /// The highest height that more than a third of `validators` were heard voting past.
    fn vouched(&self, validators: usize) -> u64 {
        let mut heights: Vec<u64> = self.voted_past.values().copied().collect();
        heights.sort_unstable_by(|a, b| b.cmp(a));
        heights.get(validators / 3).copied().unwrap_or(0)
    }
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

    /// `voter`, one of the cell's `validators`, has seen `height` decided.
    pub fn heard(&self, voter: PassportId, height: u64, validators: usize) {
        let mut progress = lock(&self.progress);
        let voted_past = progress.voted_past.entry(voter).or_default();
        *voted_past = (*voted_past).max(height);
        let target = progress.vouched(validators).max(progress.target);
        progress.target = target;
        self.target_gauge
            .set(i64::try_from(target).unwrap_or(i64::MAX));
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
        if progress.target <= height.saturating_add(IN_STEP) {
            return None;
        }
        let recent: Vec<&(Instant, u64)> = (progress.commits.iter())
            .filter(|(at, _)| now.duration_since(*at) <= RATE_WINDOW)
            .collect();
        let blocks_per_second = match (recent.first(), recent.len()) {
            (Some(&&(first_at, first)), 2..) => {
                let elapsed = now.duration_since(first_at).max(Duration::from_millis(1));
                height.saturating_sub(first) as f64 / elapsed.as_secs_f64()
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

    const VALIDATORS: usize = 4;

    fn catch_up() -> CatchUp {
        CatchUp::new(&Registry::new())
    }

    fn voter(index: u8) -> PassportId {
        PassportId([index; 32])
    }

    /// Two of four validators (more than a third) voted past `height`.
    fn vouch(catch_up: &CatchUp, height: u64) {
        catch_up.heard(voter(1), height, VALIDATORS);
        catch_up.heard(voter(2), height, VALIDATORS);
    }

    #[test]
    fn a_node_within_two_blocks_of_the_cell_is_in_step() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.committed(10, start);
        vouch(&catch_up, 12);
        assert_eq!(catch_up.report(start), None);
        vouch(&catch_up, 13);
        assert!(catch_up.report(start).is_some());
    }

    #[test]
    fn one_validator_voting_far_ahead_does_not_make_a_node_look_behind() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.committed(10, start);
        catch_up.heard(voter(9), 1_000_000, VALIDATORS);
        assert_eq!(catch_up.report(start), None);
        catch_up.heard(voter(1), 500, VALIDATORS);
        assert_eq!(
            catch_up.report(start).map(|report| report.target),
            Some(500)
        );
    }

    #[test]
    fn progress_is_the_rate_of_recent_commits_and_the_time_left_at_that_rate() {
        let catch_up = catch_up();
        let start = Instant::now();
        vouch(&catch_up, 1_000);
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
        vouch(&catch_up, 1_000);
        catch_up.committed(10, start);
        catch_up.committed(20, start + Duration::from_secs(1));
        let stalled = start + Duration::from_secs(20);
        let report = catch_up.report(stalled).expect("behind");
        assert_eq!(report.blocks_per_second, 0.0);
        assert_eq!(report.seconds_left, None);
    }

    #[test]
    fn an_older_height_heard_never_lowers_the_target() {
        let catch_up = catch_up();
        let start = Instant::now();
        catch_up.committed(1, start);
        vouch(&catch_up, 50);
        vouch(&catch_up, 40);
        assert_eq!(catch_up.report(start).map(|report| report.target), Some(50));
    }
}
