"""The cell's beacon and juries on a live cell, through the SDK alone: every block's hash
recomputed from its JSON (the header now carries its proposer's 96-byte BLS `reveal`), reveals
verified with py_ecc against the proposer's key in the validator set read before the block, the
beacon read at each height recomputed from the one before and the block's reveal; then an escrow
dispute sent to a jury: members join the pool, a party files the case, the jury drawn at
`draw_at` is recomputed in Python from the case's pool and its seed (the beacon's mix at
`draw_at`), the jurors rule, and the case closes paying the payee; then a slash case: a member of
the arbiter panel sends a slash of a validator's stake to a jury, the validator cannot withdraw
while it is open, a majority of the jury rules for the claim, and the close slashes the stake.
Every read is checked with `?proof=true` against the root of a block whose certificate verified.

Genesis of `charter localnet` (seed 1, the dev rules): passports 0-3 validators (tier 4, bonded
10,000), 4-6 the arbiter panel (tier 3), 7-22 members (tier 2, balance 1,000,000); the dev jury rules draw 3 blocks
after filing and rule for 10, juries of 3, a juror's bond 100, an absence penalty 10, tiers 0-4.
Waits follow the block stream with a deadline; nothing sleeps."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Any

import blake3
import pytest

from _localnet import Cell
from charter_client import (
    Beacon, CaseEscrow, CaseOutcome, CaseSlash, CaseStatus, EscrowCreate, EscrowDispute, EscrowRefund, EscrowResolve,
    Exit, JoinJuryPool, Juror, JuryCase, JuryCaseIds, JuryRules, LeaveJuryPool, ProofError, RequestJury,
    RequestSlashJury, RuleOnCase, StateKey, Verdict, Withdraw, bls, escrow_id, verify_read,
)
from charter_client.actions import Action
from charter_client.governance import GovernanceRules
from charter_client.juries import (
    beacon_mix, case_pool, check_draw, check_outcome, draw_jury, genesis_beacon, proposer_bls_key, reveal_message,
    slash_case_parties, sortition_score, verify_reveal,
)
from charter_client.proofs import verify_header_reveal
from charter_client.state import (
    ActiveValidators, CaseDrawn, CaseFiled, CaseSettled, EscrowStatus, JurorRuling, Passport, SanctionRecord,
)
from charter_client.statements import SanctionKind

#: The escrow's parties: members the other test modules leave out of the pool.
PAYER, PAYEE, ARBITER = 19, 20, 21
#: Members who join the jury pool (with the arbiter, whom a case's pool leaves out).
POOL = (12, 13, 14, 15, 16)
AMOUNT = 500
UNKNOWN_CASE = 10**12
DEV_JURIES = JuryRules(size=3, min_tier=0, max_tier=4, juror_bond=100, absence_penalty=10, draw_delay=3,
                       ruling_blocks=10)
#: The slash case: a member of the arbiter panel files it against a validator, for SLASH of its stake.
FILER, OFFENDER = 4, 3
SLASH = 100


def verified_case(cell: Cell, case_id: int, height: int | None = None) -> JuryCase:
    """`GET /v1/governance/cases/{id}?proof=true`, its proof checked against a certified root, the
    proved bytes decoded: the decoding is the very JSON served and re-encodes to the bytes proved."""
    raw = cell.client.case(case_id, proof=True, height=height)
    h = int(raw["height"])
    read = verify_read(raw, StateKey.jury_case(case_id), JuryCase.decode, cell.verifier.trusted_root(h), h)
    case = read.value
    assert isinstance(case, JuryCase), f"case {case_id} is absent at height {h}"
    assert case.to_json() == raw["value"]
    assert case.encode() == read.encoded
    return case


def balance(cell: Cell, pid: bytes, height: int) -> int:
    p = cell.verifier.passport(pid, height).value
    assert p is not None
    return int(p.balance)


def escrow_status(cell: Cell, eid: bytes, height: int | None = None) -> EscrowStatus:
    e = cell.verifier.escrow(eid, height).value
    assert e is not None
    status: EscrowStatus = e.status
    return status


def beacon_at(cell: Cell, height: int) -> Beacon:
    """The beacon proved at `height`; at genesis (no block certifies height 0) the documented
    formula, which the node's unverified read must equal."""
    if height == 0:
        genesis = genesis_beacon(cell.federation, cell.cell)
        assert cell.client.beacon(height=0)["value"] == genesis.to_json()
        return genesis
    b = cell.verifier.beacon(height).value
    assert isinstance(b, Beacon)
    return b


