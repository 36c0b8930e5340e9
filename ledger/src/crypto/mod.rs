//! Signature schemes the ledger checks for itself: ed25519 for transactions, votes and rulings,
//! and BLS (IETF draft, G1 public keys, G2 signatures) for checkpoint keys.

/// Byte-array newtypes serialize as hex strings in JSON.
macro_rules! serde_hex {
    ($name:ident, $len:expr) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&hex::encode(self.0))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut bytes = [0u8; $len];
                hex::decode_to_slice(
                    <String as serde::Deserialize>::deserialize(deserializer)?,
                    &mut bytes,
                )
                .map_err(serde::de::Error::custom)?;
                Ok(Self(bytes))
            }
        }
    };
}
pub(crate) use serde_hex;

pub mod bls;
pub mod ed25519;
