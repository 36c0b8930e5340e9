//! The ledger on a node's store: it agrees with the in-memory storage block by block (roots,
//! receipts, proofs, the keys it lists, a governance process run to execution, juries drawn
//! from the beacon and their rulings on an escrow and a slash), and reopens at its last block.

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::governance::{
    CaseStatus, Choice, JuryCase, JuryCaseId, Parameter, Process, ProcessId, ProcessStatus,
    Proposal, Verdict,
};
use charter_ledger::state::{Bond, CellInfo, Passport, StateKey};
use charter_ledger::storage::{MemoryStorage, Storage};
use charter_ledger::{
    verify_proof, Action, CaseId, CellId, EscrowId, Ledger, LedgerError, PassportId,
    SignedTransaction,
};
use charter_store::{NodeStore, StateStore};
use std::collections::BTreeMap;

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

/// Ledgers on a node store in `dir` and in memory, both at `cell`'s genesis.
fn from_genesis(
    cell: &DevCell,
    dir: &std::path::Path,
) -> (Ledger<StateStore>, Ledger<MemoryStorage>) {
    let store = NodeStore::open(dir).unwrap();
    let mut durable = Ledger::open(store.state()).unwrap();
    let mut memory = Ledger::open(MemoryStorage::new()).unwrap();
    durable.init_genesis(&cell.genesis).unwrap();
    memory.init_genesis(&cell.genesis).unwrap();
    (durable, memory)
}

