//! The operator's dashboard against live nodes: Debian's Prometheus scrapes a 3-cell localnet
//! through the configuration `charter localnet` writes, and every query of
//! `config/grafana/charter-dashboard.json` returns data.

use charter_e2e::localnet::RunningLocalnet;
use charter_e2e::service::LocalService;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../config/grafana/charter-dashboard.json"
);

/// Debian's Prometheus on a port of ours, scraping what `config` says.
struct Prometheus(LocalService);

impl Prometheus {
    fn start(config: &Path, data: &Path) -> Self {
        Self(LocalService::start(PROMETHEUS, |port| {
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", data.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ]
        }))
    }

    /// The series `expr` returns now, or `None` if Prometheus does not answer (yet).
    fn query(&self, expr: &str) -> Option<Vec<Value>> {
        let response = ureq::get(&format!("{}/api/v1/query", self.0.url))
            .query("query", expr)
            .call()
            .ok()?;
        let answer: Value = serde_json::from_str(&response.into_string().ok()?).ok()?;
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
        answer["data"]["result"].as_array().cloned()
    }
}

/// Every `expr` in the dashboard, wherever it is.
fn expressions(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::String(expr)) = fields.get("expr") {
                found.push(expr.clone());
            }
            fields.values().for_each(|inner| expressions(inner, found));
        }
        Value::Array(items) => items.iter().for_each(|inner| expressions(inner, found)),
        _ => {}
    }
}

#[test]
fn every_dashboard_query_returns_data_from_a_live_federation() {
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap()).unwrap();
    let mut queries = Vec::new();
    expressions(&dashboard, &mut queries);
    assert!(queries.len() >= 20, "the dashboard's queries: {queries:?}");

    let dir = tempfile::tempdir().unwrap();
    let localnet = RunningLocalnet::start(dir.path(), &["--cells", "3", "--report-every", "1000"]);
    let prometheus = Prometheus::start(
        &localnet.dir().join("prometheus.yml"),
        &dir.path().join("prometheus-data"),
    );
    // Rates need two scrapes, and finality's histograms a final certificate.
    let mut empty = queries.clone();
    let deadline = Instant::now() + Duration::from_secs(150);
    while !empty.is_empty() && Instant::now() < deadline {
        empty.retain(|expr| {
            prometheus
                .query(expr)
                .is_none_or(|series| series.is_empty())
        });
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(empty.is_empty(), "queries without data: {empty:#?}");
}
