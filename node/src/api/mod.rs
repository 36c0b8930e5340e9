//! The node's HTTP JSON API: status; submitting transactions and following them to their
//! outcome; blocks with their certificates and a live stream of them; passports, bonds,
//! escrows and validators, each with a state proof on request; governance (`governance`) and
//! juries (`juries`); the OpenAPI document; and Prometheus metrics.
//!
//! State reads go through a read-only ledger handle over the same storage consensus commits
//! to, refreshed to the latest committed height on every request, so each answer is one
//! consistent height. Block reads share the block store consensus writes.

mod block_view;
mod governance;
mod juries;

pub(crate) use block_view::BlockView;

use crate::admission::{Admission, Source};
use crate::http_errors::{json_errors, refuse_declared_oversize};
use crate::latest_ledger::LatestLedger;
use crate::mempool::AdmissionError;
use crate::metrics::NodeMetrics;
use crate::submission_batch::{decode_batch, MAX_BATCH_BYTES};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Json, Router};
use charter_consensus::block::BlockHeight;
use charter_consensus::block_store::{BlockStore, BlockStoreError};
use charter_consensus::host::{CommittedBlock, ConsensusPosition};
use charter_consensus::inclusion::InclusionProof;
use charter_federation::collector::Collector;
use charter_ledger::state::{
    ActiveValidators, Bond, BridgeRuling, CellInfo, CellModeState, Escrow, Passport, StateKey,
    StateObject, Validator,
};
use charter_ledger::storage::StorageError;
use charter_ledger::transaction::MAX_TRANSACTION_BYTES;
use charter_ledger::{EscrowId, Ledger, LedgerError, PassportId, TxId};
use charter_store::StateStore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// The longest a client may wait on `GET /v1/transactions/{id}?wait=SECONDS`.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The OpenAPI document, kept beside the code it describes.
const OPENAPI: &str = include_str!("../../openapi.json");

pub struct ApiState {
    ledger: LatestLedger<StateStore>,
    blocks: BlockStore,
    /// Where submitted transactions go in, and the pool they wait in.
    admission: Arc<Admission<StateStore>>,
    metrics: Arc<NodeMetrics>,
    committed: broadcast::Sender<CommittedBlock>,
    position: watch::Receiver<ConsensusPosition>,
    /// The federation's finality, when this node is in one.
    finality: Option<Arc<Mutex<Collector>>>,
}

pub(crate) type Reply = (StatusCode, Json<Value>);

