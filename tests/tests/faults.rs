//! The fault harness at CI size: a minute of SIGKILLs, crashes in the middle of a commit, a twin
//! validator and (where the machine has network namespaces) partitions under the agents' load of
//! every kind of transaction, in a cell federated with a second one that signs its checkpoints,
//! then the liveness checks, then the history checker over every node's data directory and
//! every validator's checkpoint signatures. `charter-faults --seconds N` runs the same for longer.
//! Then a short sweep: a few seeds of the same faults for half a minute each.

use charter_e2e::faults::{run, Fault, Plan};
use charter_e2e::sweep::sweep;

#[test]
fn crashes_and_twins_under_load_lose_nothing_acknowledged_and_the_twins_are_slashed() {
    let dir = tempfile::tempdir().unwrap();
    eprintln!("cell directory: {}", dir.path().display());
    let plan = Plan::everything(60, 11);
    let summary = run(dir.path(), &plan);
    println!("{summary}");
    assert!(
        summary.violations().is_empty(),
        "{:?}",
        summary.violations()
    );
    let mut kinds = vec![
        Fault::Kill,
        Fault::CrashDuringCommit,
        Fault::RestoreCopy,
        Fault::TwinKill,
    ];
    if summary.partitions_unavailable.is_none() {
        kinds.extend([Fault::Isolate, Fault::Split]);
    }
    for fault in kinds {
        assert!(
            summary.faults.contains_key(&fault),
            "no {fault:?} was injected"
        );
    }
    let checkpoints = summary
        .checkpoints
        .as_ref()
        .expect("the cell ran federated, so the checker read its checkpoints");
    assert!(
        checkpoints.honest_signatures > 0,
        "honest validators signed checkpoints"
    );
    assert!(
        summary.acknowledged > 0,
        "the load got transactions committed"
    );
    assert_eq!(
        summary.kinds_never_committed(),
        vec![],
        "every kind of transaction committed under the faults"
    );
    match &summary.partitions_unavailable {
        None => assert!(
            summary.heights_split.is_some() && summary.resume_after_heal.is_some(),
            "the cell was split and healed"
        ),
        Some(reason) => eprintln!("PARTITIONS SKIPPED on this machine: {reason}"),
    }
}

/// Seeds 1 to 3, half a minute of faults each (on until every kind has been injected once):
/// other schedules than the test above, each checked as above (nothing acknowledged lost or
/// committed twice, no conflicting heights, no stuck validator, the twins slashed, …). Without
/// the liveness checks, which the test above makes: about a minute a seed.
#[test]
fn a_sweep_of_short_seeds_breaks_no_promise() {
    let dir = tempfile::tempdir().unwrap();
    eprintln!("sweep directory: {}", dir.path().display());
    let plan = Plan {
        liveness: false,
        ..Plan::everything(30, 1)
    };
    let sweep = sweep(dir.path(), &plan, 1..=3, |run| match &run.outcome {
        Ok(summary) => println!("seed {}:\n{summary}", run.seed),
        Err(panic) => println!("seed {}: the harness panicked: {panic}", run.seed),
    });
    println!("{sweep}");
    assert!(!sweep.has_violations(), "{sweep}");
}
