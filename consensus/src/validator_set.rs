//! A cell's validators with their voting power, and the Tendermint quorum rule over them.

use borsh::{BorshDeserialize, BorshSerialize};
use charter_ledger::crypto::ed25519::Ed25519PublicKey;
use charter_ledger::ids::PassportId;
use charter_ledger::ledger::{Ledger, LedgerError};
use charter_ledger::state::ActiveValidator;
use charter_ledger::storage::Storage;

/// Validators in passport-id order. Never empty, total power never zero.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorSet {
    members: Vec<ActiveValidator>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    #[error("a cell needs at least one validator with voting power")]
    Empty,
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl ValidatorSet {
    pub fn new(mut members: Vec<ActiveValidator>) -> Result<Self, ValidatorSetError> {
        members.retain(|member| member.power > 0);
        if members.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        members.sort_by_key(|member| member.passport);
        Ok(Self { members })
    }

    /// The validators of the ledger's current epoch.
    pub fn from_ledger<S: Storage>(ledger: &Ledger<S>) -> Result<Self, ValidatorSetError> {
        Self::new(ledger.active_validators()?.members)
    }

    pub fn members(&self) -> &[ActiveValidator] {
        &self.members
    }

    pub fn total_power(&self) -> u128 {
        self.members
            .iter()
            .map(|member| u128::from(member.power))
            .sum()
    }

    /// More than two thirds of the total power: what a commit certificate needs, and what
    /// guarantees that two certificates share an honest validator when fewer than a third is
    /// Byzantine.
    pub fn is_quorum(&self, power: u128) -> bool {
        power * 3 > self.total_power() * 2
    }

    /// The smallest power that is a quorum.
    pub fn quorum_power(&self) -> u128 {
        self.total_power() * 2 / 3 + 1
    }

    pub fn contains(&self, passport: &PassportId) -> bool {
        self.members
            .iter()
            .any(|member| member.passport == *passport)
    }

    pub fn member_by_key(&self, key: &Ed25519PublicKey) -> Option<&ActiveValidator> {
        self.members
            .iter()
            .find(|member| member.consensus_key == *key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charter_devnet::fixtures::{DevCell, DevCellConfig};
    use charter_ledger::crypto::bls::BlsPublicKey;
    use charter_ledger::storage::MemoryStorage;
    use charter_ledger::{Amount, PassportId};

    fn member(byte: u8, power: Amount) -> ActiveValidator {
        ActiveValidator {
            passport: PassportId([byte; 32]),
            consensus_key: Ed25519PublicKey([byte; 32]),
            bls_key: BlsPublicKey([byte; 48]),
            power,
        }
    }

    #[test]
    fn quorum_is_strictly_more_than_two_thirds() {
        let set = ValidatorSet::new((1..=4).map(|byte| member(byte, 10)).collect()).unwrap();
        assert_eq!(set.total_power(), 40);
        assert!(!set.is_quorum(26));
        assert!(set.is_quorum(27));
        assert_eq!(set.quorum_power(), 27);
        let uneven = ValidatorSet::new(vec![member(1, 1), member(2, 2)]).unwrap();
        assert!(!uneven.is_quorum(2));
        assert!(uneven.is_quorum(3));
    }

    #[test]
    fn order_is_canonical_and_powerless_members_drop_out() {
        let a = ValidatorSet::new(vec![member(2, 5), member(1, 5), member(3, 0)]).unwrap();
        let b = ValidatorSet::new(vec![member(1, 5), member(2, 5)]).unwrap();
        assert_eq!(a, b);
        assert_ne!(
            a,
            ValidatorSet::new(vec![member(1, 5), member(2, 6)]).unwrap()
        );
        assert_eq!(
            ValidatorSet::new(vec![member(1, 0)]),
            Err(ValidatorSetError::Empty)
        );
    }

    #[test]
    fn set_comes_from_bonds_in_the_ledger() {
        let cell = DevCell::new(3, DevCellConfig::default());
        let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
        ledger.init_genesis(&cell.genesis).unwrap();
        let set = ValidatorSet::from_ledger(&ledger).unwrap();
        assert_eq!(set.members().len(), 4);
        assert_eq!(set.total_power(), 40_000);
        let key = cell
            .validator(2)
            .consensus_key
            .as_ref()
            .unwrap()
            .public_key();
        assert_eq!(
            set.member_by_key(&key).unwrap().passport,
            cell.validator(2).id
        );
    }
}
