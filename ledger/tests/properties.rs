//! Properties over random transaction sequences: conservation, sequential nonces, determinism
//! across storage back ends, and state proofs. Each case runs the same blocks on a RocksDB
//! ledger and an in-memory ledger side by side. proptest prints the failing case's seed and
//! shrinks it; `PROPTEST_CASES` raises the case count.

use charter_devnet::fixtures::{DevCell, DevCellConfig};
use charter_ledger::evidence::*;
use charter_ledger::governance::{Choice, Parameter, ProcessId, Proposal};
use charter_ledger::state::*;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::transaction::DecodeError;
use charter_ledger::transaction::SlashEvidence;
use charter_ledger::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const MEMBERS: usize = 6;
const VALIDATORS: usize = 4;
const PASSPORTS: usize = VALIDATORS + 3 + MEMBERS;

/// One step a client may try; amounts and targets are random, so many are rejected.
#[derive(Clone, Debug)]
enum Step {
    Transfer {
        to: usize,
        amount: u64,
    },
    Bond(u64),
    Unbond(u64),
    Withdraw,
    EscrowCreate {
        payee: usize,
        amount: u64,
        arbiter: Option<usize>,
        release_in: u64,
        expire_in: u64,
    },
    EscrowRelease(usize),
    EscrowDispute(usize),
    EscrowResolve {
        escrow: usize,
        to_payee: u64,
    },
    EscrowRefund(usize),
    Issue {
        tier: u8,
    },
    Fork,
    Exit,
    /// Evidence that validator `validator` signed two precommits at `height`.
    DoubleVote {
        validator: usize,
        height: u64,
    },
    /// A panel ruling under case number `case` (small, so cases repeat and are refused).
    Sanction {
        subject: usize,
        kind: u8,
        liability: u64,
        case: u8,
    },
    /// A governance proposal of kind `which` (a parameter change with `value`, a resolution,
    /// a slash ruling of passport `value`, a mode change).
    Propose {
        which: u8,
        value: u64,
    },
    Vote {
        process: u64,
        choice: u8,
    },
    Delegate {
        to: usize,
    },
    Undelegate,
    Veto {
        process: u64,
    },
}

#[derive(Clone, Debug)]
struct Attempt {
    sender: usize,
    /// Added to the expected nonce: mostly 0, sometimes a stale or future nonce.
    nonce_skew: i8,
    fee: u64,
    step: Step,
}

fn step() -> impl Strategy<Value = Step> {
    let passport = 0..PASSPORTS;
    let amount = prop_oneof![1u64..2_000, 0u64..3, 900_000u64..1_200_000];
    prop_oneof![
        4 => (passport.clone(), amount.clone()).prop_map(|(to, amount)| Step::Transfer { to, amount }),
        2 => amount.clone().prop_map(Step::Bond),
        2 => amount.clone().prop_map(Step::Unbond),
        1 => Just(Step::Withdraw),
        2 => (passport.clone(), amount.clone(), proptest::option::of(passport.clone()), 0u64..4, 1u64..6)
            .prop_map(|(payee, amount, arbiter, release_in, expire_in)| Step::EscrowCreate { payee, amount, arbiter, release_in, expire_in }),
        1 => (0usize..8).prop_map(Step::EscrowRelease),
        1 => (0usize..8).prop_map(Step::EscrowDispute),
        1 => (0usize..8, 0u64..2_000).prop_map(|(escrow, to_payee)| Step::EscrowResolve { escrow, to_payee }),
        1 => (0usize..8).prop_map(Step::EscrowRefund),
        1 => (0u8..5).prop_map(|tier| Step::Issue { tier }),
        1 => Just(Step::Fork),
        1 => Just(Step::Exit),
        1 => (0..VALIDATORS, 0u64..3).prop_map(|(validator, height)| Step::DoubleVote { validator, height }),
        1 => (0..PASSPORTS, 0u8..3, 0u64..5_000, 0u8..6)
            .prop_map(|(subject, kind, liability, case)| Step::Sanction { subject, kind, liability, case }),
        1 => (0u8..4, 0u64..20).prop_map(|(which, value)| Step::Propose { which, value }),
        3 => (0u64..4, 0u8..3).prop_map(|(process, choice)| Step::Vote { process, choice }),
        1 => (0..PASSPORTS).prop_map(|to| Step::Delegate { to }),
        1 => Just(Step::Undelegate),
        1 => (0u64..4).prop_map(|process| Step::Veto { process }),
    ]
}

