//! The chain's pages: the cell at a glance, the block list, a block, a transaction; and
//! search, which finds which page an id or a number belongs to.

use super::html::{
    action_kind, block_link, hex, outcome, page, passport_link, transaction_link, value,
};
use super::{activity, Explorer, PageError, PageResult};
use crate::api::{collector, read_block, read_status, transaction_status};
use charter_ledger::state::{Escrow, Passport, StateKey};
use charter_ledger::{CellId, EscrowId, PassportId, TxId};
use maud::{html, Markup};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Blocks per page of the block list, and on the cell's page.
const BLOCKS_PER_PAGE: u64 = 25;
const BLOCKS_AT_A_GLANCE: u64 = 10;
/// The window the cell's rates are measured over.
const RATE_WINDOW: Duration = Duration::from_secs(60);

pub fn overview(explorer: &Explorer) -> PageResult {
    let status = read_status(&explorer.api).map_err(PageError::read)?;
    let height = status["height"].as_u64().unwrap_or(0);
    let rates = explorer.recent().rates(SystemTime::now(), RATE_WINDOW);
    let latest = latest_blocks(explorer, height, BLOCKS_AT_A_GLANCE)?;
    let finality = super::federation::own_finality(explorer, &status);
    let title = match status["cell"].as_u64() {
        Some(cell) => format!("Cell {cell}"),
        None => "Cell".to_string(),
    };
    Ok(page(
        &title,
        Some("blocks"),
        html! {
            (figures(&status, rates, finality))
            section {
                h2 { "Activity, last 5 minutes" }
                img #activity src="/explorer/activity.svg" alt="Committed transactions per second and block interval over the last five minutes"
                    width=(activity::WIDTH) height=(activity::HEIGHT);
            }
            section {
                h2 { "Latest blocks" }
                (block_table(&latest, BLOCKS_AT_A_GLANCE))
                p { a href="/explorer/blocks" { "All blocks" } }
            }
            section {
                h2 { "Validators this epoch" }
                table {
                    thead { tr { th { "Passport" } th.number { "Power" } } }
                    tbody {
                        @for validator in status["validators"].as_array().into_iter().flatten() {
                            tr {
                                td { (passport_link(validator["passport"].as_str().unwrap_or_default())) }
                                td.number { (validator["power"]) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The cell's figures, each in a card; the script updates those with an id as blocks commit.
fn figures(status: &Value, rates: Option<(f64, Duration)>, finality: Option<Markup>) -> Markup {
    let validators = status["validators"].as_array().map_or(0, Vec::len);
    let power: u128 = (status["validators"].as_array().into_iter().flatten())
        .filter_map(|validator| validator["power"].as_u64())
        .map(u128::from)
        .sum();
    let mode = status["mode"]["mode"].as_str().unwrap_or("unknown");
    let epoch_length = status["params"]["epoch_length"]
        .as_u64()
        .unwrap_or(1)
        .max(1);
    let height = status["height"].as_u64().unwrap_or(0);
    html! {
        div.cards {
            div.card { span.label { "Height" } span.figure #height { (height) } }
            div.card { span.label { "Epoch" } span.figure #epoch data-epoch-length=(epoch_length) { (height / epoch_length + 1) } }
            div.card { span.label { "Round" } span.figure { (status["round"]) } }
            div.card { span.label { "Mode" } span.figure { (mode) } }
            div.card { span.label { "Validators" } span.figure { (validators) } span.sub { "power " (power) } }
            div.card { span.label { "Mempool" } span.figure { (status["mempool"]) } }
            div.card {
                span.label { "Committed, last minute" }
                @match rates {
                    Some((per_second, interval)) => {
                        span.figure { (format!("{per_second:.1}")) " tx/s" }
                        span.sub { "a block every " (format!("{:.2}", interval.as_secs_f64())) " s" }
                    }
                    None => span.figure { "–" },
                }
            }
            @if let Some(finality) = finality {
                div.card { span.label { "Federation finality" } (finality) }
            }
            @if !status["catch_up"].is_null() {
                div.card.warning {
                    span.label { "Catching up" }
                    span.figure { (status["catch_up"]["height"]) " → " (status["catch_up"]["target"]) }
                    span.sub { (format!("{:.0}", status["catch_up"]["blocks_per_second"].as_f64().unwrap_or(0.0))) " blocks/s" }
                }
            }
        }
    }
}

/// The latest `count` decided blocks at or below `top`, latest first.
fn latest_blocks(explorer: &Explorer, top: u64, count: u64) -> Result<Vec<Value>, PageError> {
    let heights = (1..=top).rev().take(count as usize);
    let mut blocks = Vec::new();
    for height in heights {
        if let Some(block) = read_block(&explorer.api, Some(height)).map_err(PageError::read)? {
            blocks.push(block.to_value());
        }
    }
    Ok(blocks)
}

/// The block table the script prepends new blocks to.
fn block_table(blocks: &[Value], rows: u64) -> Markup {
    html! {
        div.scroll { table #blocks {
            thead { tr { th { "Height" } th { "Hash" } th.number { "Round" } th.number { "Transactions" } th.number { "Rejected" } } }
            tbody data-rows=(rows) {
                @for block in blocks {
                    @let transactions = block["transactions"].as_array().map_or(&[][..], Vec::as_slice);
                    tr {
                        td { (block_link(block["height"].as_u64().unwrap_or(0))) }
                        td { (hex(block["hash"].as_str().unwrap_or_default())) }
                        td.number { (block["certificate"]["round"]) }
                        td.number { (transactions.len()) }
                        td.number { (transactions.iter().filter(|transaction| transaction["status"] == "rejected").count()) }
                    }
                }
            }
        } }
    }
}

pub fn blocks(explorer: &Explorer, before: Option<u64>) -> PageResult {
    let latest = read_status(&explorer.api).map_err(PageError::read)?["height"]
        .as_u64()
        .unwrap_or(0);
    let top = before.map_or(latest, |before| before.saturating_sub(1).min(latest));
    let blocks = latest_blocks(explorer, top, BLOCKS_PER_PAGE)?;
    let older = top.saturating_sub(BLOCKS_PER_PAGE);
    let live = before.is_none().then_some("blocks");
    Ok(page(
        "Blocks",
        live,
        html! {
            p { "Latest committed height " span #height { (latest) } "." }
            (block_table(&blocks, BLOCKS_PER_PAGE))
            nav.pages {
                @if before.is_some() { a href="/explorer/blocks" { "Latest" } }
                @if older > 0 { a href={ "/explorer/blocks?before=" (older + 1) } { "Older" } }
            }
        },
    ))
}

pub fn block(explorer: &Explorer, height: &str) -> PageResult {
    let not_found = || PageError::NotFound(format!("Block {height}"));
    let number: u64 = height.parse().map_err(|_| not_found())?;
    let block = read_block(&explorer.api, Some(number)).map_err(PageError::read)?;
    let block = block.ok_or_else(not_found)?.to_value();
    let header = &block["header"];
    let transactions = block["transactions"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let applied = read_status(&explorer.api).map_err(PageError::read)?["height"].as_u64();
    let next = number.checked_add(1).filter(|next| applied >= Some(*next));
    Ok(page(
        &format!("Block {number}"),
        None,
        html! {
            dl.fields {
                dt { "Hash" } dd { code { (block["hash"].as_str().unwrap_or_default()) } }
                dt { "Parent" } dd {
                    @if number > 1 { a href={ "/explorer/blocks/" (number - 1) } { (hex(header["parent"].as_str().unwrap_or_default())) } }
                    @else { (hex(header["parent"].as_str().unwrap_or_default())) }
                }
                dt { "Cell" } dd { (header["cell"]) }
                dt { "Proposer" } dd { (passport_link(header["proposer"].as_str().unwrap_or_default())) }
                dt { "State root" } dd { code { (header["state_root"].as_str().unwrap_or_default()) } }
                dt { "Transactions root" } dd { code { (header["transactions_root"].as_str().unwrap_or_default()) } }
                dt { "Decided in round" } dd { (block["certificate"]["round"]) }
                @if let Some(next) = next {
                    dt { "Next" } dd { a href={ "/explorer/blocks/" (next) } { (next) } }
                }
            }
            section {
                h2 { "Certificate signers" }
                ul.signers {
                    @for signature in block["certificate"]["signatures"].as_array().into_iter().flatten() {
                        li { (passport_link(signature["validator"].as_str().unwrap_or_default())) }
                    }
                }
            }
            section {
                h2 { "Transactions (" (transactions.len()) ")" }
                @if transactions.is_empty() { p.none { "This block carries no transactions." } }
                @else { (transaction_table(transactions)) }
            }
        },
    ))
}

fn transaction_table(transactions: &[Value]) -> Markup {
    html! {
        div.scroll {
            table {
                thead { tr { th { "Transaction" } th { "Sender" } th { "Action" } th { "Outcome" } th { "Details" } } }
                tbody {
                    @for transaction in transactions {
                        @let body = &transaction["transaction"]["body"];
                        @let action = &body["action"];
                        tr {
                            td { (transaction_link(transaction["id"].as_str().unwrap_or_default())) }
                            td { (passport_link(body["sender"].as_str().unwrap_or_default())) }
                            td { (action_kind(action)) }
                            td { (outcome(transaction["status"].as_str().unwrap_or_default(), &transaction["reason"])) }
                            td { (action_fields(action)) }
                        }
                    }
                }
            }
        }
    }
}

/// The action's fields, without the kind that wraps them.
fn action_fields(action: &Value) -> Markup {
    match action.as_object().and_then(|fields| fields.values().next()) {
        Some(fields) => value("action", fields),
        None => html! { span.none { "no fields" } },
    }
}

pub fn transaction(explorer: &Explorer, id: &str) -> PageResult {
    let not_found = || PageError::NotFound(format!("Transaction {id}"));
    let parsed = TxId::from_hex(id).map_err(|_| not_found())?;
    let status = transaction_status(&explorer.api, &parsed, true).map_err(PageError::read)?;
    let status = status.ok_or_else(not_found)?;
    let body = &status["transaction"]["body"];
    let state = status["status"].as_str().unwrap_or_default();
    Ok(page(
        "Transaction",
        None,
        html! {
            p { code.whole { (id) } }
            dl.fields {
                dt { "Outcome" } dd { (outcome(state, &status["reason"])) }
                @if let Some(message) = status["reason"]["message"].as_str() { dt { "Reason" } dd { (message) } }
                @if let Some(height) = status["height"].as_u64() {
                    dt { "Block" } dd { (block_link(height)) ", transaction " (status["index"]) }
                    dt { "State root after it" } dd { code { (status["state_root"].as_str().unwrap_or_default()) } }
                }
                @if !body.is_null() {
                    dt { "Sender" } dd { (passport_link(body["sender"].as_str().unwrap_or_default())) }
                    dt { "Nonce" } dd { (body["nonce"]) }
                    dt { "Fee" } dd { (body["fee"]) }
                    dt { "Action" } dd { strong { (action_kind(&body["action"])) } (action_fields(&body["action"])) }
                    dt { "Signer key" } dd { (hex(status["transaction"]["signer"].as_str().unwrap_or_default())) }
                }
            }
            @if let Some(proof) = status["proof"].as_str() {
                details {
                    summary { "Inclusion proof (" (proof.len() / 2) " bytes, docs/proofs.md)" }
                    pre.proof { (proof) }
                }
            }
        },
    ))
}

/// The page `query` names: a block height, a checkpoint as `cell/epoch`, or a 64-hex id of a
/// transaction, passport or escrow known here (in that order); `None` if none is.
pub fn find(explorer: &Explorer, query: &str) -> Result<Option<String>, PageError> {
    if let Ok(height) = query.parse::<u64>() {
        let found = read_block(&explorer.api, Some(height)).map_err(PageError::read)?;
        return Ok(found.map(|_| format!("/explorer/blocks/{height}")));
    }
    if let Some((cell, epoch)) = query.split_once('/') {
        let (Ok(cell), Ok(epoch)) = (cell.parse::<u32>(), epoch.parse::<u64>()) else {
            return Ok(None);
        };
        let final_here = collector(&explorer.api)
            .is_some_and(|collector| collector.final_certificate(CellId(cell), epoch).is_some());
        return Ok(final_here.then(|| format!("/explorer/checkpoints/{cell}/{epoch}")));
    }
    let Ok(id) = TxId::from_hex(query) else {
        return Ok(None);
    };
    let query = query.to_ascii_lowercase();
    if transaction_status(&explorer.api, &id, false)
        .map_err(PageError::read)?
        .is_some()
    {
        return Ok(Some(format!("/explorer/transactions/{query}")));
    }
    let ledger = explorer.api.ledger().map_err(PageError::read)?;
    let passport: Option<Passport> = ledger
        .get(&StateKey::Passport(PassportId(id.0)))
        .map_err(PageError::read)?;
    if passport.is_some() {
        return Ok(Some(format!("/explorer/passports/{query}")));
    }
    let escrow: Option<Escrow> = ledger
        .get(&StateKey::Escrow(EscrowId(id.0)))
        .map_err(PageError::read)?;
    Ok(escrow.map(|_| format!("/explorer/escrows/{query}")))
}
