//! `charter federation-genesis` and `charter verify`: the federation's first view of its cells'
//! validators, and offline verification of checkpoint certificates — and of a state read
//! against the last one — with nothing but that file.

use anyhow::{bail, ensure, Context, Result};
use charter_federation::checkpoint::{
    CellValidators, CheckpointCertificate, CheckpointError, FederationView,
};
use charter_federation::sets::KnownSets;
use charter_ledger::state::StateKey;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{
    verify_proof, CellId, EscrowId, Genesis, Ledger, PassportId, StateProof, StateRoot,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct FederationGenesisArgs {
    /// Cells whose quorums a checkpoint needs to be final (its own cell among them).
    #[arg(long)]
    k: usize,
    /// Cells on each checkpoint's committee, from which its `k − 1` co-signing cells come
    /// (default: 32, or every other cell in a federation of fewer than 34 cells).
    #[arg(long)]
    committee: Option<usize>,
    /// Each cell's genesis (all of one federation); repeat the option for each.
    #[arg(long = "cell-genesis", required = true)]
    cells: Vec<PathBuf>,
    /// Where to write the federation genesis (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The federation genesis (`charter federation-genesis`).
    #[arg(long)]
    federation: PathBuf,
    /// Certificates (the `certificate` object of `GET /v1/checkpoints/{cell}/{epoch}`, as
    /// JSON), in any order: each cell's are followed in epoch order, each final under the set
    /// its cell's previous final checkpoint handed over; all must be final. Repeat the option
    /// for each.
    #[arg(long = "certificate", required = true)]
    certificates: Vec<PathBuf>,
    /// Certificates taken as final without checking (checkpoints the verifier already trusts),
    /// each handing over its cell's next validator set: to start a chain from a trusted
    /// checkpoint rather than from genesis. A certificate carries that set only when it is new,
    /// so trust the one that handed the set over (or one whose set the federation genesis
    /// holds). Repeat the option for each.
    #[arg(long = "trusted")]
    trusted: Vec<PathBuf>,
    /// A state read with its proof (the API's answer to `?proof=true&height=H`), checked
    /// against the state root of the last certificate given; needs --key.
    #[arg(long, requires = "key")]
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
    write_federation_genesis(args.k, args.committee, &args.cells, &args.out)
}

/// Cells on a committee unless told otherwise: enough that Byzantine cells rarely hold one
/// (`docs/checkpoints.md`, "Committees"), and never fewer than the `k − 1` co-signers.
const DEFAULT_COMMITTEE: usize = 32;

/// Writes the federation genesis of the cells whose geneses are at `cells`, final with the
/// quorums of `k` cells: the checkpoint's own and `k − 1` of its `committee`.
pub fn write_federation_genesis(
    k: usize,
    committee: Option<usize>,
    cells_genesis: &[PathBuf],
    out: &Path,
) -> Result<()> {
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
    let others = cells.len() - 1;
    let committee = committee.unwrap_or(DEFAULT_COMMITTEE.min(others).max(k - 1));
    ensure!(
        (k - 1..=others).contains(&committee),
        "the committee must hold the k − 1 = {} co-signing cells and at most the {others} other cells",
        k - 1
    );
    let view = FederationView {
        federation: federation.context("no cell genesis given")?,
        k,
        committee,
        cells,
    };
    KnownSets::new(&view).context("the federation genesis")?;
    std::fs::write(out, serde_json::to_string_pretty(&view)?)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {}: {} cells, final with the quorums of its own cell and {} of a committee of {}",
        out.display(),
        view.cells.len(),
        view.k - 1,
        view.committee
    );
    Ok(())
}

/// A certificate given on the command line, with its file.
type Given = (PathBuf, CheckpointCertificate);

