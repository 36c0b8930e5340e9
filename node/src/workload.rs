//! Simulated agents: a deterministic stream of signed transactions from a dev cell's members —
//! payments, escrows released or disputed and settled by arbiters, stake moving, new passports
//! sponsored and funded. It follows what the ledger committed (never assumes), so it stays
//! valid after rejections, and a seed replays it exactly. [`ApiChain`], [`submit`] and
//! [`follow`] act through a validator's HTTP API.

use crate::client::ApiClient;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::devnet::{derive_seed, DevCell, DevPassport};
use charter_ledger::state::{Bond, Passport};
use charter_ledger::{Action, EscrowId, Height, PassportId, SignedTransaction};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use std::collections::BTreeMap;

/// Blocks an escrow stays open before its payer may take a refund.
const ESCROW_LIFETIME: Height = 40;

#[derive(Clone, Copy, PartialEq, Eq)]
enum EscrowPhase {
    Open,
    Disputed,
}

#[derive(Clone)]
struct TrackedEscrow {
    id: EscrowId,
    payer: usize,
    payee: usize,
    arbiter: usize,
    amount: u64,
    phase: EscrowPhase,
    busy: bool,
}

/// The committed state agents look at before acting, as a client reads it from a node.
pub trait ChainView {
    fn passport(&self, id: &PassportId) -> Option<Passport>;
    fn bond(&self, id: &PassportId) -> Bond;
}

/// What a transaction was meant to do, so its receipt can update the workload's view.
enum Intent {
    Plain,
    CreateEscrow(TrackedEscrow),
    Dispute(EscrowId),
    Settle(EscrowId),
    Sponsor {
        sponsor: usize,
        passport: Box<DevPassport>,
    },
}

pub struct Workload {
    cell: DevCell,
    rng: ChaCha20Rng,
    seed: u64,
    agents: Vec<DevPassport>,
    nonces: BTreeMap<PassportId, u64>,
    escrows: Vec<TrackedEscrow>,
    pending: Vec<Intent>,
    sponsored: u64,
    /// New passports waiting for their sponsor's first transfer: (sponsor's agent index, passport).
    unfunded: Vec<(usize, PassportId)>,
}

impl Workload {
    /// Agents are the cell's members; they start from the nonces the chain has, so a workload
    /// can continue an existing chain.
    pub fn new(cell: DevCell, seed: u64, chain: &dyn ChainView) -> Self {
        let members = cell.config.validators + cell.config.arbiters..cell.passports.len();
        let agents = cell.passports[members].to_vec();
        let nonces = cell
            .passports
            .iter()
            .map(|passport| {
                (
                    passport.id,
                    chain.passport(&passport.id).map_or(0, |state| state.nonce),
                )
            })
            .collect();
        Self {
            cell,
            rng: ChaCha20Rng::seed_from_u64(seed),
            seed,
            agents,
            nonces,
            escrows: Vec::new(),
            pending: Vec::new(),
            sponsored: 0,
            unfunded: Vec::new(),
        }
    }

    fn sign(&mut self, sender: &DevPassport, action: Action) -> SignedTransaction {
        let nonce = self.nonces.entry(sender.id).or_default();
        let tx = self.cell.transaction(sender, *nonce, action);
        *nonce += 1;
        tx
    }

    fn other_agent(&mut self, not: usize) -> usize {
        let pick = self.rng.gen_range(0..self.agents.len() - 1);
        if pick >= not {
            pick + 1
        } else {
            pick
        }
    }

    /// The transactions agents send for the block at `height`.
    pub fn next_block(
        &mut self,
        height: Height,
        size: usize,
        chain: &dyn ChainView,
    ) -> Vec<SignedTransaction> {
        self.pending.clear();
        let mut block = Vec::with_capacity(size);
        for (sponsor, passport) in std::mem::take(&mut self.unfunded) {
            let sponsor = self.agents[sponsor].clone();
            let tx = self.sign(
                &sponsor,
                Action::Transfer {
                    to: passport,
                    amount: 5_000,
                },
            );
            block.push(tx);
            self.pending.push(Intent::Plain);
        }
        while block.len() < size {
            let (tx, intent) = self.next_transaction(height, chain);
            block.push(tx);
            self.pending.push(intent);
        }
        block
    }

