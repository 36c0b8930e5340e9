//! A cell of four real `charter run` processes on loopback under a client load: agreement, a
//! validator killed with SIGKILL while the others keep committing transactions, its recovery,
//! and a restart of the whole cell from disk that loses nothing acknowledged as committed.

use charter_e2e::{http, Cell, TransferLoad};
use serde_json::Value;

/// Every pair of nodes that both committed a height committed the same block and root there.
fn assert_agreement(cell: &Cell) {
    let nodes: Vec<_> = cell.history.values().collect();
    for (first, second) in nodes.iter().zip(nodes.iter().skip(1)) {
        for (height, block) in first.iter() {
            if let Some(other) = second.get(height) {
                assert_eq!(block, other, "nodes disagree at height {height}");
            }
        }
    }
}

#[test]
fn four_validators_agree_survive_a_killed_validator_and_restart_from_disk_under_load() {
    let dir = tempfile::tempdir().unwrap();
    eprintln!("cell directory: {}", dir.path().display());
    let mut cell = Cell::running(dir.path(), 4);
    let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();
    // Members are passports 7 onwards.
    let load = TransferLoad::start(dir.path(), &apis, 7..23);
    let loaded = |blocks: &std::collections::BTreeMap<u64, charter_e2e::Committed>, from: u64| {
        blocks
            .range(from..)
            .any(|(_, block)| block.transactions > 0)
    };
    cell.wait_until(|history| (0..4).all(|node| loaded(&history[&node], 0)));
    assert_agreement(&cell);

    // One of four killed: the other three are more than two thirds and keep committing the
    // load's transactions.
    eprintln!("phase: kill one");
    cell.kill(3);
    let at_kill = (0..3).map(|node| cell.latest(node)).max().unwrap();
    cell.wait_until(|history| {
        (0..3).all(|node| {
            cell_advanced(&history[&node], at_kill + 5) && loaded(&history[&node], at_kill + 1)
        })
    });

    // Restarted, it catches up to where the others are.
    let target = (0..3).map(|node| cell.latest(node)).max().unwrap();
    eprintln!("phase: restart one");
    cell.start(3);
    cell.wait_until(|history| {
        history[&3]
            .keys()
            .next_back()
            .is_some_and(|height| *height >= target)
    });
    assert_agreement(&cell);

    // All four killed and restarted: the chain continues from disk.
    let acknowledged = load.stop();
    assert!(!acknowledged.is_empty(), "the load got transfers committed");
    eprintln!(
        "phase: kill all ({} transfers acknowledged)",
        acknowledged.len()
    );
    for node in 0..4 {
        cell.kill(node);
    }
    let before = (0..4).map(|node| cell.latest(node)).max().unwrap();
    for node in 0..4 {
        cell.start(node);
    }
    let started = cell.wait_until(|history| {
        (0..4).all(|node| {
            history[&node]
                .keys()
                .next_back()
                .is_some_and(|height| *height >= before + 3)
        })
    });
    assert!(
        started.values().all(|height| *height > 1),
        "restarted nodes resume from their stored heights: {started:?}"
    );
    assert_agreement(&cell);

    // Every transfer any node acknowledged as committed is committed on every node.
    for api in &apis {
        for id in &acknowledged {
            let (status, body) = http(api, "GET", &format!("/v1/transactions/{id}"), b"");
            let answer: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                (status, answer["status"].as_str()),
                (200, Some("committed")),
                "{id} on {api}: {answer}"
            );
        }
    }
}

fn cell_advanced(
    blocks: &std::collections::BTreeMap<u64, charter_e2e::Committed>,
    to: u64,
) -> bool {
    blocks
        .keys()
        .next_back()
        .is_some_and(|height| *height >= to)
}
