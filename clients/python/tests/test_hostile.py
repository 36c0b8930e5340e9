"""Hostile and mistaken requests answer the codes docs/errors.md documents."""

from __future__ import annotations

import os
from dataclasses import replace

import httpx
import pytest

from _localnet import Cell
from charter_client import ApiError, SignedTransaction, TransactionBody, Transfer

OCTET = {"Content-Type": "application/octet-stream"}


def expect(resp: httpx.Response, status: int, code: str) -> dict[str, object]:
    body = resp.json()
    assert (resp.status_code, body.get("error")) == (status, code), (resp.status_code, body)
    assert isinstance(body.get("message"), str)
    return body  # type: ignore[no-any-return]


def post_tx(cell: Cell, body: bytes) -> httpx.Response:
    return cell.client.request("POST", "/v1/transactions", content=body, headers=OCTET)


def _transfer(net: Cell, **changes: object) -> SignedTransaction:
    """A transfer by member 8 at its current nonce, with body fields changed, signed correctly."""
    sender = net.keys[8]
    body = TransactionBody(net.federation, net.cell, net.pid(8), net.nonce(net.pid(8)), 0, Transfer(net.pid(9), 1))
    return replace(body, **changes).sign(sender.controller)  # type: ignore[arg-type]


def test_malformed_bytes_answer_malformed(cell: Cell) -> None:
    good = _transfer(cell).encode()
    action_at = 32 + 4 + 32 + 8 + 8  # the action's variant index follows federation, cell, sender, nonce, fee
    assert good[action_at] == 0
    unknown_variant = good[:action_at] + b"\x63" + good[action_at + 1:]
    for body in (b"\x00\x01\x02", good + b"\x00", good[:-1], unknown_variant, b""):
        expect(post_tx(cell, body), 400, "malformed")


def test_bad_signature_answers_bad_signature(cell: Cell) -> None:
    tx = _transfer(cell)
    forged = SignedTransaction(tx.body, tx.signer, tx.signature[:-1] + bytes([tx.signature[-1] ^ 0x01]))
    expect(post_tx(cell, forged.encode()), 400, "bad_signature")
    other = replace(tx.body, fee=tx.body.fee + 1)  # body changed after signing
    expect(post_tx(cell, SignedTransaction(other, tx.signer, tx.signature).encode()), 400, "bad_signature")


def test_replayed_transaction_answers_stale_nonce(cell: Cell) -> None:
    tx = _transfer(cell)
    cell.client.submit(tx)
    again = post_tx(cell, tx.encode())  # still pending here, or already committed
    assert (again.status_code, again.json()["error"]) in ((409, "duplicate"), (400, "stale_nonce"))
    assert cell.client.follow(tx.id, timeout=60)["status"] == "committed"
    expect(post_tx(cell, tx.encode()), 400, "stale_nonce")


def test_wrong_cell_and_wrong_federation(cell: Cell) -> None:
    expect(post_tx(cell, _transfer(cell, cell=cell.cell + 5).encode()), 400, "wrong_cell")
    expect(post_tx(cell, _transfer(cell, federation=os.urandom(32)).encode()), 400, "wrong_federation")


def test_stale_and_future_nonce(cell: Cell) -> None:
    n = cell.nonce(cell.pid(8))
    if n == 0:
        cell.client.follow(cell.client.submit(_transfer(cell)), timeout=60)
        n = cell.nonce(cell.pid(8))
    expect(post_tx(cell, _transfer(cell, nonce=n - 1).encode()), 400, "stale_nonce")
    expect(post_tx(cell, _transfer(cell, nonce=n + 1).encode()), 400, "future_nonce")


def test_oversized_body_answers_body_too_large(cell: Cell) -> None:
    expect(post_tx(cell, b"\x00" * 70_000), 413, "body_too_large")


def test_unknown_ids_and_heights(cell: Cell) -> None:
    c = cell.client
    expect(c.request("GET", f"/v1/transactions/{os.urandom(32).hex()}"), 404, "unknown_transaction")
    expect(c.request("GET", "/v1/blocks/99999999999"), 404, "unknown_block")
    expect(c.request("GET", "/v1/blocks/0"), 404, "unknown_block")
    expect(c.request("GET", "/v1/transactions/abcd"), 400, "invalid_transaction_id")
    expect(c.request("GET", "/v1/passports/not-hex"), 400, "invalid_passport_id")
    expect(c.request("GET", "/v1/bonds/00"), 400, "invalid_passport_id")
    expect(c.request("GET", "/v1/validators/zz"), 400, "invalid_passport_id")
    expect(c.request("GET", "/v1/escrows/1234"), 400, "invalid_escrow_id")
    expect(c.request("GET", "/v1/blocks/tall"), 400, "invalid_height")
    expect(c.request("GET", f"/v1/passports/{cell.pid(0).hex()}", params={"height": "99999999999"}), 404,
           "unknown_height")
    with pytest.raises(ApiError) as e:  # the SDK's typed error carries code, message and status
        c.transaction(os.urandom(32))
    assert (e.value.status, e.value.code) == (404, "unknown_transaction") and e.value.message


def test_unknown_route_and_wrong_method(cell: Cell) -> None:
    c = cell.client
    expect(c.request("GET", "/v1/nowhere"), 404, "no_such_route")
    resp = c.request("DELETE", "/v1/status")
    expect(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["allow"]


def test_bad_queries(cell: Cell) -> None:
    c = cell.client
    pid = cell.pid(0).hex()
    expect(c.request("GET", f"/v1/passports/{pid}", params={"proof": "yes"}), 400, "bad_request")
    expect(c.request("GET", f"/v1/passports/{pid}", params={"height": "-1"}), 400, "bad_request")
    expect(c.request("GET", "/v1/passports/not-hex", params={"height": "-1"}), 400, "bad_request")
    expect(c.request("GET", f"/v1/transactions/{os.urandom(32).hex()}", params={"wait": "x"}), 400, "bad_request")
    expect(c.request("GET", f"/v1/transactions/{os.urandom(32).hex()}", params={"wait": "61"}), 400, "invalid_wait")


def test_oversized_chunked_body_is_cut_off(cell: Cell) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(70):
            yield b"\x00" * 1_000

    resp = cell.client.request("POST", "/v1/transactions", content=chunks(), headers=OCTET)
    assert "content-length" not in {k.lower() for k in resp.request.headers}
    expect(resp, 413, "body_too_large")


def test_federation_endpoints_on_a_lone_cell(cell: Cell) -> None:
    c = cell.client
    expect(c.request("GET", "/v1/federation"), 404, "no_federation")
    expect(c.request("GET", "/v1/checkpoints/0/latest"), 404, "no_federation")
    expect(c.request("GET", "/v1/checkpoints/x/1"), 404, "no_federation")  # checked before {cell} is parsed
    expect(c.request("GET", "/v1/checkpoints/1"), 404, "no_such_route")
    expect(c.request("GET", "/v1/bridges/x/rulings/1"), 400, "invalid_cell")
    expect(c.request("GET", "/v1/bridges/1/rulings/latest"), 400, "invalid_epoch")
