//! `docs/wire-format.md` carries a worked example. This test rebuilds it from the inputs the
//! document states and checks every hex value the document prints, so the document and the
//! encoder cannot drift apart.

use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::*;
use std::collections::BTreeMap;

fn example() -> BTreeMap<&'static str, String> {
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

#[test]
fn worked_example_in_the_wire_format_document_is_exact() {
    let document = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/wire-format.md"
    ))
    .unwrap();
    let printed: BTreeMap<&str, &str> = document
        .lines()
        .filter_map(|line| line.split_once(" = "))
        .filter(|(name, value)| !name.contains(' ') && value.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    let expected = example();
    let listing: String = expected
        .iter()
        .map(|(name, value)| format!("{name} = {value}\n"))
        .collect();
    for (name, value) in &expected {
        assert_eq!(
            printed.get(name),
            Some(&value.as_str()),
            "docs/wire-format.md must print:\n{listing}"
        );
    }
}
