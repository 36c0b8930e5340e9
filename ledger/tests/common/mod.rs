//! A ledger on a dev cell, driven one single-transaction block at a time.
#![allow(dead_code)]

pub mod encodings;

use charter_devnet::fixtures::{DevCell, DevCellConfig, DevPassport};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::evidence::*;
use charter_ledger::state::*;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::*;
use std::collections::BTreeMap;

pub struct Harness {
    pub cell: DevCell,
    pub ledger: Ledger<MemoryStorage>,
    nonces: BTreeMap<PassportId, u64>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(DevCellConfig::default())
    }

    pub fn with(config: DevCellConfig) -> Self {
        Self::from_cell(DevCell::new(7, config))
    }

    /// A ledger started from `cell`'s genesis, which a test may have changed.
    pub fn from_cell(cell: DevCell) -> Self {
        let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
        ledger.init_genesis(&cell.genesis).unwrap();
        Self {
            cell,
            ledger,
            nonces: BTreeMap::new(),
        }
    }

    pub fn nonce(&self, id: &PassportId) -> u64 {
        self.nonces.get(id).copied().unwrap_or(0)
    }

    pub fn tx(&self, sender: &DevPassport, action: Action) -> SignedTransaction {
        self.cell
            .transaction(sender, self.nonce(&sender.id), action)
    }

    /// Submits `action` from `sender` with its next nonce.
    pub fn submit(&mut self, sender: &DevPassport, action: Action) -> Result<(), TxError> {
        let tx = self.tx(sender, action);
        self.submit_tx(tx)
    }

    /// The reveal of the next block, as its dev proposer gives it.
    pub fn next_reveal(&self) -> governance::BeaconReveal {
        self.cell.reveal(self.height() + 1)
    }

    /// Commits a block holding only `tx`. A rejected transaction must leave the state root
    /// exactly as the same block without it would: nothing is half-applied.
    pub fn submit_tx(&mut self, tx: SignedTransaction) -> Result<(), TxError> {
        let reveal = self.next_reveal();
        let verified = self.ledger.verify_reveal(&reveal).unwrap();
        let root_without = (self.ledger.prepare_revealed_block(&verified, &[]))
            .unwrap()
            .state_root;
        let sender = tx.body.sender;
        let block = self.ledger.apply_revealed_block(&reveal, &[tx]).unwrap();
        let outcome = block.receipts[0].outcome.clone();
        match &outcome {
            Ok(()) => *self.nonces.entry(sender).or_default() += 1,
            Err(_) => assert_eq!(
                block.state_root, root_without,
                "a rejected transaction changed state"
            ),
        }
        assert!(self.ledger.audit_supply().unwrap().is_conserved());
        outcome
    }

    /// `sponsor` issues a passport of `tier` controlled by `keypair(key_seed)`.
    pub fn issue(&mut self, sponsor: &DevPassport, key_seed: u8, tier: u8) -> DevPassport {
        let action = Action::IssuePassport {
            controller_keys: vec![keypair(key_seed).public_key()],
            tier,
        };
        self.create(sponsor, key_seed, action)
    }

    /// `parent` forks a passport controlled by `keypair(key_seed)`.
    pub fn fork(&mut self, parent: &DevPassport, key_seed: u8) -> DevPassport {
        let action = Action::ForkPassport {
            controller_keys: vec![keypair(key_seed).public_key()],
        };
        self.create(parent, key_seed, action)
    }

    fn create(&mut self, creator: &DevPassport, key_seed: u8, action: Action) -> DevPassport {
        let nonce = self.nonce(&creator.id);
        self.submit(creator, action).unwrap();
        DevPassport {
            id: PassportId::derive(self.cell.genesis.cell, &creator.id, nonce),
            key: keypair(key_seed),
            consensus_key: None,
            bls_key: None,
        }
    }

    /// `payer` escrows `amount` for `payee`, with arbiter 0 and a distant expiry, and disputes
    /// it; the escrow's id.
    pub fn disputed_escrow(
        &mut self,
        payer: &DevPassport,
        payee: &DevPassport,
        amount: Amount,
    ) -> EscrowId {
        let nonce = self.nonce(&payer.id);
        let height = self.height();
        let create = Action::EscrowCreate {
            payee: payee.id,
            amount,
            arbiter: Some(self.cell.arbiter(0).id),
            release_height: height + 1,
            expiry_height: height + 1_000,
        };
        self.submit(payer, create).unwrap();
        let escrow = EscrowId::derive(self.cell.genesis.cell, &payer.id, nonce);
        self.submit(payer, Action::EscrowDispute { escrow })
            .unwrap();
        escrow
    }

    /// Commits empty blocks, each with its proposer's reveal.
    pub fn advance(&mut self, blocks: u64) {
        for _ in 0..blocks {
            let reveal = self.next_reveal();
            self.ledger.apply_revealed_block(&reveal, &[]).unwrap();
        }
    }

    pub fn height(&self) -> u64 {
        self.ledger.height().unwrap()
    }

    pub fn passport(&self, id: &PassportId) -> Passport {
        self.ledger.get(&StateKey::Passport(*id)).unwrap().unwrap()
    }

    pub fn bond(&self, id: &PassportId) -> Bond {
        self.ledger
            .get(&StateKey::Bond(*id))
            .unwrap()
            .unwrap_or_default()
    }

    pub fn escrow(&self, id: &EscrowId) -> Escrow {
        self.ledger.get(&StateKey::Escrow(*id)).unwrap().unwrap()
    }

    pub fn treasury(&self) -> Amount {
        self.ledger
            .get::<Treasury>(&StateKey::Treasury)
            .unwrap()
            .unwrap()
            .balance
    }

    pub fn mode(&self) -> CellModeState {
        self.ledger.get(&StateKey::CellMode).unwrap().unwrap()
    }

    /// Approvals of the next mode change by the given validators' consensus keys.
    pub fn approve_mode(
        &self,
        mode: CellMode,
        expires_at: Option<u64>,
        validators: &[usize],
    ) -> Vec<ValidatorApproval> {
        self.cell
            .approve_mode(self.mode().sequence, mode, expires_at, validators)
    }

    pub fn set_mode(&mut self, mode: CellMode, expires_at: Option<u64>) {
        let approvals = self.approve_mode(mode, expires_at, &[0, 1, 2]);
        let sender = self.cell.validator(0).clone();
        self.submit(
            &sender,
            Action::SetCellMode {
                mode,
                expires_at,
                approvals,
            },
        )
        .unwrap();
    }

    /// A vote for `value` at (height, round) signed by validator `index`'s consensus key.
    pub fn vote(
        &self,
        index: usize,
        height: u64,
        round: u32,
        value: Option<[u8; 32]>,
    ) -> SignedVote {
        let key = self.cell.validator(index).consensus_key.as_ref().unwrap();
        let vote = Vote {
            federation: self.cell.genesis.federation,
            cell: self.cell.genesis.cell,
            height,
            round,
            vote_type: VoteType::Precommit,
            value,
        };
        SignedVote {
            signature: key.sign(&vote.signing_bytes()),
            validator_key: key.public_key(),
            vote,
        }
    }
}

pub fn keypair(seed: u8) -> Ed25519Keypair {
    Ed25519Keypair::from_seed([seed; 32])
}
