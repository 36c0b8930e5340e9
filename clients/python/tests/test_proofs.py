"""Client-side verification against a live cell: inclusion proofs and commit certificates, blocks
recomputed from their JSON, state proofs (inclusion and absence) with `encoded`→`value`, and
tampered proofs refused."""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from typing import Any

import pytest

from _localnet import Cell
from charter_client import (
    EscrowCreate, InclusionProof, ProofError, StateKey, StateProof, Transfer, ValidatorSet, escrow_id,
    verify_block_json, verify_inclusion, verify_read, verify_state_proof,
)
from charter_client.encoding import from_hex
from charter_client.proofs import BlockCertificate, CommitSignature, SiblingNode, verify_certificate
from charter_client.state import Passport


@pytest.fixture(scope="module")
def committed(cell: Cell) -> dict[str, Any]:
    """A transfer by passport 5, followed to commit with `wait`."""
    tx = cell.build(cell.keys[5], Transfer(cell.pid(6), 77))
    assert cell.client.submit(tx) == tx.id
    rec = cell.client.follow(tx.id, timeout=60, proof=True)
    assert rec["status"] == "committed"
    return {"tx": tx, "record": rec}


def test_follow_to_commit_and_verify_inclusion_proof_and_certificate(cell: Cell, committed: dict[str, Any]) -> None:
    tx = committed["tx"]
    rec = cell.verifier.verify_transaction(tx.id)
    assert rec["status"] == "committed" and rec["id"] == tx.id.hex()
    header = rec["verified_header"]
    assert header.height == int(rec["height"])
    # the block's own certificate, from /v1/blocks/{height} of another node (once that node
    # has committed it too: it may be a step behind the one that answered), verifies too
    cell.other.wait_for_height(header.height, timeout=60)
    block = cell.other.block(header.height)
    vb = verify_block_json(block, cell.federation, cell.cell, cell.verifier.validator_set_for_height(header.height))
    assert vb.hash == header.hash()
    assert vb.transaction_ids[rec["verified_index"]] == tx.id
    # the served transaction JSON is the one we signed
    assert rec["transaction"] == tx.to_json()


def test_block_hash_and_transactions_root_recomputed_from_block_json(cell: Cell, committed: dict[str, Any]) -> None:
    height = int(committed["record"]["height"])
    for h in (height, int(cell.client.latest_block()["height"])):
        block = cell.client.block(h)
        vb = cell.verifier.verify_block(block)
        assert vb.hash.hex() == block["hash"]
        assert vb.header.transactions_root.hex() == block["header"]["transactions_root"]
        assert [i.hex() for i in vb.transaction_ids] == [t["id"] for t in block["transactions"]]
        assert 3 * vb.signed_power > 2 * cell.verifier.validator_set_for_height(h).total_power
    # consecutive blocks chain through `parent`
    prev, this = cell.verifier.verified_block(height - 1), cell.verifier.verified_block(height)
    assert this.header.parent == prev.hash


def test_passport_bond_escrow_validator_and_validator_set_reads_verify(cell: Cell) -> None:
    v = cell.verifier
    pid = cell.pid(4)
    p = v.passport(pid)
    assert p.value.id == pid and p.encoded is not None
    b = v.bond(pid)
    assert b.value.bonded >= 100
    nonce = cell.nonce(pid)
    cell.commit(cell.keys[4], EscrowCreate(cell.pid(5), 10, None, 0, cell.client.height() + 500))
    eid = escrow_id(cell.cell, pid, nonce)
    e = v.escrow(eid)
    assert e.value.id == eid and e.value.payer == pid
    val = v.validator(cell.pid(0))
    assert val.value.consensus_key == cell.keys[0].validator.consensus.public_key  # type: ignore[union-attr]
    vs = v.validators()
    # the latest state's set is the one for the next block's epoch
    assert vs.value.epoch == v.epoch_of(vs.height + 1)
    assert {m.passport for m in vs.value.members} >= {cell.pid(i) for i in range(4)}
    # reading at a chosen height pins it to that height's certified root
    h = vs.height
    again = v.passport(pid, height=h)
    assert again.height == h


def test_absence_proof_for_unknown_ids(cell: Cell) -> None:
    unknown = os.urandom(32)
    for read in (cell.verifier.passport(unknown), cell.verifier.escrow(unknown), cell.verifier.bond(unknown),
                 cell.verifier.validator(unknown)):
        assert read.value is None and read.encoded is None
    # an absence claim for a passport that exists is refused
    raw = cell.client.passport(unknown, proof=True)
    root = cell.verifier.trusted_root(int(raw["height"]))
    with pytest.raises(ProofError):
        verify_read(raw, StateKey.passport(cell.pid(4)), Passport.decode, root)


def _proved_read(cell: Cell) -> tuple[dict[str, Any], bytes]:
    raw = cell.client.passport(cell.pid(4), proof=True)
    return raw, cell.verifier.trusted_root(int(raw["height"]))