fn attempt() -> impl Strategy<Value = Attempt> {
    let skew = prop_oneof![8 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)];
    (
        0..PASSPORTS,
        skew,
        prop_oneof![Just(0u64), 0u64..20],
        step(),
    )
        .prop_map(|(sender, nonce_skew, fee, step)| Attempt {
            sender,
            nonce_skew,
            fee,
            step,
        })
}

/// Turns attempts into signed transactions, tracking nonces, escrows and passports created.
struct Client {
    cell: DevCell,
    nonces: BTreeMap<PassportId, u64>,
    escrows: Vec<EscrowId>,
    /// Committed transactions' nonces per sender, in commit order.
    committed: BTreeMap<PassportId, Vec<u64>>,
}

impl Client {
    fn build(&mut self, attempt: &Attempt) -> SignedTransaction {
        let sender = &self.cell.passports[attempt.sender];
        let expected = self.nonces.get(&sender.id).copied().unwrap_or(0);
        let nonce = expected.saturating_add_signed(attempt.nonce_skew.into());
        if attempt.nonce_skew == 0 {
            self.nonces.insert(sender.id, expected + 1);
        }
        let id = |index: usize| self.cell.passports[index].id;
        let escrow = |index: usize| {
            self.escrows
                .get(index)
                .copied()
                .unwrap_or(EscrowId([index as u8; 32]))
        };
        let action = match &attempt.step {
            Step::Transfer { to, amount } => Action::Transfer {
                to: id(*to),
                amount: *amount,
            },
            Step::Bond(amount) => Action::Bond { amount: *amount },
            Step::Unbond(amount) => Action::Unbond { amount: *amount },
            Step::Withdraw => Action::Withdraw,
            Step::EscrowCreate {
                payee,
                amount,
                arbiter,
                release_in,
                expire_in,
            } => {
                // Heights are relative to "now", which the client approximates by its
                // commit count; exact values do not matter, only that some are valid.
                let now = self.committed.values().map(Vec::len).sum::<usize>() as u64;
                self.escrows
                    .push(EscrowId::derive(self.cell.genesis.cell, &sender.id, nonce));
                Action::EscrowCreate {
                    payee: id(*payee),
                    amount: *amount,
                    arbiter: arbiter.map(id),
                    release_height: now + release_in,
                    expiry_height: now + release_in + expire_in,
                }
            }
            Step::EscrowRelease(index) => Action::EscrowRelease {
                escrow: escrow(*index),
            },
            Step::EscrowDispute(index) => Action::EscrowDispute {
                escrow: escrow(*index),
            },
            Step::EscrowResolve {
                escrow: index,
                to_payee,
            } => Action::EscrowResolve {
                escrow: escrow(*index),
                to_payee: *to_payee,
                to_payer: 1_000u64.saturating_sub(*to_payee),
            },
            Step::EscrowRefund(index) => Action::EscrowRefund {
                escrow: escrow(*index),
            },
            Step::Issue { tier } => Action::IssuePassport {
                controller_keys: vec![charter_ledger::crypto::ed25519::Ed25519Keypair::from_seed(
                    [nonce as u8 ^ 0x5a; 32],
                )
                .public_key()],
                tier: *tier,
            },
            Step::Fork => Action::ForkPassport {
                controller_keys: vec![charter_ledger::crypto::ed25519::Ed25519Keypair::from_seed(
                    [nonce as u8 ^ 0xa5; 32],
                )
                .public_key()],
            },
            Step::Exit => Action::Exit,
            Step::DoubleVote { validator, height } => {
                let key = self
                    .cell
                    .validator(*validator)
                    .consensus_key
                    .clone()
                    .unwrap();
                let vote = |value: u8| {
                    let vote = Vote {
                        federation: self.cell.genesis.federation,
                        cell: self.cell.genesis.cell,
                        height: *height,
                        round: 0,
                        vote_type: VoteType::Precommit,
                        value: Some([value; 32]),
                    };
                    SignedVote {
                        signature: key.sign(&vote.signing_bytes()),
                        validator_key: key.public_key(),
                        vote,
                    }
                };
                let evidence = DoubleVote {
                    first: vote(1),
                    second: vote(2),
                };
                Action::Slash {
                    evidence: SlashEvidence::DoubleVote(Box::new(evidence)),
                }
            }
            Step::Sanction {
                subject,
                kind,
                liability,
                case,
            } => {
                let kind = [
                    SanctionKind::Warning,
                    SanctionKind::Suspension,
                    SanctionKind::Revocation,
                ][usize::from(*kind)];
                let (subject, case) = (id(*subject), CaseId([*case; 32]));
                let approvals = self.cell.approve_ruling(
                    case,
                    Ruling::Sanction {
                        subject,
                        kind,
                        liability: *liability,
                    },
                    &[0, 1],
                );
                Action::Sanction {
                    subject,
                    kind,
                    liability: *liability,
                    case,
                    approvals,
                }
            }
            Step::Propose { which, value } => Action::Propose {
                proposal: match which {
                    0 => Proposal::ParameterChange {
                        parameter: Parameter::MinFee,
                        value: *value,
                    },
                    1 => Proposal::Resolution {
                        text: format!("resolution {value}"),
                    },
                    2 => Proposal::SlashRuling {
                        offender: id(*value as usize % PASSPORTS),
                        amount: 1 + value * 100,
                        case: CaseId([*value as u8; 32]),
                    },
                    _ => Proposal::CellModeChange {
                        mode: CellMode::Safe,
                        duration: Some(1 + value),
                    },
                },
            },
            Step::Vote { process, choice } => Action::Vote {
                process: ProcessId(*process),
                choice: [Choice::Yes, Choice::No, Choice::Abstain][usize::from(*choice)],
            },
            Step::Delegate { to } => Action::Delegate { to: id(*to) },
            Step::Undelegate => Action::Undelegate,
            Step::Veto { process } => self.cell.veto(ProcessId(*process), "property", &[0, 1]),
        };
        TransactionBody {
            federation: self.cell.genesis.federation,
            cell: self.cell.genesis.cell,
            sender: sender.id,
            nonce,
            fee: attempt.fee,
            action,
        }
        .sign(&sender.key)
    }

