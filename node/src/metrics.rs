//! The node's Prometheus metrics, served at `/metrics`.

use crate::catch_up::CatchUp;
use crate::federation_metrics::FederationMetrics;
use charter_consensus::host::CommittedBlock;
use charter_ledger::{TxError, TxId};
use prometheus::process_collector::ProcessCollector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an admitted transaction is remembered for its submit→commit latency; one that has
/// not committed by then went stale and is forgotten.
const LATENCY_HORIZON: Duration = Duration::from_secs(600);

/// Whether this node's slashing transaction for a double vote was admitted.
const DOUBLE_VOTE_REPORTS: [&str; 2] = ["admitted", "not_admitted"];

pub struct NodeMetrics {
    registry: Registry,
    pub height: IntGauge,
    pub round: IntGauge,
    pub mempool_transactions: IntGauge,
    pub gossip_peers: IntGauge,
    pub gossip_penalties: IntCounter,
    admitted: IntCounterVec,
    refused: IntCounterVec,
    committed_transactions: IntCounter,
    rejected_in_blocks: IntCounterVec,
    commit_latency: Histogram,
    block_interval: Histogram,
    double_votes: IntCounterVec,
    heard_votes_refused: IntCounterVec,
    pub federation: FederationMetrics,
    pub catch_up: CatchUp,
    admitted_at: Mutex<HashMap<TxId, Instant>>,
    last_block: Mutex<Option<Instant>>,
}

pub(crate) fn register<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

impl Default for NodeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl NodeMetrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("charter".into()), None).expect("a valid metrics prefix");
        let gauge = |name: &str, help: &str| {
            register(&registry, IntGauge::new(name, help).expect("a valid gauge"))
        };
        let counters = |name: &str, help: &str, label: &str| {
            register(
                &registry,
                IntCounterVec::new(Opts::new(name, help), &[label]).expect("a valid counter"),
            )
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            register(
                &registry,
                Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                    .expect("a valid histogram"),
            )
        };
        let seconds = vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        // CPU seconds, resident memory, open files and threads of this process.
        (registry.register(Box::new(ProcessCollector::for_self())))
            .expect("metric names are unique");
        let metrics = Self {
            height: gauge("height", "Height of the latest committed block"),
            round: gauge("round", "Consensus round at the height being decided"),
            mempool_transactions: gauge("mempool_transactions", "Transactions in the mempool"),
            gossip_peers: gauge(
                "gossip_peers",
                "Peers connected on the transaction gossip mesh",
            ),
            gossip_penalties: register(
                &registry,
                IntCounter::new(
                    "gossip_penalties_total",
                    "Gossiped messages rejected as invalid, each a penalty on the peer that sent it",
                )
                .expect("a valid counter"),
            ),
            admitted: counters(
                "transactions_admitted_total",
                "Transactions admitted to the mempool, by where they came from",
                "source",
            ),
            refused: counters(
                "transactions_refused_total",
                "Transactions refused admission, by reason",
                "reason",
            ),
            committed_transactions: register(
                &registry,
                IntCounter::new("transactions_committed_total", "Transactions committed")
                    .expect("a valid counter"),
            ),
            rejected_in_blocks: counters(
                "transactions_rejected_in_blocks_total",
                "Transactions a decided block carried that the ledger rejected, by reason",
                "reason",
            ),
            commit_latency: histogram(
                "commit_latency_seconds",
                "From admission at this node to commit, for transactions this node admitted",
                seconds.clone(),
            ),
            block_interval: histogram(
                "block_interval_seconds",
                "Time between consecutive committed blocks",
                seconds,
            ),
            double_votes: counters(
                "double_votes_detected_total",
                "Conflicting votes by one validator in one slot seen on the consensus network, \
                 by whether this node's slashing transaction was admitted",
                "reported",
            ),
            heard_votes_refused: counters(
                "heard_votes_refused_total",
                "Votes from peers not counted for double-vote detection, by reason",
                "reason",
            ),
            federation: FederationMetrics::new(&registry),
            catch_up: CatchUp::new(&registry),
            admitted_at: Mutex::default(),
            last_block: Mutex::default(),
            registry,
        };
        // Every label known in advance exists from the start at zero, so a rate over it
        // reads 0 rather than nothing.
        for reported in DOUBLE_VOTE_REPORTS {
            metrics.double_votes.with_label_values(&[reported]);
        }
        for code in TxError::CODES {
            metrics.refused.with_label_values(&[code]);
            metrics.rejected_in_blocks.with_label_values(&[code]);
        }
        metrics
    }

    pub fn record_admitted(&self, id: TxId, source: &str) {
        self.admitted.with_label_values(&[source]).inc();
        lock(&self.admitted_at).insert(id, Instant::now());
    }

    pub fn record_refused(&self, reason: &str) {
        self.refused.with_label_values(&[reason]).inc();
    }

    pub fn record_double_vote(&self, reported: bool) {
        self.double_votes
            .with_label_values(&[DOUBLE_VOTE_REPORTS[usize::from(!reported)]])
            .inc();
    }

    pub fn record_heard_vote_refused(&self, reason: &str) {
        self.heard_votes_refused.with_label_values(&[reason]).inc();
    }

    pub fn record_block(&self, block: &CommittedBlock) {
        let now = Instant::now();
        self.height.set(block.height.0 as i64);
        self.catch_up.committed(block.height.0, now);
        if let Some(last) = lock(&self.last_block).replace(now) {
            self.block_interval.observe((now - last).as_secs_f64());
        }
        let mut admitted_at = lock(&self.admitted_at);
        for outcome in block.outcomes.iter() {
            match &outcome.rejection {
                None => self.committed_transactions.inc(),
                Some(rejection) => self
                    .rejected_in_blocks
                    .with_label_values(&[&rejection.code])
                    .inc(),
            }
            if let Some(admitted) = admitted_at.remove(&outcome.id) {
                self.commit_latency.observe((now - admitted).as_secs_f64());
            }
        }
        admitted_at.retain(|_, admitted| now - *admitted < LATENCY_HORIZON);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("encoding metrics to memory cannot fail");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
