//! The mempool: transactions this node has admitted and will offer for its proposals.
//!
//! A transaction is admitted only if it would commit right now: its signature verifies, and
//! running it after the sender's already-queued transactions on the latest committed state
//! passes every ledger rule (nonce, funds, authorization, mode). The pool is bounded in count,
//! bytes and per sender, and says so with a typed error when full. After each committed block
//! it drops what committed, and re-checks each sender's queue at least every
//! [`RECHECK_INTERVAL`] blocks, evicting transactions that went stale.

use charter_consensus::app::{Application, TransactionPool};
use charter_consensus::host::CommittedBlock;
use charter_ledger::execution::{CheckedTransaction, Projection, StateReader, VerifiedSignatures};
use charter_ledger::state::{Passport, StateKey};
use charter_ledger::storage::Storage;
use charter_ledger::transaction::DecodeError;
use charter_ledger::{Ledger, LedgerError, Nonce, PassportId, SignedTransaction, TxError, TxId};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::Notify;

/// Most dropped transactions whose reasons the pool remembers for clients following them.
const REMEMBERED_DROPS: usize = 10_000;

/// The pool re-runs each sender's queue on the latest state once every this many blocks, a
/// different share of the senders after each block, and at once where another transaction
/// took a queued one's nonce.
pub const RECHECK_INTERVAL: u64 = 8;

/// Whether `sender`'s queue is re-run after the block before `height`.
pub(crate) fn recheck_due(sender: &PassportId, height: u64) -> bool {
    let bucket = u64::from_le_bytes(
        sender.0[..8]
            .try_into()
            .expect("a passport id has 32 bytes"),
    );
    bucket % RECHECK_INTERVAL == height % RECHECK_INTERVAL
}

/// Why an admitted transaction left the pool without committing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct MempoolLimits {
    pub max_transactions: usize,
    pub max_bytes: usize,
    /// Queued transactions one sender may have, so no sender can crowd out the rest.
    pub max_per_sender: usize,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        Self {
            max_transactions: 20_000,
            max_bytes: 32 * 1024 * 1024,
            max_per_sender: 128,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("transaction {0} is already in the mempool")]
    Duplicate(TxId),
    #[error("the mempool is full ({transactions} transactions, {bytes} bytes); retry later")]
    Full { transactions: usize, bytes: usize },
    #[error("sender {sender} already has {queued} transactions waiting")]
    SenderBacklog { sender: PassportId, queued: usize },
    #[error("transaction would be rejected: {0}")]
    Rejected(TxError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl AdmissionError {
    /// A stable name for metrics and the API.
    pub fn code(&self) -> &'static str {
        match self {
            AdmissionError::Decode(DecodeError::Oversized { .. }) => "oversized",
            AdmissionError::Decode(DecodeError::Malformed(_)) => "malformed",
            AdmissionError::Duplicate(_) => "duplicate",
            AdmissionError::Full { .. } => "mempool_full",
            AdmissionError::SenderBacklog { .. } => "sender_backlog",
            AdmissionError::Rejected(error) => error.code(),
            AdmissionError::Ledger(_) => "internal",
        }
    }
}

struct Queued {
    transaction: SignedTransaction,
    size: usize,
    arrival: u64,
}

/// A sender's projection, and whether it was made from the queue on the latest state (exact)
/// or carried across blocks since, which is exact but for what those blocks did to the sender
/// besides committing its queued transactions (a payment to it, a sanction).
struct SenderProjection {
    projection: Projection,
    exact: bool,
}

#[derive(Default)]
pub struct Mempool {
    limits: MempoolLimits,
    entries: BTreeMap<TxId, Queued>,
    /// Each sender's queued transactions by nonce (always consecutive from the chain's nonce).
    queues: BTreeMap<PassportId, BTreeMap<Nonce, TxId>>,
    /// Admission order, which is also each sender's nonce order.
    arrivals: BTreeMap<u64, TxId>,
    next_arrival: u64,
    bytes: usize,
    dropped: HashMap<TxId, Dropped>,
    drop_order: VecDeque<TxId>,
    /// Per sender with queued transactions: the next block's state after them, so that its
    /// next transaction is checked in one execution.
    projections: HashMap<PassportId, SenderProjection>,
    /// Signatures verified here, shared with the node's consensus application so that a block
    /// of admitted transactions is not verified again.
    verified: VerifiedSignatures,
}

