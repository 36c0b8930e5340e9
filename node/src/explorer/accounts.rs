//! The state's pages: a passport with its lineage, bond and escrows; the validators with
//! their bonds and slashes; the escrows.

use super::html::{block_link, escrow_link, hex, page, passport_link, transaction_link, value};
use super::index::SlashRecord;
use super::{Explorer, PageError, PageResult};
use crate::api::parse_id;
use charter_ledger::state::{
    ActiveValidators, Bond, Escrow, Passport, StateKey, StateObject, Validator,
};
use charter_ledger::transaction::SlashEvidence;
use charter_ledger::{EscrowId, Ledger, PassportId};
use charter_store::StateStore;
use maud::{html, Markup};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// Most passports a lineage tree shows, and most generations it climbs to find its root.
const TREE_PASSPORTS: usize = 200;
const TREE_GENERATIONS: usize = 64;

fn read<T: StateObject>(
    ledger: &Ledger<StateStore>,
    key: StateKey,
) -> Result<Option<T>, PageError> {
    ledger.get(&key).map_err(PageError::read)
}

pub(super) fn json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

pub fn passport(explorer: &Explorer, id: &str) -> PageResult {
    let not_found = || PageError::NotFound(format!("Passport {id}"));
    let passport_id: PassportId = parse_id(id).ok_or_else(not_found)?;
    let index = explorer.index()?;
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let passport: Passport =
        read(&ledger, StateKey::Passport(passport_id))?.ok_or_else(not_found)?;
    let bond: Option<Bond> = read(&ledger, StateKey::Bond(passport_id))?;
    let validator: Option<Validator> = read(&ledger, StateKey::Validator(passport_id))?;
    let tree = lineage_tree(&ledger, &passport)?;
    let mut escrows = Vec::new();
    for escrow in index.escrows_of(&passport_id) {
        escrows.extend(read::<Escrow>(&ledger, StateKey::Escrow(*escrow))?);
    }
    let sent: Vec<_> = index.transactions_of(&passport_id).cloned().collect();
    Ok(page(
        "Passport",
        None,
        html! {
            p { code.whole { (passport_id) } }
            (passport_summary(&passport))
            section {
                h2 { "Lineage" }
                (tree)
            }
            @if !passport.sanctions.is_empty() {
                section { h2 { "Sanctions" } (value("sanctions", &json(&passport.sanctions))) }
            }
            section {
                h2 { "Bond" }
                @match &bond {
                    Some(bond) => (value("bond", &json(bond))),
                    None => p.none { "No bond." },
                }
            }
            @if let Some(validator) = &validator {
                section { h2 { "Validator" } (value("validator", &json(validator))) }
            }
            section {
                h2 { "Escrows it is party to" }
                (escrow_table(&escrows))
            }
            section {
                h2 { "Latest transactions it sent" }
                @if sent.is_empty() { p.none { "None committed." } }
                @else {
                    table {
                        thead { tr { th { "Block" } th { "Transaction" } } }
                        tbody { @for (height, id) in &sent { tr { td { (block_link(*height)) } td { (transaction_link(&id.to_string())) } } } }
                    }
                }
            }
        },
    ))
}

fn passport_summary(passport: &Passport) -> Markup {
    html! {
        dl.fields {
            dt { "Status" } dd { span class={ "badge " (format!("{:?}", passport.status).to_lowercase()) } { (format!("{:?}", passport.status)) } }
            dt { "Balance" } dd { (passport.balance) }
            dt { "Nonce" } dd { (passport.nonce) }
            dt { "Tier" } dd { (passport.tier) }
            dt { "Liabilities" } dd { (passport.liabilities) }
            dt { "Home cell" } dd { (passport.home_cell.0) }
            dt { "Sponsor" } dd {
                @match &passport.sponsor { Some(sponsor) => (passport_link(&sponsor.to_string())), None => span.none { "none" } }
            }
            dt { "Generation" } dd { (passport.generation) }
            dt { "Created at" } dd { (block_link(passport.created_at)) }
            dt { "Controller keys" } dd { ul { @for key in &passport.controller_keys { li { (hex(&hex::encode(key.0))) } } } }
        }
    }
}

/// The tree of forks this passport belongs to, from its root, this passport marked.
fn lineage_tree(ledger: &Ledger<StateStore>, passport: &Passport) -> Result<Markup, PageError> {
    let mut root = passport.clone();
    for _ in 0..TREE_GENERATIONS {
        let Some(parent) = root.lineage.first() else {
            break;
        };
        match read::<Passport>(ledger, StateKey::Passport(*parent))? {
            Some(parent) => root = parent,
            None => break,
        }
    }
    let mut shown = BTreeSet::new();
    let tree = tree_node(ledger, &root, &passport.id, &mut shown)?;
    Ok(html! { ul.tree { (tree) } })
}

fn tree_node(
    ledger: &Ledger<StateStore>,
    node: &Passport,
    marked: &PassportId,
    shown: &mut BTreeSet<PassportId>,
) -> Result<Markup, PageError> {
    shown.insert(node.id);
    let mut children = Vec::new();
    for fork in &node.forks {
        if shown.len() >= TREE_PASSPORTS || shown.contains(fork) {
            continue;
        }
        if let Some(child) = read::<Passport>(ledger, StateKey::Passport(*fork))? {
            children.push(tree_node(ledger, &child, marked, shown)?);
        }
    }
    let sanctions: Vec<String> = (node.sanctions.iter())
        .map(|sanction| format!("{:?}", sanction.kind).to_lowercase())
        .collect();
    Ok(html! {
        li class=[(node.id == *marked).then_some("this")] {
            (passport_link(&node.id.to_string()))
            " " span.badge { (format!("{:?}", node.status).to_lowercase()) }
            @if !sanctions.is_empty() { " " span.badge.sanction { "sanctions: " (sanctions.join(", ")) } }
            @if !children.is_empty() { ul { @for child in children { (child) } } }
        }
    })
}

