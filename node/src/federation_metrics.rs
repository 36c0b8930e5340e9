//! Federation finality's Prometheus metrics, on the node's registry (served at `/metrics`):
//! what the checkpoint topic brought, what was collected or refused and why, which certificates
//! became final, how long our own cell's checkpoints took to, and each cell's latest final
//! epoch.

use crate::metrics::{lock, register};
use charter_federation::collector::Batched;
use charter_federation::collector::{Added, CollectError};
use charter_ledger::CellId;
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The kinds of message the checkpoint topics carry, as [`FederationMetrics::record_message`]
/// names them.
const MESSAGE_KINDS: [&str; 7] = [
    "signature",
    "aggregate",
    "certificate",
    "missing",
    "certificates",
    "missing_hand_overs",
    "undecodable",
];
/// What a certificate verified final was here: new, known, overruled by a ruling, or a second
/// final checkpoint for its epoch.
const CERTIFICATE_OUTCOMES: [&str; 4] = ["final", "known", "overruled", "equivocation"];

/// Our own checkpoints awaiting finality that are remembered for their time to finality.
const PENDING_KEPT: usize = 64;

pub struct FederationMetrics {
    messages: IntCounterVec,
    signatures_collected: IntCounter,
    signatures_refused: IntCounterVec,
    certificates: IntCounterVec,
    certificates_refused: IntCounterVec,
    certificates_batch_verified: IntCounter,
    signatures_batch_verified: IntCounter,
    hand_overs_resigned: IntCounter,
    time_to_finality: Histogram,
    latest_final_epoch: IntGaugeVec,
    latest_final_time: IntGaugeVec,
    quarantined: IntGauge,
    /// When this node built each of its own cell's recent checkpoints, by epoch.
    built: Mutex<BTreeMap<u64, Instant>>,
}

