//! Governance processes on a dev cell: proposal, sponsorship, ballots in two chambers,
//! delegation, the tally and execution at deadlines, guardian vetoes, and each refusal.
//!
//! The dev cell's chambers: core = the 4 validators (tier 4), council = the 3 arbiters
//! (tier 3), members = the 8 members (tier 2). Its rules (`dev_governance_rules`): any core
//! member proposes alone; deliberation 5 blocks, voting 15, enactment 5.

mod common;

use charter_devnet::fixtures::{DevCellConfig, DevPassport};
use charter_ledger::governance::*;
use charter_ledger::state::*;
use charter_ledger::*;
use common::Harness;

/// A veto signed by guardians of another seed's cells: keys that are not this cell's.
fn forged_veto(h: &Harness, process: ProcessId, reason: &str, guardians: &[usize]) -> Action {
    let mut impostor = h.cell.clone();
    impostor.seed += 1;
    impostor.veto(process, reason, guardians)
}

fn process(h: &Harness, id: u64) -> Process {
    h.ledger
        .get(&StateKey::Process(ProcessId(id)))
        .unwrap()
        .expect("the process exists")
}

fn params(h: &Harness) -> CellParams {
    h.ledger
        .get::<CellInfo>(&StateKey::Cell)
        .unwrap()
        .unwrap()
        .params
}

/// Commits empty blocks until block `height` is the last committed.
fn advance_to(h: &mut Harness, height: u64) {
    while h.ledger.height().unwrap() < height {
        h.ledger.apply_block(&[]).unwrap();
    }
}

fn min_fee_to(value: u64) -> Proposal {
    Proposal::ParameterChange {
        parameter: Parameter::MinFee,
        value,
    }
}

fn propose(h: &mut Harness, proposer: &DevPassport, proposal: Proposal) -> Result<(), TxError> {
    h.submit(proposer, Action::Propose { proposal })
}

fn vote(h: &mut Harness, voter: &DevPassport, id: u64, choice: Choice) -> Result<(), TxError> {
    let action = Action::Vote {
        process: ProcessId(id),
        choice,
    };
    h.submit(voter, action)
}

/// Proposes from validator 0, has members 6 and 7 sponsor it if it needs them (a resolution
/// does), and waits for voting to open; returns the process's schedule.
fn open_for_voting(h: &mut Harness, proposal: Proposal) -> Schedule {
    let proposer = h.cell.validator(0).clone();
    let next: ProcessId = h
        .ledger
        .get(&StateKey::NextProcess)
        .unwrap()
        .unwrap_or(ProcessId(0));
    propose(h, &proposer, proposal).unwrap();
    for sponsor in [6, 7] {
        if process(h, next.0).status == ProcessStatus::Sponsoring {
            let sponsor = h.cell.member(sponsor).clone();
            let sponsoring = signed(h, &sponsor, Action::Sponsor { process: next });
            h.submit_tx(sponsoring).unwrap();
        }
    }
    let schedule = process(h, next.0).schedule.expect("sponsored");
    advance_to(h, schedule.voting_opens - 1);
    schedule
}

/// `yes` validators and `yes` members vote yes, the rest of the first `voters` vote no.
fn vote_in_both_chambers(h: &mut Harness, id: u64, voters: usize, yes: usize) {
    for index in 0..voters {
        let choice = if index < yes { Choice::Yes } else { Choice::No };
        let validator = h.cell.validator(index).clone();
        vote(h, &validator, id, choice).unwrap();
        let member = h.cell.member(index).clone();
        vote(h, &member, id, choice).unwrap();
    }
}

