//! The node's TOML configuration. Relative paths are relative to the configuration file.
//!
//! ```toml
//! moniker = "validator-0"
//! data_dir = "data"                      # store/ (state, blocks), engine/ (WAL, signer state),
//!                                        # federation/ (final certificates)
//! genesis = "genesis.json"
//! key_file = "keys/passport-0.json"      # from `charter dev-genesis` or `charter keygen --validator`
//! network_key_file = "network.key"       # optional: hex seed of the libp2p identity on both
//!                                        # networks; default: the consensus key's
//!
//! [consensus]
//! listen = "/ip4/127.0.0.1/tcp/27000"
//! peers = ["/ip4/127.0.0.1/tcp/27001", "/ip4/127.0.0.1/tcp/27002", "/ip4/127.0.0.1/tcp/27003"]
//!
//! [api]
//! listen = "127.0.0.1:8000"              # default 127.0.0.1:0: a free port, printed at start
//!
//! [gossip]                               # the transaction gossip mesh
//! listen = "/ip4/127.0.0.1/tcp/28000"    # default /ip4/127.0.0.1/tcp/0
//! peers = ["/ip4/127.0.0.1/tcp/28001/p2p/12D3KooW…"]   # each with its peer id
//!
//! [federation]                           # optional: this cell is one of a federation's
//! genesis = "../federation.json"         # from `charter federation-genesis`
//! follow = "all"                         # or [2, 7]: cells whose every certificate it takes;
//!                                        # default all up to 64 cells, else only its own
//!
//! [consensus.timeouts]                   # defaults, tuned for validators on one machine
//! propose_ms = 2000
//! prevote_ms = 500
//! precommit_ms = 500
//! delta_ms = 250                         # added per failed round at a height
//! idle_proposal_ms = 1500                # a proposer with no transactions waits this long first
//! ```

use charter_consensus::engine::Timeouts;
use charter_ledger::CellId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub moniker: String,
    pub data_dir: PathBuf,
    pub genesis: PathBuf,
    pub key_file: PathBuf,
    /// A 32-byte hex seed for this node's libp2p identity, when it is not the consensus key's.
    pub network_key_file: Option<PathBuf>,
    pub consensus: ConsensusSection,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub gossip: GossipSection,
    pub federation: Option<FederationSection>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSection {
    pub genesis: PathBuf,
    /// The cells whose every final certificate this node takes, besides its own: `"all"`, or
    /// a list of cell ids. Absent: all of them in a federation of up to
    /// [`FOLLOW_ALL_UP_TO`] cells, none beyond its own in a larger one. Of the others it takes
    /// only the certificates that hand over a new set.
    #[serde(default)]
    pub follow: Option<Follow>,
}

/// Federations of at most this many cells are followed whole by default.
pub const FOLLOW_ALL_UP_TO: usize = 64;

/// Which cells a node follows ([`FederationSection::follow`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Follow {
    Every(Every),
    Cells(Vec<CellId>),
}

/// The one keyword `follow` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    All,
}

/// `follow` names a cell the federation does not have.
#[derive(Debug, thiserror::Error)]
#[error("federation.follow names {0}, which is not a cell of the federation")]
pub struct UnknownFollowedCell(pub CellId);

impl FederationSection {
    /// The cells this node follows, of a federation of `cells`, its own cell `own` included.
    pub fn followed(
        &self,
        own: CellId,
        cells: &[CellId],
    ) -> Result<BTreeSet<CellId>, UnknownFollowedCell> {
        let everyone = || cells.iter().copied().collect::<BTreeSet<_>>();
        let mut followed = match &self.follow {
            Some(Follow::Every(Every::All)) => everyone(),
            Some(Follow::Cells(listed)) => listed.iter().copied().collect(),
            None if cells.len() <= FOLLOW_ALL_UP_TO => everyone(),
            None => BTreeSet::new(),
        };
        if let Some(unknown) = followed.iter().find(|cell| !cells.contains(cell)) {
            return Err(UnknownFollowedCell(*unknown));
        }
        followed.insert(own);
        Ok(followed)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GossipSection {
    pub listen: libp2p::Multiaddr,
    /// Peers to keep connected to, each ending in `/p2p/<peer id>` (the peer's consensus key
    /// is its mesh identity, so a peer is authenticated by the key the cell knows).
    #[serde(default)]
    pub peers: Vec<libp2p::Multiaddr>,
}

impl Default for GossipSection {
    fn default() -> Self {
        Self {
            listen: "/ip4/127.0.0.1/tcp/0".parse().expect("a valid multiaddr"),
            peers: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    pub listen: std::net::SocketAddr,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusSection {
    pub listen: libp2p::Multiaddr,
    #[serde(default)]
    pub peers: Vec<libp2p::Multiaddr>,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// With nothing committed for this long and fewer consensus peers connected than configured,
    /// the node starts afresh to dial them again (see `restart.rs`); 0 never does.
    #[serde(default = "default_restart_when_stalled_secs")]
    pub restart_when_stalled_secs: u64,
}

fn default_restart_when_stalled_secs() -> u64 {
    20
}

impl NodeConfig {
    /// The node's database: its ledger state, blocks and transaction outcomes.
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    /// The engine's home: its write-ahead log and the guarded signer's record.
    pub fn engine_home(&self) -> PathBuf {
        self.data_dir.join("engine")
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: NodeConfig =
            toml::from_str(&text).map_err(|source| ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let federation_genesis = config
            .federation
            .as_mut()
            .map(|federation| &mut federation.genesis);
        for file in [
            Some(&mut config.data_dir),
            Some(&mut config.genesis),
            Some(&mut config.key_file),
            config.network_key_file.as_mut(),
            federation_genesis,
        ]
        .into_iter()
        .flatten()
        {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(follow: &str) -> FederationSection {
        toml::from_str(&format!("genesis = \"federation.json\"\n{follow}")).unwrap()
    }

    fn cells(count: u32) -> Vec<CellId> {
        (0..count).map(CellId).collect()
    }

    fn ids(cells: &[u32]) -> BTreeSet<CellId> {
        cells.iter().copied().map(CellId).collect()
    }

    #[test]
    fn a_node_follows_small_federations_whole_and_in_large_ones_what_it_is_told() {
        let default = section("");
        assert_eq!(default.followed(CellId(2), &cells(64)).unwrap().len(), 64);
        assert_eq!(default.followed(CellId(2), &cells(65)).unwrap(), ids(&[2]));
        let all = section("follow = \"all\"");
        assert_eq!(all.followed(CellId(2), &cells(1_000)).unwrap().len(), 1_000);
        let listed = section("follow = [7, 9]");
        assert_eq!(
            listed.followed(CellId(2), &cells(10)).unwrap(),
            ids(&[2, 7, 9])
        );
        let none = section("follow = []");
        assert_eq!(none.followed(CellId(2), &cells(10)).unwrap(), ids(&[2]));
        assert!(toml::from_str::<FederationSection>("genesis = \"f\"\nfollow = \"some\"").is_err());
    }
}
