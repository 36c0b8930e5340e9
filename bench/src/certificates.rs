//! Checkpoint certificates: what signing, aggregating and verifying cost as the federation
//! grows, and how long a live 3-cell federation takes from a checkpoint's block to its
//! certificate being final.

use crate::federation_epoch::{self, EpochWork};
use anyhow::{bail, Context, Result};
use charter_client::ApiClient;
use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellSigners, CellValidators, Checkpoint, CheckpointCertificate, FederationValidator,
    FederationView,
};
use charter_federation::sets::{verify_pairings, KnownSets, Pairing};
use charter_ledger::crypto::bls::{
    aggregate, fast_aggregate_verify, BlsPublicKey, BlsSecretKey, BlsSignature, ValidatedKey,
};
use charter_ledger::{CellId, FederationId, PassportId, StateRoot};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct CertificateCosts {
    pub sign: Duration,
    /// Aggregating one cell's 100 signatures.
    pub aggregate_cell: Duration,
    pub verify: Vec<VerifyCosts>,
    pub batch: BatchCosts,
    /// A cell's validators' signatures on one checkpoint, as its nodes check them.
    pub signatures: SignatureBatchCosts,
    /// One validator's federation work in an epoch, per federation size.
    pub epoch: Vec<EpochWork>,
}

/// Verifying `signatures` validators' signatures on one checkpoint: one by one, and in one
/// batch (which shares the checkpoint's hash and Miller loop).
pub struct SignatureBatchCosts {
    pub signatures: usize,
    pub one_by_one: Duration,
    pub batched: Duration,
}

/// Signatures in the batch measured: one batch of queued messages at most.
const BATCH_SIGNATURES: usize = 64;

/// Verifying many certificates of different checkpoints, each signed by 67 of 100 validators
/// of `cells` cells (a committee certificate's size): one by one, and in one batch.
pub struct BatchCosts {
    pub certificates: usize,
    pub cells: usize,
    pub one_by_one: Duration,
    pub batched: Duration,
}

/// Certificates in the batch measured, and the cells each names (a committee's quorum of 22
/// and the checkpoint's own cell).
const BATCH_CERTIFICATES: usize = 100;
const BATCH_CELLS: usize = 23;

/// What verifying one certificate signed by every cell of a federation of `cells` costs.
pub struct VerifyCosts {
    pub cells: usize,
    /// Learning every cell's set: KeyValidate on each key, once.
    pub learn_sets: Duration,
    /// Every validator of every cell signed; the sets' keys already validated.
    pub all_signed: Duration,
    /// 67 of each cell's 100 validators signed (the missing keys are subtracted).
    pub quorum_signed: Duration,
    /// Every validator signed, every key decoded and checked again on the verify, as
    /// FastAggregateVerify over the key bytes does.
    pub keys_checked_per_verify: Duration,
}

const VALIDATORS_PER_CELL: usize = 100;
const QUORUM_SIGNERS: usize = 67;

