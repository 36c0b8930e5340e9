//! The jury pages: cases newest first, and one case with its subject (an escrow, or a slash of
//! an offender's stake), the pool and seed it was drawn from (so a reader can check the draw),
//! its jurors' rulings and its outcome.

use super::accounts::json;
use super::html::{block_link, escrow_link, passport_link, value};
use super::{Explorer, PageError, PageResult};
use charter_ledger::governance::{CaseStatus, CaseSubject, JuryCase, JuryCaseId, Verdict};
use charter_ledger::state::StateKey;
use maud::{html, Markup};

/// Cases a page of the list shows.
const PAGE: u64 = 50;

fn status(status: CaseStatus) -> Markup {
    let name = format!("{status:?}").to_lowercase();
    html! { span class={ "badge " (name) } { (name) } }
}

/// A ruling, as what it asks for.
fn ruling(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::ForClaim => "for the claim",
        Verdict::AgainstClaim => "against the claim",
    }
}

/// A case's verdict, as what it did to the subject.
fn verdict(subject: &CaseSubject, verdict: Verdict) -> &'static str {
    match (subject, verdict) {
        (CaseSubject::Escrow(_), Verdict::ForClaim) => "to the payee",
        (CaseSubject::Escrow(_), Verdict::AgainstClaim) => "to the payer",
        (CaseSubject::Slash { .. }, Verdict::ForClaim) => "slashed",
        (CaseSubject::Slash { .. }, Verdict::AgainstClaim) => "acquitted",
    }
}

fn subject(subject: &CaseSubject) -> Markup {
    match subject {
        CaseSubject::Escrow(escrow) => html! { "escrow " (escrow_link(&escrow.to_string())) },
        CaseSubject::Slash {
            offender,
            amount,
            case,
        } => html! {
            "slash of up to " (amount) " from " (passport_link(&offender.to_string()))
            " (case " code { (case.to_string()) } ")"
        },
    }
}

fn case_link(id: JuryCaseId) -> Markup {
    html! { a href={ "/explorer/juries/" (id.0) } { "#" (id.0) } }
}

/// Cases with ids below `before` (all when absent), newest first.
pub fn cases(explorer: &Explorer, before: Option<u64>) -> PageResult {
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let count = ledger.jury_case_count().map_err(PageError::read)?;
    let shown = ledger.jury_cases(before, PAGE).map_err(PageError::read)?;
    let older = shown.last().map_or(0, |case| case.id.0);
    Ok(super::html::page(
        "Juries",
        None,
        html! {
            p { (count) " escrow disputes and slash cases sent to juries in this cell." }
            @if shown.is_empty() { p.none { "No jury case yet." } }
            @else {
                div.scroll { table {
                    thead { tr { th { "Case" } th { "Subject" } th { "Status" } th { "Filed at" } th { "Drawn at" } th { "Closes at" } th { "Verdict" } } }
                    tbody { @for case in &shown { tr {
                        td { (case_link(case.id)) }
                        td { (subject(&case.subject)) }
                        td { (status(case.status)) }
                        td { (block_link(case.filed_at)) }
                        td { (block_link(case.draw_at)) }
                        td { (block_link(case.closes_at)) }
                        td { (case.outcome.as_ref().map_or("—", |outcome| verdict(&case.subject, outcome.verdict))) }
                    } } }
                } }
            }
            @if older > 0 { p { a href={ "/explorer/juries?before=" (older) } { "Older cases" } } }
        },
    ))
}

pub fn case(explorer: &Explorer, id: &str) -> PageResult {
    let not_found = || PageError::NotFound(format!("Jury case {id}"));
    let id = JuryCaseId(id.parse::<u64>().map_err(|_| not_found())?);
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let case: JuryCase = (ledger.get(&StateKey::JuryCase(id)))
        .map_err(PageError::read)?
        .ok_or_else(not_found)?;
    Ok(super::html::page(
        &format!("Jury case #{}", id.0),
        None,
        html! {
            dl.fields {
                dt { "Subject" } dd { (subject(&case.subject)) }
                dt { "Status" } dd { (status(case.status)) }
                dt { "Rules version" } dd { (case.rules_version) }
                dt { "Filed at" } dd { (block_link(case.filed_at)) }
                dt { "Drawn at" } dd { (block_link(case.draw_at)) }
                dt { "Closes at" } dd { (block_link(case.closes_at)) }
                dt { "Seed" } dd { code { (case.seed.map_or("not drawn yet".to_string(), |seed| seed.to_string())) } }
                @if let Some(outcome) = &case.outcome {
                    dt { "Verdict" } dd { (verdict(&case.subject, outcome.verdict)) " (" (outcome.for_claim) " for the claim, " (outcome.against_claim) " against)" }
                    @if let CaseSubject::Slash { .. } = case.subject { dt { "Slashed" } dd { (outcome.slashed) } }
                    dt { "Absence penalties" } dd { (outcome.penalties) }
                }
            }
            section {
                h2 { "Jurors" }
                @if case.jurors.is_empty() { p.none { "Not drawn yet." } }
                @else { table {
                    thead { tr { th { "Juror" } th { "Ruling" } th { "At" } } }
                    tbody { @for juror in &case.jurors {
                        @let given = case.rulings.iter().find(|ruling| ruling.juror == *juror);
                        tr {
                            td { (passport_link(&juror.to_string())) }
                            @match given {
                                Some(found) => { td { (ruling(found.verdict)) } td { (block_link(found.height)) } }
                                None => { td.none { "none" } td.none { "—" } }
                            }
                        }
                    } }
                } }
            }
            section { h2 { "History" } (value("history", &json(&case.history))) }
            details { summary { "The pool it was drawn from (" (case.pool.len()) " passports)" } (value("pool", &json(&case.pool))) }
            details { summary { "The jury rules it runs under" } (value("rules", &json(&case.rules))) }
        },
    ))
}
