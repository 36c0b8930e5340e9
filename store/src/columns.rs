//! The column families of a node's database and their key and value layouts. Integers in keys
//! are big-endian, so keys sort by number.

/// The state tree's nodes: Borsh(jmt `NodeKey`) → Borsh(jmt `Node`).
pub const STATE_NODES: &str = "jmt_nodes";
/// State values by version: key hash (32) ‖ version (8) → Borsh(`Option<value>`), so the value
/// as of any version is one reverse seek away.
pub const STATE_VALUES: &str = "jmt_values";
/// key hash (32) → the encoded state key it hashes, so state can be listed and audited.
pub const STATE_KEYS: &str = "key_preimages";
/// `latest_version` → the ledger's latest committed version (8).
pub const STATE_META: &str = "meta";
/// height (8) → Borsh(decided block with its commit certificate).
pub const DECIDED: &str = "decided";
/// height (8) ‖ round (4) ‖ block hash (32) → Borsh(undecided proposal), until its height is
/// decided.
pub const UNDECIDED: &str = "undecided";
/// height (8) → Borsh(the outcome of each of the block's transactions, in block order).
pub const OUTCOMES: &str = "outcomes";
/// transaction id (32) → Borsh(height, index) of the first block that carried it.
pub const TRANSACTIONS: &str = "transactions";

/// Every column family, opened together.
pub const ALL: [&str; 8] = [
    STATE_NODES,
    STATE_VALUES,
    STATE_KEYS,
    STATE_META,
    DECIDED,
    UNDECIDED,
    OUTCOMES,
    TRANSACTIONS,
];