    fn next_transaction(
        &mut self,
        height: Height,
        chain: &dyn ChainView,
    ) -> (SignedTransaction, Intent) {
        let roll = self.rng.gen_range(0..100);
        let sender_index = self.rng.gen_range(0..self.agents.len());
        let sender = self.agents[sender_index].clone();
        let idle_escrow = self.escrows.iter().position(|escrow| !escrow.busy);
        match (roll, idle_escrow) {
            (0..=19, Some(index)) => {
                self.escrows[index].busy = true;
                let escrow = self.escrows[index].clone();
                match escrow.phase {
                    EscrowPhase::Disputed => {
                        let arbiter = self.cell.arbiter(escrow.arbiter).clone();
                        let to_payee = self.rng.gen_range(0..=escrow.amount);
                        let action = Action::EscrowResolve {
                            escrow: escrow.id,
                            to_payee,
                            to_payer: escrow.amount - to_payee,
                        };
                        (self.sign(&arbiter, action), Intent::Settle(escrow.id))
                    }
                    EscrowPhase::Open if self.rng.gen_bool(0.7) => {
                        let payer = self.agents[escrow.payer].clone();
                        (
                            self.sign(&payer, Action::EscrowRelease { escrow: escrow.id }),
                            Intent::Settle(escrow.id),
                        )
                    }
                    EscrowPhase::Open => {
                        let payee = self.agents[escrow.payee].clone();
                        (
                            self.sign(&payee, Action::EscrowDispute { escrow: escrow.id }),
                            Intent::Dispute(escrow.id),
                        )
                    }
                }
            }
            (0..=39, _) => {
                let payee = self.other_agent(sender_index);
                let arbiter = self.rng.gen_range(0..self.cell.config.arbiters);
                let amount = self.rng.gen_range(10..=1_000);
                let nonce = self.nonces.get(&sender.id).copied().unwrap_or(0);
                let action = Action::EscrowCreate {
                    payee: self.agents[payee].id,
                    amount,
                    arbiter: Some(self.cell.arbiter(arbiter).id),
                    release_height: height,
                    expiry_height: height + ESCROW_LIFETIME,
                };
                let tracked = TrackedEscrow {
                    id: EscrowId::derive(self.cell.genesis.cell, &sender.id, nonce),
                    payer: sender_index,
                    payee,
                    arbiter,
                    amount,
                    phase: EscrowPhase::Open,
                    busy: true,
                };
                (self.sign(&sender, action), Intent::CreateEscrow(tracked))
            }
            (40..=47, _) => {
                // Stake above the sponsor minimum moves; the minimum stays so agents can sponsor.
                let bond = chain.bond(&sender.id);
                let spare = bond
                    .bonded
                    .saturating_sub(self.cell.config.params.min_sponsor_bond);
                let action = if spare > 0 && self.rng.gen_bool(0.5) {
                    Action::Unbond {
                        amount: self.rng.gen_range(1..=spare.min(50)),
                    }
                } else {
                    Action::Bond {
                        amount: self.rng.gen_range(1..=50),
                    }
                };
                (self.sign(&sender, action), Intent::Plain)
            }
            (48..=50, _)
                if chain
                    .bond(&sender.id)
                    .unbonding
                    .iter()
                    .any(|entry| entry.release_height <= height) =>
            {
                (self.sign(&sender, Action::Withdraw), Intent::Plain)
            }
            (51..=53, _)
                if chain.passport(&sender.id).is_some_and(|passport| {
                    passport.tier >= self.cell.config.params.min_sponsor_tier
                }) =>
            {
                self.sponsored += 1;
                let key =
                    Ed25519Keypair::from_seed(derive_seed(self.seed, "sponsored", self.sponsored));
                let nonce = self.nonces.get(&sender.id).copied().unwrap_or(0);
                let child = DevPassport {
                    id: PassportId::derive(self.cell.genesis.cell, &sender.id, nonce),
                    key: key.clone(),
                    consensus_key: None,
                    bls_key: None,
                };
                let action = Action::IssuePassport {
                    controller_keys: vec![key.public_key()],
                    tier: 1,
                };
                (
                    self.sign(&sender, action),
                    Intent::Sponsor {
                        sponsor: sender_index,
                        passport: Box::new(child),
                    },
                )
            }
            _ => {
                let to = self.other_agent(sender_index);
                let action = Action::Transfer {
                    to: self.agents[to].id,
                    amount: self.rng.gen_range(1..=500),
                };
                (self.sign(&sender, action), Intent::Plain)
            }
        }
    }

    /// Learns which of the last batch's transactions committed (in order), and takes nonces
    /// from the chain so that rejected transactions do not leave agents' nonces ahead of it.
    pub fn observe(
        &mut self,
        transactions: &[SignedTransaction],
        committed: &[bool],
        chain: &dyn ChainView,
    ) {
        let intents = std::mem::take(&mut self.pending);
        for (intent, &committed) in intents.into_iter().zip(committed) {
            match intent {
                Intent::Plain => {}
                Intent::CreateEscrow(mut escrow) if committed => {
                    escrow.busy = false;
                    self.escrows.push(escrow);
                }
                Intent::CreateEscrow(_) => {}
                Intent::Dispute(id) => self.update_escrow(&id, |escrow| {
                    escrow.busy = false;
                    if committed {
                        escrow.phase = EscrowPhase::Disputed;
                    }
                }),
                Intent::Settle(id) if committed => self.escrows.retain(|escrow| escrow.id != id),
                Intent::Settle(id) => self.update_escrow(&id, |escrow| escrow.busy = false),
                Intent::Sponsor { sponsor, passport } if committed => {
                    // Funded first thing in the next block, so it can act from then on.
                    self.unfunded.push((sponsor, passport.id));
                    self.agents.push(*passport);
                }
                Intent::Sponsor { .. } => {}
            }
        }
        // Escrows whose release failed (for instance because they expired) are dropped.
        self.escrows.retain(|escrow| !escrow.busy);
        for tx in transactions {
            let nonce = chain
                .passport(&tx.body.sender)
                .map_or(0, |passport| passport.nonce);
            self.nonces.insert(tx.body.sender, nonce);
        }
    }

