"""Ed25519 keys (signing, Charter's strict verification) and the JSON key files `charter keygen`,
`charter dev-genesis` and `charter localnet` write.

A key file is a JSON object (docs/genesis-and-keys.md §2)::

    {"passport": "<64 hex>",                  # the passport id this key controls (may be absent
                                              #  in a fresh `keygen` file until genesis assigns it)
     "controller_seed": "<64 hex>",           # Ed25519 secret seed (RFC 8032)
     "controller_public_key": "<64 hex>",
     "validator": {                           # only for validators
        "consensus_seed": "<64 hex>", "consensus_public_key": "<64 hex>",
        "bls_secret_key": "<64 hex, big-endian scalar>", "bls_public_key": "<96 hex>",
        "bls_proof_of_possession": "<192 hex>"}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import _edwards
from .encoding import from_hex
from .errors import EncodingError


#: The order of BLS12-381's prime-order subgroup: a BLS secret key is in 1 … r − 1.
BLS_R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


class SigningKey:
    """An Ed25519 key pair from its 32-byte secret seed."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise EncodingError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.public_key: bytes = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(os.urandom(32))

    @classmethod
    def from_hex(cls, seed_hex: str) -> "SigningKey":
        return cls(from_hex(seed_hex, 32, "seed"))

    @property
    def seed(self) -> bytes:
        return self._seed

    def sign(self, message: bytes) -> bytes:
        """Pure Ed25519 (RFC 8032, deterministic)."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(public_key={self.public_key.hex()})"


def verify_strict(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Charter's Ed25519 rule (ed25519-dalek 2 `verify_strict`, docs/proofs.md §4.2): canonical `s`,
    `A` and `R` not of small order, and the cofactorless equation."""
    if _edwards.check_signature_shape(public_key, signature) is not None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_controller_key(key: bytes) -> Optional[str]:
    """None when `key` is acceptable as a controller or consensus key (canonical encoding of an
    ed25519 point of large order, docs/wire-format.md §4); else why not."""
    return _edwards.check_key(key)


@dataclass(frozen=True)
class ValidatorKeys:
    consensus: SigningKey
    bls_secret_key: int
    bls_public_key: bytes
    bls_proof_of_possession: bytes


@dataclass(frozen=True)
class KeyFile:
    """A passport's key file."""

    passport: Optional[bytes]
    controller: SigningKey
    validator: Optional[ValidatorKeys] = None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "KeyFile":
        try:
            controller = SigningKey.from_hex(obj["controller_seed"])
            if "controller_public_key" in obj:
                if from_hex(obj["controller_public_key"], 32, "controller_public_key") != controller.public_key:
                    raise EncodingError("controller_public_key does not match controller_seed")
            passport = from_hex(obj["passport"], 32, "passport") if obj.get("passport") else None
            validator: Optional[ValidatorKeys] = None
            v = obj.get("validator")
            if v is not None:
                consensus = SigningKey.from_hex(v["consensus_seed"])
                if "consensus_public_key" in v and from_hex(v["consensus_public_key"], 32) != consensus.public_key:
                    raise EncodingError("consensus_public_key does not match consensus_seed")
                bls_sk = int.from_bytes(from_hex(v["bls_secret_key"], 32, "bls_secret_key"), "big")
                if not 0 < bls_sk < BLS_R:
                    raise EncodingError("the BLS secret key is not a valid scalar (0 < SK < r)")
                validator = ValidatorKeys(
                    consensus=consensus,
                    bls_secret_key=bls_sk,
                    bls_public_key=from_hex(v["bls_public_key"], 48, "bls_public_key"),
                    bls_proof_of_possession=from_hex(v["bls_proof_of_possession"], 96, "bls_proof_of_possession"),
                )
        except KeyError as e:
            raise EncodingError(f"key file lacks {e.args[0]!r}") from e
        return cls(passport=passport, controller=controller, validator=validator)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "KeyFile":
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
        if not isinstance(obj, dict):
            raise EncodingError(f"{path}: a key file is a JSON object")
        return cls.from_json(obj)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.passport is not None:
            out["passport"] = self.passport.hex()
        out["controller_seed"] = self.controller.seed.hex()
        out["controller_public_key"] = self.controller.public_key.hex()
        if self.validator is not None:
            v = self.validator
            out["validator"] = {
                "consensus_seed": v.consensus.seed.hex(),
                "consensus_public_key": v.consensus.public_key.hex(),
                "bls_secret_key": v.bls_secret_key.to_bytes(32, "big").hex(),
                "bls_public_key": v.bls_public_key.hex(),
                "bls_proof_of_possession": v.bls_proof_of_possession.hex(),
            }
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the file readable by its owner only (it holds secrets)."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=2)
        os.replace(tmp, p)


def _load_numbered(directory: str | os.PathLike[str], prefix: str) -> dict[int, KeyFile]:
    out: dict[int, KeyFile] = {}
    for entry in Path(directory).iterdir():
        name = entry.name
        if name.startswith(prefix) and name.endswith(".json"):
            try:
                n = int(name[len(prefix) : -len(".json")])
            except ValueError:
                continue
            out[n] = KeyFile.load(entry)
    return out


def load_key_dir(directory: str | os.PathLike[str]) -> dict[int, KeyFile]:
    """Every `passport-N.json` under `directory` (a localnet's or dev-genesis's `keys/`), by N."""
    return _load_numbered(directory, "passport-")


def load_guardian_keys(directory: str | os.PathLike[str]) -> dict[int, SigningKey]:
    """Every `guardian-N.json` under `directory`, by N: the dev guardians' keys (docs/governance.md
    §2.7), written by `charter dev-genesis` and `charter localnet` in the key-file format with no
    passport; `controller_seed` is the guardian's Ed25519 seed."""
    return {n: kf.controller for n, kf in _load_numbered(directory, "guardian-").items()}