pub(crate) fn error(status: StatusCode, code: &str, message: impl ToString) -> Reply {
    (
        status,
        Json(json!({ "error": code, "message": message.to_string() })),
    )
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Blocks(#[from] BlockStoreError),
    #[error("the admission task failed: {0}")]
    Admission(#[from] tokio::task::JoinError),
}

pub(crate) fn internal(error: impl Into<ReadError>) -> Reply {
    let error = error.into();
    tracing::error!(%error, "API read failed");
    self::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", error)
}

pub(crate) fn ok(value: Value) -> Reply {
    (StatusCode::OK, Json(value))
}

pub struct ApiParts {
    pub ledger: Ledger<StateStore>,
    pub blocks: BlockStore,
    pub admission: Arc<Admission<StateStore>>,
    pub metrics: Arc<NodeMetrics>,
    pub committed: broadcast::Sender<CommittedBlock>,
    pub position: watch::Receiver<ConsensusPosition>,
    pub finality: Option<Arc<Mutex<Collector>>>,
}

impl ApiState {
    pub fn new(parts: ApiParts) -> Arc<Self> {
        Arc::new(Self {
            ledger: LatestLedger::new(parts.ledger),
            blocks: parts.blocks,
            admission: parts.admission,
            metrics: parts.metrics,
            committed: parts.committed,
            position: parts.position,
            finality: parts.finality,
        })
    }

    /// The read handle, refreshed to the latest committed height.
    pub(crate) fn ledger(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, Ledger<StateStore>>, LedgerError> {
        self.ledger.at_latest()
    }

    pub(crate) fn blocks(&self) -> &BlockStore {
        &self.blocks
    }

    /// Every block committed from now on.
    pub(crate) fn committed_receiver(&self) -> broadcast::Receiver<CommittedBlock> {
        self.committed.subscribe()
    }
}

/// `route` with its body limited to `limit` bytes: refused from its declared length before it
/// is read, and cut off at `limit` when it comes without one.
fn within(limit: usize, route: MethodRouter<Arc<ApiState>>) -> MethodRouter<Arc<ApiState>> {
    route
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            limit,
            refuse_declared_oversize,
        ))
}

/// Every HTTP route a node serves: the JSON API, and the explorer beside it; what neither
/// serves is answered in the API's error shape. Needs a Tokio runtime: the explorer records
/// blocks as they commit.
pub fn app(state: Arc<ApiState>) -> Router {
    (router(Arc::clone(&state)).merge(crate::explorer::router(state)))
        .layer(middleware::from_fn(json_errors))
}

/// The JSON API's routes.
fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route(
            "/v1/transactions",
            within(MAX_TRANSACTION_BYTES, post(submit)),
        )
        .route(
            "/v1/transactions/batch",
            within(MAX_BATCH_BYTES, post(submit_batch)),
        )
        .route("/v1/transactions/{id}", get(transaction))
        .route("/v1/blocks/latest", get(latest_block))
        .route("/v1/blocks/stream", get(block_stream))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/passports/{id}", get(passport))
        .route("/v1/bonds/{id}", get(bond))
        .route("/v1/escrows/{id}", get(escrow))
        .route("/v1/validators", get(validators))
        .route("/v1/validators/{id}", get(validator))
        .route("/v1/bridges/{cell}/rulings/{epoch}", get(bridge_ruling))
        .route("/v1/federation", get(federation))
        .route("/v1/checkpoints/{cell}/{epoch}", get(checkpoint))
        .route("/v1/validator-sets/{cell}/{hash}", get(validator_set))
        .route("/v1/openapi.json", get(openapi))
        .merge(governance::routes())
        .merge(juries::routes())
        .route("/metrics", get(metrics))
        .with_state(state)
}

pub(crate) fn read_status(state: &ApiState) -> Result<Value, LedgerError> {
    let ledger = state.ledger()?;
    let height = ledger.height().ok_or(LedgerError::NotInitialized)?;
    let cell: Option<CellInfo> = ledger.get(&StateKey::Cell)?;
    let mode: Option<CellModeState> = ledger.get(&StateKey::CellMode)?;
    let validators: Vec<Value> = ledger
        .active_validators()?
        .members
        .iter()
        .map(|member| json!({ "passport": member.passport, "power": member.power }))
        .collect();
    let position = *state.position.borrow();
    Ok(json!({
        "cell": cell.as_ref().map(|cell| cell.cell),
        "federation": cell.as_ref().map(|cell| cell.federation),
        "params": cell.as_ref().map(|cell| &cell.params),
        "height": height,
        "state_root": ledger.state_root(height)?,
        "round": position.round,
        "mode": mode,
        "validators": validators,
        "mempool": state.admission.mempool().lock().len(),
        "gossip_peers": state.metrics.gossip_peers.get(),
        "catch_up": state.metrics.catch_up.report(Instant::now()),
    }))
}

async fn status(State(state): State<Arc<ApiState>>) -> Reply {
    match read_status(&state) {
        Ok(status) => ok(status),
        Err(error) => internal(error),
    }
}

/// Admits a transaction given as its raw encoded bytes. 202 with its id once in the mempool; a
/// typed error (the rule it broke, or why the pool refused it) otherwise.
async fn submit(State(state): State<Arc<ApiState>>, body: Bytes) -> Reply {
    let admitted =
        tokio::task::spawn_blocking(move || state.admission.admit(&body, Source::Client)).await;
    match admitted {
        Ok(Ok(id)) => (StatusCode::ACCEPTED, Json(json!({ "id": id }))),
        Ok(Err(refused)) => error(refusal_status(&refused), refused.code(), &refused),
        Err(failed) => internal(failed),
    }
}