/// Every cell gets the same 100 keys: verification cost depends on how many keys are checked
/// and summed, not on whether they repeat, and this keeps set-up to seconds.
pub fn measure(cell_counts: &[usize]) -> Result<CertificateCosts> {
    let keys: Vec<BlsSecretKey> = (0..VALIDATORS_PER_CELL)
        .map(|index| BlsSecretKey::key_gen(&[index as u8 + 1; 32], b"bench"))
        .collect::<Result<_, _>>()?;
    let set = CellValidators(
        keys.iter()
            .enumerate()
            .map(|(index, key)| FederationValidator {
                passport: PassportId([index as u8; 32]),
                bls_key: key.public_key(),
                power: 1,
            })
            .collect(),
    );
    let checkpoint = Checkpoint {
        federation: FederationId([1; 32]),
        cell: CellId(0),
        epoch: 1,
        height: 100,
        block: BlockHash([2; 32]),
        state_root: StateRoot([3; 32]),
        validators: set.hash(),
        next_validators: set.hash(),
    };
    let message = checkpoint.signing_bytes();
    let started = Instant::now();
    let signatures: Vec<BlsSignature> = keys.iter().map(|key| key.sign(&message)).collect();
    let sign = started.elapsed() / VALIDATORS_PER_CELL as u32;
    let started = Instant::now();
    let cell_aggregate = aggregate(&signatures)?;
    let aggregate_cell = started.elapsed();
    let quorum_aggregate = aggregate(&signatures[..QUORUM_SIGNERS])?;

    let mut verify = Vec::new();
    for &cells in cell_counts {
        let view = FederationView {
            federation: checkpoint.federation,
            k: cells,
            committee: cells - 1,
            cells: (0..cells as u32)
                .map(|cell| (CellId(cell), set.clone()))
                .collect::<BTreeMap<_, _>>(),
        };
        let started = Instant::now();
        let sets = KnownSets::new(&view)?;
        let learn_sets = started.elapsed();
        let certificate = |signers: usize, cell_signature: BlsSignature| -> Result<_> {
            Ok(CheckpointCertificate {
                checkpoint: checkpoint.clone(),
                signers: (0..cells as u32)
                    .map(|cell| CellSigners::from_indices(CellId(cell), &set, 0..signers))
                    .collect(),
                signature: aggregate(&vec![cell_signature; cells])?,
                next_set: None,
            })
        };
        let all = certificate(VALIDATORS_PER_CELL, cell_aggregate)?;
        let quorum = certificate(QUORUM_SIGNERS, quorum_aggregate)?;
        let all_signed = timed(|| sets.verify(&all))?;
        let quorum_signed = timed(|| sets.verify(&quorum))?;
        let every_key: Vec<BlsPublicKey> = (0..cells)
            .flat_map(|_| set.0.iter().map(|member| member.bls_key))
            .collect();
        let keys_checked_per_verify =
            timed(|| fast_aggregate_verify(&every_key, &message, &all.signature))?;
        verify.push(VerifyCosts {
            cells,
            learn_sets,
            all_signed,
            quorum_signed,
            keys_checked_per_verify,
        });
    }
    let batch = measure_batch(&keys, &set, &checkpoint)?;
    let signatures = measure_signature_batch(&keys, &message, &signatures)?;
    let files = std::env::temp_dir().join(format!("charter-bench-epoch-{}", std::process::id()));
    let epoch = federation_epoch::measure(cell_counts, &files);
    let _ = std::fs::remove_dir_all(&files);
    Ok(CertificateCosts {
        epoch: epoch?,
        sign,
        aggregate_cell,
        signatures,
        verify,
        batch,
    })
}

