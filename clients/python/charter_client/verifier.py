"""A light client: follows a cell's validator set from a trusted anchor (the genesis file, or a
set you already trust) and verifies what a node serves — blocks, transactions and state reads —
against it (docs/proofs.md §8)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, TypeVar

from .client import CharterClient, IdLike
from .encoding import Reader, from_hex
from .errors import EncodingError, ProofError
from .ids import genesis_passport_id
from .proofs import (
    InclusionProof, SetMember, ValidatorSet, VerifiedBlock, VerifiedRead, verify_block_json, verify_header_reveal,
    verify_inclusion, verify_read,
)
from .governance import GovernanceRules
from .state import (
    ActiveValidators, Ballot, Beacon, Bond, BridgeRuling, Delegation, Electorate, Escrow, Juror, JuryCase, JuryCaseIds,
    PassportIds, Passport, Process, StateKey, Validator,
)

T = TypeVar("T")

DEFAULT_EPOCH_LENGTH = 100


@dataclass(frozen=True)
class Genesis:
    """What a light client needs from a cell's genesis file."""

    federation: bytes
    cell: int
    epoch_length: int
    validators: ValidatorSet  # the set for epoch 1

    @classmethod
    def from_json(cls, g: Mapping[str, Any]) -> "Genesis":
        """docs/proofs.md §8.2, anchor A: each validator's power is the `bonded` of the genesis
        passport whose `PassportId::genesis(cell, i)` is its passport."""
        try:
            federation = from_hex(g["federation"], 32, "federation")
            cell = int(g["cell"])
            params = g.get("params") or {}
            epoch_length = int(params.get("epoch_length", DEFAULT_EPOCH_LENGTH))
            ids = [genesis_passport_id(cell, i) for i in range(len(g["passports"]))]
            members = []
            for v in g["validators"]:
                pid = from_hex(v["passport"], 32, "validator passport")
                if pid not in ids:
                    raise EncodingError(f"genesis validator {pid.hex()} is not a genesis passport")
                power = int(g["passports"][ids.index(pid)].get("bonded", 0))
                if power > 0:
                    members.append(SetMember(pid, from_hex(v["consensus_key"], 32, "consensus_key"), power,
                                             from_hex(v["bls_key"], 48, "bls_key")))
        except KeyError as e:
            raise EncodingError(f"genesis lacks {e.args[0]!r}") from e
        members.sort(key=lambda m: m.passport)
        return cls(federation, cell, epoch_length, ValidatorSet(1, tuple(members)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Genesis":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(json.load(f))


class Verifier:
    """Verifies a node's answers for one cell. Give it a trusted set for some epoch (from the
    genesis, or elsewhere); it steps epoch by epoch (certified block `e·E`, then the proved
    `ActiveValidators` at that height) to the set of any later height."""

    def __init__(self, client: CharterClient, federation: bytes, cell: int, epoch_length: int,
                 trusted: ValidatorSet):
        if epoch_length <= 0:
            raise ValueError("epoch_length must be positive")
        self.client = client
        self.federation = federation
        self.cell = cell
        self.epoch_length = epoch_length
        self._sets: dict[int, ValidatorSet] = {trusted.epoch: trusted}
        self._blocks: dict[int, VerifiedBlock] = {}

    @classmethod
    def from_genesis(cls, client: CharterClient, genesis: Genesis) -> "Verifier":
        return cls(client, genesis.federation, genesis.cell, genesis.epoch_length, genesis.validators)

    def epoch_of(self, height: int) -> int:
        if height < 1:
            raise ProofError("height 0 is genesis, not a block: nothing certifies it")
        return (height - 1) // self.epoch_length + 1

    def validator_set_for_height(self, height: int) -> ValidatorSet:
        target = self.epoch_of(height)
        if target in self._sets:
            return self._sets[target]
        known = [e for e in self._sets if e < target]
        if not known:
            raise ProofError(f"no trusted validator set at or before epoch {target}")
        e = max(known)
        while e < target:
            b = e * self.epoch_length
            vb = self.verified_block(b)  # certified by the set of epoch e
            read = self.client.validators(proof=True, height=b)
            vr = verify_read(read, StateKey.active_validators(), ActiveValidators.decode, vb.header.state_root, b)
            av: ActiveValidators = vr.value
            if av.epoch != e + 1:
                raise ProofError(f"the set stored at height {b} is for epoch {av.epoch}, not {e + 1}")
            self._sets[e + 1] = ValidatorSet.from_active(av)
            e += 1
        return self._sets[target]

    def verify_block(self, block: Mapping[str, Any]) -> VerifiedBlock:
        """Verify a block's JSON (hash, transactions root, ids, certificate) against the set for its height."""
        height = int(block["height"])
        vb = verify_block_json(block, self.federation, self.cell, self.validator_set_for_height(height))
        self._blocks[height] = vb
        return vb

    def verified_block(self, height: int) -> VerifiedBlock:
        if height in self._blocks:
            return self._blocks[height]
        block = self.client.block(height)
        if int(block["height"]) != height:
            raise ProofError(f"asked for block {height}, got {block['height']}")
        return self.verify_block(block)

    def verify_reveal(self, height: int) -> VerifiedBlock:
        """Verify block `height` (certificate and all) and its header's reveal against its
        proposer's BLS key in the set of that height; returns the verified block."""
        vb = self.verified_block(height)
        verify_header_reveal(vb.header, self.validator_set_for_height(height))
        return vb

    def trusted_root(self, height: int) -> bytes:
        """The state root after block `height`, from a block whose certificate verified."""
        return self.verified_block(height).header.state_root

    def verify_transaction(self, tx_id: IdLike, wait: int = 30) -> dict[str, Any]:
        """Follow a transaction (bounded `wait`) and verify its inclusion proof; returns its
        record, with `verified_index` and `verified_header` added. Raises `ProofError`."""
        tid = tx_id if isinstance(tx_id, bytes) else from_hex(tx_id, 32, "id")
        rec = self.client.follow(tid, timeout=wait, proof=True)
        if rec["status"] not in ("committed", "rejected"):
            raise ProofError(f"transaction is {rec['status']}: nothing to prove")
        if "proof" not in rec:
            raise ProofError("the node served no inclusion proof")
        try:
            proof = InclusionProof.decode(from_hex(rec["proof"], None, "proof"))
        except EncodingError as e:
            raise ProofError(f"undecodable inclusion proof: {e}") from e
        vset = self.validator_set_for_height(proof.header.height)
        index = verify_inclusion(tid, proof, self.federation, self.cell, vset)
        if int(rec["height"]) != proof.header.height or int(rec["index"]) != index:
            raise ProofError("the record's height or index is not the proof's")
        if from_hex(rec["block"], 32) != proof.header.hash() or from_hex(rec["state_root"], 32) != proof.header.state_root:
            raise ProofError("the record's block or state root is not the proof's")
        rec = dict(rec)
        rec["verified_index"] = index
        rec["verified_header"] = proof.header
        return rec

    def _read(self, fetch: Callable[[Optional[int]], Mapping[str, Any]], key: StateKey,
              decoder: Callable[[Reader], T], height: Optional[int]) -> VerifiedRead:
        read = fetch(height)
        h = int(read["height"])
        if height is not None and h != height:
            raise ProofError(f"asked for height {height}, got {h}")
        return verify_read(read, key, decoder, self.trusted_root(h), h)

    def passport(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.passport(pid, True, h), StateKey.passport(pid), Passport.decode, height)

    def bond(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.bond(pid, True, h), StateKey.bond(pid), Bond.decode, height)

    def escrow(self, eid: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.escrow(eid, True, h), StateKey.escrow(eid), Escrow.decode, height)

    def validator(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.validator(pid, True, h), StateKey.validator(pid), Validator.decode, height)

    def validators(self, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.validators(True, h), StateKey.active_validators(),
                          ActiveValidators.decode, height)

    def bridge_ruling(self, remote: int, epoch: int, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.bridge_ruling(remote, epoch, True, h),
                          StateKey.bridge_ruling(remote, epoch), BridgeRuling.decode, height)

    # governance objects (docs/wire-format.md §7; docs/governance.md §11, *Checking a decision*)

    def governance_rules(self, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.governance_rules(True, h), StateKey.governance_rules(),
                          GovernanceRules.decode, height)

    def electorate(self, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.electorate(True, h), StateKey.electorate(), Electorate.decode, height)

    def process(self, process_id: int, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.process(process_id, True, h), StateKey.process(process_id),
                          Process.decode, height)

    def ballot(self, process_id: int, voter: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.ballot(process_id, voter, True, h), StateKey.ballot(process_id, voter),
                          Ballot.decode, height)

    def delegation(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.delegation(pid, True, h), StateKey.delegation(pid),
                          Delegation.decode, height)

    def delegators(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        """The value is `PassportIds` (its `ids`, sorted), or None when nobody delegates to `pid`."""
        return self._read(lambda h: self.client.delegators(pid, True, h), StateKey.delegators(pid),
                          PassportIds.decode, height)

    # juries: the beacon, the pool, jurors, cases and slash cases

    def beacon(self, height: Optional[int] = None) -> VerifiedRead:
        """The cell's `Beacon` after block `height` (its mix chains every reveal up to it)."""
        return self._read(lambda h: self.client.beacon(True, h), StateKey.beacon(), Beacon.decode, height)

    def jury_pool(self, height: Optional[int] = None) -> VerifiedRead:
        """The value is `PassportIds` (the pool, sorted), or None when nobody ever joined."""
        return self._read(lambda h: self.client.jury_pool(True, h), StateKey.jury_pool(), PassportIds.decode, height)

    def juror(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.juror(pid, True, h), StateKey.juror(pid), Juror.decode, height)

    def case(self, case_id: int, height: Optional[int] = None) -> VerifiedRead:
        return self._read(lambda h: self.client.case(case_id, True, h), StateKey.jury_case(case_id), JuryCase.decode,
                          height)

    def slash_cases(self, pid: bytes, height: Optional[int] = None) -> VerifiedRead:
        """The value is `JuryCaseIds` (the slash cases open against `pid`, sorted), or None when
        there are none."""
        return self._read(lambda h: self.client.slash_cases(pid, True, h), StateKey.slash_cases_against(pid),
                          JuryCaseIds.decode, height)
