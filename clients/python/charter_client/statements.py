"""Signed statements other than transactions (docs/wire-format.md §5): votes, arbiter rulings,
mode changes, bridge rulings, validator registrations and guardian vetoes, each signed over
`DOMAIN ‖ encode(statement)`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Optional, Union

from .encoding import Reader, Writer, from_hex
from .errors import EncodingError

VOTE_DOMAIN = b"CHARTER_VOTE_V1"
RULING_DOMAIN = b"CHARTER_RULING_V1"
MODE_CHANGE_DOMAIN = b"CHARTER_MODE_V1"
BRIDGE_RULING_DOMAIN = b"CHARTER_BRIDGE_V1"
REGISTRATION_DOMAIN = b"CHARTER_VALIDATOR_V1"
VETO_DOMAIN = b"CHARTER_VETO_V1"


class _NamedEnum(IntEnum):
    """A Borsh unit enum whose JSON form is its variant name."""

    @classmethod
    def decode(cls, r: Reader) -> Any:
        return cls(r.variant(len(cls), cls.__name__))

    @classmethod
    def from_json(cls, v: object) -> Any:
        if not isinstance(v, str) or v not in cls.__members__:
            raise EncodingError(f"{cls.__name__}: unknown variant {v!r}")
        return cls[v]

    def to_json(self) -> str:
        return self.name


class VoteType(_NamedEnum):
    Prevote = 0
    Precommit = 1


class SanctionKind(_NamedEnum):
    Warning = 0
    Suspension = 1
    Revocation = 2
    Slashed = 3


class CellMode(_NamedEnum):
    Normal = 0
    Elevated = 1
    Safe = 2
    Lockdown = 3
    Recovery = 4


@dataclass(frozen=True)
class Vote:
    """A consensus vote; `value` is the block hash, or None for nil."""

    federation: bytes
    cell: int
    height: int
    round: int
    vote_type: VoteType
    value: Optional[bytes]

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.federation, 32).u32(self.cell).u64(self.height).u32(self.round).u8(int(self.vote_type))
        w.option(self.value, lambda w2, v: w2.fixed(v, 32))

    def encode(self) -> bytes:
        w = Writer()
        self.encode_into(w)
        return w.getvalue()

    def signing_bytes(self) -> bytes:
        return VOTE_DOMAIN + self.encode()

    @classmethod
    def decode(cls, r: Reader) -> "Vote":
        return cls(r.fixed(32), r.u32(), r.u64(), r.u32(), VoteType.decode(r), r.option(lambda r2: r2.fixed(32)))

    def to_json(self) -> dict[str, Any]:
        return {
            "federation": self.federation.hex(), "cell": self.cell, "height": self.height, "round": self.round,
            "vote_type": self.vote_type.to_json(),
            "value": None if self.value is None else self.value.hex(),
        }

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "Vote":
        v = o["value"]
        value = None if v is None else from_hex(v, 32, "vote value")
        return cls(from_hex(o["federation"], 32), int(o["cell"]), int(o["height"]), int(o["round"]),
                   VoteType.from_json(o["vote_type"]), value)


# --- arbiter rulings ---------------------------------------------------------------------


@dataclass(frozen=True)
class RulingSlash:
    offender: bytes
    amount: int
    INDEX = 0

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.offender, 32).u64(self.amount)


@dataclass(frozen=True)
class RulingSanction:
    subject: bytes
    kind: SanctionKind
    liability: int
    INDEX = 1

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.subject, 32).u8(int(self.kind)).u64(self.liability)


@dataclass(frozen=True)
class RulingRotateKeys:
    subject: bytes
    new_keys: tuple[bytes, ...]
    INDEX = 2

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.subject, 32).vec(self.new_keys, lambda w2, k: w2.fixed(k, 32))


Ruling = Union[RulingSlash, RulingSanction, RulingRotateKeys]


@dataclass(frozen=True)
class RulingTerms:
    federation: bytes
    cell: int
    case: bytes
    ruling: Ruling

    def encode(self) -> bytes:
        w = Writer().fixed(self.federation, 32).u32(self.cell).fixed(self.case, 32)
        self.ruling.encode_into(w)
        return w.getvalue()

    def signing_bytes(self) -> bytes:
        return RULING_DOMAIN + self.encode()


@dataclass(frozen=True)
class ModeChangeTerms:
    federation: bytes
    cell: int
    sequence: int
    mode: CellMode
    expires_at: Optional[int]

    def encode(self) -> bytes:
        w = Writer().fixed(self.federation, 32).u32(self.cell).u64(self.sequence).u8(int(self.mode))
        w.option(self.expires_at, lambda w2, v: w2.u64(v))
        return w.getvalue()

    def signing_bytes(self) -> bytes:
        return MODE_CHANGE_DOMAIN + self.encode()


@dataclass(frozen=True)
class BridgeRulingTerms:
    federation: bytes
    cell: int
    remote: int
    epoch: int
    keep: bytes

    def encode(self) -> bytes:
        return Writer().fixed(self.federation, 32).u32(self.cell).u32(self.remote).u64(self.epoch).fixed(self.keep, 32).getvalue()

    def signing_bytes(self) -> bytes:
        return BRIDGE_RULING_DOMAIN + self.encode()


@dataclass(frozen=True)
class RegistrationTerms:
    federation: bytes
    cell: int
    passport: bytes
    consensus_key: bytes
    bls_key: bytes

    def encode(self) -> bytes:
        return (Writer().fixed(self.federation, 32).u32(self.cell).fixed(self.passport, 32)
                .fixed(self.consensus_key, 32).fixed(self.bls_key, 48).getvalue())

    def signing_bytes(self) -> bytes:
        return REGISTRATION_DOMAIN + self.encode()


@dataclass(frozen=True)
class VetoTerms:
    """What each guardian approval of a `Veto` signs (docs/wire-format.md §5, docs/governance.md §9):
    this cell's federation and id, and the action's own `process` and `reason`, so a signature
    serves one veto of one process in one cell."""

    federation: bytes
    cell: int
    process: int
    reason: str

    def encode(self) -> bytes:
        return Writer().fixed(self.federation, 32).u32(self.cell).u64(self.process).string(self.reason).getvalue()

    def signing_bytes(self) -> bytes:
        """`"CHARTER_VETO_V1" ‖ federation[32] ‖ u32le(cell) ‖ u64le(process) ‖ u32le(len) ‖ reason`."""
        return VETO_DOMAIN + self.encode()

    @classmethod
    def decode(cls, r: Reader) -> "VetoTerms":
        return cls(r.fixed(32), r.u32(), r.u64(), r.string())

    def to_json(self) -> dict[str, Any]:
        return {"federation": self.federation.hex(), "cell": self.cell, "process": self.process,
                "reason": self.reason}


__all__ = [
    "VOTE_DOMAIN", "RULING_DOMAIN", "MODE_CHANGE_DOMAIN", "BRIDGE_RULING_DOMAIN", "REGISTRATION_DOMAIN",
    "VETO_DOMAIN", "VoteType", "SanctionKind", "CellMode", "Vote", "RulingSlash", "RulingSanction",
    "RulingRotateKeys", "Ruling", "RulingTerms", "ModeChangeTerms", "BridgeRulingTerms", "RegistrationTerms",
    "VetoTerms",
]
