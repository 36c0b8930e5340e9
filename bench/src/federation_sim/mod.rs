//! A seeded discrete-event simulation of federation finality, in one process: `N` cells of 100
//! validators each produce a checkpoint every epoch, a few **sampled** validators run the node's
//! real [`Finality`](charter_node::finality::Finality) (collector, certificate code, BLS) on
//! the messages the simulated network brings them, and every other validator is modelled
//! ([`cells`]) with the unit costs of [`costs`]. Messages between nodes take 50–150 ms a hop and
//! are lost at a given rate ([`network`]).
//!
//! Modelled messages are real bytes wherever a sampled node receives them: a cell's aggregate
//! is signed with the sum of its quorum's secret keys, the same bytes as aggregating their
//! signatures (checked at the start with 100 real signatures, [`in_cell_aggregation`]), and
//! a certificate aggregates the aggregates its assembler took first. The schedule depends on
//! the seed alone: the same seed gives the same messages, finality times and digest.

mod cells;
mod costs;
mod network;
mod node;

use crate::fixtures::{
    busiest_aggregator, committee_and_k, node as finality_node, Validators, FEDERATION, QUORUM,
    VALIDATORS,
};
use anyhow::{ensure, Result};
use cells::{Assembly, Signing};
use charter_federation::checkpoint::{CellAggregate, Checkpoint, CheckpointCertificate};
use charter_federation::collector::FederationMessage;
use charter_federation::committee::{aggregators, committee};
use charter_ledger::crypto::bls::{aggregate, BlsSignature};
use charter_ledger::CellId;
use charter_node::gossip::{
    aggregator_topic, cell_checkpoints_topic, certificates_topic, checkpoints_topic,
};
use network::{Micros, Network, MILLISECOND};
pub use node::NodeStats;
use node::{SampledNode, Step};
use rand::SeedableRng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time between two epochs' blocks, long enough for an epoch's finality to be over.
const EPOCH_SPAN: Micros = 10_000 * MILLISECOND;
/// Cells' blocks of one epoch are not simultaneous: each comes within this of the epoch's start.
const BLOCK_SPREAD: Micros = 200 * MILLISECOND;

pub struct SimConfig {
    pub cells: usize,
    pub epochs: u64,
    /// Validators run with the node's own code, each in its own cell.
    pub sampled: usize,
    /// Cells each sampled node follows besides its own.
    pub follows: usize,
    /// The probability that one delivery to one subscriber is lost.
    pub loss: f64,
    pub seed: u64,
    /// Where the sampled nodes keep their files.
    pub dir: PathBuf,
}

/// What one run of the simulation measured.
pub struct SimRun {
    pub cells: usize,
    pub committee: usize,
    pub k: usize,
    pub epochs: u64,
    /// Each sampled node: its cell, its position in the cell's set, the cells it follows
    /// besides its own, and what it received, sent and spent.
    pub nodes: Vec<(CellId, usize, usize, NodeStats)>,
    /// From each checkpoint's block to its final certificate at each sampled node that follows
    /// its cell, sorted.
    pub finality: Vec<Micros>,
    /// Checkpoints of followed cells never final at a sampled node.
    pub not_final: usize,
    pub lost: u64,
    /// A hash of the schedule's outcome (finality times, each node's counts): the same for
    /// the same seed.
    pub digest: String,
    pub wall: Duration,
}

/// Runs the simulation once.
pub fn run(config: &SimConfig, validators: &Validators) -> Result<SimRun> {
    ensure!(config.cells >= 2, "a federation has at least two cells");
    if config.dir.exists() {
        std::fs::remove_dir_all(&config.dir)?;
    }
    let started = Instant::now();
    let mut simulation = Simulation::new(config, validators)?;
    simulation.schedule_blocks();
    while let Some(event) = simulation.network.next() {
        simulation.handle(event)?;
    }
    Ok(simulation.finish(started.elapsed()))
}

/// One cell's real signing of a checkpoint against the sum of its quorum's keys.
pub struct InCell {
    /// 100 validators' signatures made one by one.
    pub signed: Duration,
    /// The first 67 of them aggregated.
    pub aggregated: Duration,
}

