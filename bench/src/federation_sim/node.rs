//! A sampled validator: a real [`Finality`] (collector, certificates, BLS) fed the messages the
//! simulated network brings it, one turn at a time, as the mesh queues them.

use super::costs;
use super::network::Micros;
use crate::fixtures::Published;
use charter_federation::checkpoint::Checkpoint;
use charter_federation::collector::FederationMessage;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::CellId;
use charter_node::finality::{Finality, INBOUND_BATCH};
use charter_p2p::Verdict;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// What waits for the node's next turn.
pub enum Inbound {
    Message(Arc<Vec<u8>>),
    /// Its own cell committed the checkpoint's block.
    Built(Checkpoint),
}

/// What one node received, sent and spent over the whole run.
#[derive(Default, Clone)]
pub struct NodeStats {
    pub messages: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// Received, by kind: validators' signatures, cell aggregates, certificates.
    pub signatures: u64,
    pub aggregates: u64,
    pub certificates: u64,
    /// Of those, taken (verified, or the very same one taken again).
    pub signatures_taken: u64,
    pub aggregates_taken: u64,
    pub certificates_taken: u64,
    /// Checkpoints this node signed.
    pub signed: u64,
    /// CPU time this thread spent in the node's handlers, measured around them alone.
    pub cpu: Duration,
    /// The time the cost model charged the node: its turns' length in the simulation.
    pub modeled: Micros,
}

pub struct SampledNode {
    pub cell: CellId,
    pub position: usize,
    pub follows: BTreeSet<CellId>,
    finality: Finality<MemoryStorage>,
    published: Published,
    inbox: VecDeque<Inbound>,
    /// Until when the node is busy with its last turn.
    pub busy_until: Micros,
    /// When its next turn is scheduled; a turn event at another time is outdated.
    pub turn_at: Option<Micros>,
    /// Whether a signature at the front of the inbox has waited for others.
    gathered: bool,
    /// Checkpoints of the cells it follows whose block happened, by when, not final here yet.
    pub pending: BTreeMap<(CellId, u64), Micros>,
    pub stats: NodeStats,
}

/// What the node does when its turn comes.
pub enum Step {
    /// A validator's signature at the front of its inbox waits this long for others, as the
    /// node's finality task does.
    Gather(Micros),
    Handled(Turn),
}

/// One turn's outcome: how long it took in the simulation and what the node published.
pub struct Turn {
    pub took: Micros,
    pub published: Vec<(String, Vec<u8>)>,
}

impl SampledNode {
    pub fn new(
        (cell, position): (CellId, usize),
        follows: BTreeSet<CellId>,
        (finality, published): (Finality<MemoryStorage>, Published),
    ) -> Self {
        Self {
            cell,
            position,
            follows,
            finality,
            published,
            inbox: VecDeque::new(),
            busy_until: 0,
            turn_at: None,
            gathered: false,
            pending: BTreeMap::new(),
            stats: NodeStats::default(),
        }
    }

    pub fn receive(&mut self, message: Arc<Vec<u8>>) {
        self.stats.messages += 1;
        self.stats.bytes_received += message.len() as u64;
        self.inbox.push_back(Inbound::Message(message));
    }

    pub fn built(&mut self, checkpoint: Checkpoint) {
        self.inbox.push_back(Inbound::Built(checkpoint));
    }

    pub fn has_work(&self) -> bool {
        !self.inbox.is_empty()
    }

    /// Handles what is queued: a built checkpoint alone, or up to [`INBOUND_BATCH`] messages
    /// in one batch, a validator's signature at their front after gathering others.
    pub fn step(&mut self) -> Step {
        if self.only_signatures() && !self.gathered && self.inbox.len() < INBOUND_BATCH {
            self.gathered = true;
            return Step::Gather(costs::gathering());
        }
        self.gathered = false;
        Step::Handled(self.turn())
    }

    /// Whether the node is waiting for more signatures, which anything else ends.
    pub fn gathering(&self) -> bool {
        self.gathered
    }

    /// Whether what is queued is validators' signatures alone, which wait for more.
    fn only_signatures(&self) -> bool {
        !self.inbox.is_empty()
            && (self.inbox.iter()).all(|inbound| {
                matches!(inbound, Inbound::Message(message) if FederationMessage::is_signature(message))
            })
    }

