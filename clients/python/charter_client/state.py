"""State keys (docs/wire-format.md §6, docs/proofs.md §6.2) and the stored values a node serves
with `?proof=true` (docs/proofs.md §7; the governance objects of docs/wire-format.md §7): strict
Borsh decoders and their JSON forms. `GovernanceRules` itself is in `charter_client.governance`
(re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, ClassVar, Optional, Sequence, Union

from .actions import Choice, Proposal, decode_proposal
from .encoding import Reader, Writer, decode_all
from .errors import EncodingError
from .governance import Chamber, GovernanceRules, JuryRules, KindRules, SnakeEnum, Verdict
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
    GovernanceRules = 15
    Electorate = 16
    NextProcess = 17
    Process = 18
    ProcessesDue = 19
    Ballot = 20
    Voters = 21
    Delegation = 22
    Delegators = 23
    Beacon = 24
    JuryPool = 25
    Juror = 26
    NextJuryCase = 27
    JuryCase = 28
    JuryDeadlines = 29
    LastJuryClose = 30
    SlashCasesAgainst = 31
    SlashRulingCase = 32


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

    # governance (docs/wire-format.md §6, docs/proofs.md §6.2: keys 15 to 23)

    @classmethod
    def governance_rules(cls) -> "StateKey":
        return cls(StateKeyKind.GovernanceRules)

    @classmethod
    def electorate(cls) -> "StateKey":
        return cls(StateKeyKind.Electorate)

    @classmethod
    def next_process(cls) -> "StateKey":
        return cls(StateKeyKind.NextProcess)

    @classmethod
    def process(cls, process: int) -> "StateKey":
        return cls(StateKeyKind.Process, Writer().u64(process).getvalue())

    @classmethod
    def processes_due(cls, height: int) -> "StateKey":
        return cls(StateKeyKind.ProcessesDue, Writer().u64(height).getvalue())

    @classmethod
    def ballot(cls, process: int, voter: bytes) -> "StateKey":
        return cls(StateKeyKind.Ballot, Writer().u64(process).fixed(voter, 32).getvalue())

    @classmethod
    def voters(cls, process: int) -> "StateKey":
        return cls(StateKeyKind.Voters, Writer().u64(process).getvalue())

    @classmethod
    def delegation(cls, pid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Delegation, pid)

    @classmethod
    def delegators(cls, pid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Delegators, pid)

    # juries and slash cases (keys 24 to 32)

    @classmethod
    def beacon(cls) -> "StateKey":
        return cls(StateKeyKind.Beacon)

    @classmethod
    def jury_pool(cls) -> "StateKey":
        return cls(StateKeyKind.JuryPool)

    @classmethod
    def juror(cls, pid: bytes) -> "StateKey":
        return cls._id(StateKeyKind.Juror, pid)

    @classmethod
    def next_jury_case(cls) -> "StateKey":
        return cls(StateKeyKind.NextJuryCase)

    @classmethod
    def jury_case(cls, case: int) -> "StateKey":
        return cls(StateKeyKind.JuryCase, Writer().u64(case).getvalue())

    @classmethod
    def jury_deadlines(cls, height: int) -> "StateKey":
        return cls(StateKeyKind.JuryDeadlines, Writer().u64(height).getvalue())

    @classmethod
    def last_jury_close(cls) -> "StateKey":
        return cls(StateKeyKind.LastJuryClose)

    @classmethod
    def slash_cases_against(cls, pid: bytes) -> "StateKey":
        """The slash cases open before juries against a passport (`JuryCaseIds`)."""
        return cls._id(StateKeyKind.SlashCasesAgainst, pid)

    @classmethod
    def slash_ruling_case(cls, case: bytes) -> "StateKey":
        """The `SlashRuling` process proposed last under an arbiters' case number
        (`SlashRulingProcess`): while that process is pending (`Sponsoring`, `Open` or `Passed`),
        a `RequestSlashJury` or another `Propose` of a `SlashRuling` under the number is refused
        with `case_held_by_process`. Key `0x20 ‖ case`, 33 bytes; no API route serves it."""
        return cls._id(StateKeyKind.SlashRulingCase, case)


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
    #: Disputed and sent to a jury, whose ruling settles it (it still holds its amount).
    BeforeJury = 5


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


# --- governance objects (docs/wire-format.md §7) -------------------------------------------


@dataclass(frozen=True)
class Electorate:
    """Per tier 0 to 4: how many `Active` passports, and the sum of their bonds' `bonded`."""

    passports: Sequence[int]
    bonded: Sequence[int]

    @classmethod
    def decode(cls, r: Reader) -> "Electorate":
        return cls([r.u64() for _ in range(5)], [r.u64() for _ in range(5)])

    def encode(self) -> bytes:
        if len(self.passports) != 5 or len(self.bonded) != 5:
            raise EncodingError("an electorate has 5 tiers")
        w = Writer()
        for v in (*self.passports, *self.bonded):
            w.u64(v)
        return w.getvalue()

    def to_json(self) -> dict[str, Any]:
        return {"passports": list(self.passports), "bonded": list(self.bonded)}


