//! A node's block stream (`GET /v1/blocks/stream`, server-sent events) read over a plain TCP
//! connection, one place for the cell-load and finality benchmarks that follow commits. They
//! need only each event's `data:` line, the block summary as JSON.

use anyhow::Result;
use std::io::{BufRead, BufReader, Lines, Write};
use std::net::TcpStream;

/// The `data:` payloads of the stream's events, in order; every other line (the response's
/// status line and headers, keep-alive comments, event names, blank lines) is passed over. It
/// ends when the node closes the connection.
pub struct BlockStream {
    lines: Lines<BufReader<TcpStream>>,
}

impl BlockStream {
    /// Subscribes to the stream of the node whose API is at `api` (`http://host:port`).
    pub fn connect(api: &str) -> Result<Self> {
        let address = api.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address)?;
        write!(
            stream,
            "GET /v1/blocks/stream HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )?;
        Ok(Self {
            lines: BufReader::new(stream).lines(),
        })
    }
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
