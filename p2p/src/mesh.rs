use futures::StreamExt;
use libp2p::gossipsub::{MessageAcceptance, MessageId, PeerScoreParams, PeerScoreThresholds};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    gossipsub, identify, identity, multiaddr::Protocol, noise, tcp, yamux, Multiaddr, PeerId, Swarm,
};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// A peer's score below which gossip to and from it is suppressed, below which it is not
/// published to, and below which nothing it sends is processed (it is graylisted).
pub const GOSSIP_SCORE: f64 = -10.0;
pub const PUBLISH_SCORE: f64 = -50.0;
pub const GRAYLIST_SCORE: f64 = -80.0;
/// What one rejected message costs its sender: the penalty is this times the square of the
/// (decaying) count of rejected messages, so three in quick succession graylist it.
const REJECTED_MESSAGE_WEIGHT: f64 = -10.0;
/// How much of the count of rejected messages is kept each second: about a minute to halve.
const REJECTED_MESSAGE_DECAY: f64 = 0.99;

/// How a node joins the mesh.
#[derive(Clone, Debug)]
pub struct MeshConfig {
    /// Where to listen; port 0 picks a free port (reported by [`MeshEvent::Listening`]).
    pub listen: Multiaddr,
    /// Peers to dial and keep dialing, each ending in `/p2p/<peer id>`.
    pub bootstrap: Vec<Multiaddr>,
    /// Gossip topics to subscribe to.
    pub topics: Vec<String>,
    /// Largest message published or accepted, in bytes.
    pub max_message_bytes: usize,
    /// First and longest wait before redialing a lost bootstrap peer.
    pub redial_initial: Duration,
    pub redial_max: Duration,
    /// The protocol version this node announces through identify.
    pub identify_protocol: String,
    /// How this node's messages are authenticated at the gossip layer.
    pub signing: MessageSigning,
}

/// Whether published messages carry a libp2p signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageSigning {
    /// Unsigned, under a random author and sequence number (gossipsub's `RandomAuthor`), and
    /// received messages need no signature: every message on Charter's topics authenticates
    /// itself (transactions by their senders'
    /// signatures, checkpoint signatures, aggregates and certificates by BLS signatures, and
    /// requests need none), so a libp2p signature would only cost its checks, on every copy.
    Unsigned,
    /// Signed with the node's key, as gossipsub's strict mode requires (Malachite's consensus
    /// network uses it).
    Signed,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            listen: "/ip4/127.0.0.1/tcp/0".parse().expect("a valid multiaddr"),
            bootstrap: Vec::new(),
            topics: Vec::new(),
            max_message_bytes: 128 * 1024,
            redial_initial: Duration::from_millis(200),
            redial_max: Duration::from_secs(10),
            identify_protocol: "/charter/1.0.0".into(),
            signing: MessageSigning::Unsigned,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeshEvent {
    Listening(Multiaddr),
    PeerConnected(PeerId),
    PeerDisconnected(PeerId),
    /// A peer subscribed to a topic: from now on it receives what is published there.
    PeerSubscribed {
        peer: PeerId,
        topic: String,
    },
    /// A message within the size limit, relayed by `source` (who wrote it is not known: see
    /// [`MessageSigning`]). It is passed on only once the application reports it valid with
    /// [`Mesh::report`], and `source` is penalized if the application rejects it.
    Message {
        topic: String,
        data: Vec<u8>,
        id: MessageId,
        source: PeerId,
    },
}

/// What the application made of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: kept, and forwarded to the mesh.
    Accept,
    /// Not passed on, but no fault of whoever sent it (already known, or no longer fitting the
    /// state: honest peers race each other).
    Ignore,
    /// Invalid whatever the state, so no honest peer would have sent it: dropped, and the peer
    /// that sent it is penalized.
    Reject,
}

#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    #[error("message is {size} bytes, more than the limit of {limit}")]
    Oversized { size: usize, limit: usize },
    #[error("no peer is subscribed to topic {0} yet")]
    NoPeers(String),
    #[error("publishing failed: {0}")]
    Publish(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the mesh task has stopped")]
    Stopped,
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
}

enum Command {
    Publish {
        topic: String,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), MeshError>>,
    },
    Report {
        id: MessageId,
        source: PeerId,
        verdict: Verdict,
    },
    Score {
        peer: PeerId,
        reply: oneshot::Sender<Option<f64>>,
    },
}

