//! A hostile peer for the fault harness. Throughout a run it connects to every validator with a
//! key of its own, speaking the protocols (Noise, Yamux, gossipsub, and the engine's identify
//! protocol), and keeps sending what an honest peer never would: bytes that are not Charter
//! messages, messages over every size limit, and replays of messages it heard earlier; and it
//! writes bytes that are not a handshake straight to the validators' ports. The checker's
//! promises must hold regardless.

use charter_devnet::localnet::LocalValidator;
use charter_p2p::{Keypair, Mesh, MeshConfig, MeshEvent, MessageSigning};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How many heard messages are kept for replay.
const REPLAYABLE: usize = 64;
/// Larger than the engine's 4 MiB pub-sub limit and the ledger's 64 KiB transaction limit.
const OVERSIZED_BYTES: usize = 5 * 1024 * 1024;

/// What the hostile peer got out (published to at least one peer, or written to a socket).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostileSent {
    pub garbage: u64,
    pub oversized: u64,
    pub replays: u64,
    pub not_handshakes: u64,
}

pub struct HostilePeer {
    stop: Arc<AtomicBool>,
    worker: Option<std::thread::JoinHandle<HostileSent>>,
}

impl HostilePeer {
    /// Starts attacking `validators` (of a cell whose transaction gossip topic is `transactions`).
    pub fn start(validators: &[LocalValidator], transactions: String, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let bootstrap = validators
            .iter()
            .flat_map(|node| {
                [
                    format!("{}/p2p/{}", node.consensus, node.peer_id),
                    node.gossip.clone(),
                ]
            })
            .filter_map(|address| address.parse().ok())
            .collect();
        let ports: Vec<String> = validators
            .iter()
            .flat_map(|node| [node.consensus.clone(), node.gossip.clone()])
            .filter_map(|address| socket_address(&address))
            .collect();
        let worker = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the hostile peer");
                runtime.block_on(attack(bootstrap, ports, transactions, seed, stop))
            })
        };
        Self {
            stop,
            worker: Some(worker),
        }
    }

    pub fn stop(mut self) -> HostileSent {
        self.stop.store(true, Ordering::SeqCst);
        self.worker
            .take()
            .and_then(|worker| worker.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// `ip:port` of a `/ip4/IP/tcp/PORT[/p2p/…]` address.
fn socket_address(multiaddr: &str) -> Option<String> {
    let parts: Vec<&str> = multiaddr.split('/').collect();
    match parts.as_slice() {
        ["", "ip4", ip, "tcp", port, ..] => Some(format!("{ip}:{port}")),
        _ => None,
    }
}

async fn attack(
    bootstrap: Vec<charter_p2p::Multiaddr>,
    ports: Vec<String>,
    transactions: String,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> HostileSent {
    let topics = vec![
        "/consensus".to_string(),
        "/proposal_parts".to_string(),
        transactions,
    ];
    let mut sent = HostileSent::default();
    let Ok(mut mesh) = Mesh::start(
        Keypair::generate_ed25519(),
        MeshConfig {
            bootstrap,
            topics: topics.clone(),
            max_message_bytes: 2 * OVERSIZED_BYTES,
            // Announce the engine's own protocol, so the consensus network takes it for one of
            // its peers (until it notices this one is not configured).
            identify_protocol: "/malachitebft-core-consensus/v1beta1".into(),
            // Signed, as the engine's gossipsub requires of every message it takes.
            signing: MessageSigning::Signed,
            redial_initial: Duration::from_millis(500),
            redial_max: Duration::from_secs(2),
            ..MeshConfig::default()
        },
    ) else {
        return sent;
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut heard: VecDeque<(String, Vec<u8>)> = VecDeque::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut round = 0u64;
    while !stop.load(Ordering::SeqCst) {
        tokio::select! {
            event = mesh.next_event() => match event {
                Some(MeshEvent::Message { topic, data, .. }) => {
                    if heard.len() == REPLAYABLE {
                        heard.pop_front();
                    }
                    heard.push_back((topic, data));
                }
                Some(_) => {}
                None => break,
            },
            _ = tick.tick() => {
                round += 1;
                let topic = topics.choose(&mut rng).expect("three topics").clone();
                let garbage: Vec<u8> = (0..rng.gen_range(1..512)).map(|_| rng.gen()).collect();
                if mesh.publish(&topic, garbage).await.is_ok() {
                    sent.garbage += 1;
                }
                if let Some((topic, data)) = heard.iter().collect::<Vec<_>>().choose(&mut rng) {
                    if mesh.publish(topic, data.clone()).await.is_ok() {
                        sent.replays += 1;
                    }
                }
                if round.is_multiple_of(10) && mesh.publish(&topic, vec![0x01; OVERSIZED_BYTES]).await.is_ok() {
                    sent.oversized += 1;
                }
                if let Some(port) = ports.choose(&mut rng) {
                    let written = std::net::TcpStream::connect_timeout(
                        &port.parse().expect("an ip:port"),
                        Duration::from_millis(200),
                    )
                    .and_then(|mut stream| stream.write_all(&[0xff; 4096]));
                    if written.is_ok() {
                        sent.not_handshakes += 1;
                    }
                }
            }
        }
    }
    mesh.shutdown().await;
    sent
}
