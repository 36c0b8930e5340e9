//! Runs the `charter` binary as a real process. The binary is the one built next to the test
//! executable (`scripts/test.sh` builds it before the tests), so tests exercise exactly what a
//! user runs.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `charter` binary of this build profile.
pub fn charter_binary() -> PathBuf {
    let test_executable = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = test_executable
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in <target>/<profile>/deps");
    let binary = profile_dir.join("charter");
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build --bin charter` (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// Runs `charter ARGS…` to completion.
pub fn charter(args: &[&str]) -> Output {
    Command::new(charter_binary())
        .args(args)
        .output()
        .expect("charter starts")
}
