//! A read handle on the ledger consensus commits to, for the parts of a node that read state
//! beside it (admission, the API): each time it is taken it is refreshed to the latest
//! committed height, so one read sees one consistent height.

use charter_ledger::storage::Storage;
use charter_ledger::{Ledger, LedgerError};
use std::sync::{Mutex, MutexGuard};

pub struct LatestLedger<S: Storage>(Mutex<Ledger<S>>);

impl<S: Storage> LatestLedger<S> {
    pub fn new(ledger: Ledger<S>) -> Self {
        Self(Mutex::new(ledger))
    }

    /// The ledger at the latest committed height, held until the guard is dropped.
    pub fn at_latest(&self) -> Result<MutexGuard<'_, Ledger<S>>, LedgerError> {
        let mut ledger = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ledger.refresh()?;
        Ok(ledger)
    }
}
