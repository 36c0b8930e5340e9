//! The one door into the mempool. A client's submission, a transaction gossiped by a peer and
//! this node's own evidence report all pass the same checks (decoding, signature, nonce,
//! balance, the mempool's bounds) against the latest committed state, and are counted by
//! source and verdict. What a client or the evidence reporter submitted here is passed on to
//! the cell's gossip mesh; what a peer gossiped the mesh passes on itself.

use crate::latest_ledger::LatestLedger;
use crate::mempool::{AdmissionError, SharedMempool};
use crate::metrics::NodeMetrics;
use crate::transaction_gossip::TransactionGossip;
use charter_ledger::execution::VerifiedSignatures;
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
    verified: VerifiedSignatures,
    ledger: LatestLedger<S>,
    metrics: Arc<NodeMetrics>,
    /// The cell's transaction topic.
    gossip: TransactionGossip,
}

impl<S: Storage> Admission<S> {
    pub fn new(
        mempool: SharedMempool,
        ledger: Ledger<S>,
        metrics: Arc<NodeMetrics>,
        gossip: TransactionGossip,
    ) -> Self {
        let verified = mempool.lock().verified().clone();
        Self {
            mempool,
            verified,
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
        let [verdict] = <[_; 1]>::try_from(self.admit_batch(&[bytes], source))
            .expect("one verdict per transaction");
        verdict
    }

    /// Admits encoded transactions in order, each on its own as [`Admission::admit`] would, with
    /// their signatures verified in one batch first, and counts each verdict. What a client or
    /// this node submitted leaves for the mesh together.
    pub fn admit_batch(
        &self,
        encoded: &[impl AsRef<[u8]>],
        source: Source,
    ) -> Vec<Result<TxId, AdmissionError>> {
        let mut verdicts: Vec<Option<Result<TxId, AdmissionError>>> =
            encoded.iter().map(|_| None).collect();
        let mut decoded = Vec::with_capacity(encoded.len());
        let mut positions = Vec::with_capacity(encoded.len());
        for (position, bytes) in encoded.iter().enumerate() {
            match SignedTransaction::decode(bytes.as_ref()) {
                Ok(transaction) => {
                    decoded.push(transaction);
                    positions.push(position);
                }
                Err(error) => verdicts[position] = Some(Err(error.into())),
            }
        }
        let checked = self.verified.check_all(&decoded);
        match self.ledger.at_latest() {
            Ok(ledger) => {
                let mut mempool = self.mempool.lock();
                for (position, checked) in positions.into_iter().zip(&checked) {
                    verdicts[position] = Some(mempool.admit_checked(checked, &ledger));
                }
            }
            Err(error) => {
                for position in positions {
                    verdicts[position] = Some(Err(AdmissionError::Ledger(error.clone())));
                }
            }
        }
        let verdicts: Vec<_> = verdicts.into_iter().flatten().collect();
        debug_assert_eq!(verdicts.len(), encoded.len());
        if verdicts.iter().any(Result::is_ok) {
            self.mempool.announce_arrivals();
        }
        for (bytes, verdict) in encoded.iter().zip(&verdicts) {
            self.count(bytes.as_ref(), verdict, source);
        }
        verdicts
    }

    fn count(&self, bytes: &[u8], verdict: &Result<TxId, AdmissionError>, source: Source) {
        match verdict {
            Ok(id) => {
                self.metrics.record_admitted(*id, source.label());
                if source != Source::Gossip && !self.gossip.pass_on(bytes.to_vec()) {
                    tracing::warn!(%id, "the gossip queue is full; the transaction stays local");
                }
            }
            // A transaction heard again from another peer is not a refusal worth counting.
            Err(AdmissionError::Duplicate(_)) if source == Source::Gossip => {}
            Err(refused) => self.metrics.record_refused(refused.code()),
        }
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