fn refusal_status(refused: &AdmissionError) -> StatusCode {
    match refused {
        AdmissionError::Full { .. } | AdmissionError::SenderBacklog { .. } => {
            StatusCode::TOO_MANY_REQUESTS
        }
        AdmissionError::Duplicate(_) => StatusCode::CONFLICT,
        AdmissionError::Ledger(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AdmissionError::Decode(_) | AdmissionError::Rejected(_) => StatusCode::BAD_REQUEST,
    }
}

/// Admits each transaction of a batch in order, as [`submit`] would one by one, and answers
/// each: its id, or the error a single submission would have carried.
async fn submit_batch(State(state): State<Arc<ApiState>>, body: Bytes) -> Reply {
    let transactions = match decode_batch(&body) {
        Ok(transactions) => transactions,
        Err(refused) => return error(StatusCode::BAD_REQUEST, refused.code(), refused),
    };
    // Verifying and executing a batch is work for the blocking pool, not the runtime that
    // also drives consensus.
    let admitted = tokio::task::spawn_blocking(move || {
        state.admission.admit_batch(&transactions, Source::Client)
    })
    .await;
    let verdicts = match admitted {
        Ok(verdicts) => verdicts,
        Err(failed) => return internal(failed),
    };
    let results: Vec<Value> = (verdicts.iter())
        .map(|verdict| match verdict {
            Ok(id) => json!({ "id": id }),
            Err(refused) => json!({ "error": refused.code(), "message": refused.to_string() }),
        })
        .collect();
    ok(json!({ "results": results }))
}

pub(crate) fn invalid_id(what: &str) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        &format!("invalid_{what}_id"),
        format!("a {what} id is 32 bytes in hex"),
    )
}

#[derive(Deserialize)]
struct FollowOptions {
    /// Seconds to wait for the transaction to be decided before answering.
    wait: Option<u64>,
    /// Include a proof of inclusion in its certified block, once decided.
    #[serde(default)]
    proof: bool,
}

/// Where a transaction stands: `committed` or `rejected` (in a block, with the typed reason),
/// `pending` in this node's mempool, `dropped` from it (with the reason), or `unknown`.
pub(crate) fn transaction_status(
    state: &ApiState,
    id: &TxId,
    proof: bool,
) -> Result<Option<Value>, ReadError> {
    // A block is stored before the ledger applies it; until then its transactions are not yet
    // reported as decided, so a client that sees "committed" also sees the new state.
    let applied = state.ledger()?.height().unwrap_or(0);
    let location = state
        .blocks
        .location(id)?
        .filter(|location| location.height.0 <= applied);
    if let Some(location) = location {
        let decided = state.blocks.decided(location.height)?;
        let outcomes = state.blocks.outcomes(location.height)?;
        let (Some(decided), Some(outcomes)) = (decided, outcomes) else {
            return Err(ReadError::Blocks(BlockStoreError::Corrupt(format!(
                "block {} of transaction {id} is missing",
                location.height
            ))));
        };
        let index = location.index as usize;
        let outcome = outcomes.get(index);
        let transaction = decided.block.transactions.get(index);
        let (Some(outcome), Some(transaction)) = (outcome, transaction) else {
            return Err(ReadError::Blocks(BlockStoreError::Corrupt(format!(
                "transaction {id} is not at index {index} of block {}",
                location.height
            ))));
        };
        let (status, reason) = match &outcome.rejection {
            None => ("committed", Value::Null),
            Some(rejection) => (
                "rejected",
                json!({ "code": rejection.code, "message": rejection.message }),
            ),
        };
        let mut answer = json!({
            "id": id,
            "status": status,
            "reason": reason,
            "height": location.height.0,
            "index": location.index,
            "block": decided.block.hash().to_string(),
            "state_root": decided.block.header.state_root,
            "transaction": transaction,
        });
        if proof {
            let inclusion = InclusionProof {
                header: decided.block.header.clone(),
                transactions: outcomes.iter().map(|outcome| outcome.id).collect(),
                certificate: decided.certificate.clone(),
            };
            let encoded = borsh::to_vec(&inclusion).expect("writing to a Vec cannot fail");
            answer["proof"] = json!(hex::encode(encoded));
        }
        return Ok(Some(answer));
    }
    let mempool = state.admission.mempool().lock();
    if mempool.contains(id) {
        return Ok(Some(json!({ "id": id, "status": "pending" })));
    }
    Ok(mempool.dropped(id).map(|dropped| {
        json!({
            "id": id,
            "status": "dropped",
            "reason": { "code": dropped.code, "message": dropped.message },
        })
    }))
}

fn is_decided(status: &Value) -> bool {
    matches!(status["status"].as_str(), Some("committed" | "rejected"))
}

