//! The node's libp2p mesh (the `p2p` crate) and what travels on it: a cell's transactions,
//! which every validator passes on so that any validator's proposal can include them (each
//! goes through the same admission as a client's submission), and — in a federation — the
//! checkpoint signatures and certificates that make checkpoints final.

use crate::admission::{Admission, Source};
use crate::config::GossipSection;
use crate::mempool::AdmissionError;
use crate::metrics::NodeMetrics;
use crate::publisher::Publisher;
use charter_ledger::storage::Storage;
use charter_ledger::{CellId, FederationId};
use charter_ledger::{TxError, TxId};
use charter_p2p::{Mesh, MeshConfig, MeshError, MeshEvent, Verdict};
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

impl Default for Gossip {
    fn default() -> Self {
        let (outbound, receiver) = mpsc::channel(OUTBOUND_QUEUE);
        Self { outbound, receiver }
    }
}

impl Gossip {
    pub fn publisher(&self, topic: &str) -> Publisher {
        Publisher::new(topic, self.outbound.clone())
    }

    /// Starts the mesh: transactions heard on `transactions` go to admission, and whatever
    /// arrives on `checkpoints` (when the node is in a federation) to `finality`.
    pub fn start<S: Storage + 'static>(
        self,
        keypair: Keypair,
        config: &GossipSection,
        transactions: String,
        checkpoints: Option<(String, mpsc::Sender<Vec<u8>>)>,
        admission: Arc<Admission<S>>,
        metrics: Arc<NodeMetrics>,
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
                        Some(MeshEvent::Message { topic, data, author, id, source }) => {
                            let verdict = if topic == transactions {
                                let admission = admission.admit(&data, Source::Gossip);
                                if let Err(refused) = &admission {
                                    tracing::debug!(peer = %author, %source, %refused, "gossiped transaction not admitted");
                                }
                                transaction_verdict(&admission)
                            } else {
                                // Finality checks checkpoint messages itself, after the mesh.
                                if let Some((_, finality)) =
                                    checkpoints.as_ref().filter(|(name, _)| *name == topic)
                                {
                                    if finality.try_send(data).is_err() {
                                        tracing::warn!("finality is behind; dropping a checkpoint message");
                                    }
                                }
                                Verdict::Accept
                            };
                            if verdict == Verdict::Reject {
                                metrics.gossip_penalties.inc();
                            }
                            if mesh.report(id, source, verdict).await.is_err() {
                                return;
                            }
                        }
                        Some(MeshEvent::PeerConnected(peer)) => {
                            peers += 1;
                            metrics.gossip_peers.set(peers);
                            tracing::debug!(%peer, "gossip peer connected");
                        }
                        Some(MeshEvent::PeerDisconnected(peer)) => {
                            peers -= 1;
                            metrics.gossip_peers.set(peers);
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

/// What the mesh makes of a gossiped transaction, from its admission here: one no honest peer
/// would pass on (it does not decode, its signature does not verify, it is for another
/// federation or cell) penalizes the peer that sent it; one that is only known already or no
/// longer fits the state does not, since honest peers race each other and the chain.
fn transaction_verdict(admission: &Result<TxId, AdmissionError>) -> Verdict {
    match admission {
        Ok(_) => Verdict::Accept,
        Err(AdmissionError::Decode(_))
        | Err(AdmissionError::Rejected(
            TxError::BadSignature(_) | TxError::WrongFederation { .. } | TxError::WrongCell { .. },
        )) => Verdict::Reject,
        Err(_) => Verdict::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charter_ledger::crypto::ed25519::Ed25519Error;
    use charter_ledger::transaction::DecodeError;
    use charter_ledger::{CellId, PassportId};

    #[test]
    fn only_transactions_no_honest_peer_would_pass_on_penalize_their_sender() {
        let id = TxId([1; 32]);
        let rejected = |error| Err(AdmissionError::Rejected(error));
        assert_eq!(transaction_verdict(&Ok(id)), Verdict::Accept);
        for invalid in [
            Err(AdmissionError::Decode(DecodeError::Malformed(
                "garbage".into(),
            ))),
            Err(AdmissionError::Decode(DecodeError::Oversized {
                size: 70_000,
                limit: 65_536,
            })),
            rejected(TxError::BadSignature(Ed25519Error::BadSignature)),
            rejected(TxError::WrongCell {
                expected: CellId(0),
                got: CellId(1),
            }),
        ] {
            assert_eq!(
                transaction_verdict(&invalid),
                Verdict::Reject,
                "{invalid:?}"
            );
        }
        for racing in [
            Err(AdmissionError::Duplicate(id)),
            Err(AdmissionError::Full {
                transactions: 1,
                bytes: 1,
            }),
            rejected(TxError::StaleNonce {
                expected: 2,
                got: 1,
            }),
            rejected(TxError::SignerNotController(PassportId([3; 32]))),
        ] {
            assert_eq!(transaction_verdict(&racing), Verdict::Ignore, "{racing:?}");
        }
    }
}
