"""Governance processes on a live cell (docs/governance.md), through the SDK alone: a parameter
change proposed by a core validator, voted on by the core and the members (one member's weight
delegated), tallied and executed; ballots and sponsors refused where the rules say; guardians
vetoing a resolution and forged vetoes refused. Each process is read back with `?proof=true`,
its proof verified against a certified state root and its bytes decoded by the SDK, the decoding
being exactly the JSON the node served.

Genesis of `charter localnet` (seed 1, the dev rules of docs/governance.md §2.7): passports 0-3
validators (tier 4: the core chamber), 4-6 arbiters (tier 3: the council), 7-22 members (tier 2:
the members chamber); guardians `keys/guardian-0..2.json`, threshold 2. Waits follow the block
stream (or a transaction's `wait`) with a deadline; nothing sleeps."""

from __future__ import annotations

from typing import Any

import pytest

from _localnet import Cell
from charter_client import (
    Choice, Delegate, GuardianApproval, Parameter, ParameterChange, Process, ProcessStatus, ProcessVote, Propose,
    Resolution, Schedule, SignedTransaction, SigningKey, Sponsor, StateKey, Undelegate, Veto, VetoTerms,
    verify_read, verify_strict,
)
from charter_client.governance import GovernanceRules
from charter_client.state import (
    Ballot, Delegation, Electorate, ProcessExecuted, ProcessProposed, ProcessScheduled, ProcessTallied, ProcessVetoed,
)

ARBITER = 4
#: Members whose keys and standing the other test modules leave alone, in the order they vote.
MEMBER_VOTERS = (14, 15, 19, 20, 21, 9, 10)
DELEGATOR = 16
FINAL = ("executed", "failed", "rejected", "vetoed", "expired")
UNKNOWN_PROCESS = 10**12


def verified_process(cell: Cell, process_id: int, height: int | None = None) -> Process:
    """`GET /v1/governance/processes/{id}?proof=true`, its proof checked against the root of a
    block whose certificate verified, and the proved bytes decoded: the decoding must be the very
    JSON served, and re-encode to the very bytes proved."""
    raw = cell.client.process(process_id, proof=True, height=height)
    h = int(raw["height"])
    read = verify_read(raw, StateKey.process(process_id), Process.decode, cell.verifier.trusted_root(h), h)
    p = read.value
    assert isinstance(p, Process), f"process {process_id} is absent at height {h}"
    assert p.to_json() == raw["value"]
    assert p.encode() == read.encoded
    return p


def rules(cell: Cell, height: int | None = None) -> GovernanceRules:
    value = cell.verifier.governance_rules(height).value
    assert isinstance(value, GovernanceRules)
    return value


def next_process_id(cell: Cell) -> int:
    """`NextProcess`: the count of processes so far (ProcessList.count); no one else proposes here."""
    return int(cell.client.processes(limit=1)["count"])


def commit_all(cell: Cell, actions: list[tuple[int, Any]]) -> list[dict[str, Any]]:
    """Sign and submit every (passport, action) at once (distinct senders), then follow each."""
    txs = [cell.build(cell.keys[i], a) for i, a in actions]
    ids = [cell.client.submit(tx) for tx in txs]
    records = [cell.client.follow(tid, timeout=60) for tid in ids]
    for rec in records:
        assert rec["status"] == "committed", rec
    return records


