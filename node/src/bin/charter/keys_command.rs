//! Key files: JSON holding a passport's controller key and, for validators, the consensus and
//! BLS keys. Written with mode 0600.

use anyhow::{Context, Result};
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::devnet::{DevCell, DevCellConfig, DevPassport};
use charter_ledger::PassportId;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

#[derive(Serialize, Deserialize)]
pub struct KeyFile {
    pub passport: Option<String>,
    pub controller_seed: String,
    pub controller_public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator: Option<ValidatorKeys>,
}

#[derive(Serialize, Deserialize)]
pub struct ValidatorKeys {
    pub consensus_seed: String,
    pub consensus_public_key: String,
    pub bls_secret_key: String,
    pub bls_public_key: String,
    pub bls_proof_of_possession: String,
}

fn hex_seed(text: &str, what: &str) -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text, &mut seed)
        .with_context(|| format!("the {what} is not 32 hex bytes"))?;
    Ok(seed)
}

/// A node's separate libp2p identity: a file holding a 32-byte seed in hex.
pub fn read_network_key(path: &Path) -> Result<Ed25519Keypair> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Ed25519Keypair::from_seed(hex_seed(
        text.trim(),
        "network key seed",
    )?))
}

impl KeyFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn passport(&self) -> Result<PassportId> {
        let passport = self
            .passport
            .as_deref()
            .context("the key file names no passport")?;
        PassportId::from_hex(passport).context("the key file's passport id is not 32 hex bytes")
    }

    pub fn controller(&self) -> Result<Ed25519Keypair> {
        Ok(Ed25519Keypair::from_seed(hex_seed(
            &self.controller_seed,
            "controller seed",
        )?))
    }

    fn validator(&self) -> Result<&ValidatorKeys> {
        self.validator
            .as_ref()
            .context("the key file has no validator keys")
    }

    pub fn consensus(&self) -> Result<Ed25519Keypair> {
        Ok(Ed25519Keypair::from_seed(hex_seed(
            &self.validator()?.consensus_seed,
            "consensus seed",
        )?))
    }

    pub fn bls(&self) -> Result<BlsSecretKey> {
        let bytes = hex_seed(&self.validator()?.bls_secret_key, "BLS secret key")?;
        BlsSecretKey::from_bytes(&bytes).context("the BLS secret key is not a valid scalar")
    }
}

fn validator_keys(consensus: &Ed25519Keypair, bls: &BlsSecretKey) -> ValidatorKeys {
    ValidatorKeys {
        consensus_seed: hex::encode(consensus.seed()),
        consensus_public_key: consensus.public_key().to_hex(),
        bls_secret_key: hex::encode(bls.to_bytes()),
        bls_public_key: bls.public_key().to_hex(),
        bls_proof_of_possession: bls.prove_possession().to_hex(),
    }
}

fn key_file(passport: &DevPassport) -> KeyFile {
    KeyFile {
        passport: Some(passport.id.to_hex()),
        controller_seed: hex::encode(passport.key.seed()),
        controller_public_key: passport.key.public_key().to_hex(),
        validator: match (&passport.consensus_key, &passport.bls_key) {
            (Some(consensus), Some(bls)) => Some(validator_keys(consensus, bls)),
            _ => None,
        },
    }
}

fn write_secret(path: &Path, contents: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

pub fn keygen(validator: bool, out: Option<&Path>) -> Result<()> {
    let mut rng = rand::rngs::OsRng;
    let controller = Ed25519Keypair::generate(&mut rng);
    let validator = validator
        .then(|| -> Result<ValidatorKeys> {
            let mut material = [0u8; 32];
            rng.fill_bytes(&mut material);
            let bls = BlsSecretKey::key_gen(&material, b"")?;
            Ok(validator_keys(&Ed25519Keypair::generate(&mut rng), &bls))
        })
        .transpose()?;
    let file = KeyFile {
        passport: None,
        controller_seed: hex::encode(controller.seed()),
        controller_public_key: controller.public_key().to_hex(),
        validator,
    };
    let json = serde_json::to_string_pretty(&file)?;
    match out {
        Some(path) => {
            write_secret(path, &json)?;
            println!(
                "wrote {} (public key {})",
                path.display(),
                file.controller_public_key
            );
        }
        None => println!("{json}"),
    }
    Ok(())
}

pub fn dev_genesis(seed: u64, config: &DevCellConfig, out: &Path) -> Result<()> {
    let cell = DevCell::new(seed, config.clone());
    let keys = out.join("keys");
    std::fs::create_dir_all(&keys).with_context(|| format!("creating {}", keys.display()))?;
    let genesis_path = out.join("genesis.json");
    std::fs::write(&genesis_path, serde_json::to_string_pretty(&cell.genesis)?)?;
    for (index, passport) in cell.passports.iter().enumerate() {
        write_secret(
            &keys.join(format!("passport-{index}.json")),
            &serde_json::to_string_pretty(&key_file(passport))?,
        )?;
    }
    println!(
        "wrote {} ({} passports, {} validators) and their keys under {}",
        genesis_path.display(),
        cell.passports.len(),
        config.validators,
        keys.display()
    );
    Ok(())
}
