"""Every action of docs/actions.md, built, signed and submitted to a live cell, with the outcome
the documents predict; effects are read back with verified state proofs.

Genesis of `charter localnet` (seed 1): passports 0-3 validators (tier 4, bonded 10,000), 4-6
the arbiter panel (tier 3, bonded 100, threshold 2), 7-22 members (tier 2, bonded 100), each
with a balance of 1,000,000; `min_fee` 0."""

from __future__ import annotations

import os
from typing import Any

import pytest

from _localnet import Cell
from charter_client import (
    ArbiterApproval, ArbiterRuling, Bond, BridgeRulingTerms, CellMode, ConsentRuling, ConsentSubject, DoubleVote,
    EscrowCreate, EscrowDispute, EscrowRefund, EscrowRelease, EscrowResolve, Exit, ForkPassport, IssuePassport,
    LiftBridgeLockdown, ModeChangeTerms, RegisterValidator, RotateKeys, RulingRotateKeys, RulingSanction, RulingSlash,
    RulingTerms, Sanction, SanctionKind, SetCellMode, SignedVote, SigningKey, Slash, Transfer, Unbond,
    ValidatorApproval, Vote, VoteType, Withdraw, escrow_id, passport_id,
)
from charter_client import bls
from charter_client.ids import double_vote_offence_id
from charter_client.state import EscrowStatus, PassportStatus

VALIDATORS = (0, 1, 2, 3)
ARBITERS = (4, 5, 6)


def case_id() -> bytes:
    return os.urandom(32)


def arbiter_approvals(cell: Cell, case: bytes, ruling: Any, who: tuple[int, ...] = (4, 5)) -> list[ArbiterApproval]:
    terms = RulingTerms(cell.federation, cell.cell, case, ruling)
    return [ArbiterApproval.sign(cell.pid(i), cell.keys[i].controller, terms) for i in who]


def validator_approvals(cell: Cell, terms: Any, who: tuple[int, ...] = (0, 1, 2)) -> list[ValidatorApproval]:
    out = []
    for i in who:
        v = cell.keys[i].validator
        assert v is not None, f"passport-{i}.json has no validator keys"
        out.append(ValidatorApproval.sign(cell.pid(i), v.consensus, terms))
    return out


def passport(cell: Cell, pid: bytes) -> Any:
    read = cell.verifier.passport(pid)
    assert read.value is not None, f"passport {pid.hex()} absent"
    return read.value


def bond_of(cell: Cell, pid: bytes) -> Any:
    return cell.verifier.bond(pid).value


def escrow(cell: Cell, eid: bytes) -> Any:
    read = cell.verifier.escrow(eid)
    assert read.value is not None
    return read.value


def issue(cell: Cell, sponsor: int, key: SigningKey, tier: int = 1) -> bytes:
    kf = cell.keys[sponsor]
    nonce = cell.nonce(cell.pid(sponsor))
    tx = cell.build(kf, IssuePassport([key.public_key], tier), nonce=nonce)
    rec = cell.client.follow(cell.client.submit(tx))
    assert rec["status"] == "committed", rec
    return passport_id(cell.cell, cell.pid(sponsor), nonce)


def as_keyfile(pid: bytes, key: SigningKey) -> Any:
    from charter_client import KeyFile
    return KeyFile(pid, key)


# --- passports ---------------------------------------------------------------------------


def test_transfer_commits_and_moves_the_amount(cell: Cell) -> None:
    sender, to = cell.pid(7), cell.pid(8)
    before_s, before_t = passport(cell, sender), passport(cell, to)
    cell.commit(cell.keys[7], Transfer(to, 1_234))
    after_s, after_t = passport(cell, sender), passport(cell, to)
    assert after_s.balance == before_s.balance - 1_234
    assert after_t.balance == before_t.balance + 1_234
    assert after_s.nonce == before_s.nonce + 1
    cell.refused(cell.keys[7], Transfer(to, 0), "zero_amount")
    cell.refused(cell.keys[7], Transfer(to, 10**15), "insufficient_balance")
    cell.refused(cell.keys[7], Transfer(os.urandom(32), 1), "unknown_passport")


