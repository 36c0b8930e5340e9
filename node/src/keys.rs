//! Key files: JSON holding a passport's controller key and, for validators, the consensus and
//! BLS keys (`charter keygen` and `charter dev-genesis` write them, with mode 0600).

use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::PassportId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the {0} is not 32 hex bytes")]
    NotHexSeed(&'static str),
    #[error("the key file names no passport")]
    NoPassport,
    #[error("the key file has no validator keys")]
    NotValidator,
    #[error("the BLS secret key is not a valid scalar")]
    BadBlsKey,
}

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

impl ValidatorKeys {
    pub fn new(consensus: &Ed25519Keypair, bls: &BlsSecretKey) -> Self {
        Self {
            consensus_seed: hex::encode(consensus.seed()),
            consensus_public_key: consensus.public_key().to_hex(),
            bls_secret_key: hex::encode(bls.to_bytes()),
            bls_public_key: bls.public_key().to_hex(),
            bls_proof_of_possession: bls.prove_possession().to_hex(),
        }
    }
}

fn hex_seed(text: &str, what: &'static str) -> Result<[u8; 32], KeyFileError> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text, &mut seed).map_err(|_| KeyFileError::NotHexSeed(what))?;
    Ok(seed)
}

fn read(path: &Path) -> Result<String, KeyFileError> {
    std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A node's separate libp2p identity: a file holding a 32-byte seed in hex.
pub fn read_network_key(path: &Path) -> Result<Ed25519Keypair, KeyFileError> {
    Ok(Ed25519Keypair::from_seed(hex_seed(
        read(path)?.trim(),
        "network key seed",
    )?))
}

impl KeyFile {
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        serde_json::from_str(&read(path)?).map_err(|source| KeyFileError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn passport(&self) -> Result<PassportId, KeyFileError> {
        let passport = self.passport.as_deref().ok_or(KeyFileError::NoPassport)?;
        PassportId::from_hex(passport).map_err(|_| KeyFileError::NotHexSeed("passport id"))
    }

    pub fn controller(&self) -> Result<Ed25519Keypair, KeyFileError> {
        Ok(Ed25519Keypair::from_seed(hex_seed(
            &self.controller_seed,
            "controller seed",
        )?))
    }

    fn validator(&self) -> Result<&ValidatorKeys, KeyFileError> {
        self.validator.as_ref().ok_or(KeyFileError::NotValidator)
    }

    pub fn consensus(&self) -> Result<Ed25519Keypair, KeyFileError> {
        Ok(Ed25519Keypair::from_seed(hex_seed(
            &self.validator()?.consensus_seed,
            "consensus seed",
        )?))
    }

    pub fn bls(&self) -> Result<BlsSecretKey, KeyFileError> {
        let bytes = hex_seed(&self.validator()?.bls_secret_key, "BLS secret key")?;
        BlsSecretKey::from_bytes(&bytes).ok_or(KeyFileError::BadBlsKey)
    }
}