#[test]
fn a_parameter_change_passes_both_chambers_and_takes_effect_at_its_execution_height() {
    let mut h = Harness::new();
    let schedule = open_for_voting(&mut h, min_fee_to(3));
    assert_eq!(process(&h, 0).status, ProcessStatus::Open);
    vote_in_both_chambers(&mut h, 0, 3, 3);
    advance_to(&mut h, schedule.voting_closes);
    let tallied = process(&h, 0);
    assert_eq!(tallied.status, ProcessStatus::Passed);
    assert_eq!(tallied.rules_version, 1);
    let core = &tallied.tallies[0];
    assert_eq!(
        (core.chamber, core.eligible, core.yes, core.no),
        (0, 4, 3, 0)
    );
    let members = &tallied.tallies[1];
    assert_eq!((members.chamber, members.eligible, members.yes), (2, 8, 3));
    advance_to(&mut h, schedule.executes_at - 1);
    assert_eq!(params(&h).min_fee, 0, "not before its execution height");
    advance_to(&mut h, schedule.executes_at);
    assert_eq!(params(&h).min_fee, 3);
    let executed = process(&h, 0);
    assert_eq!(executed.status, ProcessStatus::Executed);
    assert_eq!(
        executed.history.last(),
        Some(&ProcessEvent::Executed {
            height: schedule.executes_at
        })
    );
}

#[test]
fn a_process_short_of_its_threshold_or_quorum_is_rejected_and_never_executes() {
    let mut h = Harness::new();
    let schedule = open_for_voting(&mut h, min_fee_to(3));
    // 2 of 3 yes is 6,666 bps, below the 6,667 a parameter change needs.
    vote_in_both_chambers(&mut h, 0, 3, 2);
    advance_to(&mut h, schedule.executes_at + 1);
    let rejected = process(&h, 0);
    assert_eq!(rejected.status, ProcessStatus::Rejected);
    assert!(!rejected.tallies[0].passed);
    assert_eq!(params(&h).min_fee, 0);

    let schedule = open_for_voting(&mut h, min_fee_to(4));
    let validators: Vec<_> = (0..4).map(|i| h.cell.validator(i).clone()).collect();
    for validator in &validators {
        vote(&mut h, validator, 1, Choice::Yes).unwrap();
    }
    advance_to(&mut h, schedule.executes_at + 1);
    let no_turnout = process(&h, 1);
    assert_eq!(no_turnout.status, ProcessStatus::Rejected);
    assert!(no_turnout.tallies[0].passed);
    assert!(!no_turnout.tallies[1].passed, "no member voted: no quorum");
    assert_eq!(params(&h).min_fee, 0);
}

#[test]
fn a_guardian_veto_stops_a_passed_process_and_forged_vetoes_are_refused() {
    let mut h = Harness::new();
    let schedule = open_for_voting(&mut h, min_fee_to(3));
    vote_in_both_chambers(&mut h, 0, 3, 3);
    advance_to(&mut h, schedule.voting_closes);
    assert_eq!(process(&h, 0).status, ProcessStatus::Passed);
    let relay = h.cell.member(5).clone();

    let one = h.cell.veto(ProcessId(0), "too fast", &[0]);
    let refused = h.submit(&relay, one);
    assert_eq!(
        refused,
        Err(TxError::InsufficientGuardianApprovals {
            approved: 1,
            threshold: 2
        })
    );
    let forged = forged_veto(&h, ProcessId(0), "too fast", &[0, 1]);
    assert_eq!(
        h.submit(&relay, forged),
        Err(TxError::InvalidVeto(
            "an approval's key is not a guardian's"
        ))
    );
    let Action::Veto { mut approvals, .. } = h.cell.veto(ProcessId(0), "too fast", &[0, 1]) else {
        unreachable!()
    };
    approvals[1].signature = approvals[0].signature;
    let bad_signature = Action::Veto {
        process: ProcessId(0),
        reason: "too fast".into(),
        approvals,
    };
    assert_eq!(
        h.submit(&relay, bad_signature),
        Err(TxError::InvalidVeto("a guardian signature does not verify"))
    );

    let veto = h.cell.veto(ProcessId(0), "too fast", &[0, 2]);
    h.submit(&relay, veto).unwrap();
    advance_to(&mut h, schedule.executes_at + 1);
    let vetoed = process(&h, 0);
    assert_eq!(vetoed.status, ProcessStatus::Vetoed);
    assert!(matches!(
        vetoed.history.last(),
        Some(ProcessEvent::Vetoed { reason, guardians, .. }) if reason == "too fast" && guardians.len() == 2
    ));
    assert_eq!(params(&h).min_fee, 0, "a vetoed process never executes");
    let again = h.cell.veto(ProcessId(0), "again", &[0, 1]);
    assert!(matches!(
        h.submit(&relay, again),
        Err(TxError::ProcessWrongState {
            status: ProcessStatus::Vetoed,
            ..
        })
    ));
}

