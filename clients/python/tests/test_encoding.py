"""Offline: every action round-trips through bytes and JSON, decoders are strict, the key rules
of docs/wire-format.md §4 / docs/proofs.md §4.2 hold, and the governance encodings follow the
tables, layouts and examples of docs/wire-format.md §4–§7 and docs/governance.md."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import blake3
import pytest

from charter_client import (
    ALL_ACTIONS, ALL_PROPOSALS, ArbiterApproval, ArbiterRuling, Bond, BridgeRuling, CellMode, CellModeChange, Chamber,
    ChamberVote, Choice, ConsentRuling, ConsentSubject, CouncilElection, Delegate, DoubleVote, EncodingError,
    EscrowCreate, EscrowDispute, EscrowRefund, EscrowRelease, EscrowResolve, Exit, ForkPassport, GovernanceRules,
    GuardianApproval, Guardians, IssuePassport, KeyFile, KindRules, LiftBridgeLockdown, MembershipSeats,
    MembershipTiers, Parameter, ParameterChange, ProcessStatus, ProcessVote, Propose, RegisterValidator, Resolution,
    RotateKeys, RulesChange, Sanction, SanctionKind, Schedule, SetCellMode, SignedTransaction, SignedVote, SigningKey,
    Slash, SlashRuling, Sponsor, SponsorRule, TransactionBody, Transfer, Unbond, Undelegate, ValidatorApproval, Veto,
    VetoTerms, Vote, VoteType, Weighting, Withdraw, action_from_json, default_governance_rules, dev_governance_rules,
    proposal_from_json, verify_strict, JoinJuryPool, JuryRules, LeaveJuryPool, RequestJury, RequestSlashJury,
    RuleOnCase, Verdict,
)
from charter_client import BlockHeader, ProofError, bls
from charter_client.encoding import Writer, decode_all
from charter_client.juries import (
    beacon_mix, case_pool, check_draw, check_outcome, draw_jury, forks_of, genesis_beacon, mixed, reveal_message,
    slash_case_parties, sortition_score, verdict_of, verify_reveal,
)
from charter_client.keys import ValidatorKeys, check_controller_key
from charter_client.proofs import HEADER_BYTES
from charter_client.state import (
    Ballot, Beacon, CaseDrawn, CaseEscrow, CaseFiled, CaseOutcome, CaseSettled, CaseSlash, CaseStatus, ChamberTally,
    Delegation, Electorate, Escrow, EscrowStatus, Juror, JurorRuling, JuryCase, JuryCaseIds, JuryClose, JuryDeadlines,
    JuryDraw, JuryReleaseJuror, LastJuryClose, NextJuryCase, PassportIds, Process, ProcessExecuted, ProcessExecutionFailed, ProcessExpired, ProcessProposed,
    ProcessScheduled, ProcessTallied, ProcessVetoed, Passport, PassportStatus, SlashRulingProcess, StateKey,
    StateKeyKind, decode_case_event, decode_case_subject, decode_process_event,
)

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _rules_example() -> GovernanceRules:
    """Every rules variant: a seated chamber weighted by stake, guardians, two sponsor rules."""
    h = lambda b: bytes([b]) * 32  # noqa: E731
    rules = dev_governance_rules([h(0x21), h(0x22)], 2)
    chambers = list(rules.chambers) + [Chamber("judges", MembershipSeats([h(1), h(2)]), Weighting.Stake)]
    return GovernanceRules(3, chambers, rules.kinds, rules.guardians, 5, JuryRules(5, 1, 3, 250, 25, 2, 7))


def _examples() -> list[object]:
    k = SigningKey(bytes([7]) * 32)
    h = lambda b: bytes([b]) * 32  # noqa: E731
    appr = [ArbiterApproval(h(1), k.public_key, bytes(64))]
    vapp = [ValidatorApproval(h(2), bytes([3]) * 64)]
    vote = Vote(h(4), 2, 9, 1, VoteType.Precommit, h(5))
    sv = SignedVote(vote, k.public_key, bytes(64))
    return [
        Transfer(h(1), 5), IssuePassport([k.public_key], 1), RotateKeys(h(1), [k.public_key], ConsentSubject()),
        RotateKeys(h(1), [k.public_key], ConsentRuling(h(9), appr)), ForkPassport([k.public_key]), Exit(), Bond(3),
        Unbond(2), Withdraw(), RegisterValidator(k.public_key, bytes(48), bytes(96), bytes(64), bytes(96)),
        Slash(DoubleVote(sv, SignedVote(replace_value(vote), k.public_key, bytes(64)))),
        Slash(ArbiterRuling(h(1), 10, h(2), appr)), EscrowCreate(h(1), 4, None, 0, 9),
        EscrowCreate(h(1), 4, h(2), 1, 9), EscrowRelease(h(3)), EscrowDispute(h(3)), EscrowResolve(h(3), 1, 2),
        EscrowRefund(h(3)), Sanction(h(1), SanctionKind.Suspension, 3, h(4), appr),
        SetCellMode(CellMode.Safe, 99, vapp), SetCellMode(CellMode.Normal, None, []),
        LiftBridgeLockdown(2, 3, h(6), vapp),
        Propose(ParameterChange(Parameter.MaxForks, 6)), Propose(CellModeChange(CellMode.Lockdown, 20)),
        Propose(CellModeChange(CellMode.Normal, None)), Propose(SlashRuling(h(1), 400, h(2))),
        Propose(BridgeRuling(2, 7, h(3))), Propose(CouncilElection(1, [h(4), h(5)])),
        Propose(Resolution("the cell resolves: ünïcödé text")), Propose(RulesChange(_rules_example())),
        Sponsor(3), ProcessVote(3, Choice.Yes), ProcessVote(2**64 - 1, Choice.Abstain), Delegate(h(6)),
        Undelegate(), Veto(3, "a reason", [GuardianApproval(k.public_key, bytes([8]) * 64)]),
        Veto.create(h(4), 2, 9, "", [k, SigningKey(bytes([10]) * 32)]),
        JoinJuryPool(), LeaveJuryPool(), RequestJury(h(7)), RuleOnCase(0, Verdict.ForClaim),
        RuleOnCase(2**64 - 1, Verdict.AgainstClaim), RequestSlashJury(h(8), 400, h(9)),
        RequestSlashJury(h(8), 2**64 - 1, h(9)),
    ]


def replace_value(v: Vote) -> Vote:
    return Vote(v.federation, v.cell, v.height, v.round, v.vote_type, None)


@pytest.mark.parametrize("action", _examples(), ids=lambda a: type(a).__name__)
def test_every_action_round_trips_through_bytes_and_json(action: object) -> None:
    key = SigningKey(bytes([9]) * 32)
    body = TransactionBody(bytes([1]) * 32, 0, bytes([2]) * 32, 5, 1, action)  # type: ignore[arg-type]
    tx = body.sign(key)
    data = tx.encode()
    assert data[84] == type(action).INDEX  # type: ignore[attr-defined]
    assert SignedTransaction.decode(data) == tx
    assert SignedTransaction.from_json(tx.to_json()) == tx
    assert action_from_json(action.to_json()) == action  # type: ignore[attr-defined]
    assert tx.verify_signature()


def test_all_actions_are_covered() -> None:
    assert len(ALL_ACTIONS) == 29 and [a.INDEX for a in ALL_ACTIONS] == list(range(29))
    assert {type(a) for a in _examples()} == set(ALL_ACTIONS)
    proposals = {type(a.proposal) for a in _examples() if isinstance(a, Propose)}
    assert proposals == set(ALL_PROPOSALS) and [p.INDEX for p in ALL_PROPOSALS] == list(range(7))


def test_decoders_are_strict() -> None:
    tx = TransactionBody(bytes(32), 0, bytes(32), 0, 0, EscrowCreate(bytes(32), 1, None, 0, 1)).sign(
        SigningKey(bytes([1]) * 32))
    data = tx.encode()
    with pytest.raises(EncodingError, match="trailing"):
        SignedTransaction.decode(data + b"\x00")
    with pytest.raises(EncodingError, match="truncated"):
        SignedTransaction.decode(data[:-1])
    bad_variant = data[:84] + b"\x1d" + data[85:]  # 29: one past RequestSlashJury
    with pytest.raises(EncodingError, match="unknown Action variant"):
        SignedTransaction.decode(bad_variant)
    option_at = 84 + 1 + 32 + 8
    assert data[option_at] == 0
    with pytest.raises(EncodingError, match="option tag"):
        SignedTransaction.decode(data[:option_at] + b"\x02" + data[option_at + 1:])
    with pytest.raises(EncodingError):
        SignedTransaction.decode(bytes(65_537))


def test_controller_key_rules() -> None:
    assert check_controller_key(SigningKey.generate().public_key) is None
    assert check_controller_key(bytes([0xFF]) * 32) is not None  # y = p + 18: decodes, not canonical
    identity = (1).to_bytes(32, "little")
    assert check_controller_key(identity) == "a point of small order"


def test_strict_verification_refuses_small_order_keys_and_noncanonical_s() -> None:
    key = SigningKey.generate()
    msg = b"charter"
    sig = key.sign(msg)
    assert verify_strict(key.public_key, msg, sig)
    assert not verify_strict(key.public_key, msg + b"!", sig)
    from charter_client._edwards import L
    s = int.from_bytes(sig[32:], "little") + L
    assert not verify_strict(key.public_key, msg, sig[:32] + s.to_bytes(32, "little"))
    identity = (1).to_bytes(32, "little")
    assert not verify_strict(identity, msg, identity + bytes(32))


def test_key_file_round_trip(tmp_path: Path) -> None:
    sk = bls.generate_secret_key()
    kf = KeyFile(os.urandom(32), SigningKey.generate(),
                 ValidatorKeys(SigningKey.generate(), sk, bls.public_key(sk), bls.prove_possession(sk)))
    path = tmp_path / "key.json"
    kf.save(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    back = KeyFile.load(path)
    assert back.passport == kf.passport and back.controller.public_key == kf.controller.public_key
    assert back.validator is not None and back.validator.bls_public_key == kf.validator.bls_public_key  # type: ignore[union-attr]
    assert bls.verify_possession(back.validator.bls_public_key, back.validator.bls_proof_of_possession)


def test_state_key_encodings() -> None:
    assert StateKey.active_validators().encode() == b"\x0d"
    assert StateKey.bridge_ruling(2, 7).encode() == b"\x0e" + (2).to_bytes(4, "little") + (7).to_bytes(8, "little")
    assert StateKey.passport(bytes(32)).encode() == b"\x01" + bytes(32)
    # docs/proofs.md §6.2, keys 15 to 23
    pid, u64 = bytes([7]) * 32, (5).to_bytes(8, "little")
    assert StateKey.governance_rules().encode() == b"\x0f"
    assert StateKey.electorate().encode() == b"\x10"
    assert StateKey.next_process().encode() == b"\x11"
    assert StateKey.process(5).encode() == b"\x12" + u64
    assert StateKey.processes_due(5).encode() == b"\x13" + u64
    assert StateKey.ballot(5, pid).encode() == b"\x14" + u64 + pid and len(StateKey.ballot(5, pid).encode()) == 41
    assert StateKey.voters(5).encode() == b"\x15" + u64
    assert StateKey.delegation(pid).encode() == b"\x16" + pid
    assert StateKey.delegators(pid).encode() == b"\x17" + pid
    # juries, keys 24 to 31
    assert StateKey.beacon().encode() == b"\x18"
    assert StateKey.jury_pool().encode() == b"\x19"
    assert StateKey.juror(pid).encode() == b"\x1a" + pid
    assert StateKey.next_jury_case().encode() == b"\x1b"
    assert StateKey.jury_case(5).encode() == b"\x1c" + u64
    assert StateKey.jury_deadlines(5).encode() == b"\x1d" + u64
    assert StateKey.last_jury_close().encode() == b"\x1e"
    assert StateKey.slash_cases_against(pid).encode() == b"\x1f" + pid
    assert len(StateKey.slash_cases_against(pid).encode()) == 33
    assert StateKey.slash_cases_against(pid).key_hash() == blake3.blake3(b"\x1f" + pid).digest()
    with pytest.raises(EncodingError):
        StateKey.slash_cases_against(pid[:31])
    # slash cases, key 32: the SlashRuling process that holds an arbiters' case number
    case = bytes(range(32))
    assert StateKey.slash_ruling_case(case).encode() == b"\x20" + case
    assert len(StateKey.slash_ruling_case(case).encode()) == 33
    assert StateKey.slash_ruling_case(case).key_hash() == blake3.blake3(b"\x20" + case).digest()
    assert StateKey.slash_ruling_case(case).kind == StateKeyKind.SlashRulingCase == 32
    with pytest.raises(EncodingError):
        StateKey.slash_ruling_case(case + b"\x00")


def test_state_key_tags_follow_the_documents() -> None:
    """docs/wire-format.md §6 lists every `StateKey` variant by index, and docs/proofs.md §6.2
    tabulates them with their key bytes: both are `StateKeyKind`, and every table row's first
    byte is its index."""
    kinds = {k.value: k.name for k in StateKeyKind}
    wire = (DOCS / "wire-format.md").read_text()
    section = wire[wire.index("## 6. State keys and proofs"):wire.index("## 7. Governance objects")]
    listed = {int(t): n for t, n in re.findall(r"`(\d+)`\s+`(\w+)", section)}
    assert listed == kinds
    table = re.findall(r"^\| (\d+) \| `(\w+)[^|]*` \| `([0-9a-f]{2})[^|]*` \| (\d+) \|$",
                       (DOCS / "proofs.md").read_text(), re.M)
    assert {int(t): n for t, n, _, _ in table} == kinds
    assert all(int(first, 16) == int(t) for t, _, first, _ in table)
    sizes = {n: int(size) for _, n, _, size in table}
    assert sizes["SlashRulingCase"] == len(StateKey.slash_ruling_case(bytes(32)).encode()) == 33
    assert sizes["SlashCasesAgainst"] == len(StateKey.slash_cases_against(bytes(32)).encode())


def test_the_slash_ruling_holding_a_case_number() -> None:
    """`SlashRulingCase(case)`, key 32: a `ProcessId`, u64 little-endian; its JSON a plain number."""
    value = (7).to_bytes(8, "little")
    held = decode_all(value, SlashRulingProcess.decode)
    assert held == SlashRulingProcess(7) and held.to_json() == 7 and held.encode() == value
    with pytest.raises(EncodingError, match="truncated"):
        decode_all(value[:-1], SlashRulingProcess.decode)
    with pytest.raises(EncodingError, match="trailing"):
        decode_all(value + b"\x00", SlashRulingProcess.decode)
    # the number is held while the process is pending: Sponsoring, Open or Passed
    assert [s for s in ProcessStatus if s.pending] == [ProcessStatus.Sponsoring, ProcessStatus.Open,
                                                       ProcessStatus.Passed]
    assert all(s.pending != s.final for s in ProcessStatus)


def test_a_slash_case_pool_leaves_out_those_the_slash_reaches() -> None:
    """`request_slash_jury`: the pool is the jury pool without the offender, the filer, the
    offender's sponsor and every passport forked from the offender, transitively (depth first in
    fork order, as `forks_of` in ledger/src/execution/discipline.rs)."""

    def h(b: int) -> bytes:
        return bytes([b]) * 32

    def passport(pid: bytes, sponsor: bytes | None, forks: list[bytes]) -> Passport:
        return Passport(pid, [h(0xEE)], 0, 2, sponsor, [], forks, 0, PassportStatus.Active, [], 0, 0, 0, 0)

    sponsor, offender, filer = h(0x01), h(0x02), h(0x03)
    fork_a, fork_b, grandchild = h(0x04), h(0x05), h(0x06)
    book = {p.id: p for p in (passport(offender, sponsor, [fork_a, fork_b]), passport(fork_a, None, [grandchild]),
                              passport(fork_b, None, []), passport(grandchild, None, []))}
    assert forks_of(book[offender], book.__getitem__) == [fork_a, grandchild, fork_b]
    parties = slash_case_parties(book[offender], filer, book.__getitem__)
    assert parties == [offender, filer, sponsor, fork_a, grandchild, fork_b]
    members = [h(b) for b in range(0x01, 0x0C)]
    assert case_pool(members, parties) == [h(b) for b in range(0x07, 0x0C)]
    # a genesis passport has no sponsor and, unforked, reaches only itself
    alone = passport(h(0x30), None, [])
    assert slash_case_parties(alone, filer, book.__getitem__) == [h(0x30), filer]
    with pytest.raises(EncodingError):
        slash_case_parties(alone, filer[:31], book.__getitem__)


def test_transaction_signatures_follow_zip215_where_statements_are_strict() -> None:
    """A signature its key holder made with a point of order 8 added to R: valid for a transaction
    (the cofactored rule of docs/wire-format.md §3), refused by the strict rule of other statements."""
    import hashlib

    from charter_client import _edwards as ed

    torsion = ed.decompress(bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"))
    assert torsion is not None and ed.is_small_order(torsion)
    assert not ed._is_identity(ed._mul(4, torsion))
    secret, nonce = 12345678901234567890, 98765432109876543210
    public = ed.compress(ed._mul(secret, ed.BASE))
    body = TransactionBody(bytes([1]) * 32, 0, bytes([2]) * 32, 5, 1, Transfer(bytes([3]) * 32, 10))
    message = body.signing_bytes()
    r = ed.compress(ed._add(ed._mul(nonce, ed.BASE), torsion))
    k = int.from_bytes(hashlib.sha512(r + public + message).digest(), "little") % ed.L
    signature = r + ((nonce + k * secret) % ed.L).to_bytes(32, "little")
    tx = SignedTransaction(body, public, signature)
    assert tx.verify_signature()
    assert not verify_strict(public, message, signature)
    assert not SignedTransaction(body, public, signature[:40] + bytes([signature[40] ^ 1]) + signature[41:]).verify_signature()


# --- governance: docs/wire-format.md §4, §5, §7 and docs/governance.md ----------------------


def _doc_enum(doc: str, row: str) -> dict[int, str]:
    """A table row such as "| `Choice` | `0` = `Yes`, `1` = `No` … |" as {tag: variant name}."""
    text = (DOCS / doc).read_text()
    line = next(l for l in text.splitlines() if l.startswith(f"| `{row}` |"))
    return {int(t): n for t, n in re.findall(r"`(\d+)` = `(\w+)", line)}


def test_enum_tags_follow_the_wire_format_tables() -> None:
    assert _doc_enum("wire-format.md", "Parameter") == {p.value: p.name for p in Parameter}
    assert _doc_enum("wire-format.md", "Choice") == {c.value: c.name for c in Choice}
    assert _doc_enum("wire-format.md", "ProcessStatus") == {s.value: s.name for s in ProcessStatus}
    assert _doc_enum("wire-format.md", "Weighting") == {w.value: w.name for w in Weighting}
    proposals = _doc_enum("wire-format.md", "Proposal")
    assert {t: re.sub(r"(?<!^)(?=[A-Z])", "_", n).lower() for t, n in proposals.items()} == {
        p.INDEX: p.NAME for p in ALL_PROPOSALS}
    events = _doc_enum("wire-format.md", "ProcessEvent")
    classes = [ProcessProposed, ProcessScheduled, ProcessTallied, ProcessExecuted, ProcessExecutionFailed,
               ProcessVetoed, ProcessExpired]
    assert {t: "Process" + n for t, n in events.items()} == {c.INDEX: c.__name__ for c in classes}
    # and the JSON names of 7.2
    assert [p.to_json() for p in Parameter][:3] == ["min_fee", "unbonding_delay", "min_validator_bond"]
    assert [c.to_json() for c in Choice] == ["yes", "no", "abstain"]
    assert [s.to_json() for s in ProcessStatus] == ["sponsoring", "open", "passed", "executed", "failed",
                                                    "rejected", "vetoed", "expired"]


def test_jury_tags_follow_the_wire_format_tables() -> None:
    """docs/wire-format.md §4 (actions 24 to 28, `Verdict`) and §7.1 (`CaseStatus`, `CaseEvent`,
    `JuryDeadline`)."""
    text = (DOCS / "wire-format.md").read_text()
    actions = {int(t): n for t, n in re.findall(r"^\| (\d+) \| `(\w+)` \|", text, re.M)}
    assert actions == {a.INDEX: a.NAME for a in ALL_ACTIONS}
    assert _doc_enum("wire-format.md", "Verdict") == {v.value: v.name for v in Verdict}
    assert _doc_enum("wire-format.md", "CaseStatus") == {s.value: s.name for s in CaseStatus}
    events = _doc_enum("wire-format.md", "CaseEvent")
    assert {t: "Case" + n for t, n in events.items()} == {c.INDEX: c.__name__ for c in (CaseFiled, CaseDrawn,
                                                                                          CaseSettled)}
    deadlines = _doc_enum("wire-format.md", "JuryDeadline")
    assert {t: "Jury" + n for t, n in deadlines.items()} == {c.INDEX: c.__name__ for c in (JuryDraw, JuryClose,
                                                                                             JuryReleaseJuror)}


def test_parameter_bounds_follow_the_governance_table() -> None:
    text = (DOCS / "governance.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d+) \| `u\d+` \| ([\d,]+) \| ([\d,]+)", text, re.M)
    assert len(rows) == 12
    for name, tag, low, high in rows:
        p = Parameter.from_json(name)
        assert p.value == int(tag)
        assert p.bounds() == (int(low.replace(",", "")), int(high.replace(",", "")))


def test_governance_byte_layouts() -> None:
    h = lambda b: bytes([b]) * 32  # noqa: E731
    # a Propose of max_forks = 6: action 18, proposal 0, parameter 10, u64 value
    assert Propose(ParameterChange(Parameter.MaxForks, 6)).encode() == b"\x12\x00\x0a" + (6).to_bytes(8, "little")
    assert Sponsor(7).encode() == b"\x13" + (7).to_bytes(8, "little")
    assert ProcessVote(7, Choice.Abstain).encode() == b"\x14" + (7).to_bytes(8, "little") + b"\x02"
    assert Delegate(h(1)).encode() == b"\x15" + h(1)
    assert Undelegate().encode() == b"\x16" and Undelegate().to_json() == "Undelegate"
    assert Propose(Resolution("ab")).encode() == b"\x12\x05\x02\x00\x00\x00ab"
    assert Propose(CellModeChange(CellMode.Safe, 9)).encode() == b"\x12\x01\x02\x01" + (9).to_bytes(8, "little")
    veto = Veto(1, "r", [GuardianApproval(h(2), bytes([3]) * 64)])
    assert veto.encode() == (b"\x17" + (1).to_bytes(8, "little") + b"\x01\x00\x00\x00r" + b"\x01\x00\x00\x00" + h(2)
                             + bytes([3]) * 64)
    # fixed sizes of docs/wire-format.md §7.1
    w = Writer()
    SponsorRule(1, 100, 2).encode_into(w)
    assert w.getvalue() == b"\x01\x64\x00\x02\x00\x00\x00"  # 7 bytes
    w = Writer()
    ChamberVote(2, 1_000, 6_667).encode_into(w)
    assert w.getvalue() == b"\x02" + (1_000).to_bytes(2, "little") + (6_667).to_bytes(2, "little")  # 5 bytes
    w = Writer()
    Schedule(1, 7, 21, 26).encode_into(w)
    assert len(w.getvalue()) == 32
    tally = ChamberTally(2, 2**100, 3, 1, 0, 1_000, 6_667, True)
    w = Writer()
    tally.encode_into(w)
    assert len(w.getvalue()) == 70 and w.getvalue()[-1] == 1
    assert decode_all(w.getvalue(), ChamberTally.decode) == tally
    assert tally.to_json()["eligible"] == 2**100  # a u128 is a JSON number
    assert len(Electorate([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).encode()) == 80
    assert decode_all(b"\x02" + (9).to_bytes(8, "little"), Ballot.decode) == Ballot(Choice.Abstain, 9)
    assert decode_all(h(4) + (5).to_bytes(8, "little"), Delegation.decode).to_json() == {"to": h(4).hex(), "since": 5}
    ids = decode_all(b"\x02\x00\x00\x00" + h(1) + h(2), PassportIds.decode)
    assert ids.to_json() == [h(1).hex(), h(2).hex()]


def test_veto_terms_signing_bytes_are_the_documented_message() -> None:
    """docs/wire-format.md §5: the 15 bytes of CHARTER_VETO_V1, the federation, u32le(cell),
    u64le(process), u32le(len(reason)) and the reason's UTF-8 bytes."""
    fed, reason = bytes([0x11]) * 32, "stop ✋"
    terms = VetoTerms(fed, 3, 9, reason)
    raw = reason.encode()
    assert terms.signing_bytes() == (b"CHARTER_VETO_V1" + fed + (3).to_bytes(4, "little") + (9).to_bytes(8, "little")
                                     + len(raw).to_bytes(4, "little") + raw)
    assert len(b"CHARTER_VETO_V1") == 15
    guardian = SigningKey(bytes([5]) * 32)
    veto = Veto.create(fed, 3, 9, reason, [guardian])
    assert veto.terms(fed, 3) == terms
    a = veto.approvals[0]
    assert a.key == guardian.public_key and verify_strict(a.key, terms.signing_bytes(), a.signature)
    assert not verify_strict(a.key, VetoTerms(fed, 4, 9, reason).signing_bytes(), a.signature)  # another cell
    assert decode_all(terms.encode(), VetoTerms.decode) == terms