/// [`BatchCosts`]: each cell's quorum signs with the sum of its signers' secret keys, the same
/// bytes as aggregating their signatures.
fn measure_batch(
    keys: &[BlsSecretKey],
    set: &CellValidators,
    template: &Checkpoint,
) -> Result<BatchCosts> {
    let view = FederationView {
        federation: template.federation,
        k: BATCH_CELLS,
        committee: BATCH_CELLS - 1,
        cells: (0..BATCH_CELLS as u32)
            .map(|cell| (CellId(cell), set.clone()))
            .collect(),
    };
    let sets = KnownSets::new(&view)?;
    let quorum = BlsSecretKey::sum(&keys[..QUORUM_SIGNERS]).context("keys that cancel out")?;
    let certificates = (0..BATCH_CERTIFICATES as u64)
        .map(|epoch| {
            let checkpoint = Checkpoint {
                epoch,
                ..template.clone()
            };
            let cell_signature = quorum.sign(&checkpoint.signing_bytes());
            Ok(CheckpointCertificate {
                checkpoint,
                signers: (0..BATCH_CELLS as u32)
                    .map(|cell| CellSigners::from_indices(CellId(cell), set, 0..QUORUM_SIGNERS))
                    .collect(),
                signature: aggregate(&vec![cell_signature; BATCH_CELLS])?,
                next_set: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let started = Instant::now();
    for certificate in &certificates {
        sets.verify(certificate)?;
    }
    let one_by_one = started.elapsed();
    let started = Instant::now();
    let pairings = (certificates.iter())
        .map(|certificate| Ok(sets.check(certificate)?.pairing()))
        .collect::<Result<Vec<_>>>()?;
    for outcome in verify_pairings(&pairings, &mut rand::thread_rng()) {
        outcome?;
    }
    let batched = started.elapsed();
    Ok(BatchCosts {
        certificates: BATCH_CERTIFICATES,
        cells: BATCH_CELLS,
        one_by_one,
        batched,
    })
}

/// [`SignatureBatchCosts`] for the first [`BATCH_SIGNATURES`] of `signatures` on `message`.
fn measure_signature_batch(
    keys: &[BlsSecretKey],
    message: &[u8],
    signatures: &[BlsSignature],
) -> Result<SignatureBatchCosts> {
    let validated: Vec<ValidatedKey> = (keys.iter().take(BATCH_SIGNATURES))
        .map(|key| key.public_key().validated())
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    for (key, signature) in validated.iter().zip(signatures) {
        key.verify(message, signature)?;
    }
    let one_by_one = started.elapsed();
    let started = Instant::now();
    let pairings: Vec<Pairing> = (validated.iter().zip(signatures))
        .map(|(key, signature)| Pairing::single(key, message.to_vec(), *signature))
        .collect();
    for outcome in verify_pairings(&pairings, &mut rand::thread_rng()) {
        outcome?;
    }
    let batched = started.elapsed();
    Ok(SignatureBatchCosts {
        signatures: validated.len(),
        one_by_one,
        batched,
    })
}

/// How long `check` takes, once it passed.
fn timed<E: std::error::Error + Send + Sync + 'static>(
    check: impl FnOnce() -> Result<(), E>,
) -> Result<Duration> {
    let started = Instant::now();
    check()?;
    Ok(started.elapsed())
}

/// Runs a 3-cell federation and times, for `epochs` epochs of cell 0, the span from the
/// checkpoint's block being committed (seen on the block stream) to the certificate being
/// final at the same node.
pub fn time_to_finality(charter: &Path, dir: &Path, epochs: u64) -> Result<Vec<Duration>> {
    const EPOCH: u64 = 5;
    let mut localnet = Command::new(charter)
        .args(["localnet", "--cells", "3", "--agents-batch", "0"])
        .args([
            "--epoch-length",
            &EPOCH.to_string(),
            "--report-every",
            "1000000",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the federation")?;
    let result = (|| -> Result<Vec<Duration>> {
        let layout_path = dir.join("localnet.json");
        let started = Instant::now();
        let api = loop {
            if started.elapsed() > Duration::from_secs(120) {
                bail!("the federation did not come up");
            }
            if let Ok(text) = std::fs::read_to_string(&layout_path) {
                let layout: Value = serde_json::from_str(&text)?;
                let api = layout["nodes"][0]["api"]
                    .as_str()
                    .context("an API")?
                    .to_string();
                if ApiClient::new(&api)?.get("/v1/status").is_ok() {
                    break api;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let client = ApiClient::new(&api)?;
        let mut stream = ApiClient::new(&api)?.block_stream()?;
        let mut spans = Vec::new();
        while spans.len() < epochs as usize {
            let data = stream.next().context("the block stream ended")??;
            let event: Value = serde_json::from_str(&data)?;
            let height = event["height"].as_u64().unwrap_or(0);
            if height == 0 || !height.is_multiple_of(EPOCH) {
                continue;
            }
            let committed = Instant::now();
            let path = format!("/v1/checkpoints/0/{}", height / EPOCH);
            loop {
                if committed.elapsed() > Duration::from_secs(60) {
                    bail!("epoch {} of cell 0 did not become final", height / EPOCH);
                }
                if client.json("GET", &path, b"")?.0 == 200 {
                    spans.push(committed.elapsed());
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(spans)
    })();
    let _ = Command::new("kill")
        .args(["-INT", &localnet.id().to_string()])
        .status();
    let _ = localnet.wait();
    result
}
