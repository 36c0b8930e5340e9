"""HTTP client for a Charter node's API (node/openapi.json, docs/errors.md).

Every error answer becomes an `ApiError` carrying the node's `code`, `message` and HTTP `status`.
Reads return the node's JSON as plain dicts; verify them with `charter_client.verifier`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import httpx

from .encoding import encode_bytes_vec_list, from_hex
from .errors import ApiError, TransactionFailed, WaitTimeout
from .transaction import SignedTransaction

TxLike = Union[SignedTransaction, bytes]
IdLike = Union[bytes, str]

#: The longest `wait` the node accepts on `GET /v1/transactions/{id}`.
MAX_WAIT_SECONDS = 60
#: Batch limits of `POST /v1/transactions/batch`.
MAX_BATCH_TRANSACTIONS = 1024
MAX_BATCH_BYTES = 4 * 1024 * 1024

FINAL_STATUSES = ("committed", "rejected", "dropped")


def _hex_id(v: IdLike) -> str:
    return v.hex() if isinstance(v, (bytes, bytearray)) else v


def _tx_bytes(tx: TxLike) -> bytes:
    return tx.encode() if isinstance(tx, SignedTransaction) else bytes(tx)


def raise_for_error(resp: httpx.Response) -> None:
    """Turn a 4xx/5xx answer into an `ApiError`."""
    if resp.status_code < 400:
        return
    body: dict[str, Any] = {}
    try:
        parsed = resp.json()
        if isinstance(parsed, dict):
            body = parsed
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    code = str(body.get("error", "http_error"))
    message = str(body.get("message", resp.reason_phrase or resp.text[:200]))
    raise ApiError(code, message, resp.status_code, body)


@dataclass(frozen=True)
class BatchResult:
    """One transaction's answer in a batch: `id` when admitted, else `error` and `message`."""

    id: Optional[bytes]
    error: Optional[str] = None
    message: Optional[str] = None

    @property
    def admitted(self) -> bool:
        return self.id is not None


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: Optional[str] = None

    def json(self) -> Any:
        return json.loads(self.data)


