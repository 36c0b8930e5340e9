//! Juries on a dev cell: the beacon each block's proposer reveals, the pool, an escrow dispute
//! sent to a jury drawn by sortition, rulings, the close that pays the escrow out and charges
//! absent jurors, and each refusal.
//!
//! The dev cell: members 0..8 (tier 2), arbiters 0..3, validators 0..4; its jury rules
//! (`dev_governance_rules`): 3 jurors, drawn 3 blocks after filing, ruling for 10 blocks,
//! bond 100, absence penalty 10.

mod common;

use charter_devnet::fixtures::DevPassport;
use charter_ledger::crypto::bls::BlsSignature;
use charter_ledger::governance::*;
use charter_ledger::state::*;
use charter_ledger::*;
use common::Harness;
use proptest::prelude::*;

const ESCROWED: u64 = 1_000;

fn rules(h: &Harness) -> JuryRules {
    (h.ledger.get::<GovernanceRules>(&StateKey::GovernanceRules))
        .unwrap()
        .unwrap()
        .juries
}

fn case(h: &Harness, id: u64) -> JuryCase {
    (h.ledger.get(&StateKey::JuryCase(JuryCaseId(id))))
        .unwrap()
        .expect("the case exists")
}

fn pool(h: &Harness) -> Vec<PassportId> {
    (h.ledger.get(&StateKey::JuryPool))
        .unwrap()
        .unwrap_or_default()
}

fn beacon(h: &Harness) -> Beacon {
    h.ledger.get(&StateKey::Beacon).unwrap().unwrap()
}

fn member(h: &Harness, index: usize) -> DevPassport {
    h.cell.member(index).clone()
}

/// Members `jurors` join the pool; member 0 escrows `ESCROWED` for member 1 with arbiter 0
/// and disputes it. Returns the escrow's id.
fn disputed_escrow_and_pool(h: &mut Harness, jurors: std::ops::Range<usize>) -> EscrowId {
    for index in jurors {
        h.submit(&member(h, index), Action::JoinJuryPool).unwrap();
    }
    let (payer, payee) = (member(h, 0), member(h, 1));
    h.disputed_escrow(&payer, &payee, ESCROWED)
}

/// Commits empty blocks until block `height` is the last committed.
fn advance_to(h: &mut Harness, height: u64) {
    let blocks = height.saturating_sub(h.height());
    h.advance(blocks);
}

fn index_of(h: &Harness, passport: &PassportId) -> usize {
    (0..8)
        .find(|index| h.cell.member(*index).id == *passport)
        .expect("jurors are members")
}

#[test]
fn each_block_mixes_its_proposers_reveal_into_the_beacon() {
    let mut h = Harness::new();
    let genesis = beacon(&h);
    assert_eq!(
        genesis,
        Beacon::genesis(h.cell.genesis.federation, h.cell.genesis.cell)
    );
    let reveal = h.next_reveal();
    h.advance(1);
    assert_eq!(beacon(&h), genesis.mixed(1, &reveal.signature));
    assert_eq!(beacon(&h).height, 1);
    assert_ne!(beacon(&h).mix, genesis.mix);
}

#[test]
fn a_reveal_that_is_not_the_proposers_signature_over_the_height_is_refused() {
    let h = Harness::new();
    let good = h.next_reveal();
    let refused = |reveal: &BeaconReveal| {
        let verified = h.ledger.verify_reveal(reveal);
        let prepared = h.ledger.prepare_proposed_block(reveal, &[]);
        let invalid = |result: Result<(), LedgerError>| {
            matches!(result, Err(LedgerError::InvalidReveal { .. }))
        };
        let refused = invalid(verified.map(|_| ()));
        assert_eq!(
            invalid(prepared.map(|_| ())),
            refused,
            "preparing a proposed block refuses exactly the reveals verification refuses"
        );
        refused
    };
    assert!(!refused(&good));
    let other_height = BeaconReveal {
        signature: h.cell.reveal(2).signature,
        ..good.clone()
    };
    assert!(refused(&other_height), "a reveal for another height");
    let other_proposer = BeaconReveal {
        proposer: h.cell.validator(2).id,
        ..good.clone()
    };
    assert!(refused(&other_proposer), "another validator's key");
    let not_a_validator = BeaconReveal {
        proposer: h.cell.member(0).id,
        ..good.clone()
    };
    assert!(refused(&not_a_validator));
    let malformed = BeaconReveal {
        signature: BlsSignature([0xff; 96]),
        ..good
    };
    assert!(refused(&malformed));
}

