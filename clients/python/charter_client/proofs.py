"""Client-side verification (docs/proofs.md): block hashes, transactions roots, commit
certificates, inclusion proofs, Jellyfish-Merkle state proofs (inclusion and absence), and stored
values checked against their proofs. Every check raises `ProofError` on a mismatch; nothing the
node serves is trusted when it can be recomputed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar

from .encoding import Reader, Writer, decode_all, from_hex
from .errors import EncodingError, ProofError
from .ids import hash32
from .juries import verify_reveal
from .keys import verify_strict
from .state import ActiveValidators, StateKey
from .statements import Vote, VoteType
from .transaction import SignedTransaction

BLOCK_DOMAIN = b"charter/block/v1"
TRANSACTIONS_DOMAIN = b"charter/block-transactions/v1"
LEAF_DOMAIN = b"JMT::LeafNode"
INTERNAL_DOMAIN = b"JMT::IntrnalNode"
PLACEHOLDER_HASH = b"SPARSE_MERKLE_PLACEHOLDER_HASH__"

T = TypeVar("T")


# --- block header and hash (§2) ------------------------------------------------------------


#: The header's encoded size: federation 32, cell 4, height 8, parent 32, proposer 32, reveal 96,
#: transactions root 32, state root 32.
HEADER_BYTES = 268


@dataclass(frozen=True)
class BlockHeader:
    """`federation ‖ u32 cell ‖ u64 height ‖ parent ‖ proposer ‖ reveal[96] ‖ transactions_root ‖
    state_root`. `reveal` is the proposer's BLS signature over the height
    (`charter_client.juries.reveal_message`), the share of the cell's beacon it mixes in."""

    federation: bytes
    cell: int
    height: int
    parent: bytes
    proposer: bytes
    reveal: bytes
    transactions_root: bytes
    state_root: bytes

    def encode(self) -> bytes:
        return (Writer().fixed(self.federation, 32).u32(self.cell).u64(self.height).fixed(self.parent, 32)
                .fixed(self.proposer, 32).fixed(self.reveal, 96).fixed(self.transactions_root, 32)
                .fixed(self.state_root, 32).getvalue())

    def hash(self) -> bytes:
        """`BlockHash = blake3("charter/block/v1" ‖ borsh(header))`."""
        return hash32(BLOCK_DOMAIN + self.encode())

    @classmethod
    def decode(cls, r: Reader) -> "BlockHeader":
        return cls(r.fixed(32), r.u32(), r.u64(), r.fixed(32), r.fixed(32), r.fixed(96), r.fixed(32), r.fixed(32))

    @classmethod
    def from_block_json(cls, block: Mapping[str, Any]) -> "BlockHeader":
        """The header of `GET /v1/blocks/{height}`; its height is the block's top-level `height`."""
        h = block["header"]
        return cls(from_hex(h["federation"], 32, "federation"), int(h["cell"]), int(block["height"]),
                   from_hex(h["parent"], 32, "parent"), from_hex(h["proposer"], 32, "proposer"),
                   from_hex(h["reveal"], 96, "reveal"),
                   from_hex(h["transactions_root"], 32, "transactions_root"),
                   from_hex(h["state_root"], 32, "state_root"))


def transactions_root(ids: Sequence[bytes]) -> bytes:
    """`blake3("charter/block-transactions/v1" ‖ id_0 ‖ … ‖ id_(n−1))` (flat, not a tree)."""
    for i in ids:
        if len(i) != 32:
            raise EncodingError("a transaction id is 32 bytes")
    return hash32(TRANSACTIONS_DOMAIN + b"".join(ids))


# --- validator sets and commit certificates (§4) ---------------------------------------------


@dataclass(frozen=True)
class SetMember:
    passport: bytes
    consensus_key: bytes
    power: int
    bls_key: Optional[bytes] = None


@dataclass(frozen=True)
class ValidatorSet:
    """The members with `power > 0` of an `ActiveValidators`; `epoch` is the epoch it certifies."""

    epoch: int
    members: tuple[SetMember, ...]

    @classmethod
    def from_active(cls, av: ActiveValidators) -> "ValidatorSet":
        return cls(av.epoch, tuple(SetMember(m.passport, m.consensus_key, m.power, m.bls_key)
                                   for m in av.members if m.power > 0))

    @property
    def total_power(self) -> int:
        return sum(m.power for m in self.members)

    def by_passport(self) -> dict[bytes, SetMember]:
        return {m.passport: m for m in self.members}


