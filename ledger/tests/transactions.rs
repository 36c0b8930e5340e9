//! Every transaction kind's happy path and every rejection reason, one block at a time.

mod common;

use charter_devnet::fixtures::DevCellConfig;
use charter_ledger::crypto::bls::{BlsError, BlsSecretKey};
use charter_ledger::crypto::ed25519::{Ed25519Error, Ed25519PublicKey};
use charter_ledger::evidence::*;
use charter_ledger::state::*;
use charter_ledger::transaction::{Consent, SlashEvidence, ValidatorRegistration};
use charter_ledger::*;
use common::{keypair, Harness};

fn transfer(to: PassportId, amount: Amount) -> Action {
    Action::Transfer { to, amount }
}

// ---- the envelope -------------------------------------------------------------------------

#[test]
fn tampered_transaction_fails_signature_check() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let mut tx = h.tx(&alice, transfer(bob.id, 10));
    tx.body.action = transfer(bob.id, 10_000);
    assert_eq!(
        h.submit_tx(tx),
        Err(TxError::BadSignature(Ed25519Error::BadSignature))
    );
}

#[test]
fn transaction_for_another_federation_or_cell_is_refused() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let mut body = h.tx(&alice, transfer(bob.id, 1)).body;
    body.federation = FederationId([9; 32]);
    assert!(matches!(
        h.submit_tx(body.clone().sign(&alice.key)),
        Err(TxError::WrongFederation { .. })
    ));
    body.federation = h.cell.genesis.federation;
    body.cell = CellId(5);
    assert_eq!(
        h.submit_tx(body.sign(&alice.key)),
        Err(TxError::WrongCell {
            expected: CellId(0),
            got: CellId(5)
        })
    );
}

#[test]
fn unknown_sender_and_foreign_key_are_refused() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let mut body = h.tx(&alice, transfer(bob.id, 1)).body;
    body.sender = PassportId([3; 32]);
    assert_eq!(
        h.submit_tx(body.sign(&alice.key)),
        Err(TxError::UnknownPassport(PassportId([3; 32])))
    );
    let body = h.tx(&alice, transfer(bob.id, 1)).body;
    assert_eq!(
        h.submit_tx(body.sign(&bob.key)),
        Err(TxError::SignerNotController(alice.id))
    );
}

#[test]
fn nonces_must_be_exactly_sequential() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let first = h.tx(&alice, transfer(bob.id, 1));
    h.submit_tx(first.clone()).unwrap();
    assert_eq!(
        h.submit_tx(first),
        Err(TxError::StaleNonce {
            expected: 1,
            got: 0
        })
    );
    let ahead = h.cell.transaction(&alice, 5, transfer(bob.id, 1));
    assert_eq!(
        h.submit_tx(ahead),
        Err(TxError::FutureNonce {
            expected: 1,
            got: 5
        })
    );
    assert_eq!(h.passport(&alice.id).nonce, 1);
}

#[test]
fn fees_go_to_the_treasury_and_must_meet_the_minimum() {
    let config = DevCellConfig {
        params: CellParams {
            min_fee: 10,
            ..CellParams::default()
        },
        ..DevCellConfig::default()
    };
    let mut h = Harness::with(config);
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    h.submit(&alice, transfer(bob.id, 100)).unwrap();
    assert_eq!(h.treasury(), 10);
    assert_eq!(h.passport(&alice.id).balance, 1_000_000 - 110);
    let mut body = h.tx(&alice, transfer(bob.id, 1)).body;
    body.fee = 9;
    assert_eq!(
        h.submit_tx(body.sign(&alice.key)),
        Err(TxError::FeeTooLow {
            minimum: 10,
            offered: 9
        })
    );
}

// ---- transfers ----------------------------------------------------------------------------

#[test]
fn transfer_moves_balance() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    h.submit(&alice, transfer(bob.id, 250)).unwrap();
    assert_eq!(h.passport(&alice.id).balance, 1_000_000 - 250);
    assert_eq!(h.passport(&bob.id).balance, 1_000_000 + 250);
}

#[test]
fn transfer_rejections() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    assert_eq!(
        h.submit(&alice, transfer(bob.id, 0)),
        Err(TxError::ZeroAmount)
    );
    assert_eq!(
        h.submit(&alice, transfer(bob.id, 2_000_000)),
        Err(TxError::InsufficientBalance {
            needed: 2_000_000,
            available: 1_000_000
        })
    );
    assert_eq!(
        h.submit(&alice, transfer(PassportId([4; 32]), 1)),
        Err(TxError::UnknownPassport(PassportId([4; 32])))
    );
    h.submit(&bob, Action::Unbond { amount: 100 }).unwrap();
    h.advance(10);
    h.submit(&bob, Action::Withdraw).unwrap();
    h.submit(&bob, Action::Exit).unwrap();
    assert_eq!(
        h.submit(&alice, transfer(bob.id, 1)),
        Err(TxError::PassportNotActive {
            passport: bob.id,
            status: PassportStatus::Exited
        })
    );
}

// ---- passports ----------------------------------------------------------------------------

#[test]
fn sponsor_issues_a_lower_tier_passport_with_a_derived_id() {
    let mut h = Harness::new();
    let sponsor = h.cell.member(0).clone();
    let nonce = h.nonce(&sponsor.id);
    h.submit(
        &sponsor,
        Action::IssuePassport {
            controller_keys: vec![keypair(1).public_key()],
            tier: 1,
        },
    )
    .unwrap();
    let child = h.passport(&PassportId::derive(CellId(0), &sponsor.id, nonce));
    assert_eq!(child.sponsor, Some(sponsor.id));
    assert_eq!(
        (child.tier, child.status, child.balance),
        (1, PassportStatus::Active, 0)
    );
    assert_eq!(child.controller_keys, vec![keypair(1).public_key()]);
}