#[test]
fn a_validator_reveals_for_its_own_block_only_what_its_registered_key_signed_for_that_block() {
    let h = Harness::new();
    let next = h.height() + 1;
    let index = (next % 4) as usize;
    let proposer = h.cell.validator(index);
    let key = proposer.bls_key.as_ref().unwrap();
    let genesis = &h.cell.genesis;
    let signed = |key, federation, cell, height| SignedReveal::sign(key, federation, cell, height);
    let own = signed(key, genesis.federation, genesis.cell, next);
    let revealed = h.ledger.own_reveal(proposer.id, &own).unwrap();
    assert_eq!(
        *revealed.signature(),
        h.cell.reveal_as(index, next).signature
    );
    let refused = |passport, reveal: &SignedReveal| {
        matches!(
            h.ledger.own_reveal(passport, reveal),
            Err(LedgerError::InvalidReveal { .. })
        )
    };
    let other_key = h.cell.validator((index + 1) % 4).bls_key.as_ref().unwrap();
    let other_federation = FederationId([7; 32]);
    let refusals = [
        (
            signed(other_key, genesis.federation, genesis.cell, next),
            "a key its passport did not register",
        ),
        (
            signed(key, genesis.federation, genesis.cell, next + 1),
            "another height",
        ),
        (
            signed(key, genesis.federation, CellId(genesis.cell.0 + 1), next),
            "another cell",
        ),
        (
            signed(key, other_federation, genesis.cell, next),
            "another federation",
        ),
    ];
    for (reveal, what) in &refusals {
        assert!(refused(proposer.id, reveal), "{what}");
    }
    assert!(refused(h.cell.member(0).id, &own), "not a validator");
}

#[test]
fn a_proposed_block_prepares_as_its_verified_reveal_would() {
    let h = Harness::new();
    let reveal = h.next_reveal();
    let verified = h.ledger.verify_reveal(&reveal).unwrap();
    let expected = h.ledger.prepare_revealed_block(&verified, &[]).unwrap();
    let prepared = h.ledger.prepare_proposed_block(&reveal, &[]).unwrap();
    assert_eq!(prepared.state_root, expected.state_root);
    assert_eq!(prepared.height, expected.height);
}

#[test]
fn a_jury_drawn_from_the_pool_settles_the_dispute_and_absent_jurors_pay() {
    let mut h = Harness::new();
    let escrow = disputed_escrow_and_pool(&mut h, 2..8);
    let payee_before = h.passport(&member(&h, 1).id).balance;
    let treasury_before = h.treasury();
    h.submit(&member(&h, 1), Action::RequestJury { escrow })
        .unwrap();
    assert_eq!(h.escrow(&escrow).status, EscrowStatus::BeforeJury);
    let filed = case(&h, 0);
    assert_eq!(filed.status, CaseStatus::AwaitingDraw);
    assert_eq!(filed.pool.len(), 6, "the parties are not in it");
    assert_eq!(filed.draw_at, filed.filed_at + rules(&h).draw_delay);

    advance_to(&mut h, filed.draw_at);
    let drawn = case(&h, 0);
    let seed = beacon(&h).mix;
    assert_eq!(drawn.status, CaseStatus::Ruling);
    assert_eq!(drawn.seed, Some(seed), "drawn from the beacon of draw_at");
    assert_eq!(
        drawn.jurors,
        draw_jury(&seed, JuryCaseId(0), &filed.pool, 3)
    );

    let jurors: Vec<DevPassport> = (drawn.jurors.iter())
        .map(|juror| member(&h, index_of(&h, juror)))
        .collect();
    for juror in &jurors[..2] {
        let rule = Action::RuleOnCase {
            case: JuryCaseId(0),
            verdict: Verdict::ForClaim,
        };
        h.submit(juror, rule).unwrap();
    }
    advance_to(&mut h, drawn.closes_at);
    let closed = case(&h, 0);
    assert_eq!(closed.status, CaseStatus::Settled);
    let outcome = closed.outcome.expect("a settled case has its outcome");
    assert_eq!((outcome.for_claim, outcome.against_claim), (2, 0));
    assert_eq!(outcome.verdict, Verdict::ForClaim);
    assert_eq!(outcome.absent, vec![jurors[2].id]);
    assert_eq!(h.escrow(&escrow).status, EscrowStatus::Resolved);
    assert_eq!(
        h.passport(&member(&h, 1).id).balance,
        payee_before + ESCROWED
    );
    let penalty = rules(&h).absence_penalty;
    assert_eq!(h.treasury(), treasury_before + penalty);
    let absent: Juror = (h.ledger.get(&StateKey::Juror(jurors[2].id)))
        .unwrap()
        .unwrap();
    assert_eq!(absent.bond, rules(&h).juror_bond - penalty);
    assert!(
        !pool(&h).contains(&jurors[2].id),
        "an absent juror leaves the pool"
    );
    assert!(pool(&h).contains(&jurors[0].id));
}

