//! hotstuff_rs 0.4, the engine Malachite was chosen over, measured the same way: four replicas
//! in this process ordering blocks of the same dummy transactions for an application that does
//! nothing with them. Its network here is in-memory channels and its store a map — both
//! cheaper than Malachite's loopback TCP and RocksDB, so the comparison favours it.

use crate::noop::{dummy_transactions, EngineRun};
use anyhow::{bail, Result};
use charter_consensus::context::CellContext;
use charter_ledger::{CellId, FederationId};
use hotstuff_rs::app::{
    App, ProduceBlockRequest, ProduceBlockResponse, ValidateBlockRequest, ValidateBlockResponse,
};
use hotstuff_rs::block_tree::pluggables::{KVGet, KVStore, WriteBatch};
use hotstuff_rs::networking::messages::Message;
use hotstuff_rs::networking::network::Network;
use hotstuff_rs::replica::{Configuration, Replica, ReplicaSpec};
use hotstuff_rs::types::crypto_primitives::{CryptoHasher, Digest, SigningKey, VerifyingKey};
use hotstuff_rs::types::data_types::{
    BufferSize, ChainID, CryptoHash, Data, Datum, EpochLength, Power,
};
use hotstuff_rs::types::update_sets::{AppStateUpdates, ValidatorSetUpdates};
use hotstuff_rs::types::validator_set::{ValidatorSet, ValidatorSetState};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct MemoryStore(Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>);

struct MemorySnapshot<'a>(MutexGuard<'a, HashMap<Vec<u8>, Vec<u8>>>);

#[derive(Default)]
struct MemoryBatch {
    puts: HashMap<Vec<u8>, Vec<u8>>,
    deletes: HashSet<Vec<u8>>,
}

impl MemoryStore {
    fn map(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl KVGet for MemoryStore {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.map().get(key).cloned()
    }
}

impl KVGet for MemorySnapshot<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
}

impl WriteBatch for MemoryBatch {
    fn new() -> Self {
        Self::default()
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.deletes.remove(key);
        self.puts.insert(key.to_vec(), value.to_vec());
    }

    fn delete(&mut self, key: &[u8]) {
        self.puts.remove(key);
        self.deletes.insert(key.to_vec());
    }
}

impl KVStore for MemoryStore {
    type WriteBatch = MemoryBatch;
    type Snapshot<'a> = MemorySnapshot<'a>;

    fn write(&mut self, batch: MemoryBatch) {
        let mut map = self.map();
        for (key, value) in batch.puts {
            map.insert(key, value);
        }
        for key in batch.deletes {
            map.remove(&key);
        }
    }

    fn clear(&mut self) {
        self.map().clear();
    }

    fn snapshot<'b>(&'b self) -> MemorySnapshot<'b> {
        MemorySnapshot(self.map())
    }
}

type Envelope = (VerifyingKey, Message);

/// Channels between replicas; every replica's broadcast includes itself, as hotstuff_rs needs.
#[derive(Clone)]
struct ChannelNetwork {
    me: VerifyingKey,
    peers: HashMap<VerifyingKey, Sender<Envelope>>,
    inbox: Arc<Mutex<Receiver<Envelope>>>,
}

impl Network for ChannelNetwork {
    fn init_validator_set(&mut self, _: ValidatorSet) {}

    fn update_validator_set(&mut self, _: ValidatorSetUpdates) {}

    fn broadcast(&mut self, message: Message) {
        for peer in self.peers.values() {
            let _ = peer.send((self.me, message.clone()));
        }
    }

    fn send(&mut self, peer: VerifyingKey, message: Message) {
        if let Some(peer) = self.peers.get(&peer) {
            let _ = peer.send((self.me, message));
        }
    }

    fn recv(&mut self) -> Option<Envelope> {
        // Waiting briefly keeps hotstuff_rs's poller thread from spinning on an empty inbox.
        self.inbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv_timeout(Duration::from_millis(1))
            .ok()
    }
}

fn networks(keys: &[VerifyingKey]) -> Vec<ChannelNetwork> {
    let mut peers = HashMap::new();
    let mut inboxes = Vec::new();
    for key in keys {
        let (sender, receiver) = mpsc::channel();
        peers.insert(*key, sender);
        inboxes.push((*key, receiver));
    }
    inboxes
        .into_iter()
        .map(|(me, inbox)| ChannelNetwork {
            me,
            peers: peers.clone(),
            inbox: Arc::new(Mutex::new(inbox)),
        })
        .collect()
}