#[test]
fn a_process_without_its_sponsors_expires_and_never_executes() {
    let mut config = DevCellConfig::default();
    let kind = &mut config.governance.kinds[ProcessKind::ParameterChange as usize];
    kind.sponsors = vec![SponsorRule {
        chamber: 1,
        share_bps: 5_000,
        minimum: 1,
    }];
    let mut h = Harness::with(config);
    let proposer = h.cell.arbiter(0).clone();
    propose(&mut h, &proposer, min_fee_to(3)).unwrap();
    let proposed = process(&h, 0);
    assert_eq!(
        proposed.status,
        ProcessStatus::Sponsoring,
        "half of 3, rounded up, is 2"
    );
    let member = h.cell.member(0).clone();
    let refused = h.submit(
        &member,
        Action::Sponsor {
            process: ProcessId(0),
        },
    );
    assert!(matches!(refused, Err(TxError::IneligibleSponsor(_))));
    let again = h.submit(
        &proposer,
        Action::Sponsor {
            process: ProcessId(0),
        },
    );
    assert!(matches!(again, Err(TxError::IneligibleSponsor(_))));
    advance_to(&mut h, proposed.sponsoring_closes());
    let expired = process(&h, 0);
    assert_eq!(expired.status, ProcessStatus::Expired);
    let late = h.cell.arbiter(1).clone();
    assert!(matches!(
        h.submit(
            &late,
            Action::Sponsor {
                process: ProcessId(0)
            }
        ),
        Err(TxError::ProcessWrongState { .. })
    ));

    propose(&mut h, &proposer, min_fee_to(3)).unwrap();
    h.submit(
        &late,
        Action::Sponsor {
            process: ProcessId(1),
        },
    )
    .unwrap();
    let sponsored = process(&h, 1);
    assert_eq!(sponsored.status, ProcessStatus::Open);
    assert_eq!(sponsored.sponsors, vec![proposer.id, late.id]);
}

