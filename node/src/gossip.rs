//! Transaction gossip: the node's libp2p mesh (the `p2p` crate), on which every validator of the
//! cell passes on what clients submitted to it, so any validator's proposal can include it.
//! Everything heard there goes through the same admission as a client's submission.

use crate::api::{ApiState, Source};
use crate::config::GossipSection;
use charter_ledger::{CellId, FederationId};
use charter_p2p::{Mesh, MeshConfig, MeshError, MeshEvent};
use libp2p::identity::Keypair;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Transactions waiting to be published; beyond this the API keeps them local.
pub const OUTBOUND_QUEUE: usize = 4_096;

/// The topic a cell's transactions travel on.
pub fn transactions_topic(federation: &FederationId, cell: CellId) -> String {
    format!(
        "charter/{}/cell/{}/transactions/v1",
        federation.to_hex(),
        cell.0
    )
}

/// Starts the mesh and the task that publishes what `outbound` carries and admits what peers
/// publish.
pub fn start(
    keypair: Keypair,
    config: &GossipSection,
    topic: String,
    api: Arc<ApiState>,
    mut outbound: mpsc::Receiver<Vec<u8>>,
) -> Result<tokio::task::JoinHandle<()>, MeshError> {
    let mut mesh = Mesh::start(
        keypair,
        MeshConfig {
            listen: config.listen.clone(),
            bootstrap: config.peers.clone(),
            topics: vec![topic.clone()],
            max_message_bytes: charter_ledger::transaction::MAX_TRANSACTION_BYTES,
            ..MeshConfig::default()
        },
    )?;
    Ok(tokio::spawn(async move {
        let mut peers: i64 = 0;
        loop {
            tokio::select! {
                event = mesh.next_event() => match event {
                    Some(MeshEvent::Message { data, author, .. }) => {
                        if let Err(refused) = api.admit(&data, Source::Gossip) {
                            tracing::debug!(peer = %author, %refused, "gossiped transaction not admitted");
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
                        tracing::info!(%address, "transaction gossip listening");
                    }
                    Some(MeshEvent::PeerSubscribed { .. }) => {}
                    None => return,
                },
                transaction = outbound.recv() => match transaction {
                    Some(transaction) => match mesh.publish(&topic, transaction).await {
                        Ok(()) => {}
                        // Alone for now: the transaction still commits through this node.
                        Err(MeshError::NoPeers(_)) => {}
                        Err(error) => tracing::warn!(%error, "publishing a transaction failed"),
                    },
                    None => return,
                },
            }
        }
    }))
}
