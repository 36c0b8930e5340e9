//! The governance pages: processes newest first, and one process with its proposal, the
//! clause each chamber was judged by, its ballots and its history.

use super::accounts::json;
use super::html::{block_link, passport_link, value};
use super::{Explorer, PageError, PageResult};
use charter_ledger::governance::{Ballot, Process, ProcessId, ProcessStatus, Schedule};
use charter_ledger::state::StateKey;
use charter_ledger::PassportId;
use maud::{html, Markup};

/// Processes a page of the list shows, and ballots a process's page shows.
const PAGE: u64 = 50;
const BALLOTS: usize = 200;

fn kind(process: &Process) -> String {
    format!("{:?}", process.proposal.kind())
}

fn status(status: ProcessStatus) -> Markup {
    let name = format!("{status:?}").to_lowercase();
    html! { span class={ "badge " (name) } { (name) } }
}

fn process_link(id: ProcessId) -> Markup {
    html! { a href={ "/explorer/governance/" (id.0) } { "#" (id.0) } }
}

fn schedule_cells(schedule: Option<&Schedule>) -> Markup {
    match schedule {
        Some(s) => html! {
            td { (block_link(s.voting_opens)) "–" (block_link(s.voting_closes)) }
            td { (block_link(s.executes_at)) }
        },
        None => html! { td.none { "not sponsored yet" } td.none { "—" } },
    }
}

/// Processes with ids below `before` (all when absent), newest first.
pub fn processes(explorer: &Explorer, before: Option<u64>) -> PageResult {
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let count = ledger.process_count().map_err(PageError::read)?;
    let shown = ledger.processes(before, PAGE).map_err(PageError::read)?;
    let older = shown.last().map_or(0, |process| process.id.0);
    Ok(super::html::page(
        "Governance",
        None,
        html! {
            p { (count) " processes proposed in this cell." }
            @if shown.is_empty() { p.none { "No process yet." } }
            @else {
                div.scroll { table {
                    thead { tr { th { "Process" } th { "Kind" } th { "Proposer" } th { "Status" } th { "Proposed at" } th { "Voting" } th { "Executes at" } } }
                    tbody { @for process in &shown { tr {
                        td { (process_link(process.id)) }
                        td { (kind(process)) }
                        td { (passport_link(&process.proposer.to_string())) }
                        td { (status(process.status)) }
                        td { (block_link(process.proposed_at)) }
                        (schedule_cells(process.schedule.as_ref()))
                    } } }
                } }
            }
            @if older > 0 { p { a href={ "/explorer/governance?before=" (older) } { "Older processes" } } }
        },
    ))
}

pub fn process(explorer: &Explorer, id: &str) -> PageResult {
    let not_found = || PageError::NotFound(format!("Process {id}"));
    let id = ProcessId(id.parse::<u64>().map_err(|_| not_found())?);
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let process: Process = (ledger.get(&StateKey::Process(id)))
        .map_err(PageError::read)?
        .ok_or_else(not_found)?;
    let voters: Vec<PassportId> = (ledger.get(&StateKey::Voters(id)))
        .map_err(PageError::read)?
        .unwrap_or_default();
    let mut ballots = Vec::new();
    for voter in voters.iter().take(BALLOTS) {
        let key = StateKey::Ballot {
            process: id,
            voter: *voter,
        };
        if let Some(ballot) = ledger.get::<Ballot>(&key).map_err(PageError::read)? {
            ballots.push((*voter, ballot));
        }
    }
    Ok(super::html::page(
        &format!("Process #{}", id.0),
        None,
        html! {
            dl.fields {
                dt { "Kind" } dd { (kind(&process)) }
                dt { "Status" } dd { (status(process.status)) }
                dt { "Proposer" } dd { (passport_link(&process.proposer.to_string())) }
                dt { "Rules version" } dd { (process.rules_version) }
                dt { "Proposed at" } dd { (block_link(process.proposed_at)) }
            }
            section { h2 { "Proposal" } (value("proposal", &json(&process.proposal))) }
            section { h2 { "Schedule" } (value("schedule", &json(&process.schedule))) }
            section { h2 { "Tallies" } (tallies(&process)) }
            section {
                h2 { "Ballots" }
                p { (voters.len()) " passports voted." }
                @if !ballots.is_empty() { table {
                    thead { tr { th { "Voter" } th { "Choice" } th { "Cast at" } } }
                    tbody { @for (voter, ballot) in &ballots { tr {
                        td { (passport_link(&voter.to_string())) }
                        td { (format!("{:?}", ballot.choice).to_lowercase()) }
                        td { (block_link(ballot.cast_at)) }
                    } } }
                } }
            }
            section { h2 { "History" } (value("history", &json(&process.history))) }
            section { h2 { "Sponsors" } (value("sponsors", &json(&process.sponsors))) }
            details { summary { "The rules it runs under" } (value("rules", &json(&process.rules))) }
        },
    ))
}

/// Each voting chamber's weights and the clause it was judged by.
fn tallies(process: &Process) -> Markup {
    if process.tallies.is_empty() {
        return html! { p.none { "Not tallied yet." } };
    }
    let name = |chamber: u8| {
        (process.chambers.get(usize::from(chamber))).map_or(String::new(), |c| c.name.clone())
    };
    html! { div.scroll { table {
        thead { tr { th { "Chamber" } th.number { "Eligible" } th.number { "Yes" } th.number { "No" } th.number { "Abstain" } th.number { "Quorum (bps)" } th.number { "Threshold (bps)" } th { "Passed" } } }
        tbody { @for tally in &process.tallies { tr {
            td { (name(tally.chamber)) }
            td.number { (tally.eligible) }
            td.number { (tally.yes) }
            td.number { (tally.no) }
            td.number { (tally.abstain) }
            td.number { (tally.quorum_bps) }
            td.number { (tally.threshold_bps) }
            td { (if tally.passed { "yes" } else { "no" }) }
        } } }
    } } }
}
