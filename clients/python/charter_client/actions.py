"""Every action a transaction can carry (docs/wire-format.md §4, docs/actions.md,
docs/governance.md), with its Borsh encoding, strict decoding and the JSON form the API serves
(serde's external tagging)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional, Sequence, Union

from . import bls
from .encoding import Reader, Writer, from_hex
from .errors import EncodingError
from .governance import GovernanceRules, SnakeEnum, Verdict
from .keys import SigningKey
from .statements import (
    BridgeRulingTerms, CellMode, ModeChangeTerms, RegistrationTerms, RulingTerms, SanctionKind, VetoTerms, Vote,
)


def _put32(w: Writer, b: bytes) -> None:
    w.fixed(b, 32)


def _get32(r: Reader) -> bytes:
    return r.fixed(32)


def _h32(v: object, what: str) -> bytes:
    return from_hex(v, 32, what)


def _keys_from_json(v: object, what: str) -> list[bytes]:
    if not isinstance(v, list):
        raise EncodingError(f"{what}: expected a list")
    return [from_hex(x, 32, what) for x in v]


def _opt32_json(v: Optional[bytes]) -> Optional[str]:
    return None if v is None else v.hex()


def _opt32_from_json(v: object, what: str) -> Optional[bytes]:
    return None if v is None else from_hex(v, 32, what)


# --- nested types ------------------------------------------------------------------------


@dataclass(frozen=True)
class ArbiterApproval:
    """An arbiter-panel member's signature, by one of its controller keys, over `RulingTerms`."""

    arbiter: bytes
    key: bytes
    signature: bytes

    @classmethod
    def sign(cls, arbiter: bytes, key: SigningKey, terms: RulingTerms) -> "ArbiterApproval":
        return cls(arbiter, key.public_key, key.sign(terms.signing_bytes()))

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.arbiter, 32).fixed(self.key, 32).fixed(self.signature, 64)

    @classmethod
    def decode(cls, r: Reader) -> "ArbiterApproval":
        return cls(r.fixed(32), r.fixed(32), r.fixed(64))

    def to_json(self) -> dict[str, Any]:
        return {"arbiter": self.arbiter.hex(), "key": self.key.hex(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "ArbiterApproval":
        return cls(_h32(o["arbiter"], "arbiter"), _h32(o["key"], "key"), from_hex(o["signature"], 64, "signature"))


@dataclass(frozen=True)
class ValidatorApproval:
    """A validator's signature, by its consensus key, over `ModeChangeTerms` or `BridgeRulingTerms`."""

    validator: bytes
    signature: bytes

    @classmethod
    def sign(cls, validator: bytes, consensus_key: SigningKey,
             terms: Union[ModeChangeTerms, BridgeRulingTerms]) -> "ValidatorApproval":
        return cls(validator, consensus_key.sign(terms.signing_bytes()))

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.validator, 32).fixed(self.signature, 64)

    @classmethod
    def decode(cls, r: Reader) -> "ValidatorApproval":
        return cls(r.fixed(32), r.fixed(64))

    def to_json(self) -> dict[str, Any]:
        return {"validator": self.validator.hex(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "ValidatorApproval":
        return cls(_h32(o["validator"], "validator"), from_hex(o["signature"], 64, "signature"))


def _put_arb(w: Writer, a: ArbiterApproval) -> None:
    a.encode_into(w)


def _put_val(w: Writer, a: ValidatorApproval) -> None:
    a.encode_into(w)


@dataclass(frozen=True)
class SignedVote:
    vote: Vote
    validator_key: bytes
    signature: bytes

    @classmethod
    def sign(cls, vote: Vote, consensus_key: SigningKey) -> "SignedVote":
        return cls(vote, consensus_key.public_key, consensus_key.sign(vote.signing_bytes()))

    def encode_into(self, w: Writer) -> None:
        self.vote.encode_into(w)
        w.fixed(self.validator_key, 32).fixed(self.signature, 64)

    @classmethod
    def decode(cls, r: Reader) -> "SignedVote":
        return cls(Vote.decode(r), r.fixed(32), r.fixed(64))

    def to_json(self) -> dict[str, Any]:
        return {"vote": self.vote.to_json(), "validator_key": self.validator_key.hex(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "SignedVote":
        return cls(Vote.from_json(o["vote"]), _h32(o["validator_key"], "validator_key"), from_hex(o["signature"], 64, "signature"))


@dataclass(frozen=True)
class ConsentSubject:
    """`Consent::Subject`: the sender is the subject; its envelope signature is the consent."""

    INDEX: ClassVar[int] = 0

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX)

    def to_json(self) -> Any:
        return "Subject"


@dataclass(frozen=True)
class ConsentRuling:
    """`Consent::Ruling`: an arbiter-panel ruling `Ruling::RotateKeys` under `case`."""

    case: bytes
    approvals: Sequence[ArbiterApproval]
    INDEX: ClassVar[int] = 1

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.case, 32).vec(self.approvals, _put_arb)

    def to_json(self) -> Any:
        return {"Ruling": {"case": self.case.hex(), "approvals": [a.to_json() for a in self.approvals]}}


Consent = Union[ConsentSubject, ConsentRuling]


def _decode_consent(r: Reader) -> Consent:
    tag = r.variant(2, "Consent")
    if tag == 0:
        return ConsentSubject()
    return ConsentRuling(r.fixed(32), r.vec(ArbiterApproval.decode))


def _consent_from_json(v: object) -> Consent:
    if v == "Subject":
        return ConsentSubject()
    if isinstance(v, dict) and set(v) == {"Ruling"}:
        o = v["Ruling"]
        return ConsentRuling(_h32(o["case"], "case"), [ArbiterApproval.from_json(a) for a in o["approvals"]])
    raise EncodingError(f"Consent: unexpected JSON {v!r}")


@dataclass(frozen=True)
class DoubleVote:
    """`SlashEvidence::DoubleVote`: two conflicting votes by one consensus key."""

    first: SignedVote
    second: SignedVote
    INDEX: ClassVar[int] = 0

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX)
        self.first.encode_into(w)
        self.second.encode_into(w)

    def to_json(self) -> Any:
        return {"DoubleVote": {"first": self.first.to_json(), "second": self.second.to_json()}}


@dataclass(frozen=True)
class ArbiterRuling:
    """`SlashEvidence::ArbiterRuling`: an arbiter-panel ruling `Ruling::Slash` under `case`."""

    offender: bytes
    amount: int
    case: bytes
    approvals: Sequence[ArbiterApproval]
    INDEX: ClassVar[int] = 1

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX).fixed(self.offender, 32).u64(self.amount).fixed(self.case, 32).vec(self.approvals, _put_arb)

    def to_json(self) -> Any:
        return {"ArbiterRuling": {"offender": self.offender.hex(), "amount": self.amount, "case": self.case.hex(),
                                  "approvals": [a.to_json() for a in self.approvals]}}


SlashEvidence = Union[DoubleVote, ArbiterRuling]


def _decode_evidence(r: Reader) -> SlashEvidence:
    tag = r.variant(2, "SlashEvidence")
    if tag == 0:
        return DoubleVote(SignedVote.decode(r), SignedVote.decode(r))
    return ArbiterRuling(r.fixed(32), r.u64(), r.fixed(32), r.vec(ArbiterApproval.decode))


def _evidence_from_json(v: object) -> SlashEvidence:
    if isinstance(v, dict) and set(v) == {"DoubleVote"}:
        o = v["DoubleVote"]
        return DoubleVote(SignedVote.from_json(o["first"]), SignedVote.from_json(o["second"]))
    if isinstance(v, dict) and set(v) == {"ArbiterRuling"}:
        o = v["ArbiterRuling"]
        return ArbiterRuling(_h32(o["offender"], "offender"), int(o["amount"]), _h32(o["case"], "case"),
                             [ArbiterApproval.from_json(a) for a in o["approvals"]])
    raise EncodingError(f"SlashEvidence: unexpected JSON {v!r}")


# --- governance: proposals, ballots, guardian approvals (docs/wire-format.md §4) -----------


class Parameter(SnakeEnum):
    """A cell parameter a `ParameterChange` may set (docs/governance.md §12); no `epoch_length`."""

    MinFee = 0
    UnbondingDelay = 1
    MinValidatorBond = 2
    MinSponsorTier = 3
    MinSponsorBond = 4
    DoubleVoteSlashBps = 5
    SafeModeTransferLimit = 6
    SafeModeEscrowDelay = 7
    MaxEmergencyBlocks = 8
    DisputeTimeout = 9
    MaxForks = 10
    MaxLineageDepth = 11

    def bounds(self) -> tuple[int, int]:
        """The lowest and highest value a process may set, inclusive (`Parameter::bounds`)."""
        return _PARAMETER_BOUNDS[self]


_HALF_U64 = (1 << 64) // 2 - 1
_PARAMETER_BOUNDS: dict[Parameter, tuple[int, int]] = {
    Parameter.MinFee: (0, 1_000_000), Parameter.UnbondingDelay: (1, 1_000_000),
    Parameter.MinValidatorBond: (1, _HALF_U64), Parameter.MinSponsorTier: (1, 4),
    Parameter.MinSponsorBond: (0, _HALF_U64), Parameter.DoubleVoteSlashBps: (100, 10_000),
    Parameter.SafeModeTransferLimit: (0, _HALF_U64), Parameter.SafeModeEscrowDelay: (0, 1_000_000),
    Parameter.MaxEmergencyBlocks: (1, 1_000_000), Parameter.DisputeTimeout: (1, 1_000_000),
    Parameter.MaxForks: (0, 64), Parameter.MaxLineageDepth: (0, 16),
}


class Choice(SnakeEnum):
    Yes = 0
    No = 1
    Abstain = 2


class _Proposal:
    """A `Proposal` variant; its `INDEX` is also its process kind (the index of its rules in
    `GovernanceRules.kinds`); JSON is externally tagged in snake_case (`NAME`)."""

    INDEX: ClassVar[int]
    NAME: ClassVar[str]

    def encode_fields(self, w: Writer) -> None:
        raise NotImplementedError

    def fields_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX)
        self.encode_fields(w)

    def encode(self) -> bytes:
        w = Writer()
        self.encode_into(w)
        return w.getvalue()

    def to_json(self) -> Any:
        return {self.NAME: self.fields_json()}