async fn transaction(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<FollowOptions>,
) -> Reply {
    let Ok(id) = TxId::from_hex(&id) else {
        return invalid_id("transaction");
    };
    let wait = Duration::from_secs(options.wait.unwrap_or(0));
    if wait > MAX_WAIT {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_wait",
            format!("wait is at most {} seconds", MAX_WAIT.as_secs()),
        );
    }
    // Subscribe before the first look, so a commit between the look and the wait is not missed.
    let mut committed = state.committed.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let found = match transaction_status(&state, &id, options.proof) {
            Ok(found) => found,
            Err(error) => return internal(error),
        };
        if found.as_ref().is_some_and(is_decided) {
            return ok(found.unwrap_or_default());
        }
        let dropped = found
            .as_ref()
            .is_some_and(|status| status["status"] == "dropped");
        if dropped {
            return ok(found.unwrap_or_default());
        }
        match tokio::time::timeout_at(deadline, committed.recv()).await {
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => {
                return match found {
                    Some(status) => ok(status),
                    None => error(
                        StatusCode::NOT_FOUND,
                        "unknown_transaction",
                        format!("transaction {id} is neither committed nor pending here"),
                    ),
                }
            }
        }
    }
}

pub(crate) fn read_block(
    state: &ApiState,
    height: Option<u64>,
) -> Result<Option<BlockView>, ReadError> {
    // A block is served once the ledger applied it, so its state and its transactions' outcomes
    // can be read too: the latest block is the latest applied.
    let applied = state.ledger()?.height().unwrap_or(0);
    let height = BlockHeight(height.unwrap_or(applied));
    if height.0 > applied {
        return Ok(None);
    }
    let Some(decided) = state.blocks.decided(height)? else {
        return Ok(None);
    };
    let outcomes = state.blocks.outcomes(height)?.unwrap_or_default();
    Ok(Some(BlockView::new(decided, outcomes)))
}

fn block_reply(state: &ApiState, height: Option<u64>) -> Response {
    match read_block(state, height) {
        Ok(Some(block)) => Json(block).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "unknown_block",
            "no decided block at that height here",
        )
        .into_response(),
        Err(error) => internal(error).into_response(),
    }
}

async fn block(State(state): State<Arc<ApiState>>, Path(height): Path<String>) -> Response {
    match height.parse::<u64>() {
        Ok(height) => block_reply(&state, Some(height)),
        Err(_) => error(
            StatusCode::BAD_REQUEST,
            "invalid_height",
            "a height is a decimal number",
        )
        .into_response(),
    }
}

async fn latest_block(State(state): State<Arc<ApiState>>) -> Response {
    block_reply(&state, None)
}

/// Server-sent events: one `block` event per committed block, from now on.
async fn block_stream(
    State(state): State<Arc<ApiState>>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.committed.subscribe();
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(block) => {
                    let rejected = block
                        .outcomes
                        .iter()
                        .filter(|outcome| outcome.rejection.is_some())
                        .count();
                    let data = json!({
                        "height": block.height.0,
                        "hash": block.hash.to_string(),
                        "round": block.round,
                        "state_root": block.state_root,
                        "transactions": block.outcomes.len(),
                        "rejected": rejected,
                    });
                    let event = Event::default().event("block").data(data.to_string());
                    return Some((Ok(event), receiver));
                }
                // A slow reader skips what it missed; it can fetch those blocks by height.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
pub(crate) struct ReadOptions {
    /// Include the encoded value and a proof of it (or of its absence) against the state root.
    #[serde(default)]
    proof: bool,
    /// Read at this committed height (a checkpoint's, say) instead of the latest.
    height: Option<u64>,
}

/// Reads one state key at the latest height or the one asked for: the decoded value (or
/// `null`), and on request the encoded value with its proof against that height's state root.
fn read_key<T: StateObject + Serialize>(
    state: &ApiState,
    key: &StateKey,
    options: &ReadOptions,
) -> Result<Value, LedgerError> {
    let ledger = state.ledger()?;
    let latest = ledger.height().ok_or(LedgerError::NotInitialized)?;
    let height = options.height.unwrap_or(latest);
    let state_root = ledger.state_root(height)?;
    // A plain read of the latest state needs no proof; building one is a tree walk per read.
    if !options.proof && height == latest {
        let value: Option<T> = ledger.get(key)?;
        return Ok(json!({ "height": height, "state_root": state_root, "value": value }));
    }
    let (value, proof) = ledger.get_with_proof(key, height)?;
    let decoded: Option<T> = value
        .as_deref()
        .map(borsh::from_slice)
        .transpose()
        .map_err(|error| StorageError::Corrupt(format!("state value: {error}")))?;
    let mut answer = json!({ "height": height, "state_root": state_root, "value": decoded });
    if options.proof {
        answer["encoded"] = json!(value.map(hex::encode));
        answer["proof"] = json!(hex::encode(proof.encode()));
    }
    Ok(answer)
}

pub(crate) fn key_reply<T: StateObject + Serialize>(
    state: &ApiState,
    key: StateKey,
    options: &ReadOptions,
) -> Reply {
    match read_key::<T>(state, &key, options) {
        Ok(answer) => ok(answer),
        Err(unknown @ LedgerError::UnknownHeight { .. }) => {
            error(StatusCode::NOT_FOUND, "unknown_height", unknown)
        }
        Err(error) => internal(error),
    }
}

/// An id in its JSON form (hex), as a path parameter carries it.
pub(crate) fn parse_id<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(Value::String(text.to_string())).ok()
}

