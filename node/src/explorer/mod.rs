//! The block explorer every node serves at `/explorer`: server-rendered pages over the same
//! reads as the JSON API, a small script that keeps the cell's figures and the block list live
//! from the block stream, and its stylesheet, all embedded in the binary (it works offline).
//!
//! Pages: the cell at a glance (`/explorer`), blocks, a block, a transaction, a passport with
//! its lineage, validators with their slashes, escrows, governance processes and one process,
//! jury cases and one case (its draw and rulings),
//! the federation and a checkpoint, and search. An unknown id gets a "not found" page with status 404.

mod accounts;
mod activity;
mod chain;
mod federation;
mod governance;
mod html;
mod index;
mod juries;

use crate::api::ApiState;
use crate::metrics::lock;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use charter_consensus::host::CommittedBlock;
use charter_ledger::state::{CellInfo, StateKey};
use index::{ExplorerIndex, RecentBlock, RecentBlocks};
use maud::Markup;
use serde::Deserialize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;
use tokio::sync::broadcast;

const STYLESHEET: &str = include_str!("../../assets/explorer.css");
const SCRIPT: &str = include_str!("../../assets/explorer.js");

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// What the page is about does not exist here (an unknown id, a height not reached).
    #[error("{0}")]
    NotFound(String),
    /// This node failed to read what the page needs.
    #[error("{0}")]
    Read(String),
}

impl PageError {
    fn read(error: impl std::fmt::Display) -> Self {
        Self::Read(error.to_string())
    }
}

type PageResult = Result<Markup, PageError>;

pub struct Explorer {
    api: Arc<ApiState>,
    index: Mutex<ExplorerIndex>,
    recent: Arc<Mutex<RecentBlocks>>,
}

impl Explorer {
    /// The index, brought up to the latest block the ledger applied.
    fn index(&self) -> Result<MutexGuard<'_, ExplorerIndex>, PageError> {
        let (cell, applied) = {
            let ledger = self.api.ledger().map_err(PageError::read)?;
            let cell: Option<CellInfo> = ledger.get(&StateKey::Cell).map_err(PageError::read)?;
            let cell = cell.ok_or_else(|| PageError::Read("the ledger has no genesis".into()))?;
            (cell.cell, ledger.height().unwrap_or(0))
        };
        let mut index = lock(&self.index);
        index
            .catch_up(self.api.blocks(), cell, applied)
            .map_err(PageError::read)?;
        Ok(index)
    }

    fn recent(&self) -> MutexGuard<'_, RecentBlocks> {
        lock(&self.recent)
    }
}

/// The explorer's routes; also starts recording when blocks commit here, for the chart.
pub fn router(api: Arc<ApiState>) -> Router {
    let recent = Arc::new(Mutex::new(RecentBlocks::default()));
    tokio::spawn(record_commits(
        api.committed_receiver(),
        Arc::clone(&recent),
    ));
    let explorer = Arc::new(Explorer {
        api,
        index: Mutex::default(),
        recent,
    });
    Router::new()
        .route("/", get(|| async { Redirect::to("/explorer") }))
        .route("/explorer", get(overview))
        .route("/explorer/activity.svg", get(activity_chart))
        .route("/explorer/blocks", get(blocks))
        .route("/explorer/blocks/{height}", get(block))
        .route("/explorer/transactions/{id}", get(transaction))
        .route("/explorer/passports/{id}", get(passport))
        .route("/explorer/validators", get(validators))
        .route("/explorer/escrows", get(escrows))
        .route("/explorer/escrows/{id}", get(escrow))
        .route("/explorer/federation", get(federation))
        .route("/explorer/governance", get(processes))
        .route("/explorer/governance/{id}", get(process))
        .route("/explorer/juries", get(cases))
        .route("/explorer/juries/{id}", get(case))
        .route("/explorer/checkpoints/{cell}/{epoch}", get(checkpoint))
        .route("/explorer/search", get(search))
        .route("/explorer/assets/explorer.css", get(stylesheet))
        .route("/explorer/assets/explorer.js", get(script))
        .route("/explorer/{*rest}", get(no_such_page))
        .with_state(explorer)
}