@dataclass(frozen=True)
class Schedule:
    sponsored_at: int
    voting_opens: int
    voting_closes: int
    executes_at: int

    @classmethod
    def starting(cls, sponsored_at: int, rules: KindRules) -> "Schedule":
        """`Schedule::starting` (docs/governance.md §4)."""
        opens = sponsored_at + rules.deliberation_blocks + 1
        closes = opens + rules.voting_blocks - 1
        return cls(sponsored_at, opens, closes, closes + rules.enactment_blocks)

    def encode_into(self, w: Writer) -> None:
        w.u64(self.sponsored_at).u64(self.voting_opens).u64(self.voting_closes).u64(self.executes_at)

    @classmethod
    def decode(cls, r: Reader) -> "Schedule":
        return cls(r.u64(), r.u64(), r.u64(), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"sponsored_at": self.sponsored_at, "voting_opens": self.voting_opens,
                "voting_closes": self.voting_closes, "executes_at": self.executes_at}


class ProcessStatus(SnakeEnum):
    Sponsoring = 0
    Open = 1
    Passed = 2
    Executed = 3
    Failed = 4
    Rejected = 5
    Vetoed = 6
    Expired = 7

    @property
    def final(self) -> bool:
        """Nothing changes a process in this status again."""
        return self >= ProcessStatus.Executed

    @property
    def pending(self) -> bool:
        """`Sponsoring`, `Open` or `Passed` (`ProcessStatus::is_pending`): a veto can still stop
        it, and a `SlashRuling` in this status holds its case number (`case_held_by_process`)."""
        return not self.final


@dataclass(frozen=True)
class ChamberTally:
    chamber: int
    eligible: int
    yes: int
    no: int
    abstain: int
    quorum_bps: int
    threshold_bps: int
    passed: bool

    def judge(self) -> bool:
        """docs/governance.md §2.4 (`ChamberTally::judge`): quorum met and threshold met."""
        turnout = self.yes + self.no + self.abstain
        quorum = turnout * 10_000 >= self.quorum_bps * self.eligible
        threshold = self.yes > 0 and self.yes * 10_000 >= self.threshold_bps * (self.yes + self.no)
        return quorum and threshold

    def encode_into(self, w: Writer) -> None:
        w.u8(self.chamber).u128(self.eligible).u128(self.yes).u128(self.no).u128(self.abstain)
        w.u16(self.quorum_bps).u16(self.threshold_bps).bool(self.passed)

    @classmethod
    def decode(cls, r: Reader) -> "ChamberTally":
        return cls(r.u8(), r.u128(), r.u128(), r.u128(), r.u128(), r.u16(), r.u16(), r.bool())

    def to_json(self) -> dict[str, Any]:
        return {"chamber": self.chamber, "eligible": self.eligible, "yes": self.yes, "no": self.no,
                "abstain": self.abstain, "quorum_bps": self.quorum_bps, "threshold_bps": self.threshold_bps,
                "passed": self.passed}