@dataclass(frozen=True)
class ParameterChange(_Proposal):
    parameter: Parameter
    value: int
    INDEX: ClassVar[int] = 0
    NAME: ClassVar[str] = "parameter_change"

    def encode_fields(self, w: Writer) -> None:
        self.parameter.encode_into(w)
        w.u64(self.value)

    def fields_json(self) -> dict[str, Any]:
        return {"parameter": self.parameter.to_json(), "value": self.value}


@dataclass(frozen=True)
class CellModeChange(_Proposal):
    """`Normal` with `duration` None, or an emergency mode for `duration` blocks after execution."""

    mode: CellMode
    duration: Optional[int]
    INDEX: ClassVar[int] = 1
    NAME: ClassVar[str] = "cell_mode_change"

    def encode_fields(self, w: Writer) -> None:
        w.u8(int(self.mode)).option(self.duration, lambda w2, v: w2.u64(v))

    def fields_json(self) -> dict[str, Any]:
        return {"mode": self.mode.to_json(), "duration": self.duration}


@dataclass(frozen=True)
class SlashRuling(_Proposal):
    """Seize up to `amount` of `offender`'s stake under the arbiters' case number `case`, by the
    chambers' vote. Its `Propose` records the process under `StateKey.slash_ruling_case(case)`;
    while that process is pending, neither another `SlashRuling` nor a `RequestSlashJury` can take
    the number (`case_held_by_process`)."""

    offender: bytes
    amount: int
    case: bytes
    INDEX: ClassVar[int] = 2
    NAME: ClassVar[str] = "slash_ruling"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.offender, 32).u64(self.amount).fixed(self.case, 32)

    def fields_json(self) -> dict[str, Any]:
        return {"offender": self.offender.hex(), "amount": self.amount, "case": self.case.hex()}


