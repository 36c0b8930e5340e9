//! The node's libp2p mesh (the `p2p` crate) and what travels on it: a cell's transactions,
//! which every validator passes on so that any validator's proposal can include them (each
//! goes through the same admission as a client's submission), and — in a federation — the
//! checkpoint signatures and certificates that make checkpoints final.

use crate::config::GossipSection;
use charter_ledger::{CellId, FederationId};
use charter_node::api::{ApiState, Source};
use charter_node::publisher::Publisher;
use charter_p2p::{Mesh, MeshConfig, MeshError, MeshEvent};
use libp2p::identity::Keypair;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Messages waiting to be published; beyond this they are dropped (a transaction then stays
/// in this node's mempool only).
pub const OUTBOUND_QUEUE: usize = 4_096;
/// Largest message on any topic: a checkpoint certificate of a large federation is the biggest.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The topic a cell's transactions travel on.
pub fn transactions_topic(federation: &FederationId, cell: CellId) -> String {
    format!(
        "charter/{}/cell/{}/transactions/v1",
        federation.to_hex(),
        cell.0
    )
}

/// The topic a federation's checkpoint signatures and certificates travel on.
pub fn checkpoints_topic(federation: &FederationId) -> String {
    format!("charter/{}/checkpoints/v1", federation.to_hex())
}

/// The mesh, before the parts that use it are built.
pub struct Gossip {
    outbound: mpsc::Sender<(String, Vec<u8>)>,
    receiver: mpsc::Receiver<(String, Vec<u8>)>,
}

impl Gossip {
    pub fn new() -> Self {
        let (outbound, receiver) = mpsc::channel(OUTBOUND_QUEUE);
        Self { outbound, receiver }
    }

    pub fn publisher(&self, topic: &str) -> Publisher {
        Publisher::new(topic, self.outbound.clone())
    }

    /// Starts the mesh: transactions heard on `transactions` go to the API's admission, and
    /// whatever arrives on `checkpoints` (when the node is in a federation) to `finality`.
    pub fn start(
        self,
        keypair: Keypair,
        config: &GossipSection,
        transactions: String,
        checkpoints: Option<(String, mpsc::Sender<Vec<u8>>)>,
        api: Arc<ApiState>,
    ) -> Result<tokio::task::JoinHandle<()>, MeshError> {
        let mut topics = vec![transactions.clone()];
        topics.extend(checkpoints.iter().map(|(topic, _)| topic.clone()));
        let mut mesh = Mesh::start(
            keypair,
            MeshConfig {
                listen: config.listen.clone(),
                bootstrap: config.peers.clone(),
                topics,
                max_message_bytes: MAX_MESSAGE_BYTES,
                ..MeshConfig::default()
            },
        )?;
        let mut outbound = self.receiver;
        Ok(tokio::spawn(async move {
            let mut peers: i64 = 0;
            loop {
                tokio::select! {
                    event = mesh.next_event() => match event {
                        Some(MeshEvent::Message { topic, data, author }) => {
                            if topic == transactions {
                                if let Err(refused) = api.admit(&data, Source::Gossip) {
                                    tracing::debug!(peer = %author, %refused, "gossiped transaction not admitted");
                                }
                            } else if let Some((_, finality)) =
                                checkpoints.as_ref().filter(|(name, _)| *name == topic)
                            {
                                if finality.try_send(data).is_err() {
                                    tracing::warn!("finality is behind; dropping a checkpoint message");
                                }
                            }
                        }
                        Some(MeshEvent::PeerConnected(peer)) => {
                            peers += 1;
                            api.set_gossip_peers(peers);
                            tracing::debug!(%peer, "gossip peer connected");
                        }
                        Some(MeshEvent::PeerDisconnected(peer)) => {
                            peers -= 1;
                            api.set_gossip_peers(peers);
                            tracing::debug!(%peer, "gossip peer disconnected");
                        }
                        Some(MeshEvent::Listening(address)) => {
                            tracing::info!(%address, "gossip listening");
                        }
                        Some(MeshEvent::PeerSubscribed { .. }) => {}
                        None => return,
                    },
                    message = outbound.recv() => match message {
                        Some((topic, message)) => match mesh.publish(&topic, message).await {
                            Ok(()) => {}
                            // Alone for now: what was published still takes effect here.
                            Err(MeshError::NoPeers(_)) => {}
                            Err(error) => tracing::warn!(%error, topic, "publishing failed"),
                        },
                        None => return,
                    },
                }
            }
        }))
    }
}