async fn passport(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_id::<PassportId>(&id) {
        Some(id) => key_reply::<Passport>(&state, StateKey::Passport(id), &options),
        None => invalid_id("passport"),
    }
}

async fn bond(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_id::<PassportId>(&id) {
        Some(id) => key_reply::<Bond>(&state, StateKey::Bond(id), &options),
        None => invalid_id("passport"),
    }
}

async fn escrow(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_id::<EscrowId>(&id) {
        Some(id) => key_reply::<Escrow>(&state, StateKey::Escrow(id), &options),
        None => invalid_id("escrow"),
    }
}

async fn validator(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_id::<PassportId>(&id) {
        Some(id) => key_reply::<Validator>(&state, StateKey::Validator(id), &options),
        None => invalid_id("passport"),
    }
}

/// The validators fixed for the current epoch, with their powers.
async fn validators(
    State(state): State<Arc<ApiState>>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    key_reply::<ActiveValidators>(&state, StateKey::ActiveValidators, &options)
}

/// The cell's validators' ruling on `cell`'s equivocation at `epoch`: the checkpoint kept.
async fn bridge_ruling(
    State(state): State<Arc<ApiState>>,
    Path((cell, epoch)): Path<(String, String)>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    let Some(remote) = parse_cell(&cell) else {
        return invalid_cell();
    };
    let Ok(epoch) = epoch.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_epoch",
            "an epoch is a number",
        );
    };
    key_reply::<BridgeRuling>(&state, StateKey::BridgeRuling { remote, epoch }, &options)
}

/// A cell id as a path segment carries it: a number from 0 to 2³² − 1.
fn parse_cell(text: &str) -> Option<charter_ledger::CellId> {
    text.parse::<u32>().ok().map(charter_ledger::CellId)
}

fn invalid_cell() -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_cell",
        "a cell id is a number",
    )
}

fn not_in_a_federation() -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "no_federation",
        "this node is not configured with a federation",
    )
}

pub(crate) fn collector(state: &ApiState) -> Option<std::sync::MutexGuard<'_, Collector>> {
    state.finality.as_ref().map(|finality| {
        finality
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    })
}

/// The federation as this node knows it: k, each cell's current validators and latest final
/// checkpoint, the bridge to each (in lockdown while the cell is quarantined), and the
/// equivocation proofs with the checkpoint a ruling kept, if any.
async fn federation(State(state): State<Arc<ApiState>>) -> Reply {
    match collector(&state) {
        Some(collector) => ok(federation_json(&collector)),
        None => not_in_a_federation(),
    }
}

