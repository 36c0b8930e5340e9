//! The guard on checkpoint signatures: a validator never BLS-signs two different checkpoints
//! for one cell and epoch, across crashes and restarts. What it signed is recorded durably
//! before the signature is made, as the consensus signer does for votes.

use crate::checkpoint::Checkpoint;
use charter_durable::write_durably;
use charter_ledger::crypto::bls::{BlsPublicKey, BlsSecretKey, BlsSignature};
use charter_ledger::{CellId, CheckpointId};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CheckpointSignerError {
    #[error("already signed another checkpoint for {cell}, epoch {epoch}")]
    Conflicting { cell: CellId, epoch: u64 },
    #[error("checkpoint signer state {path}: {reason}")]
    State { path: PathBuf, reason: String },
}

pub struct CheckpointSigner {
    key: BlsSecretKey,
    /// The key's public half, which its signatures verify against.
    public_key: BlsPublicKey,
    path: PathBuf,
    /// "cell/epoch" → blake3 of the signed message, in hex.
    signed: BTreeMap<String, String>,
}

fn position(cell: CellId, epoch: u64) -> String {
    format!("{}/{epoch}", cell.0)
}

/// Where a validator with data directory `data_dir` keeps its record.
pub fn record_path(data_dir: &Path) -> PathBuf {
    data_dir.join("checkpoint_signer.json")
}

/// The record at `path`, as written; a missing file means nothing was signed yet, an unreadable
/// one is an error, never a reset.
fn read(path: &Path) -> Result<BTreeMap<String, String>, CheckpointSignerError> {
    let state_error = |reason: String| CheckpointSignerError::State {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| state_error(error.to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(error) => Err(state_error(error.to_string())),
    }
}

/// Every checkpoint the record at `path` says its validator signed, by cell and epoch: what an
/// auditor reads from a stopped validator.
pub fn read_record(
    path: &Path,
) -> Result<BTreeMap<(CellId, u64), CheckpointId>, CheckpointSignerError> {
    let malformed = |entry: &str| CheckpointSignerError::State {
        path: path.to_path_buf(),
        reason: format!("malformed entry {entry}"),
    };
    read(path)?
        .into_iter()
        .map(|(position, id)| {
            let (cell, epoch) = position
                .split_once('/')
                .ok_or_else(|| malformed(&position))?;
            let cell = cell.parse().map_err(|_| malformed(&position))?;
            let epoch = epoch.parse().map_err(|_| malformed(&position))?;
            let id = CheckpointId::from_hex(&id).map_err(|_| malformed(&id))?;
            Ok(((CellId(cell), epoch), id))
        })
        .collect()
}

impl CheckpointSigner {
    /// Opens the signer with its record; a missing file means nothing was signed yet, an
    /// unreadable one is an error, never a reset.
    pub fn open(key: BlsSecretKey, path: &Path) -> Result<Self, CheckpointSignerError> {
        Ok(Self {
            public_key: key.public_key(),
            key,
            path: path.to_path_buf(),
            signed: read(path)?,
        })
    }

    pub fn public_key(&self) -> &BlsPublicKey {
        &self.public_key
    }

    /// The checkpoint this validator signed for `cell` and `epoch`, if any.
    pub fn signed(&self, cell: CellId, epoch: u64) -> Option<CheckpointId> {
        CheckpointId::from_hex(self.signed.get(&position(cell, epoch))?).ok()
    }

    /// Signs `checkpoint` unless another one was signed for its cell and epoch; the same one
    /// again gets the same signature.
    pub fn sign(&mut self, checkpoint: &Checkpoint) -> Result<BlsSignature, CheckpointSignerError> {
        let message = checkpoint.signing_bytes();
        let digest = blake3::hash(&message).to_hex().to_string();
        let position = position(checkpoint.cell, checkpoint.epoch);
        match self.signed.get(&position) {
            Some(signed) if *signed != digest => {
                return Err(CheckpointSignerError::Conflicting {
                    cell: checkpoint.cell,
                    epoch: checkpoint.epoch,
                })
            }
            Some(_) => {}
            None => {
                let mut next = self.signed.clone();
                next.insert(position, digest);
                let bytes = serde_json::to_vec_pretty(&next).expect("a map of strings serializes");
                write_durably(&self.path, &bytes).map_err(|error| {
                    CheckpointSignerError::State {
                        path: self.path.clone(),
                        reason: error.to_string(),
                    }
                })?;
                self.signed = next;
            }
        }
        Ok(self.key.sign(&message))
    }
}
