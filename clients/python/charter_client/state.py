"""State keys (docs/wire-format.md §6, docs/proofs.md §6.2) and the stored values a node serves
with `?proof=true` (docs/proofs.md §7): strict Borsh decoders and their JSON forms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, Optional, Sequence

from .encoding import Reader, Writer, decode_all
from .errors import EncodingError
from .ids import hash32
from .statements import CellMode, SanctionKind


# --- state keys --------------------------------------------------------------------------


class StateKeyKind(IntEnum):
    Cell = 0
    Passport = 1
    Bond = 2
    Validator = 3
    ConsensusKey = 4
    ValidatorIndex = 5
    Escrow = 6
    ArbiterPanel = 7
    Treasury = 8
    CellMode = 9
    SpentCase = 10
    SpentEvidence = 11
    BlsKey = 12
    ActiveValidators = 13
    BridgeRuling = 14


@dataclass(frozen=True)
class StateKey:
    """A `StateKey`: its variant and the bytes of its payload (already Borsh-encoded)."""

    kind: StateKeyKind
    payload: bytes = b""

    def encode(self) -> bytes:
        return bytes([int(self.kind)]) + self.payload

    def key_hash(self) -> bytes:
        """Where the value sits in the tree: `blake3(borsh(StateKey))`."""
        return hash32(self.encode())

    @staticmethod
    def _id(kind: StateKeyKind, b: bytes, n: int = 32) -> "StateKey":
        if len(b) != n:
            raise EncodingError(f"{kind.name} key takes {n} bytes")
        return StateKey(kind, b)

    @classmethod
    def passport(cls, pid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Passport, pid)

    @classmethod
    def bond(cls, pid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Bond, pid)

    @classmethod
    def validator(cls, pid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Validator, pid)

    @classmethod
    def consensus_key(cls, key: bytes) -> "StateKey":
        return cls._id(StateKeyKind.ConsensusKey, key)

    @classmethod
    def escrow(cls, eid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Escrow, eid)

    @classmethod
    def spent_case(cls, case: bytes) -> "StateKey":
        return cls._id(StateKeyKind.SpentCase, case)

    @classmethod
    def spent_evidence(cls, offence: bytes) -> "StateKey":
        return cls._id(StateKeyKind.SpentEvidence, offence)

    @classmethod
    def bls_key(cls, key: bytes) -> "StateKey":
        return cls._id(StateKeyKind.BlsKey, key, 48)

    @classmethod
    def active_validators(cls) -> "StateKey":
        return cls(StateKeyKind.ActiveValidators)

    @classmethod
    def unit(cls, kind: StateKeyKind) -> "StateKey":
        return cls(kind)

    @classmethod
    def bridge_ruling(cls, remote: int, epoch: int) -> "StateKey":
        return cls(StateKeyKind.BridgeRuling, Writer().u32(remote).u64(epoch).getvalue())


# --- enums of stored values ----------------------------------------------------------------


class PassportStatus(IntEnum):
    Active = 0
    Suspended = 1
    Revoked = 2
    Exited = 3


class EscrowStatus(IntEnum):
    Open = 0
    Released = 1
    Disputed = 2
    Resolved = 3
    Refunded = 4


def _enum(r: Reader, cls: type[IntEnum]) -> Any:
    return cls(r.variant(len(cls), cls.__name__))


def _opt_hex(v: Optional[bytes]) -> Optional[str]:
    return None if v is None else v.hex()


def _get32(r: Reader) -> bytes:
    return r.fixed(32)


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SanctionRecord:
    case: bytes
    kind: SanctionKind
    liability: int
    imposed_at: int
    inherited_from: Optional[bytes]

    @classmethod
    def decode(cls, r: Reader) -> "SanctionRecord":
        return cls(r.fixed(32), _enum(r, SanctionKind), r.u64(), r.u64(), r.option(_get32))

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case.hex(), "kind": self.kind.name, "liability": self.liability,
                "imposed_at": self.imposed_at, "inherited_from": _opt_hex(self.inherited_from)}


@dataclass(frozen=True)
class Passport:
    id: bytes
    controller_keys: Sequence[bytes]
    home_cell: int
    tier: int
    sponsor: Optional[bytes]
    lineage: Sequence[bytes]
    forks: Sequence[bytes]
    generation: int
    status: PassportStatus
    sanctions: Sequence[SanctionRecord]
    liabilities: int
    balance: int
    nonce: int
    created_at: int

    @classmethod
    def decode(cls, r: Reader) -> "Passport":
        return cls(r.fixed(32), r.vec(_get32), r.u32(), r.u8(), r.option(_get32), r.vec(_get32), r.vec(_get32),
                   r.u32(), _enum(r, PassportStatus), r.vec(SanctionRecord.decode), r.u64(), r.u64(), r.u64(), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id.hex(), "controller_keys": [k.hex() for k in self.controller_keys],
                "home_cell": self.home_cell, "tier": self.tier, "sponsor": _opt_hex(self.sponsor),
                "lineage": [x.hex() for x in self.lineage], "forks": [x.hex() for x in self.forks],
                "generation": self.generation, "status": self.status.name,
                "sanctions": [s.to_json() for s in self.sanctions], "liabilities": self.liabilities,
                "balance": self.balance, "nonce": self.nonce, "created_at": self.created_at}


@dataclass(frozen=True)
class UnbondingEntry:
    amount: int
    release_height: int

    @classmethod
    def decode(cls, r: Reader) -> "UnbondingEntry":
        return cls(r.u64(), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"amount": self.amount, "release_height": self.release_height}


@dataclass(frozen=True)
class Bond:
    bonded: int
    unbonding: Sequence[UnbondingEntry]

    @classmethod
    def decode(cls, r: Reader) -> "Bond":
        return cls(r.u64(), r.vec(UnbondingEntry.decode))

    def to_json(self) -> dict[str, Any]:
        return {"bonded": self.bonded, "unbonding": [u.to_json() for u in self.unbonding]}


@dataclass(frozen=True)
class Escrow:
    id: bytes
    payer: bytes
    payee: bytes
    amount: int
    arbiter: Optional[bytes]
    release_height: int
    expiry_height: int
    status: EscrowStatus

    @classmethod
    def decode(cls, r: Reader) -> "Escrow":
        return cls(r.fixed(32), r.fixed(32), r.fixed(32), r.u64(), r.option(_get32), r.u64(), r.u64(),
                   _enum(r, EscrowStatus))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id.hex(), "payer": self.payer.hex(), "payee": self.payee.hex(), "amount": self.amount,
                "arbiter": _opt_hex(self.arbiter), "release_height": self.release_height,
                "expiry_height": self.expiry_height, "status": self.status.name}


@dataclass(frozen=True)
class Validator:
    passport: bytes
    consensus_key: bytes
    bls_key: bytes
    registered_at: int

    @classmethod
    def decode(cls, r: Reader) -> "Validator":
        return cls(r.fixed(32), r.fixed(32), r.fixed(48), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"passport": self.passport.hex(), "consensus_key": self.consensus_key.hex(),
                "bls_key": self.bls_key.hex(), "registered_at": self.registered_at}


@dataclass(frozen=True)
class ActiveValidator:
    passport: bytes
    consensus_key: bytes
    bls_key: bytes
    power: int

    @classmethod
    def decode(cls, r: Reader) -> "ActiveValidator":
        return cls(r.fixed(32), r.fixed(32), r.fixed(48), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"passport": self.passport.hex(), "consensus_key": self.consensus_key.hex(),
                "bls_key": self.bls_key.hex(), "power": self.power}


@dataclass(frozen=True)
class ActiveValidators:
    epoch: int
    members: Sequence[ActiveValidator]
    kept_from: Optional[int]

    @classmethod
    def decode(cls, r: Reader) -> "ActiveValidators":
        return cls(r.u64(), r.vec(ActiveValidator.decode), r.option(lambda r2: r2.u64()))

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "members": [m.to_json() for m in self.members], "kept_from": self.kept_from}


@dataclass(frozen=True)
class BridgeRuling:
    remote: int
    epoch: int
    keep: bytes
    decided_at: int

    @classmethod
    def decode(cls, r: Reader) -> "BridgeRuling":
        return cls(r.u32(), r.u64(), r.fixed(32), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"remote": self.remote, "epoch": self.epoch, "keep": self.keep.hex(), "decided_at": self.decided_at}


@dataclass(frozen=True)
class CellModeState:
    mode: CellMode
    expires_at: Optional[int]
    sequence: int

    @classmethod
    def decode(cls, r: Reader) -> "CellModeState":
        return cls(CellMode.decode(r), r.option(lambda r2: r2.u64()), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode.name, "expires_at": self.expires_at, "sequence": self.sequence}


def decode_value(data: bytes, decoder: Callable[[Reader], Any]) -> Any:
    """Decode one stored value strictly (no trailing bytes)."""
    return decode_all(data, decoder)