class _Event:
    INDEX: ClassVar[int]
    EVENT: ClassVar[str]
    height: int

    def encode_extra(self, w: Writer) -> None:
        pass

    def extra_json(self) -> dict[str, Any]:
        return {}

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).u64(self.height)
        self.encode_extra(w)

    def to_json(self) -> dict[str, Any]:
        """Internally tagged by `event`, the fields beside the tag."""
        return {"event": self.EVENT, "height": self.height, **self.extra_json()}


@dataclass(frozen=True)
class ProcessProposed(_Event):
    height: int
    INDEX: ClassVar[int] = 0
    EVENT: ClassVar[str] = "proposed"


@dataclass(frozen=True)
class ProcessScheduled(_Event):
    height: int
    INDEX: ClassVar[int] = 1
    EVENT: ClassVar[str] = "scheduled"


@dataclass(frozen=True)
class ProcessTallied(_Event):
    height: int
    passed: bool
    INDEX: ClassVar[int] = 2
    EVENT: ClassVar[str] = "tallied"

    def encode_extra(self, w: Writer) -> None:
        w.bool(self.passed)

    def extra_json(self) -> dict[str, Any]:
        return {"passed": self.passed}


@dataclass(frozen=True)
class ProcessExecuted(_Event):
    height: int
    INDEX: ClassVar[int] = 3
    EVENT: ClassVar[str] = "executed"


@dataclass(frozen=True)
class ProcessExecutionFailed(_Event):
    height: int
    code: str
    INDEX: ClassVar[int] = 4
    EVENT: ClassVar[str] = "execution_failed"

    def encode_extra(self, w: Writer) -> None:
        w.string(self.code)

    def extra_json(self) -> dict[str, Any]:
        return {"code": self.code}


@dataclass(frozen=True)
class ProcessVetoed(_Event):
    height: int
    reason: str
    guardians: Sequence[bytes]
    INDEX: ClassVar[int] = 5
    EVENT: ClassVar[str] = "vetoed"

    def encode_extra(self, w: Writer) -> None:
        w.string(self.reason).vec(self.guardians, lambda w2, k: w2.fixed(k, 32))

    def extra_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "guardians": [k.hex() for k in self.guardians]}


@dataclass(frozen=True)
class ProcessExpired(_Event):
    height: int
    INDEX: ClassVar[int] = 6
    EVENT: ClassVar[str] = "expired"


ProcessEvent = Union[ProcessProposed, ProcessScheduled, ProcessTallied, ProcessExecuted, ProcessExecutionFailed,
                     ProcessVetoed, ProcessExpired]


def decode_process_event(r: Reader) -> ProcessEvent:
    tag = r.variant(7, "ProcessEvent")
    h = r.u64()
    if tag == 0:
        return ProcessProposed(h)
    if tag == 1:
        return ProcessScheduled(h)
    if tag == 2:
        return ProcessTallied(h, r.bool())
    if tag == 3:
        return ProcessExecuted(h)
    if tag == 4:
        return ProcessExecutionFailed(h, r.string())
    if tag == 5:
        return ProcessVetoed(h, r.string(), r.vec(_get32))
    return ProcessExpired(h)


@dataclass(frozen=True)
class Process:
    """A governance process (`StateKey::Process(id)`), with copies of the rules it runs under."""

    id: int
    proposal: Proposal
    proposer: bytes
    sponsors: Sequence[bytes]
    rules_version: int
    rules: KindRules
    chambers: Sequence[Chamber]
    max_delegation_depth: int
    proposed_at: int
    schedule: Optional[Schedule]
    status: ProcessStatus
    tallies: Sequence[ChamberTally]
    history: Sequence[ProcessEvent]

    @property
    def kind(self) -> int:
        """The process kind: its proposal's tag."""
        return self.proposal.INDEX

    @property
    def sponsoring_closes(self) -> int:
        """The last block in which a sponsor still counts (`Process::sponsoring_closes`)."""
        return self.proposed_at + self.rules.sponsoring_blocks

    def encode(self) -> bytes:
        w = Writer().u64(self.id)
        self.proposal.encode_into(w)
        w.fixed(self.proposer, 32).vec(self.sponsors, lambda w2, p: w2.fixed(p, 32)).u64(self.rules_version)
        self.rules.encode_into(w)
        w.vec(self.chambers, lambda w2, c: c.encode_into(w2)).u8(self.max_delegation_depth).u64(self.proposed_at)
        w.option(self.schedule, lambda w2, s: s.encode_into(w2)).u8(int(self.status))
        w.vec(self.tallies, lambda w2, t: t.encode_into(w2)).vec(self.history, lambda w2, e: e.encode_into(w2))
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> "Process":
        return cls(r.u64(), decode_proposal(r), r.fixed(32), r.vec(_get32), r.u64(), KindRules.decode(r),
                   r.vec(Chamber.decode), r.u8(), r.u64(), r.option(Schedule.decode), ProcessStatus.decode(r),
                   r.vec(ChamberTally.decode), r.vec(decode_process_event))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "proposal": self.proposal.to_json(), "proposer": self.proposer.hex(),
                "sponsors": [p.hex() for p in self.sponsors], "rules_version": self.rules_version,
                "rules": self.rules.to_json(), "chambers": [c.to_json() for c in self.chambers],
                "max_delegation_depth": self.max_delegation_depth, "proposed_at": self.proposed_at, "schedule": None if self.schedule is None else self.schedule.to_json(),
                "status": self.status.to_json(), "tallies": [t.to_json() for t in self.tallies],
                "history": [e.to_json() for e in self.history]}


