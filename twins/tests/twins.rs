//! Twins schedules in CI: a hundred generated schedules keep every promise, and with the guard
//! taken off the validators' votes the same checks catch an honest validator signing two
//! different votes at one position. `charter-twins --schedules 10000` runs the long sweep.

use charter_twins::observer::Violation;
use charter_twins::{default_scratch, run_schedules, Options, Outcome};

fn run(first: u64, count: u64, options: &Options) -> Vec<Outcome> {
    run_schedules(first, count, 2, options, &default_scratch(), &|_| {})
}

#[test]
fn a_hundred_generated_schedules_keep_agreement_honest_signers_validity_and_liveness() {
    let outcomes = run(0, 100, &Options::default());
    let broken: Vec<String> = outcomes
        .iter()
        .flat_map(|outcome| {
            let seed = outcome.schedule.seed;
            outcome
                .violations
                .iter()
                .map(move |violation| format!("seed {seed}: {violation}"))
        })
        .collect();
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // The schedules did what they are for: twins equivocated, and the cell still committed.
    assert!(outcomes.iter().all(|outcome| outcome.highest_committed > 0));
    let equivocations: usize = outcomes.iter().map(|o| o.twin_equivocations).sum();
    assert!(equivocations > 0, "no twin ever equivocated");
}

/// The schedules in which the simulation found two defects of Malachite 0.5.0 with a twinned
/// proposer (`third_party/malachite/README.md`): a block decided beside another at one height,
/// and a node stopped by a panic. Both keep every promise with the patched crates.
#[test]
fn the_schedules_that_found_malachites_equivocating_proposer_defects_keep_every_promise() {
    for seed in [1_000_813, 1_000_844] {
        let outcome = &run(seed, 1, &Options::default())[0];
        assert!(
            outcome.violations.is_empty(),
            "seed {seed}: {:?}",
            outcome.violations
        );
    }
}

#[test]
fn without_the_guard_on_votes_the_checks_catch_an_honest_validator_signing_a_conflict() {
    let unguarded = Options {
        guard_votes: false,
        ..Options::default()
    };
    let outcomes = run(0, 40, &unguarded);
    let conflicts = outcomes
        .iter()
        .flat_map(|outcome| &outcome.violations)
        .filter(|violation| matches!(violation, Violation::HonestConflict { .. }))
        .count();
    assert!(
        conflicts > 0,
        "40 schedules without the guard found no conflicting vote"
    );
}