/// A running mesh node. Dropping it stops the swarm and closes its connections.
pub struct Mesh {
    peer_id: PeerId,
    max_message_bytes: usize,
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<MeshEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl Mesh {
    pub fn start(keypair: identity::Keypair, config: MeshConfig) -> Result<Self, MeshError> {
        let config_error = |error: String| MeshError::Config(error);
        let authenticity = match config.signing {
            MessageSigning::Unsigned => gossipsub::MessageAuthenticity::RandomAuthor,
            MessageSigning::Signed => gossipsub::MessageAuthenticity::Signed(keypair.clone()),
        };
        // Permissive: an author and sequence number are read when present (they are part of a
        // message's id), a signature is checked when present, and none of them is required.
        // Self-origin allowed: under a random author, a peer that passes one of this node's
        // messages back to it cannot know it is the author's, so the copy is dropped as a
        // duplicate, not counted against that peer as a forgery of this node's own message.
        let gossip_config = gossipsub::ConfigBuilder::default()
            .max_transmit_size(config.max_message_bytes)
            .validation_mode(gossipsub::ValidationMode::Permissive)
            .allow_self_origin(true)
            .message_id_fn(message_id)
            .validate_messages()
            .heartbeat_interval(Duration::from_secs(1))
            .build()
            .map_err(|error| config_error(error.to_string()))?;
        let identify_protocol = config.identify_protocol.clone();
        let topics = config.topics.clone();
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|error| config_error(error.to_string()))?
            .with_behaviour(|key| {
                let mut gossipsub = gossipsub::Behaviour::new(authenticity, gossip_config)?;
                gossipsub.with_peer_score(peer_score_params(&topics), peer_score_thresholds())?;
                let identify = identify::Behaviour::new(identify::Config::new(
                    identify_protocol.clone(),
                    key.public(),
                ));
                Ok(Behaviour {
                    gossipsub,
                    identify,
                })
            })
            .map_err(|error| config_error(error.to_string()))?
            .with_swarm_config(|swarm| swarm.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        for topic in &config.topics {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&gossipsub::IdentTopic::new(topic))
                .map_err(|error| config_error(error.to_string()))?;
        }
        swarm.listen_on(config.listen.clone()).map_err(|error| {
            // libp2p's transport error keeps the operating system's reason as its source.
            let reason = std::error::Error::source(&error)
                .map_or_else(|| error.to_string(), ToString::to_string);
            config_error(format!("listening on {}: {reason}", config.listen))
        })?;
        let mut bootstrap = BTreeMap::new();
        for address in &config.bootstrap {
            let Some(Protocol::P2p(peer)) = address.iter().last() else {
                return Err(config_error(format!(
                    "bootstrap address {address} does not end in /p2p/<peer id>"
                )));
            };
            bootstrap.insert(
                peer,
                Redial {
                    address: address.clone(),
                    attempts: 0,
                    due: Some(Instant::now()),
                },
            );
        }
        let (commands, command_rx) = mpsc::channel(256);
        let (event_tx, events) = mpsc::channel(1024);
        let peer_id = *swarm.local_peer_id();
        let max_message_bytes = config.max_message_bytes;
        let driver = Driver {
            swarm,
            bootstrap,
            config,
            events: event_tx,
        };
        let task = tokio::spawn(driver.run(command_rx));
        Ok(Self {
            peer_id,
            max_message_bytes,
            commands,
            events,
            task,
        })
    }

    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Publishes `data` on `topic`, signed by this node's key only under [`MessageSigning::Signed`].
    pub async fn publish(&self, topic: &str, data: Vec<u8>) -> Result<(), MeshError> {
        if data.len() > self.max_message_bytes {
            return Err(MeshError::Oversized {
                size: data.len(),
                limit: self.max_message_bytes,
            });
        }
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Publish {
                topic: topic.to_owned(),
                data,
                reply,
            })
            .await
            .map_err(|_| MeshError::Stopped)?;
        answer.await.map_err(|_| MeshError::Stopped)?
    }

    /// Reports what the application made of a delivered message: gossipsub forwards it if
    /// accepted, and penalizes its source if rejected.
    pub async fn report(
        &self,
        id: MessageId,
        source: PeerId,
        verdict: Verdict,
    ) -> Result<(), MeshError> {
        self.commands
            .send(Command::Report {
                id,
                source,
                verdict,
            })
            .await
            .map_err(|_| MeshError::Stopped)
    }

    /// A connected peer's score (`None` for a peer it does not know).
    pub async fn peer_score(&self, peer: PeerId) -> Result<Option<f64>, MeshError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Score { peer, reply })
            .await
            .map_err(|_| MeshError::Stopped)?;
        answer.await.map_err(|_| MeshError::Stopped)
    }

    /// Stops the swarm and waits until its listeners and connections are closed.
    pub async fn shutdown(mut self) {
        self.task.abort();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        // A cancelled task reports `JoinError::Cancelled` once it has been dropped.
        let _ = task.await;
    }

    /// The next event, or `None` once the mesh has stopped.
    pub async fn next_event(&mut self) -> Option<MeshEvent> {
        self.events.recv().await
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A bootstrap peer to keep connected: when the connection is lost it is redialed after a
/// delay that doubles with each failed attempt, up to `redial_max`.
struct Redial {
    address: Multiaddr,
    attempts: u32,
    /// When to dial next; `None` while connected or dialing.
    due: Option<Instant>,
}

struct Driver {
    swarm: Swarm<Behaviour>,
    bootstrap: BTreeMap<PeerId, Redial>,
    config: MeshConfig,
    events: mpsc::Sender<MeshEvent>,
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let next_redial = self
                .bootstrap
                .values()
                .filter_map(|redial| redial.due)
                .min();
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event).await,
                command = commands.recv() => match command {
                    Some(Command::Publish { topic, data, reply }) => {
                        let _ = reply.send(self.publish(&topic, data));
                    }
                    Some(Command::Report { id, source, verdict }) => {
                        let acceptance = match verdict {
                            Verdict::Accept => MessageAcceptance::Accept,
                            Verdict::Ignore => MessageAcceptance::Ignore,
                            Verdict::Reject => MessageAcceptance::Reject,
                        };
                        // False when the message has left the cache meanwhile: nothing to do.
                        self.swarm
                            .behaviour_mut()
                            .gossipsub
                            .report_message_validation_result(&id, &source, acceptance);
                    }
                    Some(Command::Score { peer, reply }) => {
                        let _ = reply.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
                    }
                    None => return,
                },
                _ = tokio::time::sleep_until(next_redial.unwrap_or_else(far_future)), if next_redial.is_some() => {
                    self.dial_due();
                }
            }
        }
    }

    fn publish(&mut self, topic: &str, data: Vec<u8>) -> Result<(), MeshError> {
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(gossipsub::IdentTopic::new(topic), data)
        {
            Ok(_) => Ok(()),
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                Err(MeshError::NoPeers(topic.to_owned()))
            }
            Err(error) => Err(MeshError::Publish(error.to_string())),
        }
    }

    fn dial_due(&mut self) {
        let now = Instant::now();
        for (peer, redial) in self.bootstrap.iter_mut() {
            if redial.due.is_some_and(|due| due <= now) {
                redial.due = None;
                if let Err(error) = self.swarm.dial(redial.address.clone()) {
                    tracing::debug!(%peer, %error, "dial failed to start");
                }
            }
        }
    }

    /// Schedules the next dial of a lost or unreachable bootstrap peer.
    fn schedule_redial(&mut self, peer: &PeerId) {
        let (initial, max) = (self.config.redial_initial, self.config.redial_max);
        if let Some(redial) = self.bootstrap.get_mut(peer) {
            let delay = initial
                .saturating_mul(1 << redial.attempts.min(16))
                .min(max);
            redial.attempts = redial.attempts.saturating_add(1);
            redial.due = Some(Instant::now() + delay);
            tracing::debug!(%peer, ?delay, "redialing bootstrap peer");
        }
    }

    async fn emit(&mut self, event: MeshEvent) {
        // The receiver is gone only when the Mesh handle was dropped, which also ends this task.
        let _ = self.events.send(event).await;
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                self.emit(MeshEvent::Listening(address)).await
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } => {
                if let Some(redial) = self.bootstrap.get_mut(&peer_id) {
                    redial.attempts = 0;
                    redial.due = None;
                }
                if num_established.get() == 1 {
                    self.emit(MeshEvent::PeerConnected(peer_id)).await;
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.schedule_redial(&peer_id);
                self.emit(MeshEvent::PeerDisconnected(peer_id)).await;
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer_id),
                error,
                ..
            } => {
                tracing::debug!(%peer_id, %error, "outgoing connection failed");
                if !self.swarm.is_connected(&peer_id) {
                    self.schedule_redial(&peer_id);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed {
                peer_id,
                topic,
            })) => {
                self.emit(MeshEvent::PeerSubscribed {
                    peer: peer_id,
                    topic: topic.into_string(),
                })
                .await;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                message,
                message_id,
                propagation_source,
            })) => {
                self.emit(MeshEvent::Message {
                    topic: message.topic.into_string(),
                    data: message.data,
                    id: message_id,
                    source: propagation_source,
                })
                .await;
            }
            _ => {}
        }
    }
}

