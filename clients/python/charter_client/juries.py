"""The cell's beacon and the jury draw, as pure functions anyone can check from what a node
serves: a block header's `reveal`, the `Beacon` it mixes into, and a `JuryCase`'s jurors drawn
from its pool with its seed.

- A block's proposer reveals its BLS signature (the ciphersuite of `charter_client.bls`) over
  `"CHARTER_BEACON_V1" ‖ federation[32] ‖ u32le(cell) ‖ u64le(height)`, with the BLS key it
  registered; the proposer is a member of the active validator set of that height (the
  `ActiveValidators` stored before the block). BLS signatures are unique: a proposer has one
  reveal per height, which it can only withhold (by not proposing), never choose.
- The beacon starts at genesis as `blake3("charter/beacon/v1" ‖ federation ‖ u32le(cell))` at
  height 0, and at the start of block `h` (before its transactions) becomes
  `blake3(mix(h − 1) ‖ reveal(h))` at height `h`.
- A case's seed is the beacon's mix at its `draw_at` (which mixes `reveal(draw_at)`); each pool
  member scores `blake3("charter/jury/v1" ‖ seed ‖ u64le(case) ‖ passport)`, and the jury is the
  `size` lowest scores (compared as 32-byte strings, ties to the lower passport id), lowest first.
- A case's pool is the `JuryPool` at filing without the case's parties: an escrow's payer, payee
  and arbiter; for a slash case the offender, the filer, the offender's sponsor and every
  passport forked from the offender, transitively (`slash_case_parties`), those the slash reaches.
- A case closes at the end of `closes_at`: its claim (an escrow's payee's, a slash case's filing
  arbiter's) holds, `ForClaim`, only when more than half the jurors drawn ruled for it,
  `2 × for_claim > len(jurors)`; ties, silence and absences give `AgainstClaim`.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from . import bls
from .errors import EncodingError, ProofError
from .governance import Verdict
from .ids import hash32
from .state import ActiveValidators, Beacon, CaseEscrow, CaseSettled, CaseStatus, JuryCase, Passport

#: What a block's proposer signs to reveal its share of the beacon.
BEACON_DOMAIN = b"CHARTER_BEACON_V1"
#: What the beacon starts from at genesis.
BEACON_GENESIS_DOMAIN = b"charter/beacon/v1"
#: What a pool member's sortition score hashes.
SORTITION_DOMAIN = b"charter/jury/v1"
#: Most passports the jury pool holds (and so a case's pool).
MAX_JURY_POOL = 1_024
#: A reveal is a compressed G2 BLS signature.
REVEAL_BYTES = 96


def _b32(b: bytes, what: str) -> bytes:
    if len(b) != 32:
        raise EncodingError(f"{what} must be 32 bytes")
    return b


def reveal_message(federation: bytes, cell: int, height: int) -> bytes:
    """The 61 bytes a proposer signs for the block at `height`:
    `"CHARTER_BEACON_V1" ‖ federation ‖ u32le(cell) ‖ u64le(height)`."""
    return BEACON_DOMAIN + _b32(federation, "federation") + cell.to_bytes(4, "little") + height.to_bytes(8, "little")


def verify_reveal(bls_key: bytes, federation: bytes, cell: int, height: int, reveal: bytes) -> bool:
    """Whether `reveal` is the signature of `bls_key` over `reveal_message(federation, cell, height)`."""
    if len(reveal) != REVEAL_BYTES or len(bls_key) != 48:
        return False
    return bls.verify(bls_key, reveal_message(federation, cell, height), reveal)


def proposer_bls_key(active: ActiveValidators, proposer: bytes) -> bytes:
    """The BLS key a block's proposer reveals with: its entry in the `ActiveValidators` stored
    before the block (any member, whatever its power). Raises `ProofError` when it is none."""
    for m in active.members:
        if m.passport == proposer:
            return m.bls_key
    raise ProofError(f"{proposer.hex()} is not a member of the validator set of epoch {active.epoch}")


def genesis_beacon(federation: bytes, cell: int) -> Beacon:
    """The beacon at genesis: height 0, `blake3("charter/beacon/v1" ‖ federation ‖ u32le(cell))`."""
    return Beacon(0, hash32(BEACON_GENESIS_DOMAIN + _b32(federation, "federation") + cell.to_bytes(4, "little")))


def beacon_mix(previous: bytes, reveal: bytes) -> bytes:
    """`mix(h) = blake3(mix(h − 1) ‖ reveal(h))`."""
    if len(reveal) != REVEAL_BYTES:
        raise EncodingError(f"a reveal is {REVEAL_BYTES} bytes")
    return hash32(_b32(previous, "mix") + reveal)


def mixed(beacon: Beacon, height: int, reveal: bytes) -> Beacon:
    """The beacon after the block at `height` whose header carries `reveal`."""
    if height <= beacon.height:
        raise EncodingError("the beacon mixes forward")
    return Beacon(height, beacon_mix(beacon.mix, reveal))


def sortition_score(seed: bytes, case: int, passport: bytes) -> bytes:
    """A pool member's score for a case: `blake3("charter/jury/v1" ‖ seed ‖ u64le(case) ‖ passport)`."""
    return hash32(SORTITION_DOMAIN + _b32(seed, "seed") + case.to_bytes(8, "little") + _b32(passport, "passport"))


def draw_jury(seed: bytes, case: int, pool: Sequence[bytes], size: int) -> list[bytes]:
    """The `size` pool members with the lowest scores, lowest first (a tie goes to the lower id)."""
    scored = sorted((sortition_score(seed, case, p), p) for p in pool)
    return [p for _, p in scored[:size]]


