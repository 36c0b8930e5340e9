//! A local cell: a dev genesis with its keys and one `charter run` configuration per
//! validator, all on 127.0.0.1 with ports picked at creation. Shared by `charter localnet` and
//! the end-to-end tests, so both run exactly the same cell.

use std::io;
use std::path::{Path, PathBuf};

/// One validator of a local cell.
#[derive(Clone, Debug)]
pub struct LocalValidator {
    pub index: usize,
    pub config: PathBuf,
    pub log: PathBuf,
    pub consensus: String,
    /// The validator's HTTP API, `http://127.0.0.1:PORT`.
    pub api: String,
}

/// A free TCP port on 127.0.0.1 at the time of asking.
pub fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Writes `node-<i>.toml` for each of `validators` validators of the dev genesis in `dir`
/// (`genesis.json` and `keys/passport-<i>.json`), each listening on its own free port with the
/// others as peers.
pub fn write_configs(dir: &Path, validators: usize) -> io::Result<Vec<LocalValidator>> {
    let addresses: Vec<String> = (0..validators)
        .map(|_| free_port().map(|port| format!("/ip4/127.0.0.1/tcp/{port}")))
        .collect::<io::Result<_>>()?;
    let mut nodes = Vec::with_capacity(validators);
    for index in 0..validators {
        let api_port = free_port()?;
        let peers: Vec<String> = addresses
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, address)| format!("\"{address}\""))
            .collect();
        let config = format!(
            "moniker = \"validator-{index}\"\n\
             data_dir = \"data-{index}\"\n\
             genesis = \"genesis.json\"\n\
             key_file = \"keys/passport-{index}.json\"\n\
             \n\
             [consensus]\n\
             listen = \"{}\"\n\
             peers = [{}]\n\
             \n\
             [api]\n\
             listen = \"127.0.0.1:{api_port}\"\n",
            addresses[index],
            peers.join(", ")
        );
        let path = dir.join(format!("node-{index}.toml"));
        std::fs::write(&path, config)?;
        nodes.push(LocalValidator {
            index,
            config: path,
            log: dir.join(format!("node-{index}.log")),
            consensus: addresses[index].clone(),
            api: format!("http://127.0.0.1:{api_port}"),
        });
    }
    Ok(nodes)
}

/// A block a validator process reported, parsed from its `committed …` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedLine {
    pub height: u64,
    pub block: String,
    pub root: String,
    pub transactions: usize,
}

impl CommittedLine {
    /// Parses `committed height=H block=B root=R transactions=T`, as `charter run` prints it.
    pub fn parse(line: &str) -> Option<Self> {
        let fields: std::collections::BTreeMap<&str, &str> = line
            .strip_prefix("committed ")?
            .split(' ')
            .filter_map(|field| field.split_once('='))
            .collect();
        Some(Self {
            height: fields.get("height")?.parse().ok()?,
            block: fields.get("block")?.to_string(),
            root: fields.get("root")?.to_string(),
            transactions: fields.get("transactions")?.parse().ok()?,
        })
    }
}
