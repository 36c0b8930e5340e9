//! Two or three mesh nodes on 127.0.0.1 with real sockets and dynamic ports. Tests wait for
//! events, never for time.

use charter_p2p::{
    Keypair, Mesh, MeshConfig, MeshError, MeshEvent, Multiaddr, PeerId, Verdict, GRAYLIST_SCORE,
};
use libp2p::multiaddr::Protocol;

const TOPIC: &str = "charter/tx";

fn config(bootstrap: Vec<Multiaddr>) -> MeshConfig {
    MeshConfig {
        bootstrap,
        topics: vec![TOPIC.into()],
        ..MeshConfig::default()
    }
}

async fn wait_for<T>(mesh: &mut Mesh, mut matches: impl FnMut(MeshEvent) -> Option<T>) -> T {
    loop {
        let event = mesh.next_event().await.expect("the mesh is running");
        if let Some(found) = matches(event) {
            return found;
        }
    }
}

/// Starts a node and returns it with its dialable address (ending in /p2p/<id>).
async fn start(keypair: Keypair, config: MeshConfig) -> (Mesh, Multiaddr) {
    let mut mesh = Mesh::start(keypair, config).unwrap();
    let peer = mesh.peer_id();
    let address = wait_for(&mut mesh, |event| match event {
        MeshEvent::Listening(address) => Some(address),
        _ => None,
    })
    .await;
    (mesh, address.with(Protocol::P2p(peer)))
}

