"""docs/genesis-and-keys.md: its worked example (key file, passport ids, federation genesis and set
hashes, parsed from the document), and the localnet's key files and genesis against the
derivations it documents."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import blake3
import pytest

from _localnet import Cell
from charter_client import FederationVerifier, KeyFile, genesis_passport_id, validator_set_hash
from charter_client import bls
from charter_client.checkpoints import validator_set_from_json

DOC = Path(__file__).resolve().parents[3] / "docs" / "genesis-and-keys.md"


def _doc() -> str:
    if not DOC.exists():
        pytest.skip("docs/genesis-and-keys.md does not exist yet")
    return DOC.read_text()


def _json_after(text: str, marker: str) -> Any:
    """The JSON object printed right after a console line such as `$ cat alice.key.json`."""
    start = text.index(marker) + len(marker)
    brace = text.index("{", start)
    depth = 0
    for i in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return json.loads(text[brace:i + 1])
    raise AssertionError(f"no JSON after {marker!r}")


def test_worked_example_key_file_reproduces_its_public_keys() -> None:
    text = _doc()
    alice = _json_after(text, "$ cat alice.key.json")
    kf = KeyFile.from_json(alice)  # checks controller and consensus public keys against their seeds
    assert kf.passport is None  # keygen cannot know the id
    assert kf.controller.public_key.hex() == alice["controller_public_key"]
    v = kf.validator
    assert v is not None
    assert bls.public_key(v.bls_secret_key) == v.bls_public_key
    assert bls.prove_possession(v.bls_secret_key) == v.bls_proof_of_possession
    assert bls.verify_possession(v.bls_public_key, v.bls_proof_of_possession)


def test_worked_example_passport_ids_and_set_hashes() -> None:
    text = _doc()
    printed = dict((path, pid) for pid, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M))
    assert printed, "the example prints passport ids"
    assert genesis_passport_id(1, 0).hex() == printed["alice.public.json"]
    assert genesis_passport_id(1, 1).hex() == printed["bob.public.json"]
    assert genesis_passport_id(2, 0).hex() == printed["carol.public.json"]
    fed = _json_after(text, "$ cat federation.json")
    sets = {int(c): validator_set_from_json(v) for c, v in fed["cells"].items()}
    m = re.search(r"`= ([0-9a-f]{64})`; cell 2's is\s+`([0-9a-f]{64})`", text)
    assert m, "the example states both set hashes"
    assert validator_set_hash(sets[1]).hex() == m.group(1)
    assert validator_set_hash(sets[2]).hex() == m.group(2)
    verifier = FederationVerifier.from_federation_genesis(fed)  # validates every BLS key
    assert verifier.head_hash(1).hex() == m.group(1)


def derive_seed(seed: int, purpose: bytes, index: int) -> bytes:
    """docs/genesis-and-keys.md §6.1."""
    return blake3.blake3(b"charter/devnet/v1" + seed.to_bytes(8, "little") + purpose + index.to_bytes(8, "little")).digest()


def test_localnet_keys_and_genesis_follow_the_documented_derivation(cell: Cell) -> None:
    from py_ecc.bls import G2ProofOfPossession
    g = json.loads((cell.dir / "genesis.json").read_text())
    assert bytes.fromhex(g["federation"]) == derive_seed(1, b"federation", 0)
    assert len(cell.keys) == len(g["passports"]) == 4 + 3 + 16
    validators = {v["passport"]: v for v in g["validators"]}
    for i, kf in cell.keys.items():
        assert kf.passport == genesis_passport_id(cell.cell, i)
        assert kf.controller.seed == derive_seed(1, b"controller", i)
        assert g["passports"][i]["controller_keys"] == [kf.controller.public_key.hex()]
        if i < 4:
            v = kf.validator
            assert v is not None
            assert v.consensus.seed == derive_seed(1, b"consensus", i)
            assert v.bls_secret_key == G2ProofOfPossession.KeyGen(derive_seed(1, b"bls", i))
            entry = validators[kf.passport.hex()]
            assert (entry["consensus_key"], entry["bls_key"]) == (v.consensus.public_key.hex(), v.bls_public_key.hex())
        else:
            assert kf.validator is None
    assert g["arbiters"] == {"members": [cell.pid(i).hex() for i in (4, 5, 6)], "threshold": 2}