def proposer_key(cell: Cell, height: int, proposer: bytes) -> bytes:
    """The proposer's BLS key in the active set before block `height`: the genesis set for block 1,
    else `GET /v1/validators?height=height-1` (proved)."""
    if height == 1:
        member = cell.genesis.validators.by_passport()[proposer]
        assert member.bls_key is not None
        return member.bls_key
    active = cell.verifier.validators(height - 1).value
    assert isinstance(active, ActiveValidators)
    return proposer_bls_key(active, proposer)


def check_reveal_and_beacon(cell: Cell, height: int) -> Beacon:
    """Block `height`'s reveal verifies against its proposer's key over the documented message,
    and the beacon proved at `height` is `blake3(beacon at height-1 ‖ reveal)`; returns it."""
    header = cell.verifier.verified_block(height).header
    key = proposer_key(cell, height, header.proposer)
    message = b"CHARTER_BEACON_V1" + cell.federation + cell.cell.to_bytes(4, "little") + height.to_bytes(8, "little")
    assert reveal_message(cell.federation, cell.cell, height) == message
    assert bls.verify(key, message, header.reveal), f"the reveal of block {height} does not verify"
    before, after = beacon_at(cell, height - 1), beacon_at(cell, height)
    assert before.height == height - 1
    assert after == Beacon(height, blake3.blake3(before.mix + header.reveal).digest())
    assert after.mix == beacon_mix(before.mix, header.reveal)
    return after


def test_block_hashes_reveals_and_the_beacon_are_recomputed(cell: Cell) -> None:
    top = cell.client.height()
    # every block so far: the hash recomputed from the header's JSON (reveal included), the
    # transactions root from the transactions' JSON, the certificate verified, the parent chain
    parent = bytes(32)
    for h in range(1, top + 1):
        block = cell.client.block(h)
        vb = cell.verifier.verify_block(block)
        assert vb.hash.hex() == block["hash"]
        assert vb.header.reveal.hex() == block["header"]["reveal"] and len(vb.header.reveal) == 96
        assert vb.header.parent == parent, f"block {h} does not name block {h - 1} as its parent"
        parent = vb.hash
    # reveals and the beacon (one pairing check each with py_ecc, about half a second): the first
    # blocks, from the genesis beacon; the blocks around the first epoch's end, where the set
    # changes; the latest blocks
    e = cell.verifier.epoch_length
    sample = {1, 2, 3} | set(range(max(1, top - 4), top + 1)) | ({e, e + 1} if top > e else set())
    for h in sorted(sample):
        check_reveal_and_beacon(cell, h)
        # the light client's own check: the key of the set it follows for that height
        cell.verifier.verify_reveal(h)
    # unique to its height: a reveal is no signature over another height, nor another's
    header = cell.verifier.verified_block(1).header
    key = proposer_key(cell, 1, header.proposer)
    assert not verify_reveal(key, cell.federation, cell.cell, 2, header.reveal)
    with pytest.raises(ProofError):
        verify_header_reveal(replace(header, reveal=cell.verifier.verified_block(2).header.reveal),
                             cell.verifier.validator_set_for_height(1))


@dataclass(frozen=True)
class Filed:
    case: int
    escrow: bytes
    filed_at: int
    joined: dict[bytes, int]

    @property
    def draw_at(self) -> int:
        return self.filed_at + DEV_JURIES.draw_delay

    @property
    def closes_at(self) -> int:
        return self.draw_at + DEV_JURIES.ruling_blocks