#[test]
fn ballots_are_refused_outside_the_window_outside_the_chambers_and_when_repeated() {
    let mut h = Harness::new();
    let proposer = h.cell.validator(0).clone();
    propose(&mut h, &proposer, min_fee_to(3)).unwrap();
    let schedule = process(&h, 0).schedule.unwrap();
    let member = h.cell.member(0).clone();
    assert_eq!(
        vote(&mut h, &member, 0, Choice::Yes),
        Err(TxError::OutsideVotingWindow {
            process: ProcessId(0),
            opens: schedule.voting_opens,
            closes: schedule.voting_closes
        }),
        "deliberation comes first"
    );
    advance_to(&mut h, schedule.voting_opens - 1);
    vote(&mut h, &member, 0, Choice::Yes).unwrap();
    assert_eq!(
        vote(&mut h, &member, 0, Choice::Yes),
        Err(TxError::AlreadyVoted)
    );
    vote(&mut h, &member, 0, Choice::No).unwrap();
    let arbiter = h.cell.arbiter(0).clone();
    assert_eq!(
        vote(&mut h, &arbiter, 0, Choice::Yes),
        Err(TxError::NotInChamber),
        "the council does not vote on parameter changes"
    );
    assert_eq!(
        vote(&mut h, &member, 9, Choice::Yes),
        Err(TxError::UnknownProcess(ProcessId(9)))
    );
    advance_to(&mut h, schedule.voting_closes);
    assert!(matches!(
        vote(&mut h, &member, 0, Choice::Yes),
        Err(TxError::ProcessWrongState {
            status: ProcessStatus::Rejected,
            ..
        })
    ));
    let ballot: Ballot = (h.ledger)
        .get(&StateKey::Ballot {
            process: ProcessId(0),
            voter: member.id,
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        ballot.choice,
        Choice::No,
        "the later ballot replaced the first"
    );
}

#[test]
fn proposals_are_checked_against_bounds_sponsors_and_shape() {
    let mut h = Harness::new();
    let core = h.cell.validator(0).clone();
    let member = h.cell.member(0).clone();
    assert!(matches!(
        propose(&mut h, &member, min_fee_to(3)),
        Err(TxError::IneligibleSponsor(_))
    ));
    assert_eq!(
        propose(&mut h, &core, min_fee_to(1_000_001)),
        Err(TxError::ParameterOutOfBounds {
            parameter: Parameter::MinFee,
            value: 1_000_001,
            min: 0,
            max: 1_000_000
        })
    );
    let zero_slash_share = Proposal::ParameterChange {
        parameter: Parameter::DoubleVoteSlashBps,
        value: 0,
    };
    assert!(matches!(
        propose(&mut h, &core, zero_slash_share),
        Err(TxError::ParameterOutOfBounds { .. })
    ));
    let endless = Proposal::CellModeChange {
        mode: CellMode::Safe,
        duration: None,
    };
    assert!(matches!(
        propose(&mut h, &core, endless),
        Err(TxError::InvalidProposal(_))
    ));
    let tiers_election = Proposal::CouncilElection {
        chamber: 1,
        seats: vec![member.id],
    };
    assert!(matches!(
        propose(&mut h, &core, tiers_election),
        Err(TxError::InvalidProposal(_))
    ));
    let broken = GovernanceRules {
        max_delegation_depth: 0,
        ..GovernanceRules::default()
    };
    let rules_change = Proposal::RulesChange {
        rules: Box::new(broken),
    };
    assert!(matches!(
        propose(&mut h, &core, rules_change),
        Err(TxError::InvalidRules(_))
    ));
    let empty = Proposal::Resolution {
        text: String::new(),
    };
    assert!(matches!(
        propose(&mut h, &core, empty),
        Err(TxError::InvalidProposal(_))
    ));
    assert_eq!(
        h.ledger.get::<ProcessId>(&StateKey::NextProcess).unwrap(),
        None
    );
}

#[test]
fn delegated_weight_follows_the_delegates_ballot_and_cycles_are_refused() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..8).map(|i| h.cell.member(i).clone()).collect();
    let delegate = |h: &mut Harness, from: usize, to: usize| {
        h.submit(&members[from], Action::Delegate { to: members[to].id })
    };
    assert!(matches!(
        delegate(&mut h, 0, 0),
        Err(TxError::InvalidDelegation(_))
    ));
    // 1 → 0, 2 → 1, 3 → 2: a chain of three steps onto member 0.
    delegate(&mut h, 1, 0).unwrap();
    delegate(&mut h, 2, 1).unwrap();
    delegate(&mut h, 3, 2).unwrap();
    assert_eq!(
        delegate(&mut h, 0, 3),
        Err(TxError::DelegationCycle(members[3].id))
    );
    // 4 → 3 would make 4's chain 4 steps long, the limit; 5 → 4 then refused.
    delegate(&mut h, 4, 3).unwrap();
    assert_eq!(
        delegate(&mut h, 5, 4),
        Err(TxError::DelegationTooDeep(members[4].id))
    );
    h.submit(&members[4], Action::Undelegate).unwrap();
    assert!(matches!(
        h.submit(&members[4], Action::Undelegate),
        Err(TxError::InvalidDelegation(_))
    ));

    let schedule = open_for_voting(
        &mut h,
        Proposal::Resolution {
            text: "hello".into(),
        },
    );
    let validators: Vec<_> = (0..3).map(|i| h.cell.validator(i).clone()).collect();
    for validator in &validators {
        vote(&mut h, validator, 0, Choice::Yes).unwrap();
    }
    vote(&mut h, &members[0], 0, Choice::Yes).unwrap();
    // Member 2 votes itself; member 3, delegating to 2, follows it.
    vote(&mut h, &members[2], 0, Choice::No).unwrap();
    advance_to(&mut h, schedule.voting_closes);
    let members_tally = &process(&h, 0).tallies[1];
    assert_eq!(
        (members_tally.yes, members_tally.no, members_tally.eligible),
        (2, 2, 8),
        "members 0 and 1 yes; 2 and 3 no; 4 withdrew and did not vote"
    );
    assert!(
        !members_tally.passed,
        "2 yes of 4 is short of the 5,001 bps a resolution needs"
    );
}

