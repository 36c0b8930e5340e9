//! Peers that do not play by the rules, against a cell of real `charter run` processes: a
//! process claiming a validator's identity without its key gets none of its votes counted;
//! bytes that are not a handshake are refused on every port; an unconfigured peer speaking the
//! protocols is cut off the consensus network; malformed and oversized messages on the gossip
//! mesh are dropped, a malformed transaction at a penalty to its sender — and the cell keeps
//! committing throughout.

use charter_e2e::{http, Cell};
use charter_p2p::{Keypair, Mesh, MeshConfig, MeshEvent, MessageSigning};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;

fn status(api: &str) -> Value {
    let (code, body) = http(api, "GET", "/v1/status", b"");
    assert_eq!(code, 200);
    serde_json::from_slice(&body).unwrap()
}

/// Polls until `done` holds: for what a node shows only in its log or metrics.
fn wait_for(mut done: impl FnMut() -> bool) {
    while !done() {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

#[test]
fn a_process_with_a_validators_identity_but_not_its_key_gets_no_vote_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::running(dir.path(), 4);
    // Validators 2 and 3 stop: the two left hold half the power and cannot commit alone.
    cell.kill(2);
    cell.kill(3);

    // The impostor runs as validator 2 (same passport, same addresses) with a consensus key
    // of its own. Were its votes counted, validators 0 and 1 would have a quorum with it.
    let mut keys: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("keys/passport-2.json")).unwrap(),
    )
    .unwrap();
    keys["validator"]["consensus_seed"] = Value::String(hex::encode([66u8; 32]));
    std::fs::write(dir.path().join("keys/impostor.json"), keys.to_string()).unwrap();
    let config = std::fs::read_to_string(dir.path().join("node-2.toml"))
        .unwrap()
        .replace("keys/passport-2.json", "keys/impostor.json")
        .replace("data-2", "data-impostor");
    std::fs::write(dir.path().join("node-4.toml"), config).unwrap();
    // It starts from validator 2's chain (not its signer record), so it takes part at the
    // stalled height at once instead of first syncing there.
    std::fs::create_dir_all(dir.path().join("data-impostor")).unwrap();
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(dir.path().join("data-2").join("store"))
        .arg(dir.path().join("data-impostor"))
        .status()
        .unwrap();
    assert!(copied.success());
    cell.start(4);
    // Its own log says that its consensus key is not the one validator 2 registered.
    let impostor_log = dir.path().join("node-4.log");
    wait_for(|| {
        std::fs::read_to_string(&impostor_log).is_ok_and(|log| {
            log.contains("the key file's consensus key is not the one this passport registered")
        })
    });

    // Validator 0 hears the impostor's votes for the stalled height and rejects each one: it
    // rebroadcasts them every few seconds, and after three of them nothing has been decided.
    // (Counted, any one of them would have completed a quorum within the round.)
    let stalled = status(&cell.nodes[0].api)["height"].as_u64().unwrap();
    let validator_2 = cell.genesis().passport_id(2).to_hex();
    let rejection = "Received vote with invalid signature";
    let log = cell.nodes[0].log.clone();
    wait_for(|| {
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|line| line.contains(rejection) && line.contains(&validator_2))
            .count()
            >= 3
    });
    assert_eq!(
        status(&cell.nodes[0].api)["height"].as_u64().unwrap(),
        stalled,
        "no block was decided with the impostor's votes"
    );

    // The real validator 3 returns: three real validators decide again, and no certificate
    // carries a signature in validator 2's name.
    cell.start(3);
    cell.wait_for_height(0, stalled + 2);
    for height in stalled + 1..=stalled + 2 {
        let (code, body) = http(
            &cell.nodes[0].api,
            "GET",
            &format!("/v1/blocks/{height}"),
            b"",
        );
        assert_eq!(code, 200);
        let block: Value = serde_json::from_slice(&body).unwrap();
        let signers: BTreeSet<&str> = block["certificate"]["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|signature| signature["validator"].as_str().unwrap())
            .collect();
        assert!(!signers.contains(validator_2.as_str()), "{signers:?}");
        assert!(signers.len() >= 3);
    }
}