@dataclass(frozen=True)
class BridgeRuling(_Proposal):
    remote: int
    epoch: int
    keep: bytes
    INDEX: ClassVar[int] = 3
    NAME: ClassVar[str] = "bridge_ruling"

    def encode_fields(self, w: Writer) -> None:
        w.u32(self.remote).u64(self.epoch).fixed(self.keep, 32)

    def fields_json(self) -> dict[str, Any]:
        return {"remote": self.remote, "epoch": self.epoch, "keep": self.keep.hex()}


@dataclass(frozen=True)
class CouncilElection(_Proposal):
    chamber: int
    seats: Sequence[bytes]
    INDEX: ClassVar[int] = 4
    NAME: ClassVar[str] = "council_election"

    def encode_fields(self, w: Writer) -> None:
        w.u8(self.chamber).vec(self.seats, _put32)

    def fields_json(self) -> dict[str, Any]:
        return {"chamber": self.chamber, "seats": [s.hex() for s in self.seats]}


@dataclass(frozen=True)
class Resolution(_Proposal):
    text: str
    INDEX: ClassVar[int] = 5
    NAME: ClassVar[str] = "resolution"

    def encode_fields(self, w: Writer) -> None:
        w.string(self.text)

    def fields_json(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True)
class RulesChange(_Proposal):
    """Replaces the chamber rules (the ledger ignores `rules.version` and sets the next one)."""

    rules: GovernanceRules
    INDEX: ClassVar[int] = 6
    NAME: ClassVar[str] = "rules_change"

    def encode_fields(self, w: Writer) -> None:
        self.rules.encode_into(w)  # a Box<GovernanceRules>: the rules' own encoding

    def fields_json(self) -> dict[str, Any]:
        return {"rules": self.rules.to_json()}


Proposal = Union[ParameterChange, CellModeChange, SlashRuling, BridgeRuling, CouncilElection, Resolution, RulesChange]

#: Every proposal class, by tag (= process kind).
ALL_PROPOSALS: tuple[type[_Proposal], ...] = (
    ParameterChange, CellModeChange, SlashRuling, BridgeRuling, CouncilElection, Resolution, RulesChange,
)


def decode_proposal(r: Reader) -> Proposal:
    tag = r.variant(len(ALL_PROPOSALS), "Proposal")
    if tag == 0:
        return ParameterChange(Parameter.decode(r), r.u64())
    if tag == 1:
        return CellModeChange(CellMode.decode(r), r.option(lambda r2: r2.u64()))
    if tag == 2:
        return SlashRuling(r.fixed(32), r.u64(), r.fixed(32))
    if tag == 3:
        return BridgeRuling(r.u32(), r.u64(), r.fixed(32))
    if tag == 4:
        return CouncilElection(r.u8(), r.vec(_get32))
    if tag == 5:
        return Resolution(r.string())
    return RulesChange(GovernanceRules.decode(r))


def _str(v: object, what: str) -> str:
    if not isinstance(v, str):
        raise EncodingError(f"{what}: expected a string")
    return v