@dataclass(frozen=True)
class CommitSignature:
    validator: bytes
    signature: bytes


@dataclass(frozen=True)
class BlockCertificate:
    height: int
    round: int
    block: bytes
    signatures: tuple[CommitSignature, ...]

    def encode(self) -> bytes:
        w = Writer().u64(self.height).u32(self.round).fixed(self.block, 32)
        w.vec(self.signatures, lambda w2, s: w2.fixed(s.validator, 32).fixed(s.signature, 64))
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> "BlockCertificate":
        return cls(r.u64(), r.u32(), r.fixed(32),
                   tuple(r.vec(lambda r2: CommitSignature(r2.fixed(32), r2.fixed(64)))))

    @classmethod
    def from_block_json(cls, block: Mapping[str, Any], block_hash: bytes) -> "BlockCertificate":
        """The JSON certificate omits height and block: they are the block's height and the hash
        computed from its header (never the served `hash`)."""
        c = block["certificate"]
        sigs = tuple(CommitSignature(from_hex(s["validator"], 32, "validator"), from_hex(s["signature"], 64, "signature"))
                     for s in c["signatures"])
        return cls(int(block["height"]), int(c["round"]), block_hash, sigs)


def precommit_message(federation: bytes, cell: int, height: int, round: int, block: bytes) -> bytes:
    """The 97 bytes each validator signs: `"CHARTER_VOTE_V1" ‖ borsh(Vote{…, Precommit, Some(block)})`."""
    return Vote(federation, cell, height, round, VoteType.Precommit, block).signing_bytes()


def verify_certificate(cert: BlockCertificate, block_hash: bytes, height: int, federation: bytes, cell: int,
                       validators: ValidatorSet) -> int:
    """docs/proofs.md §4.4. Returns the signed power; raises `ProofError` unless every signature is
    a known member's valid precommit, no member signs twice, and `3·signed > 2·total`."""
    if cert.block != block_hash:
        raise ProofError(f"certificate names block {cert.block.hex()}, not {block_hash.hex()}")
    if cert.height != height:
        raise ProofError(f"certificate is for height {cert.height}, not {height}")
    msg = precommit_message(federation, cell, cert.height, cert.round, cert.block)
    members = validators.by_passport()
    seen: set[bytes] = set()
    signed = 0
    for s in cert.signatures:
        m = members.get(s.validator)
        if m is None:
            raise ProofError(f"certificate signed by {s.validator.hex()}, not a member of the set for epoch {validators.epoch}")
        if s.validator in seen:
            raise ProofError(f"certificate lists {s.validator.hex()} twice")
        seen.add(s.validator)
        if not verify_strict(m.consensus_key, msg, s.signature):
            raise ProofError(f"signature of {s.validator.hex()} does not verify")
        signed += m.power
    total = validators.total_power
    if total <= 0 or 3 * signed <= 2 * total:
        raise ProofError(f"certificate carries {signed} of {total} power, not more than 2/3")
    return signed


@dataclass(frozen=True)
class VerifiedBlock:
    header: BlockHeader
    hash: bytes
    transaction_ids: tuple[bytes, ...]
    certificate: BlockCertificate
    signed_power: int


def verify_block_json(block: Mapping[str, Any], federation: bytes, cell: int, validators: ValidatorSet) -> VerifiedBlock:
    """Verify `GET /v1/blocks/{height}` from its JSON alone: re-encode every transaction from its
    JSON and hash it (its id), recompute the transactions root and the block hash, compare them
    with what was served, check the header's federation and cell, and verify the certificate."""
    header = BlockHeader.from_block_json(block)
    if header.federation != federation or header.cell != cell:
        raise ProofError("block header is of another federation or cell")
    ids: list[bytes] = []
    for i, t in enumerate(block["transactions"]):
        tx = SignedTransaction.from_json(t["transaction"])
        tid = tx.id
        if from_hex(t["id"], 32, "id") != tid:
            raise ProofError(f"transaction {i}: served id {t['id']} is not the hash of its encoding {tid.hex()}")
        ids.append(tid)
    root = transactions_root(ids)
    if root != header.transactions_root:
        raise ProofError(f"transactions root {root.hex()} does not match the header's {header.transactions_root.hex()}")
    h = header.hash()
    if from_hex(block["hash"], 32, "hash") != h:
        raise ProofError(f"served hash {block['hash']} is not the header's hash {h.hex()}")
    cert = BlockCertificate.from_block_json(block, h)
    power = verify_certificate(cert, h, header.height, federation, cell, validators)
    return VerifiedBlock(header, h, tuple(ids), cert, power)


