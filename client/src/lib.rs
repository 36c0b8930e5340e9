//! A minimal HTTP/1.1 client for the node's API: enough for the command line, the demo workload
//! and the end-to-end tests, without a TLS stack (nodes serve plain HTTP on 127.0.0.1 or behind
//! an operator's proxy).

use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is not an http://host:port address")]
    InvalidAddress(String),
    #[error("talking to the API: {0}")]
    Io(#[from] io::Error),
    #[error("the API answered something that is not HTTP/1.1: {0}")]
    BadResponse(String),
    #[error("the API answered {status}: {body}")]
    Status { status: u16, body: String },
}

/// One node's API, by its `http://host:port` address.
#[derive(Clone, Debug)]
pub struct ApiClient {
    address: String,
    timeout: Duration,
}

impl ApiClient {
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let address = base
            .trim_end_matches('/')
            .strip_prefix("http://")
            .filter(|address| !address.is_empty() && !address.contains('/'))
            .ok_or_else(|| ClientError::InvalidAddress(base.to_string()))?;
        Ok(Self {
            address: address.to_string(),
            timeout: Duration::from_secs(90),
        })
    }

    /// One request; the status code and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut stream = TcpStream::connect(&self.address)?;
        stream.set_read_timeout(Some(self.timeout))?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.address,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let split = response
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .ok_or_else(|| ClientError::BadResponse("no end of headers".into()))?;
        let status = String::from_utf8_lossy(&response[..split])
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| ClientError::BadResponse("no status code".into()))?;
        Ok((status, response[split + 4..].to_vec()))
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