#[test]
fn a_slash_ruling_executes_once_and_a_spent_case_makes_its_execution_fail_cleanly() {
    let mut h = Harness::new();
    let offender = h.cell.validator(3).id;
    let case = CaseId([5; 32]);
    let ruling = Proposal::SlashRuling {
        offender,
        amount: 400,
        case,
    };
    let schedule = open_for_voting(&mut h, ruling.clone());
    // While the process is pending its number is held: one arbiter cannot spend it on a jury
    // filing, nor another proposal take it.
    let arbiter = h.cell.arbiter(0).clone();
    let to_a_jury = Action::RequestSlashJury {
        offender,
        amount: 1,
        case,
    };
    assert_eq!(
        h.submit(&arbiter, to_a_jury.clone()),
        Err(TxError::CaseHeldByProcess(ProcessId(0)))
    );
    let proposer = h.cell.validator(1).clone();
    assert_eq!(
        propose(&mut h, &proposer, ruling.clone()),
        Err(TxError::CaseHeldByProcess(ProcessId(0)))
    );
    vote_in_both_chambers(&mut h, 0, 3, 3);
    advance_to(&mut h, schedule.executes_at);
    assert_eq!(process(&h, 0).status, ProcessStatus::Executed);
    assert_eq!(
        h.submit(&arbiter, to_a_jury),
        Err(TxError::EvidenceAlreadyUsed),
        "executed, the process spent it"
    );
    let bond: Bond = h.ledger.get(&StateKey::Bond(offender)).unwrap().unwrap();
    assert_eq!(bond.bonded, 10_000 - 400);

    // A second process on the same case passes its tally but cannot execute: the case is
    // spent by then. Nothing of it applies.
    let proposer = h.cell.validator(0).clone();
    assert!(matches!(
        propose(&mut h, &proposer, ruling),
        Err(TxError::EvidenceAlreadyUsed)
    ));
    let other_case = Proposal::SlashRuling {
        offender,
        amount: 400,
        case: CaseId([6; 32]),
    };
    let schedule = open_for_voting(&mut h, other_case);
    vote_in_both_chambers(&mut h, 1, 3, 3);
    let approvals = h.cell.approve_ruling(
        CaseId([6; 32]),
        charter_ledger::evidence::Ruling::Sanction {
            subject: offender,
            kind: SanctionKind::Warning,
            liability: 0,
        },
        &[0, 1],
    );
    let sanction = Action::Sanction {
        subject: offender,
        kind: SanctionKind::Warning,
        liability: 0,
        case: CaseId([6; 32]),
        approvals,
    };
    h.submit(&arbiter, sanction).unwrap();
    advance_to(&mut h, schedule.executes_at);
    let failed = process(&h, 1);
    assert_eq!(failed.status, ProcessStatus::Failed);
    assert_eq!(
        failed.history.last(),
        Some(&ProcessEvent::ExecutionFailed {
            height: schedule.executes_at,
            code: "evidence_already_used".into()
        })
    );
    let bond: Bond = h.ledger.get(&StateKey::Bond(offender)).unwrap().unwrap();
    assert_eq!(
        bond.bonded,
        10_000 - 400,
        "the failed ruling seized nothing"
    );
}

#[test]
fn a_council_election_replaces_the_seats_and_the_next_process_sees_them() {
    let mut config = DevCellConfig::default();
    let council = &mut config.governance.chambers[1];
    council.membership = Membership::Seats(vec![PassportId::genesis(CellId(0), 4)]);
    let mut h = Harness::with(config);
    let elected = vec![h.cell.arbiter(1).id, h.cell.arbiter(2).id];
    let election = Proposal::CouncilElection {
        chamber: 1,
        seats: elected.clone(),
    };
    let schedule = open_for_voting(&mut h, election);
    vote_in_both_chambers(&mut h, 0, 3, 3);
    advance_to(&mut h, schedule.executes_at);
    let rules: GovernanceRules = h.ledger.get(&StateKey::GovernanceRules).unwrap().unwrap();
    assert_eq!(rules.version, 2);
    assert_eq!(rules.chambers[1].membership, Membership::Seats(elected));

    let schedule = open_for_voting(
        &mut h,
        Proposal::RulesChange {
            rules: Box::new(rules.clone()),
        },
    );
    let replaced = h.cell.arbiter(0).clone();
    assert_eq!(
        vote(&mut h, &replaced, 1, Choice::Yes),
        Err(TxError::NotInChamber)
    );
    let seated = h.cell.arbiter(1).clone();
    vote(&mut h, &seated, 1, Choice::Yes).unwrap();
    assert_eq!(process(&h, 1).rules_version, 2);
    advance_to(&mut h, schedule.voting_closes);
    let council_tally = &process(&h, 1).tallies[1];
    assert_eq!((council_tally.eligible, council_tally.yes), (2, 1));
}