def proposal_from_json(v: object) -> Proposal:
    if not isinstance(v, dict) or len(v) != 1:
        raise EncodingError(f"Proposal: unexpected JSON {v!r}")
    (name, o), = v.items()
    if not isinstance(o, dict):
        raise EncodingError(f"Proposal {name}: expected an object")
    try:
        if name == "parameter_change":
            return ParameterChange(Parameter.from_json(o["parameter"]), int(o["value"]))
        if name == "cell_mode_change":
            d = o["duration"]
            return CellModeChange(CellMode.from_json(o["mode"]), None if d is None else int(d))
        if name == "slash_ruling":
            return SlashRuling(_h32(o["offender"], "offender"), int(o["amount"]), _h32(o["case"], "case"))
        if name == "bridge_ruling":
            return BridgeRuling(int(o["remote"]), int(o["epoch"]), _h32(o["keep"], "keep"))
        if name == "council_election":
            return CouncilElection(int(o["chamber"]), _keys_from_json(o["seats"], "seats"))
        if name == "resolution":
            return Resolution(_str(o["text"], "text"))
        if name == "rules_change":
            return RulesChange(GovernanceRules.from_json(o["rules"]))
    except KeyError as e:
        raise EncodingError(f"Proposal {name}: missing field {e.args[0]!r}") from e
    raise EncodingError(f"Proposal: unknown variant {name!r}")


@dataclass(frozen=True)
class GuardianApproval:
    """A guardian's Ed25519 signature over `VetoTerms` (checked with the strict rule)."""

    key: bytes
    signature: bytes

    @classmethod
    def sign(cls, guardian: SigningKey, terms: VetoTerms) -> "GuardianApproval":
        """A guardian signs the terms of one veto of one process in one cell."""
        return cls(guardian.public_key, guardian.sign(terms.signing_bytes()))

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.key, 32).fixed(self.signature, 64)

    @classmethod
    def decode(cls, r: Reader) -> "GuardianApproval":
        return cls(r.fixed(32), r.fixed(64))

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key.hex(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "GuardianApproval":
        return cls(_h32(o["key"], "key"), from_hex(o["signature"], 64, "signature"))


# --- the actions -------------------------------------------------------------------------


class _Action:
    INDEX: ClassVar[int]
    NAME: ClassVar[str]

    def encode_fields(self, w: Writer) -> None:
        raise NotImplementedError

    def fields_json(self) -> Any:
        raise NotImplementedError

    def encode_into(self, w: Writer) -> None:
        w.u8(self.INDEX)
        self.encode_fields(w)

    def encode(self) -> bytes:
        """The action's Borsh encoding: variant index, then its fields."""
        w = Writer()
        self.encode_into(w)
        return w.getvalue()

    def to_json(self) -> Any:
        f = self.fields_json()
        return self.NAME if f is None else {self.NAME: f}


@dataclass(frozen=True)
class Transfer(_Action):
    to: bytes
    amount: int
    INDEX: ClassVar[int] = 0
    NAME: ClassVar[str] = "Transfer"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.to, 32).u64(self.amount)

    def fields_json(self) -> Any:
        return {"to": self.to.hex(), "amount": self.amount}


@dataclass(frozen=True)
class IssuePassport(_Action):
    controller_keys: Sequence[bytes]
    tier: int
    INDEX: ClassVar[int] = 1
    NAME: ClassVar[str] = "IssuePassport"

    def encode_fields(self, w: Writer) -> None:
        w.vec(self.controller_keys, _put32).u8(self.tier)

    def fields_json(self) -> Any:
        return {"controller_keys": [k.hex() for k in self.controller_keys], "tier": self.tier}


@dataclass(frozen=True)
class RotateKeys(_Action):
    subject: bytes
    new_keys: Sequence[bytes]
    consent: Consent
    INDEX: ClassVar[int] = 2
    NAME: ClassVar[str] = "RotateKeys"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.subject, 32).vec(self.new_keys, _put32)
        self.consent.encode_into(w)

    def fields_json(self) -> Any:
        return {"subject": self.subject.hex(), "new_keys": [k.hex() for k in self.new_keys],
                "consent": self.consent.to_json()}


@dataclass(frozen=True)
class ForkPassport(_Action):
    controller_keys: Sequence[bytes]
    INDEX: ClassVar[int] = 3
    NAME: ClassVar[str] = "ForkPassport"

    def encode_fields(self, w: Writer) -> None:
        w.vec(self.controller_keys, _put32)

    def fields_json(self) -> Any:
        return {"controller_keys": [k.hex() for k in self.controller_keys]}


@dataclass(frozen=True)
class Exit(_Action):
    INDEX: ClassVar[int] = 4
    NAME: ClassVar[str] = "Exit"

    def encode_fields(self, w: Writer) -> None:
        pass

    def fields_json(self) -> Any:
        return None


@dataclass(frozen=True)
class Bond(_Action):
    amount: int
    INDEX: ClassVar[int] = 5
    NAME: ClassVar[str] = "Bond"

    def encode_fields(self, w: Writer) -> None:
        w.u64(self.amount)

    def fields_json(self) -> Any:
        return {"amount": self.amount}


@dataclass(frozen=True)
class Unbond(_Action):
    amount: int
    INDEX: ClassVar[int] = 6
    NAME: ClassVar[str] = "Unbond"

    def encode_fields(self, w: Writer) -> None:
        w.u64(self.amount)

    def fields_json(self) -> Any:
        return {"amount": self.amount}


@dataclass(frozen=True)
class Withdraw(_Action):
    INDEX: ClassVar[int] = 7
    NAME: ClassVar[str] = "Withdraw"

    def encode_fields(self, w: Writer) -> None:
        pass

    def fields_json(self) -> Any:
        return None


