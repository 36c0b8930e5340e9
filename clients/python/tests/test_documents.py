"""The documents' worked examples, read from the documents themselves (`name = hex` lines), and
reproduced with the SDK."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from charter_client import (
    CheckpointCertificate, FederationValidator, FederationVerifier, InclusionProof, ProofError, SignedTransaction,
    SigningKey, StateKey, StateProof, TransactionBody, Transfer, ValidatorSet, genesis_passport_id,
    validator_set_hash, verify_inclusion, verify_state_proof,
)
from charter_client import bls
from charter_client.checkpoints import committee
from charter_client.encoding import decode_all
from charter_client.juries import proposer_bls_key, verify_reveal
from charter_client.proofs import HEADER_BYTES, precommit_message, transactions_root
from charter_client.state import ActiveValidators, Passport

DOCS = Path(__file__).resolve().parents[3] / "docs"


def doc_values(name: str) -> dict[str, bytes]:
    """Every `name = <hex>` line of a document's text blocks."""
    text = (DOCS / name).read_text()
    return {m.group(1): bytes.fromhex(m.group(2))
            for m in re.finditer(r"^([a-z][a-z0-9_]*) = ([0-9a-f]+)\s*$", text, re.M)}


def _need(values: dict[str, bytes], doc: str, *names: str) -> None:
    if not values:
        pytest.skip(f"docs/{doc} carries no worked example")
    missing = [n for n in names if n not in values]
    assert not missing, f"docs/{doc}'s worked example lacks {missing}"


def test_wire_format_worked_example_is_reproduced() -> None:
    v = doc_values("wire-format.md")
    _need(v, "wire-format.md", "body", "recipient", "sender", "signature", "signer_public_key", "signing_bytes",
          "transaction", "transaction_id")
    key = SigningKey(bytes([0x42]) * 32)
    sender, recipient = genesis_passport_id(3, 0), genesis_passport_id(3, 1)
    body = TransactionBody(bytes([0x11]) * 32, 3, sender, 7, 10, Transfer(recipient, 1500))
    tx = body.sign(key)
    assert sender == v["sender"]
    assert recipient == v["recipient"]
    assert key.public_key == v["signer_public_key"]
    assert body.encode() == v["body"]
    assert body.signing_bytes() == v["signing_bytes"]
    assert tx.signature == v["signature"]
    assert tx.encode() == v["transaction"]
    assert tx.id == v["transaction_id"]
    # and back: strict decoding gives the same transaction, whose signature verifies
    assert SignedTransaction.decode(v["transaction"]) == tx
    assert tx.verify_signature()


def test_proofs_worked_example_verifies() -> None:
    v = doc_values("proofs.md")
    _need(v, "proofs.md", "active_validators", "header", "block_hash", "transaction_0", "transaction_1",
          "transaction_id_0", "transaction_id_1", "transactions_root", "transactions_root_empty",
          "vote_signing_bytes", "inclusion_proof", "state_root", "passport_encoded", "passport_key_hash",
          "passport_proof", "absent_key_hash", "absent_proof")
    t0, t1 = SignedTransaction.decode(v["transaction_0"]), SignedTransaction.decode(v["transaction_1"])
    assert (t0.id, t1.id) == (v["transaction_id_0"], v["transaction_id_1"])
    assert t0.verify_signature() and t1.verify_signature()
    assert transactions_root([t0.id, t1.id]) == v["transactions_root"]
    assert transactions_root([]) == v["transactions_root_empty"]

    proof = InclusionProof.decode(v["inclusion_proof"])
    header = proof.header
    assert header.encode() == v["header"] and len(v["header"]) == HEADER_BYTES
    assert header.hash() == v["block_hash"]
    assert header.transactions_root == v["transactions_root"] and header.state_root == v["state_root"]
    # block 1 is proposed by validator 1 (genesis passport 1), with its beacon reveal for height 1
    assert header.height == 1 and header.parent == bytes(32) and header.proposer == genesis_passport_id(0, 1)
    assert proof.encode() == v["inclusion_proof"]
    msg = precommit_message(header.federation, header.cell, 1, 0, v["block_hash"])
    assert msg == v["vote_signing_bytes"] and len(msg) == 97

    active = decode_all(v["active_validators"], ActiveValidators.decode)
    vset = ValidatorSet.from_active(active)
    key = proposer_bls_key(active, header.proposer)
    assert verify_reveal(key, header.federation, header.cell, 1, header.reveal)
    assert not verify_reveal(key, header.federation, header.cell, 2, header.reveal)
    assert verify_inclusion(t0.id, proof, header.federation, header.cell, vset) == 0
    assert verify_inclusion(t1.id, proof, header.federation, header.cell, vset) == 1

    member0 = t0.body.sender
    assert member0 == genesis_passport_id(0, 7)
    key = StateKey.passport(member0)
    assert key.key_hash() == v["passport_key_hash"]
    verify_state_proof(v["state_root"], key, v["passport_encoded"], StateProof.decode(v["passport_proof"]))
    passport = decode_all(v["passport_encoded"], Passport.decode)
    assert (passport.balance, passport.nonce) == (1_000_000 - 1_500 + 250, 1)

    absent = StateKey.passport(bytes([0xAB]) * 32)
    assert absent.key_hash() == v["absent_key_hash"]
    verify_state_proof(v["state_root"], absent, None, StateProof.decode(v["absent_proof"]))
    with pytest.raises(ProofError):  # the absence proof does not prove member 0 absent
        verify_state_proof(v["state_root"], key, None, StateProof.decode(v["absent_proof"]))