    /// Learns from a committed block which transactions applied, and resynchronizes nonces
    /// with the ledger.
    fn observe(
        &mut self,
        transactions: &[SignedTransaction],
        block: &AppliedBlock,
        ledger: &Ledger<MemoryStorage>,
    ) {
        for (tx, receipt) in transactions.iter().zip(&block.receipts) {
            if receipt.outcome.is_ok() {
                self.committed
                    .entry(tx.body.sender)
                    .or_default()
                    .push(tx.body.nonce);
            }
        }
        for passport in &self.cell.passports {
            let state: Passport = ledger
                .get(&StateKey::Passport(passport.id))
                .unwrap()
                .unwrap();
            self.nonces.insert(passport.id, state.nonce);
        }
    }
}

/// Governance periods of a block or two, so that processes reach their tallies and
/// executions within a case's few blocks.
fn config() -> DevCellConfig {
    let mut governance = charter_devnet::fixtures::dev_governance_rules();
    for kind in &mut governance.kinds {
        kind.sponsoring_blocks = 2;
        kind.deliberation_blocks = 0;
        kind.voting_blocks = 2;
        kind.enactment_blocks = 1;
        for chamber in &mut kind.chambers {
            chamber.quorum_bps = 1_000;
        }
    }
    DevCellConfig {
        validators: VALIDATORS,
        arbiters: 3,
        members: MEMBERS,
        balance: 1_000_000,
        governance,
        ..DevCellConfig::default()
    }
}