def scores(seed: bytes, case: int, pool: Sequence[bytes]) -> Mapping[bytes, bytes]:
    """Every pool member's score, by passport (to show a draw)."""
    return {p: sortition_score(seed, case, p) for p in pool}


def check_draw(case: JuryCase) -> None:
    """A case's jurors are the draw from its pool with its seed (none before the draw); raises
    `ProofError`. That the seed is the beacon's mix at `draw_at` is a separate check: read the
    beacon at that height with a proof."""
    if case.seed is None:
        if list(case.jurors):
            raise ProofError(f"case {case.id} has jurors but no seed")
        return
    expected = draw_jury(case.seed, case.id, case.pool, case.rules.size)
    if list(case.jurors) != expected:
        raise ProofError(f"case {case.id}'s jurors are not the draw from its pool with its seed")


def forks_of(passport: Passport, lookup: Callable[[bytes], Passport]) -> list[bytes]:
    """Every passport forked from `passport`, transitively, depth first in fork order (`forks_of`,
    `ledger/src/execution/discipline.rs`): those a sanction on it reaches besides its sponsor.
    `lookup` reads a passport by id (for instance through a `Verifier` at the filing height)."""
    forks: list[bytes] = []
    pending = list(reversed(passport.forks))
    while pending:
        pid = pending.pop()
        forks.append(pid)
        pending.extend(reversed(lookup(pid).forks))
    return forks


def slash_case_parties(offender: Passport, filer: bytes, lookup: Callable[[bytes], Passport]) -> list[bytes]:
    """The passports a slash case's pool leaves out (`request_slash_jury`): the offender, the
    filer, the offender's sponsor (if any) and every passport forked from the offender
    (`forks_of`) — those the slash's `Slashed` record reaches. Read them as they stood at the
    filing (`lookup` at its height)."""
    parties = [offender.id, _b32(filer, "filer")]
    if offender.sponsor is not None:
        parties.append(offender.sponsor)
    return parties + forks_of(offender, lookup)


def case_pool(jury_pool: Sequence[bytes], parties: Sequence[bytes]) -> list[bytes]:
    """A case's `pool`: the `JuryPool` as the filing found it (sorted, `Active` passports only)
    without `parties`, sorted bytewise."""
    left_out = set(parties)
    return sorted(p for p in jury_pool if p not in left_out)


def verdict_of(for_claim: int, drawn: int) -> Verdict:
    """The verdict a case closes with: `ForClaim` only when more than half the `drawn` jurors
    ruled for the claim (`2 × for_claim > drawn`), else `AgainstClaim`."""
    return Verdict.ForClaim if 2 * for_claim > drawn else Verdict.AgainstClaim


def check_outcome(case: JuryCase) -> None:
    """A settled case's outcome is what its own record gives: the counts of its rulings (each by a
    drawn juror, at most one each), the verdict by `verdict_of`, the drawn jurors who did not rule
    (in draw order), penalties of at most the rules' `absence_penalty` each, nothing slashed for an
    escrow or a claim that failed and at most the slash's `amount` otherwise, and a `settled` event
    with the same verdict last in its history. A case not settled has no outcome. Raises
    `ProofError`."""
    if case.outcome is None:
        if case.status == CaseStatus.Settled:
            raise ProofError(f"case {case.id} is settled without an outcome")
        return
    o = case.outcome
    if case.status != CaseStatus.Settled:
        raise ProofError(f"case {case.id} has an outcome but is {case.status.to_json()}")
    ruled = [r.juror for r in case.rulings]
    if len(set(ruled)) != len(ruled) or not set(ruled) <= set(case.jurors):
        raise ProofError(f"case {case.id}'s rulings are not one each by its drawn jurors")
    for_claim = sum(1 for r in case.rulings if r.verdict == Verdict.ForClaim)
    against_claim = len(case.rulings) - for_claim
    if (o.for_claim, o.against_claim) != (for_claim, against_claim):
        raise ProofError(f"case {case.id}'s counts are not its rulings'")
    if o.verdict != verdict_of(for_claim, len(case.jurors)):
        raise ProofError(f"case {case.id}'s verdict is not the rule's for {for_claim} of {len(case.jurors)}")
    if list(o.absent) != [j for j in case.jurors if j not in ruled]:
        raise ProofError(f"case {case.id}'s absent jurors are not the drawn jurors who did not rule")
    if o.penalties > len(o.absent) * case.rules.absence_penalty:
        raise ProofError(f"case {case.id}'s penalties exceed the absence penalty of its absent jurors")
    cap = 0 if isinstance(case.subject, CaseEscrow) or o.verdict == Verdict.AgainstClaim else case.subject.amount
    if o.slashed > cap:
        raise ProofError(f"case {case.id} slashed {o.slashed}, more than {cap}")
    last = case.history[-1] if case.history else None
    if not isinstance(last, CaseSettled) or last.verdict != o.verdict:
        raise ProofError(f"case {case.id}'s history does not end settled with its verdict")


__all__ = [
    "BEACON_DOMAIN", "BEACON_GENESIS_DOMAIN", "SORTITION_DOMAIN", "MAX_JURY_POOL", "REVEAL_BYTES", "reveal_message",
    "verify_reveal", "proposer_bls_key", "genesis_beacon", "beacon_mix", "mixed", "sortition_score", "draw_jury",
    "scores", "check_draw", "verdict_of", "check_outcome", "forks_of", "slash_case_parties", "case_pool",
]