/// Signs one checkpoint with each of a cell's 100 keys, aggregates a quorum's signatures, and
/// checks that the aggregate is the signature of the quorum's summed key the simulation uses.
pub fn in_cell_aggregation(validators: &Validators) -> Result<InCell> {
    let checkpoint = validators.checkpoint(CellId(0), 1);
    let message = checkpoint.signing_bytes();
    let started = Instant::now();
    let signatures: Vec<BlsSignature> = (validators.keys.iter())
        .map(|key| key.sign(&message))
        .collect();
    let signed = started.elapsed();
    let started = Instant::now();
    let quorum = aggregate(&signatures[..QUORUM])?;
    let aggregated = started.elapsed();
    ensure!(
        quorum == validators.quorum_signature(&checkpoint),
        "a quorum's aggregate differs from its summed key's signature"
    );
    Ok(InCell { signed, aggregated })
}

enum Event {
    Block {
        cell: CellId,
        epoch: u64,
    },
    /// A cell's modelled aggregator may publish its cell's aggregate.
    AggregatorReady {
        signing: SigningKey,
        aggregator: usize,
        generation: u32,
    },
    /// A cell's aggregate reaches a modelled assembler of the checkpoint's certificate.
    ToAssembler {
        origin: CellId,
        epoch: u64,
        assembler: usize,
        from: CellId,
        aggregate: Option<Arc<CellAggregate>>,
    },
    CertificateReady {
        origin: CellId,
        epoch: u64,
        assembler: usize,
    },
    Deliver {
        node: usize,
        message: Arc<Vec<u8>>,
    },
    Turn {
        node: usize,
    },
}

/// (signing cell, checkpoint's cell, epoch).
type SigningKey = (CellId, CellId, u64);

/// Who published an aggregate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Publisher {
    Modelled { cell: CellId, position: usize },
    Sampled(usize),
}

/// What a topic is, for routing what the sampled nodes publish.
#[derive(Clone, Copy)]
enum Topic {
    Cell(CellId),
    Certificates(CellId),
    Aggregator(usize),
    Federation,
}

struct Simulation<'a> {
    validators: &'a Validators,
    cells: Vec<CellId>,
    committee_size: usize,
    k: usize,
    epochs: u64,
    follows: usize,
    network: Network<Event>,
    nodes: Vec<SampledNode>,
    sampled_in: BTreeMap<CellId, usize>,
    topics: HashMap<String, Topic>,
    checkpoints: BTreeMap<(CellId, u64), Arc<Checkpoint>>,
    committees: BTreeMap<(CellId, u64), Vec<CellId>>,
    signings: BTreeMap<SigningKey, Signing>,
    signed: BTreeSet<SigningKey>,
    assemblies: BTreeMap<(CellId, u64, usize), Assembly>,
    quorum_signatures: BTreeMap<(CellId, u64), BlsSignature>,
    modelled_aggregates: BTreeMap<SigningKey, Arc<Vec<u8>>>,
    finality: Vec<Micros>,
}

impl<'a> Simulation<'a> {
    fn new(config: &SimConfig, validators: &'a Validators) -> Result<Self> {
        let view = validators.view(config.cells);
        let cells: Vec<CellId> = view.cells.keys().copied().collect();
        let (committee_size, k) = committee_and_k(config.cells);
        let mut network = Network::new(
            rand_chacha::ChaCha8Rng::seed_from_u64(config.seed),
            config.loss,
        );
        let placed = place_sampled(&cells, config.sampled, &mut network);
        let follows = config.follows.min(cells.len() - 1);
        let mut nodes = Vec::new();
        for (cell, position) in placed {
            let followed: BTreeSet<CellId> = (0..=follows)
                .map(|step| cells[(cell.0 as usize + step) % cells.len()])
                .collect();
            let dir = config.dir.join(format!("node-{}-{position}", cell.0));
            let finality = finality_node(&view, validators, (cell, position), &followed, &dir)?;
            nodes.push(SampledNode::new((cell, position), followed, finality));
        }
        let sampled_in = (nodes.iter().enumerate())
            .map(|(index, node)| (node.cell, index))
            .collect();
        Ok(Self {
            topics: topics(&cells, &nodes, validators),
            validators,
            cells,
            committee_size,
            k,
            epochs: config.epochs,
            follows,
            network,
            nodes,
            sampled_in,
            checkpoints: BTreeMap::new(),
            committees: BTreeMap::new(),
            signings: BTreeMap::new(),
            signed: BTreeSet::new(),
            assemblies: BTreeMap::new(),
            quorum_signatures: BTreeMap::new(),
            modelled_aggregates: BTreeMap::new(),
            finality: Vec::new(),
        })
    }