#[test]
fn a_tie_or_silence_returns_the_escrow_to_its_payer() {
    let mut h = Harness::new();
    let escrow = disputed_escrow_and_pool(&mut h, 2..8);
    let payer_before = h.passport(&member(&h, 0).id).balance;
    h.submit(&member(&h, 0), Action::RequestJury { escrow })
        .unwrap();
    let draw_at = case(&h, 0).draw_at;
    advance_to(&mut h, draw_at);
    let drawn = case(&h, 0);
    let first = member(&h, index_of(&h, &drawn.jurors[0]));
    let second = member(&h, index_of(&h, &drawn.jurors[1]));
    let rule = |verdict| Action::RuleOnCase {
        case: JuryCaseId(0),
        verdict,
    };
    h.submit(&first, rule(Verdict::ForClaim)).unwrap();
    h.submit(&second, rule(Verdict::AgainstClaim)).unwrap();
    advance_to(&mut h, drawn.closes_at);
    let outcome = case(&h, 0).outcome.unwrap();
    assert_eq!(outcome.verdict, Verdict::AgainstClaim);
    assert_eq!(h.escrow(&escrow).status, EscrowStatus::Refunded);
    assert_eq!(
        h.passport(&member(&h, 0).id).balance,
        payer_before + ESCROWED
    );
}

#[test]
fn jury_refusals_are_typed_and_change_nothing() {
    let mut h = Harness::new();
    let escrow = disputed_escrow_and_pool(&mut h, 2..4);
    let juror = member(&h, 2);
    assert_eq!(
        h.submit(&juror, Action::JoinJuryPool),
        Err(TxError::AlreadyJuror)
    );
    assert_eq!(
        h.submit(&member(&h, 5), Action::LeaveJuryPool),
        Err(TxError::NotInJuryPool)
    );
    assert!(matches!(
        h.submit(&member(&h, 0), Action::RequestJury { escrow }),
        Err(TxError::JuryPoolTooSmall {
            eligible: 2,
            needed: 3
        })
    ));
    h.submit(&member(&h, 4), Action::JoinJuryPool).unwrap();
    assert!(matches!(
        h.submit(&member(&h, 5), Action::RequestJury { escrow }),
        Err(TxError::NotAuthorized(_))
    ));
    assert!(matches!(
        h.submit(&juror, Action::Exit),
        Err(TxError::StakeOutstanding(_))
    ));
    let rule = Action::RuleOnCase {
        case: JuryCaseId(0),
        verdict: Verdict::AgainstClaim,
    };
    assert_eq!(
        h.submit(&juror, rule.clone()),
        Err(TxError::UnknownJuryCase(JuryCaseId(0)))
    );
    h.submit(&member(&h, 0), Action::RequestJury { escrow })
        .unwrap();
    assert!(matches!(
        h.submit(&member(&h, 0), Action::RequestJury { escrow }),
        Err(TxError::EscrowWrongState { .. })
    ));
    assert!(matches!(
        h.submit(&juror, rule.clone()),
        Err(TxError::CaseNotRuling {
            status: CaseStatus::AwaitingDraw,
            ..
        })
    ));
    assert!(matches!(
        h.submit(
            &h.cell.arbiter(0).clone(),
            Action::EscrowResolve {
                escrow,
                to_payee: ESCROWED,
                to_payer: 0
            }
        ),
        Err(TxError::EscrowWrongState { .. })
    ));
    let draw_at = case(&h, 0).draw_at;
    advance_to(&mut h, draw_at);
    assert_eq!(
        h.submit(&member(&h, 6), rule.clone()),
        Err(TxError::NotAJuror)
    );
    h.submit(&juror, rule.clone()).unwrap();
    assert_eq!(h.submit(&juror, rule.clone()), Err(TxError::AlreadyRuled));
    let closes_at = case(&h, 0).closes_at;
    advance_to(&mut h, closes_at);
    assert!(matches!(
        h.submit(&juror, rule),
        Err(TxError::CaseNotRuling {
            status: CaseStatus::Settled,
            ..
        })
    ));
}

