//! The federation's pages: every cell with its latest final checkpoint and who signed it,
//! quarantines and bridge rulings with their equivocation proofs; and one checkpoint.

use super::html::{checkpoint_link, hex, page, passport_link, value};
use super::{Explorer, PageError, PageResult};
use crate::api::{collector, federation_json};
use charter_federation::checkpoint::CheckpointCertificate;
use charter_federation::collector::Collector;
use charter_ledger::CellId;
use maud::{html, Markup};
use serde_json::Value;

/// The "Federation finality" card of the cell's page: this cell's latest final epoch and how
/// many of its completed epochs are not final here yet; `None` outside a federation. Epoch `e`
/// ends at height `e × epoch_length`.
pub fn own_finality(explorer: &Explorer, status: &Value) -> Option<Markup> {
    let collector = collector(&explorer.api)?;
    let cell = CellId(u32::try_from(status["cell"].as_u64()?).ok()?);
    let epoch_length = status["params"]["epoch_length"].as_u64()?.max(1);
    let completed = status["height"].as_u64()? / epoch_length;
    let latest = collector
        .latest_final(cell)
        .map(|final_| final_.checkpoint.epoch);
    Some(html! {
        @match latest {
            Some(epoch) => {
                span.figure { "epoch " (epoch) }
                span.sub { (completed.saturating_sub(epoch)) " completed epochs not final yet" }
            }
            None => span.figure { "none yet" },
        }
    })
}

