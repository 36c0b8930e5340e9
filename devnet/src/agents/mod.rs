//! Simulated agents: a deterministic stream of signed transactions from a dev cell's members —
//! payments, escrows released, disputed and settled by arbiters or refunded on expiry, stake
//! moving, new passports sponsored, forked and funded — and, in turn, about one transaction in
//! sixteen, the cell's lifecycle and governance: stake withdrawn, key rotations, exits, a
//! validator registering, arbiter-panel sanctions and slashes (every other slash sent to a
//! jury), an emergency mode declared by the validators, bridge rulings; and in every block a
//! step of a governance process (proposed, sponsored, delegated, vetoed) and ballots on it
//! (`governance`), and jury duty: the pool kept stocked, disputes and slash cases sent to
//! juries, rulings (`juries`). Every kind of transaction runs in a load long enough. It
//! follows what the ledger committed (never assumes), so it stays valid after rejections, and a
//! seed replays it exactly. [`ApiChain`], [`submit`] and [`follow`] act through a validator's
//! HTTP API.

mod governance;
mod juries;
pub mod live;

use crate::fixtures::{derive_seed, DevCell, DevPassport};
use charter_client::ApiClient;
use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::evidence::Ruling;
use charter_ledger::governance::{JuryCase, Process};
use charter_ledger::state::{
    ActiveValidators, Bond, CellMode, CellModeState, Passport, SanctionKind, Validator,
};
use charter_ledger::transaction::{ActionKind, Consent, SlashEvidence};
use charter_ledger::{
    Action, CaseId, CellId, CheckpointId, EscrowId, Height, PassportId, SignedTransaction,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use std::collections::BTreeMap;

/// Blocks an escrow stays open before its payer may take a refund.
const ESCROW_LIFETIME: Height = 40;
/// The same for the escrows a payer means to let lapse and take back.
const LAPSING_ESCROW_LIFETIME: Height = 10;
/// Ordinary transactions per lifecycle or governance step in a block.
const TRANSACTIONS_PER_STEP: usize = 16;
/// Blocks the emergency mode the validators declare lasts before it lapses.
const EMERGENCY_BLOCKS: Height = 5;
/// How many of the latest jury cases agents look at to rule.
pub const RECENT_JURY_CASES: u64 = 32;
/// The largest amount an arbiter ruling slashes from an agent's bond.
const MAX_RULING_SLASH: u64 = 20;

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
    /// Left alone until it expires, then refunded to the payer.
    refund_at: Option<Height>,
    busy: bool,
}

/// The lifecycle and governance steps, taken in this order, one and then one more per
/// [`TRANSACTIONS_PER_STEP`] transactions of a block (a step that cannot be taken yet gives its
/// turn to the next).
#[derive(Clone, Copy)]
enum Step {
    Withdraw,
    ForkPassport,
    RotateKeys,
    Sanction,
    SlashByRuling,
    DeclareEmergency,
    BridgeRuling,
    Exit,
    RegisterValidator,
}

const STEPS: [Step; 9] = [
    Step::Withdraw,
    Step::ForkPassport,
    Step::RotateKeys,
    Step::Sanction,
    Step::SlashByRuling,
    Step::DeclareEmergency,
    Step::BridgeRuling,
    Step::Exit,
    Step::RegisterValidator,
];

/// Blocks after which a withdrawal not seen committed is sent again.
const WITHDRAW_RETRY_BLOCKS: Height = 5;

/// The committed state agents look at before acting, as a client reads it from a node.
pub trait ChainView {
    fn passport(&self, id: &PassportId) -> Option<Passport>;
    /// The passport's stake (none bonded when it has no bond); `Err` when the chain could not
    /// be read.
    fn bond(&self, id: &PassportId) -> Result<Bond, ChainUnread>;
    fn mode(&self) -> Option<CellModeState>;
    fn is_validator(&self, id: &PassportId) -> bool;
    /// The passports of the cell's current validator set (`ActiveValidators`): those whose
    /// approvals count.
    fn voting_validators(&self) -> Vec<PassportId>;
    /// The governance process proposed last: `Ok(None)` when none ever was, `Err` when the
    /// chain could not be read, which agents must not take for "none" and propose again.
    fn latest_process(&self) -> Result<Option<Process>, ChainUnread>;
    /// The passports in the jury pool.
    fn jury_pool(&self) -> Vec<PassportId>;
    /// The last [`RECENT_JURY_CASES`] jury cases filed, newest first: every case a juror may
    /// still rule on, while the agents file no more than that within a ruling period.
    fn recent_jury_cases(&self) -> Vec<JuryCase>;
}

/// A read of the chain that got no answer (the validator asked is down or restarting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the chain could not be read")]
pub struct ChainUnread;

