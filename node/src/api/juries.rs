//! Jury reads: the cell's beacon, the jury pool, a juror's standing, jury cases (one by one
//! with a proof on request, or listed newest first at one committed height), and the slash
//! cases open against a passport.

use super::governance::{numbered_page, parse_passport, Page};
use super::{error, key_reply, ApiState, ReadOptions, Reply};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use charter_ledger::governance::{Beacon, Juror, JuryCase, JuryCaseId};
use charter_ledger::state::StateKey;
use charter_ledger::PassportId;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/governance/beacon", get(beacon))
        .route("/v1/governance/jury-pool", get(pool))
        .route("/v1/governance/jurors/{passport}", get(juror))
        .route("/v1/governance/cases", get(cases))
        .route("/v1/governance/cases/{id}", get(case))
        .route("/v1/governance/slash-cases/{passport}", get(slash_cases))
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

/// The slash cases open before juries against a passport, while it cannot withdraw or exit.
async fn slash_cases(
    State(state): State<Arc<ApiState>>,
    Path(passport): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_passport(&passport) {
        Ok(id) => key_reply::<Vec<JuryCaseId>>(&state, StateKey::SlashCasesAgainst(id), &options),
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
    numbered_page(
        &state,
        "cases",
        &page,
        |ledger, before, limit| Ok((ledger.jury_case_count()?, ledger.jury_cases(before, limit)?)),
        |case: &JuryCase| case.id.0,
    )
}
