//! The ledger on a node's store: it agrees with the in-memory storage block by block (roots,
//! receipts, proofs, the keys it lists), and reopens at its last block.

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::state::{Passport, StateKey};
use charter_ledger::storage::{MemoryStorage, Storage};
use charter_ledger::{verify_proof, Action, Ledger, LedgerError, PassportId, SignedTransaction};
use charter_store::NodeStore;

fn cell() -> DevCell {
    DevCell::new(14, DevCellConfig::default())
}

/// Block `height`'s transfers: each of the first members pays the next one.
fn transfers(cell: &DevCell, height: u64) -> Vec<SignedTransaction> {
    (0..4)
        .map(|index| {
            let to = cell.member(index + 1).id;
            let amount = height + index as u64;
            cell.transaction(
                cell.member(index),
                height - 1,
                Action::Transfer { to, amount },
            )
        })
        .collect()
}

#[test]
fn the_store_agrees_with_memory_block_by_block() {
    let cell = cell();
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path()).unwrap();
    let mut durable = Ledger::open(store.state()).unwrap();
    let mut memory = Ledger::open(MemoryStorage::new()).unwrap();
    assert_eq!(
        durable.init_genesis(&cell.genesis).unwrap(),
        memory.init_genesis(&cell.genesis).unwrap()
    );
    for height in 1..=5 {
        let block = transfers(&cell, height);
        let on_disk = durable.apply_block(&block).unwrap();
        let in_memory = memory.apply_block(&block).unwrap();
        assert_eq!(on_disk, in_memory, "block {height}");
        assert!(on_disk
            .receipts
            .iter()
            .all(|receipt| receipt.outcome.is_ok()));
    }
    assert_eq!(
        durable.storage().state_keys().unwrap(),
        memory.storage().state_keys().unwrap()
    );
    // Another handle on the store (sharing its cache of the newest values) reads the latest
    // state as memory does, and then every version below it.
    let reader = Ledger::open(store.state()).unwrap();
    for member in 0..6 {
        let key = StateKey::Passport(cell.member(member).id);
        let latest: Option<Passport> = reader.get(&key).unwrap();
        assert_eq!(latest, memory.get(&key).unwrap(), "member {member}");
    }
    for height in 0..=5 {
        let root = durable.state_root(height).unwrap();
        for key in [
            StateKey::Passport(cell.member(1).id),
            StateKey::Passport(PassportId([9; 32])),
        ] {
            let (value, proof) = durable.get_with_proof(&key, height).unwrap();
            assert_eq!(value, memory.get_with_proof(&key, height).unwrap().0);
            assert!(verify_proof(&root, &key, value.as_deref(), &proof).is_ok());
        }
    }
}

#[test]
fn a_ledger_reopens_at_its_last_block() {
    let cell = cell();
    let dir = tempfile::tempdir().unwrap();
    let payee = StateKey::Passport(cell.member(1).id);
    let (root, paid) = {
        let mut ledger = Ledger::open(NodeStore::open(dir.path()).unwrap().state()).unwrap();
        ledger.init_genesis(&cell.genesis).unwrap();
        let root = ledger.apply_block(&transfers(&cell, 1)).unwrap().state_root;
        (root, ledger.get::<Passport>(&payee).unwrap().unwrap())
    };
    let mut ledger = Ledger::open(NodeStore::open(dir.path()).unwrap().state()).unwrap();
    assert_eq!(ledger.height(), Some(1));
    assert_eq!(ledger.state_root(1).unwrap(), root);
    assert_eq!(ledger.get::<Passport>(&payee).unwrap(), Some(paid));
    assert_eq!(
        ledger.init_genesis(&cell.genesis),
        Err(LedgerError::AlreadyInitialized)
    );
}