/// The answer of `GET /v1/federation`.
pub(crate) fn federation_json(collector: &Collector) -> Value {
    let sets = collector.sets();
    let cells: Vec<Value> = sets
        .heads()
        .map(|(cell, set)| {
            let latest = collector.latest_final(cell);
            json!({
                "cell": cell,
                "validators": set.validators(),
                "validators_hash": hex::encode(set.hash()),
                "latest_final_epoch": latest.map(|certificate| certificate.checkpoint.epoch),
                "latest_final_height": latest.map(|certificate| certificate.checkpoint.height),
                "bridge": if collector.quarantined().contains(&cell) { "lockdown" } else { "open" },
            })
        })
        .collect();
    let equivocations: Vec<Value> = collector
        .equivocations()
        .map(|proof| {
            let checkpoint = &proof.first.checkpoint;
            json!({
                "first": proof.first,
                "first_id": proof.first.checkpoint.id(),
                "second": proof.second,
                "second_id": proof.second.checkpoint.id(),
                "kept": collector.ruling(checkpoint.cell, checkpoint.epoch),
            })
        })
        .collect();
    json!({
        "federation": sets.federation(),
        "k": sets.k(),
        "committee": sets.committee_size(),
        "cells": cells,
        "equivocations": equivocations,
    })
}

/// A validator set a cell has held here — its genesis set or one a final certificate handed
/// over — by its hash: what a checkpoint's `next_validators` or a signer entry names.
async fn validator_set(
    State(state): State<Arc<ApiState>>,
    Path((cell, hash)): Path<(String, String)>,
) -> Reply {
    let Some(collector) = collector(&state) else {
        return not_in_a_federation();
    };
    let Some(cell) = parse_cell(&cell) else {
        return invalid_cell();
    };
    let mut bytes = [0u8; 32];
    if hex::decode_to_slice(&hash, &mut bytes).is_err() {
        return invalid_id("validator_set");
    }
    match collector.sets().held(cell, &bytes) {
        Some(set) => ok(json!({
            "cell": cell,
            "hash": hex::encode(set.hash()),
            "validators": set.validators(),
            "encoded": hex::encode(borsh::to_vec(set.validators()).expect("writing to a Vec cannot fail")),
        })),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_validator_set",
            format!(
                "cell {} has held no validator set with that hash here",
                cell.0
            ),
        ),
    }
}

/// A cell's checkpoint for an epoch (`latest` for the latest final one): its certificate when
/// final (also as hex of its canonical encoding, `docs/checkpoints.md`), else the power
/// collected so far per signing cell.
async fn checkpoint(
    State(state): State<Arc<ApiState>>,
    Path((cell, epoch)): Path<(String, String)>,
) -> Reply {
    let Some(collector) = collector(&state) else {
        return not_in_a_federation();
    };
    let Some(cell) = parse_cell(&cell) else {
        return invalid_cell();
    };
    if collector.quarantined().contains(&cell) {
        let proofs: Vec<_> = collector
            .equivocations()
            .filter(|proof| proof.first.checkpoint.cell == cell)
            .collect();
        return (
            StatusCode::CONFLICT,
            Json(json!({
                "error": "quarantined",
                "message": format!(
                    "cell {} certified two checkpoints for one epoch; its proofs are refused",
                    cell.0
                ),
                "equivocations": proofs,
            })),
        );
    }
    let certificate = match epoch.as_str() {
        "latest" => collector.latest_final(cell),
        number => match number.parse::<u64>() {
            Ok(epoch) => collector.final_certificate(cell, epoch),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_epoch",
                    "an epoch is a number or latest",
                )
            }
        },
    };
    match (certificate, epoch.parse::<u64>()) {
        (Some(certificate), _) => ok(json!({
            "final": true,
            "certificate": certificate,
            "encoded": hex::encode(borsh::to_vec(certificate).expect("writing to a Vec cannot fail")),
        })),
        (None, Ok(epoch)) => {
            let progress: Vec<Value> = collector
                .progress(cell, epoch)
                .into_iter()
                .map(|(signing, signed, total)| {
                    json!({ "cell": signing, "signed_power": signed.to_string(), "total_power": total.to_string() })
                })
                .collect();
            (
                StatusCode::NOT_FOUND,
                Json(json!({
                    "error": "not_final",
                    "message": format!("no final checkpoint of cell {} for epoch {epoch} here", cell.0),
                    "progress": progress,
                })),
            )
        }
        (None, Err(_)) => error(
            StatusCode::NOT_FOUND,
            "not_final",
            "no final checkpoint of that cell here yet",
        ),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    state
        .metrics
        .round
        .set(i64::from(state.position.borrow().round));
    state
        .metrics
        .mempool_transactions
        .set(state.admission.mempool().lock().len() as i64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