#[test]
fn issuing_a_passport_needs_tier_bond_and_valid_keys() {
    let mut h = Harness::new();
    let sponsor = h.cell.member(0).clone();
    let key = vec![keypair(1).public_key()];
    assert!(matches!(
        h.submit(
            &sponsor,
            Action::IssuePassport {
                controller_keys: key.clone(),
                tier: 2
            }
        ),
        Err(TxError::TierNotAllowed { requested: 2, .. })
    ));
    for keys in [
        vec![],
        vec![keypair(1).public_key(); 2],
        vec![Ed25519PublicKey([0x02; 32])],
        vec![Ed25519PublicKey([0; 32])],
    ] {
        assert!(matches!(
            h.submit(
                &sponsor,
                Action::IssuePassport {
                    controller_keys: keys,
                    tier: 0
                }
            ),
            Err(TxError::InvalidControllerKeys(_))
        ));
    }
    // A tier-1 passport cannot sponsor.
    let child = h.issue(&sponsor, 2, 1);
    h.submit(&sponsor, transfer(child.id, 100)).unwrap();
    assert!(matches!(
        h.submit(
            &child,
            Action::IssuePassport {
                controller_keys: key.clone(),
                tier: 0
            }
        ),
        Err(TxError::NotAuthorized(_))
    ));
    // Below the sponsor bond.
    h.submit(&sponsor, Action::Unbond { amount: 1 }).unwrap();
    assert_eq!(
        h.submit(
            &sponsor,
            Action::IssuePassport {
                controller_keys: key,
                tier: 0
            }
        ),
        Err(TxError::InsufficientBond {
            needed: 100,
            available: 99
        })
    );
}

#[test]
fn subject_rotates_its_own_keys() {
    let mut h = Harness::new();
    let mut alice = h.cell.member(0).clone();
    let bob = h.cell.member(1).clone();
    h.submit(
        &alice,
        Action::RotateKeys {
            subject: alice.id,
            new_keys: vec![keypair(9).public_key()],
            consent: Consent::Subject,
        },
    )
    .unwrap();
    assert_eq!(
        h.submit(&alice, transfer(bob.id, 1)),
        Err(TxError::SignerNotController(alice.id))
    );
    alice.key = keypair(9);
    h.submit(&alice, transfer(bob.id, 1)).unwrap();
}

#[test]
fn rotating_another_passport_needs_an_arbiter_ruling_used_once() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let new_keys = vec![keypair(9).public_key()];
    assert!(matches!(
        h.submit(
            &bob,
            Action::RotateKeys {
                subject: alice.id,
                new_keys: new_keys.clone(),
                consent: Consent::Subject
            }
        ),
        Err(TxError::NotAuthorized(_))
    ));
    let case = CaseId([1; 32]);
    let approvals = h.cell.approve_ruling(
        case,
        Ruling::RotateKeys {
            subject: alice.id,
            new_keys: new_keys.clone(),
        },
        &[0, 1],
    );
    let action = Action::RotateKeys {
        subject: alice.id,
        new_keys: new_keys.clone(),
        consent: Consent::Ruling { case, approvals },
    };
    h.submit(&bob, action.clone()).unwrap();
    assert_eq!(h.passport(&alice.id).controller_keys, new_keys);
    assert_eq!(h.submit(&bob, action), Err(TxError::EvidenceAlreadyUsed));
}

#[test]
fn fork_records_lineage_and_inherits_sanctions_and_liabilities() {
    let mut h = Harness::new();
    let parent = h.cell.member(0).clone();
    let case = CaseId([2; 32]);
    let ruling = Ruling::Sanction {
        subject: parent.id,
        kind: SanctionKind::Warning,
        liability: 40,
    };
    let approvals = h.cell.approve_ruling(case, ruling, &[0, 1]);
    h.submit(
        &parent,
        Action::Sanction {
            subject: parent.id,
            kind: SanctionKind::Warning,
            liability: 40,
            case,
            approvals,
        },
    )
    .unwrap();
    let child_id = h.fork(&parent, 3).id;
    let child = h.passport(&child_id);
    assert_eq!(child.lineage, vec![parent.id]);
    assert_eq!(child.liabilities, 40);
    assert_eq!(child.sanctions.len(), 1);
    assert_eq!(child.sanctions[0].inherited_from, Some(parent.id));
    assert_eq!(h.passport(&parent.id).forks, vec![child_id]);
}

#[test]
fn exit_keeps_history_and_liabilities_but_needs_no_stake() {
    let mut h = Harness::new();
    let alice = h.cell.member(0).clone();
    assert_eq!(
        h.submit(&alice, Action::Exit),
        Err(TxError::StakeOutstanding(100))
    );
    let case = CaseId([3; 32]);
    let approvals = h.cell.approve_ruling(
        case,
        Ruling::Sanction {
            subject: alice.id,
            kind: SanctionKind::Warning,
            liability: 7,
        },
        &[1, 2],
    );
    h.submit(
        &alice,
        Action::Sanction {
            subject: alice.id,
            kind: SanctionKind::Warning,
            liability: 7,
            case,
            approvals,
        },
    )
    .unwrap();
    h.submit(&alice, Action::Unbond { amount: 100 }).unwrap();
    assert_eq!(
        h.submit(&alice, Action::Exit),
        Err(TxError::StakeOutstanding(100))
    );
    h.advance(10);
    h.submit(&alice, Action::Withdraw).unwrap();
    h.submit(&alice, Action::Exit).unwrap();
    let passport = h.passport(&alice.id);
    assert_eq!(
        (
            passport.status,
            passport.liabilities,
            passport.sanctions.len()
        ),
        (PassportStatus::Exited, 7, 1)
    );
    assert_eq!(
        h.submit(&alice, Action::Bond { amount: 1 }),
        Err(TxError::PassportNotActive {
            passport: alice.id,
            status: PassportStatus::Exited
        })
    );
}

// ---- stake ----------------------------------------------------------------------------------

#[test]
fn bond_unbond_and_withdraw_after_the_delay() {
    let mut h = Harness::new();
    let alice = h.cell.member(0).clone();
    h.submit(&alice, Action::Bond { amount: 500 }).unwrap();
    assert_eq!(h.bond(&alice.id).bonded, 600);
    h.submit(&alice, Action::Unbond { amount: 200 }).unwrap();
    let release = h.height() + 10;
    assert_eq!(
        h.bond(&alice.id).unbonding,
        vec![UnbondingEntry {
            amount: 200,
            release_height: release
        }]
    );
    h.advance(8);
    assert_eq!(
        h.submit(&alice, Action::Withdraw),
        Err(TxError::NothingToWithdraw)
    );
    h.advance(1);
    h.submit(&alice, Action::Withdraw).unwrap();
    assert_eq!(h.passport(&alice.id).balance, 1_000_000 - 500 + 200);
    assert_eq!(
        h.bond(&alice.id),
        Bond {
            bonded: 400,
            unbonding: vec![]
        }
    );
}

