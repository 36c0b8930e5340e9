//! Passes the transactions this node admitted from its clients on to the cell's mesh, many to a
//! message: at most one message leaves every [`MESSAGE_INTERVAL`], with whatever was admitted
//! since the previous one. A loaded node sends fewer, larger messages (each costs every peer
//! the mesh's handling and its admission a batch of signatures to verify), and one that was
//! idle for the interval sends a transaction at once.

use crate::publisher::Publisher;
use crate::submission_batch::{encode_batch, MAX_BATCH_TRANSACTIONS};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Transactions waiting to be passed on; beyond this they stay in this node's mempool only.
const QUEUE: usize = 65_536;
/// A message stops taking transactions past this size, so that with one more transaction of
/// the largest size it stays below the mesh's 1 MiB message limit.
const MESSAGE_BYTES: usize = 768 * 1024;
/// The least time between two messages: what a transaction may wait for company.
const MESSAGE_INTERVAL: Duration = Duration::from_millis(25);

#[derive(Clone)]
pub struct TransactionGossip {
    queue: mpsc::Sender<Vec<u8>>,
}

impl TransactionGossip {
    /// Starts the task that publishes through `publisher`; call it inside the node's runtime.
    pub fn start(publisher: Publisher) -> Self {
        let (queue, queued) = mpsc::channel(QUEUE);
        tokio::spawn(publish_batches(queued, publisher));
        Self { queue }
    }

    /// Queues an encoded transaction; false when the queue is full and it was not.
    pub fn pass_on(&self, transaction: Vec<u8>) -> bool {
        self.queue.try_send(transaction).is_ok()
    }
}

async fn publish_batches(mut queued: mpsc::Receiver<Vec<u8>>, publisher: Publisher) {
    let mut last_sent: Option<Instant> = None;
    while let Some(first) = queued.recv().await {
        if let Some(sent) = last_sent {
            tokio::time::sleep_until(sent + MESSAGE_INTERVAL).await;
        }
        let mut bytes = first.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_TRANSACTIONS && bytes < MESSAGE_BYTES {
            let Ok(next) = queued.try_recv() else { break };
            bytes += next.len();
            batch.push(next);
        }
        last_sent = Some(Instant::now());
        if !publisher.publish(encode_batch(&batch)) {
            tracing::warn!(
                transactions = batch.len(),
                "the gossip queue is full; these transactions stay local"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submission_batch::decode_batch;

    #[tokio::test(start_paused = true)]
    async fn what_is_admitted_within_an_interval_leaves_in_one_message() {
        let (outbound, mut published) = mpsc::channel(16);
        let publisher = Publisher::new("transactions", outbound);
        let (queue, queued) = mpsc::channel(QUEUE);
        for transaction in [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()] {
            queue.try_send(transaction).unwrap();
        }
        tokio::spawn(publish_batches(queued, publisher));
        let (topic, message) = published.recv().await.unwrap();
        let first_sent = Instant::now();
        assert_eq!(topic, "transactions");
        assert_eq!(
            decode_batch(&message).unwrap(),
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
        queue.try_send(b"four".to_vec()).unwrap();
        tokio::task::yield_now().await;
        queue.try_send(b"five".to_vec()).unwrap();
        let (_, message) = published.recv().await.unwrap();
        assert_eq!(
            decode_batch(&message).unwrap(),
            vec![b"four".to_vec(), b"five".to_vec()]
        );
        assert_eq!(Instant::now() - first_sent, MESSAGE_INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_transaction_after_a_quiet_interval_leaves_at_once() {
        let (outbound, mut published) = mpsc::channel(16);
        let (queue, queued) = mpsc::channel(QUEUE);
        tokio::spawn(publish_batches(
            queued,
            Publisher::new("transactions", outbound),
        ));
        queue.try_send(b"one".to_vec()).unwrap();
        published.recv().await.unwrap();
        tokio::time::sleep(MESSAGE_INTERVAL * 3).await;
        let arrived = Instant::now();
        queue.try_send(b"two".to_vec()).unwrap();
        let (_, message) = published.recv().await.unwrap();
        assert_eq!(decode_batch(&message).unwrap(), vec![b"two".to_vec()]);
        assert_eq!(Instant::now(), arrived);
    }

    #[tokio::test]
    async fn a_message_stays_within_the_batch_limits() {
        let (outbound, mut published) = mpsc::channel(16);
        let (queue, queued) = mpsc::channel(QUEUE);
        let large = vec![7u8; 60_000];
        for _ in 0..20 {
            queue.try_send(large.clone()).unwrap();
        }
        for _ in 0..(MAX_BATCH_TRANSACTIONS + 5) {
            queue.try_send(b"small".to_vec()).unwrap();
        }
        drop(queue);
        publish_batches(queued, Publisher::new("transactions", outbound)).await;
        let mut counts = Vec::new();
        while let Ok((_, message)) = published.try_recv() {
            assert!(message.len() < 1024 * 1024, "{} bytes", message.len());
            counts.push(decode_batch(&message).unwrap().len());
        }
        assert_eq!(
            counts.iter().sum::<usize>(),
            20 + MAX_BATCH_TRANSACTIONS + 5
        );
        assert!(counts.iter().all(|count| *count <= MAX_BATCH_TRANSACTIONS));
    }
}
