//! A validator killed at every point of a block's commit, under a client load: before anything
//! of the block is written, right after its one write (block, outcomes and state together), and
//! by SIGKILL wherever it happens to be. After each death its store is read as a restart reads
//! it: the ledger and the blocks are at the same height, and the state root the ledger holds
//! there is the one the block's header certifies. Then the node restarts and rejoins.

use charter_consensus::block::BlockHeight;
use charter_consensus::block_store::BlockStore;
use charter_e2e::{Cell, TransferLoad};
use charter_ledger::Ledger;
use charter_store::NodeStore;
use std::os::unix::process::ExitStatusExt;

const CRASHING: usize = 3;

/// What a restart finds in `node`'s store: no state without its block, no block without its
/// state. Returns the height both are at.
fn assert_block_and_state_together(cell: &Cell, node: usize) -> u64 {
    let store = NodeStore::open(&cell.data_dir(node).join("store")).expect("the store opens");
    let ledger = Ledger::open(store.state()).expect("the ledger opens");
    let blocks = BlockStore::new(store);
    let state_height = ledger.height().expect("the genesis was applied");
    let block_height = blocks.latest_height().unwrap().map_or(0, |height| height.0);
    assert_eq!(
        state_height, block_height,
        "node {node}: the state is at height {state_height}, its blocks at {block_height}"
    );
    if block_height > 0 {
        let decided = blocks.decided(BlockHeight(block_height)).unwrap().unwrap();
        let outcomes = blocks.outcomes(BlockHeight(block_height)).unwrap();
        assert_eq!(
            decided.block.header.state_root,
            ledger.state_root(block_height).unwrap(),
            "node {node}: the stored state is not the state its block certifies"
        );
        assert_eq!(
            outcomes.map(|outcomes| outcomes.len()),
            Some(decided.block.transactions.len()),
            "node {node}: the block's outcomes were not written with it"
        );
    }
    block_height
}

/// Restarts `node` and waits until it has committed past where the others are now.
fn rejoin(cell: &mut Cell, node: usize) {
    cell.start(node);
    let others = (0..cell.validators())
        .filter(|other| *other != node)
        .map(|other| cell.latest(other))
        .max()
        .unwrap();
    cell.wait_past(node, others + 1);
}

#[test]
fn a_validator_killed_at_any_point_of_a_commit_restarts_with_its_block_and_its_state_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::running(dir.path(), 4);
    let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();
    let load = TransferLoad::start(dir.path(), &apis, 7..23);
    cell.wait_past(CRASHING, 2);

    for point in ["--crash-before-commit", "--crash-during-commit"] {
        cell.kill(CRASHING);
        let before = assert_block_and_state_together(&cell, CRASHING);
        cell.start_with_faults(CRASHING, &[point, "3"]);
        let status = cell.wait_for_exit(CRASHING);
        assert_eq!(status.signal(), Some(6), "{point}: aborted where injected");
        let after = assert_block_and_state_together(&cell, CRASHING);
        assert!(after > before, "{point}: it committed before crashing");
        rejoin(&mut cell, CRASHING);
    }

    // SIGKILL wherever the node is, a few times, while it commits under load.
    for _ in 0..3 {
        // Past what it has reported: a height it wrote but never reported is never reported.
        let at = cell.latest(CRASHING);
        cell.wait_past(CRASHING, at + 1);
        cell.kill(CRASHING);
        assert_block_and_state_together(&cell, CRASHING);
        rejoin(&mut cell, CRASHING);
    }
    assert!(load.acknowledged_count() > 0, "the load committed");
    load.stop();
}