def test_issue_passport_creates_the_derived_passport(cell: Cell) -> None:
    key = SigningKey.generate()
    new = issue(cell, 9, key, tier=1)
    p = passport(cell, new)
    assert p.id == new
    assert list(p.controller_keys) == [key.public_key]
    assert (p.tier, p.sponsor, p.generation, p.status) == (1, cell.pid(9), 0, PassportStatus.Active)
    assert (p.balance, p.nonce) == (0, 0)
    cell.refused(cell.keys[9], IssuePassport([SigningKey.generate().public_key], 2), "tier_not_allowed")
    cell.refused(cell.keys[9], IssuePassport([bytes([0xFF]) * 32], 1), "invalid_controller_keys")


def test_rotate_keys_by_subject_replaces_the_keys(cell: Cell) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    pid = issue(cell, 10, old)
    cell.commit(as_keyfile(pid, old), RotateKeys(pid, [new.public_key], ConsentSubject()))
    assert list(passport(cell, pid).controller_keys) == [new.public_key]
    # the rotated-out key no longer signs for the passport
    cell.refused(as_keyfile(pid, old), Transfer(cell.pid(8), 1), "signer_not_controller")
    # and a subject cannot rotate another passport's keys
    cell.refused(as_keyfile(pid, new), RotateKeys(cell.pid(8), [new.public_key], ConsentSubject()), "not_authorized")


def test_rotate_keys_by_arbiter_ruling_replaces_the_keys(cell: Cell) -> None:
    subject, new = cell.pid(11), SigningKey.generate()
    case = case_id()
    approvals = arbiter_approvals(cell, case, RulingRotateKeys(subject, (new.public_key,)))
    action = RotateKeys(subject, [new.public_key], ConsentRuling(case, approvals))
    # one approval is below the panel's threshold of 2
    cell.refused(cell.keys[12], RotateKeys(subject, [new.public_key], ConsentRuling(case, approvals[:1])),
                 "insufficient_arbiter_approvals")
    cell.commit(cell.keys[12], action)
    assert list(passport(cell, subject).controller_keys) == [new.public_key]
    assert cell.verifier.passport(subject).value is not None
    cell.refused(cell.keys[12], action, "evidence_already_used")  # the case is spent


def test_fork_passport_creates_a_child_in_the_lineage(cell: Cell) -> None:
    parent = cell.pid(13)
    key = SigningKey.generate()
    nonce = cell.nonce(parent)
    cell.commit(cell.keys[13], ForkPassport([key.public_key]))
    child = passport_id(cell.cell, parent, nonce)
    c = passport(cell, child)
    assert list(c.lineage) == [parent] and c.generation == 1
    assert c.tier == passport(cell, parent).tier
    assert child in list(passport(cell, parent).forks)


def test_exit_marks_the_passport_exited(cell: Cell) -> None:
    key = SigningKey.generate()
    pid = issue(cell, 9, key)
    me = as_keyfile(pid, key)
    cell.commit(me, Exit())
    assert passport(cell, pid).status == PassportStatus.Exited
    cell.refused(me, Transfer(cell.pid(8), 1), "passport_not_active")
    # a passport with stake cannot exit
    cell.refused(cell.keys[14], Exit(), "stake_outstanding")


# --- stake -------------------------------------------------------------------------------


def test_bond_locks_balance_as_stake(cell: Cell) -> None:
    pid = cell.pid(15)
    before_b, before_p = bond_of(cell, pid), passport(cell, pid)
    cell.commit(cell.keys[15], Bond(500))
    assert bond_of(cell, pid).bonded == before_b.bonded + 500
    assert passport(cell, pid).balance == before_p.balance - 500
    cell.refused(cell.keys[15], Bond(0), "zero_amount")