def test_a_parameter_change_is_voted_with_a_delegation_tallied_and_executed(cell: Cell) -> None:
    r = rules(cell)
    kind = r.kinds[ParameterChange.INDEX]
    before = int(cell.client.status()["params"]["max_forks"])
    target = 6 if before != 6 else 5
    proposal = ParameterChange(Parameter.MaxForks, target)

    # refused at admission, and nothing recorded
    pid = next_process_id(cell)
    cell.refused(cell.keys[0], Propose(ParameterChange(Parameter.MaxForks, 65)), "parameter_out_of_bounds")
    cell.refused(cell.keys[MEMBER_VOTERS[0]], Propose(proposal), "ineligible_sponsor")  # members do not sponsor it
    assert next_process_id(cell) == pid and cell.verifier.process(pid).value is None  # a proof of absence

    rec = cell.commit(cell.keys[0], Propose(proposal))
    h = int(rec["height"])
    assert rec["transaction"]["body"]["action"] == Propose(proposal).to_json()
    assert SignedTransaction.from_json(rec["transaction"]).id.hex() == rec["id"]
    p = verified_process(cell, pid)
    # one core member meets the kind's only sponsor rule: open at once, scheduled from its block
    assert (p.id, p.proposal, p.proposer, list(p.sponsors), p.proposed_at) == (pid, proposal, cell.pid(0),
                                                                               [cell.pid(0)], h)
    assert (p.rules_version, p.rules, list(p.chambers)) == (r.version, kind, list(r.chambers))
    assert p.status == ProcessStatus.Open and list(p.tallies) == []
    assert p.schedule == Schedule.starting(h, kind)
    assert list(p.history) == [ProcessProposed(h), ProcessScheduled(h)]
    s = p.schedule
    assert s is not None

    # enough members for the members chamber's quorum: the voters and the one delegating
    electorate = cell.verifier.electorate().value
    assert isinstance(electorate, Electorate)
    quorum = next(v.quorum_bps for v in kind.chambers if v.chamber == 2)
    needed = -(-sum(electorate.passports[0:3]) * quorum // 10_000)
    voters = MEMBER_VOTERS[:max(2, needed - 1)]
    assert len(voters) + 1 >= needed, f"{needed} members must vote for a quorum; the test has {len(voters) + 1}"

    # a member delegates its vote (during deliberation; counted at the tally)
    delegate = cell.pid(voters[0])
    cell.refused(cell.keys[DELEGATOR], Delegate(cell.pid(DELEGATOR)), "invalid_delegation")  # to itself
    drec = cell.commit(cell.keys[DELEGATOR], Delegate(delegate))
    assert cell.verifier.delegation(cell.pid(DELEGATOR)).value == Delegation(delegate, int(drec["height"]))
    delegators = cell.verifier.delegators(delegate).value
    assert delegators is not None and cell.pid(DELEGATOR) in delegators.ids
    assert list(delegators.ids) == sorted(delegators.ids)
    cell.refused(cell.keys[voters[0]], Delegate(cell.pid(DELEGATOR)), "delegation_cycle")

    # a ballot during deliberation (admission judges at the next height; keep a block's margin)
    if cell.client.height() + 2 < s.voting_opens:
        cell.refused(cell.keys[1], ProcessVote(pid, Choice.Yes), "outside_voting_window")

    cell.client.wait_for_height(s.voting_opens - 1, timeout=120)
    # the core's validators 0, 1, 2 and the member voters, one of whom abstains first
    changer = voters[1]
    commit_all(cell, [(i, ProcessVote(pid, Choice.Yes)) for i in (0, 1, 2)]
               + [(m, ProcessVote(pid, Choice.Abstain if m == changer else Choice.Yes)) for m in voters])
    # an arbiter sits in the council, which does not vote on a parameter change
    cell.refused(cell.keys[ARBITER], ProcessVote(pid, Choice.Yes), "not_in_chamber")
    cell.refused(cell.keys[0], ProcessVote(pid, Choice.Yes), "already_voted")
    cell.refused(cell.keys[1], ProcessVote(UNKNOWN_PROCESS, Choice.Yes), "unknown_process")
    # another choice replaces the ballot
    crec = cell.commit(cell.keys[changer], ProcessVote(pid, Choice.Yes))
    assert int(crec["height"]) <= s.voting_closes, "the ballots came after voting closed: the cell is too slow"
    assert cell.verifier.ballot(pid, cell.pid(changer)).value == Ballot(Choice.Yes, int(crec["height"]))
    assert cell.verifier.ballot(pid, cell.pid(3)).value is None  # validator 3 has not voted

    # the ballots, in voter-id order, page by page
    expected = sorted(cell.pid(i) for i in (0, 1, 2, *voters))
    page = cell.client.ballots(pid, limit=2)
    seen = list(page["ballots"])
    while page["next"] is not None:
        page = cell.client.ballots(pid, after=page["next"], limit=2)
        seen += page["ballots"]
    assert page["voters"] == len(expected) and page["process"] == pid
    assert [b["voter"] for b in seen] == [v.hex() for v in expected]
    assert {b["choice"] for b in seen} == {"yes"}

    # the tally at the end of voting_closes, the execution at the end of executes_at
    remaining = max(0, s.executes_at - cell.client.height())
    done = cell.client.wait_for_process(pid, FINAL, timeout=60.0 + 3.0 * remaining)
    assert done["status"] == "executed", done
    assert int(cell.client.status()["params"]["max_forks"]) == target

    p = verified_process(cell, pid)
    assert p.status == ProcessStatus.Executed
    assert list(p.history) == [ProcessProposed(h), ProcessScheduled(h), ProcessTallied(s.voting_closes, True),
                               ProcessExecuted(s.executes_at)]
    # docs/governance.md §11, *Checking a decision*: the tallies follow the rules' chamber votes,
    # their numbers the ballots, the delegation and the electorate proved at voting_closes
    at = cell.verifier.electorate(height=s.voting_closes).value
    assert isinstance(at, Electorate)
    assert [(t.chamber, t.quorum_bps, t.threshold_bps) for t in p.tallies] == [
        (v.chamber, v.quorum_bps, v.threshold_bps) for v in kind.chambers]
    core, members = p.tallies
    assert (core.eligible, core.yes, core.no, core.abstain) == (at.passports[4], 3, 0, 0)
    assert (members.eligible, members.yes, members.no, members.abstain) == (sum(at.passports[0:3]), len(voters) + 1,
                                                                              0, 0)
    assert all(t.passed and t.judge() for t in p.tallies)
    assert rules(cell, s.voting_closes).version == p.rules_version
    # and the same process as the list serves it
    listed = [q for q in cell.client.processes()["processes"] if q["id"] == pid]
    assert listed == [p.to_json()]

    # after the tally, no more ballots; the delegation is withdrawn
    cell.refused(cell.keys[3], ProcessVote(pid, Choice.No), "process_wrong_state")
    cell.commit(cell.keys[DELEGATOR], Undelegate())
    assert cell.verifier.delegation(cell.pid(DELEGATOR)).value is None
    assert cell.verifier.delegators(delegate).value is None
    cell.refused(cell.keys[DELEGATOR], Undelegate(), "invalid_delegation")


def test_guardians_veto_a_sponsored_resolution_and_forged_vetoes_are_refused(cell: Cell) -> None:
    r = rules(cell)
    guardians = cell.guardians
    assert len(guardians) >= 2, "the localnet wrote no keys/guardian-N.json"
    assert [guardians[i].public_key for i in sorted(guardians)] == list(r.guardians.keys)
    assert r.guardians.threshold == 2
    kind = r.kinds[Resolution.INDEX]
    proposal = Resolution("The cell thanks its validators, and adjourns.")

    pid = next_process_id(cell)
    rec = cell.commit(cell.keys[3], Propose(proposal))
    h = int(rec["height"])
    p = verified_process(cell, pid)
    # a resolution also needs two members among its sponsors (the dev rules' second sponsor rule)
    assert p.status == ProcessStatus.Sponsoring and p.schedule is None
    assert p.sponsoring_closes == h + kind.sponsoring_blocks
    cell.refused(cell.keys[3], Sponsor(pid), "ineligible_sponsor")  # the proposer is a sponsor already
    cell.refused(cell.keys[5], Sponsor(pid), "ineligible_sponsor")  # the council sponsors no resolution
    cell.refused(cell.keys[19], Sponsor(UNKNOWN_PROCESS), "unknown_process")
    cell.commit(cell.keys[19], Sponsor(pid))
    assert verified_process(cell, pid).status == ProcessStatus.Sponsoring
    srec = cell.commit(cell.keys[20], Sponsor(pid))
    sponsored = int(srec["height"])
    p = verified_process(cell, pid)
    assert p.status == ProcessStatus.Open
    assert list(p.sponsors) == [cell.pid(3), cell.pid(19), cell.pid(20)]
    assert p.schedule == Schedule.starting(sponsored, kind)
    assert list(p.history) == [ProcessProposed(h), ProcessScheduled(sponsored)]
    cell.refused(cell.keys[21], Sponsor(pid), "process_wrong_state")  # open: sponsoring is over

    reason = "resolutions wait for the next assembly"
    submitter = cell.keys[21]  # any active passport may carry the guardians' veto
    g0, g1 = guardians[0], guardians[1]
    terms = VetoTerms(cell.federation, cell.cell, pid, reason)
    # forged: signed by keys that are not the guardians'
    forged = Veto.create(cell.federation, cell.cell, pid, reason, [SigningKey.generate(), SigningKey.generate()])
    cell.refused(submitter, forged, "invalid_veto")
    # a guardian's key with another guardian's signature
    swapped = Veto(pid, reason, [GuardianApproval(g0.public_key, g1.sign(terms.signing_bytes())),
                                 GuardianApproval.sign(g1, terms)])
    cell.refused(submitter, swapped, "invalid_veto")
    # the guardians' signatures over another reason
    elsewhere = Veto.create(cell.federation, cell.cell, pid, "another reason", [g0, g1])
    cell.refused(submitter, Veto(pid, reason, elsewhere.approvals), "invalid_veto")
    # one guardian twice
    cell.refused(submitter, Veto(pid, reason, [GuardianApproval.sign(g0, terms)] * 2), "invalid_veto")
    # one guardian alone is below the threshold
    cell.refused(submitter, Veto.create(cell.federation, cell.cell, pid, reason, [g0]),
                 "insufficient_guardian_approvals")
    cell.refused(submitter, Veto.create(cell.federation, cell.cell, UNKNOWN_PROCESS, reason, [g0, g1]),
                 "unknown_process")
    assert verified_process(cell, pid).status == ProcessStatus.Open  # none of that touched it

    veto = Veto.create(cell.federation, cell.cell, pid, reason, [g1, g0])
    tx = cell.build(submitter, veto)
    cell.client.submit(tx)
    vrec = cell.verifier.verify_transaction(tx.id, wait=60)  # committed, with a verified inclusion proof
    assert vrec["status"] == "committed", vrec
    vh = int(vrec["height"])
    p = verified_process(cell, pid)
    assert p.status == ProcessStatus.Vetoed and list(p.tallies) == []
    assert list(p.history) == [ProcessProposed(h), ProcessScheduled(sponsored),
                               ProcessVetoed(vh, reason, [g1.public_key, g0.public_key])]
    # §11.7: the approvals stay in the Veto transaction; its keys are guardians of the rules before it
    served = SignedTransaction.from_json(vrec["transaction"])
    assert served == tx and isinstance(served.body.action, Veto)
    assert set(a.key for a in served.body.action.approvals) <= set(rules(cell, vh - 1).guardians.keys)
    assert all(verify_strict(a.key, terms.signing_bytes(), a.signature) for a in served.body.action.approvals)

    # vetoed is final
    cell.refused(submitter, veto, "process_wrong_state")
    cell.refused(cell.keys[0], ProcessVote(pid, Choice.Yes), "process_wrong_state")
    cell.refused(cell.keys[21], Sponsor(pid), "process_wrong_state")


@pytest.mark.parametrize("path", ["/v1/governance/processes/not-a-number", "/v1/governance/delegations/zz"])
def test_malformed_governance_paths_answer_typed_errors(cell: Cell, path: str) -> None:
    resp = cell.client.request("GET", path)
    body = resp.json()
    assert resp.status_code == 400 and body["error"] in ("invalid_process_id", "invalid_passport_id"), body