class CharterClient:
    """A node's API at `base_url` (e.g. `http://127.0.0.1:8000`)."""

    def __init__(self, base_url: str, timeout: float = 30.0, transport: Optional[httpx.BaseTransport] = None):
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._transport = transport
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def _renew_connections(self) -> None:
        """Drop pooled connections. A node that refuses a body before reading it (413) closes the
        connection afterwards; reusing it would fail the next request."""
        self._http.close()
        self._http = httpx.Client(base_url=self.base_url, timeout=self._timeout, transport=self._transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "CharterClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Optional[dict[str, Any]] = None,
                content: Optional[Union[bytes, Iterator[bytes]]] = None, headers: Optional[dict[str, str]] = None,
                timeout: Optional[float] = None) -> httpx.Response:
        """A raw request; no error mapping (for callers that want the response itself). A read
        (GET, HEAD) whose pooled connection the node had closed is sent again once."""
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            resp = self._http.request(method, path, params=params, content=content, headers=headers, **kwargs)
        except httpx.RemoteProtocolError:
            if method.upper() not in ("GET", "HEAD"):
                raise
            self._renew_connections()
            resp = self._http.request(method, path, params=params, content=content, headers=headers, **kwargs)
        if resp.status_code == 413:
            self._renew_connections()
        return resp

    def _get(self, path: str, params: Optional[dict[str, Any]] = None, timeout: Optional[float] = None) -> Any:
        resp = self.request("GET", path, params=params, timeout=timeout)
        raise_for_error(resp)
        return resp.json()

    @staticmethod
    def _read_params(proof: bool, height: Optional[int]) -> dict[str, Any]:
        p: dict[str, Any] = {}
        if proof:
            p["proof"] = "true"
        if height is not None:
            p["height"] = str(height)
        return p

    # -- node ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """`GET /v1/status`: cell, federation, params, height, state root, round, mode, validators.
        Unverified: use it for parameters and heights, never as proof."""
        out: dict[str, Any] = self._get("/v1/status")
        return out

    def openapi(self) -> dict[str, Any]:
        out: dict[str, Any] = self._get("/v1/openapi.json")
        return out

    def metrics(self) -> str:
        resp = self.request("GET", "/metrics")
        raise_for_error(resp)
        return resp.text

    def height(self) -> int:
        return int(self.status()["height"])

    def wait_for_height(self, height: int, timeout: float = 60.0) -> int:
        """Follow the block stream until the node has committed `height`; bounded by `timeout`."""
        current = self.height()
        if current >= height:
            return current
        deadline = time.monotonic() + timeout
        try:
            for ev in self.stream_blocks(timeout=timeout):
                h = int(ev["height"])
                if h >= height:
                    return h
                if time.monotonic() > deadline:
                    break
        except httpx.TimeoutException:
            pass
        current = self.height()
        if current >= height:
            return current
        raise WaitTimeout(f"height {height} not reached within {timeout}s (at {current})")

    # -- transactions ----------------------------------------------------------------------

    def submit(self, tx: TxLike) -> bytes:
        """`POST /v1/transactions`; returns the id the node admitted (202). Raises `ApiError`."""
        resp = self.request("POST", "/v1/transactions", content=_tx_bytes(tx),
                            headers={"Content-Type": "application/octet-stream"})
        raise_for_error(resp)
        tid = from_hex(resp.json()["id"], 32, "id")
        if isinstance(tx, SignedTransaction) and tid != tx.id:
            raise ApiError("id_mismatch", f"node admitted {tid.hex()}, the transaction's id is {tx.id.hex()}", resp.status_code)
        return tid

    def submit_batch(self, txs: Sequence[TxLike]) -> list[BatchResult]:
        """`POST /v1/transactions/batch`: up to 1,024 transactions (4 MiB) admitted in order; one
        result per transaction. A malformed envelope raises `ApiError` (`bad_batch`)."""
        body = encode_bytes_vec_list([_tx_bytes(t) for t in txs])
        resp = self.request("POST", "/v1/transactions/batch", content=body,
                            headers={"Content-Type": "application/octet-stream"})
        raise_for_error(resp)
        results = resp.json()["results"]
        out: list[BatchResult] = []
        for r in results:
            if "id" in r:
                out.append(BatchResult(from_hex(r["id"], 32, "id")))
            else:
                out.append(BatchResult(None, str(r.get("error")), str(r.get("message", ""))))
        return out

    def transaction(self, tx_id: IdLike, wait: Optional[int] = None, proof: bool = False) -> dict[str, Any]:
        """`GET /v1/transactions/{id}`: committed, rejected, pending or dropped. `wait` (≤ 60 s)
        makes the node hold the answer until the transaction is decided."""
        params: dict[str, Any] = {}
        timeout = None
        if wait is not None:
            params["wait"] = str(wait)
            timeout = float(wait) + 15.0
        if proof:
            params["proof"] = "true"
        out: dict[str, Any] = self._get(f"/v1/transactions/{_hex_id(tx_id)}", params, timeout=timeout)
        return out

    def follow(self, tx_id: IdLike, timeout: float = 60.0, proof: bool = False) -> dict[str, Any]:
        """Wait (with the `wait` parameter, bounded by `timeout`) until the transaction is
        committed, rejected or dropped; return its record."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            wait = max(1, min(MAX_WAIT_SECONDS, int(remaining)))
            rec = self.transaction(tx_id, wait=wait, proof=proof)
            if rec["status"] in FINAL_STATUSES:
                return rec
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"transaction {_hex_id(tx_id)} still {rec['status']} after {timeout}s")

    def follow_committed(self, tx_id: IdLike, timeout: float = 60.0, proof: bool = False) -> dict[str, Any]:
        """`follow`, raising `TransactionFailed` unless the transaction committed."""
        rec = self.follow(tx_id, timeout, proof)
        if rec["status"] != "committed":
            reason = rec.get("reason") or {}
            raise TransactionFailed(rec["status"], str(reason.get("code")), str(reason.get("message")), rec)
        return rec

    def submit_and_follow(self, tx: SignedTransaction, timeout: float = 60.0, proof: bool = False) -> dict[str, Any]:
        tid = self.submit(tx)
        return self.follow(tid, timeout, proof)

    # -- blocks ----------------------------------------------------------------------------

    def block(self, height: Union[int, str]) -> dict[str, Any]:
        """`GET /v1/blocks/{height}` (or `latest`): header, certificate, transactions with outcomes."""
        out: dict[str, Any] = self._get(f"/v1/blocks/{height}")
        return out

    def latest_block(self) -> dict[str, Any]:
        return self.block("latest")

    def stream_events(self, timeout: Optional[float] = None) -> Iterator[SseEvent]:
        """`GET /v1/blocks/stream`: the server-sent events, parsed (`event`, `data`, `id`)."""
        t = httpx.Timeout(10.0, read=timeout if timeout is not None else 30.0)
        with self._http.stream("GET", "/v1/blocks/stream", timeout=t, headers={"Accept": "text/event-stream"}) as resp:
            if resp.status_code >= 400:
                resp.read()
                raise_for_error(resp)
            event: str = "message"
            data: list[str] = []
            eid: Optional[str] = None
            for line in resp.iter_lines():
                if line == "":
                    if data:
                        yield SseEvent(event, "\n".join(data), eid)
                    event, data, eid = "message", [], None
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    eid = value

    def stream_blocks(self, timeout: Optional[float] = None) -> Iterator[dict[str, Any]]:
        """The `block` events' data: `{height, hash, round, state_root, transactions, rejected}`."""
        for ev in self.stream_events(timeout):
            if ev.event == "block":
                obj: dict[str, Any] = ev.json()
                yield obj

    # -- state -----------------------------------------------------------------------------

    def passport(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        out: dict[str, Any] = self._get(f"/v1/passports/{_hex_id(pid)}", self._read_params(proof, height))
        return out

    def bond(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        out: dict[str, Any] = self._get(f"/v1/bonds/{_hex_id(pid)}", self._read_params(proof, height))
        return out

    def escrow(self, eid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        out: dict[str, Any] = self._get(f"/v1/escrows/{_hex_id(eid)}", self._read_params(proof, height))
        return out

    def validator(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        out: dict[str, Any] = self._get(f"/v1/validators/{_hex_id(pid)}", self._read_params(proof, height))
        return out

    def validators(self, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        out: dict[str, Any] = self._get("/v1/validators", self._read_params(proof, height))
        return out

    def bridge_ruling(self, cell: int, epoch: int, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        out: dict[str, Any] = self._get(f"/v1/bridges/{cell}/rulings/{epoch}", self._read_params(proof, height))
        return out

    # -- governance (docs/governance.md; node/openapi.json, /v1/governance/...) -------------

    def governance_rules(self, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/rules`: the chamber rules and guardians in force (`GovernanceRules`)."""
        out: dict[str, Any] = self._get("/v1/governance/rules", self._read_params(proof, height))
        return out

    def electorate(self, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/electorate`: active passports and their bonded stake per tier."""
        out: dict[str, Any] = self._get("/v1/governance/electorate", self._read_params(proof, height))
        return out

    def processes(self, before: Optional[int] = None, limit: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/processes`: a page `{height, count, processes, next}`, newest first;
        pass `next` as `before` for the following page (unverified: read one with `process`)."""
        params: dict[str, Any] = {}
        if before is not None:
            params["before"] = str(before)
        if limit is not None:
            params["limit"] = str(limit)
        out: dict[str, Any] = self._get("/v1/governance/processes", params)
        return out

    def process(self, process_id: int, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/processes/{id}`: a `Process` (`value` null when there is none)."""
        out: dict[str, Any] = self._get(f"/v1/governance/processes/{int(process_id)}", self._read_params(proof, height))
        return out

    def ballots(self, process_id: int, after: Optional[IdLike] = None, limit: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/processes/{id}/ballots`: a page `{height, process, voters, ballots,
        next}` in voter-id order; pass `next` as `after` for the following page."""
        params: dict[str, Any] = {}
        if after is not None:
            params["after"] = _hex_id(after)
        if limit is not None:
            params["limit"] = str(limit)
        out: dict[str, Any] = self._get(f"/v1/governance/processes/{int(process_id)}/ballots", params)
        return out

    def ballot(self, process_id: int, voter: IdLike, proof: bool = False,
               height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/processes/{id}/ballots/{passport}`: one voter's `Ballot`, or null."""
        out: dict[str, Any] = self._get(f"/v1/governance/processes/{int(process_id)}/ballots/{_hex_id(voter)}",
                                        self._read_params(proof, height))
        return out

    def delegation(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/delegations/{passport}`: its `Delegation`, or null."""
        out: dict[str, Any] = self._get(f"/v1/governance/delegations/{_hex_id(pid)}", self._read_params(proof, height))
        return out

    def delegators(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/delegators/{passport}`: the sorted ids delegating to it, or null."""
        out: dict[str, Any] = self._get(f"/v1/governance/delegators/{_hex_id(pid)}", self._read_params(proof, height))
        return out

    # -- juries (the beacon, the pool, jurors, cases, slash cases; /v1/governance/...) -------

    def beacon(self, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/beacon`: the cell's `Beacon` `{height, mix}` after that block."""
        out: dict[str, Any] = self._get("/v1/governance/beacon", self._read_params(proof, height))
        return out

    def jury_pool(self, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/jury-pool`: the sorted ids in the jury pool (null before anyone joined)."""
        out: dict[str, Any] = self._get("/v1/governance/jury-pool", self._read_params(proof, height))
        return out

    def juror(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/jurors/{passport}`: its `Juror` standing, or null."""
        out: dict[str, Any] = self._get(f"/v1/governance/jurors/{_hex_id(pid)}", self._read_params(proof, height))
        return out

    def slash_cases(self, pid: IdLike, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/slash-cases/{passport}`: the sorted ids of the slash cases open
        before juries against it (while there are any it can neither withdraw stake nor exit),
        or null when there are none."""
        out: dict[str, Any] = self._get(f"/v1/governance/slash-cases/{_hex_id(pid)}",
                                        self._read_params(proof, height))
        return out

    def cases(self, before: Optional[int] = None, limit: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/cases`: a page `{height, count, cases, next}` of jury cases, newest
        first; pass `next` as `before` for the following page (unverified: read one with `case`)."""
        params: dict[str, Any] = {}
        if before is not None:
            params["before"] = str(before)
        if limit is not None:
            params["limit"] = str(limit)
        out: dict[str, Any] = self._get("/v1/governance/cases", params)
        return out

    def case(self, case_id: int, proof: bool = False, height: Optional[int] = None) -> dict[str, Any]:
        """`GET /v1/governance/cases/{id}`: a `JuryCase` (`value` null when there is none)."""
        out: dict[str, Any] = self._get(f"/v1/governance/cases/{int(case_id)}", self._read_params(proof, height))
        return out

    def wait_for_process(self, process_id: int, statuses: Iterable[str], timeout: float = 120.0) -> dict[str, Any]:
        """Follow the block stream, reading the process after each block, until its status is one
        of `statuses` (`"open"`, `"executed"`, …); return the process. Bounded by `timeout`
        (`WaitTimeout`). Tallies and executions happen at the end of blocks, so each block is
        the moment to look."""
        want = set(statuses)
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            last = self.process(process_id)["value"]
            if last is not None and last["status"] in want:
                out: dict[str, Any] = last
                return out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                for _ in self.stream_blocks(timeout=remaining):
                    last = self.process(process_id)["value"]
                    if last is not None and last["status"] in want:
                        out = last
                        return out
                    if time.monotonic() >= deadline:
                        break
            except (httpx.TimeoutException, httpx.RemoteProtocolError):
                pass  # re-read, then resume (or give up at the deadline)
        status = None if last is None else last["status"]
        raise WaitTimeout(f"process {process_id} still {status} after {timeout}s, not one of {sorted(want)}")

    # -- federation ------------------------------------------------------------------------

    def federation(self) -> dict[str, Any]:
        """`GET /v1/federation`: k, each cell's validator set (the one its next final checkpoint
        must name) and latest final checkpoint, bridges, equivocation proofs."""
        out: dict[str, Any] = self._get("/v1/federation")
        return out

    def validator_set(self, cell: int, hash_: bytes) -> dict[str, Any]:
        """`GET /v1/validator-sets/{cell}/{hash}`: `{cell, hash, validators, encoded}`, a set the
        cell has held at that node, by the hash checkpoints and signer entries name it with;
        `ApiError` `unknown_validator_set` when it has not."""
        out: dict[str, Any] = self._get(f"/v1/validator-sets/{cell}/{hash_.hex()}")
        return out

    def checkpoint(self, cell: int, epoch: Union[int, str] = "latest") -> dict[str, Any]:
        """`GET /v1/checkpoints/{cell}/{epoch}`: `{final, certificate, encoded}`; `ApiError`
        `not_final` (with `progress`) until it is final."""
        out: dict[str, Any] = self._get(f"/v1/checkpoints/{cell}/{epoch}")
        return out