def verify_header_reveal(header: BlockHeader, validators: ValidatorSet) -> None:
    """The header's `reveal` is its proposer's BLS signature over
    `"CHARTER_BEACON_V1" ‖ federation ‖ u32le(cell) ‖ u64le(height)`, by the BLS key of the
    proposer in `validators`, the set of the header's height (the `ActiveValidators` stored
    before the block). One pairing check (about half a second with py_ecc). Raises `ProofError`."""
    member = validators.by_passport().get(header.proposer)
    if member is None:
        raise ProofError(f"proposer {header.proposer.hex()} is not a member of the set for epoch {validators.epoch}")
    if member.bls_key is None:
        raise ProofError(f"the set for epoch {validators.epoch} carries no BLS key for {header.proposer.hex()}")
    if not verify_reveal(member.bls_key, header.federation, header.cell, header.height, header.reveal):
        raise ProofError(f"the reveal of block {header.height} is not its proposer's signature over the height")


# --- inclusion proofs (§5) ------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    header: BlockHeader
    transactions: tuple[bytes, ...]
    certificate: BlockCertificate

    @classmethod
    def decode(cls, data: bytes) -> "InclusionProof":
        return decode_all(data, lambda r: cls(BlockHeader.decode(r), tuple(r.vec(lambda r2: r2.fixed(32))),
                                              BlockCertificate.decode(r)))

    def encode(self) -> bytes:
        w = Writer().raw(self.header.encode())
        w.vec(self.transactions, lambda w2, t: w2.fixed(t, 32))
        return w.raw(self.certificate.encode()).getvalue()


def verify_inclusion(tx_id: bytes, proof: InclusionProof, federation: bytes, cell: int,
                     validators: ValidatorSet) -> int:
    """docs/proofs.md §5.3; returns the transaction's index in the block."""
    try:
        index = proof.transactions.index(tx_id)
    except ValueError:
        raise ProofError(f"transaction {tx_id.hex()} is not in the proof's block") from None
    if transactions_root(proof.transactions) != proof.header.transactions_root:
        raise ProofError("the proof's transaction ids do not hash to the header's transactions root")
    h = proof.header.hash()
    if proof.certificate.block != h or proof.certificate.height != proof.header.height:
        raise ProofError("the certificate is for another block")
    if proof.header.federation != federation or proof.header.cell != cell:
        raise ProofError("the header is of another federation or cell")
    verify_certificate(proof.certificate, h, proof.header.height, federation, cell, validators)
    return index


# --- state proofs (§6) ----------------------------------------------------------------------


@dataclass(frozen=True)
class LeafNode:
    key_hash: bytes
    value_hash: bytes

    def hash(self) -> bytes:
        return hash32(LEAF_DOMAIN + self.key_hash + self.value_hash)


@dataclass(frozen=True)
class SiblingNode:
    """A `SparseMerkleNode`: kind 0 `Null`, 1 `Internal(left, right)`, 2 `Leaf(key_hash, value_hash)`."""

    kind: int
    a: bytes = b""
    b: bytes = b""

    def hash(self) -> bytes:
        if self.kind == 0:
            return PLACEHOLDER_HASH
        if self.kind == 1:
            return hash32(INTERNAL_DOMAIN + self.a + self.b)
        return hash32(LEAF_DOMAIN + self.a + self.b)

    def encode_into(self, w: Writer) -> None:
        w.u8(self.kind)
        if self.kind != 0:
            w.fixed(self.a, 32).fixed(self.b, 32)


def _decode_sibling(r: Reader) -> SiblingNode:
    kind = r.variant(3, "SparseMerkleNode")
    if kind == 0:
        return SiblingNode(0)
    return SiblingNode(kind, r.fixed(32), r.fixed(32))


