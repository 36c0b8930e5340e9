//! The cells' validators that are not sampled, modelled: when each signs a checkpoint, when
//! each aggregator of a cell holds a quorum of its cell's signatures, and when each assembler of
//! a checkpoint's cell holds enough cells' aggregates for its certificate.

use super::costs;
use super::network::Micros;
use crate::fixtures::{QUORUM, VALIDATORS};
use charter_federation::checkpoint::CellAggregate;
use charter_ledger::CellId;
use std::sync::Arc;

/// One cell's signing of one checkpoint.
pub struct Signing {
    /// When each validator's signature leaves it, once it has signed.
    pub signed: Vec<Option<Micros>>,
    pub aggregators: Vec<Aggregator>,
}

impl Signing {
    /// `positions` are the cell's aggregators of the checkpoint; `sampled` the position of the
    /// cell's sampled node, whose aggregation is its own.
    pub fn new(positions: &[usize], sampled: Option<usize>) -> Self {
        Self {
            signed: vec![None; VALIDATORS],
            aggregators: (positions.iter())
                .map(|position| Aggregator {
                    position: *position,
                    sampled: sampled == Some(*position),
                    arrivals: Vec::with_capacity(VALIDATORS),
                    scheduled: None,
                    generation: 0,
                    published: false,
                })
                .collect(),
        }
    }

    /// Whether every modelled aggregator has published the cell's aggregate.
    pub fn done(&self) -> bool {
        (self.aggregators.iter()).all(|aggregator| aggregator.sampled || aggregator.published)
    }
}

/// One of a cell's aggregators of one checkpoint.
pub struct Aggregator {
    pub position: usize,
    /// A sampled node: the signatures go to it as messages and it aggregates them itself.
    pub sampled: bool,
    /// When the other validators' signatures reached it.
    arrivals: Vec<Micros>,
    /// When it publishes, as scheduled by what has reached it so far.
    pub scheduled: Option<Micros>,
    /// Counts reschedules, so that an outdated scheduled event is known when it comes.
    pub generation: u32,
    pub published: bool,
}

impl Aggregator {
    pub fn heard(&mut self, arrival: Micros) {
        self.arrivals.push(arrival);
    }

    /// When it holds a quorum and has checked it, by what has reached it so far, its own
    /// signature `own` included. Signatures are checked as they come, gathered for a while
    /// each time, so what is left once the quorum is reached is the last gathering and its
    /// batch.
    pub fn ready(&self, own: Option<Micros>) -> Option<Micros> {
        let own = own?;
        let others = QUORUM - 1;
        if self.arrivals.len() < others {
            return None;
        }
        let mut arrivals = self.arrivals.clone();
        let (_, quorum_reached, _) = arrivals.select_nth_unstable(others - 1);
        let last_batch = costs::SIGNATURE_BATCH + costs::GATHERED * costs::SIGNATURE_IN_BATCH;
        Some(own.max(*quorum_reached) + costs::gathering() + last_batch)
    }
}

/// What one assembler of a checkpoint's certificate (one of its cell's aggregators of it) holds:
/// the first aggregate of each cell that reached it, in the order they did; a sampled node's
/// aggregate as it published it, a modelled one as `None`.
pub struct Assembly {
    pub origin: CellId,
    pub held: Vec<(CellId, Option<Arc<CellAggregate>>)>,
    pub done: bool,
}

impl Assembly {
    pub fn new(origin: CellId) -> Self {
        Self {
            origin,
            held: Vec::new(),
            done: false,
        }
    }

    /// Takes `cell`'s aggregate if it is the first of that cell; whether the certificate of
    /// `k` cells, the origin among them, is complete with it.
    pub fn take(&mut self, cell: CellId, aggregate: Option<Arc<CellAggregate>>, k: usize) -> bool {
        if self.done || self.held.iter().any(|(held, _)| *held == cell) {
            return false;
        }
        self.held.push((cell, aggregate));
        let has_origin = self.held.iter().any(|(held, _)| *held == self.origin);
        self.done = has_origin && self.held.len() >= k;
        self.done
    }

    /// The cells the certificate names: the origin, and the first `k − 1` others that came.
    pub fn signers(&self, k: usize) -> Vec<&(CellId, Option<Arc<CellAggregate>>)> {
        let origin = self.held.iter().filter(|(cell, _)| *cell == self.origin);
        let others = (self.held.iter()).filter(|(cell, _)| *cell != self.origin);
        origin.chain(others.take(k - 1)).collect()
    }
}