@dataclass(frozen=True)
class Ballot:
    """A voter's current choice on a process (`StateKey::Ballot { process, voter }`)."""

    choice: Choice
    cast_at: int

    @classmethod
    def decode(cls, r: Reader) -> "Ballot":
        return cls(Choice.decode(r), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"choice": self.choice.to_json(), "cast_at": self.cast_at}


@dataclass(frozen=True)
class Delegation:
    """A passport's standing delegation of its vote (`StateKey::Delegation(p)`)."""

    to: bytes
    since: int

    @classmethod
    def decode(cls, r: Reader) -> "Delegation":
        return cls(r.fixed(32), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"to": self.to.hex(), "since": self.since}


@dataclass(frozen=True)
class PassportIds:
    """`Vec<PassportId>`, ascending bytewise: the value under `Voters(id)` and `Delegators(p)`;
    its JSON is the plain array of ids."""

    ids: Sequence[bytes]

    @classmethod
    def decode(cls, r: Reader) -> "PassportIds":
        return cls(r.vec(_get32))

    def to_json(self) -> list[str]:
        return [i.hex() for i in self.ids]


@dataclass(frozen=True)
class ProcessIds:
    """`Vec<ProcessId>`, ascending: the value under `ProcessesDue(h)`."""

    ids: Sequence[int]

    @classmethod
    def decode(cls, r: Reader) -> "ProcessIds":
        return cls(r.vec(lambda r2: r2.u64()))

    def to_json(self) -> list[int]:
        return list(self.ids)


# --- juries (the beacon, the pool, jurors and cases) ---------------------------------------


@dataclass(frozen=True)
class Beacon:
    """The cell's randomness after block `height` (`StateKey::Beacon`): `mix` chains every
    block's reveal, `mix(h) = blake3(mix(h − 1) ‖ reveal(h))` (`charter_client.juries`)."""

    height: int
    mix: bytes

    def encode(self) -> bytes:
        return Writer().u64(self.height).fixed(self.mix, 32).getvalue()

    @classmethod
    def decode(cls, r: Reader) -> "Beacon":
        return cls(r.u64(), r.fixed(32))

    def to_json(self) -> dict[str, Any]:
        return {"height": self.height, "mix": self.mix.hex()}


@dataclass(frozen=True)
class Juror:
    """A passport's standing as a juror (`StateKey::Juror(p)`): its bond, when it joined, and
    (once it left the pool, or was removed for absence) the height at whose end the rest of the
    bond returns."""

    bond: int
    joined_at: int
    released_at: Optional[int]

    def encode(self) -> bytes:
        return Writer().u64(self.bond).u64(self.joined_at).option(self.released_at, lambda w, v: w.u64(v)).getvalue()

    @classmethod
    def decode(cls, r: Reader) -> "Juror":
        return cls(r.u64(), r.u64(), r.option(lambda r2: r2.u64()))

    def to_json(self) -> dict[str, Any]:
        return {"bond": self.bond, "joined_at": self.joined_at, "released_at": self.released_at}