/// A message's id, by which peers tell copies of it apart from other messages: the BLAKE3 hash
/// of its topic, author (a peer id's bytes), sequence number (8 bytes, big-endian, as sent) and
/// data, each preceded by its length as a u32 little-endian (0 when absent). It binds the content, so that a
/// peer cannot have a forged message taken for one it copies the author and sequence number of
/// (nothing checks those), and a republished message is new by its fresh sequence number.
fn message_id(message: &gossipsub::Message) -> MessageId {
    let author = message
        .source
        .map(|peer| peer.to_bytes())
        .unwrap_or_default();
    let sequence = (message.sequence_number.map(u64::to_be_bytes))
        .map_or_else(Vec::new, |bytes| bytes.to_vec());
    let mut hasher = blake3::Hasher::new();
    for part in [
        message.topic.as_str().as_bytes(),
        &author,
        &sequence,
        &message.data,
    ] {
        hasher.update(&(part.len() as u32).to_le_bytes());
        hasher.update(part);
    }
    MessageId::new(hasher.finalize().as_bytes())
}

/// Only rejected messages count against a peer (gossipsub's P4), heavily and slowly forgotten:
/// no quota of deliveries (a quiet cell is not a faulty one), no reward for time in the mesh,
/// and no penalty for sharing an IP address (a local cell's validators all do).
fn peer_score_params(topics: &[String]) -> PeerScoreParams {
    let topic = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: REJECTED_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: REJECTED_MESSAGE_DECAY,
        ..Default::default()
    };
    PeerScoreParams {
        topics: topics
            .iter()
            .map(|name| (gossipsub::IdentTopic::new(name).hash(), topic.clone()))
            .collect(),
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    }
}

