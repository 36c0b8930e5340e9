//! The rule every set of controller keys obeys wherever it enters state (genesis, issuance,
//! rotation, fork): 1 to [`MAX_CONTROLLER_KEYS`] keys, each the canonical encoding of an
//! ed25519 point of large order, no point twice.
//!
//! A key that is not a point, or is of small order, can never sign (verification refuses it),
//! so a passport held only by such keys would be stranded with whatever it holds; a second
//! encoding of one point would let one key pass for two.

use crate::crypto::ed25519::{Ed25519Error, Ed25519PublicKey};
use crate::transaction::MAX_CONTROLLER_KEYS;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControllerKeysError {
    #[error("a passport needs 1 to {max} controller keys, not {count}")]
    Count { count: usize, max: usize },
    /// `error` is `MalformedKey` (not a point), `WeakKey` (small order) or `NonCanonicalKey`.
    #[error("controller key #{index}: {error}")]
    InvalidKey { index: usize, error: Ed25519Error },
    #[error("controller key #{index} is the same point as key #{first}")]
    Duplicate { index: usize, first: usize },
}

pub fn validate(keys: &[Ed25519PublicKey]) -> Result<(), ControllerKeysError> {
    if keys.is_empty() || keys.len() > MAX_CONTROLLER_KEYS {
        return Err(ControllerKeysError::Count {
            count: keys.len(),
            max: MAX_CONTROLLER_KEYS,
        });
    }
    let mut seen = BTreeMap::new();
    for (index, key) in keys.iter().enumerate() {
        key.validate_canonical()
            .map_err(|error| ControllerKeysError::InvalidKey { index, error })?;
        // Only canonical encodings get here, so one point is one byte string.
        if let Some(first) = seen.insert(key, index) {
            return Err(ControllerKeysError::Duplicate { index, first });
        }
    }
    Ok(())
}