/// Proposes the fixed payload and accepts any block of the right size.
struct NoopApp {
    payload: Data,
    data_hash: CryptoHash,
    block_size: u32,
}

impl<K: KVStore> App<K> for NoopApp {
    fn produce_block(&mut self, _request: ProduceBlockRequest<K>) -> ProduceBlockResponse {
        ProduceBlockResponse {
            data_hash: self.data_hash,
            data: self.payload.clone(),
            app_state_updates: None,
            validator_set_updates: None,
        }
    }

    fn validate_block(&mut self, request: ValidateBlockRequest<K>) -> ValidateBlockResponse {
        <Self as App<K>>::validate_block_for_sync(self, request)
    }

    fn validate_block_for_sync(
        &mut self,
        request: ValidateBlockRequest<K>,
    ) -> ValidateBlockResponse {
        if request.proposed_block().data.len().int() == self.block_size {
            ValidateBlockResponse::Valid {
                app_state_updates: None,
                validator_set_updates: None,
            }
        } else {
            ValidateBlockResponse::Invalid
        }
    }
}

fn committed_blocks(replica: &Replica<MemoryStore>) -> u64 {
    let snapshot = replica.block_tree_camera().snapshot();
    match snapshot.highest_committed_block() {
        Ok(Some(block)) => snapshot
            .block_height(&block)
            .ok()
            .flatten()
            .map_or(0, |height| height.int() + 1),
        _ => 0,
    }
}

/// Runs four replicas for `duration` after a warm-up.
pub fn run(block_size: usize, duration: Duration) -> Result<EngineRun> {
    let context = CellContext {
        federation: FederationId([9; 32]),
        cell: CellId(0),
    };
    let payload = Data::new(
        dummy_transactions(&context, block_size)
            .iter()
            .map(|transaction| Datum::new(transaction.encode()))
            .collect(),
    );
    let mut hasher = CryptoHasher::new();
    for datum in payload.iter() {
        hasher.update(datum.bytes());
    }
    let data_hash = CryptoHash::new(hasher.finalize().into());

    let keys: Vec<SigningKey> = (1..=4u8)
        .map(|seed| SigningKey::from_bytes(&[seed; 32]))
        .collect();
    let public: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
    let mut validators = ValidatorSet::new();
    for key in &public {
        validators.put(key, Power::new(1));
    }
    let state = ValidatorSetState::new(validators.clone(), validators, None, true);
    let replicas: Vec<Replica<MemoryStore>> = keys
        .into_iter()
        .zip(networks(&public))
        .map(|(key, network)| {
            let store = MemoryStore::default();
            Replica::initialize(store.clone(), AppStateUpdates::new(), state.clone());
            let configuration = Configuration::builder()
                .me(key)
                .chain_id(ChainID::new(0))
                .block_sync_request_limit(10)
                .block_sync_server_advertise_time(Duration::from_secs(1))
                .block_sync_response_timeout(Duration::from_secs(3))
                .block_sync_blacklist_expiry_time(Duration::from_secs(10))
                .block_sync_trigger_min_view_difference(10)
                .block_sync_trigger_timeout(Duration::from_secs(60))
                .progress_msg_buffer_capacity(BufferSize::new(16 << 20))
                .epoch_length(EpochLength::new(50))
                // hotstuff_rs truncates view time to whole seconds.
                .max_view_time(Duration::from_secs(1))
                .log_events(false)
                .build();
            ReplicaSpec::builder()
                .app(NoopApp {
                    payload: payload.clone(),
                    data_hash,
                    block_size: block_size as u32,
                })
                .network(network)
                .kv_store(store)
                .configuration(configuration)
                .build()
                .start()
        })
        .collect();

    let warm_up = Instant::now();
    while committed_blocks(&replicas[0]) < 5 {
        if warm_up.elapsed() > Duration::from_secs(60) {
            bail!("hotstuff_rs committed nothing in a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (start_height, started) = (committed_blocks(&replicas[0]), Instant::now());
    std::thread::sleep(duration);
    let (end_height, elapsed) = (committed_blocks(&replicas[0]), started.elapsed());
    // Dropping a replica stops its threads; drop them side by side.
    let stopping: Vec<_> = replicas
        .into_iter()
        .map(|replica| std::thread::spawn(move || drop(replica)))
        .collect();
    for replica in stopping {
        let _ = replica.join();
    }
    Ok(EngineRun {
        blocks: end_height - start_height,
        elapsed,
        block_size,
    })
}
