//! # charter-client
//!
//! A client of a Charter node's HTTP API, for the command line, the simulated agents, the
//! end-to-end tests and the benchmarks. Plain HTTP (nodes serve it on 127.0.0.1 or behind an
//! operator's proxy) through `ureq`, with connections kept alive between requests.

use serde_json::Value;
use std::io::{BufRead, BufReader, Lines, Read};
use std::time::Duration;

/// Longest wait for an answer: above the API's longest `?wait=` (60 s).
const READ_TIMEOUT: Duration = Duration::from_secs(90);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is not an http://host:port address")]
    InvalidAddress(String),
    #[error("talking to the API: {0}")]
    Transport(String),
    #[error("reading the API's answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the API answered {status}: {body}")]
    Status { status: u16, body: String },
}

/// One node's API, by its `http://host:port` address.
#[derive(Clone, Debug)]
pub struct ApiClient {
    base: String,
    agent: ureq::Agent,
}

impl ApiClient {
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/');
        let valid = base
            .strip_prefix("http://")
            .is_some_and(|address| !address.is_empty() && !address.contains('/'));
        if !valid {
            return Err(ClientError::InvalidAddress(base.to_string()));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout_read(READ_TIMEOUT)
            .build();
        Ok(Self {
            base: base.to_string(),
            agent,
        })
    }

    /// The same API with connecting and reading each bounded by `timeout`, for a caller that
    /// would rather hear "no answer" soon than wait for a slow node.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.agent = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout_read(timeout)
            .build();
        self
    }

    /// One request; the status code and the body, whatever the status.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let request = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Content-Type", "application/octet-stream");
        let response = match request.send_bytes(body) {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => {
                return Err(ClientError::Transport(transport.to_string()))
            }
        };
        let status = response.status();
        let mut bytes = Vec::new();
        response.into_reader().read_to_end(&mut bytes)?;
        Ok((status, bytes))
    }

    /// A request whose answer is JSON, with its status code.
    pub fn json(&self, method: &str, path: &str, body: &[u8]) -> Result<(u16, Value), ClientError> {
        let (status, body) = self.request(method, path, body)?;
        let value = serde_json::from_slice(&body).map_err(|_| ClientError::Status {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })?;
        Ok((status, value))
    }

    /// Submits encoded transactions in one request (`POST /v1/transactions/batch`); each
    /// answer in order: the admitted transaction's id, or the error code it was refused with.
    pub fn submit_batch(
        &self,
        transactions: &[Vec<u8>],
    ) -> Result<Vec<Result<String, String>>, ClientError> {
        let (status, answer) = self.json("POST", "/v1/transactions/batch", &batch(transactions))?;
        let results = match (status, answer["results"].as_array()) {
            (200, Some(results)) => results,
            _ => {
                let body = answer.to_string();
                return Err(ClientError::Status { status, body });
            }
        };
        let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
        Ok((results.iter())
            .map(|result| match result.get("id") {
                Some(id) => Ok(text(id)),
                None => Err(text(&result["error"])),
            })
            .collect())
    }

    /// A GET that must succeed with 200.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        match self.json("GET", path, b"")? {
            (200, value) => Ok(value),
            (status, value) => Err(ClientError::Status {
                status,
                body: value.to_string(),
            }),
        }
    }
}

/// The batch envelope: Borsh `Vec<Vec<u8>>`, a u32 little-endian count, then each transaction
/// as a u32 little-endian length and its bytes.
fn batch(transactions: &[Vec<u8>]) -> Vec<u8> {
    let length = |count: usize| u32::try_from(count).expect("a batch is far below 4 GiB");
    let mut body = length(transactions.len()).to_le_bytes().to_vec();
    for transaction in transactions {
        body.extend_from_slice(&length(transaction.len()).to_le_bytes());
        body.extend_from_slice(transaction);
    }
    body
}

/// The `data:` payloads of a node's block stream, in order — each a committed block's summary
/// as JSON text; every other line (keep-alive comments, event names, blank lines) is passed
/// over. It ends when the node closes the stream.
pub struct BlockStream {
    lines: Lines<BufReader<Box<dyn Read + Send + Sync>>>,
}

impl Iterator for BlockStream {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        self.lines.find_map(|line| match line {
            Ok(line) => line.strip_prefix("data: ").map(|data| Ok(data.to_string())),
            Err(error) => Some(Err(error)),
        })
    }
}

impl ApiClient {
    /// Subscribes to the node's stream of committed blocks (`GET /v1/blocks/stream`,
    /// server-sent events). No read timeout: blocks come at the cell's pace.
    pub fn block_stream(&self) -> Result<BlockStream, ClientError> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .build();
        let response = match agent.get(&format!("{}/v1/blocks/stream", self.base)).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                return Err(ClientError::Status {
                    status,
                    body: response.into_string().unwrap_or_default(),
                })
            }
            Err(ureq::Error::Transport(transport)) => {
                return Err(ClientError::Transport(transport.to_string()))
            }
        };
        let reader: Box<dyn Read + Send + Sync> = Box::new(response.into_reader());
        Ok(BlockStream {
            lines: BufReader::new(reader).lines(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_host_port_addresses_are_accepted() {
        for good in [
            "http://127.0.0.1:8000",
            "http://127.0.0.1:8000/",
            "http://node:1",
        ] {
            assert!(ApiClient::new(good).is_ok(), "{good}");
        }
        for bad in [
            "127.0.0.1:8000",
            "https://node:1",
            "http://",
            "http://node:1/v1",
        ] {
            assert!(
                matches!(ApiClient::new(bad), Err(ClientError::InvalidAddress(_))),
                "{bad}"
            );
        }
    }
}
