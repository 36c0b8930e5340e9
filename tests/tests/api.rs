//! Clients against a live cell of `charter run` processes: a signed transaction submitted to one
//! validator's API commits on every validator, bad submissions get typed errors, and a state
//! proof fetched from one validator verifies against the root another validator reported.

use charter_e2e::{http, Cell};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::state::StateKey;
use charter_ledger::{
    verify_proof, Action, Genesis, PassportId, StateProof, StateRoot, TransactionBody,
};
use serde_json::Value;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON body")
}

#[test]
fn a_submitted_transfer_commits_everywhere_and_proofs_verify_across_validators() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::create(dir.path(), 4);
    for node in 0..4 {
        cell.start(node);
    }
    cell.wait_until(|history| {
        (0..4).all(|node| history.get(&node).is_some_and(|blocks| !blocks.is_empty()))
    });

    // Member 0 of the dev genesis (after 4 validators and 3 arbiters) pays member 1.
    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("genesis.json")).unwrap())
            .unwrap();
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("keys/passport-7.json")).unwrap(),
    )
    .unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(keys["controller_seed"].as_str().unwrap(), &mut seed).unwrap();
    let (payer, payee) = (genesis.passport_id(7), genesis.passport_id(8));
    let transfer = TransactionBody {
        federation: genesis.federation,
        cell: genesis.cell,
        sender: payer,
        nonce: 0,
        fee: 0,
        action: Action::Transfer {
            to: payee,
            amount: 777,
        },
    }
    .sign(&Ed25519Keypair::from_seed(seed));
    let api = cell.nodes[0].api.clone();
    let (status, body) = http(&api, "POST", "/v1/transactions", &transfer.encode());
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json(&body)["id"], transfer.id().to_hex());

    let (status, body) = http(&api, "POST", "/v1/transactions", &transfer.encode());
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (409, "duplicate")
    );
    let (status, body) = http(&api, "POST", "/v1/transactions", b"not a transaction");
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (400, "malformed")
    );
    // A body altered after signing (here to overdraw) fails its signature check.
    let mut tampered = transfer.clone();
    tampered.body.nonce = 1;
    tampered.body.action = Action::Transfer {
        to: payee,
        amount: u64::MAX,
    };
    let (status, body) = http(&api, "POST", "/v1/transactions", &tampered.encode());
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (400, "bad_signature")
    );

    // The transfer commits on every validator (validator 0 includes it when it proposes).
    cell.wait_until(|history| {
        (0..4).all(|node| {
            history
                .get(&node)
                .is_some_and(|blocks| blocks.values().any(|block| block.transactions == 1))
        })
    });

    // Read the payee from validator 2 with a proof, and check it against validator 1's root.
    let (status, body) = http(
        &cell.nodes[2].api.clone(),
        "GET",
        &format!("/v1/passports/{}", payee.to_hex()),
        b"",
    );
    assert_eq!(status, 200);
    let read = json(&body);
    assert_eq!(read["passport"]["balance"], 1_000_777);
    let height = read["height"].as_u64().unwrap();
    cell.wait_until(|history| {
        history
            .get(&1)
            .is_some_and(|blocks| blocks.contains_key(&height))
    });
    let root_from_validator_1 = StateRoot(hex_array(&cell.history[&1][&height].root));
    let value = hex::decode(read["value"].as_str().unwrap()).unwrap();
    let proof = StateProof::decode(&hex::decode(read["proof"].as_str().unwrap()).unwrap()).unwrap();
    let key = StateKey::Passport(payee);
    verify_proof(&root_from_validator_1, &key, Some(&value), &proof).unwrap();
    assert!(verify_proof(
        &root_from_validator_1,
        &StateKey::Passport(PassportId([1; 32])),
        Some(&value),
        &proof
    )
    .is_err());

    let (status, _) = http(
        &cell.nodes[3].api.clone(),
        "GET",
        "/v1/passports/nothex",
        b"",
    );
    assert_eq!(status, 400);
}

fn hex_array(text: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).unwrap();
    bytes
}