    fn schedule_blocks(&mut self) {
        for epoch in 1..=self.epochs {
            for cell in self.cells.clone() {
                let at = (epoch - 1) * EPOCH_SPAN + self.network.offset(BLOCK_SPREAD);
                self.network.at(at, Event::Block { cell, epoch });
            }
        }
    }

    fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Block { cell, epoch } => self.block(cell, epoch),
            Event::AggregatorReady {
                signing,
                aggregator,
                generation,
            } => self.aggregator_ready(signing, aggregator, generation),
            Event::ToAssembler {
                origin,
                epoch,
                assembler,
                from,
                aggregate,
            } => self.reach_assembler((origin, epoch, assembler), from, aggregate),
            Event::CertificateReady {
                origin,
                epoch,
                assembler,
            } => self.certificate_ready((origin, epoch, assembler))?,
            Event::Deliver { node, message } => self.receive(node, message),
            Event::Turn { node } => self.turn(node)?,
        }
        Ok(())
    }

    /// `cell` commits its checkpoint's block of `epoch`: its validators sign it.
    fn block(&mut self, cell: CellId, epoch: u64) {
        let now = self.network.now;
        if cell == self.cells[0] {
            eprintln!(
                "…   {} cells: epoch {epoch} of {}",
                self.cells.len(),
                self.epochs
            );
        }
        let checkpoint = Arc::new(self.validators.checkpoint(cell, epoch));
        self.checkpoints.insert((cell, epoch), checkpoint.clone());
        let drawn = committee(&FEDERATION.0, &self.cells, cell, epoch, self.committee_size);
        self.committees.insert((cell, epoch), drawn);
        for node in &mut self.nodes {
            if node.follows.contains(&cell) {
                node.pending.insert((cell, epoch), now);
            }
        }
        if let Some(node) = self.sampled_in.get(&cell).copied() {
            self.nodes[node].built((*checkpoint).clone());
            self.wake(node);
        }
        self.sign((cell, cell, epoch), costs::SIGN, |_| Some(now));
    }

    /// Validators of `signing`'s cell not yet reached receive what makes them sign (their own
    /// block, or the checkpoint's cell's aggregate) when `reached` says, sign after `delay`, and
    /// send their signatures to their cell's aggregators of the checkpoint.
    fn sign(
        &mut self,
        signing: SigningKey,
        delay: Micros,
        mut reached: impl FnMut(&mut Network<Event>) -> Option<Micros>,
    ) {
        if self.signed.contains(&signing) {
            return;
        }
        let (cell, origin, epoch) = signing;
        let sampled = self.sampled_position(cell);
        let mut state = self.signings.remove(&signing).unwrap_or_else(|| {
            let positions = aggregators(&FEDERATION.0, cell, origin, epoch, VALIDATORS);
            Signing::new(&positions, sampled)
        });
        let mut to_sampled: Vec<(Micros, usize)> = Vec::new();
        for validator in 0..VALIDATORS {
            if state.signed[validator].is_some() {
                continue;
            }
            let Some(at) = reached(&mut self.network) else {
                continue;
            };
            let sent = at + delay;
            state.signed[validator] = Some(sent);
            for aggregator in &mut state.aggregators {
                if aggregator.position == validator {
                    continue;
                }
                let Some(arrival) = self.network.delivery(sent, 1) else {
                    continue;
                };
                match aggregator.sampled {
                    true => to_sampled.push((arrival, validator)),
                    false => aggregator.heard(arrival),
                }
            }
        }
        self.reschedule_aggregators(signing, &mut state);
        self.signings.insert(signing, state);
        if let (Some(node), false) = (self.sampled_in.get(&cell).copied(), to_sampled.is_empty()) {
            let checkpoint = self.checkpoints[&(origin, epoch)].clone();
            for (arrival, validator) in to_sampled {
                let message = self.validator_signature(&checkpoint, cell, validator);
                self.network.at(arrival, Event::Deliver { node, message });
            }
        }
    }

    /// Schedules, again when it moved, when each modelled aggregator holds a quorum.
    fn reschedule_aggregators(&mut self, signing: SigningKey, state: &mut Signing) {
        for (index, aggregator) in state.aggregators.iter_mut().enumerate() {
            if aggregator.sampled || aggregator.published {
                continue;
            }
            let ready = aggregator.ready(state.signed[aggregator.position]);
            if ready.is_none() || ready == aggregator.scheduled {
                continue;
            }
            aggregator.scheduled = ready;
            aggregator.generation += 1;
            let event = Event::AggregatorReady {
                signing,
                aggregator: index,
                generation: aggregator.generation,
            };
            self.network.at(ready.expect("checked"), event);
        }
    }

    /// A validator's signature message, as it sends it to an aggregator.
    fn validator_signature(
        &self,
        checkpoint: &Checkpoint,
        cell: CellId,
        validator: usize,
    ) -> Arc<Vec<u8>> {
        let message = FederationMessage::Signature {
            checkpoint: checkpoint.clone(),
            next_set: None,
            cell,
            signer: self.validators.set.0[validator].passport,
            signature: self.validators.keys[validator].sign(&checkpoint.signing_bytes()),
        };
        encoded(&message)
    }

    fn aggregator_ready(&mut self, signing: SigningKey, index: usize, generation: u32) {
        let Some(state) = self.signings.get_mut(&signing) else {
            return;
        };
        let aggregator = &mut state.aggregators[index];
        if aggregator.generation != generation || aggregator.published {
            return;
        }
        aggregator.published = true;
        let position = aggregator.position;
        if state.done() {
            self.signings.remove(&signing);
            self.signed.insert(signing);
        }
        let (cell, origin, epoch) = signing;
        let publisher = Publisher::Modelled { cell, position };
        let now = self.network.now;
        for destination in self.destinations(cell, origin, epoch) {
            self.publish_aggregate(destination, signing, None, (publisher, now));
        }
    }

    /// Where a cell's aggregators publish its aggregate: the checkpoint's committee and cell
    /// for the cell's own checkpoint, the checkpoint's cell for another's.
    fn destinations(&self, cell: CellId, origin: CellId, epoch: u64) -> Vec<CellId> {
        match cell == origin {
            true => [self.committees[&(origin, epoch)].clone(), vec![origin]].concat(),
            false => vec![origin],
        }
    }

    /// A modelled cell's aggregate, encoded once.
    fn modelled_aggregate(&mut self, (cell, origin, epoch): SigningKey) -> Arc<Vec<u8>> {
        if let Some(message) = self.modelled_aggregates.get(&(cell, origin, epoch)) {
            return message.clone();
        }
        let checkpoint = self.checkpoints[&(origin, epoch)].clone();
        let signature = self.quorum_signature(&checkpoint);
        let aggregate = self.validators.aggregate(&checkpoint, cell, signature);
        let message = encoded(&FederationMessage::Aggregate(aggregate));
        (self.modelled_aggregates).insert((cell, origin, epoch), message.clone());
        message
    }

    fn quorum_signature(&mut self, checkpoint: &Checkpoint) -> BlsSignature {
        let key = (checkpoint.cell, checkpoint.epoch);
        *(self.quorum_signatures)
            .entry(key)
            .or_insert_with(|| self.validators.quorum_signature(checkpoint))
    }

    /// A cell's aggregate on a checkpoint, published on `destination`'s topic at `sent`: the
    /// checkpoint's own cell assembles its certificate from it, a committee cell co-signs. A
    /// sampled node's `aggregate` comes as it published it, a modelled one as `None`.
    fn publish_aggregate(
        &mut self,
        destination: CellId,
        (cell, origin, epoch): SigningKey,
        aggregate: Option<Arc<CellAggregate>>,
        (publisher, sent): (Publisher, Micros),
    ) {
        if destination == origin {
            self.reach_assemblers((cell, origin, epoch), &aggregate, (publisher, sent));
        } else {
            let signing = (destination, origin, epoch);
            let delay = costs::VERIFY_AGGREGATE + costs::SIGN;
            self.sign(signing, delay, |network| network.delivery(sent, VALIDATORS));
        }
        if let Some(node) = self.sampled_in.get(&destination).copied() {
            if publisher != Publisher::Sampled(node) {
                let message = match &aggregate {
                    Some(aggregate) => {
                        encoded(&FederationMessage::Aggregate((**aggregate).clone()))
                    }
                    None => self.modelled_aggregate((cell, origin, epoch)),
                };
                self.deliver(node, &message, sent, VALIDATORS);
            }
        }
    }

    /// A cell's aggregate on the checkpoint's own cell's topic reaches the modelled
    /// assemblers of its certificate (the publisher itself at once).
    fn reach_assemblers(
        &mut self,
        (cell, origin, epoch): SigningKey,
        aggregate: &Option<Arc<CellAggregate>>,
        (publisher, sent): (Publisher, Micros),
    ) {
        let positions = aggregators(&FEDERATION.0, origin, origin, epoch, VALIDATORS);
        let sampled = self.sampled_position(origin);
        for (assembler, position) in positions.into_iter().enumerate() {
            if sampled == Some(position) {
                continue;
            }
            let own = publisher
                == Publisher::Modelled {
                    cell: origin,
                    position,
                };
            let arrival = match own {
                true => Some(sent),
                false => self.network.delivery(sent, VALIDATORS),
            };
            if let Some(arrival) = arrival {
                let event = Event::ToAssembler {
                    origin,
                    epoch,
                    assembler,
                    from: cell,
                    aggregate: aggregate.clone(),
                };
                self.network.at(arrival, event);
            }
        }
    }

    /// The position in `cell`'s set of the cell's sampled node, if it has one.
    fn sampled_position(&self, cell: CellId) -> Option<usize> {
        (self.sampled_in.get(&cell)).map(|node| self.nodes[*node].position)
    }

    fn deliver(&mut self, node: usize, message: &Arc<Vec<u8>>, sent: Micros, subscribers: usize) {
        if let Some(arrival) = self.network.delivery(sent, subscribers) {
            let message = message.clone();
            self.network.at(arrival, Event::Deliver { node, message });
        }
    }

    fn reach_assembler(
        &mut self,
        (origin, epoch, assembler): (CellId, u64, usize),
        from: CellId,
        aggregate: Option<Arc<CellAggregate>>,
    ) {
        let k = self.k;
        let assembly = (self.assemblies)
            .entry((origin, epoch, assembler))
            .or_insert_with(|| Assembly::new(origin));
        if assembly.take(from, aggregate, k) {
            let at = self.network.now + costs::VERIFY_AGGREGATE;
            let event = Event::CertificateReady {
                origin,
                epoch,
                assembler,
            };
            self.network.at(at, event);
        }
    }

    /// A modelled assembler publishes the certificate on its cell's certificate topic.
    fn certificate_ready(&mut self, assembly: (CellId, u64, usize)) -> Result<()> {
        let (origin, epoch, _) = assembly;
        let recipients: Vec<usize> = (self.nodes.iter().enumerate())
            .filter(|(_, node)| node.follows.contains(&origin))
            .map(|(index, _)| index)
            .collect();
        if recipients.is_empty() {
            return Ok(());
        }
        let held = self
            .assemblies
            .remove(&assembly)
            .expect("a complete assembly");
        let certificate = self.certificate(&held, epoch);
        self.assemblies.insert(assembly, held);
        let message = encoded(&FederationMessage::Certificate(certificate?));
        let now = self.network.now;
        let subscribers = self.certificate_subscribers();
        for node in recipients {
            self.deliver(node, &message, now, subscribers);
        }
        Ok(())
    }

    /// The certificate an assembly completed: its cells' aggregates, in cell order.
    fn certificate(&mut self, assembly: &Assembly, epoch: u64) -> Result<CheckpointCertificate> {
        let checkpoint = self.checkpoints[&(assembly.origin, epoch)].clone();
        let quorum = self.quorum_signature(&checkpoint);
        let mut signers: Vec<_> = (assembly.signers(self.k).into_iter())
            .map(|(cell, aggregate)| match aggregate {
                Some(aggregate) => (aggregate.signers.clone(), aggregate.signature),
                None => (self.validators.quorum_signers(*cell), quorum),
            })
            .collect();
        signers.sort_by_key(|(signers, _)| signers.cell);
        let signatures: Vec<BlsSignature> =
            signers.iter().map(|(_, signature)| *signature).collect();
        Ok(CheckpointCertificate {
            checkpoint: (*checkpoint).clone(),
            signers: signers.into_iter().map(|(signers, _)| signers).collect(),
            signature: aggregate(&signatures)?,
            next_set: None,
        })
    }

    /// A cell's certificate topic is subscribed by its own validators and those of the cells
    /// that follow it.
    fn certificate_subscribers(&self) -> usize {
        VALIDATORS * (1 + self.follows)
    }

    /// A message reaches a sampled node: anything but a signature ends its wait for more.
    fn receive(&mut self, node: usize, message: Arc<Vec<u8>>) {
        let now = self.network.now;
        let sampled = &mut self.nodes[node];
        let ends_gathering = sampled.gathering() && !FederationMessage::is_signature(&message);
        sampled.receive(message);
        match ends_gathering {
            true => self.turn_at(node, now),
            false => self.wake(node),
        }
    }

    /// Makes sure a sampled node takes a turn once it is free.
    fn wake(&mut self, node: usize) {
        let sampled = &self.nodes[node];
        if sampled.turn_at.is_none() {
            let at = sampled.busy_until.max(self.network.now);
            self.turn_at(node, at);
        }
    }

    /// Schedules a sampled node's next turn at `at`, in place of any scheduled before.
    fn turn_at(&mut self, node: usize, at: Micros) {
        self.nodes[node].turn_at = Some(at);
        self.network.at(at, Event::Turn { node });
    }

    fn turn(&mut self, node: usize) -> Result<()> {
        let now = self.network.now;
        if self.nodes[node].turn_at != Some(now) {
            return Ok(());
        }
        let sampled = &mut self.nodes[node];
        sampled.turn_at = None;
        let turn = match sampled.step() {
            Step::Gather(wait) => {
                self.turn_at(node, now + wait);
                return Ok(());
            }
            Step::Handled(turn) => turn,
        };
        let done = now + turn.took;
        sampled.busy_until = done;
        let finals: Vec<(CellId, u64)> = (sampled.pending.keys())
            .filter(|(cell, epoch)| sampled.holds_final(*cell, *epoch))
            .copied()
            .collect();
        let blocks: Vec<Micros> = (finals.iter())
            .map(|key| sampled.pending.remove(key).expect("pending"))
            .collect();
        (self.finality).extend(blocks.into_iter().map(|block| done - block));
        for (topic, bytes) in turn.published {
            self.route(node, &topic, Arc::new(bytes), done)?;
        }
        if self.nodes[node].has_work() {
            self.wake(node);
        }
        Ok(())
    }

    /// Sends on what a sampled node published at `sent`.
    fn route(
        &mut self,
        from: usize,
        topic: &str,
        message: Arc<Vec<u8>>,
        sent: Micros,
    ) -> Result<()> {
        match self.topics.get(topic).copied() {
            Some(Topic::Aggregator(node)) => self.deliver(node, &message, sent, 1),
            Some(Topic::Cell(destination)) => {
                match borsh::from_slice::<FederationMessage>(&message)? {
                    FederationMessage::Aggregate(aggregate) => {
                        let signing = (
                            aggregate.signers.cell,
                            aggregate.checkpoint.cell,
                            aggregate.checkpoint.epoch,
                        );
                        let publisher = (Publisher::Sampled(from), sent);
                        let aggregate = Some(Arc::new(aggregate));
                        self.publish_aggregate(destination, signing, aggregate, publisher);
                    }
                    _ => {
                        let nodes = self.sampled_in.get(&destination).copied();
                        for node in nodes.into_iter().filter(|node| *node != from) {
                            self.deliver(node, &message, sent, VALIDATORS);
                        }
                    }
                }
            }
            Some(Topic::Certificates(cell)) => {
                let subscribers = self.certificate_subscribers();
                for node in 0..self.nodes.len() {
                    if node != from && self.nodes[node].follows.contains(&cell) {
                        self.deliver(node, &message, sent, subscribers);
                    }
                }
            }
            Some(Topic::Federation) => {
                let subscribers = VALIDATORS * self.cells.len();
                for node in (0..self.nodes.len()).filter(|node| *node != from) {
                    self.deliver(node, &message, sent, subscribers);
                }
            }
            // A modelled validator's aggregator topic: the model counts that signature.
            None => {}
        }
        Ok(())
    }

    fn finish(self, wall: Duration) -> SimRun {
        let mut finality = self.finality;
        finality.sort_unstable();
        let not_final = self.nodes.iter().map(|node| node.pending.len()).sum();
        let nodes: Vec<(CellId, usize, usize, NodeStats)> = (self.nodes.iter())
            .map(|node| {
                let followed = node.follows.len() - 1;
                (node.cell, node.position, followed, node.stats.clone())
            })
            .collect();
        let mut digest = blake3::Hasher::new();
        for time in &finality {
            digest.update(&time.to_le_bytes());
        }
        for (_, _, _, stats) in &nodes {
            for count in [stats.messages, stats.bytes_received, stats.bytes_sent] {
                digest.update(&count.to_le_bytes());
            }
        }
        SimRun {
            cells: self.cells.len(),
            committee: self.committee_size,
            k: self.k,
            epochs: self.epochs,
            nodes,
            finality,
            not_final,
            lost: self.network.lost,
            digest: digest.finalize().to_hex()[..16].to_string(),
            wall,
        }
    }
}

