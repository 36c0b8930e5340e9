"""Starting and stopping `charter localnet` for the tests, and helpers to act on a cell."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import httpx

from charter_client import (
    ApiError, CharterClient, Genesis, KeyFile, SignedTransaction, SigningKey, TransactionBody, Verifier,
    load_guardian_keys, load_key_dir,
)
from charter_client.actions import Action


def charter_bin() -> str:
    path = os.environ.get("CHARTER_BIN")
    if not path:
        raise RuntimeError(
            "CHARTER_BIN is not set: point it at a built `charter` binary, e.g. "
            "CHARTER_BIN=/tmp/sdk-bin/charter pytest clients/python/tests")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"CHARTER_BIN={path} is not an executable file")
    return path


class LocalnetProcess:
    """`charter localnet` in its own process group; `stop()` sends SIGINT, waits, then kills the
    group and any validator listed in localnet.json that is still alive."""

    def __init__(self, directory: Path, args: list[str]):
        self.dir = directory
        self.log_path = directory.parent / (directory.name + ".out")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([charter_bin(), "localnet", "--dir", str(directory), *args],
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.layout: dict[str, Any] = {}

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def wait_layout(self, timeout: float) -> dict[str, Any]:
        path = self.dir / "localnet.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"localnet exited with {self.proc.returncode}:\n{self.log_tail()}")
            if path.exists():
                try:
                    self.layout = json.loads(path.read_text())
                    return self.layout
                except json.JSONDecodeError:
                    pass  # being written
            time.sleep(0.2)
        raise RuntimeError(f"no localnet.json after {timeout}s:\n{self.log_tail()}")

    def wait_committed(self, apis: list[str], height: int, timeout: float) -> None:
        """Poll `GET /v1/status` of every API until each has committed `height`."""
        deadline = time.monotonic() + timeout
        pending = set(apis)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"localnet exited with {self.proc.returncode}:\n{self.log_tail()}")
            for api in list(pending):
                try:
                    r = httpx.get(api + "/v1/status", timeout=2.0)
                    if r.status_code == 200 and int(r.json()["height"]) >= height:
                        pending.discard(api)
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
            if pending:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{sorted(pending)} did not commit height {height} within {timeout}s:\n{self.log_tail()}")
                time.sleep(0.25)

    def stop(self) -> None:
        pids = [int(n["pid"]) for n in self.layout.get("nodes", []) if "pid" in n]
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything left in the group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        for pid in pids:  # validators we started through localnet, should any have left the group
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._log.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Cell:
    """A running cell as the tests see it."""

    dir: Path
    apis: list[str]
    client: CharterClient
    other: CharterClient
    genesis: Genesis
    keys: dict[int, KeyFile]
    verifier: Verifier
    params: dict[str, Any] = field(default_factory=dict)
    #: The dev guardians' keys (`keys/guardian-N.json`, docs/governance.md §2.7), by N.
    guardians: dict[int, SigningKey] = field(default_factory=dict)

    @property
    def federation(self) -> bytes:
        return self.genesis.federation

    @property
    def cell(self) -> int:
        return self.genesis.cell

    def pid(self, index: int) -> bytes:
        kf = self.keys[index]
        assert kf.passport is not None
        return kf.passport

    def nonce(self, passport: bytes) -> int:
        return int(self.client.passport(passport)["value"]["nonce"])

    def build(self, sender: KeyFile, action: Action, nonce: Optional[int] = None, fee: int = 0,
              passport: Optional[bytes] = None) -> SignedTransaction:
        pid = passport if passport is not None else sender.passport
        assert pid is not None
        n = self.nonce(pid) if nonce is None else nonce
        return TransactionBody(self.federation, self.cell, pid, n, fee, action).sign(sender.controller)

    def commit(self, sender: KeyFile, action: Action, passport: Optional[bytes] = None) -> dict[str, Any]:
        """Sign with the sender's current nonce, submit, follow; require `committed`."""
        tx = self.build(sender, action, passport=passport)
        tid = self.client.submit(tx)
        rec = self.client.follow(tid, timeout=60)
        assert rec["status"] == "committed", rec
        return rec

    def refused(self, sender: KeyFile, action: Action, code: str, passport: Optional[bytes] = None) -> ApiError:
        """Submit; require the documented admission refusal (400 with the ledger rule's code)."""
        tx = self.build(sender, action, passport=passport)
        try:
            tid = self.client.submit(tx)
        except ApiError as e:
            assert (e.status, e.code) == (400, code), f"expected 400 {code}, got {e.status} {e.code}: {e.message}"
            return e
        rec = self.client.follow(tid, timeout=60)
        raise AssertionError(f"expected admission to refuse with {code}; it was admitted and ended {rec}")


def make_cell(directory: Path, layout: dict[str, Any], cell: int = 0) -> Cell:
    nodes = [n for n in layout["nodes"] if int(n.get("cell", 0)) == cell]
    apis = [n["api"] for n in nodes]
    base = directory if (directory / "genesis.json").exists() else directory / f"cell-{cell}"
    genesis = Genesis.load(base / "genesis.json")
    client = CharterClient(apis[0])
    other = CharterClient(apis[1 % len(apis)])
    keys = load_key_dir(base / "keys")
    return Cell(directory, apis, client, other, genesis, keys, Verifier.from_genesis(client, genesis),
                client.status()["params"], load_guardian_keys(base / "keys"))
