//! The node's part in federation finality. At the end of each epoch of its own cell it builds
//! the checkpoint from what it committed and, as a validator, signs it (guarded: never two
//! checkpoints for one cell and epoch); it co-signs other cells' checkpoints once their own
//! cell has vouched for them; it collects every signature heard on the federation topic,
//! publishes the certificate when one becomes final, and keeps final certificates (and any
//! equivocation proof) on disk so that its view of the federation survives restarts.

use crate::gossip::Publisher;
use anyhow::{Context, Result};
use borsh::BorshDeserialize;
use charter_consensus::checkpoint::{CellValidators, Checkpoint, CheckpointCertificate};
use charter_consensus::checkpoint_signer::CheckpointSigner;
use charter_consensus::finality::{Added, Collector, FederationMessage};
use charter_consensus::host::CommittedBlock;
use charter_ledger::state::{ActiveValidators, CellInfo, StateKey};
use charter_ledger::storage::RocksStorage;
use charter_ledger::{CellId, Ledger, LedgerError, PassportId};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// Messages from the federation topic waiting to be handled.
pub const INBOUND_QUEUE: usize = 4_096;

pub struct Finality {
    pub collector: Arc<Mutex<Collector>>,
    /// This validator's identity and guarded BLS signer.
    pub cell: CellId,
    pub passport: PassportId,
    pub signer: CheckpointSigner,
    /// A read-only handle on the ledger consensus commits to.
    pub ledger: Ledger<Arc<RocksStorage>>,
    pub publisher: Publisher,
    /// Where final certificates and equivocation proofs are kept.
    pub store: PathBuf,
}

/// Opens the collector on the federation genesis and the certificates kept from earlier runs.
pub fn restore(genesis: &std::path::Path, store: &std::path::Path) -> Result<Collector> {
    let view = serde_json::from_str(
        &std::fs::read_to_string(genesis)
            .with_context(|| format!("reading {}", genesis.display()))?,
    )
    .with_context(|| format!("parsing {}", genesis.display()))?;
    let mut collector = Collector::new(view);
    std::fs::create_dir_all(store)?;
    let mut kept: Vec<CheckpointCertificate> = Vec::new();
    for entry in std::fs::read_dir(store)? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            kept.push(serde_json::from_str(&std::fs::read_to_string(&path)?)?);
        }
    }
    kept.sort_by_key(|certificate| certificate.checkpoint.epoch);
    for certificate in &kept {
        if let Err(error) = collector.add_certificate(certificate) {
            tracing::warn!(%error, "a kept certificate no longer verifies");
        }
    }
    Ok(collector)
}

impl Finality {
    fn collector(&self) -> std::sync::MutexGuard<'_, Collector> {
        self.collector
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The validator set in force at `height` (the ledger keeps every height's state).
    fn validators_at(&self, height: u64) -> Result<CellValidators, LedgerError> {
        let (value, _) = self
            .ledger
            .get_with_proof(&StateKey::ActiveValidators, height)?;
        let active: ActiveValidators = value
            .as_deref()
            .map(borsh::from_slice)
            .transpose()
            .map_err(|error| {
                charter_ledger::storage::StorageError::Corrupt(format!("validator set: {error}"))
            })?
            .unwrap_or_default();
        Ok(CellValidators::from(&active))
    }

    /// The checkpoint of the epoch `block` ends, if it ends one.
    fn checkpoint_of(&mut self, block: &CommittedBlock) -> Result<Option<Checkpoint>> {
        self.ledger.refresh()?;
        let cell: CellInfo = self
            .ledger
            .get(&StateKey::Cell)?
            .context("the ledger has no cell")?;
        let height = block.height.0;
        let epoch_length = cell.params.epoch_length;
        if !height.is_multiple_of(epoch_length) {
            return Ok(None);
        }
        Ok(Some(Checkpoint {
            federation: cell.federation,
            cell: cell.cell,
            epoch: height / epoch_length,
            height,
            block: block.hash,
            state_root: block.state_root,
            // The set elected at the end of the previous epoch certified this one; the set
            // elected at this block's end certifies the next.
            validators: self.validators_at(height - 1)?.hash(),
            next_validators: self.validators_at(height)?,
        }))
    }

    /// Signs (if the guard allows), collects our own signature and publishes it.
    fn sign(&mut self, checkpoint: &Checkpoint) {
        let signature = match self.signer.sign(checkpoint) {
            Ok(signature) => signature,
            Err(error) => {
                tracing::warn!(%error, "not signing the checkpoint");
                return;
            }
        };
        let added = self
            .collector()
            .add_signature(checkpoint, self.cell, self.passport, signature);
        match added {
            Ok(Some(certificate)) => self.keep_and_publish(&certificate),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "our own checkpoint signature was not collected"),
        }
        let message = FederationMessage::Signature {
            checkpoint: checkpoint.clone(),
            cell: self.cell,
            signer: self.passport,
            signature,
        };
        self.publish(&message);
    }