def commit_all(cell: Cell, actions: list[tuple[int, Action]]) -> list[dict[str, Any]]:
    """Sign and submit every (passport, action) at once (distinct senders), then follow each."""
    txs = [cell.build(cell.keys[i], a) for i, a in actions]
    ids = [cell.client.submit(tx) for tx in txs]
    records = [cell.client.follow(tid, timeout=60) for tid in ids]
    for rec in records:
        assert rec["status"] == "committed", rec
    return records


@pytest.fixture(scope="module")
def drawn(cell: Cell) -> Filed:
    """An escrow of PAYER to PAYEE with ARBITER, disputed; POOL and the arbiter join the jury pool;
    the payer files a case; refusals while it awaits its draw; then the draw height is waited for."""
    current = cell.verifier.governance_rules().value
    assert isinstance(current, GovernanceRules)
    rules = current.juries
    assert rules == DEV_JURIES
    payer, payee, arbiter = cell.pid(PAYER), cell.pid(PAYEE), cell.pid(ARBITER)
    parties = {payer, payee, arbiter}
    h = cell.client.height()
    nonce = cell.nonce(payer)
    cell.commit(cell.keys[PAYER], EscrowCreate(payee, AMOUNT, arbiter, h + 1_000, h + 1_000))
    eid = escrow_id(cell.cell, payer, nonce)
    cell.refused(cell.keys[PAYER], RequestJury(eid), "escrow_wrong_state")  # open, not disputed
    cell.commit(cell.keys[PAYEE], EscrowDispute(eid))
    assert escrow_status(cell, eid) == EscrowStatus.Disputed

    pool = cell.verifier.jury_pool().value
    if len(set(pool.ids if pool is not None else ()) - parties) < rules.size:
        cell.refused(cell.keys[PAYER], RequestJury(eid), "jury_pool_too_small")
    cell.refused(cell.keys[POOL[0]], RequestJury(eid), "not_authorized")  # not a party
    cell.refused(cell.keys[PAYER], RequestJury(os.urandom(32)), "unknown_escrow")
    cell.refused(cell.keys[POOL[0]], LeaveJuryPool(), "not_in_jury_pool")

    # members (tier 2) and the arbiter join, each locking the bond
    joiners = (*POOL, ARBITER)
    for i in joiners:
        p = cell.verifier.passport(cell.pid(i)).value
        assert p is not None and rules.min_tier <= p.tier <= rules.max_tier
    records = commit_all(cell, [(i, JoinJuryPool()) for i in joiners])
    joined: dict[bytes, int] = {}
    for i, rec in zip(joiners, records):
        at = int(rec["height"])
        pid = cell.pid(i)
        joined[pid] = at
        assert cell.verifier.juror(pid, at).value == Juror(rules.juror_bond, at, None)
        assert cell.verifier.juror(pid, at - 1).value is None
        assert balance(cell, pid, at - 1) - balance(cell, pid, at) == rules.juror_bond
    cell.refused(cell.keys[POOL[0]], JoinJuryPool(), "already_juror")
    pool = cell.verifier.jury_pool().value
    assert pool is not None and set(joined) <= set(pool.ids) and list(pool.ids) == sorted(pool.ids)
    assert payer not in pool.ids and payee not in pool.ids

    case_id = int(cell.client.cases(limit=1)["count"])  # NextJuryCase: no one else files here
    rec = cell.commit(cell.keys[PAYER], RequestJury(eid))
    filed = Filed(case_id, eid, int(rec["height"]), joined)
    assert rec["transaction"]["body"]["action"] == {"RequestJury": {"escrow": eid.hex()}}

    # before the draw: no ruling (with a block's margin: admission judges the next height), the
    # arbiter no longer resolves the escrow, nobody refunds it
    if cell.client.height() + 1 < filed.draw_at:
        cell.refused(cell.keys[POOL[0]], RuleOnCase(case_id, Verdict.ForClaim), "case_not_ruling")
    cell.refused(cell.keys[ARBITER], EscrowResolve(eid, AMOUNT, 0), "escrow_wrong_state")
    cell.refused(cell.keys[PAYER], EscrowRefund(eid), "escrow_wrong_state")
    cell.refused(cell.keys[PAYEE], RequestJury(eid), "escrow_wrong_state")  # one case per dispute

    cell.client.wait_for_height(filed.draw_at, timeout=60)
    return filed