#[test]
fn a_passport_outside_the_jurors_tiers_cannot_join() {
    let mut config = charter_devnet::fixtures::DevCellConfig::default();
    config.governance.juries.min_tier = 3;
    let mut h = Harness::with(config);
    assert!(matches!(
        h.submit(&member(&h, 0), Action::JoinJuryPool),
        Err(TxError::JurorTierNotAllowed { tier: 2, .. })
    ));
    h.submit(&h.cell.arbiter(1).clone(), Action::JoinJuryPool)
        .unwrap();
}

#[test]
fn a_juror_who_leaves_is_in_no_later_pool_and_gets_its_bond_back_after_the_notice() {
    let mut h = Harness::new();
    let escrow = disputed_escrow_and_pool(&mut h, 2..6);
    let leaving = member(&h, 2);
    let balance_in_pool = h.passport(&leaving.id).balance;
    h.submit(&leaving, Action::LeaveJuryPool).unwrap();
    let release_at = h.height() + rules(&h).notice_blocks();
    assert!(!pool(&h).contains(&leaving.id));
    assert_eq!(
        h.submit(&leaving, Action::LeaveJuryPool),
        Err(TxError::NotInJuryPool)
    );
    h.submit(&member(&h, 0), Action::RequestJury { escrow })
        .unwrap();
    assert!(!case(&h, 0).pool.contains(&leaving.id));
    advance_to(&mut h, release_at - 1);
    assert!(h
        .ledger
        .get::<Juror>(&StateKey::Juror(leaving.id))
        .unwrap()
        .is_some());
    advance_to(&mut h, release_at);
    assert!(h
        .ledger
        .get::<Juror>(&StateKey::Juror(leaving.id))
        .unwrap()
        .is_none());
    assert_eq!(
        h.passport(&leaving.id).balance,
        balance_in_pool + rules(&h).juror_bond
    );
    h.submit(&leaving, Action::JoinJuryPool).unwrap();
}

fn passports(ids: &[u8]) -> Vec<PassportId> {
    let mut pool: Vec<PassportId> = ids.iter().map(|id| PassportId([*id; 32])).collect();
    pool.sort();
    pool.dedup();
    pool
}

proptest! {
    /// The draw is a pure function of the seed, the case and the pool: the same inputs give
    /// the same jury, of distinct pool members, lowest scores first.
    #[test]
    fn the_draw_is_a_pure_function_of_the_seed_the_case_and_the_pool(
        seed in any::<[u8; 32]>(),
        case in any::<u64>(),
        ids in proptest::collection::vec(any::<u8>(), 0..64),
        size in 1u32..9,
    ) {
        let pool = passports(&ids);
        let seed = BeaconMix(seed);
        let jury = draw_jury(&seed, JuryCaseId(case), &pool, size);
        prop_assert_eq!(&jury, &draw_jury(&seed, JuryCaseId(case), &pool, size));
        prop_assert_eq!(jury.len(), pool.len().min(size as usize));
        let scores: Vec<[u8; 32]> = (jury.iter())
            .map(|juror| sortition_score(&seed, JuryCaseId(case), juror))
            .collect();
        prop_assert!(scores.windows(2).all(|pair| pair[0] < pair[1]));
        let unchosen_lowest = (pool.iter())
            .filter(|passport| !jury.contains(passport))
            .map(|passport| sortition_score(&seed, JuryCaseId(case), passport))
            .min();
        if let (Some(highest), Some(unchosen)) = (scores.last(), unchosen_lowest) {
            prop_assert!(*highest < unchosen, "every juror scores below every other member");
        }
    }
}

