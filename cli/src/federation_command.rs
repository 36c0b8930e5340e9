//! `charter federation-genesis` and `charter verify`: the federation's first view of its cells'
//! validators, and offline verification of checkpoint certificates — and of a state read
//! against the last one — with nothing but that file.

use anyhow::{bail, ensure, Context, Result};
use charter_federation::checkpoint::{CellValidators, CheckpointCertificate, FederationView};
use charter_ledger::state::StateKey;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{verify_proof, EscrowId, Genesis, Ledger, PassportId, StateProof, StateRoot};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct FederationGenesisArgs {
    /// Cells whose quorums a checkpoint needs to be final (its own cell among them).
    #[arg(long)]
    k: usize,
    /// Each cell's genesis (all of one federation).
    #[arg(long = "cell-genesis", required = true)]
    cells: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The federation genesis (`charter federation-genesis`).
    #[arg(long)]
    federation: PathBuf,
    /// Certificates (JSON, as the API serves them), oldest first: each must be final under the
    /// validator sets the ones before it handed over.
    #[arg(long = "certificate", required = true)]
    certificates: Vec<PathBuf>,
    /// Certificates taken as final without checking (checkpoints the verifier already trusts),
    /// each handing over its cell's next validator set: to start a chain from a trusted
    /// checkpoint rather than from genesis.
    #[arg(long = "trusted")]
    trusted: Vec<PathBuf>,
    /// A state read with its proof (the API's answer to `?proof=true&height=H`), checked
    /// against the last certificate's state root.
    #[arg(long)]
    read: Option<PathBuf>,
    /// What the read is of: passport:ID, bond:ID, escrow:ID, validator:ID or validators.
    #[arg(long, requires = "read")]
    key: Option<String>,
}

fn load<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn federation_genesis(args: FederationGenesisArgs) -> Result<()> {
    write_federation_genesis(args.k, &args.cells, &args.out)
}

/// Writes the federation genesis of the cells whose geneses are at `cells`.
pub fn write_federation_genesis(k: usize, cells_genesis: &[PathBuf], out: &Path) -> Result<()> {
    let mut federation = None;
    let mut cells = BTreeMap::new();
    for path in cells_genesis {
        let genesis: Genesis = load(path)?;
        ensure!(
            *federation.get_or_insert(genesis.federation) == genesis.federation,
            "{} is of another federation",
            path.display()
        );
        let mut ledger = Ledger::open(MemoryStorage::new())?;
        ledger
            .init_genesis(&genesis)
            .with_context(|| format!("{} is not a valid genesis", path.display()))?;
        let members = CellValidators::from(&ledger.active_validators()?);
        ensure!(
            cells.insert(genesis.cell, members).is_none(),
            "cell {} is listed twice",
            genesis.cell
        );
    }
    ensure!(
        (1..=cells.len()).contains(&k),
        "k must be between 1 and the number of cells ({})",
        cells.len()
    );
    let view = FederationView {
        federation: federation.context("no cell genesis given")?,
        k,
        cells,
    };
    std::fs::write(out, serde_json::to_string_pretty(&view)?)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {}: {} cells, final with quorums of {}",
        out.display(),
        view.cells.len(),
        view.k
    );
    Ok(())
}

fn state_key(spec: &str) -> Result<StateKey> {
    let (kind, id) = spec.split_once(':').unwrap_or((spec, ""));
    let passport = || PassportId::from_hex(id).context("a passport id is 32 bytes in hex");
    Ok(match kind {
        "passport" => StateKey::Passport(passport()?),
        "bond" => StateKey::Bond(passport()?),
        "validator" => StateKey::Validator(passport()?),
        "escrow" => {
            StateKey::Escrow(EscrowId::from_hex(id).context("an escrow id is 32 bytes in hex")?)
        }
        "validators" => StateKey::ActiveValidators,
        other => bail!("unknown key kind {other}: passport, bond, escrow, validator or validators"),
    })
}

pub fn verify(args: VerifyArgs) -> Result<()> {
    let mut view: FederationView = load(&args.federation)?;
    for path in &args.trusted {
        let trusted: CheckpointCertificate = load(path)?;
        let checkpoint = trusted.checkpoint;
        ensure!(
            view.cells.contains_key(&checkpoint.cell),
            "{} is of {}, which is not a cell of this federation",
            path.display(),
            checkpoint.cell
        );
        println!(
            "trusted: {} epoch {} hands over its next validators",
            checkpoint.cell, checkpoint.epoch
        );
        view.cells
            .insert(checkpoint.cell, checkpoint.next_validators);
    }
    let mut last = None;
    // Each accepted certificate, with the view it was judged under.
    let mut seen: BTreeMap<(charter_ledger::CellId, u64), (CheckpointCertificate, FederationView)> =
        BTreeMap::new();
    for (position, path) in args.certificates.iter().enumerate() {
        let certificate: CheckpointCertificate = load(path)?;
        let checkpoint = &certificate.checkpoint;
        if let Some((earlier, then)) = seen.get(&(checkpoint.cell, checkpoint.epoch)) {
            if earlier.checkpoint == *checkpoint {
                continue;
            }
            // Two final certificates for one epoch prove the cell equivocated; a second one
            // that is not final proves nothing.
            if let Err(error) = certificate.verify(then) {
                bail!("{} is not final: {error}", path.display());
            }
            bail!(
                "equivocation: {} and an earlier final certificate are two different \
                 checkpoints of {} for epoch {} ({} and {}); that cell's proofs are refused",
                path.display(),
                checkpoint.cell,
                checkpoint.epoch,
                checkpoint.id(),
                earlier.checkpoint.id()
            );
        }
        let view_before = view.clone();
        if let Err(error) = view.advance(&certificate) {
            bail!(
                "certificate {} ({}: {}, epoch {}) is not final: {error}",
                position + 1,
                path.display(),
                checkpoint.cell,
                checkpoint.epoch
            );
        }
        let cells: Vec<String> = certificate
            .signers
            .iter()
            .map(|signers| signers.cell.to_string())
            .collect();
        println!(
            "final: {} epoch {} height {} root {} (quorums of {})",
            checkpoint.cell,
            checkpoint.epoch,
            checkpoint.height,
            checkpoint.state_root,
            cells.join(", ")
        );
        seen.insert(
            (checkpoint.cell, checkpoint.epoch),
            (certificate.clone(), view_before),
        );
        last = Some(certificate);
    }
    if let (Some(read), Some(certificate)) = (&args.read, &last) {
        let key = state_key(args.key.as_deref().context("--read needs --key")?)?;
        let read: Value = load(read)?;
        let checkpoint = &certificate.checkpoint;
        ensure!(
            read["height"].as_u64() == Some(checkpoint.height),
            "the read is at height {}, the checkpoint at {}",
            read["height"],
            checkpoint.height
        );
        let encoded = match read["encoded"].as_str() {
            Some(hex) => Some(hex::decode(hex).context("the value is not hex")?),
            None => None,
        };
        let proof = hex::decode(read["proof"].as_str().context("the read has no proof")?)?;
        let proof = StateProof::decode(&proof).context("the proof does not decode")?;
        let root: StateRoot = checkpoint.state_root;
        if let Err(error) = verify_proof(&root, &key, encoded.as_deref(), &proof) {
            bail!("the state proof does not verify against the final checkpoint's root: {error}");
        }
        println!(
            "state proof verified against {} epoch {}'s final root",
            checkpoint.cell, checkpoint.epoch
        );
    }
    Ok(())
}
