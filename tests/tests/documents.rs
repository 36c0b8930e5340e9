//! The documents' worked examples are contracts: `docs/wire-format.md` (a signed transaction),
//! `docs/proofs.md` (a block, its certificate, an inclusion proof and state proofs) and
//! `docs/checkpoints.md` (a checkpoint certificate). Each test rebuilds its example from the
//! inputs the document states, checks that every piece verifies with Charter's own verifiers,
//! and that the document prints every value exactly, so documents and code cannot drift apart.

use charter_consensus::block::{Block, BlockHeader, BlockHeight};
use charter_consensus::certificate::BlockCertificate;
use charter_consensus::context::CellContext;
use charter_consensus::inclusion::InclusionProof;
use charter_consensus::validator_set::ValidatorSet;
use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_e2e::worked_example::assert_document_prints;
use charter_federation::checkpoint::{
    CellSigners, CellValidators, Checkpoint, CheckpointCertificate, FederationValidator,
    FederationView,
};
use charter_federation::committee::committee;
use charter_federation::sets::KnownSets;
use charter_ledger::commitment::key_hash;
use charter_ledger::crypto::bls::{aggregate, BlsSecretKey};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::state::StateKey;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::*;
use std::collections::BTreeMap;

#[test]
fn worked_example_in_the_wire_format_document_is_exact() {
    assert_document_prints("wire-format.md", &transaction_example());
}

#[test]
fn worked_example_in_the_proofs_document_is_exact() {
    assert_document_prints("proofs.md", &block_example());
}

#[test]
fn worked_example_in_the_checkpoints_document_is_exact() {
    assert_document_prints("checkpoints.md", &checkpoint_example());
}

fn transaction_example() -> BTreeMap<&'static str, String> {
    let key = Ed25519Keypair::from_seed([0x42; 32]);
    let cell = CellId(3);
    let body = TransactionBody {
        federation: FederationId([0x11; 32]),
        cell,
        sender: PassportId::genesis(cell, 0),
        nonce: 7,
        fee: 10,
        action: Action::Transfer {
            to: PassportId::genesis(cell, 1),
            amount: 1_500,
        },
    };
    let signing_bytes = body.signing_bytes();
    let tx = body.clone().sign(&key);
    BTreeMap::from([
        ("signer_public_key", hex::encode(key.public_key().0)),
        ("sender", body.sender.to_hex()),
        ("recipient", PassportId::genesis(cell, 1).to_hex()),
        ("body", hex::encode(borsh::to_vec(&body).unwrap())),
        ("signing_bytes", hex::encode(&signing_bytes)),
        ("signature", hex::encode(tx.signature.0)),
        ("transaction", hex::encode(tx.encode())),
        ("transaction_id", tx.id().to_hex()),
    ])
}

/// The dev cell of seed 1 (`charter dev-genesis --seed 1`), its genesis applied, then block 1:
/// member 0 pays member 1 1,500, and member 2 pays member 0 250, proposed with its beacon
/// reveal by validator 1 (`DevCell::reveal` takes validator height mod 4), and certified in
/// round 0 by validators 0, 1 and 2.
fn block_example() -> BTreeMap<&'static str, String> {
    let cell = DevCell::new(1, DevCellConfig::default());
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&cell.genesis).unwrap();
    let validators = ValidatorSet::from_ledger(&ledger).unwrap();
    let active = ledger
        .get_with_proof(&StateKey::ActiveValidators, 0)
        .unwrap();

    let (payer, payee, third) = (cell.member(0), cell.member(1), cell.member(2));
    let transactions = vec![
        cell.transaction(
            payer,
            0,
            Action::Transfer {
                to: payee.id,
                amount: 1_500,
            },
        ),
        cell.transaction(
            third,
            0,
            Action::Transfer {
                to: payer.id,
                amount: 250,
            },
        ),
    ];
    let reveal = cell.reveal(1);
    let applied = ledger.apply_revealed_block(&reveal, &transactions).unwrap();
    let header = BlockHeader {
        federation: cell.genesis.federation,
        cell: cell.genesis.cell,
        height: BlockHeight(1),
        parent: BlockHash([0; 32]),
        proposer: reveal.proposer,
        reveal: reveal.signature,
        transactions_root: Block::transactions_root(&transactions),
        state_root: applied.state_root,
    };
    let block = header.hash();
    let context = CellContext {
        federation: header.federation,
        cell: header.cell,
    };
    let signers = (0..3).map(|index| {
        let validator = cell.validator(index);
        (validator.id, validator.consensus_key.as_ref().unwrap())
    });
    let certificate = BlockCertificate::sign(&context, header.height, 0, block, signers);
    certificate.verify(&context, &validators).unwrap();
    let ids: Vec<_> = transactions
        .iter()
        .map(|transaction| transaction.id())
        .collect();
    let inclusion = InclusionProof {
        header: header.clone(),
        transactions: ids.clone(),
        certificate,
    };
    inclusion.verify(&ids[1], &context, &validators).unwrap();

    let present = StateKey::Passport(payer.id);
    let (value, present_proof) = ledger.get_with_proof(&present, 1).unwrap();
    let value = value.expect("the payer's passport exists");
    verify_proof(&applied.state_root, &present, Some(&value), &present_proof).unwrap();
    let absent = StateKey::Passport(PassportId([0xab; 32]));
    let (nothing, absent_proof) = ledger.get_with_proof(&absent, 1).unwrap();
    assert_eq!(nothing, None);
    verify_proof(&applied.state_root, &absent, None, &absent_proof).unwrap();

    let statement = BlockCertificate::precommit_statement(&context, header.height, 0, block);
    BTreeMap::from([
        (
            "active_validators",
            hex::encode(active.0.expect("genesis stores the set")),
        ),
        ("transaction_0", hex::encode(transactions[0].encode())),
        ("transaction_1", hex::encode(transactions[1].encode())),
        ("transaction_id_0", ids[0].to_hex()),
        ("transaction_id_1", ids[1].to_hex()),
        (
            "transactions_root_empty",
            hex::encode(Block::transactions_root(&[])),
        ),
        ("transactions_root", hex::encode(header.transactions_root)),
        ("header", hex::encode(borsh::to_vec(&header).unwrap())),
        ("block_hash", hex::encode(block.0)),
        ("vote_signing_bytes", hex::encode(statement.signing_bytes())),
        (
            "inclusion_proof",
            hex::encode(borsh::to_vec(&inclusion).unwrap()),
        ),
        ("state_root", hex::encode(applied.state_root.0)),
        ("passport_key_hash", hex::encode(key_hash(&present).0)),
        ("passport_encoded", hex::encode(value)),
        ("passport_proof", hex::encode(present_proof.encode())),
        ("absent_key_hash", hex::encode(key_hash(&absent).0)),
        ("absent_proof", hex::encode(absent_proof.encode())),
    ])
}