fn assert_no_amount_exceeds_supply(ledger: &Ledger<MemoryStorage>, cell: &DevCell, supply: u64) {
    for passport in &cell.passports {
        let state: Passport = ledger
            .get(&StateKey::Passport(passport.id))
            .unwrap()
            .unwrap();
        let bond: Bond = ledger
            .get(&StateKey::Bond(passport.id))
            .unwrap()
            .unwrap_or_default();
        assert!(
            state.balance <= supply && bond.bonded <= supply && bond.unbonding_total() <= supply
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_blocks_conserve_value_and_keep_nonces_sequential(
        blocks in proptest::collection::vec(proptest::collection::vec(attempt(), 0..12), 1..10),
        probes in proptest::collection::vec((0..PASSPORTS, any::<[u8; 32]>(), any::<u8>()), 4),
    ) {
        let cell = DevCell::new(11, config());
        let mut memory = Ledger::open(MemoryStorage::new()).unwrap();
        memory.init_genesis(&cell.genesis).unwrap();
        let supply = memory.audit_supply().unwrap().total_supply;
        let mut client = Client { cell: cell.clone(), nonces: BTreeMap::new(), escrows: Vec::new(), committed: BTreeMap::new() };

        for attempts in &blocks {
            let transactions: Vec<SignedTransaction> = attempts.iter().map(|attempt| client.build(attempt)).collect();
            let in_memory = memory.apply_block(&transactions).unwrap();
            let ledger_audit = memory.audit_supply().unwrap();
            prop_assert!(ledger_audit.is_conserved(), "not conserved: {:?}", ledger_audit);
            assert_no_amount_exceeds_supply(&memory, &cell, supply);
            client.observe(&transactions, &in_memory, &memory);
        }

        for (sender, nonces) in &client.committed {
            let expected: Vec<u64> = (0..nonces.len() as u64).collect();
            prop_assert_eq!(nonces, &expected, "nonces of {} are not sequential", sender);
            let passport: Passport = memory.get(&StateKey::Passport(*sender)).unwrap().unwrap();
            prop_assert_eq!(passport.nonce, nonces.len() as u64);
        }

        // Proofs at random heights, for present and absent keys.
        let latest = memory.height().unwrap();
        for (index, random_id, height_pick) in probes {
            let height = u64::from(height_pick) % (latest + 1);
            let root = memory.state_root(height).unwrap();
            for key in [StateKey::Passport(cell.passports[index].id), StateKey::Bond(cell.passports[index].id), StateKey::Passport(PassportId(random_id))] {
                let (value, proof) = memory.get_with_proof(&key, height).unwrap();
                let proof = StateProof::decode(&proof.encode()).unwrap();
                prop_assert!(verify_proof(&root, &key, value.as_deref(), &proof).is_ok());
                let altered_value = match &value {
                    Some(bytes) => { let mut bytes = bytes.clone(); bytes[0] ^= 1; Some(bytes) }
                    None => Some(vec![0]),
                };
                prop_assert!(verify_proof(&root, &key, altered_value.as_deref(), &proof).is_err());
                if value.is_some() {
                    prop_assert!(verify_proof(&root, &key, None, &proof).is_err());
                }
                let mut other_root = root;
                other_root.0[0] ^= 1;
                prop_assert!(verify_proof(&other_root, &key, value.as_deref(), &proof).is_err());
                let other_key = StateKey::Passport(PassportId([random_id[0] ^ 0xff; 32]));
                if value.is_some() {
                    prop_assert!(verify_proof(&root, &other_key, value.as_deref(), &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn replaying_blocks_gives_the_same_root_at_every_height(
        blocks in proptest::collection::vec(proptest::collection::vec(attempt(), 0..8), 1..6),
    ) {
        let cell = DevCell::new(12, config());
        let mut client = Client { cell: cell.clone(), nonces: BTreeMap::new(), escrows: Vec::new(), committed: BTreeMap::new() };
        let mut first = Ledger::open(MemoryStorage::new()).unwrap();
        first.init_genesis(&cell.genesis).unwrap();
        let mut history = Vec::new();
        for attempts in &blocks {
            let transactions: Vec<SignedTransaction> = attempts.iter().map(|attempt| client.build(attempt)).collect();
            let block = first.apply_block(&transactions).unwrap();
            client.observe(&transactions, &block, &first);
            history.push((transactions, block.state_root));
        }
        let mut replay = Ledger::open(MemoryStorage::new()).unwrap();
        replay.init_genesis(&cell.genesis).unwrap();
        for (transactions, root) in &history {
            prop_assert_eq!(replay.apply_block(transactions).unwrap().state_root, *root);
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_accepts_only_canonical_encodings(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(tx) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes);
        }
    }

    #[test]
    fn transactions_round_trip_through_the_encoding(attempts in proptest::collection::vec(attempt(), 1..20)) {
        let mut client = Client { cell: DevCell::new(13, config()), nonces: BTreeMap::new(), escrows: Vec::new(), committed: BTreeMap::new() };
        for attempt in &attempts {
            let tx = client.build(attempt);
            let bytes = tx.encode();
            prop_assert_eq!(&SignedTransaction::decode(&bytes).unwrap(), &tx);
            let mut trailing = bytes.clone();
            trailing.push(0);
            prop_assert!(matches!(SignedTransaction::decode(&trailing), Err(DecodeError::Malformed(_))));
            prop_assert!(matches!(SignedTransaction::decode(&bytes[..bytes.len() - 1]), Err(DecodeError::Malformed(_))));
        }
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let bytes = vec![0u8; transaction::MAX_TRANSACTION_BYTES + 1];
    assert_eq!(
        SignedTransaction::decode(&bytes),
        Err(DecodeError::Oversized {
            size: transaction::MAX_TRANSACTION_BYTES + 1,
            limit: transaction::MAX_TRANSACTION_BYTES
        })
    );
}
