//! The transactions whose signatures this node has verified. A transaction's id hashes all of
//! its bytes, signature included, and whether a signature verifies is a pure function of those
//! bytes: once verified, the same id never needs verifying again. Admission verifies; proposing,
//! validating and committing a block verify only what admission did not see. Bounded: the
//! oldest ids are forgotten first, and a forgotten one is simply verified again.

use super::{batch_verdicts, CheckedTransaction};
use crate::crypto::ed25519::KeyPoints;
use crate::ids::TxId;
use crate::transaction::SignedTransaction;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Ids remembered: more than a full mempool and the blocks in flight.
const REMEMBERED: usize = 100_000;

/// Shared by the mempool and the consensus application of one node, with the signers' keys
/// they verified with, kept decompressed.
#[derive(Clone, Debug, Default)]
pub struct VerifiedSignatures {
    remembered: Arc<Mutex<Remembered>>,
    keys: KeyPoints,
}

#[derive(Debug, Default)]
struct Remembered {
    ids: HashSet<TxId>,
    order: VecDeque<TxId>,
}

impl VerifiedSignatures {
    fn lock(&self) -> MutexGuard<'_, Remembered> {
        self.remembered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn contains(&self, id: &TxId) -> bool {
        self.lock().ids.contains(id)
    }

    fn remember(&self, verified: impl IntoIterator<Item = TxId>) {
        let mut remembered = self.lock();
        for id in verified {
            if remembered.ids.insert(id) {
                remembered.order.push_back(id);
            }
        }
        while remembered.order.len() > REMEMBERED {
            if let Some(oldest) = remembered.order.pop_front() {
                remembered.ids.remove(&oldest);
            }
        }
        debug_assert_eq!(remembered.ids.len(), remembered.order.len());
    }

    /// Checks one transaction's signature unless it was verified before, and remembers it when
    /// it verifies.
    pub fn check<'a>(&self, transaction: &'a SignedTransaction) -> CheckedTransaction<'a> {
        let id = transaction.id();
        if self.contains(&id) {
            return CheckedTransaction::pre_verified_as(transaction, id);
        }
        let checked = CheckedTransaction::verify_as(transaction, id);
        if checked.signature.is_ok() {
            self.remember([id]);
        }
        checked
    }

    /// Checks a block's transactions: those not verified before in one batch (one by one only
    /// when the batch fails, to name the bad ones), and remembers those that verify.
    pub fn check_all<'a>(
        &self,
        transactions: &'a [SignedTransaction],
    ) -> Vec<CheckedTransaction<'a>> {
        let ids: Vec<TxId> = transactions.iter().map(SignedTransaction::id).collect();
        let unknown: Vec<usize> = {
            let remembered = self.lock();
            (0..ids.len())
                .filter(|index| !remembered.ids.contains(&ids[*index]))
                .collect()
        };
        let unverified: Vec<&SignedTransaction> =
            unknown.iter().map(|index| &transactions[*index]).collect();
        let mut verdicts = batch_verdicts(&self.keys, &unverified);
        debug_assert_eq!(verdicts.len(), unknown.len());
        self.remember(
            (unknown.iter().zip(&verdicts))
                .filter_map(|(index, verdict)| verdict.is_ok().then_some(ids[*index])),
        );
        let mut checked: Vec<CheckedTransaction<'a>> = (transactions.iter().zip(ids))
            .map(|(transaction, id)| CheckedTransaction::pre_verified_as(transaction, id))
            .collect();
        for (index, verdict) in unknown.into_iter().zip(verdicts.drain(..)) {
            checked[index].signature = verdict;
        }
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ed25519::Ed25519Keypair;
    use crate::{Action, CellId, FederationId, PassportId, TransactionBody};

    fn transfer(nonce: u64) -> SignedTransaction {
        TransactionBody {
            federation: FederationId([1; 32]),
            cell: CellId(0),
            sender: PassportId([2; 32]),
            nonce,
            fee: 0,
            action: Action::Transfer {
                to: PassportId([3; 32]),
                amount: 1,
            },
        }
        .sign(&Ed25519Keypair::from_seed([4; 32]))
    }

    #[test]
    fn remembers_only_what_verified_and_judges_a_batch_as_one_by_one_would() {
        let verified = VerifiedSignatures::default();
        let good = transfer(0);
        let mut forged = transfer(1);
        forged.body.fee = 9;
        assert!(verified.check(&good).signature.is_ok());
        assert!(verified.contains(&good.id()));

        let block = vec![good.clone(), forged.clone(), transfer(2)];
        let checked = verified.check_all(&block);
        let verdicts: Vec<bool> = checked.iter().map(|c| c.signature.is_ok()).collect();
        assert_eq!(verdicts, [true, false, true]);
        assert!(verified.contains(&transfer(2).id()));
        assert!(!verified.contains(&forged.id()));
        assert!(
            verified.check(&forged).signature.is_err(),
            "a bad one is checked every time"
        );
    }

    #[test]
    fn forgets_the_oldest_beyond_its_bound() {
        let verified = VerifiedSignatures::default();
        verified.remember((0..REMEMBERED as u64 + 2).map(|n| {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&n.to_le_bytes());
            TxId(id)
        }));
        assert!(!verified.contains(&TxId([0; 32])));
        let mut newest = [0u8; 32];
        newest[..8].copy_from_slice(&(REMEMBERED as u64 + 1).to_le_bytes());
        assert!(verified.contains(&TxId(newest)));
    }
}
