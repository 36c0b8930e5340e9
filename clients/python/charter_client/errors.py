"""Typed exceptions raised by the SDK."""

from __future__ import annotations

from typing import Any


class CharterError(Exception):
    """Base class of every error this package raises on purpose."""


class EncodingError(CharterError):
    """Bytes or values that are not a canonical Borsh encoding of the expected type
    (truncated, trailing bytes, unknown variant, bad option tag, out-of-range value)."""


class ProofError(CharterError):
    """A hash, signature, certificate or proof did not verify. Never ignore it: the node
    served something that the SDK could not tie to what the validators certified."""


class ApiError(CharterError):
    """The node answered with an error: `{"error": code, "message": text}` and a 4xx/5xx status.

    `code` is the stable machine-readable code (docs/errors.md); `message` is for people;
    `status` is the HTTP status; `body` is the whole decoded JSON body (some errors carry extra
    fields: `progress` with `not_final`, `equivocations` with `quarantined`)."""

    def __init__(self, code: str, message: str, status: int, body: dict[str, Any] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.body: dict[str, Any] = body if body is not None else {}


class TransactionFailed(CharterError):
    """A followed transaction ended `rejected` (in a block) or `dropped` (from a mempool)."""

    def __init__(self, status: str, code: str, message: str, record: dict[str, Any]):
        super().__init__(f"transaction {status}: {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.record = record


class WaitTimeout(CharterError):
    """A bounded wait (for a transaction, a height or a checkpoint) ran out."""
