//! Every kind of transaction, built, signed, submitted and followed with `charter tx` against a
//! live cell of four `charter run` processes, spread over all four validators' APIs: each one
//! commits, and every validator ends on the same height and state root.

use charter_e2e::{charter, Cell};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::evidence::{DoubleVote, SignedVote, Vote, VoteType};
use charter_ledger::state::{CellMode, SanctionKind};
use charter_ledger::transaction::{Consent, SlashEvidence};
use charter_ledger::{Action, CellId, EscrowId, Genesis, PassportId};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

struct Client {
    dir: PathBuf,
    apis: Vec<String>,
    genesis: Genesis,
    /// The kinds of every transaction that committed.
    kinds: BTreeSet<String>,
    sent: usize,
}

fn run(args: &[&str]) -> String {
    let out = charter(args);
    assert!(
        out.status.success(),
        "charter {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn key_seed(path: &Path, field: &[&str]) -> [u8; 32] {
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = field.iter().fold(&keys, |value, name| &value[name]);
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.as_str().unwrap(), &mut seed).unwrap();
    seed
}

impl Client {
    fn key(&self, passport: usize) -> PathBuf {
        self.dir.join(format!("keys/passport-{passport}.json"))
    }

    fn id(&self, passport: usize) -> PassportId {
        self.genesis.passport_id(passport)
    }

    /// Sends `action` from the key file through the next validator's API and waits for it to
    /// commit (`charter tx send` fails otherwise); returns what the node reported.
    fn send_with(&mut self, key: &Path, action: &Action) -> Value {
        let api = self.apis[self.sent % self.apis.len()].clone();
        self.sent += 1;
        let action = serde_json::to_string(action).unwrap();
        let out = run(&[
            "tx",
            "send",
            "--api",
            &api,
            "--key",
            key.to_str().unwrap(),
            "--action",
            &action,
        ]);
        let report: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["status"], "committed", "{report}");
        let kind = match &report["transaction"]["body"]["action"] {
            Value::String(kind) => kind.clone(),
            Value::Object(fields) => fields.keys().next().unwrap().clone(),
            other => panic!("an action: {other}"),
        };
        self.kinds.insert(kind);
        report
    }

    fn send(&mut self, passport: usize, action: &Action) -> Value {
        self.send_with(&self.key(passport), action)
    }

    fn height(&self) -> u64 {
        let out = run(&["query", "--api", &self.apis[0], "status"]);
        serde_json::from_str::<Value>(&out).unwrap()["height"]
            .as_u64()
            .unwrap()
    }

    /// The escrow the transaction in `report` created.
    fn escrow_of(&self, report: &Value) -> EscrowId {
        let body = &report["transaction"]["body"];
        let payer = PassportId::from_hex(body["sender"].as_str().unwrap()).unwrap();
        EscrowId::derive(CellId(0), &payer, body["nonce"].as_u64().unwrap())
    }

    /// Opens an escrow of 300 from `payer` to `payee` with arbiter 4; its id and expiry height.
    fn escrow(
        &mut self,
        payer: usize,
        payee: usize,
        release_in: u64,
        expire_in: u64,
    ) -> (EscrowId, u64) {
        let now = self.height();
        let report = self.send(
            payer,
            &Action::EscrowCreate {
                payee: self.id(payee),
                amount: 300,
                arbiter: Some(self.id(4)),
                release_height: now + release_in,
                expiry_height: now + expire_in,
            },
        );
        (self.escrow_of(&report), now + expire_in)
    }
}

/// A conflicting pair of precommits signed by validator 3's real consensus key.
fn double_vote(client: &Client) -> DoubleVote {
    let key = Ed25519Keypair::from_seed(key_seed(&client.key(3), &["validator", "consensus_seed"]));
    let vote = |value: [u8; 32]| {
        let vote = Vote {
            federation: client.genesis.federation,
            cell: client.genesis.cell,
            height: 2,
            round: 0,
            vote_type: VoteType::Precommit,
            value: Some(value),
        };
        SignedVote {
            signature: key.sign(&vote.signing_bytes()),
            validator_key: key.public_key(),
            vote,
        }
    };
    DoubleVote {
        first: vote([1; 32]),
        second: vote([2; 32]),
    }
}

