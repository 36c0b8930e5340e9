//! Governance reads: the chamber rules, the electorate, processes (one by one with a proof on
//! request, or listed newest first), ballots and delegations. Every list is read at one
//! committed height, which the answer names.

use super::{error, internal, invalid_id, key_reply, ok, parse_id, ApiState, ReadOptions, Reply};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use charter_ledger::governance::{
    Ballot, Delegation, Electorate, GovernanceRules, Process, ProcessId,
};
use charter_ledger::state::StateKey;
use charter_ledger::{Ledger, LedgerError, PassportId};
use charter_store::StateStore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Most entries one list answer holds.
pub(super) const MAX_PAGE: usize = 100;

pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/v1/governance/rules", get(rules))
        .route("/v1/governance/electorate", get(electorate))
        .route("/v1/governance/processes", get(processes))
        .route("/v1/governance/processes/{id}", get(process))
        .route("/v1/governance/processes/{id}/ballots", get(ballots))
        .route(
            "/v1/governance/processes/{id}/ballots/{passport}",
            get(ballot),
        )
        .route("/v1/governance/delegations/{passport}", get(delegation))
        .route("/v1/governance/delegators/{passport}", get(delegators))
}

async fn rules(State(state): State<Arc<ApiState>>, Query(options): Query<ReadOptions>) -> Reply {
    key_reply::<GovernanceRules>(&state, StateKey::GovernanceRules, &options)
}

async fn electorate(
    State(state): State<Arc<ApiState>>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    key_reply::<Electorate>(&state, StateKey::Electorate, &options)
}

fn parse_process(text: &str) -> Result<ProcessId, Reply> {
    text.parse::<u64>().map(ProcessId).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_process_id",
            "a process id is a number",
        )
    })
}

pub(super) fn parse_passport(text: &str) -> Result<PassportId, Reply> {
    parse_id::<PassportId>(text).ok_or_else(|| invalid_id("passport"))
}

async fn process(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_process(&id) {
        Ok(id) => key_reply::<Process>(&state, StateKey::Process(id), &options),
        Err(reply) => reply,
    }
}

async fn ballot(
    State(state): State<Arc<ApiState>>,
    Path((id, passport)): Path<(String, String)>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    let key = match (parse_process(&id), parse_passport(&passport)) {
        (Ok(process), Ok(voter)) => StateKey::Ballot { process, voter },
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    key_reply::<Ballot>(&state, key, &options)
}

async fn delegation(
    State(state): State<Arc<ApiState>>,
    Path(passport): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_passport(&passport) {
        Ok(id) => key_reply::<Delegation>(&state, StateKey::Delegation(id), &options),
        Err(reply) => reply,
    }
}

async fn delegators(
    State(state): State<Arc<ApiState>>,
    Path(passport): Path<String>,
    Query(options): Query<ReadOptions>,
) -> Reply {
    match parse_passport(&passport) {
        Ok(id) => key_reply::<Vec<PassportId>>(&state, StateKey::Delegators(id), &options),
        Err(reply) => reply,
    }
}

/// A page of objects numbered from 0, newest first.
#[derive(Deserialize)]
pub(super) struct Page {
    /// Objects with ids below this one (all, when absent).
    pub(super) before: Option<u64>,
    pub(super) limit: Option<usize>,
}

impl Page {
    pub(super) fn limit(&self) -> usize {
        self.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)
    }
}

/// Processes newest first, at most `limit` (100 at most) with ids below `before`; `next`
/// is the `before` of the following page, null on the last.
async fn processes(State(state): State<Arc<ApiState>>, Query(page): Query<Page>) -> Reply {
    numbered_page(
        &state,
        "processes",
        &page,
        |ledger, before, limit| Ok((ledger.process_count()?, ledger.processes(before, limit)?)),
        |process: &Process| process.id.0,
    )
}

/// A page of objects numbered from 0, newest first, all read at one committed height:
/// `{ height, count, <name>: [...], next }`, where `read` gives how many there have been and
/// the page, and `next` is the `before` of the following page (null on the last).
pub(super) fn numbered_page<T: Serialize>(
    state: &ApiState,
    name: &str,
    page: &Page,
    read: impl FnOnce(&Ledger<StateStore>, Option<u64>, u64) -> Result<(u64, Vec<T>), LedgerError>,
    id: impl Fn(&T) -> u64,
) -> Reply {
    let answer = state.ledger().and_then(|ledger| {
        let height = ledger.height().ok_or(LedgerError::NotInitialized)?;
        let (count, items) = read(&ledger, page.before, page.limit() as u64)?;
        let oldest = items.last().map_or(0, &id);
        let next = (oldest > 0).then_some(oldest);
        Ok(json!({ "height": height, "count": count, name: items, "next": next }))
    });
    match answer {
        Ok(answer) => ok(answer),
        Err(error) => internal(error),
    }
}

#[derive(Deserialize)]
struct BallotPage {
    /// Ballots of voters whose id sorts after this one (from the first, when absent).
    after: Option<String>,
    limit: Option<usize>,
}

/// A process's ballots in voter-id order, at most `limit` (100 at most) after `after`.
async fn ballots(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    Query(page): Query<BallotPage>,
) -> Reply {
    let process = match parse_process(&id) {
        Ok(process) => process,
        Err(reply) => return reply,
    };
    let after = match page.after.as_deref().map(parse_passport).transpose() {
        Ok(after) => after,
        Err(reply) => return reply,
    };
    let limit = page.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    match list_ballots(&state, process, after, limit) {
        Ok(answer) => ok(answer),
        Err(error) => internal(error),
    }
}

fn list_ballots(
    state: &ApiState,
    process: ProcessId,
    after: Option<PassportId>,
    limit: usize,
) -> Result<serde_json::Value, LedgerError> {
    let ledger = state.ledger()?;
    let height = ledger.height().ok_or(LedgerError::NotInitialized)?;
    let voters: Vec<PassportId> = ledger.get(&StateKey::Voters(process))?.unwrap_or_default();
    let first = after.map_or(0, |after| voters.partition_point(|voter| *voter <= after));
    let page = &voters[first..(first + limit).min(voters.len())];
    let mut ballots = Vec::with_capacity(page.len());
    for voter in page {
        let key = StateKey::Ballot {
            process,
            voter: *voter,
        };
        if let Some(ballot) = ledger.get::<Ballot>(&key)? {
            ballots.push(
                json!({ "voter": voter, "choice": ballot.choice, "cast_at": ballot.cast_at }),
            );
        }
    }
    let next = (first + page.len() < voters.len())
        .then(|| page.last().copied())
        .flatten();
    Ok(
        json!({ "height": height, "process": process, "voters": voters.len(), "ballots": ballots, "next": next }),
    )
}