def test_unbond_then_withdraw_after_the_delay(cell: Cell) -> None:
    pid = cell.pid(16)
    before = bond_of(cell, pid)
    rec = cell.commit(cell.keys[16], Unbond(60))
    release = int(rec["height"]) + int(cell.params["unbonding_delay"])
    b = bond_of(cell, pid)
    assert b.bonded == before.bonded - 60
    assert [(u.amount, u.release_height) for u in b.unbonding] == [(60, release)]
    cell.refused(cell.keys[16], Unbond(10**9), "insufficient_bond")
    cell.refused(cell.keys[16], Withdraw(), "nothing_to_withdraw")
    # admission judges at the next height, the block executes at least there
    cell.client.wait_for_height(release - 1, timeout=120)
    balance = passport(cell, pid).balance
    cell.commit(cell.keys[16], Withdraw())
    assert list(bond_of(cell, pid).unbonding) == []
    assert passport(cell, pid).balance == balance + 60


@pytest.fixture(scope="module")
def registered(cell: Cell) -> dict[str, Any]:
    """Member 17 bonds up to the validator minimum and registers new consensus and BLS keys."""
    me = cell.keys[17]
    pid = cell.pid(17)
    cell.commit(me, Bond(int(cell.params["min_validator_bond"])))
    consensus = SigningKey.generate()
    bls_sk = bls.generate_secret_key()
    action = RegisterValidator.create(cell.federation, cell.cell, pid, consensus, bls_sk)
    # a proof of possession by another key does not verify
    bad = RegisterValidator(action.consensus_key, action.bls_key, bls.prove_possession(bls.generate_secret_key()),
                            action.consensus_signature, action.bls_signature)
    cell.refused(me, bad, "invalid_bls_key")
    rec = cell.commit(me, action)
    return {"pid": pid, "consensus": consensus, "bls_key": action.bls_key, "height": int(rec["height"])}


def test_register_validator_records_the_keys(cell: Cell, registered: dict[str, Any]) -> None:
    read = cell.verifier.validator(registered["pid"])
    v = read.value
    assert v is not None
    assert (v.passport, v.consensus_key, v.bls_key, v.registered_at) == (
        registered["pid"], registered["consensus"].public_key, registered["bls_key"], registered["height"])
    again = RegisterValidator.create(cell.federation, cell.cell, registered["pid"], SigningKey.generate(),
                                     bls.generate_secret_key())
    cell.refused(cell.keys[17], again, "already_validator")


# --- discipline --------------------------------------------------------------------------


def test_slash_double_vote_seizes_half_the_stake(cell: Cell, registered: dict[str, Any]) -> None:
    key: SigningKey = registered["consensus"]
    pid = registered["pid"]
    height = 10**9  # the ledger does not bound the votes' height
    first = SignedVote.sign(Vote(cell.federation, cell.cell, height, 0, VoteType.Precommit, b"\x01" * 32), key)
    second = SignedVote.sign(Vote(cell.federation, cell.cell, height, 0, VoteType.Precommit, None), key)
    b = bond_of(cell, pid)
    stake = b.bonded + sum(u.amount for u in b.unbonding)
    seized = stake * int(cell.params["double_vote_slash_bps"]) // 10_000
    action = Slash(DoubleVote(first, second))
    # votes that do not conflict are no evidence
    cell.refused(cell.keys[12], Slash(DoubleVote(first, first)), "invalid_evidence")
    cell.commit(cell.keys[12], action)
    assert bond_of(cell, pid).bonded == b.bonded - seized
    records = passport(cell, pid).sanctions
    offence = double_vote_offence_id(key.public_key, height, 0, 1)
    assert [(s.case, s.kind, s.liability) for s in records] == [(offence, SanctionKind.Slashed, 0)]
    cell.refused(cell.keys[12], action, "evidence_already_used")


def test_slash_by_arbiter_ruling_seizes_stake_and_records_the_rest(cell: Cell) -> None:
    offender = cell.pid(18)
    bonded = bond_of(cell, offender).bonded
    amount = bonded + 50
    case = case_id()
    approvals = arbiter_approvals(cell, case, RulingSlash(offender, amount), who=(4, 6))
    cell.refused(cell.keys[12], Slash(ArbiterRuling(offender, 0, case, approvals)), "zero_amount")
    cell.commit(cell.keys[12], Slash(ArbiterRuling(offender, amount, case, approvals)))
    assert bond_of(cell, offender).bonded == 0
    p = passport(cell, offender)
    assert p.liabilities == 50
    assert [(s.case, s.kind, s.liability) for s in p.sanctions] == [(case, SanctionKind.Slashed, 50)]


