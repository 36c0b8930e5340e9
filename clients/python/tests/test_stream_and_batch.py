"""The server-sent block stream, and batch submission."""

from __future__ import annotations

from typing import Any

import pytest

from _localnet import Cell
from charter_client import ApiError, TransactionBody, Transfer
from charter_client.client import raise_for_error
from charter_client.encoding import Writer, encode_bytes_vec_list


def test_block_stream_delivers_consecutive_heights(cell: Cell) -> None:
    events: list[dict[str, Any]] = []
    for ev in cell.client.stream_blocks(timeout=30):
        events.append(ev)
        if len(events) == 4:
            break
    heights = [int(e["height"]) for e in events]
    assert heights == list(range(heights[0], heights[0] + 4))
    for e in events:  # each event names the block the cell certified at that height
        vb = cell.verifier.verified_block(int(e["height"]))
        assert vb.hash.hex() == e["hash"] and vb.header.state_root.hex() == e["state_root"]
        assert int(e["transactions"]) == len(vb.transaction_ids)
        assert int(e["round"]) == vb.certificate.round


def _batch_or_skip(cell: Cell, body: bytes) -> Any:
    resp = cell.client.request("POST", "/v1/transactions/batch", content=body,
                               headers={"Content-Type": "application/octet-stream"})
    if resp.status_code in (404, 405):
        err = resp.json().get("error")
        if err in ("no_such_route", "method_not_allowed"):
            pytest.skip(f"this charter binary has no POST /v1/transactions/batch (it answers {resp.status_code} {err})")
    return resp


def test_batch_submission_admits_consecutive_nonces_in_order(cell: Cell) -> None:
    sender = cell.keys[6]
    pid = cell.pid(6)
    n0 = cell.nonce(pid)
    txs = [TransactionBody(cell.federation, cell.cell, pid, n0 + i, 0, Transfer(cell.pid(7), 1 + i)).sign(sender.controller)
           for i in range(5)]
    forged = TransactionBody(cell.federation, cell.cell, pid, n0 + 5, 0, Transfer(cell.pid(7), 9)).sign(cell.keys[7].controller)
    _batch_or_skip(cell, encode_bytes_vec_list([]))  # probe the route
    results = cell.client.submit_batch([*txs, forged, b"\x00\x01\x02"])
    assert [r.id for r in results[:5]] == [t.id for t in txs]
    assert (results[5].id, results[5].error) == (None, "signer_not_controller")
    assert (results[6].id, results[6].error) == (None, "malformed")
    for t in txs:
        assert cell.client.follow(t.id, timeout=60)["status"] == "committed"
    assert cell.nonce(pid) == n0 + 5


def test_malformed_batch_envelopes_are_refused(cell: Cell) -> None:
    _batch_or_skip(cell, encode_bytes_vec_list([]))
    good = encode_bytes_vec_list([b"\x00" * 10])
    cases = {
        "empty body": b"",
        "truncated": good[:-3],
        "trailing bytes": good + b"\x00",
        "shorter than its count": b"\x01\x00",
        "count above 1,024": Writer().u32(1025).getvalue() + b"".join(Writer().u32(0).getvalue() for _ in range(1025)),
    }
    for name, body in cases.items():
        resp = cell.client.request("POST", "/v1/transactions/batch", content=body,
                                   headers={"Content-Type": "application/octet-stream"})
        with pytest.raises(ApiError) as e:
            raise_for_error(resp)
        assert (e.value.status, e.value.code) == (400, "bad_batch"), name
    # a well-formed batch of zero transactions is no error: it answers no results
    assert cell.client.submit_batch([]) == []
    big = b"\x00" * (4 * 1024 * 1024 + 1)
    resp = cell.client.request("POST", "/v1/transactions/batch", content=big,
                               headers={"Content-Type": "application/octet-stream"})
    assert resp.status_code == 413 and resp.json()["error"] == "body_too_large"
