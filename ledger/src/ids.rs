//! Identifiers and scalar quantities shared by every part of the ledger.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Whole units of the cell's currency. Unsigned: a negative amount cannot be represented,
/// and every arithmetic step on amounts is checked.
pub type Amount = u64;
/// A block height. Height 0 is genesis; the first block is height 1.
pub type Height = u64;
/// A passport's transaction counter: the next transaction must carry exactly this value.
pub type Nonce = u64;

macro_rules! hash_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// Lower-case hex, the form used in the API, the CLI and configuration.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            pub fn from_hex(text: &str) -> Result<Self, hex::FromHexError> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(text, &mut bytes)?;
                Ok(Self(bytes))
            }
        }

        impl std::str::FromStr for $name {
            type Err = hex::FromHexError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::from_hex(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), &self.to_hex()[..12])
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as Deserialize>::deserialize(deserializer)?;
                Self::from_hex(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

hash_id!(
    /// Names one federation; every signed transaction binds it, so a transaction cannot be
    /// replayed in another federation.
    FederationId
);
hash_id!(
    /// Names a passport. Derived, never chosen: see [`PassportId::derive`].
    PassportId
);
hash_id!(
    /// Names an escrow, derived from its payer and the payer's nonce.
    EscrowId
);
hash_id!(
    /// blake3 of a transaction's canonical encoding.
    TxId
);
hash_id!(
    /// A case number that an arbiter ruling carries, so that the same ruling cannot be applied twice.
    CaseId
);
hash_id!(
    /// Names a cell's checkpoint: blake3 of the bytes its validators sign for it.
    CheckpointId
);
hash_id!(
    /// The cell's beacon after a block: a hash chain of its proposers' reveals (see
    /// `governance::Beacon`).
    BeaconMix
);
hash_id!(
    /// Names a block: blake3 of its header (the consensus crate defines the header). The
    /// ledger does not compute it; checkpoints and proofs carry it.
    BlockHash
);

/// Names a cell within its federation.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct CellId(pub u32);

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cell-{}", self.0)
    }
}

const PASSPORT_ID_DOMAIN: &[u8] = b"charter/passport-id/v1";
const ESCROW_ID_DOMAIN: &[u8] = b"charter/escrow-id/v1";

impl PassportId {
    /// The id of a passport created by `creator`'s transaction with nonce `creator_nonce` in
    /// `cell` (or, at genesis, by the all-zero creator with the genesis index as nonce).
    /// A client can compute the id of the passport it is about to create.
    pub fn derive(cell: CellId, creator: &PassportId, creator_nonce: Nonce) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(PASSPORT_ID_DOMAIN);
        hasher.update(&cell.0.to_le_bytes());
        hasher.update(&creator.0);
        hasher.update(&creator_nonce.to_le_bytes());
        Self(*hasher.finalize().as_bytes())
    }

    /// The id of the `index`-th passport listed in a cell's genesis.
    pub fn genesis(cell: CellId, index: u64) -> Self {
        Self::derive(cell, &PassportId([0; 32]), index)
    }
}

impl EscrowId {
    pub fn derive(cell: CellId, payer: &PassportId, payer_nonce: Nonce) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(ESCROW_ID_DOMAIN);
        hasher.update(&cell.0.to_le_bytes());
        hasher.update(&payer.0);
        hasher.update(&payer_nonce.to_le_bytes());
        Self(*hasher.finalize().as_bytes())
    }
}