/// What a transaction was meant to do, so its receipt can update the workload's view.
enum Intent {
    Plain,
    CreateEscrow(TrackedEscrow),
    Dispute(EscrowId),
    Settle(EscrowId),
    /// Stake the agent unbonded, to withdraw once it matures.
    Unbond(usize),
    /// The agent withdraws its matured unbonding.
    Withdraw(usize),
    /// The agent's key rotation: it waits for the outcome before acting again.
    Rotate(usize),
    /// A passport the sender sponsored or forked, which the sender funds once it exists.
    NewPassport {
        funder: usize,
        passport: Box<DevPassport>,
    },
}

pub struct Agents {
    cell: DevCell,
    rng: ChaCha20Rng,
    seed: u64,
    agents: Vec<DevPassport>,
    /// Agents the genesis holds (the first ones); the rest were created by the workload, and only
    /// those rotate their keys or exit, so the genesis key files stay good for people.
    genesis_agents: usize,
    /// Indices of the agents still acting (not exited).
    active: Vec<usize>,
    nonces: BTreeMap<PassportId, u64>,
    escrows: Vec<TrackedEscrow>,
    pending: Vec<Intent>,
    /// Keys derived so far, for new passports and rotations.
    derived_keys: u64,
    /// Rotations sent and not yet seen on the chain: the agent's next key.
    rotating: BTreeMap<PassportId, Ed25519Keypair>,
    /// New passports waiting for their funder's first transfer: (funder's agent index, passport).
    unfunded: Vec<(usize, PassportId)>,
    /// The next lifecycle or governance step, as an index into [`STEPS`].
    step: usize,
    /// Agents whose unbonding committed and whose withdrawal was not seen committed, with the
    /// height each last sent one at: a withdrawal lost to a fault is sent again after
    /// [`WITHDRAW_RETRY_BLOCKS`].
    unbonded: BTreeMap<usize, Option<Height>>,
    /// Whether the first agent is known to be a registered validator.
    registered: bool,
    civics: governance::Civics,
    duty: juries::JuryDuty,
}

