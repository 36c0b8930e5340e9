//! The explorer's page shell and the pieces every page is made of: links to ids, amounts, and
//! any JSON value the API answers, rendered as nested lists with ids linked where the field
//! names what they are.

use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

/// The explorer's sections, in the navigation bar.
const SECTIONS: [(&str, &str); 7] = [
    ("/explorer", "Cell"),
    ("/explorer/blocks", "Blocks"),
    ("/explorer/validators", "Validators"),
    ("/explorer/escrows", "Escrows"),
    ("/explorer/governance", "Governance"),
    ("/explorer/juries", "Juries"),
    ("/explorer/federation", "Federation"),
];

/// A whole page: navigation, search, then `body`. `live` names what the page's script keeps
/// current from the block stream (`blocks` for the block table and the cell's figures).
pub fn page(title: &str, live: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Charter explorer" }
                // No icon to fetch: the explorer makes no request a node does not answer.
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/explorer/assets/explorer.css";
                script src="/explorer/assets/explorer.js" defer {}
            }
            body data-live=[live] {
                header {
                    a.brand href="/explorer" { "Charter" }
                    nav {
                        @for (href, name) in SECTIONS {
                            a href=(href) { (name) }
                        }
                    }
                    form.search action="/explorer/search" method="get" {
                        input type="search" name="q" aria-label="Search"
                            placeholder="transaction, passport, escrow, height or cell/epoch";
                        button type="submit" { "Search" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The first and last few characters of a long hex id, whole in the tooltip.
pub fn short(id: &str) -> String {
    match id.is_ascii() && id.len() > 16 {
        true => format!("{}…{}", &id[..8], &id[id.len() - 6..]),
        false => id.to_string(),
    }
}

pub fn passport_link(id: &str) -> Markup {
    html! { a.id href={ "/explorer/passports/" (id) } title=(id) { (short(id)) } }
}

pub fn transaction_link(id: &str) -> Markup {
    html! { a.id href={ "/explorer/transactions/" (id) } title=(id) { (short(id)) } }
}

pub fn escrow_link(id: &str) -> Markup {
    html! { a.id href={ "/explorer/escrows/" (id) } title=(id) { (short(id)) } }
}

pub fn block_link(height: u64) -> Markup {
    html! { a href={ "/explorer/blocks/" (height) } { (height) } }
}

pub fn checkpoint_link(cell: u64, epoch: u64) -> Markup {
    html! { a href={ "/explorer/checkpoints/" (cell) "/" (epoch) } { "epoch " (epoch) } }
}

/// A hex id that is not a link, shortened, whole in the tooltip.
pub fn hex(id: &str) -> Markup {
    html! { code title=(id) { (short(id)) } }
}

/// The fields whose values are passport ids, escrow ids or transaction ids.
fn link_for(field: &str, text: &str) -> Option<Markup> {
    let is_id = text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit());
    match field {
        _ if !is_id => None,
        "sender" | "to" | "payee" | "payer" | "arbiter" | "subject" | "passport" | "sponsor"
        | "offender" | "lineage" | "forks" | "validator" | "signer_passport" | "members"
        | "proposer" | "sponsors" | "voter" | "seats" => Some(passport_link(text)),
        "escrow" => Some(escrow_link(text)),
        "id" | "transaction" => Some(transaction_link(text)),
        _ => None,
    }
}

/// Any JSON value: objects as definition lists, arrays as lists, ids linked by their field.
pub fn value(field: &str, value: &Value) -> Markup {
    match value {
        Value::Null => html! { span.none { "none" } },
        Value::Bool(flag) => html! { (flag) },
        Value::Number(number) => html! { span.number { (number) } },
        Value::String(text) => match link_for(field, text) {
            Some(link) => link,
            None if text.len() > 24 => hex(text),
            None => html! { (text) },
        },
        Value::Array(items) if items.is_empty() => html! { span.none { "none" } },
        Value::Array(items) => html! {
            ol.values { @for item in items { li { (self::value(field, item)) } } }
        },
        Value::Object(fields) => html! {
            dl.fields {
                @for (name, inner) in fields {
                    dt { (name) }
                    dd { (self::value(name, inner)) }
                }
            }
        },
    }
}

/// An action's kind: the one key of its JSON object, or the string of an action without
/// fields (`Exit`, `Withdraw`).
pub fn action_kind(action: &Value) -> String {
    match action {
        Value::Object(fields) => fields.keys().next().cloned().unwrap_or_default(),
        Value::String(kind) => kind.clone(),
        _ => String::new(),
    }
}

/// A transaction's outcome as a badge: committed, rejected (with its code), pending, dropped.
pub fn outcome(status: &str, reason: &Value) -> Markup {
    let code = reason["code"].as_str().unwrap_or_default();
    html! {
        span class={ "badge " (status) } title=[reason["message"].as_str()] {
            (status) @if !code.is_empty() { ": " (code) }
        }
    }
}

/// A page saying what was not found, with the search box to try again.
pub fn not_found(what: &str) -> Markup {
    page(
        "Not found",
        None,
        html! {
            p.notice { (what) " is not known to this node." }
            p { "Search by a transaction id, a passport or escrow id (64 hex digits), a block \
                height, or a checkpoint as cell/epoch." }
        },
    )
}

/// A page for a read that failed on this node's side.
pub fn failed(error: &str) -> Markup {
    page(
        "Something went wrong",
        None,
        html! { p.notice { "This node could not read what the page needs: " (error) } },
    )
}
