//! The start of a block that carries its proposer's reveal: the cell's beacon mixes it in,
//! before any transaction, so that the draws at the end of the block use it. The ledger
//! checks the reveal against the proposer's BLS key before executing (`Ledger::prepare_block`).

use super::overlay::Overlay;
use super::{Projection, StateReader};
use crate::crypto::bls::BlsSignature;
use crate::governance::Beacon;
use crate::state::StateKey;
use crate::storage::StorageError;

impl Projection {
    pub(super) fn mix_beacon(
        &mut self,
        state: &dyn StateReader,
        reveal: &BlsSignature,
    ) -> Result<(), StorageError> {
        let mut block = Overlay::new(state, Some(&self.changes));
        let beacon: Beacon = block.require(&StateKey::Beacon)?;
        block.put(StateKey::Beacon, &beacon.mixed(self.height, reveal));
        self.changes.extend(block.into_changes());
        Ok(())
    }
}
