//! Where a node keeps what it learned of the federation: each final certificate, and the second
//! certificate of each equivocation, as one JSON file in `DATA/federation`. The node's view of
//! the federation survives restarts through it, and an auditor reads a stopped node's view from
//! it the same way.

use charter_consensus::checkpoint::CheckpointCertificate;
use charter_consensus::finality::Collector;
use charter_ledger::CellId;
use std::path::{Path, PathBuf};

/// Names the file that keeps the second certificate of an equivocation.
const EQUIVOCATION_PREFIX: &str = "equivocation-";

fn final_file(cell: CellId, epoch: u64) -> String {
    format!("{}-{epoch}.json", cell.0)
}

fn equivocation_file(cell: CellId, epoch: u64) -> String {
    format!("{EQUIVOCATION_PREFIX}{}-{epoch}.json", cell.0)
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
}

pub struct FederationStore {
    dir: PathBuf,
}

impl FederationStore {
    /// The store of the node whose data directory is `data_dir`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("federation"),
        }
    }

    /// The collector on the federation genesis at `genesis` and every certificate kept:
    /// final ones first, in epoch order so that each cell's chain of validator sets is
    /// followed, then the second certificates of equivocations. A kept certificate that no
    /// longer verifies is left out, with a warning.
    pub fn restore(&self, genesis: &Path) -> Result<Collector, FederationStoreError> {
        let view = serde_json::from_slice(&std::fs::read(genesis).map_err(io_at(genesis))?)
            .map_err(json_at(genesis))?;
        let mut collector = Collector::new(view);
        std::fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        let mut kept: Vec<(bool, CheckpointCertificate)> = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io_at(&self.dir))? {
            let path = entry.map_err(io_at(&self.dir))?.path();
            if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                let second = path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(EQUIVOCATION_PREFIX));
                let bytes = std::fs::read(&path).map_err(io_at(&path))?;
                kept.push((
                    second,
                    serde_json::from_slice(&bytes).map_err(json_at(&path))?,
                ));
            }
        }
        kept.sort_by_key(|(second, certificate)| (*second, certificate.checkpoint.epoch));
        for (_, certificate) in &kept {
            if let Err(error) = collector.add_certificate(certificate) {
                tracing::warn!(%error, "a kept certificate no longer verifies");
            }
        }
        Ok(collector)
    }

    /// Keeps `certificate` as the final one for its cell and epoch.
    pub fn keep_final(
        &self,
        certificate: &CheckpointCertificate,
    ) -> Result<(), FederationStoreError> {
        let checkpoint = &certificate.checkpoint;
        self.keep(&final_file(checkpoint.cell, checkpoint.epoch), certificate)
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

    /// Forgets the final certificate of `cell` at `epoch` (a ruling dropped it).
    pub fn drop_final(&self, cell: CellId, epoch: u64) -> Result<(), FederationStoreError> {
        let path = self.dir.join(final_file(cell, epoch));
        std::fs::remove_file(&path).map_err(io_at(&path))
    }

    fn keep(
        &self,
        name: &str,
        certificate: &CheckpointCertificate,
    ) -> Result<(), FederationStoreError> {
        let path = self.dir.join(name);
        let bytes = serde_json::to_vec_pretty(certificate).map_err(json_at(&path))?;
        std::fs::write(&path, bytes).map_err(io_at(&path))
    }
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