pub fn federation(explorer: &Explorer) -> PageResult {
    let Some(collector) = collector(&explorer.api) else {
        return Ok(page(
            "Federation",
            None,
            html! { p.notice { "This node is not configured with a federation." } },
        ));
    };
    let federation = federation_json(&collector);
    let cells = federation["cells"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    Ok(page(
        "Federation",
        None,
        html! {
            p { "Federation " (hex(federation["federation"].as_str().unwrap_or_default()))
                ": " (cells.len()) " cells; a checkpoint is final with the quorums of its own cell and "
                (federation["k"].as_u64().unwrap_or(1).saturating_sub(1)) " cells of its committee of "
                (federation["committee"]) "." }
            div.scroll {
                table #cells {
                    thead { tr { th { "Cell" } th.number { "Validators" } th { "Latest final" } th.number { "At height" } th { "Bridge" } th { "Signed by" } } }
                    tbody {
                        @for cell in cells {
                            @let id = cell["cell"].as_u64().unwrap_or_default();
                            tr {
                                td { (id) }
                                td.number { (cell["validators"].as_array().map_or(0, Vec::len)) }
                                td { @match cell["latest_final_epoch"].as_u64() { Some(epoch) => (checkpoint_link(id, epoch)), None => span.none { "none yet" } } }
                                td.number { (cell["latest_final_height"]) }
                                td { span class={ "badge " (cell["bridge"].as_str().unwrap_or_default()) } { (cell["bridge"].as_str().unwrap_or_default()) } }
                                td { (latest_signers(&collector, id)) }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Quarantines and bridge rulings" }
                @let equivocations = federation["equivocations"].as_array().map_or(&[][..], Vec::as_slice);
                @if equivocations.is_empty() { p.none { "No cell has certified two checkpoints for one epoch." } }
                @for equivocation in equivocations {
                    (equivocation_entry(equivocation))
                }
            }
        },
    ))
}

/// "cell 0: 4 of 4, cell 2: 3 of 4": who signed a cell's latest final checkpoint.
fn latest_signers(collector: &Collector, cell: u64) -> Markup {
    let certificate = u32::try_from(cell)
        .ok()
        .and_then(|cell| collector.latest_final(CellId(cell)));
    match certificate {
        Some(certificate) => html! {
            @for (signing, signed, total) in signer_counts(collector, certificate) {
                span.signed {
                    "cell " (signing) ": " (signed)
                    @match total { Some(total) => { " of " (total) }, None => " (its set is not held here)" }
                }
                " "
            }
        },
        None => html! { span.none { "–" } },
    }
}

/// For each signing cell: how many of its validators signed, out of how many (`None` when
/// this node does not hold the set they signed with).
fn signer_counts(
    collector: &Collector,
    certificate: &CheckpointCertificate,
) -> Vec<(u32, usize, Option<usize>)> {
    (certificate.signers.iter())
        .map(|signers| {
            let total =
                (collector.sets().held(signers.cell, &signers.validators)).map(|set| set.len());
            let positions = total.unwrap_or(signers.bitmap.len() * 8);
            let signed = (0..positions)
                .filter(|index| signers.signed(*index))
                .count();
            (signers.cell.0, signed, total)
        })
        .collect()
}

fn equivocation_entry(equivocation: &Value) -> Markup {
    let checkpoint = &equivocation["first"]["checkpoint"];
    html! {
        article.equivocation {
            h3 { "Cell " (checkpoint["cell"]) " certified two checkpoints for epoch " (checkpoint["epoch"]) }
            dl.fields {
                dt { "First" } dd { (hex(equivocation["first_id"].as_str().unwrap_or_default())) }
                dt { "Second" } dd { (hex(equivocation["second_id"].as_str().unwrap_or_default())) }
                dt { "Kept by ruling" } dd {
                    @match equivocation["kept"].as_str() {
                        Some(kept) => (hex(kept)),
                        None => span.badge.lockdown { "no ruling yet: the bridge is in lockdown" },
                    }
                }
            }
            details { summary { "The two certificates (the equivocation proof)" }
                (value("first", &equivocation["first"]))
                (value("second", &equivocation["second"]))
            }
        }
    }
}

pub fn checkpoint(explorer: &Explorer, cell: &str, epoch: &str) -> PageResult {
    let not_found = || {
        PageError::NotFound(format!(
            "A final checkpoint of cell {cell} for epoch {epoch}"
        ))
    };
    let Some(collector) = collector(&explorer.api) else {
        return Err(not_found());
    };
    let (Ok(cell_id), Ok(epoch_number)) = (cell.parse::<u32>(), epoch.parse::<u64>()) else {
        return Err(not_found());
    };
    let certificate = collector.final_certificate(CellId(cell_id), epoch_number);
    let certificate = certificate.ok_or_else(not_found)?;
    let checkpoint = &certificate.checkpoint;
    let signers = signer_passports(&collector, certificate);
    Ok(page(
        &format!("Checkpoint of cell {cell_id}, epoch {epoch_number}"),
        None,
        html! {
            dl.fields {
                dt { "Checkpoint id" } dd { code { (checkpoint.id()) } }
                dt { "Last block of the epoch" } dd { (checkpoint.height) " " (hex(&checkpoint.block.to_string())) }
                dt { "State root" } dd { code { (checkpoint.state_root) } }
                dt { "Validator set" } dd { (hex(&hex::encode(checkpoint.validators))) }
                dt { "Next validator set" } dd {
                    (hex(&hex::encode(checkpoint.next_validators)))
                    @match &certificate.next_set {
                        Some(set) => { " (new: " (set.0.len()) " validators)" }
                        None => { " (unchanged)" }
                    }
                }
            }
            section {
                h2 { "Signers by cell" }
                @for (signing, passports) in &signers {
                    @match passports {
                        Some(passports) => {
                            h3 { "Cell " (signing) " (" (passports.len()) " signed)" }
                            ul.signers { @for passport in passports { li { (passport_link(passport)) } } }
                        }
                        None => h3 { "Cell " (signing) " (signed with a set not held here)" },
                    }
                }
            }
            details { summary { "The whole certificate" } (value("certificate", &serde_json::to_value(certificate).unwrap_or_default())) }
        },
    ))
}

/// The passports that signed, by cell, resolved through the set each cell signed with (`None`
/// when this node does not hold that set).
fn signer_passports(
    collector: &Collector,
    certificate: &CheckpointCertificate,
) -> Vec<(u32, Option<Vec<String>>)> {
    (certificate.signers.iter())
        .map(|signers| {
            let set = collector.sets().held(signers.cell, &signers.validators);
            let passports = set.map(|set| {
                (set.validators().0.iter().enumerate())
                    .filter(|(index, _)| signers.signed(*index))
                    .map(|(_, member)| member.passport.to_string())
                    .collect()
            });
            (signers.cell.0, passports)
        })
        .collect()
}
