"""Identifiers and their derivations (docs/wire-format.md §2; docs/actions.md, Slash)."""

from __future__ import annotations

import blake3

from .errors import EncodingError

PASSPORT_ID_DOMAIN = b"charter/passport-id/v1"
ESCROW_ID_DOMAIN = b"charter/escrow-id/v1"
DOUBLE_VOTE_DOMAIN = b"charter/double-vote/v1"

ZERO32 = bytes(32)


def _u32(v: int) -> bytes:
    if not 0 <= v < 1 << 32:
        raise EncodingError(f"u32 out of range: {v}")
    return v.to_bytes(4, "little")


def _u64(v: int) -> bytes:
    if not 0 <= v < 1 << 64:
        raise EncodingError(f"u64 out of range: {v}")
    return v.to_bytes(8, "little")


def _b32(b: bytes, what: str) -> bytes:
    if len(b) != 32:
        raise EncodingError(f"{what} must be 32 bytes")
    return b


def hash32(data: bytes) -> bytes:
    """blake3, default mode, 32-byte output: every hash Charter uses."""
    return blake3.blake3(data).digest()


def passport_id(cell: int, creator: bytes, nonce: int) -> bytes:
    """`PassportId::derive(cell, creator, nonce)`: the id of a passport created by `IssuePassport` or
    `ForkPassport` sent by `creator` with `nonce`."""
    return hash32(PASSPORT_ID_DOMAIN + _u32(cell) + _b32(creator, "creator") + _u64(nonce))


def genesis_passport_id(cell: int, index: int) -> bytes:
    """`PassportId::genesis(cell, i)`: the i-th passport of a genesis file (from 0)."""
    return passport_id(cell, ZERO32, index)


def escrow_id(cell: int, payer: bytes, nonce: int) -> bytes:
    """`EscrowId::derive(cell, payer, nonce)`: the escrow an `EscrowCreate` of `payer` at `nonce` makes."""
    return hash32(ESCROW_ID_DOMAIN + _u32(cell) + _b32(payer, "payer") + _u64(nonce))


def double_vote_offence_id(validator_key: bytes, height: int, round: int, vote_type: int) -> bytes:
    """The id of one key's equivocation at one height, round and step (`SpentEvidence` key)."""
    if vote_type not in (0, 1):
        raise EncodingError("vote_type is 0 (Prevote) or 1 (Precommit)")
    return hash32(DOUBLE_VOTE_DOMAIN + _b32(validator_key, "validator key") + _u64(height) + _u32(round) + bytes([vote_type]))
