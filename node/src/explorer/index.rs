//! What the explorer looks up that the state does not index: every escrow and who is party to
//! it, each passport's transactions, and the slashes with their evidence, read from the
//! committed blocks; and when the latest blocks committed here, for the activity chart.
//!
//! Nothing here feeds the state root: it is this node's view, rebuilt from its block store.

use charter_consensus::block::BlockHeight;
use charter_consensus::block_store::{BlockStore, BlockStoreError};
use charter_ledger::transaction::SlashEvidence;
use charter_ledger::{Action, CellId, EscrowId, PassportId, TxId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

/// The transactions kept per passport, latest first on its page.
const TRANSACTIONS_PER_PASSPORT: usize = 200;
/// How far back the activity chart reaches.
pub const RECENT: Duration = Duration::from_secs(300);

/// A committed `Slash`, with its evidence.
#[derive(Clone, Debug)]
pub struct SlashRecord {
    pub height: u64,
    pub transaction: TxId,
    pub evidence: SlashEvidence,
}

#[derive(Default)]
pub struct ExplorerIndex {
    /// Blocks up to here are indexed.
    indexed: u64,
    escrows: BTreeSet<EscrowId>,
    escrows_by_party: BTreeMap<PassportId, BTreeSet<EscrowId>>,
    transactions_by_sender: BTreeMap<PassportId, VecDeque<(u64, TxId)>>,
    slashes: Vec<SlashRecord>,
}

impl ExplorerIndex {
    /// Indexes the committed transactions of the blocks above what is indexed, up to `applied`
    /// (the ledger's height); a height at or below what is indexed changes nothing.
    pub fn catch_up(
        &mut self,
        blocks: &BlockStore,
        cell: CellId,
        applied: u64,
    ) -> Result<(), BlockStoreError> {
        for height in self.indexed + 1..=applied {
            let (Some(decided), Some(outcomes)) = (
                blocks.decided(BlockHeight(height))?,
                blocks.outcomes(BlockHeight(height))?,
            ) else {
                // Pruned below the earliest stored block, or not stored yet: nothing to read.
                continue;
            };
            let transactions = decided.block.transactions.iter().zip(outcomes.iter());
            for (transaction, outcome) in transactions {
                if outcome.rejection.is_none() {
                    self.committed(cell, height, outcome.id, &transaction.body);
                }
            }
            self.indexed = height;
        }
        Ok(())
    }

    fn committed(
        &mut self,
        cell: CellId,
        height: u64,
        id: TxId,
        body: &charter_ledger::TransactionBody,
    ) {
        let sender = body.sender;
        let sent = self.transactions_by_sender.entry(sender).or_default();
        sent.push_front((height, id));
        sent.truncate(TRANSACTIONS_PER_PASSPORT);
        match &body.action {
            Action::EscrowCreate { payee, arbiter, .. } => {
                let escrow = EscrowId::derive(cell, &sender, body.nonce);
                self.escrows.insert(escrow);
                for party in [Some(sender), Some(*payee), *arbiter].into_iter().flatten() {
                    (self.escrows_by_party.entry(party).or_default()).insert(escrow);
                }
            }
            Action::Slash { evidence } => self.slashes.push(SlashRecord {
                height,
                transaction: id,
                evidence: evidence.clone(),
            }),
            _ => {}
        }
    }

    pub fn escrows(&self) -> impl Iterator<Item = &EscrowId> {
        self.escrows.iter()
    }

    pub fn escrows_of(&self, party: &PassportId) -> impl Iterator<Item = &EscrowId> {
        self.escrows_by_party.get(party).into_iter().flatten()
    }

    /// The passport's latest committed transactions, latest first, with their heights.
    pub fn transactions_of(&self, sender: &PassportId) -> impl Iterator<Item = &(u64, TxId)> {
        self.transactions_by_sender
            .get(sender)
            .into_iter()
            .flatten()
    }

    pub fn slashes(&self) -> &[SlashRecord] {
        &self.slashes
    }
}

/// One block as it committed here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecentBlock {
    pub at: SystemTime,
    /// Its transactions that committed (not those it carried and the ledger rejected).
    pub transactions: usize,
}

/// The blocks committed here over the last [`RECENT`], oldest first.
#[derive(Default)]
pub struct RecentBlocks {
    blocks: VecDeque<RecentBlock>,
}

impl RecentBlocks {
    pub fn committed(&mut self, block: RecentBlock) {
        self.blocks.push_back(block);
        while (self.blocks.front())
            .is_some_and(|oldest| block.at.duration_since(oldest.at).unwrap_or_default() > RECENT)
        {
            self.blocks.pop_front();
        }
    }

    pub fn blocks(&self) -> impl Iterator<Item = &RecentBlock> {
        self.blocks.iter()
    }

    /// Committed transactions per second and the mean block interval over the last `window`
    /// before `now`; `None` with fewer than two blocks in it.
    pub fn rates(&self, now: SystemTime, window: Duration) -> Option<(f64, Duration)> {
        let within =
            |block: &&RecentBlock| now.duration_since(block.at).unwrap_or_default() <= window;
        let blocks: Vec<&RecentBlock> = self.blocks.iter().filter(within).collect();
        let (first, last) = (blocks.first()?, blocks.last()?);
        let span = last
            .at
            .duration_since(first.at)
            .ok()
            .filter(|span| !span.is_zero())?;
        let transactions: usize = blocks[1..].iter().map(|block| block.transactions).sum();
        let interval = span / (blocks.len() - 1) as u32;
        Some((transactions as f64 / span.as_secs_f64(), interval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_the_transactions_after_the_first_block_over_the_span() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut recent = RecentBlocks::default();
        for (second, transactions) in [(0, 7), (1, 10), (2, 30)] {
            recent.committed(RecentBlock {
                at: start + Duration::from_secs(second),
                transactions,
            });
        }
        let now = start + Duration::from_secs(2);
        assert_eq!(
            recent.rates(now, Duration::from_secs(60)),
            Some((20.0, Duration::from_secs(1)))
        );
        assert_eq!(recent.rates(now, Duration::from_millis(500)), None);
    }

    #[test]
    fn blocks_older_than_the_chart_are_forgotten() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut recent = RecentBlocks::default();
        let block = |seconds| RecentBlock {
            at: start + Duration::from_secs(seconds),
            transactions: 0,
        };
        recent.committed(block(0));
        recent.committed(block(RECENT.as_secs() + 1));
        let kept: Vec<SystemTime> = recent.blocks().map(|block| block.at).collect();
        assert_eq!(kept, [start + Duration::from_secs(RECENT.as_secs() + 1)]);
    }
}