@dataclass(frozen=True)
class RegisterValidator(_Action):
    """`RegisterValidator(ValidatorRegistration)`. Build one with `RegisterValidator.create`."""

    consensus_key: bytes
    bls_key: bytes
    bls_proof_of_possession: bytes
    consensus_signature: bytes
    bls_signature: bytes
    INDEX: ClassVar[int] = 8
    NAME: ClassVar[str] = "RegisterValidator"

    @classmethod
    def create(cls, federation: bytes, cell: int, passport: bytes, consensus_key: SigningKey,
               bls_secret_key: int) -> "RegisterValidator":
        """Sign `RegistrationTerms` with both new keys and prove possession of the BLS key."""
        bls_pk = bls.public_key(bls_secret_key)
        terms = RegistrationTerms(federation, cell, passport, consensus_key.public_key, bls_pk)
        msg = terms.signing_bytes()
        return cls(consensus_key.public_key, bls_pk, bls.prove_possession(bls_secret_key),
                   consensus_key.sign(msg), bls.sign(bls_secret_key, msg))

    def encode_fields(self, w: Writer) -> None:
        (w.fixed(self.consensus_key, 32).fixed(self.bls_key, 48).fixed(self.bls_proof_of_possession, 96)
         .fixed(self.consensus_signature, 64).fixed(self.bls_signature, 96))

    def fields_json(self) -> Any:
        return {"consensus_key": self.consensus_key.hex(), "bls_key": self.bls_key.hex(),
                "bls_proof_of_possession": self.bls_proof_of_possession.hex(),
                "consensus_signature": self.consensus_signature.hex(), "bls_signature": self.bls_signature.hex()}


@dataclass(frozen=True)
class Slash(_Action):
    evidence: SlashEvidence
    INDEX: ClassVar[int] = 9
    NAME: ClassVar[str] = "Slash"

    def encode_fields(self, w: Writer) -> None:
        self.evidence.encode_into(w)

    def fields_json(self) -> Any:
        return {"evidence": self.evidence.to_json()}


@dataclass(frozen=True)
class EscrowCreate(_Action):
    payee: bytes
    amount: int
    arbiter: Optional[bytes]
    release_height: int
    expiry_height: int
    INDEX: ClassVar[int] = 10
    NAME: ClassVar[str] = "EscrowCreate"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.payee, 32).u64(self.amount).option(self.arbiter, _put32).u64(self.release_height).u64(self.expiry_height)

    def fields_json(self) -> Any:
        return {"payee": self.payee.hex(), "amount": self.amount, "arbiter": _opt32_json(self.arbiter),
                "release_height": self.release_height, "expiry_height": self.expiry_height}


@dataclass(frozen=True)
class EscrowRelease(_Action):
    escrow: bytes
    INDEX: ClassVar[int] = 11
    NAME: ClassVar[str] = "EscrowRelease"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.escrow, 32)

    def fields_json(self) -> Any:
        return {"escrow": self.escrow.hex()}


@dataclass(frozen=True)
class EscrowDispute(_Action):
    escrow: bytes
    INDEX: ClassVar[int] = 12
    NAME: ClassVar[str] = "EscrowDispute"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.escrow, 32)

    def fields_json(self) -> Any:
        return {"escrow": self.escrow.hex()}


@dataclass(frozen=True)
class EscrowResolve(_Action):
    escrow: bytes
    to_payee: int
    to_payer: int
    INDEX: ClassVar[int] = 13
    NAME: ClassVar[str] = "EscrowResolve"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.escrow, 32).u64(self.to_payee).u64(self.to_payer)

    def fields_json(self) -> Any:
        return {"escrow": self.escrow.hex(), "to_payee": self.to_payee, "to_payer": self.to_payer}


@dataclass(frozen=True)
class EscrowRefund(_Action):
    escrow: bytes
    INDEX: ClassVar[int] = 14
    NAME: ClassVar[str] = "EscrowRefund"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.escrow, 32)

    def fields_json(self) -> Any:
        return {"escrow": self.escrow.hex()}


@dataclass(frozen=True)
class Sanction(_Action):
    subject: bytes
    kind: SanctionKind
    liability: int
    case: bytes
    approvals: Sequence[ArbiterApproval]
    INDEX: ClassVar[int] = 15
    NAME: ClassVar[str] = "Sanction"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.subject, 32).u8(int(self.kind)).u64(self.liability).fixed(self.case, 32).vec(self.approvals, _put_arb)

    def fields_json(self) -> Any:
        return {"subject": self.subject.hex(), "kind": self.kind.to_json(), "liability": self.liability,
                "case": self.case.hex(), "approvals": [a.to_json() for a in self.approvals]}


@dataclass(frozen=True)
class SetCellMode(_Action):
    mode: CellMode
    expires_at: Optional[int]
    approvals: Sequence[ValidatorApproval]
    INDEX: ClassVar[int] = 16
    NAME: ClassVar[str] = "SetCellMode"

    def encode_fields(self, w: Writer) -> None:
        w.u8(int(self.mode)).option(self.expires_at, lambda w2, v: w2.u64(v)).vec(self.approvals, _put_val)

    def fields_json(self) -> Any:
        return {"mode": self.mode.to_json(), "expires_at": self.expires_at,
                "approvals": [a.to_json() for a in self.approvals]}


