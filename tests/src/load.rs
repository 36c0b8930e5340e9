//! A client load for fault tests: the cell's members paying each other, one transfer each per
//! round, through whichever validator APIs answer. It keeps the id of every transfer a node
//! acknowledged as committed, so a test can check none of them is ever lost.

use charter_client::ApiClient;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::{Action, Genesis, PassportId, TransactionBody};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// How long each transfer is followed before the payer re-reads its nonce and moves on.
const FOLLOW_SECONDS: u64 = 10;

struct Payer {
    id: PassportId,
    key: Ed25519Keypair,
    /// The nonce to use next, or `None` to read it from the chain first.
    nonce: Option<u64>,
}

pub struct TransferLoad {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    worker: Option<JoinHandle<()>>,
}

impl TransferLoad {
    /// Starts paying between `members` (passport indices of the dev genesis in `dir`).
    pub fn start(dir: &Path, apis: &[String], members: std::ops::Range<usize>) -> Self {
        let genesis: Genesis = serde_json::from_str(
            &std::fs::read_to_string(dir.join("genesis.json")).expect("the cell has a genesis"),
        )
        .expect("the genesis parses");
        let payers: Vec<Payer> = members
            .map(|index| {
                let keys: Value = serde_json::from_str(
                    &std::fs::read_to_string(dir.join(format!("keys/passport-{index}.json")))
                        .expect("a member's key file"),
                )
                .expect("the key file parses");
                let mut seed = [0u8; 32];
                hex::decode_to_slice(keys["controller_seed"].as_str().unwrap(), &mut seed)
                    .expect("a hex seed");
                Payer {
                    id: genesis.passport_id(index),
                    key: Ed25519Keypair::from_seed(seed),
                    nonce: None,
                }
            })
            .collect();
        let apis: Vec<ApiClient> = apis
            .iter()
            .map(|api| ApiClient::new(api).expect("an http:// address"))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let worker = {
            let (stop, acknowledged) = (Arc::clone(&stop), Arc::clone(&acknowledged));
            std::thread::spawn(move || pay(genesis, payers, apis, &stop, &acknowledged))
        };
        Self {
            stop,
            acknowledged,
            worker: Some(worker),
        }
    }

    /// How many transfers have been acknowledged as committed so far.
    pub fn acknowledged_count(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    /// Stops the load after its current round; the ids of every acknowledged transfer.
    pub fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(worker) = self.worker.take() {
            worker.join().expect("the load thread does not panic");
        }
        self.acknowledged.lock().unwrap().clone()
    }
}

impl Drop for TransferLoad {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn pay(
    genesis: Genesis,
    mut payers: Vec<Payer>,
    apis: Vec<ApiClient>,
    stop: &AtomicBool,
    acknowledged: &Mutex<Vec<String>>,
) {
    let count = payers.len();
    let mut round = 0usize;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        // Submit one transfer per payer, each to the first validator (from a rotating start)
        // that accepts it, then follow them all.
        let mut submitted = Vec::new();
        for index in 0..count {
            let payee = payers[(index + 1) % count].id;
            let payer = &mut payers[index];
            let start = round + index;
            let Some(nonce) = payer.nonce.or_else(|| chain_nonce(&apis, start, &payer.id)) else {
                continue;
            };
            let transfer = TransactionBody {
                federation: genesis.federation,
                cell: genesis.cell,
                sender: payer.id,
                nonce,
                fee: 0,
                action: Action::Transfer {
                    to: payee,
                    amount: 1,
                },
            }
            .sign(&payer.key);
            let encoded = transfer.encode();
            let accepted = (0..apis.len())
                .map(|offset| (start + offset) % apis.len())
                .find(|node| {
                    matches!(
                        apis[*node].json("POST", "/v1/transactions", &encoded),
                        Ok((202, _))
                    )
                });
            match accepted {
                Some(node) => {
                    payer.nonce = Some(nonce + 1);
                    submitted.push((index, node, transfer.id().to_hex()));
                }
                None => payer.nonce = None,
            }
        }
        for (index, node, id) in submitted {
            let path = format!("/v1/transactions/{id}?wait={FOLLOW_SECONDS}");
            match apis[node].json("GET", &path, b"") {
                Ok((200, answer)) if answer["status"] == "committed" => {
                    acknowledged.lock().unwrap().push(id)
                }
                _ => payers[index].nonce = None,
            }
        }
    }
}

fn chain_nonce(apis: &[ApiClient], start: usize, id: &PassportId) -> Option<u64> {
    (0..apis.len()).find_map(|offset| {
        let read = apis[(start + offset) % apis.len()]
            .get(&format!("/v1/passports/{id}"))
            .ok()?;
        read["value"]["nonce"].as_u64()
    })
}
