//! A federation of three cells of four `charter run` processes each (`charter localnet --cells
//! 3`, k = 2): checkpoints become final every epoch; a light client verifies, offline with
//! `charter verify`, a passport read from one cell's node against a certificate fetched from
//! another cell's node; with two cells stopped no new checkpoint of the third becomes final,
//! and finality resumes when one of them returns; a node that was down catches up on the
//! certificates final meanwhile; twins are quarantined until a ruling; and every certificate of
//! cells whose validator sets change verifies offline in any order. A federation of four
//! single-validator cells with committees of one shows each checkpoint co-signed by its
//! committee alone.

use charter_client::ApiClient;
use charter_e2e::openapi::OpenApi;
use charter_e2e::{charter, charter_binary};
use charter_federation::committee::committee;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::CellId;
use charter_ledger::{Action, Genesis, TransactionBody};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const EPOCH: u64 = 5;

/// A GET; status 0 while the node does not answer yet.
fn get(api: &str, path: &str) -> (u16, Value) {
    match ApiClient::new(api).unwrap().request("GET", path, b"") {
        Ok((status, body)) => (status, serde_json::from_slice(&body).unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    }
}

/// The value of the sample `name` (with its labels, as exposed) on `api`'s `/metrics`.
fn metric(api: &str, name: &str) -> Option<f64> {
    let (status, body) = ApiClient::new(api)
        .unwrap()
        .request("GET", "/metrics", b"")
        .ok()?;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// An explorer page of `api`'s node, which must answer 200.
fn explorer_page(api: &str, path: &str) -> String {
    let (status, body) = ApiClient::new(api)
        .unwrap()
        .request("GET", path, b"")
        .unwrap();
    assert_eq!(status, 200, "{path}");
    String::from_utf8(body).unwrap()
}

/// Polls a node until `done` holds for what it answers (finality is only observable through
/// the nodes).
fn wait_for(api: &str, path: &str, mut done: impl FnMut(u16, &Value) -> bool) -> Value {
    loop {
        let (status, answer) = get(api, path);
        if done(status, &answer) {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Processes this test started; killed when it ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // SIGINT first: localnet then stops the validators it started.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

fn kill(pid: u64) {
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

fn start_validator(config: &Path) -> Child {
    Command::new(charter_binary())
        .args(["run", "--config", config.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `charter localnet --cells 3` in `dir`; the processes and the nodes of its layout.
fn start_federation(dir: &Path) -> (Processes, Vec<Value>) {
    start_localnet(dir, &["--cells", "3"])
}

/// `charter localnet` with `options` in `dir`, no agents and epochs of [`EPOCH`] blocks; the
/// processes and the nodes of its layout.
fn start_localnet(dir: &Path, options: &[&str]) -> (Processes, Vec<Value>) {
    let localnet = Command::new(charter_binary())
        .args(["localnet", "--agents-batch", "0"])
        .args(options)
        .args(["--epoch-length", &EPOCH.to_string(), "--dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let processes = Processes(vec![localnet]);
    let layout_path = dir.join("localnet.json");
    // localnet writes its layout once every process is started.
    let layout: Value = loop {
        if let Ok(text) = std::fs::read_to_string(&layout_path) {
            break serde_json::from_str(&text).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (processes, layout["nodes"].as_array().unwrap().clone())
}

#[test]
fn checkpoints_are_final_across_cells_stall_without_k_verify_offline_and_reach_returning_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut processes, nodes) = start_federation(dir.path());
    let api_of = |cell: u64, index: usize| -> String {
        nodes
            .iter()
            .filter(|node| node["cell"] == cell)
            .nth(index)
            .unwrap()["api"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cell_0 = api_of(0, 0);
    wait_for(&cell_0, "/v1/status", |status, _| status == 200);

    // Every cell's first epoch becomes final, as validator 0 of cell 0 sees it.
    for cell in 0..3 {
        wait_for(
            &cell_0,
            &format!("/v1/checkpoints/{cell}/1"),
            |status, _| status == 200,
        );
    }

    // A light client: the certificate of cell 0's epoch 1 from a node of cell 1, and a passport
    // of cell 0 read with its proof at the checkpoint's height from a node of cell 0.
    // (That node may learn of the certificate a moment after validator 0 of cell 0 does.)
    let answer = wait_for(&api_of(1, 2), "/v1/checkpoints/0/1", |status, _| {
        status == 200
    });
    let certificate = &answer["certificate"];
    let height = certificate["checkpoint"]["height"].as_u64().unwrap();
    assert_eq!(height, EPOCH);
    let genesis: charter_ledger::Genesis = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("cell-0/genesis.json")).unwrap(),
    )
    .unwrap();
    let passport = genesis.passport_id(7);
    // The read at the checkpoint's height, as `charter query` prints it.
    let read = charter(&[
        "query",
        "--api",
        &api_of(0, 3),
        "--proof",
        "--height",
        &height.to_string(),
        "passport",
        &passport.to_hex(),
    ]);
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let files = dir.path().join("light-client");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("certificate.json"), certificate.to_string()).unwrap();
    std::fs::write(files.join("read.json"), &read.stdout).unwrap();
    let out = charter(&[
        "verify",
        "--federation",
        dir.path().join("federation.json").to_str().unwrap(),
        "--certificate",
        files.join("certificate.json").to_str().unwrap(),
        "--read",
        files.join("read.json").to_str().unwrap(),
        "--key",
        &format!("passport:{passport}"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("state proof verified"));

    // Cells 1 and 2 stop. Cell 0 goes on committing, and its own validators sign its next
    // checkpoints, but with one cell of the k = 2 needed none of them becomes final.
    for node in &nodes {
        if node["cell"] != 0 {
            kill(node["pid"].as_u64().unwrap());
        }
    }
    let (_, federation) = get(&cell_0, "/v1/federation");
    let last_final = federation["cells"][0]["latest_final_epoch"]
        .as_u64()
        .unwrap();
    let stalled = last_final + 2;
    let progress = wait_for(
        &cell_0,
        &format!("/v1/checkpoints/0/{stalled}"),
        |status, answer| {
            status == 200
                || answer["progress"]
                    .as_array()
                    .is_some_and(|cells| cells.iter().any(|cell| cell["cell"] == 0))
        },
    );
    assert_eq!(progress["error"], "not_final", "{progress}");
    // By the time cell 0's own validators have signed epoch `stalled`, nothing after
    // `last_final + 1` (which may have been final before the stop took effect) is final.
    let (_, federation) = get(&cell_0, "/v1/federation");
    assert!(
        federation["cells"][0]["latest_final_epoch"]
            .as_u64()
            .unwrap()
            <= last_final + 1,
        "{federation}"
    );

    // Cell 1 returns: with two cells again, cell 0's checkpoints become final once more.
    for index in 0..4 {
        let config = dir.path().join(format!("cell-1/node-{index}.toml"));
        processes.0.push(start_validator(&config));
    }
    let resumed = wait_for(&cell_0, "/v1/federation", |_, federation| {
        federation["cells"][0]["latest_final_epoch"]
            .as_u64()
            .is_some_and(|epoch| epoch > stalled)
    })["cells"][0]["latest_final_epoch"]
        .as_u64()
        .unwrap();

    // A node that was down catches up on what became final meanwhile: validator 3 of cell 1
    // is killed, cell 0's checkpoints become final twice more without it (cells 0 and 1 still
    // hold quorums), and once it is back it holds every one of them, though their gossip
    // passed while it was down.
    let mut down = processes.0.remove(4);
    down.kill().unwrap();
    down.wait().unwrap();
    let missed = resumed + 1..=resumed + 2;
    wait_for(&cell_0, "/v1/federation", |_, federation| {
        federation["cells"][0]["latest_final_epoch"]
            .as_u64()
            .is_some_and(|epoch| epoch >= *missed.end())
    });
    processes
        .0
        .push(start_validator(&dir.path().join("cell-1/node-3.toml")));
    for epoch in missed {
        let path = format!("/v1/checkpoints/0/{epoch}");
        let (status, expected) = get(&cell_0, &path);
        assert_eq!(status, 200, "{expected}");
        let caught_up = wait_for(&api_of(1, 3), &path, |status, _| status == 200);
        // Any aggregator's certificate of the same checkpoint (signer sets may differ).
        assert_eq!(
            caught_up["certificate"]["checkpoint"],
            expected["certificate"]["checkpoint"]
        );
    }
}

/// Twins: the real BLS keys of cells 2 and 1 certify a second checkpoint for cell 2's epoch 1,
/// one that differs from the one the federation already finalized, and the result is gossiped
/// to the federation. Every other cell's nodes detect the two final certificates, keep them as
/// proof and quarantine cell 2 (the bridge to it is in lockdown): none of its later
/// checkpoints becomes final there. Then cell 0's validators rule to keep the honest
/// checkpoint (`LiftBridgeLockdown`): cell 0's nodes open the bridge and cell 2's checkpoints
/// become final there again (with cells 2 and 0), while cell 1, which made no ruling, keeps
/// it locked down. The peer that gossiped the twins' certificate, sending a forged certificate
/// and garbage after it, is penalized on the mesh by the nodes it reached.
#[test]
fn a_cell_that_certifies_two_checkpoints_for_one_epoch_is_quarantined_until_governance_rules() {
    use charter_federation::checkpoint::{CellSigners, CheckpointCertificate};
    use charter_federation::collector::FederationMessage;
    use charter_ledger::crypto::bls::{aggregate, BlsSecretKey};
    use charter_ledger::{CellId, StateRoot};
    use charter_p2p::{Keypair, Mesh, MeshConfig, MeshEvent};

    let dir = tempfile::tempdir().unwrap();
    let (_processes, nodes) = start_federation(dir.path());
    let honest: Vec<String> = nodes
        .iter()
        .filter(|node| node["cell"] != 2)
        .map(|node| node["api"].as_str().unwrap().to_string())
        .collect();
    // The federation finalized cell 2's epoch 1: every node of the other cells holds it (a
    // node that never heard of it would take the twins' certificate as the first it sees).
    let honest_final = honest
        .iter()
        .map(|api| wait_for(api, "/v1/checkpoints/2/1", |status, _| status == 200))
        .next_back()
        .unwrap();
    let honest_certificate: CheckpointCertificate =
        serde_json::from_value(honest_final["certificate"].clone()).unwrap();

    // The twins' checkpoint: the same epoch of cell 2 with another state root, signed by every
    // validator of cells 2 and 1 with their real keys.
    let mut twin = honest_certificate.checkpoint.clone();
    twin.state_root = StateRoot([0xee; 32]);
    let view: charter_federation::checkpoint::FederationView =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("federation.json")).unwrap())
            .unwrap();
    let message = twin.signing_bytes();
    let mut signatures = Vec::new();
    let mut signers = Vec::new();
    for cell in [1u32, 2] {
        let genesis: charter_ledger::Genesis = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("cell-{cell}/genesis.json"))).unwrap(),
        )
        .unwrap();
        let set = &view.cells[&CellId(cell)];
        for member in &set.0 {
            let index = (0..4)
                .find(|index| genesis.passport_id(*index) == member.passport)
                .unwrap();
            let keys: Value = serde_json::from_str(
                &std::fs::read_to_string(
                    dir.path()
                        .join(format!("cell-{cell}/keys/passport-{index}.json")),
                )
                .unwrap(),
            )
            .unwrap();
            let mut secret = [0u8; 32];
            hex::decode_to_slice(
                keys["validator"]["bls_secret_key"].as_str().unwrap(),
                &mut secret,
            )
            .unwrap();
            signatures.push(BlsSecretKey::from_bytes(&secret).unwrap().sign(&message));
        }
        signers.push(CellSigners::from_indices(CellId(cell), set, 0..set.0.len()));
    }
    let conflicting = CheckpointCertificate {
        checkpoint: twin,
        signers,
        signature: aggregate(&signatures).unwrap(),
        next_set: honest_certificate.next_set.clone(),
    };
    charter_federation::sets::KnownSets::new(&view)
        .unwrap()
        .verify(&conflicting)
        .expect("the twins' certificate is final on its own");

    // Gossip it to the federation from a peer of our own.
    let topic = format!(
        "charter/{}/checkpoints/v1",
        honest_certificate.checkpoint.federation.to_hex()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bootstrap = nodes
        .iter()
        .filter(|node| node["cell"] == 0)
        .map(|node| node["gossip"].as_str().unwrap().parse().unwrap())
        .collect();
    let mesh = runtime.block_on(async {
        let mut mesh = Mesh::start(
            Keypair::generate_ed25519(),
            MeshConfig {
                bootstrap,
                topics: vec![topic.clone()],
                max_message_bytes: 1024 * 1024,
                ..MeshConfig::default()
            },
        )
        .unwrap();
        loop {
            if let Some(MeshEvent::PeerSubscribed {
                topic: subscribed, ..
            }) = mesh.next_event().await
            {
                if subscribed == topic {
                    break;
                }
            }
        }
        let message = FederationMessage::Certificate(conflicting);
        mesh.publish(&topic, borsh::to_vec(&message).unwrap())
            .await
            .unwrap();
        mesh
    });

    // Every node of cells 0 and 1 quarantines cell 2 and keeps the two certificates as proof;
    // from then on the latest final epoch of cell 2 it holds is frozen.
    let mut frozen = std::collections::BTreeMap::new();
    for api in &honest {
        let federation = wait_for(api, "/v1/federation", |_, federation| {
            federation["cells"][2]["bridge"] == "lockdown"
        });
        let proof = &federation["equivocations"][0];
        assert_eq!(proof["first"]["checkpoint"]["epoch"], 1);
        assert_ne!(
            proof["first"]["checkpoint"]["state_root"],
            proof["second"]["checkpoint"]["state_root"]
        );
        let epoch = federation["cells"][2]["latest_final_epoch"].as_u64();
        frozen.insert(api.clone(), epoch.unwrap());
    }
    let last_frozen = *frozen.values().max().unwrap();
    // Operators see it on /metrics.
    for api in &honest {
        let equivocations = r#"charter_federation_certificates_total{outcome="equivocation"}"#;
        assert_eq!(metric(api, equivocations), Some(1.0), "{api}");
        assert_eq!(
            metric(api, "charter_federation_quarantined_cells"),
            Some(1.0),
            "{api}"
        );
        // So do explorers: the federation page shows the proof and the bridge in lockdown.
        let page = explorer_page(api, "/explorer/federation");
        assert!(
            page.contains("Cell 2 certified two checkpoints for epoch 1"),
            "{page}"
        );
        assert!(
            page.contains("no ruling yet: the bridge is in lockdown"),
            "{page}"
        );
    }
    // Its certificates are no longer served as proofs.
    let (status, refused) = get(&honest[0], "/v1/checkpoints/2/latest");
    assert_eq!(
        (status, refused["error"].as_str()),
        (409, Some("quarantined"))
    );
    // Cell 2 goes on committing, but no later checkpoint of it becomes final elsewhere.
    let api_of_cell = |cell: u64| -> Vec<String> {
        nodes
            .iter()
            .filter(|node| node["cell"] == cell)
            .map(|node| node["api"].as_str().unwrap().to_string())
            .collect()
    };
    wait_for(&api_of_cell(2)[0], "/v1/status", |_, status| {
        status["height"]
            .as_u64()
            .is_some_and(|height| height >= (last_frozen + 2) * EPOCH)
    });
    // Cell 0's own checkpoints still become final (with cell 1) after cell 2's epoch frozen+2.
    wait_for(&honest[0], "/v1/federation", |_, federation| {
        federation["cells"][0]["latest_final_epoch"]
            .as_u64()
            .is_some_and(|epoch| epoch >= last_frozen + 2)
    });
    for api in &honest {
        let (_, federation) = get(api, "/v1/federation");
        assert_eq!(
            federation["cells"][2]["latest_final_epoch"].as_u64(),
            Some(frozen[api]),
            "{api}: {federation}"
        );
    }
    // The peer then sends what no honest node would: a certificate whose aggregate is not its
    // signers' signature on it, and bytes that are no message. Each node of cell 0 (the peer's
    // neighbours) refuses both, counts each by its reason, and penalizes the peer on the mesh.
    let (_, latest) = get(&honest[0], "/v1/checkpoints/1/latest");
    let mut forged: CheckpointCertificate =
        serde_json::from_value(latest["certificate"].clone()).unwrap();
    forged.checkpoint.epoch += 1_000;
    runtime.block_on(async {
        for message in [
            borsh::to_vec(&FederationMessage::Certificate(forged)).unwrap(),
            b"no federation message".to_vec(),
        ] {
            mesh.publish(&topic, message).await.unwrap();
        }
    });
    for api in &api_of_cell(0) {
        let refused = r#"charter_federation_certificates_refused_total{reason="bad_signature"}"#;
        let undecodable = r#"charter_federation_messages_received_total{kind="undecodable"}"#;
        // Every reason is there from the start at zero: wait for each to count one, and for
        // the mesh to have taken both verdicts (they reach it after the node handled both).
        let counted = |name: &str, at_least: f64| metric(api, name) >= Some(at_least);
        let penalties = "charter_gossip_penalties_total";
        while !counted(refused, 1.0) || !counted(undecodable, 1.0) || !counted(penalties, 2.0) {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    runtime.block_on(mesh.shutdown());

    // Cell 0's validators rule to keep the honest checkpoint, through its node 1's API.
    let honest_id = honest_certificate.checkpoint.id().to_hex();
    let (_, federation) = get(&honest[0], "/v1/federation");
    let ids = [
        &federation["equivocations"][0]["first_id"],
        &federation["equivocations"][0]["second_id"],
    ];
    assert!(ids.contains(&&Value::from(honest_id.as_str())), "{ids:?}");
    let cell_0_key = |index: usize| {
        dir.path()
            .join(format!("cell-0/keys/passport-{index}.json"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let api = &api_of_cell(0)[1];
    let approvals: Vec<Value> = (0..3)
        .map(|index| {
            let out = charter(&[
                "tx",
                "approve-bridge",
                "--api",
                api,
                "--key",
                &cell_0_key(index),
                "--remote",
                "2",
                "--epoch",
                "1",
                "--keep",
                &honest_id,
            ]);
            assert!(out.status.success(), "{out:?}");
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let lift = serde_json::json!({ "LiftBridgeLockdown": {
        "remote": 2, "epoch": 1, "keep": honest_id, "approvals": approvals,
    }});
    let out = charter(&[
        "tx",
        "send",
        "--api",
        api,
        "--key",
        &cell_0_key(0),
        "--action",
        &lift.to_string(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let cell_0_apis = api_of_cell(0);
    assert_eq!(cell_0_apis.len(), 4);
    for api in &cell_0_apis {
        let federation = wait_for(api, "/v1/federation", |_, federation| {
            federation["cells"][2]["bridge"] == "open"
        });
        assert_eq!(
            federation["equivocations"][0]["kept"].as_str(),
            Some(honest_id.as_str())
        );
        let page = explorer_page(api, "/explorer/federation");
        assert!(
            !page.contains("no ruling yet"),
            "the ruling is shown: {page}"
        );
        assert_eq!(
            get(api, "/v1/checkpoints/2/1").1["certificate"]["checkpoint"]["state_root"],
            honest_final["certificate"]["checkpoint"]["state_root"]
        );
    }
    // Cell 2's checkpoints become final again at cell 0's nodes.
    for api in &cell_0_apis {
        wait_for(api, "/v1/federation", |_, federation| {
            federation["cells"][2]["latest_final_epoch"]
                .as_u64()
                .is_some_and(|epoch| epoch > last_frozen + 2)
        });
    }
    // Cell 1 made no ruling: the bridge to cell 2 stays in lockdown there.
    for api in api_of_cell(1) {
        let (_, federation) = get(&api, "/v1/federation");
        assert_eq!(federation["cells"][2]["bridge"], "lockdown", "{api}");
        assert_eq!(
            federation["cells"][2]["latest_final_epoch"].as_u64(),
            Some(frozen[&api]),
            "{api}"
        );
    }
}

/// Validator `index` of `cell` bonds `amount` more through `api` and the cell commits it: the
/// validator's power, and so its cell's validator set, changes at the cell's next epoch.
/// Returns the bond's transaction id.
fn bond_more(dir: &Path, api: &str, cell: u64, index: u64, amount: u64) -> String {
    let genesis: Genesis = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("cell-{cell}/genesis.json"))).unwrap(),
    )
    .unwrap();
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("cell-{cell}/keys/passport-{index}.json")))
            .unwrap(),
    )
    .unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(keys["controller_seed"].as_str().unwrap(), &mut seed).unwrap();
    let bond = TransactionBody {
        federation: genesis.federation,
        cell: genesis.cell,
        sender: genesis.passport_id(index as usize),
        nonce: 0,
        fee: 0,
        action: Action::Bond { amount },
    }
    .sign(&Ed25519Keypair::from_seed(seed));
    let client = ApiClient::new(api).unwrap();
    let (status, body) = client
        .request("POST", "/v1/transactions", &bond.encode())
        .unwrap();
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let path = format!("/v1/transactions/{}?wait=60", bond.id().to_hex());
    let (status, body) = client.request("GET", &path, b"").unwrap();
    let followed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(
        (status, &followed["status"]),
        (200, &json!("committed")),
        "{followed}"
    );
    bond.id().to_hex()
}

/// Every final certificate `api` holds, of every cell, as the API serves them; each answer (and
/// the one for the epoch after the latest, not final yet) checked against the OpenAPI document.
fn final_certificates(api: &str, openapi: &OpenApi) -> Vec<Value> {
    let federation = openapi.get(api, "/v1/federation", "/v1/federation");
    let mut certificates = Vec::new();
    for cell in federation["cells"].as_array().unwrap() {
        let latest = cell["latest_final_epoch"].as_u64().unwrap_or(0);
        for epoch in 1..=latest + 1 {
            let path = format!("/v1/checkpoints/{}/{epoch}", cell["cell"]);
            let answer = openapi.get(api, "/v1/checkpoints/{cell}/{epoch}", &path);
            if answer["certificate"].is_object() {
                certificates.push(answer["certificate"].clone());
            }
        }
    }
    certificates
}

/// Every set `certificate` names — the set that certified its epoch, the one it hands over and
/// each signing cell's — is served by its hash by the `api` that served the certificate, and a
/// set it carries is the one its `next_validators` names; whether it carried one. Answers are
/// checked against the OpenAPI document.
fn sets_served(api: &str, certificate: &Value, openapi: &OpenApi) -> bool {
    let route = "/v1/validator-sets/{cell}/{hash}";
    let set = |cell: &Value, hash: &Value| {
        let path = format!("/v1/validator-sets/{cell}/{}", hash.as_str().unwrap());
        let answer = openapi.get(api, route, &path);
        assert_eq!(&answer["hash"], hash, "{path}: {answer}");
        answer
    };
    let checkpoint = &certificate["checkpoint"];
    set(&checkpoint["cell"], &checkpoint["validators"]);
    let next = set(&checkpoint["cell"], &checkpoint["next_validators"]);
    for signers in certificate["signers"].as_array().unwrap() {
        set(&signers["cell"], &signers["validators"]);
    }
    let carried = certificate["next_set"].is_array();
    if carried {
        assert_eq!(certificate["next_set"], next["validators"]);
    }
    carried
}

/// `charter verify` accepts `certificates` (JSON texts) given in several shuffled orders, and
/// prints the same for each.
fn verify_in_shuffled_orders(dir: &Path, certificates: &[String]) {
    let files = dir.join("certificates");
    std::fs::create_dir_all(&files).unwrap();
    let paths: Vec<String> = (certificates.iter().enumerate())
        .map(|(index, certificate)| {
            let path = files.join(format!("{index}.json"));
            std::fs::write(&path, certificate).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    let federation = dir.join("federation.json");
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut outputs = BTreeSet::new();
    for _ in 0..4 {
        let mut order = paths.clone();
        order.shuffle(&mut rng);
        let mut args = vec!["verify", "--federation", federation.to_str().unwrap()];
        for path in &order {
            args.extend(["--certificate", path.as_str()]);
        }
        let out = charter(&args);
        assert!(
            out.status.success(),
            "{} certificates in a shuffled order: {}",
            order.len(),
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.insert(out.stdout);
    }
    assert_eq!(outputs.len(), 1, "every order prints the same");
}

/// The defect this guards against: a certificate co-signed by a set that a cell has since
/// handed over was refused or accepted depending on the order a verifier saw certificates in.
/// Cells 0 and 1 change their validator sets three times while the three cells co-sign each
/// other's checkpoints with whatever set they have: each time another validator bonds enough
/// to hold more than 2/3 of its cell's power alone (the four start with 10,000 each), so that
/// which signers make a quorum differs from one set to the next. Every final certificate held by any of the twelve
/// nodes is then verified offline by `charter verify`, in several shuffled orders: all are
/// accepted, with the same output. Each hand-over's certificate carried the new set, and every
/// set a certificate names is served by its hash. Every federation answer fetched on the way is
/// checked against the OpenAPI document.
#[test]
fn certificates_of_cells_whose_sets_change_verify_offline_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_processes, nodes) = start_federation(dir.path());
    let apis: Vec<(u64, String)> = (nodes.iter())
        .map(|node| {
            let api = node["api"].as_str().unwrap().to_string();
            (node["cell"].as_u64().unwrap(), api)
        })
        .collect();
    for (_, api) in &apis {
        wait_for(api, "/v1/status", |status, _| status == 200);
    }
    let first_of = |cell: u64| apis.iter().find(|(of, _)| *of == cell).unwrap().1.clone();
    let head = |cell: u64| {
        let (_, federation) = get(&first_of(0), "/v1/federation");
        federation["cells"][cell as usize]["validators_hash"].clone()
    };
    let mut bonds = Vec::new();
    for (round, amount) in [60_000, 180_000, 540_000].into_iter().enumerate() {
        let before = [head(0), head(1)];
        for cell in [0, 1] {
            bonds.push(bond_more(
                dir.path(),
                &first_of(cell),
                cell,
                round as u64,
                amount,
            ));
        }
        // The hand-overs are final once the federation knows each cell's new set.
        for cell in [0, 1] {
            wait_for(&first_of(0), "/v1/federation", |_, federation| {
                federation["cells"][cell as usize]["validators_hash"] != before[cell as usize]
            });
        }
    }
    // A few more epochs, co-signed by the new sets.
    let target = get(&first_of(0), "/v1/federation").1["cells"][2]["latest_final_epoch"]
        .as_u64()
        .unwrap()
        + 3;
    wait_for(&first_of(0), "/v1/federation", |_, federation| {
        (federation["cells"].as_array().unwrap().iter())
            .all(|cell| cell["latest_final_epoch"].as_u64() >= Some(target))
    });

    let openapi = OpenApi::served_by(&first_of(0));
    let served: Vec<(&String, Vec<Value>)> = (apis.iter())
        .map(|(_, api)| (api, final_certificates(api, &openapi)))
        .collect();
    let mut handed_over = 0;
    for (api, certificates) in &served {
        for certificate in certificates {
            handed_over += usize::from(sets_served(api, certificate, &openapi));
        }
    }
    assert!(
        handed_over >= 6,
        "cells 0 and 1 each handed over three times"
    );
    // What is refused: a hash no cell held here, one that is not hex, a cell that is not one.
    let route = "/v1/validator-sets/{cell}/{hash}";
    let unknown = format!("/v1/validator-sets/0/{}", "00".repeat(32));
    for (path, code) in [
        (unknown.as_str(), "unknown_validator_set"),
        ("/v1/validator-sets/0/beef", "invalid_validator_set_id"),
        ("/v1/validator-sets/zero/00", "invalid_cell"),
    ] {
        assert_eq!(
            openapi.get(&first_of(0), route, path)["error"],
            code,
            "{path}"
        );
    }
    let mut certificates: Vec<String> = (served.into_iter())
        .flat_map(|(_, certificates)| certificates)
        .map(|certificate| certificate.to_string())
        .collect();
    certificates.sort();
    certificates.dedup();
    let signing_sets_of = |cell: u64| {
        let sets: BTreeSet<String> = (certificates.iter())
            .map(|text| serde_json::from_str::<Value>(text).unwrap())
            .flat_map(|certificate| certificate["signers"].as_array().unwrap().clone())
            .filter(|signers| signers["cell"] == cell)
            .map(|signers| signers["validators"].to_string())
            .collect();
        sets.len()
    };
    assert!(
        signing_sets_of(0) >= 4 && signing_sets_of(1) >= 4,
        "cells 0 and 1 signed with their four sets"
    );
    verify_in_shuffled_orders(dir.path(), &certificates);

    // The first bond's block was certified by cell 0's genesis set, three sets ago: a light
    // client checks its inclusion against the set of that block's epoch.
    let out = charter(&["query", "--api", &first_of(0), "--proof", "tx", &bonds[0]]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("included in block"), "{stderr}");

    // What an operator reads on /metrics of a node of cell 0: every cell's latest final epoch,
    // certificates and signatures taken, and the time its own checkpoints took to be final.
    let api = first_of(0);
    for cell in 0..3 {
        let latest = format!(r#"charter_federation_latest_final_epoch{{cell="{cell}"}}"#);
        assert!(metric(&api, &latest) >= Some(target as f64), "{latest}");
    }
    let final_here = r#"charter_federation_certificates_total{outcome="final"}"#;
    assert!(metric(&api, final_here) > Some(0.0));
    assert!(metric(&api, "charter_federation_signatures_collected_total") > Some(0.0));
    assert!(metric(&api, "charter_federation_time_to_finality_seconds_count") > Some(0.0));
    let heard = r#"charter_federation_messages_received_total{kind="signature"}"#;
    assert!(metric(&api, heard) > Some(0.0));
}

/// Committees of one in a federation of four cells of one validator each (`--committee 1`,
/// k = 2): every cell's checkpoints become final, each co-signed by exactly the cell drawn for
/// it (docs/checkpoints.md, Committees), which changes from epoch to epoch; no node refuses a
/// signature as off the committee, since honest nodes co-sign only where they are drawn; no
/// validator's signature leaves its cell, only cell aggregates do; and `charter verify` accepts
/// every certificate. A hand-over that no committee could co-sign
/// while the other cells were down becomes final once they return, and cell 0's finality
/// resumes after it; a node that returned following only its own cell takes that hand-over but
/// no more of another cell's certificates, and its own cell's stay final.
#[test]
fn each_checkpoint_is_co_signed_by_its_committee_alone() {
    let dir = tempfile::tempdir().unwrap();
    let options = [
        "--cells",
        "4",
        "--validators",
        "1",
        "--committee",
        "1",
        "--k",
        "2",
    ];
    let (mut processes, nodes) = start_localnet(dir.path(), &options);
    let apis: Vec<String> = (nodes.iter())
        .map(|node| node["api"].as_str().unwrap().to_string())
        .collect();
    let final_epochs = |federation: &Value| -> Vec<u64> {
        (federation["cells"].as_array().into_iter().flatten())
            .map(|cell| cell["latest_final_epoch"].as_u64().unwrap_or(0))
            .collect()
    };
    let federation = wait_for(&apis[0], "/v1/federation", |status, federation| {
        status == 200 && final_epochs(federation).iter().all(|epoch| *epoch >= 4)
    });
    assert_eq!(
        (federation["k"].as_u64(), federation["committee"].as_u64()),
        (Some(2), Some(1))
    );
    let id: [u8; 32] = hex::decode(federation["federation"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let cells: Vec<CellId> = (0..4).map(CellId).collect();

    let openapi = OpenApi::served_by(&apis[0]);
    let certificates = final_certificates(&apis[0], &openapi);
    assert!(
        certificates.len() >= 16,
        "{} certificates",
        certificates.len()
    );
    let mut pairs = BTreeSet::new();
    for certificate in &certificates {
        let checkpoint = &certificate["checkpoint"];
        let origin = CellId(checkpoint["cell"].as_u64().unwrap() as u32);
        let epoch = checkpoint["epoch"].as_u64().unwrap();
        let [drawn] = committee(&id, &cells, origin, epoch, 1)[..] else {
            panic!("a committee of one");
        };
        let listed: BTreeSet<u64> = (certificate["signers"].as_array().unwrap().iter())
            .map(|signers| signers["cell"].as_u64().unwrap())
            .collect();
        let expected = BTreeSet::from([u64::from(origin.0), u64::from(drawn.0)]);
        assert_eq!(listed, expected, "cell {origin}, epoch {epoch}");
        pairs.insert((origin, drawn));
    }
    assert!(
        pairs.len() > cells.len(),
        "some cell's co-signer changed: {pairs:?}"
    );
    // Signatures stay inside their cell: with one validator per cell a node hears none, and
    // every other cell's part reaches it as one aggregate.
    let off_committee = r#"charter_federation_signatures_refused_total{reason="not_on_committee"}"#;
    let signatures = r#"charter_federation_messages_received_total{kind="signature"}"#;
    let aggregates = r#"charter_federation_messages_received_total{kind="aggregate"}"#;
    for api in &apis {
        assert_eq!(metric(api, off_committee), Some(0.0), "{api}");
        assert_eq!(metric(api, signatures), Some(0.0), "{api}");
        assert!(metric(api, aggregates) > Some(0.0), "{api}");
    }
    let texts: Vec<String> = certificates.iter().map(Value::to_string).collect();
    verify_in_shuffled_orders(dir.path(), &texts);

    // Cells 1 to 3 stop, and cell 0's validator bonds more: its next checkpoint hands over a
    // new set, and no committee is up to co-sign it. Every later checkpoint of cell 0 names
    // that set, so none can be final before it; cell 0's validator signs it again each epoch.
    let cell_0 = &apis[0];
    let head = |federation: &Value| federation["cells"][0]["validators_hash"].clone();
    let before = head(&get(cell_0, "/v1/federation").1);
    for node in &nodes[1..] {
        kill(node["pid"].as_u64().unwrap());
    }
    bond_more(dir.path(), cell_0, 0, 0, 60_000);
    let resigned = "charter_federation_hand_overs_resigned_total";
    wait_for(cell_0, "/metrics", |_, _| {
        metric(cell_0, resigned) >= Some(2.0)
    });
    assert_eq!(
        head(&get(cell_0, "/v1/federation").1),
        before,
        "the hand-over is not final"
    );

    // The cells return, cell 3's node now following no cell but its own; they hear the
    // hand-over signed again, and their committee co-signs it: it is final, and so, after it,
    // is a checkpoint its new set certified.
    let config_3 = dir.path().join("cell-3/node-0.toml");
    let mut config = std::fs::read_to_string(&config_3).unwrap();
    assert!(
        config.trim_end().ends_with(".json\""),
        "[federation] comes last"
    );
    config.push_str("follow = []\n");
    std::fs::write(&config_3, config).unwrap();
    for cell in 1..4 {
        let config = dir.path().join(format!("cell-{cell}/node-0.toml"));
        processes.0.push(start_validator(&config));
    }
    let handed_over = wait_for(cell_0, "/v1/federation", |_, federation| {
        federation["cells"].is_array() && head(federation) != before
    })["cells"][0]["latest_final_epoch"]
        .as_u64()
        .unwrap();
    wait_for(cell_0, "/v1/federation", |_, federation| {
        federation["cells"][0]["latest_final_epoch"].as_u64() > Some(handed_over)
    });

    // Cell 3's node took cell 0's hand-over, from the federation topic. Of cell 1, which it no
    // longer follows (and whose set does not change), it holds only the certificates it
    // assembled itself as the cell drawn to co-sign them (k = 2).
    let cell_3 = &apis[3];
    let (_, seen_by_3) = get(cell_3, "/v1/federation");
    assert_eq!(head(&seen_by_3), head(&get(cell_0, "/v1/federation").1));
    let cell_1_at_3 = seen_by_3["cells"][1]["latest_final_epoch"]
        .as_u64()
        .unwrap_or(0);
    let own_at_3 = seen_by_3["cells"][3]["latest_final_epoch"].as_u64();
    let window = cell_1_at_3 + 1..=cell_1_at_3 + 6;
    wait_for(&apis[1], "/v1/federation", |_, federation| {
        federation["cells"][1]["latest_final_epoch"].as_u64() >= Some(*window.end())
    });
    let held_by_3: BTreeSet<u64> = (final_certificates(cell_3, &openapi).iter())
        .map(|certificate| &certificate["checkpoint"])
        .filter(|checkpoint| checkpoint["cell"].as_u64() == Some(1))
        .filter_map(|checkpoint| checkpoint["epoch"].as_u64())
        .collect();
    let not_drawn: Vec<u64> = (window.clone())
        .filter(|epoch| committee(&id, &cells, CellId(1), *epoch, 1) != [CellId(3)])
        .collect();
    assert!(!not_drawn.is_empty(), "the draw over {window:?}");
    for epoch in &not_drawn {
        assert!(
            !held_by_3.contains(epoch),
            "cell 3 holds cell 1's epoch {epoch}, which it neither follows nor co-signed"
        );
    }
    wait_for(cell_3, "/v1/federation", |_, federation| {
        federation["cells"][3]["latest_final_epoch"].as_u64() > own_at_3
    });
}