def test_sanction_by_arbiter_ruling_is_recorded(cell: Cell) -> None:
    subject = cell.pid(22)
    case = case_id()
    approvals = arbiter_approvals(cell, case, RulingSanction(subject, SanctionKind.Warning, 7), who=(5, 6))
    before = passport(cell, subject)
    cell.commit(cell.keys[12], Sanction(subject, SanctionKind.Warning, 7, case, approvals))
    after = passport(cell, subject)
    assert after.status == before.status == PassportStatus.Active  # a warning changes no status
    assert after.liabilities == before.liabilities + 7
    assert (after.sanctions[-1].case, after.sanctions[-1].kind, after.sanctions[-1].inherited_from) == (
        case, SanctionKind.Warning, None)
    slashed = arbiter_approvals(cell, case_id(), RulingSanction(subject, SanctionKind.Slashed, 0))
    cell.refused(cell.keys[12], Sanction(subject, SanctionKind.Slashed, 0, case_id(), slashed), "not_authorized")


# --- escrow ------------------------------------------------------------------------------


def test_escrow_create_and_release_pays_the_payee(cell: Cell) -> None:
    payer, payee = cell.pid(19), cell.pid(20)
    h = cell.client.height()
    nonce = cell.nonce(payer)
    cell.commit(cell.keys[19], EscrowCreate(payee, 300, None, 0, h + 1_000))
    eid = escrow_id(cell.cell, payer, nonce)
    e = escrow(cell, eid)
    assert (e.payer, e.payee, e.amount, e.arbiter, e.status) == (payer, payee, 300, None, EscrowStatus.Open)
    cell.refused(cell.keys[20], EscrowRelease(eid), "not_authorized")  # the payee cannot release
    cell.refused(cell.keys[20], EscrowDispute(eid), "escrow_has_no_arbiter")
    balance = passport(cell, payee).balance
    cell.commit(cell.keys[19], EscrowRelease(eid))
    assert escrow(cell, eid).status == EscrowStatus.Released
    assert passport(cell, payee).balance == balance + 300
    cell.refused(cell.keys[19], EscrowRelease(os.urandom(32)), "unknown_escrow")
    cell.refused(cell.keys[19], EscrowCreate(payee, 1, None, 0, 0), "invalid_escrow_heights")


def test_escrow_dispute_and_resolve_split_the_amount(cell: Cell) -> None:
    payer, payee, arbiter = cell.pid(20), cell.pid(21), cell.pid(22)
    h = cell.client.height()
    nonce = cell.nonce(payer)
    cell.commit(cell.keys[20], EscrowCreate(payee, 400, arbiter, h + 1_000, h + 1_000))
    eid = escrow_id(cell.cell, payer, nonce)
    cell.refused(cell.keys[20], EscrowRelease(eid), "escrow_not_releasable")
    cell.commit(cell.keys[21], EscrowDispute(eid))
    assert escrow(cell, eid).status == EscrowStatus.Disputed
    cell.refused(cell.keys[22], EscrowResolve(eid, 100, 100), "resolution_mismatch")
    cell.refused(cell.keys[21], EscrowResolve(eid, 100, 300), "not_authorized")
    payee_before, payer_before = passport(cell, payee).balance, passport(cell, payer).balance
    cell.commit(cell.keys[22], EscrowResolve(eid, 100, 300))
    assert escrow(cell, eid).status == EscrowStatus.Resolved
    assert passport(cell, payee).balance == payee_before + 100
    assert passport(cell, payer).balance == payer_before + 300