impl Mempool {
    pub fn new(limits: MempoolLimits, verified: VerifiedSignatures) -> Self {
        Self {
            limits,
            verified,
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn contains(&self, id: &TxId) -> bool {
        self.entries.contains_key(id)
    }

    /// The nonce `sender`'s next transaction takes: after its queued ones, or `committed` (the
    /// nonce the ledger expects) when nothing of it is queued.
    pub fn next_nonce(&self, sender: &PassportId, committed: Nonce) -> Nonce {
        self.queues
            .get(sender)
            .and_then(|queue| queue.keys().next_back())
            .map_or(committed, |last| committed.max(last + 1))
    }

    /// Why a transaction this pool admitted was later dropped, while it still remembers.
    pub fn dropped(&self, id: &TxId) -> Option<&Dropped> {
        self.dropped.get(id)
    }

    fn remember_drop(&mut self, id: TxId, code: &str, message: String) {
        if self.drop_order.len() == REMEMBERED_DROPS {
            if let Some(oldest) = self.drop_order.pop_front() {
                self.dropped.remove(&oldest);
            }
        }
        self.drop_order.push_back(id);
        let code = code.to_string();
        self.dropped.insert(id, Dropped { code, message });
    }

    pub fn admit<S: Storage>(
        &mut self,
        transaction: SignedTransaction,
        ledger: &Ledger<S>,
    ) -> Result<TxId, AdmissionError> {
        let checked = self.verified.check(&transaction);
        self.admit_checked(&checked, ledger)
    }

    /// The signatures this pool's admissions are verified against: checking a batch's with
    /// [`VerifiedSignatures::check_all`] first verifies them in one batch, outside the pool.
    pub fn verified(&self) -> &VerifiedSignatures {
        &self.verified
    }

    /// Admits a transaction whose signature is already checked.
    pub fn admit_checked<S: Storage>(
        &mut self,
        checked: &CheckedTransaction<'_>,
        ledger: &Ledger<S>,
    ) -> Result<TxId, AdmissionError> {
        let transaction = checked.transaction;
        let id = checked.id;
        if self.entries.contains_key(&id) {
            return Err(AdmissionError::Duplicate(id));
        }
        let size = transaction.encode().len();
        if self.entries.len() >= self.limits.max_transactions
            || self.bytes + size > self.limits.max_bytes
        {
            return Err(AdmissionError::Full {
                transactions: self.entries.len(),
                bytes: self.bytes,
            });
        }
        let sender = transaction.body.sender;
        let queued = self.queues.get(&sender).map_or(0, BTreeMap::len);
        if queued >= self.limits.max_per_sender {
            return Err(AdmissionError::SenderBacklog { sender, queued });
        }
        let height = ledger.height().ok_or(LedgerError::NotInitialized)? + 1;
        let state = ledger.latest_state()?;
        let mut projected = match self.projections.remove(&sender) {
            Some(projected) if projected.projection.height() == height => projected,
            _ => self.exact_projection(&sender, &state, height)?,
        };
        let mut outcome = (projected.projection)
            .apply(&state, checked)
            .map_err(LedgerError::from)?;
        if outcome.is_err() && !projected.exact {
            // What a carried projection refuses may pass on the chain as it is (the sender was
            // paid since, say): only a projection made afresh refuses.
            projected = self.exact_projection(&sender, &state, height)?;
            outcome = (projected.projection)
                .apply(&state, checked)
                .map_err(LedgerError::from)?;
        }
        self.projections.insert(sender, projected);
        if let Err(error) = outcome {
            return Err(AdmissionError::Rejected(error));
        }
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.queues
            .entry(sender)
            .or_default()
            .insert(transaction.body.nonce, id);
        self.arrivals.insert(arrival, id);
        self.bytes += size;
        self.entries.insert(
            id,
            Queued {
                transaction: transaction.clone(),
                size,
                arrival,
            },
        );
        Ok(id)
    }

    /// Up to `max_transactions` and `max_bytes` of transactions in admission order, which keeps
    /// each sender's nonces in order.
    pub fn reap(&self, max_transactions: usize, max_bytes: usize) -> Vec<SignedTransaction> {
        let mut bytes = 0;
        let mut block = Vec::new();
        for id in self.arrivals.values() {
            let queued = &self.entries[id];
            if block.len() == max_transactions || bytes + queued.size > max_bytes {
                break;
            }
            bytes += queued.size;
            block.push(queued.transaction.clone());
        }
        block
    }

    /// After a block commits: drops every transaction whose nonce the chain has passed
    /// (`committed` holds the ids the block committed; any other was beaten by another
    /// transaction with its nonce). A sender due for its re-check, or one beaten so, has its
    /// queue re-run and loses it from the first transaction that would now fail; every other
    /// sender's projection is carried to the next height. Returns how many transactions left
    /// the pool.
    ///
    /// Between re-checks, what others' transactions or a block's end did to a sender's standing
    /// (a sanction, a mode change) evicts its transactions up to [`RECHECK_INTERVAL`] blocks
    /// late, and meanwhile a proposer's trial execution leaves them out of blocks.
    pub fn on_block_committed<S: Storage>(
        &mut self,
        ledger: &Ledger<S>,
        committed: &HashSet<TxId>,
    ) -> Result<usize, LedgerError> {
        let before = self.entries.len();
        let height = ledger.height().ok_or(LedgerError::NotInitialized)? + 1;
        let state = ledger.latest_state()?;
        let senders: Vec<PassportId> = self.queues.keys().copied().collect();
        for sender in senders {
            let chain_nonce = ledger
                .get::<Passport>(&StateKey::Passport(sender))?
                .map_or(0, |passport| passport.nonce);
            let beaten = self.evict_passed(&sender, chain_nonce, committed);
            if !self.queues.contains_key(&sender) {
                continue;
            }
            if beaten || recheck_due(&sender, height) {
                self.recheck(&sender, &state, height)?;
            } else if let Some(projected) = self.projections.get_mut(&sender) {
                if projected.projection.height() < height {
                    projected.projection.carry_to(height);
                    projected.exact = false;
                }
            }
        }
        Ok(before - self.entries.len())
    }

    /// Drops `sender`'s transactions with nonces below `chain_nonce`; true if one of them is
    /// not in `committed`, so that another transaction took its nonce.
    fn evict_passed(
        &mut self,
        sender: &PassportId,
        chain_nonce: Nonce,
        committed: &HashSet<TxId>,
    ) -> bool {
        let passed: Vec<Nonce> = self.queues[sender]
            .range(..chain_nonce)
            .map(|(nonce, _)| *nonce)
            .collect();
        let mut beaten = false;
        for nonce in passed {
            let Some(id) = self.evict(sender, nonce) else {
                continue;
            };
            if !committed.contains(&id) {
                beaten = true;
                self.remember_drop(
                    id,
                    "nonce_used",
                    format!("another transaction of the sender used nonce {nonce}"),
                );
            }
        }
        beaten
    }

    /// Re-runs `sender`'s queue on `state` and evicts it from the first transaction that fails.
    fn recheck(
        &mut self,
        sender: &PassportId,
        state: &dyn StateReader,
        height: u64,
    ) -> Result<(), LedgerError> {
        let (projection, first_failure) = self.project(sender, state, height)?;
        let Some((position, error)) = first_failure else {
            let exact = true;
            self.projections
                .insert(*sender, SenderProjection { projection, exact });
            return Ok(());
        };
        // What stays is projected again when the sender next submits.
        self.projections.remove(sender);
        let stale: Vec<Nonce> = self.queues[sender].keys().skip(position).copied().collect();
        for (offset, nonce) in stale.into_iter().enumerate() {
            let Some(id) = self.evict(sender, nonce) else {
                continue;
            };
            if offset == 0 {
                self.remember_drop(id, error.code(), error.to_string());
            } else {
                self.remember_drop(
                    id,
                    "preceding_transaction_dropped",
                    "an earlier transaction of the sender was dropped".to_string(),
                );
            }
        }
        Ok(())
    }

    /// `sender`'s queue run on `state` for the block at `height`.
    fn exact_projection(
        &self,
        sender: &PassportId,
        state: &dyn StateReader,
        height: u64,
    ) -> Result<SenderProjection, LedgerError> {
        let projection = self.project(sender, state, height)?.0;
        Ok(SenderProjection {
            projection,
            exact: true,
        })
    }

    fn queued_for(&self, sender: &PassportId) -> impl Iterator<Item = &SignedTransaction> {
        self.queues
            .get(sender)
            .into_iter()
            .flat_map(|queue| queue.values())
            .map(|id| &self.entries[id].transaction)
    }

    /// Runs `sender`'s queue on `state` as the block at `height` would: the projection after
    /// it (a transaction that fails changes nothing), and the first failure's position and
    /// error.
    fn project(
        &self,
        sender: &PassportId,
        state: &dyn StateReader,
        height: u64,
    ) -> Result<(Projection, Option<(usize, TxError)>), LedgerError> {
        let mut projection = Projection::start(state, height)?;
        let mut first_failure = None;
        for (position, transaction) in self.queued_for(sender).enumerate() {
            let checked = CheckedTransaction::pre_verified(transaction);
            if let Err(error) = projection.apply(state, &checked)? {
                first_failure = first_failure.or(Some((position, error)));
            }
        }
        Ok((projection, first_failure))
    }

    /// Removes the sender's transaction with `nonce`; returns its id if there was one.
    fn evict(&mut self, sender: &PassportId, nonce: Nonce) -> Option<TxId> {
        let queue = self.queues.get_mut(sender)?;
        let id = queue.remove(&nonce);
        if let Some(id) = id {
            if let Some(queued) = self.entries.remove(&id) {
                self.arrivals.remove(&queued.arrival);
                self.bytes -= queued.size;
            }
        }
        if queue.is_empty() {
            self.queues.remove(sender);
            self.projections.remove(sender);
        }
        id
    }
}

/// Most transactions and bytes one proposed block carries. Under load each block carries what
/// arrived while the last one was decided, and a block's fixed costs (votes, the beacon share,
/// the synced write, the pool's re-checks) are spread over more transactions in a larger one.
pub const MAX_BLOCK_TRANSACTIONS: usize = 5_000;
/// Below the engine's 4 MiB gossip limit, so a full block's proposal (header and framing
/// included) still travels.
pub const MAX_BLOCK_BYTES: usize = 3 * 1024 * 1024;

/// A mempool shared by the consensus host (which reaps it) and the node's API and gossip (which
/// fill it).
#[derive(Clone, Default)]
pub struct SharedMempool {
    pool: Arc<std::sync::Mutex<Mempool>>,
    arrivals: Arc<Notify>,
}

impl SharedMempool {
    pub fn new(limits: MempoolLimits, verified: VerifiedSignatures) -> Self {
        Self {
            pool: Arc::new(std::sync::Mutex::new(Mempool::new(limits, verified))),
            arrivals: Arc::default(),
        }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Mempool> {
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells a proposer waiting for transactions that some arrived.
    pub fn announce_arrivals(&self) {
        self.arrivals.notify_one();
    }
}

impl<S: Storage, A: Application<State = Ledger<S>>> TransactionPool<A> for SharedMempool {
    fn candidates(&mut self) -> Vec<SignedTransaction> {
        self.lock().reap(MAX_BLOCK_TRANSACTIONS, MAX_BLOCK_BYTES)
    }

    fn block_committed(&mut self, block: &CommittedBlock, ledger: &Ledger<S>) {
        let committed: HashSet<TxId> = (block.outcomes.iter())
            .filter(|outcome| outcome.rejection.is_none())
            .map(|outcome| outcome.id)
            .collect();
        if let Err(error) = self.lock().on_block_committed(ledger, &committed) {
            tracing::error!(%error, "re-checking the mempool after a block failed");
        }
    }

    fn arrivals(&self) -> Arc<Notify> {
        Arc::clone(&self.arrivals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charter_devnet::fixtures::{DevCell, DevCellConfig};
    use charter_ledger::storage::MemoryStorage;
    use charter_ledger::{Action, Amount};

    struct Setup {
        cell: DevCell,
        ledger: Ledger<MemoryStorage>,
    }

    fn assert_overdraws(admitted: Result<TxId, AdmissionError>) {
        assert!(matches!(
            admitted,
            Err(AdmissionError::Rejected(
                TxError::InsufficientBalance { .. }
            ))
        ));
    }

    fn ids(block: &[SignedTransaction]) -> HashSet<TxId> {
        block.iter().map(SignedTransaction::id).collect()
    }

    fn setup() -> Setup {
        let cell = DevCell::new(5, DevCellConfig::default());
        let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
        ledger.init_genesis(&cell.genesis).unwrap();
        Setup { cell, ledger }
    }

    impl Setup {
        fn transfer(&self, from: usize, nonce: Nonce, amount: Amount) -> SignedTransaction {
            let to = self.cell.member((from + 1) % 8).id;
            self.cell.transaction(
                self.cell.member(from),
                nonce,
                Action::Transfer { to, amount },
            )
        }

        /// Member 1's first transaction: `amount` to member 0.
        fn pays_back(&self, amount: Amount) -> SignedTransaction {
            let to = self.cell.member(0).id;
            (self.cell).transaction(self.cell.member(1), 0, Action::Transfer { to, amount })
        }
    }

    #[test]
    fn admits_consecutive_transactions_that_would_commit() {
        let s = setup();
        let mut pool = Mempool::default();
        for nonce in 0..3 {
            pool.admit(s.transfer(0, nonce, 10), &s.ledger).unwrap();
        }
        assert_eq!(pool.len(), 3);
        let duplicate = pool.admit(s.transfer(0, 2, 10), &s.ledger);
        assert!(matches!(duplicate, Err(AdmissionError::Duplicate(_))));
    }

    #[test]
    fn refuses_what_the_ledger_would_reject() {
        let s = setup();
        let mut pool = Mempool::default();
        pool.admit(s.transfer(0, 0, 600_000), &s.ledger).unwrap();
        let overdraw = pool.admit(s.transfer(0, 1, 600_000), &s.ledger);
        assert_overdraws(overdraw);
        let gap = pool.admit(s.transfer(0, 3, 1), &s.ledger);
        assert!(matches!(
            gap,
            Err(AdmissionError::Rejected(TxError::FutureNonce {
                expected: 1,
                got: 3
            }))
        ));
        let mut forged = s.transfer(1, 0, 1);
        forged.body.fee = 1;
        assert!(matches!(
            pool.admit(forged, &s.ledger),
            Err(AdmissionError::Rejected(TxError::BadSignature(_)))
        ));
        let oversized = vec![0u8; charter_ledger::transaction::MAX_TRANSACTION_BYTES + 1];
        // Admission decodes before the pool; its refusals carry these codes.
        let decoded = |bytes: &[u8]| SignedTransaction::decode(bytes).map_err(AdmissionError::from);
        assert_eq!(decoded(&oversized).unwrap_err().code(), "oversized");
        assert_eq!(decoded(&[1, 2, 3]).unwrap_err().code(), "malformed");
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn sheds_load_when_full_or_when_one_sender_floods() {
        let s = setup();
        let limits = MempoolLimits {
            max_transactions: 3,
            max_bytes: 1 << 20,
            max_per_sender: 2,
        };
        let mut pool = Mempool::new(limits, VerifiedSignatures::default());
        pool.admit(s.transfer(0, 0, 1), &s.ledger).unwrap();
        pool.admit(s.transfer(0, 1, 1), &s.ledger).unwrap();
        assert!(matches!(
            pool.admit(s.transfer(0, 2, 1), &s.ledger),
            Err(AdmissionError::SenderBacklog { queued: 2, .. })
        ));
        pool.admit(s.transfer(1, 0, 1), &s.ledger).unwrap();
        let full = pool.admit(s.transfer(2, 0, 1), &s.ledger).unwrap_err();
        assert!(matches!(
            full,
            AdmissionError::Full {
                transactions: 3,
                ..
            }
        ));
        assert_eq!(full.code(), "mempool_full");
    }

    #[test]
    fn reaps_in_admission_order_within_limits() {
        let s = setup();
        let mut pool = Mempool::default();
        let admitted: Vec<TxId> = [(0, 0), (1, 0), (0, 1), (2, 0)]
            .into_iter()
            .map(|(from, nonce)| pool.admit(s.transfer(from, nonce, 5), &s.ledger).unwrap())
            .collect();
        let reaped: Vec<TxId> = pool
            .reap(3, usize::MAX)
            .iter()
            .map(SignedTransaction::id)
            .collect();
        assert_eq!(reaped, admitted[..3]);
        let one_size = s.transfer(0, 0, 5).encode().len();
        assert_eq!(pool.reap(10, 2 * one_size + 1).len(), 2);
    }

    #[test]
    fn evicts_committed_and_stale_transactions_after_a_block() {
        let mut s = setup();
        let mut pool = Mempool::default();
        pool.admit(s.transfer(0, 0, 10), &s.ledger).unwrap();
        pool.admit(s.transfer(0, 1, 10), &s.ledger).unwrap();
        let spends_later = pool.admit(s.transfer(1, 0, 900_000), &s.ledger).unwrap();
        // Member 1 spends most of its balance through another node before its queued transfer
        // commits; the queued one can no longer pay and must leave the pool.
        let elsewhere = s
            .cell
            .transaction(s.cell.member(1), 0, Action::Bond { amount: 999_000 });
        let mut block = pool.reap(1, usize::MAX);
        block.push(elsewhere);
        s.ledger.apply_block(&block).unwrap();
        let evicted = pool.on_block_committed(&s.ledger, &ids(&block)).unwrap();
        assert_eq!(
            evicted, 2,
            "the committed transfer and member 1's now-stale one"
        );
        assert!(!pool.contains(&spends_later));
        assert_eq!(
            pool.dropped(&spends_later)
                .map(|dropped| dropped.code.as_str()),
            Some("nonce_used"),
            "a client following it learns why it left"
        );
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.reap(10, usize::MAX)[0].body.nonce, 1);
    }

    /// A transfer to a passport that exits elsewhere can no longer commit, though none of its
    /// sender's nonces moved: it stays queued until its sender's turn to be re-checked, and
    /// leaves then.
    #[test]
    fn a_sender_whose_nonces_did_not_move_is_rechecked_every_few_blocks() {
        let mut s = setup();
        let mut pool = Mempool::default();
        let key = charter_ledger::crypto::ed25519::Ed25519Keypair::from_seed([42; 32]);
        let sponsor = s.cell.member(1);
        let issue = Action::IssuePassport {
            controller_keys: vec![key.public_key()],
            tier: 1,
        };
        let issued = s
            .ledger
            .apply_block(&[s.cell.transaction(sponsor, 0, issue)]);
        assert_eq!(issued.unwrap().receipts[0].outcome, Ok(()));
        let newcomer = PassportId::derive(s.cell.genesis.cell, &sponsor.id, 0);
        let to_newcomer = s.cell.transaction(
            s.cell.member(0),
            0,
            Action::Transfer {
                to: newcomer,
                amount: 10,
            },
        );
        let id = pool.admit(to_newcomer, &s.ledger).unwrap();
        let exit = charter_ledger::TransactionBody {
            federation: s.cell.genesis.federation,
            cell: s.cell.genesis.cell,
            sender: newcomer,
            nonce: 0,
            fee: 0,
            action: Action::Exit,
        }
        .sign(&key);
        let exited = s.ledger.apply_block(&[exit]).unwrap();
        assert_eq!(exited.receipts[0].outcome, Ok(()), "the newcomer exits");
        let sender = s.cell.member(0).id;
        let mut blocks = 0;
        while !recheck_due(&sender, s.ledger.height().unwrap() + 1) {
            assert_eq!(
                pool.on_block_committed(&s.ledger, &HashSet::new()).unwrap(),
                0
            );
            assert!(pool.contains(&id));
            s.ledger.apply_block(&[]).unwrap();
            blocks += 1;
        }
        assert!(blocks < RECHECK_INTERVAL);
        assert_eq!(
            pool.on_block_committed(&s.ledger, &HashSet::new()).unwrap(),
            1
        );
        assert_eq!(
            pool.dropped(&id).map(|dropped| dropped.code.as_str()),
            Some("passport_not_active")
        );
    }

    /// A sender's next transaction is checked after its queue in one execution, on a projection
    /// of the queue that follows the chain: made again once a block commits, whether or not
    /// the pool heard of the block.
    #[test]
    fn checks_each_transaction_after_the_senders_queue_as_the_chain_moves() {
        let mut s = setup();
        let mut pool = Mempool::default();
        let balance = 1_000_000;
        pool.admit(s.transfer(0, 0, 600_000), &s.ledger).unwrap();
        pool.admit(s.transfer(0, 1, 300_000), &s.ledger).unwrap();
        let overdraw = pool.admit(s.transfer(0, 2, balance - 900_000 + 1), &s.ledger);
        assert_overdraws(overdraw);
        // The first transfer commits, and member 1 pays member 0 back, without the pool being
        // told: its projection is of an earlier height and is made again from the queue.
        let back = s.pays_back(50_000);
        let block = [s.transfer(0, 0, 600_000), back];
        s.ledger.apply_block(&block).unwrap();
        pool.admit(s.transfer(0, 2, 100_000), &s.ledger).unwrap();
        let overdraw = pool.admit(s.transfer(0, 3, 50_001), &s.ledger);
        assert_overdraws(overdraw);
        pool.on_block_committed(&s.ledger, &ids(&block)).unwrap();
        pool.admit(s.transfer(0, 3, 50_000), &s.ledger).unwrap();
        assert_eq!(pool.len(), 3, "nonces 1 to 3 wait; nonce 0 committed");
    }

    /// Between its sender's re-checks a projection is carried across blocks and misses what
    /// they paid the sender; what it would refuse is judged again on the queue run afresh.
    #[test]
    fn a_carried_projection_refuses_nothing_the_chain_would_commit() {
        let mut s = setup();
        let mut pool = Mempool::default();
        let sender = s.cell.member(0).id;
        while recheck_due(&sender, s.ledger.height().unwrap() + 2) {
            s.ledger.apply_block(&[]).unwrap();
        }
        let spend = s.transfer(0, 0, 600_000);
        pool.admit(spend.clone(), &s.ledger).unwrap();
        pool.admit(s.transfer(0, 1, 400_000), &s.ledger).unwrap();
        let back = s.pays_back(50_000);
        let block = [spend, back];
        s.ledger.apply_block(&block).unwrap();
        pool.on_block_committed(&s.ledger, &ids(&block)).unwrap();
        pool.admit(s.transfer(0, 2, 50_000), &s.ledger).unwrap();
        let overdraw = pool.admit(s.transfer(0, 3, 1), &s.ledger);
        assert_overdraws(overdraw);
    }
}
