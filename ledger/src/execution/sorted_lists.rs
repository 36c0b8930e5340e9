//! Sorted lists kept in state (voters, delegators, the jury pool, the deadlines of a height):
//! one entry each, in order, so that every node stores the same bytes whatever order the
//! entries arrived in.

use super::overlay::Overlay;
use crate::state::{StateKey, StateObject};
use crate::storage::StorageError;

/// Inserts `entry` into the sorted list under `key`; refuses past `limit` entries. True when
/// the list holds it afterwards (it may have already).
pub(super) fn insert_sorted<T>(
    state: &mut Overlay<'_>,
    key: StateKey,
    entry: T,
    limit: usize,
) -> Result<bool, StorageError>
where
    T: Ord,
    Vec<T>: StateObject,
{
    let mut list: Vec<T> = state.get(&key)?.unwrap_or_default();
    let Err(position) = list.binary_search(&entry) else {
        return Ok(true);
    };
    if list.len() >= limit {
        return Ok(false);
    }
    list.insert(position, entry);
    state.put(key, &list);
    Ok(true)
}

/// Removes `entry` from the sorted list under `key`, deleting the list when it empties.
pub(super) fn remove_sorted<T>(
    state: &mut Overlay<'_>,
    key: StateKey,
    entry: &T,
) -> Result<(), StorageError>
where
    T: Ord,
    Vec<T>: StateObject,
{
    let mut list: Vec<T> = state.get(&key)?.unwrap_or_default();
    if let Ok(position) = list.binary_search(entry) {
        list.remove(position);
        if list.is_empty() {
            state.delete(key);
        } else {
            state.put(key, &list);
        }
    }
    Ok(())
}