#[test]
fn a_stake_weighted_chamber_weighs_ballots_by_bond() {
    let mut config = DevCellConfig::default();
    config.governance.chambers[0].weighting = Weighting::Stake;
    config.minor_validators = 1;
    let mut h = Harness::with(config);
    let schedule = open_for_voting(
        &mut h,
        Proposal::Resolution {
            text: "stake".into(),
        },
    );
    for (index, choice) in [(0, Choice::Yes), (3, Choice::No)] {
        let validator = h.cell.validator(index).clone();
        vote(&mut h, &validator, 0, choice).unwrap();
    }
    let bond = |h: &Harness, index: usize| -> u128 {
        let bond: Bond = (h.ledger)
            .get(&StateKey::Bond(h.cell.validator(index).id))
            .unwrap()
            .unwrap();
        u128::from(bond.bonded)
    };
    let (major, minor) = (bond(&h, 0), bond(&h, 3));
    assert!(major > minor);
    advance_to(&mut h, schedule.voting_closes);
    let core = &process(&h, 0).tallies[0];
    assert_eq!((core.yes, core.no), (major, minor));
    assert_eq!(core.eligible, 3 * major + minor);
}

#[test]
fn a_mode_change_process_ends_an_emergency_the_validators_declared() {
    let mut h = Harness::new();
    h.set_mode(CellMode::Lockdown, Some(900));
    let schedule = open_for_voting(
        &mut h,
        Proposal::CellModeChange {
            mode: CellMode::Normal,
            duration: None,
        },
    );
    for index in 0..3 {
        let validator = h.cell.validator(index).clone();
        vote(&mut h, &validator, 0, Choice::Yes).unwrap();
    }
    advance_to(&mut h, schedule.executes_at);
    let mode: CellModeState = h.ledger.get(&StateKey::CellMode).unwrap().unwrap();
    assert_eq!(
        (mode.mode, mode.expires_at, mode.sequence),
        (CellMode::Normal, None, 2)
    );
}

/// The passports that may vote on a resolution: the 4 validators (core), then the 8 members.
fn voters(h: &Harness) -> Vec<DevPassport> {
    let core = (0..4).map(|i| h.cell.validator(i).clone());
    core.chain((0..8).map(|i| h.cell.member(i).clone()))
        .collect()
}

fn signed(h: &Harness, sender: &DevPassport, action: Action) -> SignedTransaction {
    let passport: Passport = h
        .ledger
        .get(&StateKey::Passport(sender.id))
        .unwrap()
        .unwrap();
    h.cell.transaction(sender, passport.nonce, action)
}