/// Block `height` of a governance history: a proposal, a delegation, ballots in both
/// chambers, then empty blocks through the tally and the execution at the end of the run.
fn governance_block(cell: &DevCell, height: u64) -> Vec<SignedTransaction> {
    let proposal = Proposal::ParameterChange {
        parameter: Parameter::MinFee,
        value: 2,
    };
    let vote = |choice| Action::Vote {
        process: ProcessId(0),
        choice,
    };
    match height {
        1 => vec![
            cell.transaction(cell.validator(0), 0, Action::Propose { proposal }),
            cell.transaction(
                cell.member(1),
                0,
                Action::Delegate {
                    to: cell.member(0).id,
                },
            ),
        ],
        7 => (0..3)
            .flat_map(|index| {
                [
                    cell.transaction(
                        cell.validator(index),
                        u64::from(index == 0),
                        vote(Choice::Yes),
                    ),
                    cell.transaction(cell.member(index * 2), 0, vote(Choice::Yes)),
                ]
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn a_governance_history_gives_the_same_roots_on_the_store_and_in_memory() {
    let cell = cell();
    let dir = tempfile::tempdir().unwrap();
    let (mut durable, mut memory) = from_genesis(&cell, dir.path());
    // Dev rules: voting opens at 1 + 5 + 1 = 7, closes at 21, executes at 26.
    for height in 1..=26 {
        let block = governance_block(&cell, height);
        let on_disk = durable.apply_block(&block).unwrap();
        assert_eq!(
            on_disk,
            memory.apply_block(&block).unwrap(),
            "block {height}"
        );
        assert!(on_disk
            .receipts
            .iter()
            .all(|receipt| receipt.outcome.is_ok()));
    }
    let process: Process = durable
        .get(&StateKey::Process(ProcessId(0)))
        .unwrap()
        .unwrap();
    assert_eq!(process.status, ProcessStatus::Executed);
    let info: CellInfo = durable.get(&StateKey::Cell).unwrap().unwrap();
    assert_eq!(info.params.min_fee, 2);
}

/// Block `height` of a jury history: members 2 to 6 join the pool, member 0 escrows for
/// member 1 and disputes it; at block 4 member 1 sends it to a jury (case 0) and arbiter 0
/// sends a slash of validator 3 to another (case 1), both drawn at block 7 (dev rules: 3 blocks
/// after filing); at block 8 the jurors each case `drawn` rule for the claim.
fn jury_block(cell: &DevCell, height: u64, drawn: &[Vec<PassportId>]) -> Vec<SignedTransaction> {
    let escrow = EscrowId::derive(CellId(0), &cell.member(0).id, 0);
    let single = |member: usize, nonce: u64, action: Action| {
        vec![cell.transaction(cell.member(member), nonce, action)]
    };
    match height {
        1 => (2..7)
            .map(|member| cell.transaction(cell.member(member), 0, Action::JoinJuryPool))
            .collect(),
        2 => single(
            0,
            0,
            Action::EscrowCreate {
                payee: cell.member(1).id,
                amount: 400,
                arbiter: Some(cell.arbiter(0).id),
                release_height: 3,
                expiry_height: 1_000,
            },
        ),
        3 => single(0, 1, Action::EscrowDispute { escrow }),
        4 => {
            let slash = Action::RequestSlashJury {
                offender: cell.validator(3).id,
                amount: 300,
                case: CaseId([3; 32]),
            };
            let mut block = single(1, 0, Action::RequestJury { escrow });
            block.push(cell.transaction(cell.arbiter(0), 0, slash));
            block
        }
        8 => rulings_for_the_claim(cell, drawn),
        _ => Vec::new(),
    }
}

/// Every drawn juror's ruling for the claim, case by case; a juror's nonce counts the rulings
/// it sent before.
fn rulings_for_the_claim(cell: &DevCell, drawn: &[Vec<PassportId>]) -> Vec<SignedTransaction> {
    let mut nonces: BTreeMap<PassportId, u64> = BTreeMap::new();
    let mut rulings = Vec::new();
    for (case, jurors) in drawn.iter().enumerate() {
        for juror in jurors {
            let member = (2..7).find(|m| cell.member(*m).id == *juror).unwrap();
            let nonce = nonces.entry(*juror).or_insert(1);
            let rule = Action::RuleOnCase {
                case: JuryCaseId(case as u64),
                verdict: Verdict::ForClaim,
            };
            rulings.push(cell.transaction(cell.member(member), *nonce, rule));
            *nonce += 1;
        }
    }
    rulings
}

fn jury_case<S: Storage>(ledger: &Ledger<S>, id: u64) -> Option<JuryCase> {
    ledger.get(&StateKey::JuryCase(JuryCaseId(id))).unwrap()
}

#[test]
fn a_jury_history_gives_the_same_jury_and_roots_on_the_store_and_in_memory() {
    let cell = cell();
    let dir = tempfile::tempdir().unwrap();
    let (mut durable, mut memory) = from_genesis(&cell, dir.path());
    let mut drawn = Vec::new();
    // Filed at 4: drawn at 7, ruled on at 8, closed at 7 + 10 = 17.
    for height in 1..=17 {
        let block = jury_block(&cell, height, &drawn);
        let reveal = cell.reveal(height);
        let on_disk = durable.apply_revealed_block(&reveal, &block).unwrap();
        let in_memory = memory.apply_revealed_block(&reveal, &block).unwrap();
        assert_eq!(on_disk, in_memory, "block {height}");
        assert!(
            on_disk.receipts.iter().all(|r| r.outcome.is_ok()),
            "block {height}"
        );
        if height == 7 {
            drawn = (0..2)
                .map(|id| jury_case(&durable, id).unwrap().jurors)
                .collect();
            let in_memory: Vec<_> = (0..2)
                .map(|id| jury_case(&memory, id).unwrap().jurors)
                .collect();
            assert_eq!(drawn, in_memory);
        }
    }
    for id in 0..2 {
        let settled = jury_case(&durable, id).unwrap();
        assert_eq!(Some(&settled), jury_case(&memory, id).as_ref());
        assert_eq!(settled.status, CaseStatus::Settled);
        assert_eq!(settled.outcome.unwrap().verdict, Verdict::ForClaim);
    }
    let slashed: Bond = durable
        .get(&StateKey::Bond(cell.validator(3).id))
        .unwrap()
        .unwrap();
    assert_eq!(slashed.bonded, 10_000 - 300);
}
