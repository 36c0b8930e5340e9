//! A cell of four real `charter run` processes on loopback: agreement, a validator killed
//! with SIGKILL while the others keep committing, its recovery, and a restart of the whole
//! cell from disk.

use charter_e2e::Cell;

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
fn four_validators_agree_survive_a_killed_validator_and_restart_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    eprintln!("cell directory: {}", dir.path().display());
    let mut cell = Cell::create(dir.path(), 4);
    for node in 0..4 {
        cell.start(node);
    }
    cell.wait_until(|history| {
        (0..4).all(|node| {
            history
                .get(&node)
                .is_some_and(|blocks| blocks.keys().any(|height| *height >= 5))
        })
    });
    assert_agreement(&cell);

    // One of four killed: the other three are more than two thirds and keep committing.
    eprintln!("phase: kill one");
    cell.kill(3);
    let at_kill = (0..3).map(|node| cell.latest(node)).max().unwrap();
    cell.wait_until(|history| {
        (0..3).all(|node| {
            history[&node]
                .keys()
                .next_back()
                .is_some_and(|height| *height >= at_kill + 5)
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
    eprintln!("phase: kill all");
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
}
