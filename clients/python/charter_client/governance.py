"""The chamber rules of governance processes (docs/governance.md §2, docs/wire-format.md §7):
`GovernanceRules` and its parts, with their Borsh encoding, strict decoding and JSON (serde's, as
the API and a genesis file write them), and the default and dev rules the documents list.

The processes, ballots and delegations stored under these rules are in `charter_client.state`;
the actions that drive them (`Propose`, `Sponsor`, `ProcessVote`, `Delegate`, `Undelegate`, `Veto`)
in `charter_client.actions`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Mapping, Sequence, Union

from .encoding import Reader, Writer, from_hex
from .errors import EncodingError

#: Limits of docs/governance.md §14.
MAX_CHAMBERS = 8
MAX_CHAMBER_NAME_BYTES = 32
MAX_SEATS = 64
MAX_GUARDIANS = 16
MAX_SPONSORS = 256
MAX_PERIOD_BLOCKS = 10_000_000
MAX_DELEGATION_DEPTH = 16
MAX_DELEGATORS = 4_096
MAX_TEXT_BYTES = 1_024
#: Most jurors a case draws (`JuryRules.size`, odd).
MAX_JURY_SIZE = 63
#: Process kinds, one `KindRules` each (`GovernanceRules.kinds`), in `Proposal` tag order.
PROCESS_KINDS = ("parameter_change", "cell_mode_change", "slash_ruling", "bridge_ruling", "council_election",
                 "resolution", "rules_change")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class SnakeEnum(IntEnum):
    """A Borsh unit enum whose JSON form is its variant name in snake_case (serde
    `rename_all = "snake_case"`): `Weighting`, `Choice`, `Parameter`, `ProcessStatus`."""

    @classmethod
    def decode(cls, r: Reader) -> Any:
        return cls(r.variant(len(cls), cls.__name__))

    def encode_into(self, w: Writer) -> None:
        w.u8(int(self))

    def to_json(self) -> str:
        return _snake(self.name)

    @classmethod
    def from_json(cls, v: object) -> Any:
        for m in cls:
            if _snake(m.name) == v:
                return m
        raise EncodingError(f"{cls.__name__}: unknown variant {v!r}")


class Weighting(SnakeEnum):
    PerPassport = 0
    Stake = 1


class Verdict(SnakeEnum):
    """How a juror rules on a case's claim, and how a case closes (JSON `for_claim`,
    `against_claim`). The claim of an escrow dispute is its payee's (`ForClaim`: the escrow goes
    to the payee; `AgainstClaim`: it returns to the payer); that of a slash case is the filing
    arbiter's (`ForClaim`: the offender is slashed; `AgainstClaim`: it keeps its stake)."""

    ForClaim = 0
    AgainstClaim = 1


def _obj(v: object, what: str, required: Sequence[str], optional: Sequence[str] = ()) -> Mapping[str, Any]:
    """A JSON object with exactly the `required` keys and perhaps some `optional` ones (the rules'
    types refuse unknown fields, docs/wire-format.md §7.2)."""
    if not isinstance(v, dict):
        raise EncodingError(f"{what}: expected an object, got {type(v).__name__}")
    missing = [k for k in required if k not in v]
    if missing:
        raise EncodingError(f"{what}: missing field {missing[0]!r}")
    unknown = [k for k in v if k not in required and k not in optional]
    if unknown:
        raise EncodingError(f"{what}: unknown field {unknown[0]!r}")
    return v


