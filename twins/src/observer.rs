//! What the simulation checks, from everything the processes publish and commit:
//! - **agreement**: no two different blocks committed at one height, by any process, twins
//!   included (one Byzantine validator in a tolerated minority cannot split the cell);
//! - **honest signers**: a validator run by one process never signs two different votes or
//!   proposals at one (height, round, step), whatever kills and restarts it went through;
//! - **validity**: every decided block commits (the application re-executes it), and no
//!   process stops on an error;
//! - **liveness** (by the simulation): once the schedule heals, every honest process commits.

use crate::process::Ctx;
use charter_consensus::block::{BlockHash, BlockHeight};
use charter_consensus::context::ConsensusVote;
use charter_consensus::engine_signer::WITHHELD;
use malachitebft_core_types::{NilOrVal, SignedMessage, VoteType};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    Disagreement {
        height: u64,
        first: BlockHash,
        second: BlockHash,
        process: usize,
    },
    HonestConflict {
        validator: usize,
        height: u64,
        round: u32,
        step: &'static str,
    },
    Failure {
        process: usize,
        error: String,
    },
    NotLive {
        target: u64,
        stuck: Vec<(usize, u64)>,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Disagreement {
                height,
                first,
                second,
                process,
            } => write!(
                f,
                "agreement: process {process} committed {second} at height {height}, where {first} was committed"
            ),
            Violation::HonestConflict {
                validator,
                height,
                round,
                step,
            } => write!(
                f,
                "honest validator {validator} signed two different {step}s at height {height}, round {round}"
            ),
            Violation::Failure { process, error } => {
                write!(f, "process {process} stopped: {error}")
            }
            Violation::NotLive { target, stuck } => {
                let stuck: Vec<String> = stuck
                    .iter()
                    .map(|(process, height)| format!("process {process} at height {height}"))
                    .collect();
                write!(
                    f,
                    "liveness: after the heal, not every honest process reached height {target}: {}",
                    stuck.join(", ")
                )
            }
        }
    }
}

/// A signed position: validator, height, round, step.
type Position = (usize, u64, u32, &'static str);

pub struct Observer {
    honest: Vec<bool>,
    validator_of: Vec<usize>,
    committed: BTreeMap<u64, BlockHash>,
    committed_height: Vec<u64>,
    signed: BTreeMap<Position, Option<BlockHash>>,
    /// Positions where a twinned validator's two processes signed different things.
    equivocations: BTreeSet<Position>,
    violations: Vec<Violation>,
}

impl Observer {
    pub fn new(honest: Vec<bool>, validator_of: Vec<usize>) -> Self {
        let processes = honest.len();
        Self {
            honest,
            validator_of,
            committed: BTreeMap::new(),
            committed_height: vec![0; processes],
            signed: BTreeMap::new(),
            equivocations: BTreeSet::new(),
            violations: Vec::new(),
        }
    }

    pub fn committed(&mut self, process: usize, height: BlockHeight, block: BlockHash) {
        let first = *self.committed.entry(height.0).or_insert(block);
        if first != block {
            self.violations.push(Violation::Disagreement {
                height: height.0,
                first,
                second: block,
                process,
            });
        }
        self.committed_height[process] = height.0;
    }

    /// A process lost its store: it commits again from the first height.
    pub fn store_lost(&mut self, process: usize) {
        self.committed_height[process] = 0;
    }

    pub fn committed_height(&self, process: usize) -> u64 {
        self.committed_height[process]
    }

    pub fn highest_committed(&self) -> u64 {
        self.committed.keys().next_back().copied().unwrap_or(0)
    }

    pub fn voted(&mut self, process: usize, vote: &SignedMessage<Ctx, ConsensusVote>) {
        // A withheld signature is the guard's silence: nobody accepts it.
        if vote.signature == WITHHELD {
            return;
        }
        let step = match vote.message.vote_type {
            VoteType::Prevote => "prevote",
            VoteType::Precommit => "precommit",
        };
        let value = match &vote.message.value {
            NilOrVal::Nil => None,
            NilOrVal::Val(block) => Some(*block),
        };
        let position = (
            self.validator_of[process],
            vote.message.height.0,
            vote.message.round,
            step,
        );
        self.signed_at(process, position, value);
    }

    pub fn proposed(&mut self, process: usize, height: BlockHeight, round: u32, block: BlockHash) {
        let position = (self.validator_of[process], height.0, round, "proposal");
        self.signed_at(process, position, Some(block));
    }

    fn signed_at(&mut self, process: usize, position: Position, value: Option<BlockHash>) {
        let first = *self.signed.entry(position).or_insert(value);
        if first == value {
            return;
        }
        if self.honest[process] {
            let (validator, height, round, step) = position;
            self.violations.push(Violation::HonestConflict {
                validator,
                height,
                round,
                step,
            });
        } else {
            self.equivocations.insert(position);
        }
    }

    pub fn failed(&mut self, process: usize, error: String) {
        self.violations.push(Violation::Failure { process, error });
    }

    pub fn not_live(&mut self, target: u64, stuck: Vec<(usize, u64)>) {
        self.violations.push(Violation::NotLive { target, stuck });
    }

    pub fn twin_equivocations(&self) -> usize {
        self.equivocations.len()
    }

    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}
