//! `charter localnet` run as a user runs it, for tests that need a whole live cell or
//! federation with its agents: started in a directory of the test's, its layout read from
//! `localnet.json`, its output drained, and stopped with SIGINT (as Ctrl-C) when dropped.

use crate::charter_binary;
use charter_client::ApiClient;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a localnet may take to write its layout and start its validators.
const STARTS_WITHIN: Duration = Duration::from_secs(120);

pub struct RunningLocalnet {
    process: Child,
    dir: PathBuf,
    layout: Value,
}

impl RunningLocalnet {
    /// Starts `charter localnet --dir DIR` with `options`, and returns once every validator's
    /// API answers.
    pub fn start(dir: &Path, options: &[&str]) -> Self {
        let mut process = Command::new(charter_binary())
            .arg("localnet")
            .arg("--dir")
            .arg(dir)
            .args(options)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting charter localnet");
        let stdout = process.stdout.take().expect("stdout is piped");
        let (started, wait) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("layout in") {
                    let _ = started.send(());
                }
            }
        });
        let mut running = Self {
            process,
            dir: dir.to_path_buf(),
            layout: Value::Null,
        };
        wait.recv_timeout(STARTS_WITHIN)
            .expect("the localnet writes its layout");
        let layout = std::fs::read_to_string(dir.join("localnet.json")).expect("localnet.json");
        running.layout = serde_json::from_str(&layout).expect("localnet.json is JSON");
        for api in running.apis() {
            let api = ApiClient::new(&api).expect("an http address");
            running.await_until(STARTS_WITHIN, || api.get("/v1/status").ok());
        }
        running
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every validator's API address, cell by cell.
    pub fn apis(&self) -> Vec<String> {
        (self.layout["nodes"].as_array().into_iter().flatten())
            .filter_map(|node| node["api"].as_str().map(str::to_string))
            .collect()
    }

    /// The API of the first validator of `cell`.
    pub fn api_of_cell(&self, cell: u64) -> ApiClient {
        let node = (self.layout["nodes"].as_array().into_iter().flatten())
            .find(|node| node["cell"].as_u64() == Some(cell))
            .expect("the cell has validators");
        ApiClient::new(node["api"].as_str().expect("an API address")).expect("an http address")
    }

    /// Polls `check` every half second until it returns something, for at most `within`.
    pub fn await_until<T>(&self, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = check() {
                return found;
            }
            assert!(Instant::now() < deadline, "not reached within {within:?}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Waits until every cell has a final checkpoint of at least `epoch` on `api`.
    pub fn await_final_epochs(&self, api: &ApiClient, cells: usize, epoch: u64) {
        self.await_until(Duration::from_secs(180), || {
            let federation = api.get("/v1/federation").ok()?;
            let finals: Vec<u64> = (federation["cells"].as_array()?.iter())
                .filter_map(|cell| cell["latest_final_epoch"].as_u64())
                .filter(|final_epoch| *final_epoch >= epoch)
                .collect();
            (finals.len() == cells).then_some(())
        });
    }
}

impl Drop for RunningLocalnet {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.process.id().to_string()])
            .status();
        let _ = self.process.wait();
    }
}