class CaseStatus(SnakeEnum):
    AwaitingDraw = 0
    Ruling = 1
    Settled = 2


@dataclass(frozen=True)
class JurorRuling:
    juror: bytes
    verdict: Verdict
    height: int

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.juror, 32)
        self.verdict.encode_into(w)
        w.u64(self.height)

    @classmethod
    def decode(cls, r: Reader) -> "JurorRuling":
        return cls(r.fixed(32), Verdict.decode(r), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"juror": self.juror.hex(), "verdict": self.verdict.to_json(), "height": self.height}


@dataclass(frozen=True)
class CaseOutcome:
    """How a case closed: the count, the verdict (`ForClaim` only when more than half the jurors
    drawn ruled for the claim: `2 × for_claim > len(jurors)`; ties, silence and absences give
    `AgainstClaim`), the drawn jurors who did not rule, what they lost in total, and what an
    upheld slash case took from the offender's stake (at most its `amount` and the stake it had;
    0 for an escrow, or a slash not upheld)."""

    for_claim: int
    against_claim: int
    verdict: Verdict
    absent: Sequence[bytes]
    penalties: int
    slashed: int

    def encode_into(self, w: Writer) -> None:
        w.u32(self.for_claim).u32(self.against_claim)
        self.verdict.encode_into(w)
        w.vec(self.absent, lambda w2, p: w2.fixed(p, 32)).u64(self.penalties).u64(self.slashed)

    @classmethod
    def decode(cls, r: Reader) -> "CaseOutcome":
        return cls(r.u32(), r.u32(), Verdict.decode(r), r.vec(_get32), r.u64(), r.u64())

    def to_json(self) -> dict[str, Any]:
        return {"for_claim": self.for_claim, "against_claim": self.against_claim, "verdict": self.verdict.to_json(),
                "absent": [p.hex() for p in self.absent], "penalties": self.penalties, "slashed": self.slashed}


@dataclass(frozen=True)
class CaseFiled(_Event):
    height: int
    by: bytes
    INDEX: ClassVar[int] = 0
    EVENT: ClassVar[str] = "filed"

    def encode_extra(self, w: Writer) -> None:
        w.fixed(self.by, 32)

    def extra_json(self) -> dict[str, Any]:
        return {"by": self.by.hex()}


@dataclass(frozen=True)
class CaseDrawn(_Event):
    height: int
    INDEX: ClassVar[int] = 1
    EVENT: ClassVar[str] = "drawn"


@dataclass(frozen=True)
class CaseSettled(_Event):
    height: int
    verdict: Verdict
    INDEX: ClassVar[int] = 2
    EVENT: ClassVar[str] = "settled"

    def encode_extra(self, w: Writer) -> None:
        self.verdict.encode_into(w)

    def extra_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict.to_json()}


CaseEvent = Union[CaseFiled, CaseDrawn, CaseSettled]


def decode_case_event(r: Reader) -> CaseEvent:
    tag = r.variant(3, "CaseEvent")
    h = r.u64()
    if tag == 0:
        return CaseFiled(h, r.fixed(32))
    if tag == 1:
        return CaseDrawn(h)
    return CaseSettled(h, Verdict.decode(r))


@dataclass(frozen=True)
class CaseEscrow:
    """`CaseSubject::Escrow(id)`: a disputed escrow, filed by its payer or payee; its claim is the
    payee's (the escrow should be paid to it). A case's pool leaves out the payer, the payee and
    the arbiter."""

    escrow: bytes
    INDEX: ClassVar[int] = 0

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.escrow, 32)

    def to_json(self) -> Any:
        return {"escrow": self.escrow.hex()}


@dataclass(frozen=True)
class CaseSlash:
    """`CaseSubject::Slash { offender, amount, case }`: a slash of up to `amount` of the offender's
    stake under the arbiters' case number `case`, filed by a member of the arbiter panel
    (`RequestSlashJury`); its claim is the filer's (the offender should lose `amount`). A case's
    pool leaves out the offender, the filer, the offender's sponsor and every passport forked from
    the offender, transitively: those the slash reaches (`charter_client.juries.slash_case_parties`)."""

    offender: bytes
    amount: int
    case: bytes
    INDEX: ClassVar[int] = 1

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.offender, 32).u64(self.amount).fixed(self.case, 32)

    def to_json(self) -> Any:
        return {"slash": {"offender": self.offender.hex(), "amount": self.amount, "case": self.case.hex()}}