def test_checkpoints_worked_example_verifies_with_py_ecc() -> None:
    v = doc_values("checkpoints.md")
    _need(v, "checkpoints.md", "certificate", "checkpoint_id", "checkpoint_signing_bytes", "cell_0_set",
          "cell_0_set_hash", "cell_1_set", "cell_1_set_hash", "aggregate_signature", "signer_secret_key",
          "signer_public_key", "signer_signature", "next_set", "next_set_hash", "committee")
    from py_ecc.bls import G2ProofOfPossession

    def vset(b: bytes) -> tuple[FederationValidator, ...]:
        return decode_all(b, lambda r: tuple(r.vec(FederationValidator.decode)))

    s0, s1 = vset(v["cell_0_set"]), vset(v["cell_1_set"])
    assert validator_set_hash(s0) == v["cell_0_set_hash"]
    assert validator_set_hash(s1) == v["cell_1_set_hash"]
    for c, s in ((0, s0), (1, s1)):
        for i, m in enumerate(s):
            sk = G2ProofOfPossession.KeyGen(bytes([c * 16 + i + 1]) * 32)
            assert m.passport == bytes([c * 16 + i]) * 32 and m.power == 10_000
            assert bls.public_key(sk) == m.bls_key
    sk0 = G2ProofOfPossession.KeyGen(bytes([1]) * 32)
    assert sk0.to_bytes(32, "big") == v["signer_secret_key"]
    assert bls.public_key(sk0) == v["signer_public_key"]

    cert = CheckpointCertificate.decode(v["certificate"])
    assert cert.encode() == v["certificate"]
    assert cert.checkpoint.signing_bytes() == v["checkpoint_signing_bytes"]
    assert cert.checkpoint.id == v["checkpoint_id"]
    assert bls.sign(sk0, v["checkpoint_signing_bytes"]) == v["signer_signature"]
    assert cert.signature == v["aggregate_signature"]
    assert [(s.cell, s.bitmap) for s in cert.signers] == [(0, b"\x07"), (1, b"\x0e")]

    next_set = vset(v["next_set"])
    assert validator_set_hash(next_set) == v["next_set_hash"] == cert.checkpoint.next_validators
    assert cert.next_set == next_set and cert.checkpoint.hands_over
    assert [m.power for m in next_set] == [10_000, 10_000, 10_000, 20_000]

    drawn = committee(cert.checkpoint.federation, range(40), 7, 3, 8)
    assert b"".join(c.to_bytes(4, "little") for c in drawn) == v["committee"]

    verifier = FederationVerifier(cert.checkpoint.federation, 2, 1, {0: s0, 1: s1})
    with pytest.raises(ProofError):  # a hand-over without the set it hands over
        verifier.check(replace(cert, next_set=None))
    verifier.verify(cert)
    assert verifier.head_hash(0) == v["next_set_hash"]

    # With a third cell holding cell 1's set and committees of one, the certificate — a
    # hand-over — verifies exactly when the cell its co-signing entry names is drawn for cell
    # 0's epoch or one of the next three; naming both cells mixes two committees.
    epoch = cert.checkpoint.epoch
    drawn = {cell for later in range(4)
             for cell in committee(cert.checkpoint.federation, [0, 1, 2], 0, epoch + later, 1)}
    three = FederationVerifier(cert.checkpoint.federation, 2, 1, {0: s0, 1: s1, 2: s1})
    for cell in (1, 2):
        relabelled = replace(cert, signers=(cert.signers[0], replace(cert.signers[1], cell=cell)))
        if cell in drawn:
            three.check(relabelled)
        else:
            with pytest.raises(ProofError, match="not on the committee"):
                three.check(relabelled)
    both = replace(cert, signers=(cert.signers[0], replace(cert.signers[1], cell=1),
                                  replace(cert.signers[1], cell=2)))
    with pytest.raises(ProofError, match="one of its committees" if drawn == {1, 2} else "not on the committee"):
        three.check(both)
