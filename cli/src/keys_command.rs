//! `charter keygen` and `charter dev-genesis`: writing key files (mode 0600).

use anyhow::{Context, Result};
use charter_devnet::fixtures::{guardian_key, DevCell, DevCellConfig, DevPassport};
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_node::keys::{KeyFile, ValidatorKeys};
use rand::RngCore;
use std::io::Write;
use std::path::Path;

fn key_file(passport: &DevPassport) -> KeyFile {
    KeyFile {
        passport: Some(passport.id.to_hex()),
        controller_seed: hex::encode(passport.key.seed()),
        controller_public_key: passport.key.public_key().to_hex(),
        validator: match (&passport.consensus_key, &passport.bls_key) {
            (Some(consensus), Some(bls)) => Some(ValidatorKeys::new(consensus, bls)),
            _ => None,
        },
    }
}

fn write_secret(path: &Path, contents: &str) -> Result<()> {
    write_new(path, contents, 0o600)
}

/// Writes a file that must not exist yet, with permissions `mode`.
fn write_new(path: &Path, contents: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
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
            Ok(ValidatorKeys::new(
                &Ed25519Keypair::generate(&mut rng),
                &bls,
            ))
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
    crate::genesis_command::validate(&cell.genesis)?;
    let keys = out.join("keys");
    std::fs::create_dir_all(&keys).with_context(|| format!("creating {}", keys.display()))?;
    let genesis_path = out.join("genesis.json");
    write_new(
        &genesis_path,
        &serde_json::to_string_pretty(&cell.genesis)?,
        0o644,
    )?;
    for (index, passport) in cell.passports.iter().enumerate() {
        write_secret(
            &keys.join(format!("passport-{index}.json")),
            &serde_json::to_string_pretty(&key_file(passport))?,
        )?;
    }
    for index in 0..config.guardians {
        let key = guardian_key(seed, index);
        let file = KeyFile {
            passport: None,
            controller_seed: hex::encode(key.seed()),
            controller_public_key: key.public_key().to_hex(),
            validator: None,
        };
        write_secret(
            &keys.join(format!("guardian-{index}.json")),
            &serde_json::to_string_pretty(&file)?,
        )?;
    }
    println!(
        "wrote {} ({} passports, {} validators, {} guardians) and their keys under {}",
        genesis_path.display(),
        cell.passports.len(),
        config.validators,
        config.guardians,
        keys.display()
    );
    Ok(())
}