/// Runs a resolution with the given delegations (member → member) and ballots, the ballots
/// in `order` in one block; returns the final root and the tallies.
fn run_resolution(
    delegations: &[(usize, usize)],
    ballots: &[(usize, Choice)],
    order: &[usize],
) -> (StateRoot, Vec<ChamberTally>) {
    let mut h = Harness::new();
    let all = voters(&h);
    let delegating: Vec<_> = (delegations.iter())
        .map(|(from, to)| signed(&h, &all[4 + from], Action::Delegate { to: all[4 + to].id }))
        .collect();
    h.ledger.apply_block(&delegating).unwrap();
    let schedule = open_for_voting(
        &mut h,
        Proposal::Resolution {
            text: "order".into(),
        },
    );
    let block: Vec<_> = (order.iter())
        .map(|&i| {
            let (voter, choice) = ballots[i];
            signed(
                &h,
                &all[voter],
                Action::Vote {
                    process: ProcessId(0),
                    choice,
                },
            )
        })
        .collect();
    let applied = h.ledger.apply_block(&block).unwrap();
    assert!(applied
        .receipts
        .iter()
        .all(|receipt| receipt.outcome.is_ok()));
    advance_to(&mut h, schedule.executes_at);
    let root = h.ledger.state_root(schedule.executes_at).unwrap();
    (root, process(&h, 0).tallies)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    #[test]
    fn tallies_and_roots_do_not_depend_on_the_order_of_ballots(
        choices in proptest::collection::vec(proptest::option::of(0u8..3), 12),
        targets in proptest::collection::vec(proptest::option::of(0usize..8), 8),
        shuffle in proptest::prelude::any::<u64>(),
    ) {
        let choice = |c: u8| [Choice::Yes, Choice::No, Choice::Abstain][usize::from(c)];
        let ballots: Vec<(usize, Choice)> = (choices.iter().enumerate())
            .filter_map(|(voter, c)| c.map(|c| (voter, choice(c))))
            .collect();
        // Delegations that point forward only, so none is refused as a cycle or too deep.
        let delegations: Vec<(usize, usize)> = (targets.iter().enumerate())
            .filter_map(|(from, to)| to.filter(|to| *to > from && *to - from <= 1).map(|to| (from, to)))
            .collect();
        let forward: Vec<usize> = (0..ballots.len()).collect();
        let mut shuffled = forward.clone();
        let mut state = shuffle | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let (root, tallies) = run_resolution(&delegations, &ballots, &forward);
        let (shuffled_root, shuffled_tallies) = run_resolution(&delegations, &ballots, &shuffled);
        proptest::prop_assert_eq!(root, shuffled_root);
        proptest::prop_assert_eq!(tallies, shuffled_tallies);
    }
}

#[test]
fn an_emergency_mode_set_by_a_process_holds_for_exactly_its_duration() {
    let mut h = Harness::new();
    let safe_for_three = Proposal::CellModeChange {
        mode: CellMode::Safe,
        duration: Some(3),
    };
    let schedule = open_for_voting(&mut h, safe_for_three);
    for index in 0..3 {
        let validator = h.cell.validator(index).clone();
        vote(&mut h, &validator, 0, Choice::Yes).unwrap();
    }
    let mode = |h: &Harness| {
        h.ledger
            .get::<CellModeState>(&StateKey::CellMode)
            .unwrap()
            .unwrap()
    };
    advance_to(&mut h, schedule.executes_at);
    assert_eq!(mode(&h).expires_at, Some(schedule.executes_at + 4));
    advance_to(&mut h, schedule.executes_at + 3);
    assert_eq!(
        mode(&h).mode,
        CellMode::Safe,
        "blocks +1, +2 and +3 are in the mode"
    );
    advance_to(&mut h, schedule.executes_at + 4);
    assert_eq!(mode(&h).mode, CellMode::Normal);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn a_parameter_proposal_is_admitted_exactly_when_its_value_is_within_bounds(
        which in 0usize..Parameter::ALL.len(),
        value in proptest::prop_oneof![0u64..2_000_000, proptest::prelude::any::<u64>()],
    ) {
        let parameter = Parameter::ALL[which];
        let mut h = Harness::new();
        let proposer = h.cell.validator(0).clone();
        let proposal = Proposal::ParameterChange { parameter, value };
        let admitted = propose(&mut h, &proposer, proposal);
        let (min, max) = parameter.bounds();
        if (min..=max).contains(&value) {
            proptest::prop_assert_eq!(admitted, Ok(()));
        } else {
            proptest::prop_assert_eq!(
                admitted,
                Err(TxError::ParameterOutOfBounds { parameter, value, min, max })
            );
        }
    }
}

#[test]
fn a_sponsor_is_taken_only_toward_a_rule_still_unmet() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..3).map(|i| h.cell.member(i).clone()).collect();
    let resolution = Proposal::Resolution {
        text: "members first".into(),
    };
    propose(&mut h, &members[0], resolution).unwrap();
    let sponsor = |h: &mut Harness, who: &DevPassport| {
        h.submit(
            who,
            Action::Sponsor {
                process: ProcessId(0),
            },
        )
    };
    sponsor(&mut h, &members[1]).unwrap();
    assert!(
        matches!(
            sponsor(&mut h, &members[2]),
            Err(TxError::IneligibleSponsor(_))
        ),
        "the members' two sponsors are there: a third would only take a place"
    );
    assert_eq!(
        process(&h, 0).status,
        ProcessStatus::Sponsoring,
        "the core's is missing"
    );
    let core = h.cell.validator(1).clone();
    sponsor(&mut h, &core).unwrap();
    let sponsored = process(&h, 0);
    assert_eq!(sponsored.status, ProcessStatus::Open);
    assert_eq!(
        sponsored.sponsors,
        vec![members[0].id, members[1].id, core.id]
    );
}

