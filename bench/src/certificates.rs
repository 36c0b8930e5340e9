//! Checkpoint certificates: what signing, aggregating and verifying cost as the federation
//! grows, and how long a live 3-cell federation takes from a checkpoint's block to its
//! certificate being final.

use anyhow::{bail, Context, Result};
use charter_client::ApiClient;
use charter_consensus::block::BlockHash;
use charter_federation::checkpoint::{
    CellSigners, CellValidators, Checkpoint, CheckpointCertificate, FederationValidator,
    FederationView,
};
use charter_ledger::crypto::bls::{aggregate, BlsSecretKey, BlsSignature};
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
    /// (cells, time to verify one certificate signed by every validator of every cell).
    pub verify: Vec<(usize, Duration)>,
}

const VALIDATORS_PER_CELL: usize = 100;

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
        next_validators: set.clone(),
    };
    let message = checkpoint.signing_bytes();
    let started = Instant::now();
    let signatures: Vec<BlsSignature> = keys.iter().map(|key| key.sign(&message)).collect();
    let sign = started.elapsed() / VALIDATORS_PER_CELL as u32;
    let started = Instant::now();
    let cell_aggregate = aggregate(&signatures)?;
    let aggregate_cell = started.elapsed();

    let mut verify = Vec::new();
    for &cells in cell_counts {
        let view = FederationView {
            federation: checkpoint.federation,
            k: cells,
            cells: (0..cells as u32)
                .map(|cell| (CellId(cell), set.clone()))
                .collect::<BTreeMap<_, _>>(),
        };
        let certificate = CheckpointCertificate {
            checkpoint: checkpoint.clone(),
            signers: (0..cells as u32)
                .map(|cell| {
                    CellSigners::from_indices(
                        CellId(cell),
                        VALIDATORS_PER_CELL,
                        0..VALIDATORS_PER_CELL,
                    )
                })
                .collect(),
            signature: aggregate(&vec![cell_aggregate; cells])?,
        };
        let started = Instant::now();
        certificate.verify(&view)?;
        verify.push((cells, started.elapsed()));
    }
    Ok(CertificateCosts {
        sign,
        aggregate_cell,
        verify,
    })
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