def test_a_ruling_by_a_passport_not_drawn_is_refused(cell: Cell, drawn: Filed) -> None:
    case = verified_case(cell, drawn.case)
    assert case.status == CaseStatus.Ruling, "the case is not ruling: the cell went past its ruling period"
    undrawn = [p for p in case.pool if p not in case.jurors]
    assert len(undrawn) == len(case.pool) - DEV_JURIES.size >= 1
    index = {cell.pid(i): i for i in POOL}
    # a pool member the draw left out, the payer (a party, in no pool) and the arbiter (in the
    # pool, out of this case's)
    cell.refused(cell.keys[index[undrawn[0]]], RuleOnCase(drawn.case, Verdict.ForClaim), "not_a_juror")
    cell.refused(cell.keys[PAYER], RuleOnCase(drawn.case, Verdict.AgainstClaim), "not_a_juror")
    cell.refused(cell.keys[ARBITER], RuleOnCase(drawn.case, Verdict.AgainstClaim), "not_a_juror")
    cell.refused(cell.keys[index[case.jurors[0]]], RuleOnCase(UNKNOWN_CASE, Verdict.ForClaim), "unknown_jury_case")
    assert verified_case(cell, drawn.case).rulings == []  # none of that touched it


def test_a_jury_is_drawn_by_sortition_rules_and_its_majority_pays_the_payee(cell: Cell, drawn: Filed) -> None:
    payer, payee, arbiter = cell.pid(PAYER), cell.pid(PAYEE), cell.pid(ARBITER)
    index = {cell.pid(i): i for i in POOL}

    # the jurors rule while the case is ruling: two for the payee, one for the payer
    case = verified_case(cell, drawn.case)
    assert case.status == CaseStatus.Ruling and len(case.jurors) == DEV_JURIES.size
    verdicts = [Verdict.ForClaim, Verdict.ForClaim, Verdict.AgainstClaim]
    records = commit_all(cell, [(index[j], RuleOnCase(drawn.case, v)) for j, v in zip(case.jurors, verdicts)])
    ruled = {j: (v, int(rec["height"])) for j, v, rec in zip(case.jurors, verdicts, records)}
    assert max(h for _, h in ruled.values()) <= drawn.closes_at, "the rulings came after the case closed"
    assert records[0]["transaction"]["body"]["action"] == {"RuleOnCase": {"case": drawn.case, "verdict": "for_claim"}}
    cell.refused(cell.keys[index[case.jurors[0]]], RuleOnCase(drawn.case, Verdict.AgainstClaim), "already_ruled")

    # filed: the pool at that height without the parties, the rules copied, no seed yet
    filed_at, draw_at, closes_at = drawn.filed_at, drawn.draw_at, drawn.closes_at
    rules = cell.verifier.governance_rules(filed_at).value
    pool_then = cell.verifier.jury_pool(filed_at).value
    assert rules is not None and pool_then is not None and arbiter in pool_then.ids
    c = verified_case(cell, drawn.case, filed_at)
    assert (c.id, c.subject, c.rules_version, c.rules) == (drawn.case, CaseEscrow(drawn.escrow), rules.version,
                                                           rules.juries)
    assert (c.filed_at, c.draw_at, c.closes_at) == (filed_at, filed_at + 3, filed_at + 13)
    assert list(c.pool) == sorted(set(pool_then.ids) - {payer, payee, arbiter})
    assert set(drawn.joined) - {arbiter} <= set(c.pool)
    assert (c.seed, list(c.jurors), list(c.rulings), c.status, c.outcome) == (None, [], [], CaseStatus.AwaitingDraw,
                                                                              None)
    assert list(c.history) == [CaseFiled(filed_at, payer)]
    assert escrow_status(cell, drawn.escrow, filed_at) == EscrowStatus.BeforeJury
    assert escrow_status(cell, drawn.escrow, filed_at - 1) == EscrowStatus.Disputed
    assert verified_case(cell, drawn.case, draw_at - 1).status == CaseStatus.AwaitingDraw

    # drawn at the end of draw_at: the seed is the beacon's mix at draw_at (which mixes the
    # reveal of block draw_at), the jurors the lowest sortition scores over the case's pool
    d = verified_case(cell, drawn.case, draw_at)
    beacon = check_reveal_and_beacon(cell, draw_at)
    assert d.seed is not None and d.seed == beacon.mix and beacon.height == draw_at
    assert d.status == CaseStatus.Ruling and list(d.history) == [CaseFiled(filed_at, payer), CaseDrawn(draw_at)]
    assert list(d.pool) == list(c.pool)
    assert list(d.jurors) == draw_jury(d.seed, d.id, d.pool, d.rules.size)
    by_hand = sorted((blake3.blake3(b"charter/jury/v1" + d.seed + d.id.to_bytes(8, "little") + p).digest(), p)
                     for p in d.pool)
    assert list(d.jurors) == [p for _, p in by_hand[:3]]
    assert [sortition_score(d.seed, d.id, p) for p in d.jurors] == [s for s, _ in by_hand[:3]]
    assert list(d.jurors) == list(case.jurors)

    # closed at the end of closes_at: two to one for the payee, the escrow resolved, the amount paid
    remaining = max(0, closes_at - cell.client.height())
    cell.client.wait_for_height(closes_at, timeout=60.0 + 3.0 * remaining)
    s = verified_case(cell, drawn.case, closes_at)
    assert s.status == CaseStatus.Settled
    assert {r.juror: (r.verdict, r.height) for r in s.rulings} == ruled
    assert [r.height for r in s.rulings] == sorted(r.height for r in s.rulings)  # in the order they landed
    assert all(isinstance(r, JurorRuling) and draw_at < r.height <= closes_at for r in s.rulings)
    assert s.outcome == CaseOutcome(2, 1, Verdict.ForClaim, [], 0, 0)
    assert list(s.history) == [CaseFiled(filed_at, payer), CaseDrawn(draw_at), CaseSettled(closes_at, Verdict.ForClaim)]
    check_outcome(s)
    assert verified_case(cell, drawn.case, closes_at - 1).status == CaseStatus.Ruling
    assert escrow_status(cell, drawn.escrow, closes_at - 1) == EscrowStatus.BeforeJury
    assert escrow_status(cell, drawn.escrow, closes_at) == EscrowStatus.Resolved
    assert balance(cell, payee, closes_at) - balance(cell, payee, closes_at - 1) == AMOUNT
    assert balance(cell, payer, closes_at) == balance(cell, payer, closes_at - 1)
    # everyone ruled: no penalty, the jurors stay in the pool with their bonds
    for j in s.jurors:
        assert cell.verifier.juror(j, closes_at).value == Juror(DEV_JURIES.juror_bond, drawn.joined[j], None)
    pool_after = cell.verifier.jury_pool(closes_at).value
    assert pool_after is not None and set(s.jurors) <= set(pool_after.ids)

    # settled is final
    cell.refused(cell.keys[index[s.jurors[2]]], RuleOnCase(drawn.case, Verdict.ForClaim), "case_not_ruling")
    cell.refused(cell.keys[PAYER], EscrowRefund(drawn.escrow), "escrow_wrong_state")
    # and the list serves the same case, newest first
    page = cell.client.cases(limit=1)
    assert int(page["count"]) == drawn.case + 1
    assert page["cases"] == [verified_case(cell, drawn.case).to_json()]


