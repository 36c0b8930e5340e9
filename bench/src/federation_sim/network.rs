//! The simulated network: a clock, the events waiting on it in time order, and the latency and
//! loss model every delivery draws from one seeded generator.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Simulated time, in microseconds.
pub type Micros = u64;

pub const MILLISECOND: Micros = 1_000;

/// One hop between two nodes takes a uniform 50–150 ms.
const HOP: std::ops::RangeInclusive<Micros> = 50 * MILLISECOND..=150 * MILLISECOND;

/// Peers each node forwards a topic's messages to: gossipsub's mesh degree.
const MESH_DEGREE: usize = 6;

/// Hops from a message's publisher to one subscriber of its topic, drawn for a subscriber at a
/// random place in the topic's gossip mesh of `subscribers`: the publisher reaches
/// [`MESH_DEGREE`] subscribers in one hop (its mesh peers, or fanout peers when it does not
/// subscribe), and each of those forwards to `MESH_DEGREE − 1` new ones, so `h` hops reach
/// `6 + 30 + … + 6·5^(h−1)`. A topic of one subscriber, an aggregator's, is one hop: a cell's
/// validators are directly connected, as consensus needs.
fn hops(subscribers: usize, place: usize) -> u32 {
    debug_assert!((1..=subscribers).contains(&place));
    let (mut hops, mut reached, mut layer) = (1, MESH_DEGREE, MESH_DEGREE);
    while reached < place {
        layer *= MESH_DEGREE - 1;
        reached += layer;
        hops += 1;
    }
    hops
}

/// Events in time order (ties in the order they were scheduled), and what decides when and
/// whether a message arrives.
pub struct Network<E> {
    pub now: Micros,
    queue: BTreeMap<(Micros, u64), E>,
    scheduled: u64,
    random: ChaCha8Rng,
    /// The probability that one delivery of one message to one subscriber is lost.
    loss: f64,
    pub lost: u64,
}

impl<E> Network<E> {
    pub fn new(random: ChaCha8Rng, loss: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&loss),
            "a loss rate is a probability below 1"
        );
        Self {
            now: 0,
            queue: BTreeMap::new(),
            scheduled: 0,
            random,
            loss,
            lost: 0,
        }
    }

    pub fn at(&mut self, time: Micros, event: E) {
        debug_assert!(time >= self.now, "an event is never scheduled in the past");
        self.queue.insert((time, self.scheduled), event);
        self.scheduled += 1;
    }

    /// The next event, with the clock moved to its time.
    pub fn next(&mut self) -> Option<E> {
        let ((time, _), event) = self.queue.pop_first()?;
        self.now = time;
        Some(event)
    }

    /// When a message published at `sent` reaches one subscriber of a topic of
    /// `subscribers`, or `None` when this delivery is lost (the loss rate applies to each
    /// delivery as a whole, however many hops it takes).
    pub fn delivery(&mut self, sent: Micros, subscribers: usize) -> Option<Micros> {
        let place = self.random.gen_range(1..=subscribers);
        let travel: Micros = (0..hops(subscribers, place))
            .map(|_| self.random.gen_range(HOP))
            .sum();
        if self.random.gen_bool(self.loss) {
            self.lost += 1;
            return None;
        }
        Some(sent + travel)
    }

    /// A number in `0..bound`, from the simulation's generator.
    pub fn pick(&mut self, bound: usize) -> usize {
        self.random.gen_range(0..bound)
    }

    /// Where in `0..span` something starts.
    pub fn offset(&mut self, span: Micros) -> Micros {
        self.random.gen_range(0..span)
    }
}
