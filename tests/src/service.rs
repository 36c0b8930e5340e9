//! A helper program a test talks to over HTTP (chromedriver, Prometheus), listening on a free
//! loopback port of the test's, and killed when the test is done with it.

use charter_devnet::localnet::free_port;
use std::process::{Child, Command, Stdio};

pub struct LocalService {
    process: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl LocalService {
    /// Starts `program` with the arguments `arguments` gives for its port.
    pub fn start(program: &str, arguments: impl FnOnce(u16) -> Vec<String>) -> Self {
        let port = free_port().expect("a free port");
        let process = Command::new(program)
            .args(arguments(port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("starting {program} (scripts/setup.sh installs it): {error}")
            });
        Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for LocalService {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