@dataclass(frozen=True)
class LiftBridgeLockdown(_Action):
    remote: int
    epoch: int
    keep: bytes
    approvals: Sequence[ValidatorApproval]
    INDEX: ClassVar[int] = 17
    NAME: ClassVar[str] = "LiftBridgeLockdown"

    def encode_fields(self, w: Writer) -> None:
        w.u32(self.remote).u64(self.epoch).fixed(self.keep, 32).vec(self.approvals, _put_val)

    def fields_json(self) -> Any:
        return {"remote": self.remote, "epoch": self.epoch, "keep": self.keep.hex(),
                "approvals": [a.to_json() for a in self.approvals]}


@dataclass(frozen=True)
class Propose(_Action):
    """Opens a governance process (docs/governance.md §3.1); its id is `NextProcess` at the time."""

    proposal: Proposal
    INDEX: ClassVar[int] = 18
    NAME: ClassVar[str] = "Propose"

    def encode_fields(self, w: Writer) -> None:
        self.proposal.encode_into(w)

    def fields_json(self) -> Any:
        return {"proposal": self.proposal.to_json()}


@dataclass(frozen=True)
class Sponsor(_Action):
    process: int
    INDEX: ClassVar[int] = 19
    NAME: ClassVar[str] = "Sponsor"

    def encode_fields(self, w: Writer) -> None:
        w.u64(self.process)

    def fields_json(self) -> Any:
        return {"process": self.process}


@dataclass(frozen=True)
class ProcessVote(_Action):
    """The `Vote` action (index 20): a ballot on a process. Named so as not to be confused with
    `charter_client.Vote`, the consensus vote of `CHARTER_VOTE_V1`."""

    process: int
    choice: Choice
    INDEX: ClassVar[int] = 20
    NAME: ClassVar[str] = "Vote"

    def encode_fields(self, w: Writer) -> None:
        w.u64(self.process)
        self.choice.encode_into(w)

    def fields_json(self) -> Any:
        return {"process": self.process, "choice": self.choice.to_json()}


@dataclass(frozen=True)
class Delegate(_Action):
    to: bytes
    INDEX: ClassVar[int] = 21
    NAME: ClassVar[str] = "Delegate"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.to, 32)

    def fields_json(self) -> Any:
        return {"to": self.to.hex()}


@dataclass(frozen=True)
class Undelegate(_Action):
    INDEX: ClassVar[int] = 22
    NAME: ClassVar[str] = "Undelegate"

    def encode_fields(self, w: Writer) -> None:
        pass

    def fields_json(self) -> Any:
        return None


@dataclass(frozen=True)
class Veto(_Action):
    """Stops a pending process with the guardians' approvals over `VetoTerms`. Build one signed by
    guardian keys with `Veto.create`."""

    process: int
    reason: str
    approvals: Sequence[GuardianApproval]
    INDEX: ClassVar[int] = 23
    NAME: ClassVar[str] = "Veto"

    @classmethod
    def create(cls, federation: bytes, cell: int, process: int, reason: str,
               guardians: Sequence[SigningKey]) -> "Veto":
        """Each guardian signs `VetoTerms { federation, cell, process, reason }`, in the order given."""
        terms = VetoTerms(federation, cell, process, reason)
        return cls(process, reason, [GuardianApproval.sign(g, terms) for g in guardians])

    def terms(self, federation: bytes, cell: int) -> VetoTerms:
        """The terms this veto's approvals must sign in that cell."""
        return VetoTerms(federation, cell, self.process, self.reason)

    def encode_fields(self, w: Writer) -> None:
        w.u64(self.process).string(self.reason).vec(self.approvals, lambda w2, a: a.encode_into(w2))

    def fields_json(self) -> Any:
        return {"process": self.process, "reason": self.reason, "approvals": [a.to_json() for a in self.approvals]}


# --- juries (escrow disputes and slash cases before a jury drawn by sortition) --------------


@dataclass(frozen=True)
class JoinJuryPool(_Action):
    """Join the jury pool, locking the rules' `juror_bond` from the sender's balance."""

    INDEX: ClassVar[int] = 24
    NAME: ClassVar[str] = "JoinJuryPool"

    def encode_fields(self, w: Writer) -> None:
        pass

    def fields_json(self) -> Any:
        return None


@dataclass(frozen=True)
class LeaveJuryPool(_Action):
    """Leave the jury pool at once; the bond returns at the end of block `h + notice`
    (`JuryRules.notice_blocks`)."""

    INDEX: ClassVar[int] = 25
    NAME: ClassVar[str] = "LeaveJuryPool"

    def encode_fields(self, w: Writer) -> None:
        pass

    def fields_json(self) -> Any:
        return None


@dataclass(frozen=True)
class RequestJury(_Action):
    """Send a disputed escrow (the sender is its payer or payee) to a jury: files a case whose id
    is `NextJuryCase` at the time."""

    escrow: bytes
    INDEX: ClassVar[int] = 26
    NAME: ClassVar[str] = "RequestJury"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.escrow, 32)

    def fields_json(self) -> Any:
        return {"escrow": self.escrow.hex()}


@dataclass(frozen=True)
class RuleOnCase(_Action):
    """A drawn juror's ruling on a case, while it is ruling (blocks `draw_at + 1 ..= closes_at`)."""

    case: int
    verdict: Verdict
    INDEX: ClassVar[int] = 27
    NAME: ClassVar[str] = "RuleOnCase"

    def encode_fields(self, w: Writer) -> None:
        w.u64(self.case)
        self.verdict.encode_into(w)

    def fields_json(self) -> Any:
        return {"case": self.case, "verdict": self.verdict.to_json()}


