//! The envelope of `POST /v1/transactions/batch` and of the cell's transaction topic: many
//! encoded transactions in one request or message, Borsh `Vec<Vec<u8>>` (a u32 little-endian
//! count, then each transaction as a u32 little-endian length and its bytes). Each transaction
//! inside is then admitted on its own, in order, exactly as a single submission would be.

use borsh::BorshDeserialize;

/// Most transactions one batch may carry.
pub const MAX_BATCH_TRANSACTIONS: usize = 1024;

/// Most bytes one batch's body may have.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("a batch starts with its u32 little-endian count; the body has {0} bytes")]
    NoCount(usize),
    #[error("the batch declares {0} transactions; at most {MAX_BATCH_TRANSACTIONS} are allowed")]
    TooMany(u32),
    #[error(
        "the batch is not Borsh Vec<Vec<u8>> (truncated, or bytes after its last transaction): {0}"
    )]
    Malformed(String),
}

impl BatchError {
    /// The API's error code for a refused envelope.
    pub fn code(&self) -> &'static str {
        "bad_batch"
    }
}

/// The envelope of `transactions`, each already encoded.
pub fn encode_batch(transactions: &[Vec<u8>]) -> Vec<u8> {
    debug_assert!(transactions.len() <= MAX_BATCH_TRANSACTIONS);
    borsh::to_vec(transactions).expect("writing to a Vec cannot fail")
}

/// The transactions a batch body carries, each still encoded.
pub fn decode_batch(body: &[u8]) -> Result<Vec<Vec<u8>>, BatchError> {
    let count: [u8; 4] = (body.get(..4))
        .and_then(|prefix| prefix.try_into().ok())
        .ok_or(BatchError::NoCount(body.len()))?;
    let count = u32::from_le_bytes(count);
    if count as usize > MAX_BATCH_TRANSACTIONS {
        return Err(BatchError::TooMany(count));
    }
    Vec::<Vec<u8>>::try_from_slice(body).map_err(|error| BatchError::Malformed(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(transactions: &[&[u8]]) -> Vec<u8> {
        borsh::to_vec(&transactions.iter().map(|t| t.to_vec()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_batch_decodes_to_its_transactions_in_order() {
        let body = envelope(&[b"first", b"", b"third"]);
        assert_eq!(
            decode_batch(&body).unwrap(),
            vec![b"first".to_vec(), vec![], b"third".to_vec()]
        );
        assert_eq!(decode_batch(&envelope(&[])).unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn truncated_trailing_and_overlong_batches_are_refused() {
        let body = envelope(&[b"first", b"second"]);
        assert_eq!(decode_batch(&body[..2]), Err(BatchError::NoCount(2)));
        assert!(matches!(
            decode_batch(&body[..body.len() - 1]),
            Err(BatchError::Malformed(_))
        ));
        let mut trailing = body.clone();
        trailing.push(0);
        assert!(matches!(
            decode_batch(&trailing),
            Err(BatchError::Malformed(_))
        ));
        let too_many = (MAX_BATCH_TRANSACTIONS as u32 + 1).to_le_bytes();
        assert_eq!(
            decode_batch(&too_many),
            Err(BatchError::TooMany(MAX_BATCH_TRANSACTIONS as u32 + 1))
        );
    }
}
