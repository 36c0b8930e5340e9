//! The engine's write-ahead log as the simulation keeps it across kills: entries of the
//! current height, those written through (`flushed`) and those still buffered, which a kill
//! loses. Malachite's engine writes the log through before any message leaves, at each new
//! round and at a decision.

use crate::process::Ctx;
use charter_consensus::block::BlockHeight;
use malachitebft_core_consensus::WalEntry;

#[derive(Default)]
pub struct Wal {
    height: Option<BlockHeight>,
    flushed: Vec<WalEntry<Ctx>>,
    buffered: Vec<WalEntry<Ctx>>,
}

impl Wal {
    pub fn append(&mut self, entry: WalEntry<Ctx>) {
        self.buffered.push(entry);
    }

    pub fn flush(&mut self) {
        self.flushed.append(&mut self.buffered);
    }

    pub fn lose_unflushed(&mut self) {
        self.buffered.clear();
    }

    pub fn reset(&mut self, height: BlockHeight) {
        *self = Wal {
            height: Some(height),
            ..Wal::default()
        };
    }

    /// What to replay when `height` starts: the log's entries when it is that height's (a
    /// restart mid-height), else nothing, and the log starts over for `height`.
    pub fn entries_for(&mut self, height: BlockHeight) -> Vec<WalEntry<Ctx>> {
        if self.height == Some(height) {
            self.flush();
            return self.flushed.clone();
        }
        self.reset(height);
        Vec::new()
    }
}