@dataclass(frozen=True)
class RequestSlashJury(_Action):
    """Send a slash of up to `amount` of `offender`'s stake to a jury under the arbiters' case
    number `case`, which it spends (the sender is a member of the arbiter panel), instead of
    gathering the panel's approvals; refused against the sender itself (`not_authorized`) and
    under a number a pending `SlashRuling` process holds (`case_held_by_process`). Files a case
    whose id is `NextJuryCase` at the time, its pool without the offender, the filer, the
    offender's sponsor and its forks; until it closes the offender can neither `Withdraw` nor
    `Exit` (`stake_before_jury`), and at its close the stake is slashed only when more than half
    the jurors drawn ruled for the claim."""

    offender: bytes
    amount: int
    case: bytes
    INDEX: ClassVar[int] = 28
    NAME: ClassVar[str] = "RequestSlashJury"

    def encode_fields(self, w: Writer) -> None:
        w.fixed(self.offender, 32).u64(self.amount).fixed(self.case, 32)

    def fields_json(self) -> Any:
        return {"offender": self.offender.hex(), "amount": self.amount, "case": self.case.hex()}


Action = Union[
    Transfer, IssuePassport, RotateKeys, ForkPassport, Exit, Bond, Unbond, Withdraw, RegisterValidator, Slash,
    EscrowCreate, EscrowRelease, EscrowDispute, EscrowResolve, EscrowRefund, Sanction, SetCellMode,
    LiftBridgeLockdown, Propose, Sponsor, ProcessVote, Delegate, Undelegate, Veto, JoinJuryPool, LeaveJuryPool,
    RequestJury, RuleOnCase, RequestSlashJury,
]

#: Every action class, by wire index.
ALL_ACTIONS: tuple[type[_Action], ...] = (
    Transfer, IssuePassport, RotateKeys, ForkPassport, Exit, Bond, Unbond, Withdraw, RegisterValidator, Slash,
    EscrowCreate, EscrowRelease, EscrowDispute, EscrowResolve, EscrowRefund, Sanction, SetCellMode,
    LiftBridgeLockdown, Propose, Sponsor, ProcessVote, Delegate, Undelegate, Veto, JoinJuryPool, LeaveJuryPool,
    RequestJury, RuleOnCase, RequestSlashJury,
)


def _decoders() -> list[Callable[[Reader], Action]]:
    def keys(r: Reader) -> list[bytes]:
        return r.vec(_get32)

    return [
        lambda r: Transfer(r.fixed(32), r.u64()),
        lambda r: IssuePassport(keys(r), r.u8()),
        lambda r: RotateKeys(r.fixed(32), keys(r), _decode_consent(r)),
        lambda r: ForkPassport(keys(r)),
        lambda r: Exit(),
        lambda r: Bond(r.u64()),
        lambda r: Unbond(r.u64()),
        lambda r: Withdraw(),
        lambda r: RegisterValidator(r.fixed(32), r.fixed(48), r.fixed(96), r.fixed(64), r.fixed(96)),
        lambda r: Slash(_decode_evidence(r)),
        lambda r: EscrowCreate(r.fixed(32), r.u64(), r.option(_get32), r.u64(), r.u64()),
        lambda r: EscrowRelease(r.fixed(32)),
        lambda r: EscrowDispute(r.fixed(32)),
        lambda r: EscrowResolve(r.fixed(32), r.u64(), r.u64()),
        lambda r: EscrowRefund(r.fixed(32)),
        lambda r: Sanction(r.fixed(32), SanctionKind.decode(r), r.u64(), r.fixed(32), r.vec(ArbiterApproval.decode)),
        lambda r: SetCellMode(CellMode.decode(r), r.option(lambda r2: r2.u64()), r.vec(ValidatorApproval.decode)),
        lambda r: LiftBridgeLockdown(r.u32(), r.u64(), r.fixed(32), r.vec(ValidatorApproval.decode)),
        lambda r: Propose(decode_proposal(r)),
        lambda r: Sponsor(r.u64()),
        lambda r: ProcessVote(r.u64(), Choice.decode(r)),
        lambda r: Delegate(r.fixed(32)),
        lambda r: Undelegate(),
        lambda r: Veto(r.u64(), r.string(), r.vec(GuardianApproval.decode)),
        lambda r: JoinJuryPool(),
        lambda r: LeaveJuryPool(),
        lambda r: RequestJury(r.fixed(32)),
        lambda r: RuleOnCase(r.u64(), Verdict.decode(r)),
        lambda r: RequestSlashJury(r.fixed(32), r.u64(), r.fixed(32)),
    ]


_DECODERS = _decoders()


def decode_action(r: Reader) -> Action:
    return _DECODERS[r.variant(len(_DECODERS), "Action")](r)


