//! # charter-p2p
//!
//! The cell and federation mesh on libp2p: TCP with Noise (every connection authenticates the
//! peer's key) and Yamux, gossipsub with strictly validated signed messages that are passed on
//! only once the application accepts them, peer scoring that graylists a peer whose messages
//! the application rejects, identify, bootstrap peers from configuration with reconnection and
//! exponential backoff, and a size limit on every message, enforced both when publishing and
//! when receiving.
//!
//! The swarm runs on its own task; the rest of the node talks to it only through [`Mesh`]
//! (commands in, [`MeshEvent`]s out), so consensus and the mempool never touch libp2p.

mod mesh;

pub use libp2p::gossipsub::MessageId;
pub use libp2p::identity::Keypair;
pub use libp2p::{Multiaddr, PeerId};
pub use mesh::{
    Mesh, MeshConfig, MeshError, MeshEvent, MessageSigning, Verdict, GOSSIP_SCORE, GRAYLIST_SCORE,
    PUBLISH_SCORE,
};