async fn wait_subscribed(mesh: &mut Mesh, peer: PeerId) {
    wait_for(mesh, |event| {
        matches!(event, MeshEvent::PeerSubscribed { peer: p, .. } if p == peer).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn gossip_reaches_a_bootstrapped_peer_from_the_peer_that_sent_it() {
    let (mut a, a_address) = start(Keypair::generate_ed25519(), config(vec![])).await;
    assert!(matches!(
        a.publish(TOPIC, b"early".to_vec()).await,
        Err(MeshError::NoPeers(_))
    ));
    let (mut b, _) = start(Keypair::generate_ed25519(), config(vec![a_address])).await;
    wait_subscribed(&mut a, b.peer_id()).await;
    a.publish(TOPIC, b"a signed transaction".to_vec())
        .await
        .unwrap();
    let (source, data) = wait_for(&mut b, |event| match event {
        MeshEvent::Message {
            topic,
            source,
            data,
            ..
        } if topic == TOPIC => Some((source, data)),
        _ => None,
    })
    .await;
    assert_eq!(source, a.peer_id());
    assert_eq!(data, b"a signed transaction");
}

/// A peer with a larger limit sends an oversized message anyway. The receiver refuses the
/// frame (gossipsub closes that peer's stream), never delivers it, and keeps working with its
/// other peers.
#[tokio::test(flavor = "multi_thread")]
async fn oversized_messages_are_refused_on_publish_and_never_delivered() {
    let (mut receiver, receiver_address) = start(Keypair::generate_ed25519(), config(vec![])).await;
    let generous = MeshConfig {
        max_message_bytes: 1024 * 1024,
        ..config(vec![receiver_address.clone()])
    };
    let (mut hostile, _) = start(Keypair::generate_ed25519(), generous).await;
    let (mut honest, _) = start(Keypair::generate_ed25519(), config(vec![receiver_address])).await;
    wait_subscribed(&mut hostile, receiver.peer_id()).await;
    wait_subscribed(&mut honest, receiver.peer_id()).await;

    let too_big = vec![7u8; 200 * 1024];
    assert!(matches!(
        receiver.publish(TOPIC, too_big.clone()).await,
        Err(MeshError::Oversized {
            size: 204_800,
            limit: 131_072
        })
    ));
    hostile.publish(TOPIC, too_big).await.unwrap();
    honest.publish(TOPIC, b"small".to_vec()).await.unwrap();
    let (source, data) = wait_for(&mut receiver, |event| match event {
        MeshEvent::Message { source, data, .. } => Some((source, data)),
        _ => None,
    })
    .await;
    assert_eq!(
        (source, data.as_slice()),
        (honest.peer_id(), b"small".as_slice())
    );
    receiver
        .publish(TOPIC, b"still serving".to_vec())
        .await
        .unwrap();
    let echoed = wait_for(&mut honest, |event| match event {
        MeshEvent::Message { data, .. } => Some(data),
        _ => None,
    })
    .await;
    assert_eq!(echoed, b"still serving");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_whose_messages_are_rejected_is_graylisted_and_one_whose_are_ignored_is_not() {
    let (mut receiver, address) = start(Keypair::generate_ed25519(), config(vec![])).await;
    let (mut honest, _) = start(Keypair::generate_ed25519(), config(vec![address.clone()])).await;
    let (mut hostile, _) = start(Keypair::generate_ed25519(), config(vec![address])).await;
    let mut subscribed = std::collections::BTreeSet::new();
    wait_for(&mut receiver, |event| match event {
        MeshEvent::PeerSubscribed { peer, .. } => {
            subscribed.insert(peer);
            (subscribed.len() == 2).then_some(())
        }
        _ => None,
    })
    .await;
    for sender in [&mut honest, &mut hostile] {
        wait_subscribed(sender, receiver.peer_id()).await;
    }
    for round in 0..3 {
        honest
            .publish(TOPIC, format!("valid {round}").into_bytes())
            .await
            .unwrap();
        honest
            .publish(TOPIC, format!("stale {round}").into_bytes())
            .await
            .unwrap();
        hostile
            .publish(TOPIC, format!("forged {round}").into_bytes())
            .await
            .unwrap();
    }
    for _ in 0..9 {
        let (data, id, source) = wait_for(&mut receiver, |event| match event {
            MeshEvent::Message {
                data, id, source, ..
            } => Some((data, id, source)),
            _ => None,
        })
        .await;
        let verdict = match &data[..5] {
            b"valid" => Verdict::Accept,
            b"stale" => Verdict::Ignore,
            _ => Verdict::Reject,
        };
        receiver.report(id, source, verdict).await.unwrap();
    }
    let hostile_score = receiver.peer_score(hostile.peer_id()).await.unwrap();
    let honest_score = receiver.peer_score(honest.peer_id()).await.unwrap();
    assert!(
        hostile_score.is_some_and(|score| score < GRAYLIST_SCORE),
        "three rejected messages graylist their sender: {hostile_score:?}"
    );
    assert!(
        honest_score.is_some_and(|score| score >= 0.0),
        "accepted and ignored messages cost nothing: {honest_score:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_bootstrap_peer_is_redialed_until_it_returns() {
    let a_key = Keypair::generate_ed25519();
    let (a, a_address) = start(a_key.clone(), config(vec![])).await;
    let a_peer = a.peer_id();
    let (mut b, _) = start(Keypair::generate_ed25519(), config(vec![a_address.clone()])).await;
    wait_for(&mut b, |event| {
        (event == MeshEvent::PeerConnected(a_peer)).then_some(())
    })
    .await;

    a.shutdown().await;
    wait_for(&mut b, |event| {
        (event == MeshEvent::PeerDisconnected(a_peer)).then_some(())
    })
    .await;

    let listen: Multiaddr = a_address
        .iter()
        .filter(|protocol| !matches!(protocol, Protocol::P2p(_)))
        .collect();
    let (_a, _) = start(
        a_key,
        MeshConfig {
            listen,
            ..config(vec![])
        },
    )
    .await;
    wait_for(&mut b, |event| {
        (event == MeshEvent::PeerConnected(a_peer)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listen_address_in_use_is_a_config_error_that_says_why() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let listen: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
    let refused = Mesh::start(
        Keypair::generate_ed25519(),
        MeshConfig {
            listen,
            ..config(Vec::new())
        },
    );
    let Err(MeshError::Config(reason)) = refused else {
        panic!("listening on a port in use was not refused");
    };
    assert!(
        reason.contains("listening on") && reason.to_lowercase().contains("in use"),
        "{reason}"
    );
}