def test_tampered_state_proofs_are_refused(cell: Cell) -> None:
    raw, root = _proved_read(cell)
    key = StateKey.passport(cell.pid(4))
    encoded = from_hex(raw["encoded"])
    proof = StateProof.decode(from_hex(raw["proof"]))
    verify_state_proof(root, key, encoded, proof)  # the untouched proof passes
    assert proof.siblings, "a live state has siblings"

    # flipped sibling: one bit of one sibling node
    for i, sib in enumerate(proof.siblings):
        if sib.kind != 0:
            flipped = SiblingNode(sib.kind, bytes([sib.a[0] ^ 1]) + sib.a[1:], sib.b)
            bad = StateProof(proof.leaf, proof.siblings[:i] + (flipped,) + proof.siblings[i + 1:])
            with pytest.raises(ProofError):
                verify_state_proof(root, key, encoded, bad)
            break
    # wrong value: other bytes under the same proof
    with pytest.raises(ProofError):
        verify_state_proof(root, key, encoded[:-1] + bytes([encoded[-1] ^ 1]), proof)
    # wrong root
    with pytest.raises(ProofError):
        verify_state_proof(bytes(32), key, encoded, proof)
    # wrong key
    with pytest.raises(ProofError):
        verify_state_proof(root, StateKey.passport(cell.pid(5)), encoded, proof)
    # a claim of absence with an inclusion proof
    with pytest.raises(ProofError):
        verify_state_proof(root, key, None, proof)
    # a node that lies in JSON only: `value` differs from the decoding of `encoded`
    lying = copy.deepcopy(raw)
    lying["value"]["balance"] += 1
    with pytest.raises(ProofError):
        verify_read(lying, key, Passport.decode, root)
    # a served `encoded` changed along with `value`: the proof no longer covers it
    forged = copy.deepcopy(raw)
    forged["encoded"] = encoded[:-8].hex() + (int.from_bytes(encoded[-8:], "little") + 1).to_bytes(8, "little").hex()
    forged["value"]["created_at"] += 1
    with pytest.raises(ProofError):
        verify_read(forged, key, Passport.decode, root)


def test_tampered_inclusion_proofs_and_certificates_are_refused(cell: Cell, committed: dict[str, Any]) -> None:
    tx = committed["tx"]
    rec = cell.client.transaction(tx.id, proof=True)
    proof = InclusionProof.decode(from_hex(rec["proof"]))
    vset = cell.verifier.validator_set_for_height(proof.header.height)
    fed, c = cell.federation, cell.cell
    verify_inclusion(tx.id, proof, fed, c, vset)

    with pytest.raises(ProofError):  # not in the block
        verify_inclusion(os.urandom(32), proof, fed, c, vset)
    cert = proof.certificate
    sig0 = cert.signatures[0]
    flipped = CommitSignature(sig0.validator, sig0.signature[:10] + bytes([sig0.signature[10] ^ 1]) + sig0.signature[11:])
    bad_sig = replace(proof, certificate=replace(cert, signatures=(flipped,) + cert.signatures[1:]))
    with pytest.raises(ProofError, match="does not verify"):
        verify_inclusion(tx.id, bad_sig, fed, c, vset)
    too_few = replace(proof, certificate=replace(cert, signatures=cert.signatures[:2]))
    with pytest.raises(ProofError, match="2/3"):
        verify_inclusion(tx.id, too_few, fed, c, vset)
    twice = replace(proof, certificate=replace(cert, signatures=cert.signatures + cert.signatures[:1]))
    with pytest.raises(ProofError, match="twice"):
        verify_inclusion(tx.id, twice, fed, c, vset)
    stranger = CommitSignature(os.urandom(32), sig0.signature)
    with pytest.raises(ProofError, match="not a member"):
        verify_inclusion(tx.id, replace(proof, certificate=replace(cert, signatures=cert.signatures + (stranger,))),
                         fed, c, vset)
    other_root = replace(proof, header=replace(proof.header, state_root=os.urandom(32)))
    with pytest.raises(ProofError):
        verify_inclusion(tx.id, other_root, fed, c, vset)
    with pytest.raises(ProofError):  # another cell's votes
        verify_inclusion(tx.id, proof, fed, c + 1, vset)
    with pytest.raises(ProofError):  # a set without the signers' power
        verify_inclusion(tx.id, proof, fed, c, ValidatorSet(vset.epoch, vset.members[:1]))


def test_tampered_block_json_is_refused(cell: Cell, committed: dict[str, Any]) -> None:
    block = cell.client.block(int(committed["record"]["height"]))
    vset = cell.verifier.validator_set_for_height(int(block["height"]))
    fed, c = cell.federation, cell.cell
    verify_block_json(block, fed, c, vset)
    # a changed header no longer hashes to the served hash
    b1 = copy.deepcopy(block)
    b1["header"]["state_root"] = os.urandom(32).hex()
    with pytest.raises(ProofError):
        verify_block_json(b1, fed, c, vset)
    # ... and with the served hash recomputed to match, the certificate does not sign it
    from charter_client import BlockHeader
    b1["hash"] = BlockHeader.from_block_json(b1).hash().hex()
    with pytest.raises(ProofError):
        verify_block_json(b1, fed, c, vset)
    # a transaction changed in JSON no longer has the served id
    b2 = copy.deepcopy(block)
    b2["transactions"][0]["transaction"]["body"]["fee"] += 1
    with pytest.raises(ProofError):
        verify_block_json(b2, fed, c, vset)
    # a transaction dropped from the list changes the root
    b3 = copy.deepcopy(block)
    b3["transactions"] = b3["transactions"][1:]
    with pytest.raises(ProofError):
        verify_block_json(b3, fed, c, vset)
    # a certificate checked at another round does not verify
    h = BlockHeader.from_block_json(block).hash()
    cert = BlockCertificate.from_block_json(block, h)
    with pytest.raises(ProofError):
        verify_certificate(replace(cert, round=cert.round + 1), h, cert.height, fed, c, vset)