#[test]
fn a_suspended_juror_leaves_the_pool_and_gets_its_bond_back_after_the_notice() {
    let mut h = Harness::new();
    let escrow = disputed_escrow_and_pool(&mut h, 2..6);
    let subject = member(&h, 2).id;
    let ruling_case = CaseId([9; 32]);
    let ruling = charter_ledger::evidence::Ruling::Sanction {
        subject,
        kind: SanctionKind::Suspension,
        liability: 0,
    };
    let approvals = h.cell.approve_ruling(ruling_case, ruling, &[0, 1]);
    let suspend = Action::Sanction {
        subject,
        kind: SanctionKind::Suspension,
        liability: 0,
        case: ruling_case,
        approvals,
    };
    h.submit(&member(&h, 7), suspend).unwrap();
    assert!(
        !pool(&h).contains(&subject),
        "it could neither rule nor leave"
    );
    let juror: Juror = h.ledger.get(&StateKey::Juror(subject)).unwrap().unwrap();
    let release_at = juror
        .released_at
        .expect("its bond returns on the usual notice");
    assert_eq!(release_at, h.height() + rules(&h).notice_blocks());
    h.submit(&member(&h, 0), Action::RequestJury { escrow })
        .unwrap();
    let filed = case(&h, 0);
    assert!(!filed.pool.contains(&subject));
    assert_eq!(filed.pool.len(), 3);
    let balance = h.passport(&subject).balance;
    advance_to(&mut h, release_at);
    assert_eq!(h.passport(&subject).balance, balance + rules(&h).juror_bond);
}

#[test]
fn recovery_mode_refuses_new_jurors_and_lockdown_still_takes_rulings() {
    let mut h = Harness::new();
    h.set_mode(CellMode::Recovery, Some(h.height() + 50));
    assert!(matches!(
        h.submit(&member(&h, 2), Action::JoinJuryPool),
        Err(TxError::ModeForbids { .. })
    ));
    h.set_mode(CellMode::Lockdown, Some(h.height() + 50));
    let rule = Action::RuleOnCase {
        case: JuryCaseId(0),
        verdict: Verdict::ForClaim,
    };
    assert_eq!(
        h.submit(&member(&h, 2), rule),
        Err(TxError::UnknownJuryCase(JuryCaseId(0))),
        "judged on its merits, not refused by the mode"
    );
}

/// Members 2..8, validator 3, a fork of it and arbiter 0 join the pool; arbiter 0 sends a slash
/// of `amount` of validator 3's stake to a jury under case number `[7; 32]`. Returns the
/// offender.
fn slash_case_before_jury(h: &mut Harness, amount: Amount) -> DevPassport {
    let offender = h.cell.validator(3).clone();
    let fork = h.fork(&offender, 77);
    let funding = Action::Transfer {
        to: fork.id,
        amount: 1_000,
    };
    h.submit(&offender, funding).unwrap();
    let arbiter = h.cell.arbiter(0).clone();
    let members: Vec<DevPassport> = (2..8).map(|index| member(h, index)).collect();
    for juror in members.iter().chain([&offender, &fork, &arbiter]) {
        h.submit(juror, Action::JoinJuryPool).unwrap();
    }
    assert_eq!(pool(h).len(), 9);
    let file = Action::RequestSlashJury {
        offender: offender.id,
        amount,
        case: CaseId([7; 32]),
    };
    h.submit(&h.cell.arbiter(0).clone(), file).unwrap();
    offender
}