def arbiter_panel(cell: Cell) -> list[bytes]:
    """The arbiter panel of the cell's genesis file (no action of these tests changes it)."""
    base = cell.dir if (cell.dir / "genesis.json").exists() else cell.dir / f"cell-{cell.cell}"
    genesis = json.loads((base / "genesis.json").read_text())
    return [bytes.fromhex(m) for m in genesis["arbiters"]["members"]]


def slash_cases(cell: Cell, pid: bytes, height: int | None = None) -> list[int] | None:
    """`GET /v1/governance/slash-cases/{passport}?proof=true`, verified: the open cases' ids, or
    None when there are none (a proved absence)."""
    read = cell.verifier.slash_cases(pid, height)
    if read.value is None:
        return None
    assert isinstance(read.value, JuryCaseIds)
    return list(read.value.ids)


def test_a_slash_case_before_a_jury_slashes_the_offender_once_a_majority_of_the_jury_rules_for_it(
        cell: Cell, drawn: Filed) -> None:
    """A member of the arbiter panel sends a slash of SLASH of a validator's stake to a jury under
    a fresh case number; while the case is open the validator can neither withdraw nor exit
    (`stake_before_jury`); two of the three jurors drawn rule for the claim; at the end of
    `closes_at` the bond falls by SLASH, the outcome says so, the sanction is recorded under the
    case number and the passport is free to withdraw again. Runs after the escrow case, whose
    fixture filled the pool."""
    filer, offender = cell.pid(FILER), cell.pid(OFFENDER)
    assert filer in arbiter_panel(cell) and cell.pid(POOL[0]) not in arbiter_panel(cell)
    assert cell.verifier.validator(offender).value is not None, "the offender is a registered validator"
    index = {kf.passport: i for i, kf in cell.keys.items() if kf.passport is not None}
    bond = cell.verifier.bond(offender).value
    assert bond is not None and bond.bonded >= SLASH
    assert slash_cases(cell, offender) is None
    number = os.urandom(32)

    # refused: a passport outside the panel, a zero amount, an unknown offender
    cell.refused(cell.keys[POOL[0]], RequestSlashJury(offender, SLASH, number), "not_authorized")
    cell.refused(cell.keys[FILER], RequestSlashJury(offender, 0, number), "zero_amount")
    cell.refused(cell.keys[FILER], RequestSlashJury(os.urandom(32), SLASH, number), "unknown_passport")

    case_id = int(cell.client.cases(limit=1)["count"])  # NextJuryCase: no one else files here
    rec = cell.commit(cell.keys[FILER], RequestSlashJury(offender, SLASH, number))
    filed_at = int(rec["height"])
    draw_at = filed_at + DEV_JURIES.draw_delay
    closes_at = draw_at + DEV_JURIES.ruling_blocks
    assert rec["transaction"]["body"]["action"] == {
        "RequestSlashJury": {"offender": offender.hex(), "amount": SLASH, "case": number.hex()}}

    # open: the offender's stake stays (withdraw and exit refused), the case number is spent
    assert slash_cases(cell, offender, filed_at) == [case_id]
    assert slash_cases(cell, offender, filed_at - 1) is None
    assert cell.client.slash_cases(offender)["value"] == [case_id]
    cell.refused(cell.keys[OFFENDER], Withdraw(), "stake_before_jury")
    cell.refused(cell.keys[OFFENDER], Exit(), "stake_before_jury")
    cell.refused(cell.keys[5], RequestSlashJury(offender, SLASH, number), "evidence_already_used")

    # filed: the subject, the pool at that height without the offender, the filer, the offender's
    # sponsor and forks (those the slash reaches), no seed
    pool_then = cell.verifier.jury_pool(filed_at).value
    assert pool_then is not None

    def passport_then(pid: bytes) -> Passport:
        p = cell.verifier.passport(pid, filed_at).value
        assert isinstance(p, Passport)
        return p

    parties = slash_case_parties(passport_then(offender), filer, passport_then)
    c = verified_case(cell, case_id, filed_at)
    assert c.subject == CaseSlash(offender, SLASH, number)
    assert c.to_json()["subject"] == {"slash": {"offender": offender.hex(), "amount": SLASH, "case": number.hex()}}
    assert (c.filed_at, c.draw_at, c.closes_at, c.rules) == (filed_at, draw_at, closes_at, DEV_JURIES)
    assert list(c.pool) == case_pool(pool_then.ids, parties) == sorted(set(pool_then.ids) - set(parties))
    assert not set(c.pool) & set(parties)
    assert len(c.pool) >= DEV_JURIES.size
    assert (c.seed, list(c.jurors), c.status, c.outcome) == (None, [], CaseStatus.AwaitingDraw, None)
    assert list(c.history) == [CaseFiled(filed_at, filer)]

    # drawn at the end of draw_at; at once, two of the three drawn rule for the claim and one
    # against: more than half the jury (the checks of the draw come after, within the ruling period)
    cell.client.wait_for_height(draw_at, timeout=60)
    d = verified_case(cell, case_id, draw_at)
    assert d.status == CaseStatus.Ruling and len(d.jurors) == DEV_JURIES.size
    verdicts = [Verdict.ForClaim, Verdict.ForClaim, Verdict.AgainstClaim]
    records = commit_all(cell, [(index[j], RuleOnCase(case_id, v)) for j, v in zip(d.jurors, verdicts)])
    ruled = {j: (v, int(r["height"])) for j, v, r in zip(d.jurors, verdicts, records)}
    assert max(h for _, h in ruled.values()) <= closes_at, "the rulings came after the case closed"
    assert records[0]["transaction"]["body"]["action"] == {"RuleOnCase": {"case": case_id, "verdict": "for_claim"}}
    # the seed is the beacon's mix at draw_at, the jurors the draw from the case's pool with it
    assert d.seed is not None and d.seed == check_reveal_and_beacon(cell, draw_at).mix
    assert list(d.jurors) == draw_jury(d.seed, case_id, d.pool, DEV_JURIES.size)
    check_draw(d)
    if cell.client.height() + 1 < closes_at:  # still open (admission judges the next height)
        cell.refused(cell.keys[OFFENDER], Withdraw(), "stake_before_jury")

    # closed at the end of closes_at: the claim upheld, SLASH taken from the bond
    remaining = max(0, closes_at - cell.client.height())
    cell.client.wait_for_height(closes_at, timeout=60.0 + 3.0 * remaining)
    s = verified_case(cell, case_id, closes_at)
    assert s.status == CaseStatus.Settled
    assert {r.juror: (r.verdict, r.height) for r in s.rulings} == ruled
    assert s.outcome == CaseOutcome(2, 1, Verdict.ForClaim, [], 0, SLASH)
    assert s.to_json()["outcome"]["slashed"] == SLASH
    assert list(s.history) == [CaseFiled(filed_at, filer), CaseDrawn(draw_at), CaseSettled(closes_at, Verdict.ForClaim)]
    check_outcome(s)
    assert verified_case(cell, case_id, closes_at - 1).status == CaseStatus.Ruling
    before, after = cell.verifier.bond(offender, closes_at - 1).value, cell.verifier.bond(offender, closes_at).value
    assert before is not None and after is not None
    assert after.bonded == before.bonded - SLASH, "bonded stake goes first"
    assert list(after.unbonding) == list(before.unbonding)
    # the sanction is recorded under the arbiters' case number, nothing left owed
    sanctions_before = cell.verifier.passport(offender, closes_at - 1).value.sanctions
    sanctions = cell.verifier.passport(offender, closes_at).value.sanctions
    assert list(sanctions) == [*sanctions_before, SanctionRecord(number, SanctionKind.Slashed, 0, closes_at, None)]
    # and the stake is free again: no open case, a withdrawal judged on its merits
    assert slash_cases(cell, offender, closes_at - 1) == [case_id]
    assert slash_cases(cell, offender, closes_at) is None
    assert cell.client.slash_cases(offender)["value"] is None
    latest = cell.verifier.bond(offender).value
    if latest is not None and not latest.unbonding:
        cell.refused(cell.keys[OFFENDER], Withdraw(), "nothing_to_withdraw")
    cell.refused(cell.keys[index[s.jurors[0]]], RuleOnCase(case_id, Verdict.ForClaim), "case_not_ruling")


@pytest.mark.parametrize("path, code", [("/v1/governance/cases/not-a-number", "invalid_case_id"),
                                        ("/v1/governance/jurors/zz", "invalid_passport_id"),
                                        ("/v1/governance/slash-cases/zz", "invalid_passport_id")])
def test_malformed_jury_paths_answer_typed_errors(cell: Cell, path: str, code: str) -> None:
    resp = cell.client.request("GET", path)
    assert resp.status_code == 400 and resp.json()["error"] == code, resp.text
