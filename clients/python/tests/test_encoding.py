"""Offline: every action round-trips through bytes and JSON, decoders are strict, and the key rules
of docs/wire-format.md §4 / docs/proofs.md §4.2 hold."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from charter_client import (
    ALL_ACTIONS, ArbiterApproval, ArbiterRuling, Bond, CellMode, ConsentRuling, ConsentSubject, DoubleVote,
    EncodingError, EscrowCreate, EscrowDispute, EscrowRefund, EscrowRelease, EscrowResolve, Exit, ForkPassport,
    IssuePassport, KeyFile, LiftBridgeLockdown, RegisterValidator, RotateKeys, Sanction, SanctionKind, SetCellMode,
    SignedTransaction, SignedVote, SigningKey, Slash, TransactionBody, Transfer, Unbond, ValidatorApproval, Vote,
    VoteType, Withdraw, action_from_json, verify_strict,
)
from charter_client import bls
from charter_client.keys import ValidatorKeys, check_controller_key
from charter_client.state import StateKey


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


def test_all_eighteen_actions_are_covered() -> None:
    assert {type(a) for a in _examples()} == set(ALL_ACTIONS)


def test_decoders_are_strict() -> None:
    tx = TransactionBody(bytes(32), 0, bytes(32), 0, 0, EscrowCreate(bytes(32), 1, None, 0, 1)).sign(
        SigningKey(bytes([1]) * 32))
    data = tx.encode()
    with pytest.raises(EncodingError, match="trailing"):
        SignedTransaction.decode(data + b"\x00")
    with pytest.raises(EncodingError, match="truncated"):
        SignedTransaction.decode(data[:-1])
    bad_variant = data[:84] + b"\x12" + data[85:]
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