def _int(v: object, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise EncodingError(f"{what}: expected an integer, got {v!r}")
    return v


def _list(v: object, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise EncodingError(f"{what}: expected an array")
    return v


# --- chambers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipTiers:
    """`Membership::Tiers { min, max }`: every `Active` passport whose tier is in `min..=max`."""

    min: int
    max: int
    INDEX: ClassVar[int] = 0

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).u8(self.min).u8(self.max)

    def to_json(self) -> Any:
        return {"tiers": {"min": self.min, "max": self.max}}


@dataclass(frozen=True)
class MembershipSeats:
    """`Membership::Seats(list)`: the seated passports, in the order elected (while `Active`)."""

    seats: Sequence[bytes]
    INDEX: ClassVar[int] = 1

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).vec(self.seats, lambda w2, s: w2.fixed(s, 32))

    def to_json(self) -> Any:
        return {"seats": [s.hex() for s in self.seats]}


Membership = Union[MembershipTiers, MembershipSeats]


def decode_membership(r: Reader) -> Membership:
    if r.variant(2, "Membership") == 0:
        return MembershipTiers(r.u8(), r.u8())
    return MembershipSeats(r.vec(lambda r2: r2.fixed(32)))


def membership_from_json(v: object) -> Membership:
    if isinstance(v, dict) and len(v) == 1:
        if "tiers" in v:
            o = _obj(v["tiers"], "tiers", ("min", "max"))
            return MembershipTiers(_int(o["min"], "min"), _int(o["max"], "max"))
        if "seats" in v:
            return MembershipSeats([from_hex(s, 32, "seat") for s in _list(v["seats"], "seats")])
    raise EncodingError(f"Membership: unexpected JSON {v!r}")


@dataclass(frozen=True)
class Chamber:
    name: str
    membership: Membership
    weighting: Weighting

    def encode_into(self, w: Writer) -> None:
        w.string(self.name)
        self.membership.encode_into(w)
        self.weighting.encode_into(w)

    @classmethod
    def decode(cls, r: Reader) -> "Chamber":
        return cls(r.string(), decode_membership(r), Weighting.decode(r))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "membership": self.membership.to_json(), "weighting": self.weighting.to_json()}

    @classmethod
    def from_json(cls, v: object) -> "Chamber":
        o = _obj(v, "Chamber", ("name", "membership", "weighting"))
        if not isinstance(o["name"], str):
            raise EncodingError("Chamber: name is a string")
        return cls(o["name"], membership_from_json(o["membership"]), Weighting.from_json(o["weighting"]))


