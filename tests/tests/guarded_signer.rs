//! The guarded signer inside real validator processes: killed between persisting a position and
//! signing it, a validator comes back without ever signing something else there; offered a
//! vote that conflicts with what it signed, or one from the past, it refuses and signs nothing.

use charter_e2e::{charter, Cell};
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

/// The highest position validator `node` signed, as `charter signer show` reports it.
fn mark(dir: &Path, node: usize) -> Value {
    let config = dir.join(format!("node-{node}.toml"));
    let out = charter(&["signer", "--config", config.to_str().unwrap(), "show"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asks validator `node`'s guarded signer to sign at `mark`'s position with `value`.
fn offer(dir: &Path, node: usize, mark: &Value, height: u64, value: &str) -> std::process::Output {
    let config = dir.join(format!("node-{node}.toml"));
    let step = mark["step"].as_str().unwrap().to_lowercase();
    charter(&[
        "signer",
        "--config",
        config.to_str().unwrap(),
        "sign",
        "--height",
        &height.to_string(),
        "--round",
        &mark["round"].to_string(),
        "--step",
        &step,
        "--value",
        value,
    ])
}

fn value_hex(mark: &Value) -> String {
    match mark["value"].as_array() {
        Some(bytes) => bytes
            .iter()
            .map(|byte| format!("{:02x}", byte.as_u64().unwrap()))
            .collect(),
        None => "nil".into(),
    }
}

/// A value other than the one in `mark`.
fn conflicting(mark: &Value) -> String {
    if value_hex(mark) == hex::encode([0xab; 32]) {
        hex::encode([0xcd; 32])
    } else {
        hex::encode([0xab; 32])
    }
}

fn assert_refused(out: &std::process::Output, why: &str) {
    assert!(
        !out.status.success(),
        "the signer signed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "no signature is printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(why), "{stderr}");
}

#[test]
fn a_validator_killed_between_persisting_and_signing_never_signs_anything_else_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::create(dir.path(), 4);
    for node in 0..3 {
        cell.start(node);
    }
    // Validator 3 aborts right after persisting its sixth position, before signing it.
    cell.start_with_faults(3, &["--crash-after-signer-persists", "6"]);
    let status = cell.wait_for_exit(3);
    assert_eq!(
        status.signal(),
        Some(6),
        "aborted at the injected crash: {status:?}"
    );

    // The position it persisted but never signed is guarded: anything else there is refused.
    let crashed_at = mark(dir.path(), 3);
    let height = crashed_at["height"].as_u64().unwrap();
    let refused = offer(
        dir.path(),
        3,
        &crashed_at,
        height,
        &conflicting(&crashed_at),
    );
    assert_refused(&refused, "conflicts with the signed");
    assert_eq!(mark(dir.path(), 3), crashed_at, "a refusal records nothing");

    // Restarted, it rejoins and follows the others, without stopping on a refusal (which
    // would abort it) — so nothing it signs conflicts with the record.
    cell.start(3);
    let others = (0..3).map(|node| cell.latest(node)).max().unwrap();
    cell.wait_for_height(3, others + 3);
    let after = mark(dir.path(), 3);
    assert!(after["height"].as_u64().unwrap() >= height);
}

#[test]
fn offered_a_conflicting_or_past_vote_the_guarded_signer_refuses_and_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::running(dir.path(), 4);
    let at = cell.latest(1);
    cell.wait_for_height(1, at + 2);
    cell.kill(1);

    let signed = mark(dir.path(), 1);
    let height = signed["height"].as_u64().unwrap();
    assert_refused(
        &offer(dir.path(), 1, &signed, height, &conflicting(&signed)),
        "conflicts with the signed",
    );
    assert_refused(
        &offer(dir.path(), 1, &signed, height - 1, &value_hex(&signed)),
        "already signed the later",
    );
    // The same value again is the same signature: what the engine asks after a restart.
    let again = offer(dir.path(), 1, &signed, height, &value_hex(&signed));
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(mark(dir.path(), 1), signed);

    cell.start(1);
    let others = [0, 2, 3]
        .iter()
        .map(|node| cell.latest(*node))
        .max()
        .unwrap();
    cell.wait_for_height(1, others + 2);
}