def test_governance_decoders_are_strict() -> None:
    def tx_bytes(action: object) -> bytes:
        return TransactionBody(bytes(32), 0, bytes(32), 0, 0, action).sign(SigningKey(bytes([1]) * 32)).encode()  # type: ignore[arg-type]

    at = 84  # the action's index
    data = tx_bytes(Propose(Resolution("ok")))
    with pytest.raises(EncodingError, match="unknown Proposal variant"):
        SignedTransaction.decode(data[:at + 1] + b"\x07" + data[at + 2:])
    with pytest.raises(EncodingError, match="UTF-8"):
        SignedTransaction.decode(data[:at + 6] + b"\xff\xfe" + data[at + 8:])
    vote = tx_bytes(ProcessVote(1, Choice.No))
    with pytest.raises(EncodingError, match="unknown Choice variant"):
        SignedTransaction.decode(vote[:at + 9] + b"\x03" + vote[at + 10:])
    change = tx_bytes(Propose(ParameterChange(Parameter.MinFee, 1)))
    with pytest.raises(EncodingError, match="unknown Parameter variant"):
        SignedTransaction.decode(change[:at + 2] + b"\x0c" + change[at + 3:])  # no tag for epoch_length
    with pytest.raises(EncodingError, match="bool byte"):
        decode_all(b"\x02" + (3).to_bytes(8, "little") + b"\x02", decode_process_event)  # Tallied, passed = 2
    assert decode_all(b"\x02" + (3).to_bytes(8, "little") + b"\x01", decode_process_event) == ProcessTallied(3, True)
    # a stored value with trailing bytes, or one byte short, is refused
    rules = _rules_example().encode()
    assert decode_all(rules, GovernanceRules.decode).encode() == rules
    with pytest.raises(EncodingError, match="trailing"):
        decode_all(rules + b"\x00", GovernanceRules.decode)
    with pytest.raises(EncodingError, match="truncated"):
        decode_all(rules[:-1], GovernanceRules.decode)