#[test]
fn stake_rejections() {
    let mut h = Harness::new();
    let alice = h.cell.member(0).clone();
    assert_eq!(
        h.submit(&alice, Action::Bond { amount: 0 }),
        Err(TxError::ZeroAmount)
    );
    assert!(matches!(
        h.submit(&alice, Action::Bond { amount: 5_000_000 }),
        Err(TxError::InsufficientBalance { .. })
    ));
    assert_eq!(
        h.submit(&alice, Action::Unbond { amount: 101 }),
        Err(TxError::InsufficientBond {
            needed: 101,
            available: 100
        })
    );
    assert_eq!(
        h.submit(&alice, Action::Unbond { amount: 0 }),
        Err(TxError::ZeroAmount)
    );
}

// ---- validators -----------------------------------------------------------------------------

/// A registration of keys derived from `seed`, signed for `passport`.
fn registration(h: &Harness, passport: PassportId, seed: u8) -> Action {
    let bls = BlsSecretKey::key_gen(&[seed; 32], b"").unwrap();
    h.cell.registration(passport, &keypair(seed), &bls)
}

fn with_registration(action: Action, change: impl FnOnce(&mut ValidatorRegistration)) -> Action {
    let Action::RegisterValidator(mut registration) = action else {
        unreachable!("a registration")
    };
    change(&mut registration);
    Action::RegisterValidator(registration)
}

#[test]
fn bonded_passport_registers_and_gains_power_at_the_next_epoch() {
    let mut h = Harness::new();
    let alice = h.cell.member(0).clone();
    h.submit(&alice, Action::Bond { amount: 1_000 }).unwrap();
    h.submit(&alice, registration(&h, alice.id, 50)).unwrap();
    assert_eq!(
        h.ledger.active_validators().unwrap().members.len(),
        4,
        "power waits for the epoch"
    );
    h.advance(100 - h.height());
    let active = h.ledger.active_validators().unwrap();
    assert_eq!(active.epoch, 2);
    assert!(active
        .members
        .iter()
        .any(|member| member.passport == alice.id && member.power == 1_100));
    assert_eq!(
        h.submit(&alice, registration(&h, alice.id, 51)),
        Err(TxError::AlreadyValidator(alice.id))
    );
}

#[test]
fn registration_rejections() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    assert_eq!(
        h.submit(&alice, registration(&h, alice.id, 50)),
        Err(TxError::InsufficientBond {
            needed: 1_000,
            available: 100
        })
    );
    for member in [&alice, &bob] {
        h.submit(member, Action::Bond { amount: 1_000 }).unwrap();
    }
    // Bob replays Alice's registration from his own passport: the keys signed for Alice.
    let alices = registration(&h, alice.id, 50);
    assert_eq!(
        h.submit(&bob, alices.clone()),
        Err(TxError::InvalidConsensusKey(Ed25519Error::BadSignature))
    );
    h.submit(&alice, alices).unwrap();
    let reused_consensus_key = with_registration(registration(&h, bob.id, 52), |registration| {
        registration.consensus_key = keypair(50).public_key();
    });
    assert_eq!(
        h.submit(&bob, reused_consensus_key),
        Err(TxError::ConsensusKeyInUse)
    );
    let Action::RegisterValidator(alices) = registration(&h, alice.id, 50) else {
        unreachable!("a registration")
    };
    let copied_bls_key = with_registration(registration(&h, bob.id, 52), |registration| {
        registration.bls_key = alices.bls_key;
        registration.bls_proof_of_possession = alices.bls_proof_of_possession;
    });
    assert_eq!(h.submit(&bob, copied_bls_key), Err(TxError::BlsKeyInUse));
    let foreign_pop = with_registration(registration(&h, bob.id, 52), |registration| {
        registration.bls_proof_of_possession = BlsSecretKey::key_gen(&[53; 32], b"")
            .unwrap()
            .prove_possession();
    });
    assert_eq!(
        h.submit(&bob, foreign_pop),
        Err(TxError::InvalidBlsKey(BlsError::BadProofOfPossession))
    );
    let unsigned_by_bls = with_registration(registration(&h, bob.id, 52), |registration| {
        registration.bls_signature = BlsSecretKey::key_gen(&[52; 32], b"")
            .unwrap()
            .sign(b"something else");
    });
    assert_eq!(
        h.submit(&bob, unsigned_by_bls),
        Err(TxError::InvalidBlsKey(BlsError::BadSignature))
    );
    let bad_consensus_key = with_registration(registration(&h, bob.id, 52), |registration| {
        registration.consensus_key = Ed25519PublicKey([0x02; 32]);
    });
    assert!(matches!(
        h.submit(&bob, bad_consensus_key),
        Err(TxError::InvalidConsensusKey(_))
    ));
    h.submit(&bob, registration(&h, bob.id, 52)).unwrap();
}

/// A cell whose only validator unbonds all its stake and exits still has a validator set at
/// the next epoch: the election finds nobody, so the set it had is kept (and says so) until an
/// election finds a validator again.
#[test]
fn the_last_validator_leaving_keeps_the_set_until_another_is_elected() {
    let mut h = Harness::with(DevCellConfig {
        validators: 1,
        ..DevCellConfig::default()
    });
    let (validator, alice) = (h.cell.validator(0).clone(), h.cell.member(0).clone());
    let first = h.ledger.active_validators().unwrap();
    assert_eq!(first.members.len(), 1);
    h.submit(&validator, Action::Unbond { amount: 10_000 })
        .unwrap();
    h.advance(10);
    h.submit(&validator, Action::Withdraw).unwrap();
    h.submit(&validator, Action::Exit).unwrap();
    h.advance(100 - h.height());
    let kept = h.ledger.active_validators().unwrap();
    assert_eq!(kept.epoch, 2);
    assert_eq!(kept.members, first.members, "the set is kept, not emptied");
    assert_eq!((first.kept_from, kept.kept_from), (None, Some(1)));
    h.advance(100);
    let still = h.ledger.active_validators().unwrap();
    assert_eq!((still.epoch, still.kept_from), (3, Some(1)));
    assert_eq!(still.members, first.members);
    // Anyone who bonds and registers ends it at the next boundary.
    h.submit(&alice, Action::Bond { amount: 1_000 }).unwrap();
    h.submit(&alice, registration(&h, alice.id, 50)).unwrap();
    h.advance(300 - h.height());
    let elected = h.ledger.active_validators().unwrap();
    assert_eq!((elected.epoch, elected.kept_from), (4, None));
    let members: Vec<_> = elected
        .members
        .iter()
        .map(|m| (m.passport, m.power))
        .collect();
    assert_eq!(members, vec![(alice.id, 1_100)]);
}

