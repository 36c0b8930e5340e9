//! `charter localnet` as a user runs it: it starts a cell, reports progress, records its layout,
//! goes on reporting (and its agents on committing) when a validator is killed, follows it
//! when it is brought back, and on Ctrl-C
//! (SIGINT) stops every validator it started.

use charter_e2e::charter_binary;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn alive(pid: u64) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn localnet_reports_progress_through_a_killed_validator_and_stops_every_validator_on_interrupt() {
    let dir = tempfile::tempdir().unwrap();
    let mut localnet = Command::new(charter_binary())
        .args([
            "localnet",
            "--dir",
            dir.path().to_str().unwrap(),
            "--report-every",
            "2",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(localnet.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let progress = lines
        .find(|line| line.starts_with("height"))
        .expect("localnet reports progress");
    assert!(progress.contains("validators at"), "{progress}");

    let layout: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("localnet.json")).unwrap())
            .unwrap();
    let pids: Vec<u64> = layout["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 4);
    assert!(pids.iter().all(|pid| alive(*pid)));

    // Killing a validator, as a user does to see BFT at work: the other three go on, the
    // progress lines follow them and show the killed one down, and the agents (which read
    // from validator 0) go on committing through the others.
    let height_of =
        |line: &str| -> u64 { line.split_whitespace().nth(1).unwrap().parse().unwrap() };
    let before = height_of(&progress);
    Command::new("kill")
        .args(["-9", &pids[0].to_string()])
        .status()
        .unwrap();
    let after: Vec<String> = lines
        .by_ref()
        .filter(|line| line.starts_with("height") && line.contains("down/"))
        .take(3)
        .collect();
    assert_eq!(after.len(), 3, "progress goes on without validator 0");
    assert!(height_of(&after[2]) > before, "{after:?}");
    let committing = |line: &String| {
        let committed = line.split("agents committed").nth(1)?;
        committed.split_whitespace().next()?.parse::<u64>().ok()
    };
    let agents_go_on = (lines
        .by_ref()
        .filter(|line| line.starts_with("height"))
        .take(20))
    .any(|line| committing(&line).is_some_and(|committed| committed > 0));
    assert!(
        agents_go_on,
        "the agents commit through the validators still up"
    );

    // Bringing it back as the README says: the display reads each validator's own API, so it
    // follows the returned process (which the localnet did not start) until it is in step.
    let config = layout["nodes"][0]["config"].as_str().unwrap();
    let mut returned = Command::new(charter_binary())
        .args(["run", "--config", config])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // "height 212  validators at 212/212/212/212 …": validator 0 is before the first slash.
    let first_validator = |line: &str| -> String {
        let validators = line.split_whitespace().nth(4).unwrap_or_default();
        validators.split('/').next().unwrap_or_default().to_string()
    };
    let back = lines
        .by_ref()
        .filter(|line| line.starts_with("height"))
        .take(60)
        .find(|line| first_validator(line).parse::<u64>().is_ok());
    let back = back.expect("the returned validator is shown in step again");
    assert!(!back.contains("down"), "{back}");

    Command::new("kill")
        .args(["-INT", &returned.id().to_string()])
        .status()
        .unwrap();
    assert!(returned.wait().unwrap().success());
    Command::new("kill")
        .args(["-INT", &localnet.id().to_string()])
        .status()
        .unwrap();
    assert!(
        lines.any(|line| line.starts_with("stopped")),
        "localnet reports that it stopped"
    );
    assert!(localnet.wait().unwrap().success());
    assert!(
        pids.iter().all(|pid| !alive(*pid)),
        "every validator process has exited"
    );
}
