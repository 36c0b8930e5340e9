//! Where a node keeps what it learned of the federation: each final certificate, and the second
//! certificate of each equivocation, as one JSON file in `DATA/federation`. The node's view of
//! the federation survives restarts through it, and an auditor reads a stopped node's view from
//! it the same way.
//!
//! It also keeps, in `own-hand-overs.json`, its own cell's checkpoints that hand over a new
//! validator set and are not final yet ([`OwnHandOver`]), which the node signs again until they
//! are, across restarts.
//!
//! Final certificates are numbered in the order they became final here, and restored in that
//! order: a certificate is verified against the validator sets its cells had when it became
//! final, and a cell's hand-over can come between two of another cell's certificates, so epoch
//! order would not do.

use charter_durable::write_durably;
use charter_federation::checkpoint::{CellValidators, Checkpoint, CheckpointCertificate};
use charter_federation::collector::Collector;
use charter_ledger::CellId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

const FINAL_PREFIX: &str = "final-";
const OWN_HAND_OVERS: &str = "own-hand-overs.json";
/// Names the file that keeps the second certificate of an equivocation.
const EQUIVOCATION_PREFIX: &str = "equivocation-";

fn final_file(sequence: u64, cell: CellId, epoch: u64) -> String {
    format!("{FINAL_PREFIX}{sequence:012}-{}-{epoch}.json", cell.0)
}

fn equivocation_file(cell: CellId, epoch: u64) -> String {
    format!("{EQUIVOCATION_PREFIX}{}-{epoch}.json", cell.0)
}

/// A final certificate's file: its sequence number, cell and epoch.
fn parse_final_file(name: &str) -> Option<(u64, CellId, u64)> {
    let mut parts = name
        .strip_prefix(FINAL_PREFIX)?
        .strip_suffix(".json")?
        .split('-');
    let sequence = parts.next()?.parse().ok()?;
    let cell = CellId(parts.next()?.parse().ok()?);
    let epoch = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((sequence, cell, epoch))
}

#[derive(Debug, thiserror::Error)]
pub enum FederationStoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Genesis {
        path: PathBuf,
        source: charter_federation::checkpoint::CheckpointError,
    },
}

/// A checkpoint of the node's own cell that hands over a new validator set, with that set.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OwnHandOver {
    pub checkpoint: Checkpoint,
    pub next_set: CellValidators,
}

pub struct FederationStore {
    dir: PathBuf,
    /// Each final certificate kept, by cell and epoch, with its file's sequence number, and the
    /// number the next one gets: read from the directory once, kept in step after.
    finals: Mutex<Finals>,
}

#[derive(Default)]
struct Finals {
    kept: BTreeMap<(CellId, u64), u64>,
    next_sequence: u64,
}

impl FederationStore {
    /// The store of the node whose data directory is `data_dir`, created if missing.
    pub fn open(data_dir: &Path) -> Result<Self, FederationStoreError> {
        let dir = data_dir.join("federation");
        std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let mut finals = Finals::default();
        for (name, _) in json_files(&dir)? {
            if let Some((sequence, cell, epoch)) = parse_final_file(&name) {
                finals.kept.insert((cell, epoch), sequence);
                finals.next_sequence = finals.next_sequence.max(sequence + 1);
            }
        }
        Ok(Self {
            dir,
            finals: Mutex::new(finals),
        })
    }

