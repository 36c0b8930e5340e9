"""The signed transaction (docs/wire-format.md §3): body, signing bytes, signature and id."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .actions import Action, action_from_json, decode_action
from .encoding import MAX_TRANSACTION_BYTES, Reader, Writer, decode_all, from_hex
from .errors import EncodingError
from .ids import hash32
from . import _edwards
from .keys import SigningKey

TX_DOMAIN = b"CHARTER_TX_V1"


@dataclass(frozen=True)
class TransactionBody:
    federation: bytes
    cell: int
    sender: bytes
    nonce: int
    fee: int
    action: Action

    def encode_into(self, w: Writer) -> None:
        w.fixed(self.federation, 32).u32(self.cell).fixed(self.sender, 32).u64(self.nonce).u64(self.fee)
        self.action.encode_into(w)

    def encode(self) -> bytes:
        w = Writer()
        self.encode_into(w)
        return w.getvalue()

    def signing_bytes(self) -> bytes:
        """`"CHARTER_TX_V1" ‖ encode(body)`: what the signer signs."""
        return TX_DOMAIN + self.encode()

    def sign(self, key: SigningKey) -> "SignedTransaction":
        return SignedTransaction(self, key.public_key, key.sign(self.signing_bytes()))

    def with_nonce(self, nonce: int) -> "TransactionBody":
        return replace(self, nonce=nonce)

    @classmethod
    def decode(cls, r: Reader) -> "TransactionBody":
        return cls(r.fixed(32), r.u32(), r.fixed(32), r.u64(), r.u64(), decode_action(r))

    def to_json(self) -> dict[str, Any]:
        return {"federation": self.federation.hex(), "cell": self.cell, "sender": self.sender.hex(),
                "nonce": self.nonce, "fee": self.fee, "action": self.action.to_json()}

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "TransactionBody":
        try:
            return cls(from_hex(o["federation"], 32, "federation"), int(o["cell"]), from_hex(o["sender"], 32, "sender"),
                       int(o["nonce"]), int(o["fee"]), action_from_json(o["action"]))
        except KeyError as e:
            raise EncodingError(f"transaction body: missing {e.args[0]!r}") from e


@dataclass(frozen=True)
class SignedTransaction:
    body: TransactionBody
    signer: bytes
    signature: bytes

    def encode(self) -> bytes:
        """`body ‖ signer[32] ‖ signature[64]`: what `POST /v1/transactions` takes."""
        w = Writer()
        self.body.encode_into(w)
        w.fixed(self.signer, 32).fixed(self.signature, 64)
        return w.getvalue()

    @property
    def id(self) -> bytes:
        """`TxId = blake3(encode(SignedTransaction))`."""
        return hash32(self.encode())

    def verify_signature(self) -> bool:
        """ZIP-215, the rule for transactions (docs/wire-format.md §3)."""
        return _edwards.verify_zip215(self.signer, self.body.signing_bytes(), self.signature)

    @classmethod
    def decode(cls, data: bytes) -> "SignedTransaction":
        """Strict decoding: at most 65,536 bytes, no trailing bytes, known variants only."""
        if len(data) > MAX_TRANSACTION_BYTES:
            raise EncodingError(f"a transaction is at most {MAX_TRANSACTION_BYTES} bytes")
        return decode_all(data, lambda r: cls(TransactionBody.decode(r), r.fixed(32), r.fixed(64)))

    def to_json(self) -> dict[str, Any]:
        return {"body": self.body.to_json(), "signer": self.signer.hex(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, o: dict[str, Any]) -> "SignedTransaction":
        """The API's JSON form (as in blocks and transaction records), re-encodable to its exact bytes."""
        try:
            return cls(TransactionBody.from_json(o["body"]), from_hex(o["signer"], 32, "signer"),
                       from_hex(o["signature"], 64, "signature"))
        except KeyError as e:
            raise EncodingError(f"transaction: missing {e.args[0]!r}") from e


def transaction_id(encoded: bytes) -> bytes:
    return hash32(encoded)