/// Validator `index` of `cell`: IETF KeyGen of 32 bytes `cell · 16 + index + 1`, no key info.
fn secret_key(cell: u8, index: u8) -> BlsSecretKey {
    BlsSecretKey::key_gen(&[cell * 16 + index + 1; 32], b"").unwrap()
}

/// Cell `cell`'s four validators: passport 32 bytes `cell · 16 + index`, power 10,000.
fn cell_set(cell: u8) -> CellValidators {
    CellValidators(
        (0..4)
            .map(|index| FederationValidator {
                passport: PassportId([cell * 16 + index; 32]),
                bls_key: secret_key(cell, index).public_key(),
                power: 10_000,
            })
            .collect(),
    )
}

fn checkpoint_example() -> BTreeMap<&'static str, String> {
    let (cell_0, cell_1) = (cell_set(0), cell_set(1));
    let mut next_set = cell_0.clone();
    next_set.0[3].power = 20_000;
    let view = FederationView {
        federation: FederationId([0x33; 32]),
        k: 2,
        committee: 1,
        cells: BTreeMap::from([(CellId(0), cell_0.clone()), (CellId(1), cell_1.clone())]),
    };
    let checkpoint = Checkpoint {
        federation: view.federation,
        cell: CellId(0),
        epoch: 1,
        height: 10,
        block: BlockHash([0x44; 32]),
        state_root: StateRoot([0x55; 32]),
        validators: cell_0.hash(),
        next_validators: next_set.hash(),
    };
    let message = checkpoint.signing_bytes();
    let signers = [(0u8, [0u8, 1, 2]), (1, [1, 2, 3])];
    let signatures: Vec<_> = (signers.iter())
        .flat_map(|(cell, indices)| indices.map(|index| secret_key(*cell, index).sign(&message)))
        .collect();
    let certificate = CheckpointCertificate {
        signers: vec![
            CellSigners::from_indices(CellId(0), &cell_0, [0, 1, 2]),
            CellSigners::from_indices(CellId(1), &cell_1, [1, 2, 3]),
        ],
        signature: aggregate(&signatures).unwrap(),
        checkpoint,
        next_set: Some(next_set.clone()),
    };
    KnownSets::new(&view).unwrap().verify(&certificate).unwrap();
    let first = secret_key(0, 0);
    let forty: Vec<CellId> = (0..40).map(CellId).collect();
    let drawn = committee(&view.federation.0, &forty, CellId(7), 3, 8);
    let drawn: Vec<u8> = drawn.iter().flat_map(|cell| cell.0.to_le_bytes()).collect();
    BTreeMap::from([
        ("committee", hex::encode(drawn)),
        ("signer_secret_key", hex::encode(first.to_bytes())),
        ("signer_public_key", hex::encode(first.public_key().0)),
        ("signer_signature", hex::encode(signatures[0].0)),
        ("cell_0_set", hex::encode(borsh::to_vec(&cell_0).unwrap())),
        ("cell_0_set_hash", hex::encode(cell_0.hash())),
        ("cell_1_set", hex::encode(borsh::to_vec(&cell_1).unwrap())),
        ("cell_1_set_hash", hex::encode(cell_1.hash())),
        ("next_set", hex::encode(borsh::to_vec(&next_set).unwrap())),
        ("next_set_hash", hex::encode(next_set.hash())),
        ("checkpoint_signing_bytes", hex::encode(&message)),
        ("checkpoint_id", certificate.checkpoint.id().to_hex()),
        ("aggregate_signature", hex::encode(certificate.signature.0)),
        (
            "certificate",
            hex::encode(borsh::to_vec(&certificate).unwrap()),
        ),
    ])
}