    fn finals(&self) -> MutexGuard<'_, Finals> {
        self.finals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The collector on the federation genesis at `genesis` and every certificate kept: final
    /// ones in the order they became final, then the second certificates of equivocations. A
    /// kept certificate that no longer verifies, or is not in this version's format (one kept
    /// by a version whose certificates this one cannot verify), is left out with a warning and
    /// left on disk; the node asks its peers for what it lacks.
    pub fn restore(&self, genesis: &Path) -> Result<Collector, FederationStoreError> {
        let view = serde_json::from_slice(&std::fs::read(genesis).map_err(io_at(genesis))?)
            .map_err(json_at(genesis))?;
        let mut collector =
            Collector::new(&view).map_err(|source| FederationStoreError::Genesis {
                path: genesis.to_path_buf(),
                source,
            })?;
        let mut finals: Vec<(u64, PathBuf)> = Vec::new();
        let mut seconds: Vec<PathBuf> = Vec::new();
        for (name, path) in json_files(&self.dir)? {
            if let Some((sequence, ..)) = parse_final_file(&name) {
                finals.push((sequence, path));
            } else if name.starts_with(EQUIVOCATION_PREFIX) {
                seconds.push(path);
            }
        }
        finals.sort();
        seconds.sort();
        let kept = finals.into_iter().map(|(_, path)| path).chain(seconds);
        for path in kept {
            let bytes = std::fs::read(&path).map_err(io_at(&path))?;
            let certificate: CheckpointCertificate = match serde_json::from_slice(&bytes) {
                Ok(certificate) => certificate,
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "a kept certificate is not in this version's format");
                    continue;
                }
            };
            if let Err(error) = collector.add_certificate(&certificate) {
                tracing::warn!(%error, path = %path.display(), "a kept certificate no longer verifies");
            }
        }
        Ok(collector)
    }

    /// Keeps `certificate` as the final one for its cell and epoch, after every final one kept
    /// before it (replacing any other kept for that cell and epoch: a ruling's choice).
    pub fn keep_final(
        &self,
        certificate: &CheckpointCertificate,
    ) -> Result<(), FederationStoreError> {
        let position = (certificate.checkpoint.cell, certificate.checkpoint.epoch);
        let mut finals = self.finals();
        self.remove_final(&mut finals, position)?;
        let sequence = finals.next_sequence;
        finals.next_sequence += 1;
        self.keep(&final_file(sequence, position.0, position.1), certificate)?;
        finals.kept.insert(position, sequence);
        Ok(())
    }

    /// Keeps `certificate` as the second, conflicting certificate for its cell and epoch.
    pub fn keep_equivocation(
        &self,
        certificate: &CheckpointCertificate,
    ) -> Result<(), FederationStoreError> {
        let checkpoint = &certificate.checkpoint;
        self.keep(
            &equivocation_file(checkpoint.cell, checkpoint.epoch),
            certificate,
        )
    }

    /// Forgets the final certificate of `cell` at `epoch` (a ruling dropped it), if kept.
    pub fn drop_final(&self, cell: CellId, epoch: u64) -> Result<(), FederationStoreError> {
        self.remove_final(&mut self.finals(), (cell, epoch))
    }

    fn remove_final(
        &self,
        finals: &mut Finals,
        position: (CellId, u64),
    ) -> Result<(), FederationStoreError> {
        if let Some(sequence) = finals.kept.remove(&position) {
            let path = self.dir.join(final_file(sequence, position.0, position.1));
            std::fs::remove_file(&path).map_err(io_at(&path))?;
        }
        Ok(())
    }

    /// The own cell's hand-overs kept as not final yet, oldest first.
    pub fn own_hand_overs(&self) -> Result<Vec<OwnHandOver>, FederationStoreError> {
        let path = self.dir.join(OWN_HAND_OVERS);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(json_at(&path)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(error) => Err(io_at(&path)(error)),
        }
    }

    /// Keeps `hand_overs` as the own cell's hand-overs not final yet, in place of those kept.
    pub fn keep_own_hand_overs(
        &self,
        hand_overs: &[OwnHandOver],
    ) -> Result<(), FederationStoreError> {
        let path = self.dir.join(OWN_HAND_OVERS);
        let bytes = serde_json::to_vec_pretty(hand_overs).map_err(json_at(&path))?;
        write_durably(&path, &bytes).map_err(io_at(&path))
    }

    /// Writes a certificate so that a crash leaves it whole or absent.
    fn keep(
        &self,
        name: &str,
        certificate: &CheckpointCertificate,
    ) -> Result<(), FederationStoreError> {
        let path = self.dir.join(name);
        let bytes = serde_json::to_vec_pretty(certificate).map_err(json_at(&path))?;
        write_durably(&path, &bytes).map_err(io_at(&path))
    }
}

/// The `.json` files in `dir`, by name.
fn json_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, FederationStoreError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let path = entry.map_err(io_at(dir))?.path();
        let name = path.file_name().and_then(|name| name.to_str());
        if let Some(name) = name.filter(|name| name.ends_with(".json")) {
            files.push((name.to_string(), path));
        }
    }
    Ok(files)
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> FederationStoreError + '_ {
    move |source| FederationStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn json_at(path: &Path) -> impl FnOnce(serde_json::Error) -> FederationStoreError + '_ {
    move |source| FederationStoreError::Json {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate an earlier version kept, whose `next_validators` was the whole set, is
    /// left out of the collector (and on disk) instead of stopping the node.
    #[test]
    fn a_kept_certificate_in_another_versions_format_is_left_out_and_left_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = FederationStore::open(dir.path()).unwrap();
        let key = charter_ledger::crypto::bls::BlsSecretKey::key_gen(&[1; 32], b"").unwrap();
        let set = charter_federation::checkpoint::CellValidators(vec![
            charter_federation::checkpoint::FederationValidator {
                passport: charter_ledger::PassportId([1; 32]),
                bls_key: key.public_key(),
                power: 10,
            },
        ]);
        let genesis = dir.path().join("federation.json");
        let view = serde_json::json!({
            "federation": hex::encode([5u8; 32]),
            "k": 1,
            "committee": 0,
            "cells": { "0": set },
        });
        std::fs::write(&genesis, view.to_string()).unwrap();
        let old = store.dir.join(final_file(1, CellId(0), 1));
        let old_format = r#"{"checkpoint": {"next_validators": []}, "signers": []}"#;
        std::fs::write(&old, old_format).unwrap();
        let collector = store.restore(&genesis).unwrap();
        assert_eq!(collector.latest_final_epoch(CellId(0)), 0);
        assert_eq!(std::fs::read_to_string(&old).unwrap(), old_format);
    }

    #[test]
    fn final_files_name_their_order_cell_and_epoch_and_nothing_else_parses_as_one() {
        let name = final_file(7, CellId(2), 31);
        assert_eq!(parse_final_file(&name), Some((7, CellId(2), 31)));
        for other in [
            "equivocation-2-31.json",
            "2-31.json",
            "final-7-2-31.json.tmp",
            "final-7-2-31-4.json",
            "final-x-2-31.json",
        ] {
            assert_eq!(parse_final_file(other), None, "{other}");
        }
    }
}