impl FederationMetrics {
    pub fn new(registry: &Registry) -> Self {
        let counters = |name: &str, help: &str, label: &str| {
            register(
                registry,
                IntCounterVec::new(Opts::new(name, help), &[label]).expect("a valid counter"),
            )
        };
        let per_cell = |name: &str, help: &str| {
            let gauges = IntGaugeVec::new(Opts::new(name, help), &["cell"]);
            register(registry, gauges.expect("a valid gauge"))
        };
        let counter = |name: &str, help: &str| {
            register(
                registry,
                IntCounter::new(name, help).expect("a valid counter"),
            )
        };
        let metrics = Self {
            messages: counters(
                "federation_messages_received_total",
                "Messages heard on the federation's topics of finality, by kind",
                "kind",
            ),
            signatures_collected: counter(
                "federation_signatures_collected_total",
                "Checkpoint signatures, and cells' aggregates of them, verified and collected",
            ),
            signatures_refused: counters(
                "federation_signatures_refused_total",
                "Checkpoint signatures and cells' aggregates of them refused, by reason",
                "reason",
            ),
            certificates: counters(
                "federation_certificates_total",
                "Certificates verified final, by what they were here: final (new), known, \
                 overruled (by a ruling) or equivocation (a second final checkpoint for an epoch)",
                "outcome",
            ),
            certificates_refused: counters(
                "federation_certificates_refused_total",
                "Certificates refused, by reason",
                "reason",
            ),
            certificates_batch_verified: counter(
                "federation_certificates_batch_verified_total",
                "Certificates heard together whose signatures were checked as one batch (one \
                     by one when the batch failed) and passed",
            ),
            signatures_batch_verified: counter(
                "federation_signatures_batch_verified_total",
                "Validators' checkpoint signatures heard together whose pairings were checked \
                     as one batch (one by one when the batch failed) and passed",
            ),
            hand_overs_resigned: counter(
                "federation_hand_overs_resigned_total",
                "Times this node signed again its own cell's checkpoint that hands over a new \
                 validator set and was not final yet (once per epoch while it is not)",
            ),
            time_to_finality: register(
                registry,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "federation_time_to_finality_seconds",
                        "From this node building its own cell's checkpoint to a final \
                         certificate for it here",
                    )
                    .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
                )
                .expect("a valid histogram"),
            ),
            latest_final_epoch: per_cell(
                "federation_latest_final_epoch",
                "Each cell's latest epoch with a final certificate here",
            ),
            latest_final_time: per_cell(
                "federation_latest_final_time_seconds",
                "When each cell's latest final certificate became final here, in Unix seconds \
                 (the finality lag is the time since)",
            ),
            quarantined: register(
                registry,
                IntGauge::new(
                    "federation_quarantined_cells",
                    "Cells in quarantine here (the bridge to them in lockdown)",
                )
                .expect("a valid gauge"),
            ),
            built: Mutex::default(),
        };
        metrics.show_every_label_at_zero();
        metrics
    }

    /// Every message kind, outcome and refusal reason exists from the start, at zero, so that
    /// a rate over it reads 0 rather than nothing.
    fn show_every_label_at_zero(&self) {
        for kind in MESSAGE_KINDS {
            self.messages.with_label_values(&[kind]);
        }
        for outcome in CERTIFICATE_OUTCOMES {
            self.certificates.with_label_values(&[outcome]);
        }
        for reason in CollectError::reasons() {
            self.signatures_refused.with_label_values(&[reason]);
            self.certificates_refused.with_label_values(&[reason]);
        }
    }

    /// A message heard on a checkpoint topic: `signature`, `aggregate`, `certificate`,
    /// `missing`, `certificates`, `missing_hand_overs`, or `undecodable`.
    pub fn record_message(&self, kind: &str) {
        self.messages.with_label_values(&[kind]).inc();
    }

    pub fn record_signature(&self, collected: Result<(), &CollectError>) {
        match collected {
            Ok(()) => self.signatures_collected.inc(),
            Err(error) => self
                .signatures_refused
                .with_label_values(&[error.reason()])
                .inc(),
        }
    }

    pub fn record_certificate(&self, added: Result<&Added, &CollectError>) {
        match added {
            Ok(added) => {
                let [final_, known, overruled, equivocation] = CERTIFICATE_OUTCOMES;
                let outcome = match added {
                    Added::Final => final_,
                    Added::Known => known,
                    Added::Overruled => overruled,
                    Added::Equivocation => equivocation,
                };
                self.certificates.with_label_values(&[outcome]).inc();
            }
            Err(error) => self
                .certificates_refused
                .with_label_values(&[error.reason()])
                .inc(),
        }
    }

    /// What passed in one batch: certificates' signatures and validators' signatures.
    pub fn record_batch_verified(&self, passed: Batched) {
        (self.certificates_batch_verified).inc_by(passed.certificates as u64);
        (self.signatures_batch_verified).inc_by(passed.signatures as u64);
    }

    /// This node signed again its own cell's hand-over that is not final yet.
    pub fn record_hand_over_resigned(&self) {
        self.hand_overs_resigned.inc();
    }

    /// This node built its own cell's checkpoint of `epoch`.
    pub fn record_built(&self, epoch: u64) {
        let mut built = lock(&self.built);
        built.insert(epoch, Instant::now());
        while built.len() > PENDING_KEPT {
            built.pop_first();
        }
    }

    /// A certificate of `cell` for `epoch` is final here; `own` when `cell` is ours.
    pub fn record_final(&self, cell: CellId, epoch: u64, own: bool) {
        let cell_label = cell.0.to_string();
        let latest = self.latest_final_epoch.with_label_values(&[&cell_label]);
        if epoch as i64 >= latest.get() {
            latest.set(epoch as i64);
            (self.latest_final_time.with_label_values(&[&cell_label])).set(unix_seconds());
        }
        if let Some(built) = own.then(|| lock(&self.built).remove(&epoch)).flatten() {
            self.time_to_finality.observe(built.elapsed().as_secs_f64());
        }
    }

    pub fn record_quarantined(&self, cells: usize) {
        self.quarantined.set(cells as i64);
    }
}

fn unix_seconds() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.map_or(0, |elapsed| elapsed.as_secs() as i64)
}
