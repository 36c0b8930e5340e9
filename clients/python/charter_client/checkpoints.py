"""Federation checkpoints and their BLS certificates (docs/checkpoints.md): encoding, decoding,
the validator-set hash, and verification with py_ecc against the cells' validator sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from . import bls
from .encoding import Reader, Writer, decode_all, from_hex
from .errors import EncodingError, ProofError
from .ids import hash32
from blake3 import blake3

CHECKPOINT_DOMAIN = b"CHARTER_CHECKPOINT_V1"
VALIDATOR_SET_DOMAIN = b"charter/federation-validators/v1"
COMMITTEE_DOMAIN = b"charter/committee/v1"
HAND_OVER_COMMITTEES = 4


def committee(seed: bytes, cells: Iterable[int], origin: int, epoch: int, size: int) -> list[int]:
    """The committee of `origin`'s checkpoint of `epoch` (docs/checkpoints.md, Committees), in
    draw order: a partial Fisher–Yates shuffle of the other cells, in cell order, driven by the
    blake3 extendable output of `COMMITTEE_DOMAIN ‖ seed ‖ u32 origin ‖ u64 epoch`."""
    others = sorted(c for c in cells if c != origin)
    if len(others) <= size:
        return others
    stream = blake3(COMMITTEE_DOMAIN + seed + origin.to_bytes(4, "little") + epoch.to_bytes(8, "little"))
    offset = 0

    def below(bound: int) -> int:
        nonlocal offset
        accepted = ((2**64 - 1) // bound) * bound
        while True:
            x = int.from_bytes(stream.digest(length=8, seek=offset), "little")
            offset += 8
            if x < accepted:
                return x % bound

    for position in range(size):
        chosen = position + below(len(others) - position)
        others[position], others[chosen] = others[chosen], others[position]
    return others[:size]


@dataclass(frozen=True)
class FederationValidator:
    passport: bytes
    bls_key: bytes
    power: int

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.passport, 32).fixed(self.bls_key, 48).u64(self.power)

    @classmethod
    def decode(cls, r: Reader) -> "FederationValidator":
        return cls(r.fixed(32), r.fixed(48), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"passport": self.passport.hex(), "bls_key": self.bls_key.hex(), "power": self.power}

    @classmethod
    def from_json(cls, o: Mapping[str, Any]) -> "FederationValidator":
        return cls(from_hex(o["passport"], 32, "passport"), from_hex(o["bls_key"], 48, "bls_key"), int(o["power"]))


def encode_validator_set(members: Sequence[FederationValidator]) -> bytes:
    return Writer().vec(members, lambda w, m: m.encode_into(w)).getvalue()


def validator_set_hash(members: Sequence[FederationValidator]) -> bytes:
    """`blake3("charter/federation-validators/v1" ‖ borsh(set))`."""
    return hash32(VALIDATOR_SET_DOMAIN + encode_validator_set(members))


def validator_set_from_json(v: Iterable[Mapping[str, Any]]) -> tuple[FederationValidator, ...]:
    return tuple(FederationValidator.from_json(m) for m in v)


@dataclass(frozen=True)
class Checkpoint:
    federation: bytes
    cell: int
    epoch: int
    height: int
    block: bytes
    state_root: bytes
    validators: bytes
    next_validators: bytes

    def encode_into(self, w: Writer) -> None:
        (w.fixed(self.federation, 32).u32(self.cell).u64(self.epoch).u64(self.height).fixed(self.block, 32)
         .fixed(self.state_root, 32).fixed(self.validators, 32).fixed(self.next_validators, 32))

    def encode(self) -> bytes:
        w = Writer()
        self.encode_into(w)
        return w.getvalue()

    def signing_bytes(self) -> bytes:
        """`"CHARTER_CHECKPOINT_V1" ‖ borsh(checkpoint)`: what every signer BLS-signs."""
        return CHECKPOINT_DOMAIN + self.encode()

    @property
    def hands_over(self) -> bool:
        """Whether the next epoch is certified by a set other than this one's."""
        return self.next_validators != self.validators

    @property
    def id(self) -> bytes:
        """`Checkpoint::id = blake3(signing message)` (named in equivocation proofs and bridge rulings)."""
        return hash32(self.signing_bytes())

    @classmethod
    def decode(cls, r: Reader) -> "Checkpoint":
        return cls(r.fixed(32), r.u32(), r.u64(), r.u64(), r.fixed(32), r.fixed(32), r.fixed(32), r.fixed(32))

    def to_json(self) -> dict[str, Any]:
        return {"federation": self.federation.hex(), "cell": self.cell, "epoch": self.epoch, "height": self.height,
                "block": self.block.hex(), "state_root": self.state_root.hex(), "validators": self.validators.hex(),
                "next_validators": self.next_validators.hex()}

    @classmethod
    def from_json(cls, o: Mapping[str, Any]) -> "Checkpoint":
        return cls(from_hex(o["federation"], 32, "federation"), int(o["cell"]), int(o["epoch"]), int(o["height"]),
                   from_hex(o["block"], 32, "block"), from_hex(o["state_root"], 32, "state_root"),
                   from_hex(o["validators"], 32, "validators"), from_hex(o["next_validators"], 32, "next_validators"))


