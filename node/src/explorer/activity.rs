//! The activity chart: committed transactions per second as bars and the mean block interval
//! as a line, in 10-second buckets over the last five minutes, drawn as SVG on the server.

use super::index::{RecentBlocks, RECENT};
use maud::{html, Markup};
use std::time::{Duration, SystemTime};

pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 160;
const BUCKET: Duration = Duration::from_secs(10);
const PLOT_TOP: f64 = 20.0;
const PLOT_BOTTOM: f64 = 140.0;

/// One bucket's figures: transactions per second, and the mean time from the block before to
/// each block that committed in it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bucket {
    transactions_per_second: f64,
    interval: Option<f64>,
}

fn buckets(recent: &RecentBlocks, now: SystemTime) -> Vec<Bucket> {
    let count = (RECENT.as_secs() / BUCKET.as_secs()) as usize;
    let mut transactions = vec![0usize; count];
    let mut intervals = vec![Vec::new(); count];
    let mut previous: Option<SystemTime> = None;
    for block in recent.blocks() {
        let age = now.duration_since(block.at).unwrap_or_default();
        let back = (age.as_secs() / BUCKET.as_secs()) as usize;
        if back < count {
            transactions[count - 1 - back] += block.transactions;
            if let Some(since) =
                previous.and_then(|previous| block.at.duration_since(previous).ok())
            {
                intervals[count - 1 - back].push(since.as_secs_f64());
            }
        }
        previous = Some(block.at);
    }
    let seconds = BUCKET.as_secs_f64();
    (transactions.iter().zip(&intervals))
        .map(|(transactions, intervals)| Bucket {
            transactions_per_second: *transactions as f64 / seconds,
            interval: (!intervals.is_empty())
                .then(|| intervals.iter().sum::<f64>() / intervals.len() as f64),
        })
        .collect()
}

pub fn chart(recent: &RecentBlocks, now: SystemTime) -> Markup {
    let buckets = buckets(recent, now);
    let peak_rate = (buckets.iter())
        .map(|bucket| bucket.transactions_per_second)
        .fold(1.0, f64::max);
    let peak_interval = (buckets.iter())
        .filter_map(|bucket| bucket.interval)
        .fold(0.1, f64::max);
    let width = f64::from(WIDTH) / buckets.len() as f64;
    let height = PLOT_BOTTOM - PLOT_TOP;
    let interval_points: Vec<String> = (buckets.iter().enumerate())
        .filter_map(|(index, bucket)| {
            let interval = bucket.interval?;
            let x = (index as f64 + 0.5) * width;
            let y = PLOT_BOTTOM - interval / peak_interval * height;
            Some(format!("{x:.1},{y:.1}"))
        })
        .collect();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width=(WIDTH) height=(HEIGHT) {
            style { "text{font:11px sans-serif;fill:#555}.bar{fill:#4c78a8}.line{fill:none;stroke:#e45756;stroke-width:2}" }
            text x="0" y="12" { "tx/s (bars), peak " (format!("{peak_rate:.1}")) }
            text x=(WIDTH) y="12" text-anchor="end" { "block interval (line), peak " (format!("{peak_interval:.2}")) " s" }
            @for (index, bucket) in buckets.iter().enumerate() {
                @let bar = bucket.transactions_per_second / peak_rate * height;
                rect.bar x=(format!("{:.1}", index as f64 * width + 1.0)) y=(format!("{:.1}", PLOT_BOTTOM - bar))
                    width=(format!("{:.1}", (width - 2.0).max(1.0))) height=(format!("{bar:.1}")) {}
            }
            polyline.line points=(interval_points.join(" ")) {}
            line x1="0" y1=(PLOT_BOTTOM) x2=(WIDTH) y2=(PLOT_BOTTOM) stroke="#999" {}
            text x="0" y=(HEIGHT - 4) { "5 minutes ago" }
            text x=(WIDTH) y=(HEIGHT - 4) text-anchor="end" { "now" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explorer::index::RecentBlock;

    #[test]
    fn blocks_fall_in_the_bucket_of_their_age() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
        let mut recent = RecentBlocks::default();
        for (age, transactions) in [(25, 40), (3, 10), (1, 20)] {
            recent.committed(RecentBlock {
                at: now - Duration::from_secs(age),
                transactions,
            });
        }
        let buckets = buckets(&recent, now);
        assert_eq!(buckets.len(), 30);
        let last = buckets[29];
        assert_eq!(last.transactions_per_second, 3.0);
        assert_eq!(last.interval, Some(12.0), "the mean of 22 s and 2 s");
        assert_eq!(buckets[27].transactions_per_second, 4.0);
        assert_eq!(buckets[27].interval, None, "no block before the first");
        assert_eq!(buckets[28], Bucket::default());
    }
}