def test_default_rules_are_the_documented_json() -> None:
    """docs/governance.md §2.6 gives the default rules as genesis JSON."""
    text = (DOCS / "governance.md").read_text()
    block = text.split("The same rules as genesis JSON", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    documented = GovernanceRules.from_json(json.loads(block))
    assert documented == default_governance_rules()
    assert GovernanceRules.from_json(documented.to_json()) == documented
    assert decode_all(documented.encode(), GovernanceRules.decode) == documented
    # genesis defaults (wire-format §7.3): version 1, no guardians; unknown fields refused
    o = documented.to_json()
    del o["version"], o["guardians"]
    assert GovernanceRules.from_json(o) == documented
    with pytest.raises(EncodingError, match="unknown field"):
        GovernanceRules.from_json({**documented.to_json(), "quorum": 1})
    with pytest.raises(EncodingError, match="unknown field"):
        KindRules.from_json({**documented.kinds[0].to_json(), "extra": 0})
    with pytest.raises(EncodingError, match="missing field"):
        Guardians.from_json({"keys": []})
    # the dev rules (§2.7)
    dev = dev_governance_rules([bytes([1]) * 32], 1)
    assert [(k.deliberation_blocks, k.voting_blocks, k.enactment_blocks) for k in dev.kinds] == [(5, 15, 5)] * 6 + [
        (10, 30, 10)]
    assert dev.kinds[5].sponsors[1] == SponsorRule(2, 100, 2)
    assert dev.chambers[1] == Chamber("council", MembershipTiers(3, 3), Weighting.PerPassport)


def test_json_forms_of_proposals_and_events() -> None:
    """The examples of docs/wire-format.md §7.2, with concrete ids for the placeholders."""
    h = lambda b: bytes([b]) * 32  # noqa: E731
    examples = [
        ({"parameter_change": {"parameter": "min_fee", "value": 3}}, ParameterChange(Parameter.MinFee, 3)),
        ({"cell_mode_change": {"mode": "Normal", "duration": None}}, CellModeChange(CellMode.Normal, None)),
        ({"slash_ruling": {"offender": h(1).hex(), "amount": 400, "case": h(2).hex()}}, SlashRuling(h(1), 400, h(2))),
        ({"bridge_ruling": {"remote": 2, "epoch": 7, "keep": h(3).hex()}}, BridgeRuling(2, 7, h(3))),
        ({"council_election": {"chamber": 1, "seats": [h(4).hex()]}}, CouncilElection(1, [h(4)])),
        ({"resolution": {"text": "…"}}, Resolution("…")),
    ]
    for js, proposal in examples:
        assert proposal_from_json(js) == proposal and proposal.to_json() == js
    events = [
        ({"event": "proposed", "height": 1}, ProcessProposed(1)),
        ({"event": "scheduled", "height": 1}, ProcessScheduled(1)),
        ({"event": "tallied", "height": 21, "passed": True}, ProcessTallied(21, True)),
        ({"event": "executed", "height": 26}, ProcessExecuted(26)),
        ({"event": "execution_failed", "height": 26, "code": "evidence_already_used"},
         ProcessExecutionFailed(26, "evidence_already_used")),
        ({"event": "vetoed", "height": 24, "reason": "…", "guardians": [h(5).hex()]}, ProcessVetoed(24, "…", [h(5)])),
        ({"event": "expired", "height": 51}, ProcessExpired(51)),
    ]
    for js, event in events:
        assert event.to_json() == js
    assert {"tiers": {"min": 4, "max": 4}} == MembershipTiers(4, 4).to_json()


def test_a_process_round_trips_and_its_schedule_and_clauses_follow_the_examples() -> None:
    rules = dev_governance_rules([], 0)
    kind = rules.kinds[ParameterChange.INDEX]
    # governance.md §4: proposed (and sponsored) in block 1 under the dev rules
    sched = Schedule.starting(1, kind)
    assert (sched.voting_opens, sched.voting_closes, sched.executes_at) == (7, 21, 26)
    # §2.4: 2 yes 1 no misses 6,667 bps; a 1-1 tie misses 5,001; no yes never passes
    assert not ChamberTally(0, 3, 2, 1, 0, 0, 6_667, False).judge()
    assert ChamberTally(0, 4, 3, 0, 0, 5_000, 6_667, True).judge()
    assert not ChamberTally(0, 2, 1, 1, 0, 0, 5_001, False).judge()
    assert not ChamberTally(0, 0, 0, 0, 0, 0, 5_000, False).judge()
    assert not ChamberTally(0, 30, 2, 0, 0, 1_000, 6_667, False).judge()  # 2 of 30 < 10 % quorum
    # §2.3's examples of sponsor rules
    assert SponsorRule(0, 5_000, 1).needed(3) == 2
    assert SponsorRule(0, 100, 2).needed(8) == 2
    assert SponsorRule(0, 0, 1).needed(100) == 1
    assert SponsorRule(0, 10_000, 1).needed(1_000) == 256
    h = lambda b: bytes([b]) * 32  # noqa: E731
    process = Process(4, ParameterChange(Parameter.MaxForks, 6), h(1), [h(1)], 1, kind, rules.chambers, 4, 1, sched,
                      ProcessStatus.Executed, [ChamberTally(0, 4, 3, 0, 0, 5_000, 6_667, True),
                                               ChamberTally(2, 2**70, 2**69, 0, 1, 1_000, 6_667, True)],
                      [ProcessProposed(1), ProcessScheduled(1), ProcessTallied(21, True), ProcessExecuted(26)])
    data = process.encode()
    back = decode_all(data, Process.decode)
    assert back == process and back.encode() == data and back.kind == 0
    assert back.to_json()["schedule"] == {"sponsored_at": 1, "voting_opens": 7, "voting_closes": 21, "executes_at": 26}
    assert back.to_json()["proposal"] == {"parameter_change": {"parameter": "max_forks", "value": 6}}
    assert back.to_json()["status"] == "executed"


# --- juries and the beacon -----------------------------------------------------------------


def _jury_case_example() -> JuryCase:
    h = lambda b: bytes([b]) * 32  # noqa: E731
    rules = JuryRules(draw_delay=3, ruling_blocks=10)
    pool = [h(1), h(2), h(3), h(4), h(5)]
    seed = h(9)
    jurors = draw_jury(seed, 7, pool, rules.size)
    rulings = [JurorRuling(jurors[0], Verdict.ForClaim, 13), JurorRuling(jurors[1], Verdict.AgainstClaim, 14)]
    outcome = CaseOutcome(1, 1, Verdict.AgainstClaim, [jurors[2]], 10, 0)
    history = [CaseFiled(10, h(0x20)), CaseDrawn(13), CaseSettled(23, Verdict.AgainstClaim)]
    return JuryCase(7, CaseEscrow(h(0x30)), 2, rules, 10, 13, 23, pool, seed, jurors, rulings, CaseStatus.Settled, outcome,
                    history)


def test_jury_action_byte_layouts_and_json() -> None:
    h = lambda b: bytes([b]) * 32  # noqa: E731
    u64 = lambda v: v.to_bytes(8, "little")  # noqa: E731
    assert JoinJuryPool().encode() == b"\x18" and JoinJuryPool().to_json() == "JoinJuryPool"
    assert LeaveJuryPool().encode() == b"\x19" and LeaveJuryPool().to_json() == "LeaveJuryPool"
    assert RequestJury(h(3)).encode() == b"\x1a" + h(3)
    assert RequestJury(h(3)).to_json() == {"RequestJury": {"escrow": h(3).hex()}}
    assert RuleOnCase(5, Verdict.ForClaim).encode() == b"\x1b" + u64(5) + b"\x00"
    assert RuleOnCase(5, Verdict.AgainstClaim).encode() == b"\x1b" + u64(5) + b"\x01"
    assert RuleOnCase(0, Verdict.ForClaim).to_json() == {"RuleOnCase": {"case": 0, "verdict": "for_claim"}}
    assert action_from_json({"RuleOnCase": {"case": 4, "verdict": "against_claim"}}) == RuleOnCase(
        4, Verdict.AgainstClaim)
    assert action_from_json("JoinJuryPool") == JoinJuryPool() and action_from_json("LeaveJuryPool") == LeaveJuryPool()
    for retired in ("split", "to_payee", "to_payer"):
        with pytest.raises(EncodingError, match="unknown variant"):
            action_from_json({"RuleOnCase": {"case": 4, "verdict": retired}})
    # a verdict other than 0 or 1 is refused
    tx = TransactionBody(bytes(32), 0, bytes(32), 0, 0, RuleOnCase(1, Verdict.AgainstClaim)).sign(
        SigningKey(bytes([1]) * 32))
    data = tx.encode()
    assert data[84 + 9] == 1
    with pytest.raises(EncodingError, match="unknown Verdict variant"):
        SignedTransaction.decode(data[:84 + 9] + b"\x02" + data[84 + 10:])


def test_jury_rules_are_appended_to_the_governance_rules() -> None:
    rules = JuryRules()
    assert (rules.size, rules.min_tier, rules.max_tier, rules.juror_bond, rules.absence_penalty, rules.draw_delay,
            rules.ruling_blocks) == (3, 0, 4, 100, 10, 5, 20)
    assert rules.notice_blocks == 26
    w = Writer()
    JuryRules(5, 1, 3, 250, 25, 2, 7).encode_into(w)
    assert w.getvalue() == ((5).to_bytes(4, "little") + b"\x01\x03" + (250).to_bytes(8, "little")
                            + (25).to_bytes(8, "little") + (2).to_bytes(8, "little") + (7).to_bytes(8, "little"))
    # the rules' encoding ends with the jury rules, after max_delegation_depth
    example = _rules_example()
    data = example.encode()
    assert data[-39:] == b"\x05" + w.getvalue()
    assert decode_all(data, GovernanceRules.decode) == example
    assert GovernanceRules.from_json(example.to_json()) == example
    assert example.to_json()["juries"] == {"size": 5, "min_tier": 1, "max_tier": 3, "juror_bond": 250,
                                           "absence_penalty": 25, "draw_delay": 2, "ruling_blocks": 7}
    # absent from a genesis file: the defaults; unknown fields refused
    o = example.to_json()
    del o["juries"]
    assert GovernanceRules.from_json(o).juries == JuryRules()
    with pytest.raises(EncodingError, match="unknown field"):
        JuryRules.from_json({**rules.to_json(), "quorum": 1})
    with pytest.raises(EncodingError, match="missing field"):
        JuryRules.from_json({"size": 3})
    # the dev rules draw 3 blocks after filing and rule for 10
    assert dev_governance_rules([], 0).juries == JuryRules(draw_delay=3, ruling_blocks=10)
    assert default_governance_rules().juries == JuryRules()
    # validation
    rules.validate()
    for bad in (JuryRules(size=4), JuryRules(size=65), JuryRules(min_tier=3, max_tier=2), JuryRules(max_tier=5),
                JuryRules(juror_bond=0, absence_penalty=0), JuryRules(absence_penalty=101), JuryRules(draw_delay=0),
                JuryRules(ruling_blocks=10_000_001)):
        with pytest.raises(EncodingError):
            bad.validate()


def test_jury_state_values_round_trip_and_serve_their_json() -> None:
    h = lambda b: bytes([b]) * 32  # noqa: E731
    case = _jury_case_example()
    data = case.encode()
    back = decode_all(data, JuryCase.decode)
    assert back == case and back.encode() == data
    js = back.to_json()
    assert js["status"] == "settled" and js["seed"] == h(9).hex() and js["rules"]["draw_delay"] == 3
    assert js["subject"] == {"escrow": h(0x30).hex()} and "escrow" not in js
    assert js["history"] == [{"event": "filed", "height": 10, "by": h(0x20).hex()}, {"event": "drawn", "height": 13},
                             {"event": "settled", "height": 23, "verdict": "against_claim"}]
    assert js["outcome"] == {"for_claim": 1, "against_claim": 1, "verdict": "against_claim",
                             "absent": [case.jurors[2].hex()], "penalties": 10, "slashed": 0}
    assert js["rulings"][0] == {"juror": case.jurors[0].hex(), "verdict": "for_claim", "height": 13}
    # the subject sits where the escrow id was: after the id, a tag then the escrow id
    assert data[:8 + 1 + 32] == (7).to_bytes(8, "little") + b"\x00" + h(0x30)
    # a case awaiting its draw: no seed, no jurors, no outcome
    filed = JuryCase(0, CaseEscrow(h(1)), 1, JuryRules(), 4, 9, 29, [h(2), h(3), h(4)], None, [], [], CaseStatus.AwaitingDraw,
                     None, [CaseFiled(4, h(5))])
    enc = filed.encode()
    assert decode_all(enc, JuryCase.decode) == filed
    assert filed.to_json()["seed"] is None and filed.to_json()["outcome"] is None
    assert filed.to_json()["status"] == "awaiting_draw"
    assert [s.to_json() for s in CaseStatus] == ["awaiting_draw", "ruling", "settled"]
    assert [v.to_json() for v in Verdict] == ["for_claim", "against_claim"]
    with pytest.raises(EncodingError, match="unknown CaseStatus variant"):
        # the status, then outcome None (1 byte), then one Filed event (4 + 1 + 8 + 32 bytes)
        at = len(enc) - (1 + 1 + 45)
        assert enc[at] == 0
        decode_all(enc[:at] + b"\x03" + enc[at + 1:], JuryCase.decode)
    with pytest.raises(EncodingError, match="unknown CaseEvent variant"):
        decode_all(b"\x03" + (1).to_bytes(8, "little"), decode_case_event)
    # beacon, juror, pool, next case, deadlines
    beacon = Beacon(12, h(6))
    assert beacon.encode() == (12).to_bytes(8, "little") + h(6) and decode_all(beacon.encode(), Beacon.decode) == beacon
    assert beacon.to_json() == {"height": 12, "mix": h(6).hex()}
    juror = Juror(90, 4, 31)
    assert juror.encode() == (90).to_bytes(8, "little") + (4).to_bytes(8, "little") + b"\x01" + (31).to_bytes(8, "little")
    assert decode_all(juror.encode(), Juror.decode) == juror
    assert Juror(100, 4, None).to_json() == {"bond": 100, "joined_at": 4, "released_at": None}
    assert decode_all((6).to_bytes(8, "little"), NextJuryCase.decode).to_json() == 6
    assert decode_all((41).to_bytes(8, "little"), LastJuryClose.decode).to_json() == 41
    assert StateKey.last_jury_close().encode() == b"\x1e"
    deadlines = b"\x03\x00\x00\x00" + b"\x00" + (1).to_bytes(8, "little") + b"\x01" + (0).to_bytes(8, "little") + b"\x02" + h(7)
    due = decode_all(deadlines, JuryDeadlines.decode)
    assert list(due.deadlines) == [JuryDraw(1), JuryClose(0), JuryReleaseJuror(h(7))]
    assert due.to_json() == [{"draw": 1}, {"close": 0}, {"release_juror": h(7).hex()}]
    # an escrow before a jury
    escrow = (h(1) + h(2) + h(3) + (500).to_bytes(8, "little") + b"\x01" + h(4) + (9).to_bytes(8, "little")
              + (9).to_bytes(8, "little") + b"\x05")
    e = decode_all(escrow, Escrow.decode)
    assert e.status == EscrowStatus.BeforeJury and e.to_json()["status"] == "BeforeJury"
    with pytest.raises(EncodingError, match="unknown EscrowStatus variant"):
        decode_all(escrow[:-1] + b"\x06", Escrow.decode)


def test_request_slash_jury_bytes_and_json() -> None:
    """Action 28: `offender: PassportId`, `amount: u64`, `case: CaseId`, 73 bytes after the tag."""
    h = lambda b: bytes([b]) * 32  # noqa: E731
    action = RequestSlashJury(h(0xA1), 400, h(0xC5))
    data = action.encode()
    assert data == b"\x1c" + h(0xA1) + bytes.fromhex("9001000000000000") + h(0xC5)
    assert len(data) == 1 + 32 + 8 + 32
    js = {"RequestSlashJury": {"offender": h(0xA1).hex(), "amount": 400, "case": h(0xC5).hex()}}
    assert action.to_json() == js and action_from_json(js) == action
    with pytest.raises(EncodingError, match="missing field 'case'"):
        action_from_json({"RequestSlashJury": {"offender": h(0xA1).hex(), "amount": 400}})
    with pytest.raises(EncodingError):
        action_from_json({"RequestSlashJury": {"offender": h(0xA1).hex()[:-2], "amount": 400, "case": h(0xC5).hex()}})
    # in a transaction: the action at offset 84, decoded back strictly
    tx = TransactionBody(bytes(32), 0, bytes(32), 0, 0, action).sign(SigningKey(bytes([1]) * 32))
    enc = tx.encode()
    assert enc[84:84 + 73] == data
    assert SignedTransaction.decode(enc) == tx
    with pytest.raises(EncodingError, match="truncated"):
        SignedTransaction.decode(enc[:84 + 72])


def _slash_case_bytes_by_hand() -> tuple[bytes, JuryCase]:
    """A settled slash case: the bytes laid out field by field from the ledger's `JuryCase`, and
    the value they are."""
    h = lambda b: bytes([b]) * 32  # noqa: E731
    u32 = lambda v: v.to_bytes(4, "little")  # noqa: E731
    u64 = lambda v: v.to_bytes(8, "little")  # noqa: E731
    offender, filer, number = h(0xA1), h(0xA4), h(0xC5)
    pool = [h(1), h(2), h(3), h(4)]
    seed = h(9)
    jurors = draw_jury(seed, 3, pool, 3)
    data = (
        u64(3)  # id
        + b"\x01" + offender + u64(400) + number  # subject: Slash { offender, amount, case }
        + u64(1)  # rules_version
        + u32(3) + b"\x00\x04" + u64(100) + u64(10) + u64(3) + u64(10)  # JuryRules (the dev rules)
        + u64(20) + u64(23) + u64(33)  # filed_at, draw_at, closes_at
        + u32(4) + b"".join(pool)  # pool
        + b"\x01" + seed  # seed: Some
        + u32(3) + b"".join(jurors)  # jurors
        + u32(3)  # rulings: for, for, against
        + jurors[0] + b"\x00" + u64(24) + jurors[1] + b"\x00" + u64(25) + jurors[2] + b"\x01" + u64(25)
        + b"\x02"  # status: Settled
        + b"\x01" + u32(2) + u32(1) + b"\x00" + u32(0) + u64(0) + u64(400)  # outcome: Some(CaseOutcome)
        + u32(3)  # history: Filed, Drawn, Settled(ForClaim)
        + b"\x00" + u64(20) + filer + b"\x01" + u64(23) + b"\x02" + u64(33) + b"\x00"
    )
    case = JuryCase(3, CaseSlash(offender, 400, number), 1, JuryRules(draw_delay=3, ruling_blocks=10), 20, 23, 33,
                    pool, seed, jurors,
                    [JurorRuling(jurors[0], Verdict.ForClaim, 24), JurorRuling(jurors[1], Verdict.ForClaim, 25),
                     JurorRuling(jurors[2], Verdict.AgainstClaim, 25)],
                    CaseStatus.Settled, CaseOutcome(2, 1, Verdict.ForClaim, [], 0, 400),
                    [CaseFiled(20, filer), CaseDrawn(23), CaseSettled(33, Verdict.ForClaim)])
    return data, case


def test_a_slash_case_decodes_from_bytes_laid_out_by_hand() -> None:
    h = lambda b: bytes([b]) * 32  # noqa: E731
    data, expected = _slash_case_bytes_by_hand()
    case = decode_all(data, JuryCase.decode)
    assert case == expected and case.encode() == data
    assert case.subject == CaseSlash(h(0xA1), 400, h(0xC5))
    js = case.to_json()
    assert js["subject"] == {"slash": {"offender": h(0xA1).hex(), "amount": 400, "case": h(0xC5).hex()}}
    assert js["outcome"] == {"for_claim": 2, "against_claim": 1, "verdict": "for_claim", "absent": [], "penalties": 0,
                             "slashed": 400}
    assert js["history"][-1] == {"event": "settled", "height": 33, "verdict": "for_claim"}
    assert list(js) == ["id", "subject", "rules_version", "rules", "filed_at", "draw_at", "closes_at", "pool", "seed",
                        "jurors", "rulings", "status", "outcome", "history"]
    check_draw(case)
    check_outcome(case)
    # the subject alone: tag 0 an escrow id, tag 1 a slash (73 bytes), anything else refused
    assert decode_all(b"\x00" + h(5), decode_case_subject) == CaseEscrow(h(5))
    assert CaseEscrow(h(5)).to_json() == {"escrow": h(5).hex()}
    slash = b"\x01" + h(6) + (2**64 - 1).to_bytes(8, "little") + h(7)
    assert decode_all(slash, decode_case_subject) == CaseSlash(h(6), 2**64 - 1, h(7)) and len(slash) == 73
    w = Writer()
    CaseSlash(h(6), 2**64 - 1, h(7)).encode_into(w)
    assert w.getvalue() == slash
    with pytest.raises(EncodingError, match="unknown CaseSubject variant"):
        decode_all(b"\x02" + h(5), decode_case_subject)
    with pytest.raises(EncodingError, match="unknown CaseSubject variant"):
        decode_all(data[:8] + b"\x02" + data[9:], JuryCase.decode)
    with pytest.raises(EncodingError, match="trailing"):
        decode_all(b"\x00" + h(5) + b"\x00", decode_case_subject)
    # an outcome without `slashed` (the layout before slash cases) is one u64 short
    old = (2).to_bytes(4, "little") + (1).to_bytes(4, "little") + b"\x00" + bytes(4) + (0).to_bytes(8, "little")
    with pytest.raises(EncodingError, match="truncated"):
        decode_all(old, CaseOutcome.decode)
    assert decode_all(old + (7).to_bytes(8, "little"), CaseOutcome.decode) == CaseOutcome(
        2, 1, Verdict.ForClaim, [], 0, 7)
    with pytest.raises(EncodingError, match="unknown Verdict variant"):
        decode_all(old[:8] + b"\x02" + old[9:] + bytes(8), CaseOutcome.decode)


def test_the_slash_cases_against_a_passport() -> None:
    """`SlashCasesAgainst(p)`, key 31: `Vec<JuryCaseId>`, a u32 count then u64 ids, sorted."""
    value = b"\x02\x00\x00\x00" + (3).to_bytes(8, "little") + (9).to_bytes(8, "little")
    ids = decode_all(value, JuryCaseIds.decode)
    assert ids == JuryCaseIds([3, 9]) and ids.to_json() == [3, 9] and ids.encode() == value
    assert decode_all(b"\x00\x00\x00\x00", JuryCaseIds.decode).to_json() == []
    with pytest.raises(EncodingError, match="truncated"):
        decode_all(value[:-1], JuryCaseIds.decode)
    with pytest.raises(EncodingError, match="trailing"):
        decode_all(value + b"\x00", JuryCaseIds.decode)


def test_the_verdict_needs_more_than_half_the_jurors_drawn() -> None:
    assert verdict_of(2, 3) == Verdict.ForClaim and verdict_of(3, 3) == Verdict.ForClaim
    assert verdict_of(1, 3) == Verdict.AgainstClaim and verdict_of(0, 3) == Verdict.AgainstClaim
    assert verdict_of(3, 5) == Verdict.ForClaim and verdict_of(2, 5) == Verdict.AgainstClaim
    assert verdict_of(0, 0) == Verdict.AgainstClaim
    _, slash = _slash_case_bytes_by_hand()
    j = list(slash.jurors)
    outcome = slash.outcome
    assert outcome is not None

    def closed(rulings: list[JurorRuling], o: CaseOutcome) -> JuryCase:
        history = [*slash.history[:-1], CaseSettled(33, o.verdict)]
        return replace(slash, rulings=rulings, outcome=o, history=history)

    # one for the claim, two absent: a majority of those who ruled, not of the jury — the claim fails
    lone = [JurorRuling(j[0], Verdict.ForClaim, 24)]
    check_outcome(closed(lone, CaseOutcome(1, 0, Verdict.AgainstClaim, j[1:], 20, 0)))
    with pytest.raises(ProofError, match="verdict"):
        check_outcome(closed(lone, CaseOutcome(1, 0, Verdict.ForClaim, j[1:], 20, 400)))
    # two for, one absent: the claim holds
    two = [JurorRuling(j[0], Verdict.ForClaim, 24), JurorRuling(j[2], Verdict.ForClaim, 24)]
    check_outcome(closed(two, CaseOutcome(2, 0, Verdict.ForClaim, [j[1]], 10, 400)))
    # the record must add up
    with pytest.raises(ProofError, match="counts"):
        check_outcome(replace(slash, outcome=replace(outcome, for_claim=3, against_claim=0)))
    with pytest.raises(ProofError, match="absent"):
        check_outcome(replace(slash, outcome=replace(outcome, absent=[j[0]])))
    with pytest.raises(ProofError, match="penalties"):
        check_outcome(replace(slash, outcome=replace(outcome, penalties=1)))
    with pytest.raises(ProofError, match="slashed"):
        check_outcome(replace(slash, outcome=replace(outcome, slashed=401)))
    with pytest.raises(ProofError, match="slashed"):
        check_outcome(closed(lone, CaseOutcome(1, 0, Verdict.AgainstClaim, j[1:], 20, 1)))
    with pytest.raises(ProofError, match="history"):
        check_outcome(replace(slash, history=slash.history[:-1]))
    with pytest.raises(ProofError, match="one each"):
        check_outcome(replace(slash, rulings=[*slash.rulings[:2], JurorRuling(j[0], Verdict.AgainstClaim, 25)]))
    # an escrow case slashes nothing; a case not settled has no outcome
    escrow = _jury_case_example()
    check_outcome(escrow)
    assert escrow.outcome is not None
    with pytest.raises(ProofError, match="slashed"):
        check_outcome(replace(escrow, outcome=replace(escrow.outcome, slashed=1)))
    check_outcome(replace(slash, status=CaseStatus.Ruling, outcome=None, history=slash.history[:2]))
    with pytest.raises(ProofError):
        check_outcome(replace(slash, status=CaseStatus.Ruling))


def test_the_beacon_and_the_reveal_message() -> None:
    fed, cell = bytes([0x11]) * 32, 3
    msg = reveal_message(fed, cell, 9)
    assert msg == b"CHARTER_BEACON_V1" + fed + (3).to_bytes(4, "little") + (9).to_bytes(8, "little")
    assert len(msg) == 61
    genesis = genesis_beacon(fed, cell)
    assert genesis == Beacon(0, blake3.blake3(b"charter/beacon/v1" + fed + (3).to_bytes(4, "little")).digest())
    # a proposer's reveal: its BLS signature over the message, unique, checked with its key
    sk = 0x1234_5678_9ABC
    pk = bls.public_key(sk)
    reveal = bls.sign(sk, msg)
    assert len(reveal) == 96 and reveal == bls.sign(sk, msg)
    assert verify_reveal(pk, fed, cell, 9, reveal)
    assert not verify_reveal(pk, fed, cell, 10, reveal)  # another height
    assert not verify_reveal(pk, fed, cell + 1, 9, reveal)  # another cell
    assert not verify_reveal(bls.public_key(sk + 1), fed, cell, 9, reveal)  # another key
    assert not verify_reveal(pk, fed, cell, 9, reveal[:95])
    # the mix chains the reveals
    first = mixed(genesis, 1, reveal)
    assert first == Beacon(1, blake3.blake3(genesis.mix + reveal).digest())
    assert beacon_mix(first.mix, reveal) == blake3.blake3(first.mix + reveal).digest()
    with pytest.raises(EncodingError):
        mixed(first, 1, reveal)  # the beacon mixes forward
    with pytest.raises(EncodingError):
        beacon_mix(first.mix, reveal[:95])


def test_a_block_header_carries_the_reveal_after_the_proposer() -> None:
    h = lambda b: bytes([b]) * 32  # noqa: E731
    reveal = bytes(range(96))
    header = BlockHeader(h(1), 2, 3, h(4), h(5), reveal, h(6), h(7))
    data = header.encode()
    assert len(data) == HEADER_BYTES == 268
    assert data == h(1) + (2).to_bytes(4, "little") + (3).to_bytes(8, "little") + h(4) + h(5) + reveal + h(6) + h(7)
    assert data[108:204] == reveal
    assert decode_all(data, BlockHeader.decode) == header
    assert header.hash() == blake3.blake3(b"charter/block/v1" + data).digest()
    block: dict[str, Any] = {"height": 3, "header": {"federation": h(1).hex(), "cell": 2, "parent": h(4).hex(), "proposer": h(5).hex(),
                                     "reveal": reveal.hex(), "transactions_root": h(6).hex(),
                                     "state_root": h(7).hex()}}
    assert BlockHeader.from_block_json(block) == header
    block["header"]["reveal"] = reveal[:95].hex()
    with pytest.raises(EncodingError):
        BlockHeader.from_block_json(block)


def _draw_by_hand(seed: bytes, case: int, pool: list[bytes], size: int) -> list[bytes]:
    scored = []
    for p in pool:
        score = blake3.blake3(b"charter/jury/v1" + seed + case.to_bytes(8, "little") + p).digest()
        scored.append((score, p))
    scored.sort()
    return [p for _, p in scored[:size]]


def test_the_draw_is_the_lowest_sortition_scores() -> None:
    pool = sorted(bytes([i]) * 32 for i in range(1, 12))
    seed = blake3.blake3(b"a seed").digest()
    jury = draw_jury(seed, 4, pool, 3)
    assert jury == _draw_by_hand(seed, 4, pool, 3)
    assert len(jury) == 3 and len(set(jury)) == 3 and set(jury) <= set(pool)
    scores = [sortition_score(seed, 4, p) for p in jury]
    assert scores == sorted(scores)  # lowest score first
    assert max(scores) < min(sortition_score(seed, 4, p) for p in pool if p not in jury)
    assert sortition_score(seed, 4, pool[0]) == blake3.blake3(
        b"charter/jury/v1" + seed + (4).to_bytes(8, "little") + pool[0]).digest()
    # a pure function of the seed, the case and the pool (not of the pool's order)
    assert draw_jury(seed, 4, list(reversed(pool)), 3) == jury
    assert draw_jury(seed, 4, pool, 5)[:3] == jury
    assert draw_jury(seed, 4, pool[:2], 3) == _draw_by_hand(seed, 4, pool[:2], 3)  # a small pool sits whole
    others = {tuple(draw_jury(s, c, pool, 3)) for s, c in ((seed, 5), (bytes(32), 4), (bytes([1]) * 32, 4))}
    assert len(others | {tuple(jury)}) > 1
    # the case's record: the draw checks from the case alone
    case = _jury_case_example()
    check_draw(case)
    with pytest.raises(ProofError):
        check_draw(replace(case, jurors=list(reversed(case.jurors))))


def test_a_score_tie_goes_to_the_lower_passport(monkeypatch: pytest.MonkeyPatch) -> None:
    from charter_client import juries
    monkeypatch.setattr(juries, "sortition_score", lambda seed, case, passport: bytes(32))
    pool = [bytes([i]) * 32 for i in (9, 3, 7, 1)]
    assert juries.draw_jury(bytes(32), 0, pool, 3) == [bytes([1]) * 32, bytes([3]) * 32, bytes([7]) * 32]