impl Agents {
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
            genesis_agents: agents.len(),
            active: (0..agents.len()).collect(),
            agents,
            nonces,
            escrows: Vec::new(),
            pending: Vec::new(),
            derived_keys: 0,
            rotating: BTreeMap::new(),
            unfunded: Vec::new(),
            step: 0,
            unbonded: BTreeMap::new(),
            registered: false,
            civics: governance::Civics::default(),
            duty: juries::JuryDuty::default(),
        }
    }

    fn sign(&mut self, sender: &DevPassport, action: Action) -> SignedTransaction {
        let nonce = self.nonces.entry(sender.id).or_default();
        let tx = self.cell.transaction(sender, *nonce, action);
        *nonce += 1;
        tx
    }

    fn any_agent(&mut self) -> usize {
        self.active[self.rng.gen_range(0..self.active.len())]
    }

    fn other_agent(&mut self, not: usize) -> usize {
        loop {
            let pick = self.any_agent();
            if pick != not {
                return pick;
            }
        }
    }

    /// An agent the workload created, if any acts yet.
    fn created_agent(&mut self) -> Option<usize> {
        let created: Vec<usize> = self
            .active
            .iter()
            .copied()
            .filter(|index| *index >= self.genesis_agents)
            .collect();
        (!created.is_empty()).then(|| created[self.rng.gen_range(0..created.len())])
    }

    fn fresh_key(&mut self, purpose: &str) -> Ed25519Keypair {
        self.derived_keys += 1;
        Ed25519Keypair::from_seed(derive_seed(self.seed, purpose, self.derived_keys))
    }

    /// The passport `creator`'s next transaction creates, held by a fresh key.
    fn created_passport(&mut self, creator: &DevPassport, purpose: &str) -> DevPassport {
        let nonce = self.nonces.get(&creator.id).copied().unwrap_or(0);
        DevPassport {
            id: PassportId::derive(self.cell.genesis.cell, &creator.id, nonce),
            key: self.fresh_key(purpose),
            consensus_key: None,
            bls_key: None,
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
        for (funder, passport) in std::mem::take(&mut self.unfunded) {
            let funder = self.agents[funder].clone();
            let tx = self.sign(
                &funder,
                Action::Transfer {
                    to: passport,
                    amount: 5_000,
                },
            );
            block.push(tx);
            self.pending.push(Intent::Plain);
        }
        for _ in 0..1 + size / TRANSACTIONS_PER_STEP {
            if block.len() >= size {
                break;
            }
            if let Some((tx, intent)) = self.next_step(height, chain) {
                block.push(tx);
                self.pending.push(intent);
            }
        }
        let civic = self.govern(height, chain).into_iter();
        for (tx, intent) in civic.chain(self.serve_on_juries(chain)) {
            block.push(tx);
            self.pending.push(intent);
        }
        while block.len() < size {
            let (tx, intent) = self.next_transaction(height, chain);
            block.push(tx);
            self.pending.push(intent);
        }
        block
    }

    /// This block's lifecycle or governance transaction: the next step in turn that can be taken.
    fn next_step(
        &mut self,
        height: Height,
        chain: &dyn ChainView,
    ) -> Option<(SignedTransaction, Intent)> {
        (0..STEPS.len()).find_map(|_| {
            let step = STEPS[self.step % STEPS.len()];
            self.step += 1;
            self.take_step(step, height, chain)
        })
    }

    fn take_step(
        &mut self,
        step: Step,
        height: Height,
        chain: &dyn ChainView,
    ) -> Option<(SignedTransaction, Intent)> {
        let action = match step {
            Step::Withdraw => return self.withdraw(height, chain),
            Step::ForkPassport => return self.fork_passport(chain),
            Step::RotateKeys => return self.rotate_keys(),
            Step::Exit => return self.exit(chain),
            Step::RegisterValidator => return self.register_validator(chain),
            // Governance actions carry their authority in their approvals; any agent sends them.
            Step::Sanction => self.sanction(),
            Step::SlashByRuling if self.sends_slash_to_jury() => {
                return self.slash_before_jury(chain)
            }
            Step::SlashByRuling => self.slash_by_ruling(chain)?,
            Step::DeclareEmergency => self.declare_emergency(height, chain)?,
            Step::BridgeRuling => self.bridge_ruling(chain),
        };
        let courier = self.any_agent();
        let courier = self.agents[courier].clone();
        Some((self.sign(&courier, action), Intent::Plain))
    }

    /// A withdrawal by the first agent (by index) whose unbonding has matured and that is not
    /// waiting on one it sent. One the chain shows with nothing left unbonding is done.
    fn withdraw(
        &mut self,
        height: Height,
        chain: &dyn ChainView,
    ) -> Option<(SignedTransaction, Intent)> {
        // An agent out of `active` for now (rotating its key) waits its turn.
        let due: Vec<usize> = (self.unbonded.iter())
            .filter(|(index, _)| self.active.contains(index))
            .filter(|(_, sent)| sent.is_none_or(|sent| height >= sent + WITHDRAW_RETRY_BLOCKS))
            .map(|(index, _)| *index)
            .collect();
        for index in due {
            let agent = self.agents[index].clone();
            let Ok(bond) = chain.bond(&agent.id) else {
                continue;
            };
            if bond.unbonding.is_empty() {
                self.unbonded.remove(&index);
                continue;
            }
            if bond
                .unbonding
                .iter()
                .any(|entry| entry.release_height <= height)
            {
                self.unbonded.insert(index, Some(height));
                return Some((self.sign(&agent, Action::Withdraw), Intent::Withdraw(index)));
            }
        }
        None
    }

    fn fork_passport(&mut self, chain: &dyn ChainView) -> Option<(SignedTransaction, Intent)> {
        // Emergency modes refuse forks, and agents know to wait.
        chain.mode().filter(|mode| mode.mode == CellMode::Normal)?;
        let parent_index = self.any_agent();
        let parent = self.agents[parent_index].clone();
        let child = self.created_passport(&parent, "forked");
        let action = Action::ForkPassport {
            controller_keys: vec![child.key.public_key()],
        };
        let intent = Intent::NewPassport {
            funder: parent_index,
            passport: Box::new(child),
        };
        Some((self.sign(&parent, action), intent))
    }

    fn rotate_keys(&mut self) -> Option<(SignedTransaction, Intent)> {
        let index = self.created_agent()?;
        let agent = self.agents[index].clone();
        if self.rotating.contains_key(&agent.id) {
            return None;
        }
        let key = self.fresh_key("rotated");
        let action = Action::RotateKeys {
            subject: agent.id,
            new_keys: vec![key.public_key()],
            consent: Consent::Subject,
        };
        self.rotating.insert(agent.id, key);
        self.active.retain(|active| *active != index);
        Some((self.sign(&agent, action), Intent::Rotate(index)))
    }

    fn exit(&mut self, chain: &dyn ChainView) -> Option<(SignedTransaction, Intent)> {
        let index = self.created_agent()?;
        let agent = self.agents[index].clone();
        let bond = chain.bond(&agent.id).ok()?;
        let waiting = self.unfunded.iter().any(|(_, id)| *id == agent.id);
        if bond.bonded > 0 || !bond.unbonding.is_empty() || waiting {
            return None;
        }
        self.active.retain(|active| *active != index);
        Some((self.sign(&agent, Action::Exit), Intent::Plain))
    }

    fn sanction(&mut self) -> Action {
        let index = self.any_agent();
        let subject = self.agents[index].id;
        let liability = self.rng.gen_range(1..=100);
        let kind = SanctionKind::Warning;
        let (case, approvals) = self.panel_ruling(Ruling::Sanction {
            subject,
            kind,
            liability,
        });
        Action::Sanction {
            subject,
            kind,
            liability,
            case,
            approvals,
        }
    }

    /// A bonded agent to slash, and an amount up to [`MAX_RULING_SLASH`] of its bond.
    fn slash_target(&mut self, chain: &dyn ChainView) -> Option<(PassportId, u64)> {
        let index = self.any_agent();
        let offender = self.agents[index].id;
        let bonded = chain.bond(&offender).unwrap_or_default().bonded;
        if bonded == 0 {
            return None;
        }
        Some((
            offender,
            self.rng.gen_range(1..=bonded.min(MAX_RULING_SLASH)),
        ))
    }

    fn slash_by_ruling(&mut self, chain: &dyn ChainView) -> Option<Action> {
        let (offender, amount) = self.slash_target(chain)?;
        let (case, approvals) = self.panel_ruling(Ruling::Slash { offender, amount });
        Some(Action::Slash {
            evidence: SlashEvidence::ArbiterRuling {
                offender,
                amount,
                case,
                approvals,
            },
        })
    }

    fn declare_emergency(&mut self, height: Height, chain: &dyn ChainView) -> Option<Action> {
        // One round of steps in three, so that the cell is mostly in its normal mode.
        let round = (self.step - 1) / STEPS.len();
        if !round.is_multiple_of(3) {
            return None;
        }
        let mode = chain.mode().filter(|mode| mode.mode == CellMode::Normal)?;
        let expires_at = Some(height + EMERGENCY_BLOCKS);
        let approvals = self.cell.approve_mode(
            mode.sequence,
            CellMode::Elevated,
            expires_at,
            &self.approvers(chain),
        );
        Some(Action::SetCellMode {
            mode: CellMode::Elevated,
            expires_at,
            approvals,
        })
    }

    fn bridge_ruling(&mut self, chain: &dyn ChainView) -> Action {
        // A ruling on a cell outside the federation: recorded, lifting nothing.
        let remote = CellId(self.rng.gen_range(1_000..u32::MAX));
        let epoch = self.rng.gen();
        let keep = CheckpointId(self.rng.gen());
        let approvers = self.approvers(chain);
        let approvals = (self.cell).approve_bridge_ruling(remote, epoch, keep, &approvers);
        Action::LiftBridgeLockdown {
            remote,
            epoch,
            keep,
            approvals,
        }
    }

    /// The first agent bonds what a validator needs, then registers validator keys of its own
    /// (which no process runs: the cell keeps its quorum as long as that power stays small).
    fn register_validator(&mut self, chain: &dyn ChainView) -> Option<(SignedTransaction, Intent)> {
        let candidate = self.agents[0].clone();
        self.registered = self.registered || chain.is_validator(&candidate.id);
        if self.registered {
            return None;
        }
        let bonded = chain.bond(&candidate.id).unwrap_or_default().bonded;
        let minimum = self.cell.config.params.min_validator_bond;
        let action = if bonded < minimum {
            Action::Bond {
                amount: minimum - bonded,
            }
        } else {
            let index = u64::from(self.cell.genesis.cell.0);
            let consensus =
                Ed25519Keypair::from_seed(derive_seed(self.seed, "agent-validator", index));
            let bls =
                BlsSecretKey::key_gen(&derive_seed(self.seed, "agent-validator-bls", index), b"")
                    .expect("32 bytes of key material is enough");
            self.cell.registration(candidate.id, &consensus, &bls)
        };
        Some((self.sign(&candidate, action), Intent::Plain))
    }

    /// The genesis validators still in the cell's validator set: those whose approvals count
    /// (one slashed below the minimum bond has left it, and its approval would refuse the
    /// whole transaction).
    fn approvers(&self, chain: &dyn ChainView) -> Vec<usize> {
        let voting = chain.voting_validators();
        (0..self.cell.config.validators)
            .filter(|index| voting.contains(&self.cell.validator(*index).id))
            .collect()
    }

    /// A fresh case and the approvals of the panel's quorum for `ruling`.
    fn panel_ruling(
        &mut self,
        ruling: Ruling,
    ) -> (CaseId, Vec<charter_ledger::evidence::ArbiterApproval>) {
        let case = CaseId(self.rng.gen());
        let quorum: Vec<usize> = (0..self.cell.config.arbiter_threshold as usize).collect();
        (case, self.cell.approve_ruling(case, ruling, &quorum))
    }

    /// Settles an idle escrow: refunds a lapsed one, resolves a disputed one as its arbiter or
    /// sends it to a jury, and releases or disputes an open one.
    fn settle_escrow(&mut self, index: usize) -> (SignedTransaction, Intent) {
        self.escrows[index].busy = true;
        let escrow = self.escrows[index].clone();
        match escrow.phase {
            _ if escrow.refund_at.is_some() => {
                let payer = self.agents[escrow.payer].clone();
                (
                    self.sign(&payer, Action::EscrowRefund { escrow: escrow.id }),
                    Intent::Settle(escrow.id),
                )
            }
            EscrowPhase::Disputed if self.sends_to_jury() => {
                let payee = self.agents[escrow.payee].clone();
                (
                    self.sign(&payee, Action::RequestJury { escrow: escrow.id }),
                    Intent::Settle(escrow.id),
                )
            }
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

    /// Opens an escrow from `sender` to another agent, one in five lapsing soon.
    fn create_escrow(
        &mut self,
        sender_index: usize,
        sender: &DevPassport,
        height: Height,
    ) -> (SignedTransaction, Intent) {
        let payee = self.other_agent(sender_index);
        let arbiter = self.rng.gen_range(0..self.cell.config.arbiters);
        let amount = self.rng.gen_range(10..=1_000);
        let nonce = self.nonces.get(&sender.id).copied().unwrap_or(0);
        let lapsing = self.rng.gen_bool(0.2);
        let expiry_height = height
            + if lapsing {
                LAPSING_ESCROW_LIFETIME
            } else {
                ESCROW_LIFETIME
            };
        let action = Action::EscrowCreate {
            payee: self.agents[payee].id,
            amount,
            arbiter: Some(self.cell.arbiter(arbiter).id),
            release_height: height,
            expiry_height,
        };
        let tracked = TrackedEscrow {
            id: EscrowId::derive(self.cell.genesis.cell, &sender.id, nonce),
            payer: sender_index,
            payee,
            arbiter,
            amount,
            phase: EscrowPhase::Open,
            refund_at: lapsing.then_some(expiry_height),
            busy: true,
        };
        (self.sign(sender, action), Intent::CreateEscrow(tracked))
    }

    /// Moves stake above the sponsor minimum: unbonds some, or bonds more.
    fn restake(
        &mut self,
        sender_index: usize,
        sender: &DevPassport,
        chain: &dyn ChainView,
    ) -> (SignedTransaction, Intent) {
        // Stake above the sponsor minimum moves; the minimum stays so agents can sponsor.
        let bond = chain.bond(&sender.id).unwrap_or_default();
        let spare = bond
            .bonded
            .saturating_sub(self.cell.config.params.min_sponsor_bond);
        if spare > 0 && self.rng.gen_bool(0.5) {
            let amount = self.rng.gen_range(1..=spare.min(50));
            (
                self.sign(sender, Action::Unbond { amount }),
                Intent::Unbond(sender_index),
            )
        } else {
            let amount = self.rng.gen_range(1..=50);
            (self.sign(sender, Action::Bond { amount }), Intent::Plain)
        }
    }

    fn next_transaction(
        &mut self,
        height: Height,
        chain: &dyn ChainView,
    ) -> (SignedTransaction, Intent) {
        let roll = self.rng.gen_range(0..100);
        let sender_index = self.any_agent();
        let sender = self.agents[sender_index].clone();
        let idle_escrow = self.escrows.iter().position(|escrow| {
            !escrow.busy && escrow.refund_at.is_none_or(|expiry| expiry <= height)
        });
        match (roll, idle_escrow) {
            (0..=19, Some(index)) => self.settle_escrow(index),
            (0..=39, _) => self.create_escrow(sender_index, &sender, height),
            (40..=47, _) => self.restake(sender_index, &sender, chain),
            (48..=50, _)
                if chain
                    .bond(&sender.id)
                    .unwrap_or_default()
                    .unbonding
                    .iter()
                    .any(|entry| entry.release_height <= height) =>
            {
                (
                    self.sign(&sender, Action::Withdraw),
                    Intent::Withdraw(sender_index),
                )
            }
            (51..=53, _)
                if chain.passport(&sender.id).is_some_and(|passport| {
                    passport.tier >= self.cell.config.params.min_sponsor_tier
                }) =>
            {
                let child = self.created_passport(&sender, "sponsored");
                let action = Action::IssuePassport {
                    controller_keys: vec![child.key.public_key()],
                    tier: 1,
                };
                (
                    self.sign(&sender, action),
                    Intent::NewPassport {
                        funder: sender_index,
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
                Intent::Unbond(agent) if committed => {
                    self.unbonded.insert(agent, None);
                }
                // It withdrew what had matured; what is still unbonding is withdrawn later.
                Intent::Withdraw(agent) if committed => {
                    if let Some(sent) = self.unbonded.get_mut(&agent) {
                        *sent = None;
                    }
                }
                Intent::Unbond(_) | Intent::Withdraw(_) => {}
                Intent::Rotate(agent) => {
                    if committed {
                        if let Some(key) = self.rotating.remove(&self.agents[agent].id) {
                            self.agents[agent].key = key;
                        }
                    }
                    self.active.push(agent);
                }
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
                // A settlement that failed is not retried: under faults it may yet commit.
                Intent::Settle(id) => self.escrows.retain(|escrow| escrow.id != id),
                Intent::NewPassport { funder, passport } if committed => {
                    // Funded first thing in the next block, so it can act from then on.
                    self.unfunded.push((funder, passport.id));
                    self.active.push(self.agents.len());
                    self.agents.push(*passport);
                }
                Intent::NewPassport { .. } => {}
            }
        }
        for tx in transactions {
            let passport = chain.passport(&tx.body.sender);
            self.nonces.insert(
                tx.body.sender,
                passport.as_ref().map_or(0, |passport| passport.nonce),
            );
            if let Some(passport) = passport {
                self.take_rotated_key(&passport);
            }
        }
    }

    /// Once the chain holds an agent's rotated key, the agent signs with it (a rotation that
    /// timed out may commit later).
    fn take_rotated_key(&mut self, passport: &Passport) {
        let Some(key) = self.rotating.get(&passport.id) else {
            return;
        };
        if !passport.controller_keys.contains(&key.public_key()) {
            return;
        }
        let key = self.rotating.remove(&passport.id).expect("just found");
        if let Some(agent) = self.agents.iter_mut().find(|agent| agent.id == passport.id) {
            agent.key = key;
        }
    }

    fn update_escrow(&mut self, id: &EscrowId, change: impl FnOnce(&mut TrackedEscrow)) {
        if let Some(escrow) = self.escrows.iter_mut().find(|escrow| escrow.id == *id) {
            change(escrow);
        }
    }
}

/// One transaction of a round played through the APIs: its kind, its id once a validator
/// admitted it, and whether it committed (or the code of why not).
pub struct Played {
    pub kind: ActionKind,
    pub id: Option<String>,
    pub outcome: Result<(), String>,
}

impl Agents {
    /// Plays one round through validators' HTTP APIs: reads the height from `reader`, submits
    /// the block's worth of transactions, each to the API its sender talks to (so a sender's
    /// transactions reach one mempool in order; gossip carries them on), follows them all at
    /// once until each is decided or `follow_seconds` pass, and takes in what the chain then
    /// says.
    pub fn play_round(
        &mut self,
        reader: &ApiClient,
        apis: &[&ApiClient],
        batch: usize,
        follow_seconds: u64,
    ) -> Result<Vec<Played>, charter_client::ClientError> {
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
        // Followed side by side: a round waits for its slowest transaction, not for their sum.
        let played: Vec<Played> = std::thread::scope(|scope| {
            let following: Vec<_> = transactions
                .iter()
                .zip(submitted)
                .map(|(transaction, submitted)| {
                    let api = api_of(transaction);
                    let followed = submitted.map(|id| {
                        scope.spawn(move || {
                            let outcome = follow(api, &id, follow_seconds);
                            (id, outcome)
                        })
                    });
                    (transaction.body.action.kind(), followed)
                })
                .collect();
            following
                .into_iter()
                .map(|(kind, followed)| match followed {
                    Ok(followed) => {
                        let (id, outcome) = followed
                            .join()
                            .expect("following a transaction does not panic");
                        Played {
                            kind,
                            id: Some(id),
                            outcome,
                        }
                    }
                    Err(code) => Played {
                        kind,
                        id: None,
                        outcome: Err(code),
                    },
                })
                .collect()
        });
        let committed: Vec<bool> = played.iter().map(|one| one.outcome.is_ok()).collect();
        self.observe(&transactions, &committed, &chain);
        Ok(played)
    }
}

/// The committed state as a validator's API serves it.
pub struct ApiChain<'a>(pub &'a ApiClient);

impl ApiChain<'_> {
    /// The state value at `path`: `Ok(None)` when there is none.
    fn read<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ChainUnread> {
        match self.0.get(path) {
            Ok(read) => serde_json::from_value(read["value"].clone()).map_err(|_| ChainUnread),
            Err(error) => {
                // A validator that goes down mid-round (or as the localnet stops) fails every
                // read left in the round, and the agents say once which validators answer: a
                // line per read would only flood the terminal.
                tracing::debug!(%error, path, "reading the chain failed");
                Err(ChainUnread)
            }
        }
    }

    fn value<T: serde::de::DeserializeOwned>(&self, path: &str) -> Option<T> {
        self.read(path).ok().flatten()
    }
}

impl ChainView for ApiChain<'_> {
    fn passport(&self, id: &PassportId) -> Option<Passport> {
        self.value(&format!("/v1/passports/{id}"))
    }

    fn bond(&self, id: &PassportId) -> Result<Bond, ChainUnread> {
        let bond = self.read(&format!("/v1/bonds/{id}"))?;
        Ok(bond.unwrap_or_default())
    }

    fn mode(&self) -> Option<CellModeState> {
        let status = self.0.get("/v1/status").ok()?;
        serde_json::from_value(status["mode"].clone()).ok()
    }

    fn is_validator(&self, id: &PassportId) -> bool {
        self.value::<Validator>(&format!("/v1/validators/{id}"))
            .is_some()
    }

    fn voting_validators(&self) -> Vec<PassportId> {
        let active = self.value::<ActiveValidators>("/v1/validators");
        active.map_or_else(Vec::new, |active| voting(&active))
    }

    fn latest_process(&self) -> Result<Option<Process>, ChainUnread> {
        let list = (self.0.get("/v1/governance/processes?limit=1")).map_err(|_| ChainUnread)?;
        match list["processes"].get(0) {
            None => Ok(None),
            Some(process) => serde_json::from_value(process.clone()).map_err(|_| ChainUnread),
        }
    }

    fn jury_pool(&self) -> Vec<PassportId> {
        self.value("/v1/governance/jury-pool").unwrap_or_default()
    }

    fn recent_jury_cases(&self) -> Vec<JuryCase> {
        let path = format!("/v1/governance/cases?limit={RECENT_JURY_CASES}");
        (self.0.get(&path).ok())
            .and_then(|list| serde_json::from_value(list["cases"].clone()).ok())
            .unwrap_or_default()
    }
}

/// The passports of a validator set's members.
pub fn voting(active: &ActiveValidators) -> Vec<PassportId> {
    active
        .members
        .iter()
        .map(|member| member.passport)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::DevCellConfig;
    use charter_ledger::governance::{Parameter, ProcessId, ProcessKind, ProcessStatus, Proposal};
    use charter_ledger::state::UnbondingEntry;

    /// A chain in its genesis state whose validator set has lost the last genesis validator
    /// (slashed below the minimum bond, say), whose latest process reads as `latest`, and where
    /// every passport has `unbonding` waiting.
    struct LostOneValidator {
        cell: DevCell,
        latest: Result<Option<Process>, ChainUnread>,
        unbonding: Vec<UnbondingEntry>,
    }

    impl ChainView for LostOneValidator {
        fn passport(&self, _: &PassportId) -> Option<Passport> {
            None
        }

        fn bond(&self, _: &PassportId) -> Result<Bond, ChainUnread> {
            Ok(Bond {
                bonded: 0,
                unbonding: self.unbonding.clone(),
            })
        }

        fn mode(&self) -> Option<CellModeState> {
            Some(CellModeState {
                mode: CellMode::Normal,
                expires_at: None,
                sequence: 0,
            })
        }

        fn is_validator(&self, _: &PassportId) -> bool {
            false
        }

        fn voting_validators(&self) -> Vec<PassportId> {
            let kept = self.cell.config.validators - 1;
            (0..kept)
                .map(|index| self.cell.validator(index).id)
                .collect()
        }

        fn latest_process(&self) -> Result<Option<Process>, ChainUnread> {
            self.latest.clone()
        }

        fn jury_pool(&self) -> Vec<PassportId> {
            Vec::new()
        }

        fn recent_jury_cases(&self) -> Vec<JuryCase> {
            Vec::new()
        }
    }

    /// Governance approvals come only from validators still in the set: an approval from one
    /// that left it would have the ledger refuse the whole transaction.
    #[test]
    fn governance_is_approved_by_the_current_validators_alone() {
        let config = DevCellConfig {
            validators: 5,
            minor_validators: 1,
            ..DevCellConfig::default()
        };
        let chain = LostOneValidator {
            cell: DevCell::new(7, config.clone()),
            latest: Ok(None),
            unbonding: Vec::new(),
        };
        let mut agents = Agents::new(DevCell::new(7, config), 7, &chain);
        let voting = chain.voting_validators();
        let mut approved = BTreeMap::new();
        for height in 1..=30 {
            for tx in agents.next_block(height, 32, &chain) {
                let approvals = match &tx.body.action {
                    Action::LiftBridgeLockdown { approvals, .. } => approvals,
                    Action::SetCellMode { approvals, .. } => approvals,
                    _ => continue,
                };
                let approvers: Vec<PassportId> = approvals
                    .iter()
                    .map(|approval| approval.validator)
                    .collect();
                assert_eq!(approvers, voting, "{:?}", tx.body.action.kind());
                *approved.entry(tx.body.action.kind()).or_insert(0) += 1;
            }
        }
        assert!(
            approved.contains_key(&ActionKind::LiftBridgeLockdown),
            "{approved:?}"
        );
        assert!(
            approved.contains_key(&ActionKind::SetCellMode),
            "{approved:?}"
        );
    }

    /// A process that ended, vetoed, under the id `id`.
    fn vetoed_process(cell: &DevCell, id: u64) -> Process {
        let proposal = Proposal::ParameterChange {
            parameter: Parameter::MaxEmergencyBlocks,
            value: 1_000,
        };
        let rules = cell.genesis.governance.kinds[proposal.kind() as usize].clone();
        Process {
            id: ProcessId(id),
            proposal,
            proposer: cell.validator(0).id,
            sponsors: vec![cell.validator(0).id],
            rules_version: 0,
            rules,
            chambers: Vec::new(),
            max_delegation_depth: 0,
            proposed_at: 1,
            schedule: None,
            status: ProcessStatus::Vetoed,
            tallies: Vec::new(),
            history: Vec::new(),
        }
    }

    /// The proposal in the governance transactions agents send at `height`, if any.
    fn proposed(agents: &mut Agents, chain: &LostOneValidator, height: Height) -> Vec<ProcessKind> {
        (agents.govern(height, chain).into_iter())
            .filter_map(|(tx, _)| match tx.body.action {
                Action::Propose { proposal } => Some(proposal.kind()),
                _ => None,
            })
            .collect()
    }

    /// A chain that cannot be read is not a chain without processes: agents propose nothing
    /// then. And the kind of each proposal follows from the id it will get, so that however
    /// many proposals a fault lost, the one after the vetoed first process is a resolution
    /// (the kind that needs members' sponsors).
    #[test]
    fn agents_propose_by_the_next_process_id_and_nothing_while_the_chain_is_unread() {
        let config = DevCellConfig::default();
        let cell = DevCell::new(7, config.clone());
        let mut chain = LostOneValidator {
            cell: cell.clone(),
            latest: Err(ChainUnread),
            unbonding: Vec::new(),
        };
        let mut agents = Agents::new(DevCell::new(7, config), 7, &chain);
        for height in 1..=3 {
            assert_eq!(agents.govern(height, &chain).len(), 0, "height {height}");
        }
        chain.latest = Ok(None);
        let first = proposed(&mut agents, &chain, 4);
        assert_eq!(first, vec![ProcessKind::ParameterChange]);
        for (ended, next) in [
            (0, ProcessKind::Resolution),
            (1, ProcessKind::ParameterChange),
            (4, ProcessKind::Resolution),
        ] {
            chain.latest = Ok(Some(vetoed_process(&cell, ended)));
            let proposals = proposed(&mut agents, &chain, 5 + ended);
            assert_eq!(proposals, vec![next], "after process {ended}");
        }
    }

    /// A withdrawal lost to a fault is sent again after [`WITHDRAW_RETRY_BLOCKS`], not before,
    /// and none once one is seen committed and the chain shows nothing left unbonding.
    #[test]
    fn a_withdrawal_not_seen_committed_is_sent_again_and_a_committed_one_is_not() {
        let config = DevCellConfig::default();
        let mut chain = LostOneValidator {
            cell: DevCell::new(7, config.clone()),
            latest: Ok(None),
            unbonding: Vec::new(),
        };
        let mut agents = Agents::new(DevCell::new(7, config), 7, &chain);
        let agent = agents.active[0];
        agents.pending = vec![Intent::Unbond(agent)];
        agents.observe(&[], &[true], &chain);
        chain.unbonding = vec![UnbondingEntry {
            amount: 5,
            release_height: 20,
        }];
        let sent = |agents: &mut Agents, height| agents.withdraw(height, &chain).is_some();
        assert!(!sent(&mut agents, 19), "nothing has matured");
        assert!(sent(&mut agents, 20));
        for height in 21..20 + WITHDRAW_RETRY_BLOCKS {
            assert!(!sent(&mut agents, height), "sent again at {height}");
        }
        assert!(
            sent(&mut agents, 20 + WITHDRAW_RETRY_BLOCKS),
            "the lost one again"
        );
        agents.pending = vec![Intent::Withdraw(agent)];
        agents.observe(&[], &[true], &chain);
        chain.unbonding.clear();
        let sent = |agents: &mut Agents, height| agents.withdraw(height, &chain).is_some();
        assert!(!sent(&mut agents, 40), "withdrawn already");
        assert!(
            agents.unbonded.is_empty(),
            "done with once the chain shows it"
        );
    }
}
