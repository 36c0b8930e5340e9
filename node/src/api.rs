//! The node's HTTP JSON API (so far: status, submitting transactions, and passports with state
//! proofs). Reads go through a read-only ledger handle over the same storage consensus commits
//! to, refreshed to the latest committed height on every request, so each answer is one
//! consistent height.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use charter_ledger::state::{CellInfo, CellModeState, Passport, StateKey};
use charter_ledger::storage::RocksStorage;
use charter_ledger::{Ledger, LedgerError, PassportId};
use charter_node::mempool::{AdmissionError, SharedMempool};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

pub struct ApiState {
    ledger: Mutex<Ledger<Arc<RocksStorage>>>,
    mempool: SharedMempool,
}

type Reply = (StatusCode, Json<Value>);

fn error(status: StatusCode, code: &str, message: impl ToString) -> Reply {
    (
        status,
        Json(json!({ "error": code, "message": message.to_string() })),
    )
}

fn internal(error: LedgerError) -> Reply {
    tracing::error!(%error, "API read failed");
    self::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", error)
}

impl ApiState {
    pub fn new(ledger: Ledger<Arc<RocksStorage>>, mempool: SharedMempool) -> Arc<Self> {
        Arc::new(Self {
            ledger: Mutex::new(ledger),
            mempool,
        })
    }

    /// The read handle, refreshed to the latest committed height.
    fn ledger(&self) -> Result<std::sync::MutexGuard<'_, Ledger<Arc<RocksStorage>>>, LedgerError> {
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ledger.refresh()?;
        Ok(ledger)
    }
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/transactions", post(submit))
        .route("/v1/passports/{id}", get(passport))
        .with_state(state)
}

fn read_status(state: &ApiState) -> Result<Value, LedgerError> {
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
    Ok(json!({
        "cell": cell.as_ref().map(|cell| cell.cell),
        "federation": cell.as_ref().map(|cell| cell.federation),
        "height": height,
        "state_root": ledger.state_root(height)?,
        "mode": mode,
        "validators": validators,
        "mempool": state.mempool.lock().len(),
    }))
}

async fn status(State(state): State<Arc<ApiState>>) -> Reply {
    match read_status(&state) {
        Ok(status) => (StatusCode::OK, Json(status)),
        Err(error) => internal(error),
    }
}

/// Admits a transaction given as its raw encoded bytes. 202 with its id once in the mempool; a
/// typed error (the rule it broke, or why the pool refused it) otherwise.
async fn submit(State(state): State<Arc<ApiState>>, body: Bytes) -> Reply {
    let ledger = match state.ledger() {
        Ok(ledger) => ledger,
        Err(error) => return internal(error),
    };
    let admitted = state.mempool.lock().admit_encoded(&body, &ledger);
    match admitted {
        Ok(id) => (StatusCode::ACCEPTED, Json(json!({ "id": id }))),
        Err(refused) => {
            let status = match &refused {
                AdmissionError::Full { .. } | AdmissionError::SenderBacklog { .. } => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                AdmissionError::Duplicate(_) => StatusCode::CONFLICT,
                AdmissionError::Ledger(_) => StatusCode::INTERNAL_SERVER_ERROR,
                AdmissionError::Decode(_) | AdmissionError::Rejected(_) => StatusCode::BAD_REQUEST,
            };
            error(status, refused.code(), &refused)
        }
    }
}

fn read_passport(state: &ApiState, id: PassportId) -> Result<Value, LedgerError> {
    let ledger = state.ledger()?;
    let height = ledger.height().ok_or(LedgerError::NotInitialized)?;
    let (value, proof) = ledger.get_with_proof(&StateKey::Passport(id), height)?;
    let passport: Option<Passport> = value
        .as_deref()
        .and_then(|bytes| borsh::from_slice(bytes).ok());
    Ok(json!({
        "height": height,
        "state_root": ledger.state_root(height)?,
        "passport": passport,
        "value": value.map(hex::encode),
        "proof": hex::encode(proof.encode()),
    }))
}

/// A passport (or `null`) with a proof of its value (or absence) against the state root of the
/// height it was read at.
async fn passport(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Reply {
    let Ok(id) = PassportId::from_hex(&id) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_passport_id",
            "a passport id is 32 bytes in hex",
        );
    };
    match read_passport(&state, id) {
        Ok(passport) => (StatusCode::OK, Json(passport)),
        Err(error) => internal(error),
    }
}