/// The drawn jurors of case 0 at its draw; the first `for_claim` of them rule for the claim.
fn rule_for_claim(h: &mut Harness, for_claim: usize) -> JuryCase {
    let draw_at = case(h, 0).draw_at;
    advance_to(h, draw_at);
    let drawn = case(h, 0);
    for juror in &drawn.jurors[..for_claim] {
        let juror = member(h, index_of(h, juror));
        let rule = Action::RuleOnCase {
            case: JuryCaseId(0),
            verdict: Verdict::ForClaim,
        };
        h.submit(&juror, rule).unwrap();
    }
    drawn
}

#[test]
fn a_slash_case_upheld_by_the_jury_slashes_bonded_then_unbonding_stake_into_the_treasury() {
    let mut h = Harness::new();
    let offender = h.cell.validator(3).clone();
    h.submit(&offender, Action::Unbond { amount: 1_000 })
        .unwrap();
    h.advance(10);
    let offender = slash_case_before_jury(&mut h, 9_500);
    let filed = case(&h, 0);
    assert_eq!(
        filed.subject,
        CaseSubject::Slash {
            offender: offender.id,
            amount: 9_500,
            case: CaseId([7; 32])
        }
    );
    assert_eq!(
        filed.pool.len(),
        6,
        "neither the offender, nor its fork, nor the filer sits"
    );
    assert!(h
        .ledger
        .get::<SpentCase>(&StateKey::SpentCase([7; 32]))
        .unwrap()
        .is_some());
    assert_eq!(
        h.submit(&offender, Action::Withdraw),
        Err(TxError::StakeBeforeJury(JuryCaseId(0))),
        "its matured unbonding stays while the jury decides"
    );
    let treasury_before = h.treasury();
    let drawn = rule_for_claim(&mut h, 2);
    advance_to(&mut h, drawn.closes_at);

    let outcome = case(&h, 0).outcome.expect("settled");
    assert_eq!(outcome.verdict, Verdict::ForClaim);
    assert_eq!(outcome.slashed, 9_500);
    let penalty = rules(&h).absence_penalty;
    assert_eq!(h.treasury(), treasury_before + 9_500 + penalty);
    let bond = h.bond(&offender.id);
    assert_eq!(bond.bonded, 0, "bonded stake goes first");
    assert_eq!(
        bond.unbonding_total(),
        500,
        "then unbonding, in release order"
    );
    let sanction = h.passport(&offender.id).sanctions.pop().unwrap();
    assert_eq!(
        (sanction.kind, sanction.case, sanction.liability),
        (SanctionKind::Slashed, CaseId([7; 32]), 0)
    );
    assert!(h
        .ledger
        .get::<Vec<JuryCaseId>>(&StateKey::SlashCasesAgainst(offender.id))
        .unwrap()
        .is_none());
    let balance = h.passport(&offender.id).balance;
    h.submit(&offender, Action::Withdraw).unwrap();
    assert!(h.passport(&offender.id).balance > balance);
}

#[test]
fn a_slash_case_the_jury_does_not_uphold_takes_nothing_and_frees_the_stake() {
    let mut h = Harness::new();
    let offender = slash_case_before_jury(&mut h, 400);
    let bond_before = h.bond(&offender.id);
    let drawn = rule_for_claim(&mut h, 1);
    advance_to(&mut h, drawn.closes_at);
    let outcome = case(&h, 0).outcome.expect("settled");
    assert_eq!(
        (outcome.for_claim, outcome.verdict, outcome.slashed),
        (1, Verdict::AgainstClaim, 0),
        "one ruling for the claim of three drawn: a claim needs a majority of the jury"
    );
    assert_eq!(h.bond(&offender.id), bond_before);
    assert!(h.passport(&offender.id).sanctions.is_empty());
    assert_eq!(
        h.submit(&offender, Action::Withdraw),
        Err(TxError::NothingToWithdraw),
        "judged on its merits again"
    );
}

#[test]
fn a_slash_upheld_beyond_the_offenders_stake_takes_all_of_it_and_records_the_rest_owed() {
    let mut h = Harness::new();
    let offender = slash_case_before_jury(&mut h, 25_000);
    let drawn = rule_for_claim(&mut h, 3);
    advance_to(&mut h, drawn.closes_at);
    assert_eq!(case(&h, 0).outcome.unwrap().slashed, 10_000);
    assert_eq!(h.bond(&offender.id).bonded, 0);
    let passport = h.passport(&offender.id);
    assert_eq!(passport.sanctions.last().unwrap().liability, 15_000);
}