#[test]
fn an_election_proposed_under_older_rules_fails_rather_than_undo_a_newer_one() {
    let mut config = DevCellConfig::default();
    config.governance.chambers[1].membership =
        Membership::Seats(vec![PassportId::genesis(CellId(0), 4)]);
    let mut h = Harness::with(config);
    let election = |seat: usize| Proposal::CouncilElection {
        chamber: 1,
        seats: vec![PassportId::genesis(CellId(0), seat as u64)],
    };
    let proposer = h.cell.validator(0).clone();
    propose(&mut h, &proposer, election(5)).unwrap();
    let schedule = open_for_voting(&mut h, election(6));
    for id in [0, 1] {
        vote_in_both_chambers(&mut h, id, 3, 3);
    }
    advance_to(&mut h, schedule.executes_at);
    assert_eq!(process(&h, 0).status, ProcessStatus::Executed);
    let outdated = process(&h, 1);
    assert_eq!(outdated.status, ProcessStatus::Failed);
    assert_eq!(
        outdated.history.last(),
        Some(&ProcessEvent::ExecutionFailed {
            height: schedule.executes_at,
            code: "rules_outdated".into()
        })
    );
    let rules: GovernanceRules = h.ledger.get(&StateKey::GovernanceRules).unwrap().unwrap();
    let seat = PassportId::genesis(CellId(0), 5);
    assert_eq!(rules.chambers[1].membership, Membership::Seats(vec![seat]));
}

/// A rules change that shortens the jury periods cannot release a leaving juror's bond before
/// a case filed under the longer ones, whose pool holds it, has closed: its absence there can
/// still be charged.
#[test]
fn a_jurors_bond_stays_locked_until_every_open_case_closes_even_after_the_rules_shorten() {
    let mut h = Harness::new();
    for member in 2..6 {
        let juror = h.cell.member(member).clone();
        h.submit(&juror, Action::JoinJuryPool).unwrap();
    }
    let (payer, payee) = (h.cell.member(0).clone(), h.cell.member(1).clone());
    let escrow = h.disputed_escrow(&payer, &payee, 100);

    let current: GovernanceRules = h.ledger.get(&StateKey::GovernanceRules).unwrap().unwrap();
    let mut shorter = current.clone();
    shorter.juries.draw_delay = 1;
    shorter.juries.ruling_blocks = 1;
    let change = Proposal::RulesChange {
        rules: Box::new(shorter),
    };
    let schedule = open_for_voting(&mut h, change);
    for index in 0..3 {
        let voters = [
            h.cell.validator(index),
            h.cell.arbiter(index),
            h.cell.member(index),
        ];
        for voter in voters.map(Clone::clone) {
            vote(&mut h, &voter, 0, Choice::Yes).unwrap();
        }
    }
    advance_to(&mut h, schedule.executes_at - 2);
    h.submit(&payer, Action::RequestJury { escrow }).unwrap();
    let case: JuryCase = (h.ledger.get(&StateKey::JuryCase(JuryCaseId(0))))
        .unwrap()
        .unwrap();
    advance_to(&mut h, schedule.executes_at);
    assert_eq!(process(&h, 0).status, ProcessStatus::Executed);
    let leaving = h.cell.member(2).clone();
    assert!(case.pool.contains(&leaving.id));
    h.submit(&leaving, Action::LeaveJuryPool).unwrap();
    let juror: Juror = h.ledger.get(&StateKey::Juror(leaving.id)).unwrap().unwrap();
    assert!(
        h.height() + 3 < case.closes_at,
        "the new notice alone would release it first"
    );
    assert_eq!(juror.released_at, Some(case.closes_at + 1));
}
