//! What a simulated process proposes: one transfer from a member only it spends from, so
//! proposals of different processes differ (a twin and its original propose different blocks
//! at the same height, which is what makes them equivocate) and every block carries work the
//! ledger must execute and judge.

use charter_consensus::app::{CellApp, TransactionPool};
use charter_consensus::host::CommittedBlock;
use charter_devnet::fixtures::{DevCell, DevPassport};
use charter_ledger::state::{Passport, StateKey};
use charter_ledger::{Action, Ledger, Nonce, SignedTransaction};
use charter_store::StateStore;
use std::sync::Arc;

pub struct TransferPool {
    cell: Arc<DevCell>,
    sender: DevPassport,
    recipient: DevPassport,
    amount: u64,
    next_nonce: Nonce,
}

impl TransferPool {
    /// Transfers of `amount` from member `sender` to member `recipient`, starting at the nonce
    /// `ledger` expects.
    pub fn new(
        cell: &Arc<DevCell>,
        sender: usize,
        recipient: usize,
        amount: u64,
        ledger: &Ledger<StateStore>,
    ) -> Self {
        let sender = cell.member(sender).clone();
        let next_nonce = committed_nonce(ledger, &sender);
        Self {
            recipient: cell.member(recipient).clone(),
            cell: cell.clone(),
            sender,
            amount,
            next_nonce,
        }
    }
}

fn committed_nonce(ledger: &Ledger<StateStore>, sender: &DevPassport) -> Nonce {
    ledger
        .get::<Passport>(&StateKey::Passport(sender.id))
        .ok()
        .flatten()
        .map_or(0, |passport| passport.nonce)
}

impl TransactionPool<CellApp> for TransferPool {
    fn candidates(&mut self) -> Vec<SignedTransaction> {
        let transfer = Action::Transfer {
            to: self.recipient.id,
            amount: self.amount,
        };
        vec![self
            .cell
            .transaction(&self.sender, self.next_nonce, transfer)]
    }

    fn block_committed(&mut self, _block: &CommittedBlock, state: &Ledger<StateStore>) {
        self.next_nonce = committed_nonce(state, &self.sender);
    }
}