def test_escrow_refund_after_expiry_returns_the_amount(cell: Cell) -> None:
    payer, payee = cell.pid(21), cell.pid(19)
    h = cell.client.height()
    expiry = h + 8
    nonce = cell.nonce(payer)
    cell.commit(cell.keys[21], EscrowCreate(payee, 200, None, expiry, expiry))
    eid = escrow_id(cell.cell, payer, nonce)
    if cell.client.height() + 1 < expiry:
        cell.refused(cell.keys[19], EscrowRefund(eid), "escrow_not_expired")
    cell.client.wait_for_height(expiry - 1, timeout=120)
    balance = passport(cell, payer).balance
    cell.commit(cell.keys[19], EscrowRefund(eid))  # any party may refund; the payer is credited
    assert escrow(cell, eid).status == EscrowStatus.Refunded
    assert passport(cell, payer).balance == balance + 200
    cell.refused(cell.keys[19], EscrowRefund(eid), "escrow_wrong_state")


# --- governance --------------------------------------------------------------------------


def test_set_cell_mode_with_validator_approvals_changes_the_mode(cell: Cell) -> None:
    submitter = cell.keys[0]
    status = cell.client.status()
    seq, h = int(status["mode"]["sequence"]), int(status["height"])
    expires = h + 200
    terms = ModeChangeTerms(cell.federation, cell.cell, seq, CellMode.Elevated, expires)
    # two of four equal validators hold exactly half the power: not enough
    cell.refused(submitter, SetCellMode(CellMode.Elevated, expires, validator_approvals(cell, terms, (0, 1))),
                 "insufficient_validator_power")
    cell.refused(submitter, SetCellMode(CellMode.Normal, expires, []), "invalid_mode_change")
    cell.commit(submitter, SetCellMode(CellMode.Elevated, expires, validator_approvals(cell, terms)))
    try:
        mode = cell.client.status()["mode"]
        assert (mode["mode"], mode["expires_at"], mode["sequence"]) == ("Elevated", expires, seq + 1)
        # ELEVATED refuses forks
        cell.refused(cell.keys[13], ForkPassport([SigningKey.generate().public_key]), "mode_forbids")
        # the spent sequence's approvals no longer verify
        cell.refused(submitter, SetCellMode(CellMode.Elevated, expires, validator_approvals(cell, terms)),
                     "invalid_approvals")
    finally:
        back = ModeChangeTerms(cell.federation, cell.cell, seq + 1, CellMode.Normal, None)
        cell.commit(submitter, SetCellMode(CellMode.Normal, None, validator_approvals(cell, back)))
    mode = cell.client.status()["mode"]
    assert (mode["mode"], mode["expires_at"], mode["sequence"]) == ("Normal", None, seq + 2)


def test_lift_bridge_lockdown_records_the_ruling(cell: Cell) -> None:
    remote, epoch, keep = cell.cell + 7, 1, os.urandom(32)
    terms = BridgeRulingTerms(cell.federation, cell.cell, remote, epoch, keep)
    action = LiftBridgeLockdown(remote, epoch, keep, validator_approvals(cell, terms))
    own = BridgeRulingTerms(cell.federation, cell.cell, cell.cell, epoch, keep)
    cell.refused(cell.keys[0], LiftBridgeLockdown(cell.cell, epoch, keep, validator_approvals(cell, own)),
                 "invalid_bridge_ruling")
    rec = cell.commit(cell.keys[0], action)
    read = cell.verifier.bridge_ruling(remote, epoch)
    r = read.value
    assert r is not None
    assert (r.remote, r.epoch, r.keep, r.decided_at) == (remote, epoch, keep, int(rec["height"]))
    cell.refused(cell.keys[0], action, "invalid_bridge_ruling")  # that epoch is already ruled on


def test_every_action_kind_was_exercised() -> None:
    """The actions above, the governance actions of test_governance.py and the jury actions of
    test_juries.py cover every action index (docs/wire-format.md §4, and 24 to 28 for juries);
    classes are named as the actions, but for `ProcessVote`, the `Vote` action, named so as not to
    clash with the consensus `Vote`."""
    from pathlib import Path

    from charter_client import ALL_ACTIONS
    assert len(ALL_ACTIONS) == 29 and [a.INDEX for a in ALL_ACTIONS] == list(range(29))
    here = Path(__file__).parent
    source = "".join((here / name).read_text() for name in ("test_actions.py", "test_governance.py", "test_juries.py"))
    for action in ALL_ACTIONS:
        assert f"{action.__name__}(" in source, f"no test builds {action.__name__} ({action.NAME})"