// ---- slashing -------------------------------------------------------------------------------

#[test]
fn double_vote_slashes_bond_and_unbonding_stake_once() {
    let mut h = Harness::new();
    let (offender, reporter) = (h.cell.validator(1).clone(), h.cell.member(0).clone());
    h.submit(&offender, Action::Unbond { amount: 9_000 })
        .unwrap();
    let evidence = DoubleVote {
        first: h.vote(1, 7, 0, Some([1; 32])),
        second: h.vote(1, 7, 0, Some([2; 32])),
    };
    let slash = Action::Slash {
        evidence: SlashEvidence::DoubleVote(Box::new(evidence)),
    };
    h.submit(&reporter, slash.clone()).unwrap();
    // Half of the 10,000 stake: all 1,000 still bonded, then 4,000 of the 9,000 unbonding.
    assert_eq!(h.bond(&offender.id).bonded, 0);
    assert_eq!(h.bond(&offender.id).unbonding_total(), 5_000);
    assert_eq!(h.treasury(), 5_000);
    let record = &h.passport(&offender.id).sanctions[0];
    assert_eq!((record.kind, record.liability), (SanctionKind::Slashed, 0));
    assert_eq!(
        h.submit(&reporter, slash),
        Err(TxError::EvidenceAlreadyUsed)
    );
}

#[test]
fn double_vote_evidence_must_really_conflict() {
    let mut h = Harness::new();
    let reporter = h.cell.member(0).clone();
    let submit = |h: &mut Harness, first, second| {
        h.submit(
            &reporter,
            Action::Slash {
                evidence: SlashEvidence::DoubleVote(Box::new(DoubleVote { first, second })),
            },
        )
    };
    let (first, second) = (
        h.vote(1, 7, 0, Some([1; 32])),
        h.vote(1, 7, 0, Some([1; 32])),
    );
    assert_eq!(
        submit(&mut h, first, second),
        Err(TxError::InvalidEvidence("the votes do not conflict"))
    );
    let (first, second) = (
        h.vote(1, 7, 0, Some([1; 32])),
        h.vote(1, 7, 1, Some([2; 32])),
    );
    assert!(matches!(
        submit(&mut h, first, second),
        Err(TxError::InvalidEvidence(_))
    ));
    let (first, second) = (
        h.vote(1, 7, 0, Some([1; 32])),
        h.vote(2, 7, 0, Some([2; 32])),
    );
    assert_eq!(
        submit(&mut h, first, second),
        Err(TxError::InvalidEvidence(
            "the votes are signed by different keys"
        ))
    );
    let mut forged = h.vote(1, 7, 0, Some([2; 32]));
    forged.vote.value = Some([3; 32]);
    let first = h.vote(1, 7, 0, Some([1; 32]));
    let bad_signature = submit(&mut h, first, forged);
    assert_eq!(
        bad_signature,
        Err(TxError::InvalidEvidence("a vote signature does not verify"))
    );
    let mut first = h.vote(1, 7, 0, Some([1; 32]));
    let mut second = h.vote(1, 7, 0, None);
    for signed in [&mut first, &mut second] {
        signed.vote.cell = CellId(9);
        signed.signature = h
            .cell
            .validator(1)
            .consensus_key
            .as_ref()
            .unwrap()
            .sign(&signed.vote.signing_bytes());
    }
    assert_eq!(
        submit(&mut h, first, second),
        Err(TxError::InvalidEvidence("the votes are for another cell"))
    );
}

#[test]
fn ruling_slash_leaves_the_shortfall_as_liability_on_forks_and_sponsor() {
    let mut h = Harness::new();
    let sponsor = h.cell.member(0).clone();
    let offender = h.issue(&sponsor, 4, 1);
    h.submit(&sponsor, transfer(offender.id, 1_000)).unwrap();
    h.submit(&offender, Action::Bond { amount: 300 }).unwrap();
    let fork = h.fork(&offender, 5).id;
    let case = CaseId([5; 32]);
    let approvals = h.cell.approve_ruling(
        case,
        Ruling::Slash {
            offender: offender.id,
            amount: 500,
        },
        &[0, 2],
    );
    let slash = SlashEvidence::ArbiterRuling {
        offender: offender.id,
        amount: 500,
        case,
        approvals,
    };
    h.submit(&sponsor, Action::Slash { evidence: slash })
        .unwrap();
    assert_eq!(h.bond(&offender.id).bonded, 0);
    assert_eq!(h.treasury(), 300);
    for id in [offender.id, fork, sponsor.id] {
        assert_eq!(h.passport(&id).liabilities, 200, "liability of {id}");
    }
    assert_eq!(
        h.passport(&fork).sanctions[0].inherited_from,
        Some(offender.id)
    );
}

#[test]
fn rulings_need_the_panel_threshold_of_distinct_members() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let case = CaseId([6; 32]);
    let ruling = Ruling::Slash {
        offender: bob.id,
        amount: 10,
    };
    let slash = |approvals| Action::Slash {
        evidence: SlashEvidence::ArbiterRuling {
            offender: bob.id,
            amount: 10,
            case,
            approvals,
        },
    };
    let one = h.cell.approve_ruling(case, ruling.clone(), &[0]);
    assert_eq!(
        h.submit(&alice, slash(one)),
        Err(TxError::InsufficientArbiterApprovals {
            approved: 1,
            threshold: 2
        })
    );
    let twice = h.cell.approve_ruling(case, ruling.clone(), &[0, 0]);
    assert_eq!(
        h.submit(&alice, slash(twice)),
        Err(TxError::InvalidEvidence("two approvals from one arbiter"))
    );
    let mut outsider = h.cell.approve_ruling(case, ruling.clone(), &[0, 1]);
    outsider[1].arbiter = alice.id;
    outsider[1].key = alice.key.public_key();
    assert!(matches!(
        h.submit(&alice, slash(outsider)),
        Err(TxError::NotAuthorized(_))
    ));
    let other_terms = h.cell.approve_ruling(
        case,
        Ruling::Slash {
            offender: bob.id,
            amount: 11,
        },
        &[0, 1],
    );
    assert_eq!(
        h.submit(&alice, slash(other_terms)),
        Err(TxError::InvalidEvidence(
            "an arbiter signature does not verify"
        ))
    );
}