CaseSubject = Union[CaseEscrow, CaseSlash]


def decode_case_subject(r: Reader) -> CaseSubject:
    tag = r.variant(2, "CaseSubject")
    if tag == 0:
        return CaseEscrow(r.fixed(32))
    return CaseSlash(r.fixed(32), r.u64(), r.fixed(32))


@dataclass(frozen=True)
class JuryCase:
    """A case before a jury (`StateKey::JuryCase(id)`): an escrow dispute or a slash case (its
    `subject`), with what a reader needs to check its draw (`pool`, `seed`:
    `charter_client.juries.draw_jury`) and its ruling (`charter_client.juries.check_outcome`)."""

    id: int
    subject: CaseSubject
    rules_version: int
    rules: JuryRules
    filed_at: int
    draw_at: int
    closes_at: int
    pool: Sequence[bytes]
    seed: Optional[bytes]
    jurors: Sequence[bytes]
    rulings: Sequence[JurorRuling]
    status: CaseStatus
    outcome: Optional[CaseOutcome]
    history: Sequence[CaseEvent]

    def encode(self) -> bytes:
        w = Writer().u64(self.id)
        self.subject.encode_into(w)
        w.u64(self.rules_version)
        self.rules.encode_into(w)
        w.u64(self.filed_at).u64(self.draw_at).u64(self.closes_at).vec(self.pool, lambda w2, p: w2.fixed(p, 32))
        w.option(self.seed, lambda w2, s: w2.fixed(s, 32)).vec(self.jurors, lambda w2, p: w2.fixed(p, 32))
        w.vec(self.rulings, lambda w2, x: x.encode_into(w2))
        self.status.encode_into(w)
        w.option(self.outcome, lambda w2, o: o.encode_into(w2)).vec(self.history, lambda w2, e: e.encode_into(w2))
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> "JuryCase":
        return cls(r.u64(), decode_case_subject(r), r.u64(), JuryRules.decode(r), r.u64(), r.u64(), r.u64(),
                   r.vec(_get32), r.option(_get32), r.vec(_get32), r.vec(JurorRuling.decode), CaseStatus.decode(r),
                   r.option(CaseOutcome.decode), r.vec(decode_case_event))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "subject": self.subject.to_json(), "rules_version": self.rules_version,
                "rules": self.rules.to_json(), "filed_at": self.filed_at, "draw_at": self.draw_at,
                "closes_at": self.closes_at, "pool": [p.hex() for p in self.pool], "seed": _opt_hex(self.seed),
                "jurors": [p.hex() for p in self.jurors], "rulings": [x.to_json() for x in self.rulings],
                "status": self.status.to_json(),
                "outcome": None if self.outcome is None else self.outcome.to_json(),
                "history": [e.to_json() for e in self.history]}


@dataclass(frozen=True)
class NextJuryCase:
    """The value under `NextJuryCase`: the id the next case gets (the count of cases so far)."""

    id: int

    @classmethod
    def decode(cls, r: Reader) -> "NextJuryCase":
        return cls(r.u64())

    def to_json(self) -> int:
        return self.id


@dataclass(frozen=True)
class JuryCaseIds:
    """`Vec<JuryCaseId>`, ascending: the value under `SlashCasesAgainst(p)`, the slash cases open
    against `p` (absent when there are none); its JSON is the plain array of ids."""

    ids: Sequence[int]

    @classmethod
    def decode(cls, r: Reader) -> "JuryCaseIds":
        return cls(r.vec(lambda r2: r2.u64()))

    def encode(self) -> bytes:
        return Writer().vec(self.ids, lambda w, i: w.u64(i)).getvalue()

    def to_json(self) -> list[int]:
        return list(self.ids)