    fn turn(&mut self) -> Turn {
        let mut took = match self.inbox.front() {
            Some(Inbound::Built(_)) => {
                let Some(Inbound::Built(checkpoint)) = self.inbox.pop_front() else {
                    unreachable!("the front was a built checkpoint");
                };
                let finality = &mut self.finality;
                self.stats.cpu += on_cpu(|| finality.own_checkpoint_built(&checkpoint, None));
                0
            }
            Some(Inbound::Message(_)) => self.handle_queued(),
            None => 0,
        };
        let published: Vec<(String, Vec<u8>)> =
            std::iter::from_fn(|| self.published.try_recv().ok()).collect();
        let signed = signed_checkpoints(&published);
        self.stats.signed += signed;
        self.stats.bytes_sent += published
            .iter()
            .map(|(_, bytes)| bytes.len() as u64)
            .sum::<u64>();
        took += signed * costs::SIGN;
        self.stats.modeled += took;
        Turn { took, published }
    }

    /// Hands the node the messages at the front of its inbox; what the model charges for them.
    fn handle_queued(&mut self) -> Micros {
        let mut batch: Vec<Arc<Vec<u8>>> = Vec::new();
        while batch.len() < INBOUND_BATCH {
            match self.inbox.front() {
                Some(Inbound::Message(message)) => batch.push(message.clone()),
                _ => break,
            }
            self.inbox.pop_front();
        }
        let slices: Vec<&[u8]> = batch.iter().map(|message| message.as_slice()).collect();
        let mut verdicts = Vec::new();
        let finality = &mut self.finality;
        self.stats.cpu += on_cpu(|| verdicts = finality.handle_all(&slices));
        let mut taken = Taken::default();
        for (message, verdict) in batch.iter().zip(verdicts) {
            self.count(message, matches!(verdict, Verdict::Accept), &mut taken);
        }
        batch.len() as Micros * costs::MESSAGE + taken.cost()
    }

    /// Counts one handled message, and what of it was taken.
    fn count(&mut self, message: &[u8], accepted: bool, taken: &mut Taken) {
        let stats = &mut self.stats;
        let (received, taken_here, in_batch) = match borsh::from_slice(message) {
            Ok(FederationMessage::Signature { .. }) => (
                &mut stats.signatures,
                &mut stats.signatures_taken,
                &mut taken.signatures,
            ),
            Ok(FederationMessage::Aggregate(_)) => (
                &mut stats.aggregates,
                &mut stats.aggregates_taken,
                &mut taken.aggregates,
            ),
            Ok(FederationMessage::Certificate(_)) => (
                &mut stats.certificates,
                &mut stats.certificates_taken,
                &mut taken.certificates,
            ),
            _ => return,
        };
        *received += 1;
        *taken_here += u64::from(accepted);
        *in_batch += u64::from(accepted);
    }

    /// Whether `cell`'s checkpoint of `epoch` is final here.
    pub fn holds_final(&self, cell: CellId, epoch: u64) -> bool {
        let collector = self.finality.collector.lock().expect("not poisoned");
        collector.final_certificate(cell, epoch).is_some()
    }
}

/// What one batch took, by kind: each was checked (or was the very same as one taken before,
/// which the model charges as checked too).
#[derive(Default)]
struct Taken {
    signatures: u64,
    aggregates: u64,
    certificates: u64,
}

impl Taken {
    /// What the model charges for checking them: validators' signatures and certificates in
    /// one batch each, aggregates one by one.
    fn cost(&self) -> Micros {
        let batch = |count: u64, setup: Micros, each: Micros| match count {
            0 => 0,
            count => setup + count * each,
        };
        batch(
            self.signatures,
            costs::SIGNATURE_BATCH,
            costs::SIGNATURE_IN_BATCH,
        ) + self.aggregates * costs::VERIFY_AGGREGATE
            + batch(
                self.certificates,
                costs::CERTIFICATE_BATCH,
                costs::CERTIFICATE_IN_BATCH,
            )
    }
}

/// The distinct checkpoints among the signatures in `published` (one signature goes to each of
/// its cell's other aggregators).
fn signed_checkpoints(published: &[(String, Vec<u8>)]) -> u64 {
    let signed: BTreeSet<_> = (published.iter())
        .filter_map(|(_, bytes)| match borsh::from_slice(bytes) {
            Ok(FederationMessage::Signature { checkpoint, .. }) => Some(checkpoint.id()),
            _ => None,
        })
        .collect();
    signed.len() as u64
}

/// The CPU time this thread spends running `work`: the node's handlers alone, not the
/// simulation's bookkeeping around them.
fn on_cpu(work: impl FnOnce()) -> Duration {
    let started = thread_cpu();
    work();
    thread_cpu().saturating_sub(started)
}

/// The CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid timespec to write to, and the clock id is a constant Linux has.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "the thread CPU clock is readable");
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}
