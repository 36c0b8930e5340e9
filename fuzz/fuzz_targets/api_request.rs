//! Requests a client sends to a node's HTTP API: any method on any route, with any path
//! parameters (arbitrary text, or ids the genesis holds), query and body (arbitrary bytes, or a
//! well-signed transaction), against the real router over a real ledger (a dev cell's genesis in a
//! node's store) and mempool. No input makes the API panic or answer with a server error; bad input
//! gets a 4xx: a typed error from the API, a "not found" page from the explorer. Time is paused, so a request that waits (`?wait=60`) costs no
//! wall time.
#![no_main]

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use charter_consensus::block_store::BlockStore;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::{Action, Ledger};
use charter_node::admission::Admission;
use charter_node::api::{app, ApiParts, ApiState};
use charter_node::mempool::{MempoolLimits, SharedMempool};
use charter_node::metrics::NodeMetrics;
use charter_node::publisher::Publisher;
use charter_node::transaction_gossip::TransactionGossip;
use charter_store::NodeStore;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "HEAD"];

/// Every route the node serves (the API and the explorer), `{}` standing for a path parameter,
/// and one with no route.
const ROUTES: [&str; 31] = [
    "/v1/status",
    "/v1/transactions",
    "/v1/transactions/batch",
    "/v1/transactions/{}",
    "/v1/blocks/latest",
    "/v1/blocks/stream",
    "/v1/blocks/{}",
    "/v1/passports/{}",
    "/v1/bonds/{}",
    "/v1/escrows/{}",
    "/v1/validators",
    "/v1/validators/{}",
    "/v1/bridges/{}/rulings/{}",
    "/v1/federation",
    "/v1/checkpoints/{}/{}",
    "/v1/validator-sets/{}/{}",
    "/v1/openapi.json",
    "/metrics",
    "/explorer",
    "/explorer/activity.svg",
    "/explorer/blocks",
    "/explorer/blocks/{}",
    "/explorer/transactions/{}",
    "/explorer/passports/{}",
    "/explorer/validators",
    "/explorer/escrows",
    "/explorer/escrows/{}",
    "/explorer/federation",
    "/explorer/checkpoints/{}/{}",
    "/explorer/search",
    "/{}",
];

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    route: u8,
    first: Parameter,
    second: Parameter,
    query: String,
    body: Payload,
}

#[derive(Arbitrary, Debug)]
enum Parameter {
    Text(String),
    /// The id of the genesis passport with this index.
    Passport(u8),
    Number(u64),
}

#[derive(Arbitrary, Debug)]
enum Payload {
    Bytes(Vec<u8>),
    Transfer(Transfer),
    /// A batch envelope of well-signed transfers.
    Batch(Vec<Transfer>),
}

/// A transfer from the genesis passport `sender`, well signed, with this nonce and amount.
#[derive(Arbitrary, Debug)]
struct Transfer {
    sender: u8,
    nonce: u64,
    amount: u64,
}

impl Transfer {
    fn encode(&self, api: &Api) -> Vec<u8> {
        let passports = &api.cell.passports;
        let sender = &passports[self.sender as usize % passports.len()];
        let (to, amount) = (passports[0].id, self.amount);
        api.cell
            .transaction(sender, self.nonce % 4, Action::Transfer { to, amount })
            .encode()
    }
}

struct Api {
    runtime: Runtime,
    router: Router,
    cell: DevCell,
    /// Keeps the queue to the (absent) mesh open; what the API publishes is dropped when full.
    _gossip: tokio::sync::mpsc::Receiver<(String, Vec<u8>)>,
}

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/api-request-state");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the state directory can be made");
        let cell = DevCell::new(1, DevCellConfig::default());
        let genesis = cell.genesis.clone();
        let store = NodeStore::open(&dir.join("store")).expect("the store opens");
        let mut ledger = Ledger::open(store.state()).expect("the ledger opens");
        ledger.init_genesis(&genesis).expect("the genesis applies");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let (outbound, gossip) = tokio::sync::mpsc::channel(16);
        let (committed, _) = tokio::sync::broadcast::channel(16);
        let (_, position) = tokio::sync::watch::channel(Default::default());
        let metrics = Arc::new(NodeMetrics::new());
        let passing_on = runtime
            .block_on(async { TransactionGossip::start(Publisher::new("transactions", outbound)) });
        let admission = Admission::new(
            SharedMempool::new(MempoolLimits::default(), Default::default()),
            Ledger::open(store.state()).expect("the ledger opens"),
            Arc::clone(&metrics),
            passing_on,
        );
        let state = ApiState::new(ApiParts {
            ledger,
            blocks: BlockStore::new(store),
            admission: Arc::new(admission),
            metrics,
            committed,
            position,
            finality: None,
        });
        // The explorer starts recording commits on the runtime it is made in.
        let router = runtime.block_on(async { app(state) });
        Api {
            runtime,
            router,
            cell,
            _gossip: gossip,
        }
    })
}

/// Percent-encodes all but unreserved characters, so that any text reaches the router intact.
fn encoded(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn parameter(api: &Api, parameter: &Parameter) -> String {
    match parameter {
        Parameter::Text(text) => encoded(text, b""),
        Parameter::Passport(index) => {
            let passports = &api.cell.passports;
            passports[*index as usize % passports.len()].id.to_hex()
        }
        Parameter::Number(number) => number.to_string(),
    }
}

fuzz_target!(|input: Input| {
    let api = api();
    let method = METHODS[input.method as usize % METHODS.len()];
    let mut path = ROUTES[input.route as usize % ROUTES.len()]
        .replacen("{}", &parameter(api, &input.first), 1)
        .replacen("{}", &parameter(api, &input.second), 1);
    if !input.query.is_empty() {
        path = format!("{path}?{}", encoded(&input.query, b"=&"));
    }
    let body = match input.body {
        Payload::Bytes(bytes) => bytes,
        Payload::Transfer(transfer) => transfer.encode(api),
        Payload::Batch(transfers) => {
            let encoded: Vec<Vec<u8>> = transfers.iter().map(|t| t.encode(api)).collect();
            borsh::to_vec(&encoded).expect("a vector encodes")
        }
    };
    let request = Request::builder()
        .method(method)
        .uri(&path)
        .body(Body::from(body))
        .expect("an encoded path is a valid URI");
    let response = api
        .runtime
        .block_on(api.router.clone().oneshot(request))
        .expect("the router is infallible");
    assert!(
        !response.status().is_server_error(),
        "{method} {path} answered {}",
        response.status()
    );
});