async fn record_commits(
    mut committed: broadcast::Receiver<CommittedBlock>,
    recent: Arc<Mutex<RecentBlocks>>,
) {
    loop {
        match committed.recv().await {
            Ok(block) => lock(&recent).committed(RecentBlock {
                at: SystemTime::now(),
                transactions: (block.outcomes.iter())
                    .filter(|outcome| outcome.rejection.is_none())
                    .count(),
            }),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Renders a page off the async workers: its reads are synchronous storage reads (indexing a
/// long chain for the first time among them), and the runtime is consensus's too.
async fn render(
    explorer: Arc<Explorer>,
    page: impl FnOnce(&Explorer) -> PageResult + Send + 'static,
) -> Response {
    let rendered = tokio::task::spawn_blocking(move || page(&explorer)).await;
    respond(rendered.unwrap_or_else(|error| Err(PageError::read(error))))
}

fn respond(page: PageResult) -> Response {
    match page {
        Ok(markup) => Html(markup.into_string()).into_response(),
        Err(PageError::NotFound(what)) => (
            StatusCode::NOT_FOUND,
            Html(html::not_found(&what).into_string()),
        )
            .into_response(),
        Err(PageError::Read(error)) => {
            tracing::error!(%error, "explorer read failed");
            let page = html::failed(&error).into_string();
            (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response()
        }
    }
}

type Shared = State<Arc<Explorer>>;

async fn overview(State(explorer): Shared) -> Response {
    render(explorer, chain::overview).await
}

async fn activity_chart(State(explorer): Shared) -> Response {
    let svg = activity::chart(&explorer.recent(), SystemTime::now());
    let headers = [
        (header::CONTENT_TYPE, "image/svg+xml"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (headers, svg.into_string()).into_response()
}

#[derive(Deserialize)]
struct BlocksQuery {
    /// The list starts below this height (the latest when absent).
    before: Option<String>,
}

async fn blocks(State(explorer): Shared, Query(query): Query<BlocksQuery>) -> Response {
    let before = query.before.map(|before| {
        (before.parse::<u64>()).map_err(|_| PageError::NotFound(format!("A block before {before}")))
    });
    match before.transpose() {
        Ok(before) => render(explorer, move |explorer| chain::blocks(explorer, before)).await,
        Err(not_found) => respond(Err(not_found)),
    }
}

async fn block(State(explorer): Shared, Path(height): Path<String>) -> Response {
    render(explorer, move |explorer| chain::block(explorer, &height)).await
}

async fn transaction(State(explorer): Shared, Path(id): Path<String>) -> Response {
    render(explorer, move |explorer| chain::transaction(explorer, &id)).await
}

async fn passport(State(explorer): Shared, Path(id): Path<String>) -> Response {
    render(explorer, move |explorer| accounts::passport(explorer, &id)).await
}

async fn validators(State(explorer): Shared) -> Response {
    render(explorer, accounts::validators).await
}

async fn escrows(State(explorer): Shared) -> Response {
    render(explorer, accounts::escrows).await
}

async fn escrow(State(explorer): Shared, Path(id): Path<String>) -> Response {
    render(explorer, move |explorer| accounts::escrow(explorer, &id)).await
}

/// A page of a list numbered from 0, newest first.
#[derive(Deserialize)]
struct NumberedQuery {
    /// The list starts below this id (the newest when absent).
    before: Option<String>,
}

impl NumberedQuery {
    fn before(self, what: &str) -> Result<Option<u64>, PageError> {
        let parse = |before: String| {
            (before.parse::<u64>())
                .map_err(|_| PageError::NotFound(format!("{what} before {before}")))
        };
        self.before.map(parse).transpose()
    }
}

async fn processes(State(explorer): Shared, Query(query): Query<NumberedQuery>) -> Response {
    match query.before("A process") {
        Ok(before) => {
            render(explorer, move |explorer| {
                governance::processes(explorer, before)
            })
            .await
        }
        Err(not_found) => respond(Err(not_found)),
    }
}

async fn cases(State(explorer): Shared, Query(query): Query<NumberedQuery>) -> Response {
    match query.before("A jury case") {
        Ok(before) => render(explorer, move |explorer| juries::cases(explorer, before)).await,
        Err(not_found) => respond(Err(not_found)),
    }
}

async fn case(State(explorer): Shared, Path(id): Path<String>) -> Response {
    render(explorer, move |explorer| juries::case(explorer, &id)).await
}

async fn process(State(explorer): Shared, Path(id): Path<String>) -> Response {
    render(explorer, move |explorer| governance::process(explorer, &id)).await
}

async fn federation(State(explorer): Shared) -> Response {
    render(explorer, federation::federation).await
}

async fn checkpoint(
    State(explorer): Shared,
    Path((cell, epoch)): Path<(String, String)>,
) -> Response {
    render(explorer, move |explorer| {
        federation::checkpoint(explorer, &cell, &epoch)
    })
    .await
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Sends the reader to the page of what they searched for, or says it is not known.
async fn search(State(explorer): Shared, Query(query): Query<SearchQuery>) -> Response {
    let wanted = query.q.trim().to_string();
    let found = tokio::task::spawn_blocking(move || chain::find(&explorer, &wanted)).await;
    match found.unwrap_or_else(|error| Err(PageError::read(error))) {
        Ok(Some(page)) => Redirect::to(&page).into_response(),
        Ok(None) => respond(Err(PageError::NotFound(format!("“{}”", query.q.trim())))),
        Err(error) => respond(Err(error)),
    }
}

async fn no_such_page() -> Response {
    respond(Err(PageError::NotFound("This page".to_string())))
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css")], STYLESHEET).into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], SCRIPT).into_response()
}
