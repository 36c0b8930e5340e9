//! The way out to the gossip mesh for the parts that publish on it (the API passing on what
//! clients submit, finality its signatures): a queue the mesh task drains.

use tokio::sync::mpsc;

/// Publishes on one topic through the mesh task.
#[derive(Clone)]
pub struct Publisher {
    topic: String,
    outbound: mpsc::Sender<(String, Vec<u8>)>,
}

impl Publisher {
    pub fn new(topic: &str, outbound: mpsc::Sender<(String, Vec<u8>)>) -> Self {
        Self {
            topic: topic.to_string(),
            outbound,
        }
    }

    /// A publisher on `topic` through the same mesh task.
    pub fn to(&self, topic: &str) -> Self {
        Self::new(topic, self.outbound.clone())
    }

    /// Queues `message`; false when the queue is full and it was dropped.
    pub fn publish(&self, message: Vec<u8>) -> bool {
        self.outbound
            .try_send((self.topic.clone(), message))
            .is_ok()
    }
}