# --- kind rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SponsorRule:
    """`needed = min(max(ceil(members × share_bps / 10,000), minimum), 256)` sponsors from `chamber`."""

    chamber: int
    share_bps: int
    minimum: int

    def encode_into(self, w: Writer) -> None:
        w.u8(self.chamber).u16(self.share_bps).u32(self.minimum)

    @classmethod
    def decode(cls, r: Reader) -> "SponsorRule":
        return cls(r.u8(), r.u16(), r.u32())

    def needed(self, members: int) -> int:
        """docs/governance.md §2.3: how many sponsors from a chamber of `members` members."""
        return min(max((members * self.share_bps + 9_999) // 10_000, self.minimum), MAX_SPONSORS)

    def to_json(self) -> dict[str, Any]:
        return {"chamber": self.chamber, "share_bps": self.share_bps, "minimum": self.minimum}

    @classmethod
    def from_json(cls, v: object) -> "SponsorRule":
        o = _obj(v, "SponsorRule", ("chamber", "share_bps", "minimum"))
        return cls(_int(o["chamber"], "chamber"), _int(o["share_bps"], "share_bps"), _int(o["minimum"], "minimum"))


@dataclass(frozen=True)
class ChamberVote:
    """A chamber whose vote a kind needs: it passes with `quorum_bps` turnout and `threshold_bps` yes."""

    chamber: int
    quorum_bps: int
    threshold_bps: int

    def encode_into(self, w: Writer) -> None:
        w.u8(self.chamber).u16(self.quorum_bps).u16(self.threshold_bps)

    @classmethod
    def decode(cls, r: Reader) -> "ChamberVote":
        return cls(r.u8(), r.u16(), r.u16())

    def to_json(self) -> dict[str, Any]:
        return {"chamber": self.chamber, "quorum_bps": self.quorum_bps, "threshold_bps": self.threshold_bps}

    @classmethod
    def from_json(cls, v: object) -> "ChamberVote":
        o = _obj(v, "ChamberVote", ("chamber", "quorum_bps", "threshold_bps"))
        return cls(_int(o["chamber"], "chamber"), _int(o["quorum_bps"], "quorum_bps"),
                   _int(o["threshold_bps"], "threshold_bps"))


@dataclass(frozen=True)
class KindRules:
    sponsors: Sequence[SponsorRule]
    sponsoring_blocks: int
    deliberation_blocks: int
    voting_blocks: int
    enactment_blocks: int
    chambers: Sequence[ChamberVote]

    def encode_into(self, w: Writer) -> None:
        w.vec(self.sponsors, lambda w2, s: s.encode_into(w2))
        w.u64(self.sponsoring_blocks).u64(self.deliberation_blocks).u64(self.voting_blocks).u64(self.enactment_blocks)
        w.vec(self.chambers, lambda w2, c: c.encode_into(w2))

    @classmethod
    def decode(cls, r: Reader) -> "KindRules":
        return cls(r.vec(SponsorRule.decode), r.u64(), r.u64(), r.u64(), r.u64(),
                   r.vec(ChamberVote.decode))

    def to_json(self) -> dict[str, Any]:
        return {"sponsors": [s.to_json() for s in self.sponsors], "sponsoring_blocks": self.sponsoring_blocks,
                "deliberation_blocks": self.deliberation_blocks, "voting_blocks": self.voting_blocks,
                "enactment_blocks": self.enactment_blocks, "chambers": [c.to_json() for c in self.chambers]}

    @classmethod
    def from_json(cls, v: object) -> "KindRules":
        o = _obj(v, "KindRules", ("sponsors", "sponsoring_blocks", "deliberation_blocks", "voting_blocks",
                                  "enactment_blocks", "chambers"))
        return cls([SponsorRule.from_json(s) for s in _list(o["sponsors"], "sponsors")],
                   _int(o["sponsoring_blocks"], "sponsoring_blocks"),
                   _int(o["deliberation_blocks"], "deliberation_blocks"), _int(o["voting_blocks"], "voting_blocks"),
                   _int(o["enactment_blocks"], "enactment_blocks"),
                   [ChamberVote.from_json(c) for c in _list(o["chambers"], "chambers")])


@dataclass(frozen=True)
class Guardians:
    """The keys that may veto a pending process, `threshold` of them together."""

    keys: Sequence[bytes] = field(default_factory=list)
    threshold: int = 0

    def encode_into(self, w: Writer) -> None:
        w.vec(self.keys, lambda w2, k: w2.fixed(k, 32)).u32(self.threshold)

    @classmethod
    def decode(cls, r: Reader) -> "Guardians":
        return cls(r.vec(lambda r2: r2.fixed(32)), r.u32())

    def to_json(self) -> dict[str, Any]:
        return {"keys": [k.hex() for k in self.keys], "threshold": self.threshold}

    @classmethod
    def from_json(cls, v: object) -> "Guardians":
        o = _obj(v, "Guardians", ("keys", "threshold"))
        return cls([from_hex(k, 32, "guardian key") for k in _list(o["keys"], "keys")],
                   _int(o["threshold"], "threshold"))


@dataclass(frozen=True)
class JuryRules:
    """How juries are drawn for cases (escrow disputes, slash cases) and what jurors stake
    (`GovernanceRules.juries`): `size` jurors (odd, at most 63) drawn from pool members of tiers
    `min_tier..=max_tier`, each having locked `juror_bond`; a drawn juror who does not rule loses
    `absence_penalty` to the treasury. A case draws `draw_delay` blocks after it is filed, and
    its jurors rule for `ruling_blocks` blocks after the draw."""

    size: int = 3
    min_tier: int = 0
    max_tier: int = 4
    juror_bond: int = 100
    absence_penalty: int = 10
    draw_delay: int = 5
    ruling_blocks: int = 20

    FIELDS: ClassVar[tuple[str, ...]] = ("size", "min_tier", "max_tier", "juror_bond", "absence_penalty",
                                         "draw_delay", "ruling_blocks")

    @property
    def notice_blocks(self) -> int:
        """Blocks from leaving the pool until the bond returns: `draw_delay + ruling_blocks + 1`."""
        return self.draw_delay + self.ruling_blocks + 1

    def validate(self) -> None:
        """The shape genesis and a rules change must pass; raises `EncodingError`."""
        if self.size % 2 == 0 or self.size > MAX_JURY_SIZE:
            raise EncodingError("a jury has an odd number of jurors, at most 63")
        if self.min_tier > self.max_tier or self.max_tier > 4:
            raise EncodingError("jurors' tiers are min..=max within 0..=4")
        if self.juror_bond == 0 or self.absence_penalty > self.juror_bond:
            raise EncodingError("a juror's bond is positive and at least the absence penalty")
        if not (1 <= self.draw_delay <= MAX_PERIOD_BLOCKS and 1 <= self.ruling_blocks <= MAX_PERIOD_BLOCKS):
            raise EncodingError("a jury's draw delay and ruling period are 1 to 10,000,000 blocks")

    def encode_into(self, w: Writer) -> None:
        w.u32(self.size).u8(self.min_tier).u8(self.max_tier).u64(self.juror_bond).u64(self.absence_penalty)
        w.u64(self.draw_delay).u64(self.ruling_blocks)

    @classmethod
    def decode(cls, r: Reader) -> "JuryRules":
        return cls(r.u32(), r.u8(), r.u8(), r.u64(), r.u64(), r.u64(), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_json(cls, v: object) -> "JuryRules":
        o = _obj(v, "JuryRules", cls.FIELDS)
        return cls(*(_int(o[name], name) for name in cls.FIELDS))


@dataclass(frozen=True)
class GovernanceRules:
    """The chamber rules (`StateKey::GovernanceRules`; a `RulesChange` proposal's payload), and
    the jury rules (`juries`, the last field)."""

    version: int
    chambers: Sequence[Chamber]
    kinds: Sequence[KindRules]
    guardians: Guardians = field(default_factory=Guardians)
    max_delegation_depth: int = 4
    juries: JuryRules = field(default_factory=JuryRules)

    def encode_into(self, w: Writer) -> None:
        w.u64(self.version)
        w.vec(self.chambers, lambda w2, c: c.encode_into(w2))
        w.vec(self.kinds, lambda w2, k: k.encode_into(w2))
        self.guardians.encode_into(w)
        w.u8(self.max_delegation_depth)
        self.juries.encode_into(w)

    def encode(self) -> bytes:
        w = Writer()
        self.encode_into(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> "GovernanceRules":
        return cls(r.u64(), r.vec(Chamber.decode), r.vec(KindRules.decode), Guardians.decode(r), r.u8(),
                   JuryRules.decode(r))

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "chambers": [c.to_json() for c in self.chambers],
                "kinds": [k.to_json() for k in self.kinds], "guardians": self.guardians.to_json(),
                "max_delegation_depth": self.max_delegation_depth, "juries": self.juries.to_json()}

    @classmethod
    def from_json(cls, v: object) -> "GovernanceRules":
        """The JSON of the API, or of a genesis's `governance` field (docs/wire-format.md §7.3:
        `version` defaults to 1, `guardians` to none and `juries` to the default jury rules;
        unknown fields are refused)."""
        o = _obj(v, "GovernanceRules", ("chambers", "kinds", "max_delegation_depth"),
                 ("version", "guardians", "juries"))
        guardians = Guardians.from_json(o["guardians"]) if "guardians" in o else Guardians()
        juries = JuryRules.from_json(o["juries"]) if "juries" in o else JuryRules()
        return cls(_int(o.get("version", 1), "version"),
                   [Chamber.from_json(c) for c in _list(o["chambers"], "chambers")],
                   [KindRules.from_json(k) for k in _list(o["kinds"], "kinds")], guardians,
                   _int(o["max_delegation_depth"], "max_delegation_depth"), juries)

    def kind(self, tag: int) -> KindRules:
        """The rules of process kind `tag` (a `Proposal` tag)."""
        return self.kinds[tag]


# --- the rules the documents list ----------------------------------------------------------


def _kind(sponsors: Sequence[SponsorRule], periods: tuple[int, int, int, int],
          votes: Sequence[tuple[int, int, int]]) -> KindRules:
    return KindRules(list(sponsors), *periods, [ChamberVote(*v) for v in votes])


def _chambers() -> list[Chamber]:
    return [Chamber("core", MembershipTiers(4, 4), Weighting.PerPassport),
            Chamber("council", MembershipTiers(3, 3), Weighting.PerPassport),
            Chamber("members", MembershipTiers(0, 2), Weighting.PerPassport)]


def default_governance_rules() -> GovernanceRules:
    """docs/governance.md §2.6: what a genesis without `governance` gets."""
    core = [SponsorRule(0, 0, 1)]
    std = (100, 20, 40, 10)
    half = [(0, 5_000, 5_001), (2, 1_000, 5_001)]
    kinds = [
        _kind(core, std, [(0, 5_000, 6_667), (2, 1_000, 6_667)]),
        _kind(core, (100, 0, 20, 10), [(0, 5_000, 5_001)]),
        _kind(core, std, half), _kind(core, std, half), _kind(core, std, half), _kind(core, std, half),
        _kind(core, (100, 40, 80, 10), [(0, 5_000, 6_667), (1, 5_000, 6_667), (2, 2_000, 6_667)]),
    ]
    return GovernanceRules(1, _chambers(), kinds, Guardians(), 4)


def dev_governance_rules(guardian_keys: Sequence[bytes], threshold: int) -> GovernanceRules:
    """docs/governance.md §2.7: the default rules with short periods (sponsoring 50; deliberation,
    voting, enactment 5, 15, 5, or 10, 30, 10 for a rules change), a second sponsor rule for
    resolutions (members: 100 bps, at least 2), guardians, and juries drawn 3 blocks after filing
    that rule for 10 (the rest of the jury rules are the defaults)."""
    d = default_governance_rules()
    kinds: list[KindRules] = []
    for tag, k in enumerate(d.kinds):
        periods = (50, 10, 30, 10) if tag == 6 else (50, 5, 15, 5)
        sponsors = list(k.sponsors) + ([SponsorRule(2, 100, 2)] if tag == 5 else [])
        kinds.append(KindRules(sponsors, *periods, k.chambers))
    return GovernanceRules(1, list(d.chambers), kinds, Guardians(list(guardian_keys), threshold),
                           d.max_delegation_depth, JuryRules(draw_delay=3, ruling_blocks=10))


__all__ = [
    "MAX_CHAMBERS", "MAX_CHAMBER_NAME_BYTES", "MAX_SEATS", "MAX_GUARDIANS", "MAX_SPONSORS", "MAX_PERIOD_BLOCKS",
    "MAX_DELEGATION_DEPTH", "MAX_DELEGATORS", "MAX_TEXT_BYTES", "MAX_JURY_SIZE", "PROCESS_KINDS", "SnakeEnum",
    "Weighting", "Verdict",
    "MembershipTiers", "MembershipSeats", "Membership", "decode_membership", "membership_from_json", "Chamber",
    "SponsorRule", "ChamberVote", "KindRules", "Guardians", "JuryRules", "GovernanceRules", "default_governance_rules",
    "dev_governance_rules",
]
