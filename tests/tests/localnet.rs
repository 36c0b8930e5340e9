//! `charter localnet` as a user runs it: it starts a cell, reports progress, records its layout,
//! and on Ctrl-C (SIGINT) stops every validator it started.

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
fn localnet_starts_a_cell_reports_progress_and_stops_every_validator_on_interrupt() {
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