#[test]
fn garbage_malformed_and_oversized_peer_messages_are_dropped_and_the_cell_keeps_committing() {
    let dir = tempfile::tempdir().unwrap();

    let mut cell = Cell::running(dir.path(), 4);
    let transactions_topic = cell.transactions_topic();

    // Bytes that are not even a handshake, on every port a validator listens on.
    let port_of = |address: &str| address.rsplit('/').next().unwrap().to_string();
    let gossip_address = cell.nodes[2]
        .gossip
        .split("/p2p/")
        .next()
        .unwrap()
        .to_string();
    for address in [cell.nodes[2].consensus.clone(), gossip_address.clone()] {
        let port = port_of(&address);
        let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        stream.write_all(&[0xff; 4096]).unwrap();
    }

    // A peer that speaks the protocols — Noise, Yamux, gossipsub — with a key of its own, and
    // publishes malformed and oversized messages on the consensus topics and the transaction
    // topic.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let consensus_peer = format!("{}/p2p/{}", cell.nodes[0].consensus, cell.nodes[0].peer_id);
    let hostile = runtime.block_on(async {
        let mut hostile = Mesh::start(
            Keypair::generate_ed25519(),
            MeshConfig {
                bootstrap: vec![
                    consensus_peer.parse().unwrap(),
                    cell.nodes[1].gossip.parse().unwrap(),
                ],
                topics: vec![
                    "/consensus".into(),
                    "/proposal_parts".into(),
                    transactions_topic.clone(),
                ],
                max_message_bytes: 8 * 1024 * 1024,
                // Announce the engine's own protocol, so the consensus network takes it for one
                // of its peers.
                identify_protocol: "/malachitebft-core-consensus/v1beta1".into(),
                // Signed, as the engine's gossipsub requires of every message it takes.
                signing: MessageSigning::Signed,
                ..MeshConfig::default()
            },
        )
        .unwrap();
        let mut waiting: BTreeSet<String> = ["/consensus", "/proposal_parts"]
            .into_iter()
            .map(String::from)
            .chain([transactions_topic.clone()])
            .collect();
        while !waiting.is_empty() {
            if let Some(MeshEvent::PeerSubscribed { topic, .. }) = hostile.next_event().await {
                waiting.remove(&topic);
            }
        }
        // The transaction topic takes anyone's messages (transactions are signed), so the
        // malformed one must go out: a well-formed batch (a u32 little-endian count, then each
        // transaction's u32 little-endian length and bytes) of one that is not a transaction.
        let malformed = b"\x07not a transaction";
        let batch = [
            &1u32.to_le_bytes()[..],
            &(malformed.len() as u32).to_le_bytes(),
            malformed,
        ];
        hostile
            .publish(&transactions_topic, batch.concat())
            .await
            .unwrap();
        for topic in [transactions_topic.as_str(), "/consensus", "/proposal_parts"] {
            for message in [
                b"\x07not a charter message".to_vec(),
                vec![0x01; 5 * 1024 * 1024],
            ] {
                if let Err(error) = hostile.publish(topic, message).await {
                    eprintln!("publishing on {topic}: {error}");
                }
            }
        }
        // The consensus network keeps connections only to the peers it is configured with: it
        // cuts this one off.
        let validator_0 = cell.nodes[0].peer_id.clone();
        loop {
            match hostile.next_event().await {
                Some(MeshEvent::PeerDisconnected(peer)) if peer.to_string() == validator_0 => break,
                Some(_) => {}
                None => panic!("the hostile mesh stopped"),
            }
        }
        hostile
    });

    // The malformed transaction and the message that is no batch reached validator 1, were
    // refused as such, and cost the peer that sent them a penalty in the mesh's scoring.
    wait_for(|| {
        let (_, body) = http(&cell.nodes[1].api, "GET", "/metrics", b"");
        let metrics = String::from_utf8_lossy(&body).into_owned();
        let count = |name: &str| {
            metrics
                .lines()
                .find_map(|line| {
                    line.strip_prefix(name)?
                        .strip_prefix(' ')?
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0)
        };
        count("charter_transactions_refused_total{reason=\"malformed\"}") >= 1
            && count("charter_transactions_refused_total{reason=\"bad_batch\"}") >= 1
            && count("charter_gossip_penalties_total") >= 2
    });
    // Every validator is still up and committing.
    let now = (0..4).map(|node| cell.latest(node)).max().unwrap();
    for node in 0..4 {
        cell.wait_for_height(node, now + 3);
    }
    runtime.block_on(hostile.shutdown());
}