fn escrow_table(escrows: &[Escrow]) -> Markup {
    html! {
        @if escrows.is_empty() { p.none { "None." } }
        @else {
            div.scroll {
                table {
                    thead { tr { th { "Escrow" } th { "Payer" } th { "Payee" } th { "Arbiter" } th.number { "Amount" } th.number { "Release" } th.number { "Expiry" } th { "Status" } } }
                    tbody {
                        @for escrow in escrows {
                            tr {
                                td { (escrow_link(&escrow.id.to_string())) }
                                td { (passport_link(&escrow.payer.to_string())) }
                                td { (passport_link(&escrow.payee.to_string())) }
                                td { @match &escrow.arbiter { Some(arbiter) => (passport_link(&arbiter.to_string())), None => span.none { "none" } } }
                                td.number { (escrow.amount) }
                                td.number { (escrow.release_height) }
                                td.number { (escrow.expiry_height) }
                                td { span class={ "badge " (format!("{:?}", escrow.status).to_lowercase()) } { (format!("{:?}", escrow.status)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn escrows(explorer: &Explorer) -> PageResult {
    let index = explorer.index()?;
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let mut escrows = Vec::new();
    for escrow in index.escrows() {
        escrows.extend(read::<Escrow>(&ledger, StateKey::Escrow(*escrow))?);
    }
    Ok(page(
        "Escrows",
        None,
        html! {
            p { (escrows.len()) " escrows created in the blocks this node holds." }
            (escrow_table(&escrows))
        },
    ))
}

pub fn escrow(explorer: &Explorer, id: &str) -> PageResult {
    let not_found = || PageError::NotFound(format!("Escrow {id}"));
    let escrow_id: EscrowId = parse_id(id).ok_or_else(not_found)?;
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let escrow: Escrow = read(&ledger, StateKey::Escrow(escrow_id))?.ok_or_else(not_found)?;
    Ok(page(
        "Escrow",
        None,
        html! {
            p { code.whole { (escrow_id) } }
            (value("escrow", &json(&escrow)))
        },
    ))
}

pub fn validators(explorer: &Explorer) -> PageResult {
    let index = explorer.index()?;
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let active: ActiveValidators = read(&ledger, StateKey::ActiveValidators)?
        .ok_or_else(|| PageError::Read("the ledger has no validator set".into()))?;
    let mut rows = Vec::new();
    for member in &active.members {
        let bond: Option<Bond> = read(&ledger, StateKey::Bond(member.passport))?;
        rows.push((member, bond.unwrap_or_default()));
    }
    let mut slashes = Vec::new();
    for slash in index.slashes().iter().rev() {
        slashes.push((slash, offender(&ledger, slash)?));
    }
    Ok(page(
        "Validators",
        None,
        html! {
            p { "Epoch " (active.epoch) ", total power " (active.total_power()) "." }
            div.scroll {
                table {
                    thead { tr { th { "Passport" } th.number { "Power" } th.number { "Bonded" } th.number { "Unbonding" } th { "Consensus key" } th { "BLS key" } } }
                    tbody {
                        @for (member, bond) in &rows {
                            tr {
                                td { (passport_link(&member.passport.to_string())) }
                                td.number { (member.power) }
                                td.number { (bond.bonded) }
                                td.number { (bond.unbonding_total()) }
                                td { (hex(&hex::encode(member.consensus_key.0))) }
                                td { (hex(json(&member.bls_key).as_str().unwrap_or_default())) }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Slashes" }
                @if slashes.is_empty() { p.none { "No slash committed in the blocks this node holds." } }
                @for (slash, offender) in &slashes {
                    article.slash {
                        h3 {
                            (slash_kind(&slash.evidence)) " of "
                            @match offender { Some(offender) => (passport_link(&offender.to_string())), None => "an unknown validator" }
                            " at block " (block_link(slash.height))
                        }
                        p { "Transaction " (transaction_link(&slash.transaction.to_string())) }
                        details { summary { "Evidence" } (value("evidence", &json(&slash.evidence))) }
                    }
                }
            }
        },
    ))
}

fn slash_kind(evidence: &SlashEvidence) -> &'static str {
    match evidence {
        SlashEvidence::DoubleVote(_) => "Double vote",
        SlashEvidence::ArbiterRuling { .. } => "Arbiter ruling",
    }
}

/// Whom a slash punished: the ruling's offender, or the validator whose consensus key signed
/// both votes.
fn offender(
    ledger: &Ledger<StateStore>,
    slash: &SlashRecord,
) -> Result<Option<PassportId>, PageError> {
    match &slash.evidence {
        SlashEvidence::ArbiterRuling { offender, .. } => Ok(Some(*offender)),
        SlashEvidence::DoubleVote(votes) => {
            read(ledger, StateKey::ConsensusKey(votes.first.validator_key))
        }
    }
}
