//! The one door into the mempool. A client's submission, a transaction gossiped by a peer and
//! this node's own evidence report all pass the same checks (decoding, signature, nonce,
//! balance, the mempool's bounds) against the latest committed state, and are counted by
//! source and verdict. What a client or the evidence reporter submitted here is passed on to
//! the cell's gossip mesh; what a peer gossiped the mesh passes on itself.

use crate::latest_ledger::LatestLedger;
use crate::mempool::{AdmissionError, SharedMempool};
use crate::metrics::NodeMetrics;
use crate::publisher::Publisher;
use charter_ledger::state::{Passport, StateKey};
use charter_ledger::storage::Storage;
use charter_ledger::{Ledger, Nonce, PassportId, SignedTransaction, TxId};
use std::sync::Arc;

/// Where a transaction came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A client, through the API.
    Client,
    /// A peer, on the cell's gossip mesh.
    Gossip,
    /// This node's evidence reporter (a double vote it heard).
    Evidence,
}

impl Source {
    /// The `source` label of the admission metrics.
    fn label(self) -> &'static str {
        match self {
            Source::Client => "client",
            Source::Gossip => "gossip",
            Source::Evidence => "evidence",
        }
    }
}

pub struct Admission<S: Storage> {
    mempool: SharedMempool,
    ledger: LatestLedger<S>,
    metrics: Arc<NodeMetrics>,
    /// The cell's transaction topic.
    gossip: Publisher,
}

impl<S: Storage> Admission<S> {
    pub fn new(
        mempool: SharedMempool,
        ledger: Ledger<S>,
        metrics: Arc<NodeMetrics>,
        gossip: Publisher,
    ) -> Self {
        Self {
            mempool,
            ledger: LatestLedger::new(ledger),
            metrics,
            gossip,
        }
    }

    /// The pool, for reading what it holds.
    pub fn mempool(&self) -> &SharedMempool {
        &self.mempool
    }

    /// Admits a transaction given as its encoded bytes, and counts the verdict.
    pub fn admit(&self, bytes: &[u8], source: Source) -> Result<TxId, AdmissionError> {
        let admitted = {
            let ledger = self.ledger.at_latest()?;
            self.mempool.lock().admit_encoded(bytes, &ledger)
        };
        match &admitted {
            Ok(id) => {
                self.metrics.record_admitted(*id, source.label());
                if source != Source::Gossip && !self.gossip.publish(bytes.to_vec()) {
                    tracing::warn!(%id, "the gossip queue is full; the transaction stays local");
                }
            }
            // A transaction heard again from another peer is not a refusal worth counting.
            Err(AdmissionError::Duplicate(_)) if source == Source::Gossip => {}
            Err(refused) => self.metrics.record_refused(refused.code()),
        }
        admitted
    }

    /// Admits a transaction this node signs itself with `sign(nonce)`, at the sender's next
    /// nonce after the chain's and what the pool already holds of it.
    pub fn admit_own(
        &self,
        sender: PassportId,
        source: Source,
        sign: impl FnOnce(Nonce) -> SignedTransaction,
    ) -> Result<TxId, AdmissionError> {
        let committed = self
            .ledger
            .at_latest()?
            .get::<Passport>(&StateKey::Passport(sender))?
            .map_or(0, |passport| passport.nonce);
        let nonce = self.mempool.lock().next_nonce(&sender, committed);
        self.admit(&sign(nonce).encode(), source)
    }
}