@dataclass(frozen=True)
class SlashRulingProcess:
    """The value under `SlashRulingCase(case)`: the id of the `SlashRuling` process proposed last
    under that arbiters' case number (a `ProcessId`, u64 little-endian). Written by the `Propose`,
    never deleted; the number is held only while that process is pending."""

    process: int

    @classmethod
    def decode(cls, r: Reader) -> "SlashRulingProcess":
        return cls(r.u64())

    def encode(self) -> bytes:
        return Writer().u64(self.process).getvalue()

    def to_json(self) -> int:
        return self.process


@dataclass(frozen=True)
class LastJuryClose:
    """The value under `LastJuryClose`: the last height at which any case filed so far closes;
    a leaving juror's bond returns only after it."""

    height: int

    @classmethod
    def decode(cls, r: Reader) -> "LastJuryClose":
        return cls(r.u64())

    def to_json(self) -> int:
        return self.height


@dataclass(frozen=True)
class JuryDraw:
    """`JuryDeadline::Draw(case)`: the case draws its jury at the end of the block."""

    case: int
    INDEX: ClassVar[int] = 0

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).u64(self.case)

    def to_json(self) -> Any:
        return {"draw": self.case}


@dataclass(frozen=True)
class JuryClose:
    """`JuryDeadline::Close(case)`: the case closes at the end of the block (it pays the escrow
    out, or slashes the offender or not, by the verdict)."""

    case: int
    INDEX: ClassVar[int] = 1

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).u64(self.case)

    def to_json(self) -> Any:
        return {"close": self.case}


@dataclass(frozen=True)
class JuryReleaseJuror:
    """`JuryDeadline::ReleaseJuror(p)`: the rest of the juror's bond returns at the end of the block."""

    passport: bytes
    INDEX: ClassVar[int] = 2

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.passport, 32)

    def to_json(self) -> Any:
        return {"release_juror": self.passport.hex()}


JuryDeadline = Union[JuryDraw, JuryClose, JuryReleaseJuror]


def decode_jury_deadline(r: Reader) -> JuryDeadline:
    tag = r.variant(3, "JuryDeadline")
    if tag == 0:
        return JuryDraw(r.u64())
    if tag == 1:
        return JuryClose(r.u64())
    return JuryReleaseJuror(r.fixed(32))


@dataclass(frozen=True)
class JuryDeadlines:
    """`Vec<JuryDeadline>`, sorted: the value under `JuryDeadlines(h)`."""

    deadlines: Sequence[JuryDeadline]

    @classmethod
    def decode(cls, r: Reader) -> "JuryDeadlines":
        return cls(r.vec(decode_jury_deadline))

    def to_json(self) -> list[Any]:
        return [d.to_json() for d in self.deadlines]


__all__ = [
    "StateKeyKind", "StateKey", "PassportStatus", "EscrowStatus", "SanctionRecord", "Passport", "UnbondingEntry",
    "Bond", "Escrow", "Validator", "ActiveValidator", "ActiveValidators", "BridgeRuling", "CellModeState",
    "GovernanceRules", "Electorate", "Schedule", "ProcessStatus", "ChamberTally", "ProcessProposed",
    "ProcessScheduled", "ProcessTallied", "ProcessExecuted", "ProcessExecutionFailed", "ProcessVetoed",
    "ProcessExpired", "ProcessEvent", "decode_process_event", "Process", "Ballot", "Delegation", "PassportIds",
    "ProcessIds", "decode_value", "JuryRules", "Verdict", "Beacon", "Juror", "CaseStatus", "JurorRuling",
    "CaseOutcome", "CaseFiled", "CaseDrawn", "CaseSettled", "CaseEvent", "decode_case_event", "JuryCase",
    "NextJuryCase", "JuryDraw", "JuryClose", "JuryReleaseJuror", "JuryDeadline", "decode_jury_deadline",
    "JuryDeadlines", "CaseEscrow", "CaseSlash", "CaseSubject", "decode_case_subject", "JuryCaseIds", "LastJuryClose",
    "SlashRulingProcess",
]


def decode_value(data: bytes, decoder: Callable[[Reader], Any]) -> Any:
    """Decode one stored value strictly (no trailing bytes)."""
    return decode_all(data, decoder)