/// The certificates given, in one cell's epoch order at a time, the same whatever order they
/// were given in: a certificate is final when its cell's signers are the set the cell's
/// previous final checkpoint handed over (or its genesis set) and every co-signing cell's set
/// is one that cell is known to have held. Sets become known as certificates are accepted, so
/// a certificate waiting for another cell's set is tried again after each round that accepted
/// something; every certificate given must end up final.
fn follow_chains(sets: &mut KnownSets, loaded: &[Given]) -> Result<()> {
    let mut chains: BTreeMap<CellId, BTreeMap<u64, Vec<&Given>>> = BTreeMap::new();
    for entry in loaded {
        let checkpoint = &entry.1.checkpoint;
        let epoch = chains.entry(checkpoint.cell).or_default();
        let same = epoch.entry(checkpoint.epoch).or_default();
        if !same.iter().any(|(_, held)| held == &entry.1) {
            same.push(entry);
            same.sort_by_key(|(_, held)| (held.checkpoint.id(), held.signature.0));
        }
    }
    loop {
        let mut accepted = false;
        for chain in chains.values_mut() {
            while let Some(entry) = chain.first_entry() {
                if !accept(sets, entry.get())? {
                    break;
                }
                entry.remove();
                accepted = true;
            }
        }
        if !accepted {
            break;
        }
    }
    if let Some((path, certificate)) = (chains.values().flat_map(|chain| chain.values()))
        .flatten()
        .next()
    {
        let error = sets.verify(certificate).err();
        let reason = error.map_or("its cell's earlier epochs are not final".into(), |error| {
            error.to_string()
        });
        bail!(
            "certificate {} ({}, epoch {}) is not final: {reason}",
            path.display(),
            certificate.checkpoint.cell,
            certificate.checkpoint.epoch
        );
    }
    Ok(())
}

/// Accepts the certificates of one cell and epoch (more than one when different aggregators
/// gathered different signers, or the cell equivocated): true when all are final, false when
/// one names a co-signing set not known yet; an error when one is not final, or when two final
/// ones are of different checkpoints.
fn accept(sets: &mut KnownSets, same: &[&Given]) -> Result<bool> {
    for (path, certificate) in same {
        match sets.verify(certificate) {
            Ok(()) => {}
            Err(CheckpointError::UnknownValidatorSet { .. }) => return Ok(false),
            Err(error) => bail!(
                "certificate {} ({}, epoch {}) is not final: {error}",
                path.display(),
                certificate.checkpoint.cell,
                certificate.checkpoint.epoch
            ),
        }
    }
    let (path, certificate) = same[0];
    let checkpoint = &certificate.checkpoint;
    let other_checkpoint = (same.iter()).find(|(_, other)| other.checkpoint != *checkpoint);
    if let Some((other, second)) = other_checkpoint {
        bail!(
            "equivocation: {} and {} are two final certificates of different checkpoints of {} \
             for epoch {} ({} and {}); that cell's proofs are refused",
            path.display(),
            other.display(),
            checkpoint.cell,
            checkpoint.epoch,
            checkpoint.id(),
            second.checkpoint.id()
        );
    }
    sets.take_hand_over(certificate)?;
    let cells: Vec<String> = (certificate.signers.iter())
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
    Ok(true)
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
    let genesis: FederationView = load(&args.federation)?;
    let mut sets = KnownSets::new(&genesis).context("the federation genesis")?;
    for path in &args.trusted {
        let trusted: CheckpointCertificate = load(path)?;
        let checkpoint = &trusted.checkpoint;
        ensure!(
            sets.is_cell(checkpoint.cell),
            "{} is of {}, which is not a cell of this federation",
            path.display(),
            checkpoint.cell
        );
        sets.take_hand_over(&trusted).with_context(|| {
            format!(
                "{}: a trusted certificate hands over the set it carries, or one this \
                 verifier holds already (the federation genesis's, or one a certificate \
                 carried)",
                path.display()
            )
        })?;
        println!(
            "trusted: {} epoch {} hands over its next validators",
            checkpoint.cell, checkpoint.epoch
        );
    }
    let mut loaded = Vec::new();
    for path in &args.certificates {
        loaded.push((path.clone(), load::<CheckpointCertificate>(path)?));
    }
    follow_chains(&mut sets, &loaded)?;
    let last = loaded.last().map(|(_, certificate)| certificate);
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
