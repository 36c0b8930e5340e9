//! Jury reads: the cell's beacon, the jury pool, a juror's standing, and jury cases (one by
//! one with a proof on request, or listed newest first at one committed height).

use super::governance::{parse_passport, Page};
use super::{error, internal, key_reply, ok, ApiState, ReadOptions, Reply};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use charter_ledger::governance::{Beacon, Juror, JuryCase, JuryCaseId};
use charter_ledger::state::StateKey;
use charter_ledger::{LedgerError, PassportId};
use serde_json::json;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/governance/beacon", get(beacon))
        .route("/v1/governance/jury-pool", get(pool))
        .route("/v1/governance/jurors/{passport}", get(juror))
        .route("/v1/governance/cases", get(cases))
        .route("/v1/governance/cases/{id}", get(case))
}

async fn beacon(State(state): State<Arc<ApiState>>, Query(options): Query<ReadOptions>) -> Reply {
    key_reply::<Beacon>(&state, StateKey::Beacon, &options)
}

async fn pool(State(state): State<Arc<ApiState>>, Query(options): Query<ReadOptions>) -> Reply {
    key_reply::<Vec<PassportId>>(&state, StateKey::JuryPool, &options)
}

async fn juror(
    State(state): State<Arc<ApiState>>,
    Path(passport): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_passport(&passport) {
        Ok(id) => key_reply::<Juror>(&state, StateKey::Juror(id), &options),
        Err(reply) => reply,
    }
}

async fn case(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_case_id",
            "a jury case id is a number",
        );
    };
    key_reply::<JuryCase>(&state, StateKey::JuryCase(JuryCaseId(id)), &options)
}

/// Cases newest first, at most `limit` (100 at most) with ids below `before`; `next` is the
/// `before` of the following page, null on the last.
async fn cases(State(state): State<Arc<ApiState>>, Query(page): Query<Page>) -> Reply {
    match list_cases(&state, page.before, page.limit()) {
        Ok(answer) => ok(answer),
        Err(error) => internal(error),
    }
}

fn list_cases(
    state: &ApiState,
    before: Option<u64>,
    limit: usize,
) -> Result<serde_json::Value, LedgerError> {
    let ledger = state.ledger()?;
    let height = ledger.height().ok_or(LedgerError::NotInitialized)?;
    let count = ledger.jury_case_count()?;
    let cases = ledger.jury_cases(before, limit as u64)?;
    let oldest = cases.last().map_or(0, |case| case.id.0);
    let next = (oldest > 0).then_some(oldest);
    Ok(json!({ "height": height, "count": count, "cases": cases, "next": next }))
}
