"""Fixtures: a live single-cell localnet for the session, and a three-cell federation for the
checkpoint tests only. Both are started once per scope and stopped (SIGINT, then the process
group killed if need be) on teardown."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from _localnet import Cell, LocalnetProcess, charter_bin, make_cell
from charter_client import ApiError, CharterClient, certificate_from_api

START_TIMEOUT = 90.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the federation tests first: their localnet is then stopped before the single cell
    starts, so the two never share this machine's cores."""
    items.sort(key=lambda it: 0 if it.get_closest_marker("federation") else 1)


@pytest.fixture(scope="session")
def charter() -> str:
    problem = None
    try:
        return charter_bin()
    except RuntimeError as e:
        problem = str(e)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def localnet(charter: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    directory = tmp_path_factory.mktemp("localnet") / "cell"
    net = LocalnetProcess(directory, ["--agents-batch", "0", "--report-every", "1000"])
    try:
        layout = net.wait_layout(START_TIMEOUT)
        net.wait_committed([n["api"] for n in layout["nodes"]], 1, START_TIMEOUT)
        cell = make_cell(directory, layout)
        yield cell
        cell.client.close()
        cell.other.close()
    finally:
        net.stop()


@pytest.fixture(scope="session")
def cell(localnet: Cell) -> Cell:
    return localnet


class Federation:
    def __init__(self, directory: Any, layout: dict[str, Any]):
        self.dir = directory
        self.layout = layout
        self.apis = {int(n["cell"]): n["api"] for n in reversed(layout["nodes"])}
        self.client = CharterClient(self.apis[0])
        with open(directory / "federation.json") as f:
            self.genesis: dict[str, Any] = json.load(f)


@pytest.fixture(scope="module")
def federation(charter: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    directory = tmp_path_factory.mktemp("federation") / "fed"
    net = LocalnetProcess(directory, ["--cells", "3", "--agents-batch", "0", "--report-every", "1000"])
    try:
        layout = net.wait_layout(START_TIMEOUT)
        fed = Federation(directory, layout)
        net.wait_committed(list(fed.apis.values()), 1, START_TIMEOUT)
        # Wait (bounded) until every cell has a final checkpoint certificate at node 0.
        deadline_heights = 60
        for c in sorted(fed.apis):
            _wait_final(fed.client, c, deadline_heights)
        yield fed
        fed.client.close()
    finally:
        net.stop()


def _wait_final(client: CharterClient, cell: int, max_heights: int) -> None:
    """Follow node 0's block stream until `cell` has a final checkpoint; bounded in heights."""
    start = client.height()

    def final() -> bool:
        try:
            certificate_from_api(client.checkpoint(cell, "latest"))
            return True
        except ApiError as e:
            if e.code == "not_final":
                return False
            raise

    if final():
        return
    for ev in client.stream_blocks(timeout=30):
        if final():
            return
        if int(ev["height"]) > start + max_heights:
            break
    if not final():
        raise RuntimeError(f"cell {cell} has no final checkpoint after {max_heights} heights")