// ---- escrow ---------------------------------------------------------------------------------

struct EscrowSetup {
    h: Harness,
    payer: charter_devnet::fixtures::DevPassport,
    payee: charter_devnet::fixtures::DevPassport,
    arbiter: charter_devnet::fixtures::DevPassport,
    id: EscrowId,
}

fn escrow(arbiter: bool, release_after: u64, expire_after: u64) -> EscrowSetup {
    let mut h = Harness::new();
    let (payer, payee, arbiter_passport) = (
        h.cell.member(0).clone(),
        h.cell.member(1).clone(),
        h.cell.member(2).clone(),
    );
    let nonce = h.nonce(&payer.id);
    let height = h.height() + 1;
    h.submit(
        &payer,
        Action::EscrowCreate {
            payee: payee.id,
            amount: 1_000,
            arbiter: arbiter.then_some(arbiter_passport.id),
            release_height: height + release_after,
            expiry_height: height + expire_after,
        },
    )
    .unwrap();
    let id = EscrowId::derive(CellId(0), &payer.id, nonce);
    EscrowSetup {
        h,
        payer,
        payee,
        arbiter: arbiter_passport,
        id,
    }
}

#[test]
fn escrow_released_by_payer_pays_the_payee() {
    let EscrowSetup {
        mut h,
        payer,
        payee,
        id,
        ..
    } = escrow(true, 0, 20);
    assert_eq!(h.passport(&payer.id).balance, 999_000);
    assert_eq!(h.escrow(&id).held(), 1_000);
    assert!(matches!(
        h.submit(&payee, Action::EscrowRelease { escrow: id }),
        Err(TxError::NotAuthorized(_))
    ));
    h.submit(&payer, Action::EscrowRelease { escrow: id })
        .unwrap();
    assert_eq!(h.passport(&payee.id).balance, 1_001_000);
    assert_eq!(
        (h.escrow(&id).status, h.escrow(&id).held()),
        (EscrowStatus::Released, 0)
    );
    assert_eq!(
        h.submit(&payer, Action::EscrowRelease { escrow: id }),
        Err(TxError::EscrowWrongState {
            status: EscrowStatus::Released,
            required: "open"
        })
    );
}

#[test]
fn escrow_cannot_be_released_early() {
    let EscrowSetup {
        mut h, arbiter, id, ..
    } = escrow(true, 5, 20);
    let release_height = h.escrow(&id).release_height;
    assert_eq!(
        h.submit(&arbiter, Action::EscrowRelease { escrow: id }),
        Err(TxError::EscrowNotReleasable { release_height })
    );
    h.advance(5);
    h.submit(&arbiter, Action::EscrowRelease { escrow: id })
        .unwrap();
}

#[test]
fn disputed_escrow_is_split_by_its_arbiter() {
    let EscrowSetup {
        mut h,
        payer,
        payee,
        arbiter,
        id,
    } = escrow(true, 0, 20);
    h.submit(&payee, Action::EscrowDispute { escrow: id })
        .unwrap();
    let refundable_from = h.escrow(&id).expiry_height + 100;
    assert_eq!(
        h.submit(&payer, Action::EscrowRefund { escrow: id }),
        Err(TxError::EscrowNotExpired {
            expiry_height: refundable_from
        })
    );
    assert!(matches!(
        h.submit(
            &payer,
            Action::EscrowResolve {
                escrow: id,
                to_payee: 500,
                to_payer: 500
            }
        ),
        Err(TxError::NotAuthorized(_))
    ));
    assert_eq!(
        h.submit(
            &arbiter,
            Action::EscrowResolve {
                escrow: id,
                to_payee: 600,
                to_payer: 500
            }
        ),
        Err(TxError::ResolutionMismatch {
            split: 1_100,
            held: 1_000
        })
    );
    h.submit(
        &arbiter,
        Action::EscrowResolve {
            escrow: id,
            to_payee: 700,
            to_payer: 300,
        },
    )
    .unwrap();
    assert_eq!(h.passport(&payee.id).balance, 1_000_700);
    assert_eq!(h.passport(&payer.id).balance, 999_300);
    assert_eq!(h.escrow(&id).status, EscrowStatus::Resolved);
}

#[test]
fn escrow_without_arbiter_cannot_be_disputed_and_refunds_after_expiry() {
    let EscrowSetup {
        mut h,
        payer,
        payee,
        id,
        ..
    } = escrow(false, 0, 5);
    assert_eq!(
        h.submit(&payee, Action::EscrowDispute { escrow: id }),
        Err(TxError::EscrowHasNoArbiter)
    );
    let expiry_height = h.escrow(&id).expiry_height;
    assert_eq!(
        h.submit(&payer, Action::EscrowRefund { escrow: id }),
        Err(TxError::EscrowNotExpired { expiry_height })
    );
    h.advance(5);
    let outsider = h.cell.member(3).clone();
    assert!(matches!(
        h.submit(&outsider, Action::EscrowRefund { escrow: id }),
        Err(TxError::NotAuthorized(_))
    ));
    // Any party may trigger the refund; the money can only go back to the payer.
    h.submit(&payee, Action::EscrowRefund { escrow: id })
        .unwrap();
    assert_eq!(h.passport(&payer.id).balance, 1_000_000);
    assert_eq!(h.passport(&payee.id).balance, 1_000_000);
    assert_eq!(h.escrow(&id).status, EscrowStatus::Refunded);
}

#[test]
fn expired_escrow_can_no_longer_be_disputed() {
    let EscrowSetup {
        mut h, payee, id, ..
    } = escrow(true, 0, 3);
    h.advance(3);
    assert_eq!(
        h.submit(&payee, Action::EscrowDispute { escrow: id }),
        Err(TxError::EscrowWrongState {
            status: EscrowStatus::Open,
            required: "open and not expired"
        })
    );
}

