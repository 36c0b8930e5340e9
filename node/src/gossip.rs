//! The node's libp2p mesh (the `p2p` crate) and what travels on it: a cell's transactions,
//! which every validator passes on so that any validator's proposal can include them (each
//! goes through the same admission as a client's submission), and — in a federation — the
//! checkpoint signatures and certificates that make checkpoints final.

use crate::admission::{Admission, Source};
use crate::config::GossipSection;
use crate::mempool::AdmissionError;
use crate::metrics::NodeMetrics;
use crate::publisher::Publisher;
use crate::submission_batch::decode_batch;
use charter_ledger::storage::Storage;
use charter_ledger::{CellId, FederationId, PassportId};
use charter_ledger::{TxError, TxId};
use charter_p2p::{Mesh, MeshConfig, MeshError, MeshEvent, MessageId, PeerId, Verdict};
use libp2p::identity::Keypair;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Messages waiting to be published; beyond this they are dropped (a transaction then stays
/// in this node's mempool only).
pub const OUTBOUND_QUEUE: usize = 4_096;
/// Verdicts waiting to be reported to the mesh.
const VERDICT_QUEUE: usize = 4_096;
/// Largest message on any topic: a checkpoint certificate of a large federation is the biggest.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The topic a cell's transactions travel on.
pub fn transactions_topic(federation: &FederationId, cell: CellId) -> String {
    format!(
        "charter/{}/cell/{}/transactions/v2",
        federation.to_hex(),
        cell.0
    )
}

/// The topic every node of a federation subscribes to: the final certificates that hand over
/// a new set, equivocation proofs, and requests for a cell's hand-overs.
pub fn checkpoints_topic(federation: &FederationId) -> String {
    format!("charter/{}/checkpoints/v1", federation.to_hex())
}

/// The topic of one cell's final certificates, and of requests for them: its own nodes and
/// the nodes that follow it subscribe. Certificates that hand over a new set also go on the
/// federation's topic ([`checkpoints_topic`]).
pub fn certificates_topic(federation: &FederationId, cell: CellId) -> String {
    format!(
        "charter/{}/cell/{}/certificates/v1",
        federation.to_hex(),
        cell.0
    )
}

/// The topic of one cell's part in finality: its aggregates on its own checkpoints, the
/// aggregates of cells whose checkpoints it co-signs, and its committees' aggregates on its
/// own checkpoints. Only the cell's nodes subscribe.
pub fn cell_checkpoints_topic(federation: &FederationId, cell: CellId) -> String {
    format!(
        "charter/{}/cell/{}/checkpoints/v1",
        federation.to_hex(),
        cell.0
    )
}

/// The topic a validator of `cell` collects its cell's checkpoint signatures on, as one of
/// their aggregators: only that validator subscribes, and its cell's validators publish their
/// signature on a checkpoint to the topics of that checkpoint's aggregators alone, so that no
/// other node receives or checks it. A cell's validators are directly connected (consensus
/// needs it too), which is what lets a topic of one subscriber reach it.
pub fn aggregator_topic(federation: &FederationId, cell: CellId, validator: &PassportId) -> String {
    format!(
        "charter/{}/cell/{}/aggregator/{}/v1",
        federation.to_hex(),
        cell.0,
        validator.to_hex()
    )
}

/// A message heard on a topic whose verdict comes later, from the part that checks it.
pub struct Heard {
    pub data: Vec<u8>,
    pub id: MessageId,
    pub source: PeerId,
}

/// Where a part reports its verdict on a message it was [`Heard`]: the mesh then passes it on,
/// drops it, or drops it and penalizes the peer that sent it.
pub type Verdicts = mpsc::Sender<(MessageId, PeerId, Verdict)>;

/// The mesh, before the parts that use it are built.
pub struct Gossip {
    outbound: mpsc::Sender<(String, Vec<u8>)>,
    receiver: mpsc::Receiver<(String, Vec<u8>)>,
    verdicts: Verdicts,
    verdicts_receiver: mpsc::Receiver<(MessageId, PeerId, Verdict)>,
}

impl Default for Gossip {
    fn default() -> Self {
        let (outbound, receiver) = mpsc::channel(OUTBOUND_QUEUE);
        let (verdicts, verdicts_receiver) = mpsc::channel(VERDICT_QUEUE);
        Self {
            outbound,
            receiver,
            verdicts,
            verdicts_receiver,
        }
    }
}

impl Gossip {
    pub fn publisher(&self, topic: &str) -> Publisher {
        Publisher::new(topic, self.outbound.clone())
    }

    pub fn verdicts(&self) -> Verdicts {
        self.verdicts.clone()
    }

    /// Starts the mesh: transactions heard on `transactions` go to admission, and whatever
    /// arrives on `checkpoints` (when the node is in a federation) to `finality`.
    pub fn start<S: Storage + 'static>(
        self,
        keypair: Keypair,
        config: &GossipSection,
        transactions: String,
        checkpoints: Option<(Vec<String>, mpsc::Sender<Heard>)>,
        admission: Arc<Admission<S>>,
        metrics: Arc<NodeMetrics>,
    ) -> Result<tokio::task::JoinHandle<()>, MeshError> {
        let mut topics = vec![transactions.clone()];
        topics.extend(
            checkpoints
                .iter()
                .flat_map(|(topics, _)| topics.iter().cloned()),
        );
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
        let mut verdicts = self.verdicts_receiver;
        Ok(tokio::spawn(async move {
            let mut peers: i64 = 0;
            // A node outside a federation has no finality to send verdicts: once every sender
            // is gone the branch is off, or its `None` would be ready on every turn.
            let mut verdicts_open = true;
            loop {
                tokio::select! {
                    event = mesh.next_event() => match event {
                        Some(MeshEvent::Message { topic, data, id, source }) => {
                            let verdict = if topic == transactions {
                                Some(admit_heard(&admission, &metrics, &data, &source))
                            } else {
                                let finality = checkpoints.as_ref().filter(|(names, _)| names.contains(&topic));
                                let heard = Heard { data, id: id.clone(), source };
                                pass_to_finality(finality.map(|(_, finality)| finality), heard)
                            };
                            if let Some(verdict) = verdict {
                                if report(&mesh, &metrics, id, source, verdict).await.is_err() {
                                    return;
                                }
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
                    verdict = verdicts.recv(), if verdicts_open => match verdict {
                        Some((id, source, verdict)) => {
                            if report(&mesh, &metrics, id, source, verdict).await.is_err() {
                                return;
                            }
                        }
                        None => verdicts_open = false,
                    },
                    message = outbound.recv() => match message {
                        Some((topic, message)) => match mesh.publish(&topic, message).await {
                            Ok(()) => {}
                            // Alone for now: what was published still takes effect here.
                            Err(MeshError::NoPeers(topic)) => {
                                tracing::debug!(topic, "no peer on the topic; not sent");
                            }
                            Err(error) => tracing::warn!(%error, topic, "publishing failed"),
                        },
                        None => return,
                    },
                }
            }
        }))
    }
}

/// Hands a checkpoint message to finality, which reports its verdict once it has checked it;
/// the verdict now when it cannot (no finality here, or finality too far behind).
fn pass_to_finality(finality: Option<&mpsc::Sender<Heard>>, heard: Heard) -> Option<Verdict> {
    match finality.map(|finality| finality.try_send(heard).is_ok()) {
        Some(true) => None,
        Some(false) => {
            tracing::warn!("finality is behind; dropping a checkpoint message");
            Some(Verdict::Ignore)
        }
        None => Some(Verdict::Ignore),
    }
}

/// Tells the mesh what to do with a message, counting a penalty.
async fn report(
    mesh: &Mesh,
    metrics: &NodeMetrics,
    id: MessageId,
    source: PeerId,
    verdict: Verdict,
) -> Result<(), MeshError> {
    if verdict == Verdict::Reject {
        metrics.gossip_penalties.inc();
    }
    mesh.report(id, source, verdict).await
}

/// Admits a batch of transactions heard on the cell's topic, and says what the mesh makes of
/// the message.
fn admit_heard<S: Storage>(
    admission: &Admission<S>,
    metrics: &NodeMetrics,
    message: &[u8],
    source: &PeerId,
) -> Verdict {
    let transactions = match decode_batch(message) {
        Ok(transactions) => transactions,
        Err(refused) => {
            tracing::debug!(%source, %refused, "gossiped batch not decoded");
            metrics.record_refused(refused.code());
            return Verdict::Reject;
        }
    };
    let verdicts = admission.admit_batch(&transactions, Source::Gossip);
    for refused in verdicts.iter().filter_map(|verdict| verdict.as_ref().err()) {
        tracing::debug!(%source, %refused, "gossiped transaction not admitted");
    }
    batch_verdict(&verdicts)
}

/// What the mesh makes of a gossiped batch, from the admission of its transactions here: one
/// no honest peer would pass on (a transaction that does not decode, whose signature does not
/// verify, or that is for another federation or cell) penalizes the peer that sent it; one
/// whose transactions are only known already or no longer fit the state does not, since honest
/// peers race each other and the chain.
fn batch_verdict(admissions: &[Result<TxId, AdmissionError>]) -> Verdict {
    let verdicts: Vec<Verdict> = admissions.iter().map(transaction_verdict).collect();
    if verdicts.contains(&Verdict::Reject) {
        Verdict::Reject
    } else if verdicts.contains(&Verdict::Accept) {
        Verdict::Accept
    } else {
        Verdict::Ignore
    }
}

/// The same for one transaction.
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

    #[test]
    fn a_batch_with_one_transaction_no_honest_peer_would_pass_on_penalizes_its_sender() {
        let id = TxId([1; 32]);
        let known = || Err(AdmissionError::Duplicate(id));
        let forged = || {
            Err(AdmissionError::Rejected(TxError::BadSignature(
                Ed25519Error::BadSignature,
            )))
        };
        assert_eq!(batch_verdict(&[known(), Ok(id), known()]), Verdict::Accept);
        assert_eq!(batch_verdict(&[known(), known()]), Verdict::Ignore);
        assert_eq!(batch_verdict(&[]), Verdict::Ignore);
        assert_eq!(batch_verdict(&[Ok(id), forged(), known()]), Verdict::Reject);
    }
}