#[test]
fn every_transaction_kind_commits_through_the_client_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::running(dir.path(), 4);
    let genesis = cell.genesis();
    let mut client = Client {
        dir: dir.path().to_path_buf(),
        apis: cell.nodes.iter().map(|node| node.api.clone()).collect(),
        genesis,
        kinds: BTreeSet::new(),
        sent: 0,
    };
    // Passports 0–3 are validators, 4–6 arbiters, 7 onwards members.
    let fresh_key = Ed25519Keypair::from_seed([42; 32]);

    // Member 10 starts unbonding its sponsor bond, and member 13 opens an escrow that expires
    // soon; both mature while the rest runs.
    let unbonded = client.send(10, &Action::Unbond { amount: 100 });
    let matures = unbonded["height"].as_u64().unwrap() + 10;
    let (expiring, expires) = client.escrow(13, 14, 1, 15);

    client.send(
        7,
        &Action::Transfer {
            to: client.id(8),
            amount: 100,
        },
    );
    let issued = client.send(
        7,
        &Action::IssuePassport {
            controller_keys: vec![fresh_key.public_key()],
            tier: 1,
        },
    );
    let child = PassportId::derive(
        CellId(0),
        &client.id(7),
        issued["transaction"]["body"]["nonce"].as_u64().unwrap(),
    );
    client.send(
        8,
        &Action::ForkPassport {
            controller_keys: vec![fresh_key.public_key()],
        },
    );

    // Member 12 bonds enough to validate and registers keys made by `charter keygen`.
    client.send(12, &Action::Bond { amount: 1_000 });
    let mut validator_keys: Value =
        serde_json::from_str(&std::fs::read_to_string(client.key(12)).unwrap()).unwrap();
    let generated: Value = serde_json::from_str(&run(&["keygen", "--validator"])).unwrap();
    validator_keys["validator"] = generated["validator"].clone();
    let validator_key_file = dir.path().join("new-validator.json");
    std::fs::write(&validator_key_file, validator_keys.to_string()).unwrap();
    let registration: Action = serde_json::from_str(&run(&[
        "tx",
        "registration",
        "--api",
        &client.apis[1],
        "--key",
        validator_key_file.to_str().unwrap(),
    ]))
    .unwrap();
    client.send(12, &registration);

    client.send(
        11,
        &Action::Slash {
            evidence: SlashEvidence::DoubleVote(Box::new(double_vote(&client))),
        },
    );

    // Escrows: one released, one disputed and resolved by its arbiter, one refunded on expiry.
    let (released, _) = client.escrow(13, 14, 0, 500);
    client.send(13, &Action::EscrowRelease { escrow: released });
    let (disputed, _) = client.escrow(13, 14, 0, 500);
    client.send(14, &Action::EscrowDispute { escrow: disputed });
    client.send(
        4,
        &Action::EscrowResolve {
            escrow: disputed,
            to_payee: 100,
            to_payer: 200,
        },
    );
    cell.wait_for_height(0, expires);
    client.send(13, &Action::EscrowRefund { escrow: expiring });

    // A sanction approved by two arbiters of the panel with `charter tx approve-ruling`.
    let case = hex::encode([5u8; 32]);
    let ruling =
        json!({ "Sanction": { "subject": client.id(15), "kind": "Warning", "liability": 5 } })
            .to_string();
    let approvals: Vec<Value> = [4, 5]
        .iter()
        .map(|arbiter| {
            serde_json::from_str(&run(&[
                "tx",
                "approve-ruling",
                "--api",
                &client.apis[2],
                "--key",
                client.key(*arbiter).to_str().unwrap(),
                "--case",
                &case,
                "--ruling",
                &ruling,
            ]))
            .unwrap()
        })
        .collect();
    let sanction: Action = serde_json::from_value(json!({ "Sanction": {
        "subject": client.id(15),
        "kind": SanctionKind::Warning,
        "liability": 5,
        "case": case,
        "approvals": approvals,
    }}))
    .unwrap();
    client.send(5, &sanction);

    // The issued passport's holder rotates its key.
    let child_key = dir.path().join("child.json");
    std::fs::write(
        &child_key,
        json!({
            "passport": child,
            "controller_seed": hex::encode(fresh_key.seed()),
            "controller_public_key": fresh_key.public_key(),
        })
        .to_string(),
    )
    .unwrap();
    client.send_with(
        &child_key,
        &Action::RotateKeys {
            subject: child,
            new_keys: vec![Ed25519Keypair::from_seed([43; 32]).public_key()],
            consent: Consent::Subject,
        },
    );

    cell.wait_for_height(0, matures);
    client.send(10, &Action::Withdraw);
    client.send(10, &Action::Exit);

    // Validators holding more than 2/3 of the power approve SAFE mode with `approve-mode`.
    let expires_at = (client.height() + 500).to_string();
    let approvals: Vec<Value> = (0..3)
        .map(|validator| {
            serde_json::from_str(&run(&[
                "tx",
                "approve-mode",
                "--api",
                &client.apis[3],
                "--key",
                client.key(validator).to_str().unwrap(),
                "--mode",
                "Safe",
                "--expires-at",
                &expires_at,
            ]))
            .unwrap()
        })
        .collect();
    let safe: Action = serde_json::from_value(json!({ "SetCellMode": {
        "mode": CellMode::Safe,
        "expires_at": expires_at.parse::<u64>().unwrap(),
        "approvals": approvals,
    }}))
    .unwrap();
    client.send(0, &safe);

    // And a ruling on another cell's equivocation with `approve-bridge` (a lone cell records
    // it; in a federation it lifts the lockdown of the bridge to that cell).
    let keep = "ab".repeat(32);
    let approvals: Vec<Value> = (0..3)
        .map(|validator| {
            serde_json::from_str(&run(&[
                "tx",
                "approve-bridge",
                "--api",
                &client.apis[2],
                "--key",
                client.key(validator).to_str().unwrap(),
                "--remote",
                "5",
                "--epoch",
                "2",
                "--keep",
                &keep,
            ]))
            .unwrap()
        })
        .collect();
    let lift: Action = serde_json::from_value(json!({ "LiftBridgeLockdown": {
        "remote": 5,
        "epoch": 2,
        "keep": keep,
        "approvals": approvals,
    }}))
    .unwrap();
    let last = client.send(1, &lift);
    let ruling: Value = serde_json::from_str(&run(&[
        "query",
        "--api",
        &client.apis[0],
        "bridge-ruling",
        "5",
        "2",
    ]))
    .unwrap();
    assert_eq!(ruling["value"]["keep"], keep.as_str(), "{ruling}");

    let all_kinds = [
        "Transfer",
        "IssuePassport",
        "RotateKeys",
        "ForkPassport",
        "Exit",
        "Bond",
        "Unbond",
        "Withdraw",
        "RegisterValidator",
        "Slash",
        "EscrowCreate",
        "EscrowRelease",
        "EscrowDispute",
        "EscrowResolve",
        "EscrowRefund",
        "Sanction",
        "SetCellMode",
        "LiftBridgeLockdown",
    ];
    assert_eq!(
        client.kinds,
        all_kinds.iter().map(|kind| kind.to_string()).collect(),
        "every kind committed"
    );

    // Every validator reaches the last transaction's block with the same root.
    let height = last["height"].as_u64().unwrap();
    cell.wait_until(|history| {
        (0..4).all(|node| {
            history
                .get(&node)
                .is_some_and(|blocks| blocks.contains_key(&height))
        })
    });
    let roots: BTreeSet<&str> = (0..4)
        .map(|node| cell.history[&node][&height].root.as_str())
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "one state root at height {height}: {roots:?}"
    );
    let status: Value =
        serde_json::from_str(&run(&["query", "--api", &client.apis[2], "status"])).unwrap();
    assert_eq!(status["mode"]["mode"], "Safe");
}