fn peer_score_thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: GOSSIP_SCORE,
        publish_threshold: PUBLISH_SCORE,
        graylist_threshold: GRAYLIST_SCORE,
        ..Default::default()
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: PeerId, sequence_number: u64, data: &[u8]) -> gossipsub::Message {
        gossipsub::Message {
            source: Some(author),
            data: data.to_vec(),
            sequence_number: Some(sequence_number),
            topic: gossipsub::IdentTopic::new("charter/test").hash(),
        }
    }

    /// Nothing checks an unsigned message's author and sequence number, so a message copying
    /// them must not share the id of the one it copies; a republished message, with a fresh
    /// sequence number, gets a new id; and every peer computes the same id for one message.
    #[test]
    fn a_message_id_binds_the_content_as_well_as_the_author_and_sequence_number() {
        let author = PeerId::random();
        let original = message(author, 7, b"a batch of transactions");
        assert_eq!(message_id(&original), message_id(&original.clone()));
        let forged = message(author, 7, b"a batch of something else");
        assert_ne!(message_id(&original), message_id(&forged));
        let republished = message(author, 8, b"a batch of transactions");
        assert_ne!(message_id(&original), message_id(&republished));
        let anonymous = gossipsub::Message {
            source: None,
            sequence_number: None,
            ..original.clone()
        };
        assert_ne!(message_id(&original), message_id(&anonymous));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The example in `docs/wire-format.md` §8.
    #[test]
    fn the_documented_message_id_example_holds() {
        let key = identity::Keypair::ed25519_from_bytes([1u8; 32]).expect("a 32-byte seed");
        let author = key.public().to_peer_id();
        let example = message(author, 7, b"a batch of transactions");
        assert_eq!(
            hex(&author.to_bytes()),
            "0024080112208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
        );
        assert_eq!(
            hex(&message_id(&example).0),
            "2a533f80d0cf8256fee307f069db08ee497383c938154d74b9af2e34e8c9e126"
        );
    }
}