def action_from_json(v: object) -> Action:
    """The inverse of `to_json`: the API's JSON form of an action."""
    if v == "Exit":
        return Exit()
    if v == "Withdraw":
        return Withdraw()
    if v == "Undelegate":
        return Undelegate()
    if v == "JoinJuryPool":
        return JoinJuryPool()
    if v == "LeaveJuryPool":
        return LeaveJuryPool()
    if not isinstance(v, dict) or len(v) != 1:
        raise EncodingError(f"Action: unexpected JSON {v!r}")
    (name, o), = v.items()
    if not isinstance(o, dict):
        raise EncodingError(f"Action {name}: expected an object")
    try:
        if name == "Transfer":
            return Transfer(_h32(o["to"], "to"), int(o["amount"]))
        if name == "IssuePassport":
            return IssuePassport(_keys_from_json(o["controller_keys"], "controller_keys"), int(o["tier"]))
        if name == "RotateKeys":
            return RotateKeys(_h32(o["subject"], "subject"), _keys_from_json(o["new_keys"], "new_keys"),
                              _consent_from_json(o["consent"]))
        if name == "ForkPassport":
            return ForkPassport(_keys_from_json(o["controller_keys"], "controller_keys"))
        if name == "Bond":
            return Bond(int(o["amount"]))
        if name == "Unbond":
            return Unbond(int(o["amount"]))
        if name == "RegisterValidator":
            return RegisterValidator(_h32(o["consensus_key"], "consensus_key"), from_hex(o["bls_key"], 48, "bls_key"),
                                     from_hex(o["bls_proof_of_possession"], 96, "bls_proof_of_possession"),
                                     from_hex(o["consensus_signature"], 64, "consensus_signature"),
                                     from_hex(o["bls_signature"], 96, "bls_signature"))
        if name == "Slash":
            return Slash(_evidence_from_json(o["evidence"]))
        if name == "EscrowCreate":
            return EscrowCreate(_h32(o["payee"], "payee"), int(o["amount"]), _opt32_from_json(o["arbiter"], "arbiter"),
                                int(o["release_height"]), int(o["expiry_height"]))
        if name == "EscrowRelease":
            return EscrowRelease(_h32(o["escrow"], "escrow"))
        if name == "EscrowDispute":
            return EscrowDispute(_h32(o["escrow"], "escrow"))
        if name == "EscrowResolve":
            return EscrowResolve(_h32(o["escrow"], "escrow"), int(o["to_payee"]), int(o["to_payer"]))
        if name == "EscrowRefund":
            return EscrowRefund(_h32(o["escrow"], "escrow"))
        if name == "Sanction":
            return Sanction(_h32(o["subject"], "subject"), SanctionKind.from_json(o["kind"]), int(o["liability"]),
                            _h32(o["case"], "case"), [ArbiterApproval.from_json(a) for a in o["approvals"]])
        if name == "SetCellMode":
            exp = o["expires_at"]
            return SetCellMode(CellMode.from_json(o["mode"]), None if exp is None else int(exp),
                               [ValidatorApproval.from_json(a) for a in o["approvals"]])
        if name == "LiftBridgeLockdown":
            return LiftBridgeLockdown(int(o["remote"]), int(o["epoch"]), _h32(o["keep"], "keep"),
                                      [ValidatorApproval.from_json(a) for a in o["approvals"]])
        if name == "Propose":
            return Propose(proposal_from_json(o["proposal"]))
        if name == "Sponsor":
            return Sponsor(int(o["process"]))
        if name == "Vote":
            return ProcessVote(int(o["process"]), Choice.from_json(o["choice"]))
        if name == "Delegate":
            return Delegate(_h32(o["to"], "to"))
        if name == "Veto":
            return Veto(int(o["process"]), _str(o["reason"], "reason"),
                        [GuardianApproval.from_json(a) for a in o["approvals"]])
        if name == "RequestJury":
            return RequestJury(_h32(o["escrow"], "escrow"))
        if name == "RuleOnCase":
            return RuleOnCase(int(o["case"]), Verdict.from_json(o["verdict"]))
        if name == "RequestSlashJury":
            return RequestSlashJury(_h32(o["offender"], "offender"), int(o["amount"]), _h32(o["case"], "case"))
    except KeyError as e:
        raise EncodingError(f"Action {name}: missing field {e.args[0]!r}") from e
    raise EncodingError(f"Action: unknown variant {name!r}")


__all__ = [
    "ArbiterApproval", "ValidatorApproval", "SignedVote", "ConsentSubject", "ConsentRuling", "Consent",
    "DoubleVote", "ArbiterRuling", "SlashEvidence", "Transfer", "IssuePassport", "RotateKeys", "ForkPassport",
    "Exit", "Bond", "Unbond", "Withdraw", "RegisterValidator", "Slash", "EscrowCreate", "EscrowRelease",
    "EscrowDispute", "EscrowResolve", "EscrowRefund", "Sanction", "SetCellMode", "LiftBridgeLockdown", "Action",
    "ALL_ACTIONS", "decode_action", "action_from_json", "Parameter", "Choice", "ParameterChange", "CellModeChange",
    "SlashRuling", "BridgeRuling", "CouncilElection", "Resolution", "RulesChange", "Proposal", "ALL_PROPOSALS",
    "decode_proposal", "proposal_from_json", "GuardianApproval", "Propose", "Sponsor", "ProcessVote", "Delegate",
    "Undelegate", "Veto", "JoinJuryPool", "LeaveJuryPool", "RequestJury", "RuleOnCase", "RequestSlashJury",
    "Verdict",
]