#[test]
fn a_slash_case_is_refused_with_a_typed_code_and_its_number_cannot_be_used_twice() {
    let mut h = Harness::new();
    let arbiter = h.cell.arbiter(0).clone();
    let offender = h.cell.validator(3).id;
    let file = |amount, case| Action::RequestSlashJury {
        offender,
        amount,
        case: CaseId(case),
    };
    assert!(matches!(
        h.submit(&member(&h, 2), file(400, [7; 32])),
        Err(TxError::NotAuthorized(_))
    ));
    assert_eq!(
        h.submit(&arbiter, file(0, [7; 32])),
        Err(TxError::ZeroAmount)
    );
    let against_itself = Action::RequestSlashJury {
        offender: arbiter.id,
        amount: 400,
        case: CaseId([7; 32]),
    };
    assert!(matches!(
        h.submit(&arbiter, against_itself),
        Err(TxError::NotAuthorized(_))
    ));
    let unknown = Action::RequestSlashJury {
        offender: PassportId([0xee; 32]),
        amount: 400,
        case: CaseId([7; 32]),
    };
    assert!(matches!(
        h.submit(&arbiter, unknown),
        Err(TxError::UnknownPassport(_))
    ));
    assert!(matches!(
        h.submit(&arbiter, file(400, [7; 32])),
        Err(TxError::JuryPoolTooSmall { eligible: 0, .. })
    ));
    let offender_passport = slash_case_before_jury(&mut h, 400);
    assert_eq!(
        h.submit(&arbiter, file(400, [7; 32])),
        Err(TxError::EvidenceAlreadyUsed)
    );
    let approvals = h.cell.approve_ruling(
        CaseId([7; 32]),
        charter_ledger::evidence::Ruling::Slash {
            offender,
            amount: 400,
        },
        &[0, 1],
    );
    let by_panel = Action::Slash {
        evidence: transaction::SlashEvidence::ArbiterRuling {
            offender,
            amount: 400,
            case: CaseId([7; 32]),
            approvals,
        },
    };
    assert_eq!(
        h.submit(&arbiter, by_panel),
        Err(TxError::EvidenceAlreadyUsed),
        "the panel cannot punish the case the jury holds"
    );
    assert_eq!(
        h.submit(&offender_passport, Action::Exit),
        Err(TxError::StakeBeforeJury(JuryCaseId(0)))
    );
    h.set_mode(CellMode::Lockdown, Some(h.height() + 50));
    assert!(matches!(
        h.submit(&arbiter, file(400, [8; 32])),
        Err(TxError::ModeForbids { .. })
    ));
}

#[test]
fn a_slash_case_is_drawn_without_the_offenders_sponsor_and_its_forks_of_forks() {
    let mut h = Harness::new();
    let sponsor = member(&h, 2);
    let offender = h.issue(&sponsor, 80, 1);
    let fund = |h: &mut Harness, from: &DevPassport, to: &DevPassport| {
        let transfer = Action::Transfer {
            to: to.id,
            amount: 1_000,
        };
        h.submit(from, transfer).unwrap();
    };
    fund(&mut h, &sponsor, &offender);
    let fork = h.fork(&offender, 81);
    fund(&mut h, &sponsor, &fork);
    let fork_of_fork = h.fork(&fork, 82);
    fund(&mut h, &sponsor, &fork_of_fork);
    let members: Vec<DevPassport> = (2..8).map(|index| member(&h, index)).collect();
    for juror in members.iter().chain([&offender, &fork, &fork_of_fork]) {
        h.submit(juror, Action::JoinJuryPool).unwrap();
    }
    let file = Action::RequestSlashJury {
        offender: offender.id,
        amount: 1,
        case: CaseId([7; 32]),
    };
    h.submit(&h.cell.arbiter(0).clone(), file).unwrap();
    let sitting: Vec<PassportId> = members[1..].iter().map(|member| member.id).collect();
    let mut expected = sitting.clone();
    expected.sort();
    assert_eq!(
        case(&h, 0).pool,
        expected,
        "the slash would reach the sponsor and every fork, so none of them sits"
    );
}