#[test]
fn disputed_escrow_returns_to_the_payer_when_its_arbiter_never_acts() {
    let EscrowSetup {
        mut h,
        payer,
        payee,
        id,
        ..
    } = escrow(true, 0, 5);
    h.submit(&payee, Action::EscrowDispute { escrow: id })
        .unwrap();
    let refundable_from = h.escrow(&id).expiry_height + 100;
    h.advance(refundable_from - 2 - h.height());
    assert_eq!(
        h.submit(&payer, Action::EscrowRefund { escrow: id }),
        Err(TxError::EscrowNotExpired {
            expiry_height: refundable_from
        })
    );
    h.submit(&payer, Action::EscrowRefund { escrow: id })
        .unwrap();
    assert_eq!(h.passport(&payer.id).balance, 1_000_000);
}

#[test]
fn escrow_cannot_be_disputed_once_its_arbiter_is_gone() {
    let EscrowSetup {
        mut h,
        payee,
        arbiter,
        id,
        ..
    } = escrow(true, 0, 50);
    h.submit(&arbiter, Action::Unbond { amount: 100 }).unwrap();
    h.advance(10);
    h.submit(&arbiter, Action::Withdraw).unwrap();
    h.submit(&arbiter, Action::Exit).unwrap();
    assert_eq!(
        h.submit(&payee, Action::EscrowDispute { escrow: id }),
        Err(TxError::PassportNotActive {
            passport: arbiter.id,
            status: PassportStatus::Exited
        })
    );
}

#[test]
fn escrow_creation_rejections() {
    let mut h = Harness::new();
    let (payer, payee) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let create = |amount, release_height, expiry_height| Action::EscrowCreate {
        payee: payee.id,
        amount,
        arbiter: None,
        release_height,
        expiry_height,
    };
    assert_eq!(h.submit(&payer, create(0, 1, 9)), Err(TxError::ZeroAmount));
    assert!(matches!(
        h.submit(&payer, create(10, 1, 1)),
        Err(TxError::InvalidEscrowHeights { .. })
    ));
    assert!(matches!(
        h.submit(&payer, create(10, 30, 20)),
        Err(TxError::InvalidEscrowHeights { .. })
    ));
    assert!(matches!(
        h.submit(&payer, create(5_000_000, 1, 50)),
        Err(TxError::InsufficientBalance { .. })
    ));
    let unknown = EscrowId([8; 32]);
    assert_eq!(
        h.submit(&payer, Action::EscrowRelease { escrow: unknown }),
        Err(TxError::UnknownEscrow(unknown))
    );
}

// ---- sanctions ------------------------------------------------------------------------------

#[test]
fn suspension_by_ruling_stops_the_subject_and_reaches_its_sponsor() {
    let mut h = Harness::new();
    let sponsor = h.cell.member(0).clone();
    let suspended = h.issue(&sponsor, 6, 1);
    let subject = suspended.id;
    let case = CaseId([7; 32]);
    let ruling = Ruling::Sanction {
        subject,
        kind: SanctionKind::Suspension,
        liability: 25,
    };
    let approvals = h.cell.approve_ruling(case, ruling, &[0, 1, 2]);
    let action = Action::Sanction {
        subject,
        kind: SanctionKind::Suspension,
        liability: 25,
        case,
        approvals,
    };
    h.submit(&sponsor, action.clone()).unwrap();
    assert_eq!(h.passport(&subject).status, PassportStatus::Suspended);
    assert_eq!(h.passport(&sponsor.id).liabilities, 25);
    assert_eq!(h.passport(&sponsor.id).status, PassportStatus::Active);
    assert_eq!(
        h.submit(&sponsor, action),
        Err(TxError::EvidenceAlreadyUsed)
    );
    assert_eq!(
        h.submit(&suspended, Action::Exit),
        Err(TxError::PassportNotActive {
            passport: subject,
            status: PassportStatus::Suspended
        })
    );
}

#[test]
fn sanction_cannot_slash() {
    let mut h = Harness::new();
    let alice = h.cell.member(0).clone();
    let case = CaseId([8; 32]);
    let approvals = h.cell.approve_ruling(
        case,
        Ruling::Sanction {
            subject: alice.id,
            kind: SanctionKind::Slashed,
            liability: 1,
        },
        &[0, 1],
    );
    assert!(matches!(
        h.submit(
            &alice,
            Action::Sanction {
                subject: alice.id,
                kind: SanctionKind::Slashed,
                liability: 1,
                case,
                approvals
            }
        ),
        Err(TxError::NotAuthorized(_))
    ));
}

// ---- cell modes -----------------------------------------------------------------------------

#[test]
fn mode_change_needs_more_than_two_thirds_of_validator_power() {
    let mut h = Harness::new();
    let validator = h.cell.validator(0).clone();
    let expires_at = Some(h.height() + 50);
    let approvals = h.approve_mode(CellMode::Safe, expires_at, &[0, 1]);
    assert_eq!(
        h.submit(
            &validator,
            Action::SetCellMode {
                mode: CellMode::Safe,
                expires_at,
                approvals
            }
        ),
        Err(TxError::InsufficientValidatorPower {
            approved: 20_000,
            total: 40_000
        })
    );
    let approvals = h.approve_mode(CellMode::Safe, expires_at, &[0, 1, 2]);
    let action = Action::SetCellMode {
        mode: CellMode::Safe,
        expires_at,
        approvals,
    };
    h.submit(&validator, action.clone()).unwrap();
    assert_eq!(
        h.mode(),
        CellModeState {
            mode: CellMode::Safe,
            expires_at,
            sequence: 1
        }
    );
    // The same approvals sign sequence 0 and are spent.
    assert_eq!(
        h.submit(&validator, action),
        Err(TxError::InvalidApprovals(
            "a validator signature does not verify"
        ))
    );
}

