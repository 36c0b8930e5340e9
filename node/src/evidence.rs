//! Evidence flow: a validator that signs two different votes in one slot, as this node hears
//! them from its consensus peers, is reported in a `Slash` transaction this node signs with its
//! own passport and submits like a client would (so the cell's gossip carries it to whoever
//! proposes next). The ledger checks the evidence again and slashes the offender's bond once
//! per offence; nodes that report the same offence first make the others' reports redundant.

use crate::admission::{Admission, Source};
use crate::metrics::NodeMetrics;
use charter_consensus::context::CellContext;
use charter_consensus::double_votes::{DoubleVoteDetector, HeardVote, HeardVoteError};
use charter_consensus::host::CommittedBlock;
use charter_ledger::crypto::ed25519::{Ed25519Keypair, Ed25519PublicKey};
use charter_ledger::evidence::DoubleVote;
use charter_ledger::state::{ActiveValidators, CellInfo, SpentCase, StateKey, Validator};
use charter_ledger::transaction::SlashEvidence;
use charter_ledger::{Action, Ledger, LedgerError, PassportId, TransactionBody};
use charter_store::StateStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Heights either side of the latest committed one whose votes are compared: votes for a
/// height arrive while it is decided and shortly after (late precommits).
const WATCHED_HEIGHTS: u64 = 16;

pub struct EvidenceReporter {
    pub context: CellContext,
    pub passport: PassportId,
    pub controller: Ed25519Keypair,
    pub ledger: Ledger<StateStore>,
    pub admission: Arc<Admission<StateStore>>,
    pub metrics: Arc<NodeMetrics>,
}

impl EvidenceReporter {
    pub async fn run(
        mut self,
        mut votes: mpsc::Receiver<HeardVote>,
        mut committed: broadcast::Receiver<CommittedBlock>,
    ) {
        let mut detector = DoubleVoteDetector::new(self.context.clone(), WATCHED_HEIGHTS);
        if let Some(height) = self.ledger.height() {
            detector.committed(height);
        }
        // Validators' keys as of the latest block: every vote needs one, and they change only
        // when a block commits; so does how many validators there are.
        let mut keys = BTreeMap::new();
        let mut validators = None;
        loop {
            tokio::select! {
                block = committed.recv() => match block {
                    Ok(block) => {
                        detector.committed(block.height.0);
                        keys.clear();
                        validators = None;
                        if let Err(error) = self.ledger.refresh() {
                            tracing::error!(%error, "reading the ledger for double-vote detection");
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                heard = votes.recv() => {
                    let Some(heard) = heard else { return };
                    if let Err(error) = self.hear(&mut detector, &mut keys, &mut validators, &heard) {
                        tracing::error!(%error, "reading the ledger for double-vote detection");
                    }
                }
            }
        }
    }

    fn hear(
        &mut self,
        detector: &mut DoubleVoteDetector,
        keys: &mut BTreeMap<PassportId, Option<Ed25519PublicKey>>,
        validators: &mut Option<usize>,
        heard: &HeardVote,
    ) -> Result<(), LedgerError> {
        let voter = heard.vote.validator.0;
        let key = match keys.get(&voter) {
            Some(key) => *key,
            None => {
                let key = self
                    .ledger
                    .get::<Validator>(&StateKey::Validator(voter))?
                    .map(|validator| validator.consensus_key);
                keys.insert(voter, key);
                key
            }
        };
        let height = heard.vote.height.0;
        let validators = match validators {
            Some(count) => *count,
            None => *validators.insert(self.validator_count()?),
        };
        match detector.observe(heard, key) {
            Ok(None) => {
                (self.metrics.catch_up).heard(voter, height.saturating_sub(1), validators);
                Ok(())
            }
            Ok(Some(evidence)) => self.report(evidence, voter),
            Err(refused) => {
                // Votes far ahead tell a node catching up how far the cell has gone.
                let ahead =
                    matches!(refused, HeardVoteError::OutOfWindow { to, .. } if height > to);
                if ahead && detector.verify(heard, key).is_ok() {
                    (self.metrics.catch_up).heard(voter, height - 1, validators);
                }
                self.metrics.record_heard_vote_refused(match refused {
                    HeardVoteError::UnknownValidator(_) => "unknown_validator",
                    HeardVoteError::BadSignature(_) => "bad_signature",
                    HeardVoteError::OutOfWindow { .. } => "out_of_window",
                });
                if let HeardVoteError::BadSignature(voter) = refused {
                    tracing::warn!(%voter, "a peer sent a vote whose signature does not verify");
                }
                Ok(())
            }
        }
    }

    /// The validators of the current epoch, as of the latest block.
    fn validator_count(&self) -> Result<usize, LedgerError> {
        let active: Option<ActiveValidators> = self.ledger.get(&StateKey::ActiveValidators)?;
        Ok(active.map_or(0, |active| active.members.len()))
    }

    fn report(&mut self, evidence: DoubleVote, offender: PassportId) -> Result<(), LedgerError> {
        let vote = &evidence.first.vote;
        let spent = StateKey::SpentEvidence(evidence.offence_id());
        if self.ledger.get::<SpentCase>(&spent)?.is_some() {
            return Ok(());
        }
        let cell: CellInfo = self
            .ledger
            .get(&StateKey::Cell)?
            .ok_or(LedgerError::NotInitialized)?;
        tracing::warn!(
            height = vote.height,
            round = vote.round,
            step = ?vote.vote_type,
            %offender,
            "a validator signed two different votes in one slot; reporting it for slashing"
        );
        let slash = |nonce| {
            TransactionBody {
                federation: self.context.federation,
                cell: self.context.cell,
                sender: self.passport,
                nonce,
                fee: cell.params.min_fee,
                action: Action::Slash {
                    evidence: SlashEvidence::DoubleVote(Box::new(evidence)),
                },
            }
            .sign(&self.controller)
        };
        let admitted = self
            .admission
            .admit_own(self.passport, Source::Evidence, slash);
        if let Err(refused) = &admitted {
            tracing::warn!(%refused, "this node's slashing transaction was not admitted");
        }
        self.metrics.record_double_vote(admitted.is_ok());
        Ok(())
    }
}