@dataclass(frozen=True)
class CellSigners:
    cell: int
    validators: bytes
    bitmap: bytes

    def signed_indices(self) -> list[int]:
        return [i for i in range(len(self.bitmap) * 8) if self.bitmap[i // 8] >> (i % 8) & 1]

    def to_json(self) -> dict[str, Any]:
        return {"cell": self.cell, "validators": self.validators.hex(), "bitmap": self.bitmap.hex()}


@dataclass(frozen=True)
class CheckpointCertificate:
    checkpoint: Checkpoint
    signers: tuple[CellSigners, ...]
    signature: bytes
    # The set the checkpoint hands over, present exactly when it is a new one.
    next_set: tuple[FederationValidator, ...] | None = None

    def encode(self) -> bytes:
        w = Writer()
        self.checkpoint.encode_into(w)
        w.vec(self.signers, lambda w2, s: w2.u32(s.cell).fixed(s.validators, 32).bytes_vec(s.bitmap))
        w.fixed(self.signature, 96)
        w.option(self.next_set, lambda w2, members: w2.vec(members, lambda w3, m: m.encode_into(w3)))
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> "CheckpointCertificate":
        def get(r: Reader) -> "CheckpointCertificate":
            cp = Checkpoint.decode(r)
            signers = tuple(r.vec(lambda r2: CellSigners(r2.u32(), r2.fixed(32), r2.bytes_vec())))
            signature = r.fixed(96)
            next_set = r.option(lambda r2: tuple(r2.vec(FederationValidator.decode)))
            return cls(cp, signers, signature, next_set)
        return decode_all(data, get)

    def to_json(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint.to_json(), "signers": [s.to_json() for s in self.signers],
                "signature": self.signature.hex(),
                "next_set": None if self.next_set is None else [m.to_json() for m in self.next_set]}

    @classmethod
    def from_json(cls, o: Mapping[str, Any]) -> "CheckpointCertificate":
        try:
            signers = tuple(CellSigners(int(s["cell"]), from_hex(s["validators"], 32, "validators"),
                                        from_hex(s["bitmap"], None, "bitmap")) for s in o["signers"])
            next_set = None if o["next_set"] is None else validator_set_from_json(o["next_set"])
            return cls(Checkpoint.from_json(o["checkpoint"]), signers, from_hex(o["signature"], 96, "signature"),
                       next_set)
        except KeyError as e:
            raise EncodingError(f"certificate lacks {e.args[0]!r}") from e


def validator_set_from_api(answer: Mapping[str, Any], expected_hash: bytes) -> tuple[FederationValidator, ...]:
    """Decode `GET /v1/validator-sets/{cell}/{hash}`: the set is decoded from `encoded`, must hash
    to the hash asked for, and the served JSON must be exactly its decoding."""
    members = decode_all(from_hex(answer["encoded"], None, "encoded"),
                         lambda r: tuple(r.vec(FederationValidator.decode)))
    if validator_set_hash(members) != expected_hash:
        raise ProofError("the served validator set does not hash to the hash asked for")
    if validator_set_from_json(answer["validators"]) != members or from_hex(answer["hash"], 32, "hash") != expected_hash:
        raise ProofError("the served validator set JSON is not the decoding of its encoded bytes")
    return members


def certificate_from_api(answer: Mapping[str, Any]) -> CheckpointCertificate:
    """Decode `GET /v1/checkpoints/{cell}/{epoch}`: the certificate is decoded from `encoded` (the
    bytes), and the served JSON must be exactly its decoding."""
    cert = CheckpointCertificate.decode(from_hex(answer["encoded"], None, "encoded"))
    if CheckpointCertificate.from_json(answer["certificate"]) != cert:
        raise ProofError("the served certificate JSON is not the decoding of its encoded bytes")
    return cert


@dataclass
class _CellState:
    held: dict[bytes, tuple[FederationValidator, ...]] = field(default_factory=dict)
    head: bytes = b""


class FederationVerifier:
    """Verifies checkpoint certificates (docs/checkpoints.md, Verification). Knows the federation
    id, `k`, the committee size and, per cell, the sets it has held and its head. A certificate that verifies moves
    its cell's head to the set `next_validators` names: the one it carries in `next_set` when
    that is new, else the set that certified its epoch."""

    def __init__(self, federation: bytes, k: int, committee: int,
                 cells: Mapping[int, Sequence[FederationValidator]]):
        if not 1 <= k <= len(cells) or committee < k - 1:
            raise ProofError(f"k = {k} with committees of {committee} is no rule for {len(cells)} cells")
        self.federation = federation
        self.k = k
        self.committee_size = committee
        self._cells: dict[int, _CellState] = {}
        for cell, members in cells.items():
            st = _CellState()
            self._learn(st, tuple(members))
            self._cells[int(cell)] = st

    @staticmethod
    def _learn(st: _CellState, members: tuple[FederationValidator, ...]) -> bytes:
        if not members or sum(m.power for m in members) == 0:
            raise ProofError("a validator set is never empty and its power never zero")
        for m in members:
            if not bls.key_validate(m.bls_key):
                raise ProofError(f"validator {m.passport.hex()} has an invalid BLS key")
        h = validator_set_hash(members)
        st.held[h] = members
        st.head = h
        return h

    @classmethod
    def from_federation_genesis(cls, fed: Mapping[str, Any]) -> "FederationVerifier":
        """From `federation.json` (`charter federation-genesis`, or a `localnet --cells N`
        directory): `{"federation", "k", "committee", "cells": {"<cell>": [validators]}}`."""
        return cls(from_hex(fed["federation"], 32, "federation"), int(fed["k"]), int(fed["committee"]),
                   {int(c): validator_set_from_json(v) for c, v in fed["cells"].items()})

    @classmethod
    def from_federation_api(cls, fed: Mapping[str, Any]) -> "FederationVerifier":
        """From `GET /v1/federation`: each cell's `validators` (the set its next final checkpoint
        must name), checked against the served `validators_hash`. Trusts the node for those sets."""
        cells: dict[int, tuple[FederationValidator, ...]] = {}
        for c in fed["cells"]:
            members = validator_set_from_json(c["validators"])
            if validator_set_hash(members) != from_hex(c["validators_hash"], 32, "validators_hash"):
                raise ProofError(f"cell {c['cell']}: validators_hash is not the hash of its validators")
            cells[int(c["cell"])] = members
        return cls(from_hex(fed["federation"], 32, "federation"), int(fed["k"]), int(fed["committee"]), cells)

    def committee(self, origin: int, epoch: int) -> list[int]:
        """The cells that may co-sign `origin`'s checkpoint of `epoch`, besides `origin`."""
        return committee(self.federation, self._cells, origin, epoch, self.committee_size)

    def head(self, cell: int) -> tuple[FederationValidator, ...]:
        st = self._cells[cell]
        return st.held[st.head]

    def head_hash(self, cell: int) -> bytes:
        return self._cells[cell].head

    def check(self, cert: CheckpointCertificate) -> None:
        """Verify without updating state. Raises `ProofError`."""
        cp = cert.checkpoint
        if cp.federation != self.federation:
            raise ProofError("certificate of another federation")
        own = self._cells.get(cp.cell)
        if own is None:
            raise ProofError(f"cell {cp.cell} is not a cell of the federation")
        if cp.validators != own.head:
            raise ProofError(f"checkpoint names set {cp.validators.hex()}, not cell {cp.cell}'s head {own.head.hex()}")
        if cp.hands_over:
            if cert.next_set is None:
                raise ProofError("the checkpoint hands over a new set that does not travel with it")
            if validator_set_hash(cert.next_set) != cp.next_validators:
                raise ProofError("next_set is not the set next_validators names")
            if not cert.next_set or sum(m.power for m in cert.next_set) == 0:
                raise ProofError("next_set is empty or without power")
        elif cert.next_set is not None:
            raise ProofError("a next_set travels with a checkpoint that hands over no new set")
        # A hand-over may be co-signed by its epoch's committee or one of the next three's,
        # each on its own (docs/checkpoints.md, Committees).
        later = HAND_OVER_COMMITTEES if cp.hands_over else 1
        committees = [self.committee(cp.cell, min(cp.epoch + r, 2**64 - 1)) for r in range(later)]
        keys: list[bytes] = []
        listed: list[int] = []
        prev = -1
        for entry in cert.signers:
            if entry.cell <= prev:
                raise ProofError("signer entries are not in strictly increasing cell order")
            prev = entry.cell
            st = self._cells.get(entry.cell)
            if st is None:
                raise ProofError(f"signer cell {entry.cell} is not a cell of the federation")
            if entry.cell != cp.cell and not any(entry.cell in drawn for drawn in committees):
                raise ProofError(f"cell {entry.cell} is not on the committee of cell {cp.cell}'s epoch {cp.epoch}")
            members = st.held.get(entry.validators)
            if members is None:
                raise ProofError(f"cell {entry.cell} has not held set {entry.validators.hex()} (the certificate waits)")
            if entry.cell == cp.cell and entry.validators != own.head:
                raise ProofError("the own cell's entry does not name its head")
            n = len(members)
            if len(entry.bitmap) != (n + 7) // 8:
                raise ProofError(f"cell {entry.cell}: bitmap of {len(entry.bitmap)} bytes for a set of {n}")
            idx = entry.signed_indices()
            if any(i >= n for i in idx):
                raise ProofError(f"cell {entry.cell}: bitmap has a bit beyond the set")
            signed = sum(members[i].power for i in idx)
            total = sum(m.power for m in members)
            if 3 * signed <= 2 * total:
                raise ProofError(f"cell {entry.cell}: {signed} of {total} power signed, not more than 2/3")
            keys.extend(members[i].bls_key for i in idx)
            listed.append(entry.cell)
        co_signers = [cell for cell in listed if cell != cp.cell]
        if not any(all(cell in drawn for cell in co_signers) for drawn in committees):
            raise ProofError(f"the cells co-signing cell {cp.cell}'s hand-over are not all on one of its committees")
        if len(listed) < self.k:
            raise ProofError(f"{len(listed)} cells signed, fewer than k = {self.k}")
        if cp.cell not in listed:
            raise ProofError("the checkpoint's own cell did not sign")
        if not bls.fast_aggregate_verify(keys, cp.signing_bytes(), cert.signature):
            raise ProofError("the aggregate BLS signature does not verify")

    def verify(self, cert: CheckpointCertificate) -> None:
        """Verify a certificate and, if final, make the set it hands over its cell's head."""
        self.check(cert)
        st = self._cells[cert.checkpoint.cell]
        if cert.next_set is None:
            st.head = cert.checkpoint.next_validators
        else:
            self._learn(st, cert.next_set)