#[test]
fn mode_change_rejections() {
    let mut h = Harness::new();
    let (validator, member) = (h.cell.validator(0).clone(), h.cell.member(0).clone());
    let approvals = h.approve_mode(CellMode::Normal, Some(9), &[0, 1, 2]);
    assert!(matches!(
        h.submit(
            &validator,
            Action::SetCellMode {
                mode: CellMode::Normal,
                expires_at: Some(9),
                approvals
            }
        ),
        Err(TxError::InvalidModeChange(_))
    ));
    let approvals = h.approve_mode(CellMode::Lockdown, None, &[0, 1, 2]);
    assert!(matches!(
        h.submit(
            &validator,
            Action::SetCellMode {
                mode: CellMode::Lockdown,
                expires_at: None,
                approvals
            }
        ),
        Err(TxError::InvalidModeChange(_))
    ));
    let mut approvals = h.approve_mode(CellMode::Safe, Some(50), &[0, 1, 2]);
    approvals[2].validator = member.id;
    assert!(matches!(
        h.submit(
            &validator,
            Action::SetCellMode {
                mode: CellMode::Safe,
                expires_at: Some(50),
                approvals
            }
        ),
        Err(TxError::NotAuthorized(_))
    ));
    let approvals = h.approve_mode(CellMode::Safe, Some(50), &[0, 1, 1]);
    assert_eq!(
        h.submit(
            &validator,
            Action::SetCellMode {
                mode: CellMode::Safe,
                expires_at: Some(50),
                approvals
            }
        ),
        Err(TxError::InvalidApprovals(
            "two approvals from one validator"
        ))
    );
}

#[test]
fn validators_rule_once_on_a_remote_cells_equivocation_to_lift_the_bridge_lockdown() {
    let mut h = Harness::new();
    let validator = h.cell.validator(0).clone();
    let (remote, epoch, keep) = (CellId(7), 3, CheckpointId([0xab; 32]));
    let lift = |approvals| Action::LiftBridgeLockdown {
        remote,
        epoch,
        keep,
        approvals,
    };
    let key = StateKey::BridgeRuling { remote, epoch };

    // Two of four validators are not more than 2/3 of the power.
    let approvals = h.cell.approve_bridge_ruling(remote, epoch, keep, &[0, 1]);
    assert!(matches!(
        h.submit(&validator, lift(approvals)),
        Err(TxError::InsufficientValidatorPower { .. })
    ));
    // Approvals of another checkpoint do not verify for this one.
    let approvals =
        h.cell
            .approve_bridge_ruling(remote, epoch, CheckpointId([0xcd; 32]), &[0, 1, 2]);
    assert_eq!(
        h.submit(&validator, lift(approvals)),
        Err(TxError::InvalidApprovals(
            "a validator signature does not verify"
        ))
    );
    // A cell has no bridge to itself.
    let own = h.cell.genesis.cell;
    let approvals = h.cell.approve_bridge_ruling(own, epoch, keep, &[0, 1, 2]);
    assert_eq!(
        h.submit(
            &validator,
            Action::LiftBridgeLockdown {
                remote: own,
                epoch,
                keep,
                approvals
            }
        ),
        Err(TxError::InvalidBridgeRuling(
            "a cell has no bridge to itself"
        ))
    );
    assert_eq!(h.ledger.get::<BridgeRuling>(&key).unwrap(), None);

    let approvals = h
        .cell
        .approve_bridge_ruling(remote, epoch, keep, &[0, 1, 2]);
    h.submit(&validator, lift(approvals.clone())).unwrap();
    assert_eq!(
        h.ledger.get::<BridgeRuling>(&key).unwrap(),
        Some(BridgeRuling {
            remote,
            epoch,
            keep,
            decided_at: h.height()
        })
    );
    // One ruling per cell and epoch: neither a replay nor a change of mind.
    assert_eq!(
        h.submit(&validator, lift(approvals)),
        Err(TxError::InvalidBridgeRuling(
            "that epoch of that cell is already ruled on"
        ))
    );
}

#[test]
fn safe_mode_sends_large_transfers_through_escrow_and_stops_high_tiers() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let expiry = h.height() + 100;
    h.set_mode(CellMode::Safe, Some(expiry));
    assert_eq!(
        h.submit(&alice, transfer(bob.id, 1_001)),
        Err(TxError::ModeForbids {
            mode: CellMode::Safe,
            action: transaction::ActionKind::Transfer
        })
    );
    h.submit(&alice, transfer(bob.id, 1_000)).unwrap();
    // A large payment must be an escrow with an arbiter that cannot be released at once.
    let height = h.height() + 1;
    let escrow = |arbiter, release_height| Action::EscrowCreate {
        payee: bob.id,
        amount: 5_000,
        arbiter,
        release_height,
        expiry_height: height + 50,
    };
    let arbiter = Some(h.cell.arbiter(0).id);
    for (arbiter, release_height) in [(None, height + 10), (arbiter, height + 9)] {
        assert!(matches!(
            h.submit(&alice, escrow(arbiter, release_height)),
            Err(TxError::ModeForbids { .. })
        ));
    }
    h.submit(&alice, escrow(arbiter, h.height() + 11)).unwrap();
    let validator = h.cell.validator(0).clone();
    assert!(matches!(
        h.submit(
            &validator,
            Action::IssuePassport {
                controller_keys: vec![keypair(1).public_key()],
                tier: 3
            }
        ),
        Err(TxError::ModeForbids { .. })
    ));
    assert!(matches!(
        h.submit(
            &alice,
            Action::ForkPassport {
                controller_keys: vec![keypair(2).public_key()]
            }
        ),
        Err(TxError::ModeForbids { .. })
    ));
}

#[test]
fn lockdown_accepts_only_reattestation_and_proofs_then_lapses() {
    let mut h = Harness::new();
    let (alice, bob) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let expiry = h.height() + 5;
    h.set_mode(CellMode::Lockdown, Some(expiry));
    assert!(matches!(
        h.submit(&alice, transfer(bob.id, 1)),
        Err(TxError::ModeForbids { .. })
    ));
    assert!(matches!(
        h.submit(&alice, Action::Bond { amount: 1 }),
        Err(TxError::ModeForbids { .. })
    ));
    h.submit(
        &alice,
        Action::RotateKeys {
            subject: alice.id,
            new_keys: vec![alice.key.public_key()],
            consent: Consent::Subject,
        },
    )
    .unwrap();
    h.advance(expiry - h.height());
    assert_eq!(h.mode().mode, CellMode::Normal);
    h.submit(&alice, transfer(bob.id, 1)).unwrap();
}

