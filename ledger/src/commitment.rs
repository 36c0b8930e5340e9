//! The state commitment: a Jellyfish Merkle tree over blake3, versioned by block height.
//!
//! A state key is placed at `blake3(encode(key))`; a leaf commits to `blake3(value)`. The root
//! after each block is the block's state root, and [`verify_proof`] checks a value (or its
//! absence) against a root with nothing but its inputs.

use crate::state::StateKey;
use crate::storage::Storage;
use borsh::{BorshDeserialize, BorshSerialize};
use jmt::proof::SparseMerkleProof;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, RootHash, Version};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The tree's hash function: blake3.
#[derive(Clone)]
pub struct TreeHasher(blake3::Hasher);

impl jmt::SimpleHasher for TreeHasher {
    fn new() -> Self {
        Self(blake3::Hasher::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

pub(crate) type Tree<'a, S> = jmt::JellyfishMerkleTree<'a, TreeView<'a, S>, TreeHasher>;

/// The root of a cell's state tree at some height.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct StateRoot(#[serde(with = "hex::serde")] pub [u8; 32]);

impl fmt::Display for StateRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for StateRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateRoot({})", &hex::encode(self.0)[..12])
    }
}

/// A proof that a key has a given value, or no value, under a state root.
#[derive(Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct StateProof(SparseMerkleProof<TreeHasher>);

impl fmt::Debug for StateProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateProof({:?})", self.0)
    }
}

impl StateProof {
    pub(crate) fn new(proof: SparseMerkleProof<TreeHasher>) -> Self {
        Self(proof)
    }

    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ProofError> {
        borsh::from_slice(bytes).map_err(|error| ProofError::Malformed(error.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("malformed proof: {0}")]
    Malformed(String),
    #[error("proof does not verify against the root: {0}")]
    Mismatch(String),
}

pub fn key_hash(key: &StateKey) -> KeyHash {
    KeyHash::with::<TreeHasher>(key.encode())
}

/// Checks that under `root`, `key` holds exactly `value` (`None`: holds nothing).
pub fn verify_proof(
    root: &StateRoot,
    key: &StateKey,
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    proof
        .0
        .verify(RootHash(root.0), key_hash(key), value)
        .map_err(|error| ProofError::Mismatch(error.to_string()))
}

/// Lets jmt read tree nodes and values from a [`Storage`].
pub(crate) struct TreeView<'a, S: ?Sized>(pub &'a S);

impl<S: Storage + ?Sized> TreeReader for TreeView<'_, S> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.0.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.0.value(max_version, key_hash)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // jmt asks for this only to restore a tree from a snapshot or to overwrite a version in
        // place; Charter does neither, so storage keeps no index for it.
        anyhow::bail!("restoring the state tree from a snapshot is not supported")
    }
}