    fn publish(&self, message: &FederationMessage) {
        let bytes = borsh::to_vec(message).expect("writing to a Vec cannot fail");
        if !self.publisher.publish(bytes) {
            tracing::warn!("the gossip queue is full; a checkpoint message was dropped");
        }
    }

    fn keep(&self, name: &str, value: &impl serde::Serialize) {
        let path = self.store.join(name);
        let written = serde_json::to_vec_pretty(value)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&path, bytes));
        if let Err(error) = written {
            tracing::error!(%error, path = %path.display(), "could not keep a certificate");
        }
    }

    fn keep_and_publish(&self, certificate: &CheckpointCertificate) {
        let checkpoint = &certificate.checkpoint;
        tracing::info!(
            cell = checkpoint.cell.0,
            epoch = checkpoint.epoch,
            height = checkpoint.height,
            "checkpoint final"
        );
        self.keep(
            &format!("{}-{}.json", checkpoint.cell.0, checkpoint.epoch),
            certificate,
        );
        self.publish(&FederationMessage::Certificate(certificate.clone()));
    }

    fn handle(&mut self, bytes: &[u8]) {
        let message = match FederationMessage::try_from_slice(bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, "undecodable federation message");
                return;
            }
        };
        match message {
            FederationMessage::Signature {
                checkpoint,
                cell,
                signer,
                signature,
            } => {
                let added = self
                    .collector()
                    .add_signature(&checkpoint, cell, signer, signature);
                match added {
                    Ok(Some(certificate)) => self.keep_and_publish(&certificate),
                    Ok(None) => {
                        // Co-sign another cell's checkpoint once its own cell vouched for it.
                        let vouched = checkpoint.cell != self.cell
                            && self.collector().origin_vouches(&checkpoint);
                        if vouched {
                            self.sign(&checkpoint);
                        }
                    }
                    Err(error) => tracing::debug!(%error, "checkpoint signature not collected"),
                }
            }
            FederationMessage::Certificate(certificate) => {
                let added = self.collector().add_certificate(&certificate);
                let checkpoint = &certificate.checkpoint;
                match added {
                    Ok(Added::Final) => self.keep(
                        &format!("{}-{}.json", checkpoint.cell.0, checkpoint.epoch),
                        &certificate,
                    ),
                    Ok(Added::Known) => {}
                    Ok(Added::Equivocation) => {
                        tracing::error!(
                            cell = checkpoint.cell.0,
                            epoch = checkpoint.epoch,
                            "two final checkpoints for one epoch: the cell is quarantined"
                        );
                        self.keep(
                            &format!(
                                "equivocation-{}-{}.json",
                                checkpoint.cell.0, checkpoint.epoch
                            ),
                            &certificate,
                        );
                    }
                    Err(error) => tracing::debug!(%error, "certificate not taken"),
                }
            }
        }
    }

    /// Runs until the node stops: checkpoints at our cell's epoch ends, and whatever the
    /// federation topic brings.
    pub async fn run(
        mut self,
        mut committed: broadcast::Receiver<CommittedBlock>,
        mut inbound: mpsc::Receiver<Vec<u8>>,
    ) {
        loop {
            tokio::select! {
                block = committed.recv() => match block {
                    Ok(block) => match self.checkpoint_of(&block) {
                        Ok(Some(checkpoint)) => self.sign(&checkpoint),
                        Ok(None) => {}
                        Err(error) => tracing::error!(%error, "building the checkpoint failed"),
                    },
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "finality fell behind the committed blocks");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                message = inbound.recv() => match message {
                    Some(bytes) => self.handle(&bytes),
                    None => return,
                },
            }
        }
    }
}