#[test]
fn elevated_and_recovery_modes_gate_their_kinds() {
    let mut h = Harness::new();
    let alice = h.cell.member(0).clone();
    let expiry = h.height() + 100;
    h.set_mode(CellMode::Elevated, Some(expiry));
    assert!(matches!(
        h.submit(
            &alice,
            Action::ForkPassport {
                controller_keys: vec![keypair(2).public_key()]
            }
        ),
        Err(TxError::ModeForbids { .. })
    ));
    h.submit(&alice, Action::Bond { amount: 1 }).unwrap();
    h.set_mode(CellMode::Recovery, Some(expiry));
    assert!(matches!(
        h.submit(&alice, Action::Bond { amount: 1 }),
        Err(TxError::ModeForbids { .. })
    ));
    h.submit(&alice, Action::Unbond { amount: 1 }).unwrap();
    h.set_mode(CellMode::Normal, None);
    h.submit(&alice, Action::Bond { amount: 1 }).unwrap();
}

// ---- limits added after review ----------------------------------------------------------------

#[test]
fn a_ruling_cannot_use_up_the_case_of_a_double_vote() {
    let mut h = Harness::new();
    let reporter = h.cell.member(0).clone();
    let evidence = DoubleVote {
        first: h.vote(1, 7, 0, Some([1; 32])),
        second: h.vote(1, 7, 0, Some([2; 32])),
    };
    let case = CaseId(evidence.offence_id());
    let subject = h.cell.validator(1).id;
    let approvals = h.cell.approve_ruling(
        case,
        Ruling::Sanction {
            subject,
            kind: SanctionKind::Warning,
            liability: 0,
        },
        &[0, 1],
    );
    h.submit(
        &reporter,
        Action::Sanction {
            subject,
            kind: SanctionKind::Warning,
            liability: 0,
            case,
            approvals,
        },
    )
    .unwrap();
    h.submit(
        &reporter,
        Action::Slash {
            evidence: SlashEvidence::DoubleVote(Box::new(evidence)),
        },
    )
    .unwrap();
    assert_eq!(h.bond(&subject).bonded, 5_000);
}

#[test]
fn stake_bonded_this_epoch_has_no_say_in_mode_changes() {
    let mut h = Harness::new();
    let whale = h.cell.member(0).clone();
    h.submit(&whale, Action::Bond { amount: 900_000 }).unwrap();
    h.submit(&whale, registration(&h, whale.id, 60)).unwrap();
    let expires_at = Some(h.height() + 50);
    let terms = ModeChangeTerms {
        federation: h.cell.genesis.federation,
        cell: h.cell.genesis.cell,
        sequence: 0,
        mode: CellMode::Lockdown,
        expires_at,
    };
    let approvals = vec![ValidatorApproval {
        validator: whale.id,
        signature: keypair(60).sign(&terms.signing_bytes()),
    }];
    assert!(matches!(
        h.submit(
            &whale,
            Action::SetCellMode {
                mode: CellMode::Lockdown,
                expires_at,
                approvals
            }
        ),
        Err(TxError::NotAuthorized(_))
    ));
}

#[test]
fn emergency_modes_cannot_outlast_the_longest_window() {
    let mut h = Harness::new();
    let validator = h.cell.validator(0).clone();
    let too_late = Some(h.height() + 1 + 1_001);
    let approvals = h.approve_mode(CellMode::Lockdown, too_late, &[0, 1, 2]);
    assert!(matches!(
        h.submit(
            &validator,
            Action::SetCellMode {
                mode: CellMode::Lockdown,
                expires_at: too_late,
                approvals
            }
        ),
        Err(TxError::InvalidModeChange(_))
    ));
    h.set_mode(CellMode::Lockdown, Some(h.height() + 1 + 1_000));
}

#[test]
fn suspension_reaches_the_forks_so_a_fork_is_no_way_out() {
    let mut h = Harness::new();
    let parent = h.cell.member(0).clone();
    let fork = h.fork(&parent, 3).id;
    let case = CaseId([11; 32]);
    let ruling = Ruling::Sanction {
        subject: parent.id,
        kind: SanctionKind::Suspension,
        liability: 0,
    };
    let approvals = h.cell.approve_ruling(case, ruling, &[0, 1]);
    let member = h.cell.member(1).clone();
    h.submit(
        &member,
        Action::Sanction {
            subject: parent.id,
            kind: SanctionKind::Suspension,
            liability: 0,
            case,
            approvals,
        },
    )
    .unwrap();
    assert_eq!(h.passport(&fork).status, PassportStatus::Suspended);
}

#[test]
fn forks_are_bounded_in_number_and_depth() {
    let mut h = Harness::new();
    let root = h.cell.member(0).clone();
    for seed in 0..8 {
        h.submit(
            &root,
            Action::ForkPassport {
                controller_keys: vec![keypair(100 + seed).public_key()],
            },
        )
        .unwrap();
    }
    assert!(matches!(
        h.submit(
            &root,
            Action::ForkPassport {
                controller_keys: vec![keypair(120).public_key()]
            }
        ),
        Err(TxError::ForkLimit(_))
    ));
    let mut current = h.cell.member(1).clone();
    for generation in 1..=4u8 {
        let child = h.fork(&current, 130 + generation);
        assert_eq!(h.passport(&child.id).generation, u32::from(generation));
        current = child;
    }
    assert!(matches!(
        h.submit(
            &current,
            Action::ForkPassport {
                controller_keys: vec![keypair(140).public_key()]
            }
        ),
        Err(TxError::ForkLimit(_))
    ));
}

#[test]
fn liabilities_saturate_instead_of_blocking_later_sanctions() {
    let mut h = Harness::new();
    let (subject, member) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    for (case, liability) in [(CaseId([12; 32]), u64::MAX), (CaseId([13; 32]), 5)] {
        let ruling = Ruling::Sanction {
            subject: subject.id,
            kind: SanctionKind::Warning,
            liability,
        };
        let approvals = h.cell.approve_ruling(case, ruling, &[0, 1]);
        h.submit(
            &member,
            Action::Sanction {
                subject: subject.id,
                kind: SanctionKind::Warning,
                liability,
                case,
                approvals,
            },
        )
        .unwrap();
    }
    assert_eq!(h.passport(&subject.id).liabilities, u64::MAX);
    assert_eq!(h.passport(&subject.id).sanctions.len(), 2);
}