    fn update_escrow(&mut self, id: &EscrowId, change: impl FnOnce(&mut TrackedEscrow)) {
        if let Some(escrow) = self.escrows.iter_mut().find(|escrow| escrow.id == *id) {
            change(escrow);
        }
    }
}

/// One transaction of a round played through the APIs: its id once a validator admitted it,
/// and whether it committed (or the code of why not).
pub struct Played {
    pub id: Option<String>,
    pub outcome: Result<(), String>,
}

impl Workload {
    /// Plays one round through validators' HTTP APIs: reads the height from `reader`, submits
    /// the block's worth of transactions, each to the API its sender talks to (so a sender's
    /// transactions reach one mempool in order; gossip carries them on), follows each until it
    /// is decided or `follow_seconds` pass, and takes in what the chain then says.
    pub fn play_round(
        &mut self,
        reader: &ApiClient,
        apis: &[&ApiClient],
        batch: usize,
        follow_seconds: u64,
    ) -> Result<Vec<Played>, crate::client::ClientError> {
        let height = reader.get("/v1/status")?["height"].as_u64().unwrap_or(0) + 1;
        let chain = ApiChain(reader);
        let transactions = self.next_block(height, batch, &chain);
        let api_of = |transaction: &SignedTransaction| {
            apis[transaction.body.sender.0[0] as usize % apis.len()]
        };
        let submitted: Vec<Result<String, String>> = transactions
            .iter()
            .map(|transaction| submit(api_of(transaction), &transaction.encode()))
            .collect();
        let played: Vec<Played> = transactions
            .iter()
            .zip(submitted)
            .map(|(transaction, submitted)| match submitted {
                Ok(id) => Played {
                    outcome: follow(api_of(transaction), &id, follow_seconds),
                    id: Some(id),
                },
                Err(code) => Played {
                    id: None,
                    outcome: Err(code),
                },
            })
            .collect();
        let committed: Vec<bool> = played.iter().map(|one| one.outcome.is_ok()).collect();
        self.observe(&transactions, &committed, &chain);
        Ok(played)
    }
}

/// The committed state as a validator's API serves it.
pub struct ApiChain<'a>(pub &'a ApiClient);

impl ApiChain<'_> {
    fn value<T: serde::de::DeserializeOwned>(&self, path: &str) -> Option<T> {
        match self.0.get(path) {
            Ok(read) => serde_json::from_value::<Option<T>>(read["value"].clone())
                .ok()
                .flatten(),
            Err(error) => {
                tracing::warn!(%error, path, "reading the chain failed");
                None
            }
        }
    }
}

impl ChainView for ApiChain<'_> {
    fn passport(&self, id: &PassportId) -> Option<Passport> {
        self.value(&format!("/v1/passports/{id}"))
    }

    fn bond(&self, id: &PassportId) -> Bond {
        self.value(&format!("/v1/bonds/{id}")).unwrap_or_default()
    }
}

/// Submits a transaction; its id, or the code of the error that refused it.
pub fn submit(api: &ApiClient, encoded: &[u8]) -> Result<String, String> {
    match api.json("POST", "/v1/transactions", encoded) {
        Ok((202, answer)) => Ok(answer["id"].as_str().unwrap_or_default().to_string()),
        Ok((_, answer)) => Err(code_of(&answer)),
        Err(_) => Err("unreachable".to_string()),
    }
}

/// Follows a transaction until it is decided: `Ok` if it committed, else the reason's code.
pub fn follow(api: &ApiClient, id: &str, seconds: u64) -> Result<(), String> {
    let path = format!("/v1/transactions/{id}?wait={seconds}");
    match api.json("GET", &path, b"") {
        Ok((200, answer)) if answer["status"] == "committed" => Ok(()),
        Ok((200, answer)) if answer["status"] == "pending" => Err("timed_out".to_string()),
        Ok((200, answer)) => Err(answer["reason"]["code"]
            .as_str()
            .unwrap_or("unknown")
            .to_string()),
        Ok((_, answer)) => Err(code_of(&answer)),
        Err(_) => Err("unreachable".to_string()),
    }
}

fn code_of(answer: &Value) -> String {
    answer["error"].as_str().unwrap_or("unknown").to_string()
}