@dataclass(frozen=True)
class StateProof:
    leaf: Optional[LeafNode]
    siblings: tuple[SiblingNode, ...]

    @classmethod
    def decode(cls, data: bytes) -> "StateProof":
        def get(r: Reader) -> "StateProof":
            leaf = r.option(lambda r2: LeafNode(r2.fixed(32), r2.fixed(32)))
            return cls(leaf, tuple(r.vec(_decode_sibling, max_items=256)))
        return decode_all(data, get)

    def encode(self) -> bytes:
        w = Writer().option(self.leaf, lambda w2, l: w2.fixed(l.key_hash, 32).fixed(l.value_hash, 32))
        w.vec(self.siblings, lambda w2, s: s.encode_into(w2))
        return w.getvalue()


def _bit(k: bytes, j: int) -> int:
    return (k[j // 8] >> (7 - j % 8)) & 1


def _common_prefix_bits(a: bytes, b: bytes) -> int:
    for j in range(256):
        if _bit(a, j) != _bit(b, j):
            return j
    return 256


def verify_state_proof(root: bytes, key: StateKey, value: Optional[bytes], proof: StateProof) -> None:
    """jmt 0.12's `SparseMerkleProof::verify` (docs/proofs.md §6.5): inclusion of `value` under
    `key`, or (value None) its absence, against `root`. Raises `ProofError`."""
    k = key.key_hash()
    n = len(proof.siblings)
    if n > 256:
        raise ProofError("more than 256 siblings")
    leaf = proof.leaf
    if value is not None:
        if leaf is None:
            raise ProofError("a value is claimed but the proof has no leaf")
        if leaf.key_hash != k:
            raise ProofError("the proof's leaf is another key's")
        if leaf.value_hash != hash32(value):
            raise ProofError("the proof's leaf holds another value")
    elif leaf is not None:
        if leaf.key_hash == k:
            raise ProofError("absence claimed but the proof's leaf is this key's")
        if _common_prefix_bits(k, leaf.key_hash) < n:
            raise ProofError("absence proof's leaf is not in the key's subtree")
    h = leaf.hash() if leaf is not None else PLACEHOLDER_HASH
    for i, sib in enumerate(proof.siblings):
        s = sib.hash()
        if _bit(k, n - 1 - i):
            h = hash32(INTERNAL_DOMAIN + s + h)
        else:
            h = hash32(INTERNAL_DOMAIN + h + s)
    if h != root:
        raise ProofError(f"proof leads to root {h.hex()}, not {root.hex()}")


@dataclass(frozen=True)
class VerifiedRead:
    """A state read whose proof verified: `value` is the SDK's own decoding of `encoded` (None when
    absent), `height` and `root` the state it was proved against."""

    height: int
    root: bytes
    encoded: Optional[bytes]
    value: Any


def _normalize(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _normalize(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_normalize(x) for x in v]
    if isinstance(v, str):
        return v.lower()
    return v


def verify_read(read: Mapping[str, Any], key: StateKey, decoder: Callable[[Reader], T], root: bytes,
                height: Optional[int] = None) -> VerifiedRead:
    """Check a `?proof=true` read: its `height` (if one is expected), its proof of `encoded` (or of
    absence) under `key` against the trusted `root`, then decode `encoded` strictly and require
    the served JSON `value` to be exactly that decoding. Raises `ProofError`."""
    if "proof" not in read or "encoded" not in read:
        raise ProofError("the read carries no proof (ask with proof=true)")
    if height is not None and int(read["height"]) != height:
        raise ProofError(f"read is at height {read['height']}, not {height}")
    try:
        encoded = None if read["encoded"] is None else from_hex(read["encoded"], None, "encoded")
        proof = StateProof.decode(from_hex(read["proof"], None, "proof"))
    except EncodingError as e:
        raise ProofError(f"undecodable proof: {e}") from e
    verify_state_proof(root, key, encoded, proof)
    if encoded is None:
        if read["value"] is not None:
            raise ProofError("absence proved but the node served a value")
        return VerifiedRead(int(read["height"]), root, None, None)
    try:
        value: Any = decode_all(encoded, decoder)
    except EncodingError as e:
        raise ProofError(f"proved bytes do not decode: {e}") from e
    mine = _normalize(value.to_json())
    if mine != _normalize(read["value"]):
        raise ProofError(f"served value {read['value']!r} is not the decoding of the proved bytes {mine!r}")
    return VerifiedRead(int(read["height"]), root, encoded, value)
