//! Reads that see pending writes: a transaction's own writes, then its block's, then committed
//! state.

use crate::state::{StateKey, StateObject};
use crate::storage::StorageError;
use std::collections::BTreeMap;

/// Pending writes; `None` deletes. Ordered, so committing them is deterministic.
pub type StateChanges = BTreeMap<StateKey, Option<Vec<u8>>>;

/// Read access to committed state.
pub trait StateReader {
    fn read(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StorageError>;
}

pub(crate) struct Overlay<'a> {
    base: &'a dyn StateReader,
    below: Option<&'a StateChanges>,
    writes: StateChanges,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn StateReader, below: Option<&'a StateChanges>) -> Self {
        Self {
            base,
            below,
            writes: StateChanges::new(),
        }
    }

    fn read_raw(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.writes.get(key) {
            return Ok(value.clone());
        }
        if let Some(value) = self.below.and_then(|below| below.get(key)) {
            return Ok(value.clone());
        }
        self.base.read(key)
    }

    pub fn get<T: StateObject>(&self, key: &StateKey) -> Result<Option<T>, StorageError> {
        match self.read_raw(key)? {
            None => Ok(None),
            Some(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|error| StorageError::Corrupt(format!("{key:?}: {error}"))),
        }
    }

    /// For objects every initialized cell has (its info, mode, treasury, panel).
    pub fn require<T: StateObject>(&self, key: &StateKey) -> Result<T, StorageError> {
        self.get(key)?
            .ok_or_else(|| StorageError::Corrupt(format!("{key:?} is missing from state")))
    }

    pub fn put<T: StateObject>(&mut self, key: StateKey, value: &T) {
        let bytes = borsh::to_vec(value).expect("writing to a Vec cannot fail");
        self.writes.insert(key, Some(bytes));
    }

    pub fn delete(&mut self, key: StateKey) {
        self.writes.insert(key, None);
    }

    pub fn merge(&mut self, changes: StateChanges) {
        self.writes.extend(changes);
    }

    pub fn into_changes(self) -> StateChanges {
        self.writes
    }
}

/// An overlay reads as the state it would leave, so that work which may fail (a process
/// executing at its deadline) can run on an overlay of its own above a block's.
impl StateReader for Overlay<'_> {
    fn read(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StorageError> {
        self.read_raw(key)
    }
}
