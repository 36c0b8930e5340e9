//! A local cell: a dev genesis with its keys and one `charter run` configuration per
//! validator, each on its host address (127.0.0.1 unless a test gives every validator a network
//! namespace of its own) with ports picked at creation. Shared by `charter localnet` and
//! the end-to-end tests, so both run exactly the same cell.

use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// One validator of a local cell.
#[derive(Clone, Debug)]
pub struct LocalValidator {
    pub index: usize,
    pub config: PathBuf,
    pub log: PathBuf,
    pub consensus: String,
    /// The validator's HTTP API, `http://HOST:PORT`.
    pub api: String,
    /// Its transaction gossip address, ending in `/p2p/<peer id>`.
    pub gossip: String,
    /// Its libp2p identity on both networks (from its consensus key).
    pub peer_id: String,
}

/// A TCP port on 127.0.0.1 that was free when asked, for a validator started a moment later.
///
/// Chosen below the kernel's ephemeral range: a port the kernel hands out itself (binding port
/// 0) can be given, in between, to any process's outgoing connection, and the validator then
/// fails to listen. Ports are picked at random, so processes allocating side by side rarely
/// meet, and never twice by one process.
pub fn free_port() -> io::Result<u16> {
    use rand::Rng;
    use std::sync::Mutex;
    static HANDED_OUT: Mutex<std::collections::BTreeSet<u16>> =
        Mutex::new(std::collections::BTreeSet::new());
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let lowest = 10_000.min(ephemeral_from / 2);
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut random = rand::thread_rng();
    for _ in 0..1_000 {
        let port = random.gen_range(lowest..ephemeral_from);
        if !handed_out.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.insert(port);
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        "no free port below the ephemeral range",
    ))
}

/// A validator's libp2p identity (on the consensus network and the gossip mesh alike): the peer
/// id of its consensus key, read from its key file.
fn peer_id(dir: &Path, index: usize) -> io::Result<String> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let path = dir.join(format!("keys/passport-{index}.json"));
    let keys: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .map_err(|_| invalid("a key file is not JSON"))?;
    let seed = keys["validator"]["consensus_seed"]
        .as_str()
        .ok_or_else(|| invalid("a validator key file has no consensus seed"))?;
    let seed = hex::decode(seed).map_err(|_| invalid("a consensus seed is not hex"))?;
    network_peer_id(seed)
}

/// The libp2p peer id of the identity with this ed25519 seed.
pub fn network_peer_id(mut seed: Vec<u8>) -> io::Result<String> {
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut seed)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a seed is not an ed25519 key"))?;
    Ok(keypair.public().to_peer_id().to_string())
}

/// Picks ports for the validators of the dev genesis in `dir` (`genesis.json` and
/// `keys/passport-<i>.json`), validator `i` on `hosts[i]`; [`write_config`] then writes each one's
/// `node-<i>.toml`.
pub fn allocate(dir: &Path, hosts: &[Ipv4Addr]) -> io::Result<Vec<LocalValidator>> {
    (hosts.iter().enumerate())
        .map(|(index, host)| validator_on(dir, index, *host, peer_id(dir, index)?))
        .collect()
}

/// Node `index` of the cell in `dir`, listening on `host` at free ports under the libp2p identity
/// `peer_id`.
pub fn validator_on(
    dir: &Path,
    index: usize,
    host: Ipv4Addr,
    peer_id: String,
) -> io::Result<LocalValidator> {
    Ok(LocalValidator {
        index,
        config: dir.join(format!("node-{index}.toml")),
        log: dir.join(format!("node-{index}.log")),
        consensus: format!("/ip4/{host}/tcp/{}", free_port()?),
        api: format!("http://{host}:{}", free_port()?),
        gossip: format!("/ip4/{host}/tcp/{}/p2p/{peer_id}", free_port()?),
        peer_id,
    })
}

/// Every validator of a cell on loopback.
pub fn loopback(validators: usize) -> Vec<Ipv4Addr> {
    vec![Ipv4Addr::LOCALHOST; validators]
}

/// Writes `node`'s configuration: consensus with the rest of its `cell`, gossip with its cell
/// and the `federation`'s other nodes, and the federation genesis when there is one.
pub fn write_config(
    node: &LocalValidator,
    cell: &[LocalValidator],
    federation: &[LocalValidator],
    federation_genesis: Option<&str>,
) -> io::Result<()> {
    let quoted = |addresses: Vec<&str>| -> String {
        addresses
            .iter()
            .map(|address| format!("\"{address}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let others = cell.iter().filter(|other| other.index != node.index);
    let consensus_peers = quoted(
        others
            .clone()
            .map(|other| other.consensus.as_str())
            .collect(),
    );
    let gossip_peers = quoted(
        others
            .chain(federation)
            .map(|other| other.gossip.as_str())
            .collect(),
    );
    let gossip_listen = node
        .gossip
        .rsplit_once("/p2p/")
        .map_or(node.gossip.as_str(), |(address, _)| address);
    let api_listen = node.api.trim_start_matches("http://");
    let index = node.index;
    let mut config = format!(
        "moniker = \"validator-{index}\"\n\
         data_dir = \"data-{index}\"\n\
         genesis = \"genesis.json\"\n\
         key_file = \"keys/passport-{index}.json\"\n\
         \n\
         [consensus]\n\
         listen = \"{}\"\n\
         peers = [{consensus_peers}]\n\
         \n\
         [api]\n\
         listen = \"{api_listen}\"\n\
         \n\
         [gossip]\n\
         listen = \"{gossip_listen}\"\n\
         peers = [{gossip_peers}]\n",
        node.consensus,
    );
    if let Some(genesis) = federation_genesis {
        config.push_str(&format!("\n[federation]\ngenesis = \"{genesis}\"\n"));
    }
    std::fs::write(&node.config, config)
}

/// Writes `node-<i>.toml` for each validator of a lone cell in `dir`, validator `i` listening on
/// `hosts[i]` at its own free ports, with the others as peers.
pub fn write_configs(dir: &Path, hosts: &[Ipv4Addr]) -> io::Result<Vec<LocalValidator>> {
    let nodes = allocate(dir, hosts)?;
    for node in &nodes {
        write_config(node, &nodes, &[], None)?;
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