fn encoded(message: &FederationMessage) -> Arc<Vec<u8>> {
    Arc::new(borsh::to_vec(message).expect("a federation message encodes"))
}

/// Where the sampled nodes are: the validator of cell 0 that aggregates the most checkpoints its
/// cell signs in epoch 1, then validators at random positions of other cells drawn at random.
fn place_sampled(
    cells: &[CellId],
    sampled: usize,
    network: &mut Network<Event>,
) -> Vec<(CellId, usize)> {
    let (busiest, _) = busiest_aggregator(cells, 1);
    let mut placed = vec![(cells[0], busiest)];
    let mut others: Vec<CellId> = cells[1..].to_vec();
    while placed.len() < sampled.min(cells.len()) {
        let cell = others.swap_remove(network.pick(others.len()));
        placed.push((cell, network.pick(VALIDATORS)));
    }
    placed
}

/// The topics the sampled nodes publish on, by name.
fn topics(
    cells: &[CellId],
    nodes: &[SampledNode],
    validators: &Validators,
) -> HashMap<String, Topic> {
    let mut topics = HashMap::new();
    for cell in cells {
        topics.insert(
            cell_checkpoints_topic(&FEDERATION, *cell),
            Topic::Cell(*cell),
        );
        topics.insert(
            certificates_topic(&FEDERATION, *cell),
            Topic::Certificates(*cell),
        );
    }
    for (index, node) in nodes.iter().enumerate() {
        let passport = validators.set.0[node.position].passport;
        topics.insert(
            aggregator_topic(&FEDERATION, node.cell, &passport),
            Topic::Aggregator(index),
        );
    }
    topics.insert(checkpoints_topic(&FEDERATION), Topic::Federation);
    topics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn four_cells(seed: u64, loss: f64, dir: &std::path::Path) -> SimConfig {
        SimConfig {
            cells: 4,
            epochs: 2,
            sampled: 2,
            follows: 3,
            loss,
            seed,
            dir: dir.to_path_buf(),
        }
    }

    #[test]
    fn a_simulation_is_reproduced_from_its_seed_and_differs_with_another() {
        let validators = Validators::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let first = run(&four_cells(7, 0.05, dir.path()), &validators).unwrap();
        let again = run(&four_cells(7, 0.05, dir.path()), &validators).unwrap();
        assert_eq!(first.finality, again.finality);
        assert_eq!(first.lost, again.lost);
        assert_eq!(first.digest, again.digest);
        let other = run(&four_cells(8, 0.05, dir.path()), &validators).unwrap();
        assert_ne!(first.digest, other.digest);
    }

    #[test]
    fn without_loss_every_followed_checkpoint_is_final_at_every_sampled_node() {
        let validators = Validators::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let run = run(&four_cells(3, 0.0, dir.path()), &validators).unwrap();
        assert_eq!(run.not_final, 0);
        assert_eq!(run.lost, 0);
        let followed_checkpoints = 2 * 4 * 2;
        assert_eq!(run.finality.len(), followed_checkpoints);
        for (_, _, _, stats) in &run.nodes {
            assert!(stats.aggregates_taken > 0 && stats.bytes_sent > 0);
        }
    }
}
