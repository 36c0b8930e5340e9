"""BLS12-381 as Charter uses it: IETF BLS signatures, minimal-pubkey-size (48-byte G1 keys,
96-byte G2 signatures), ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, proofs of
possession under `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (docs/wire-format.md §5,
docs/checkpoints.md). A thin typed layer over py_ecc's `G2ProofOfPossession`."""

from __future__ import annotations

import os
from typing import Sequence

from eth_typing import BLSPubkey, BLSSignature
from py_ecc.bls.ciphersuites import G2ProofOfPossession as _bls
from py_ecc.optimized_bls12_381.optimized_curve import curve_order

from .errors import EncodingError

SIGNATURE_DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"


def generate_secret_key() -> int:
    """A uniformly random non-zero scalar."""
    while True:
        sk = int.from_bytes(os.urandom(48), "big") % curve_order
        if sk != 0:
            return sk


def public_key(secret_key: int) -> bytes:
    return bytes(_bls.SkToPk(secret_key))


def sign(secret_key: int, message: bytes) -> bytes:
    return bytes(_bls.Sign(secret_key, message))


def prove_possession(secret_key: int) -> bytes:
    return bytes(_bls.PopProve(secret_key))


def verify(pk: bytes, message: bytes, signature: bytes) -> bool:
    try:
        return bool(_bls.Verify(BLSPubkey(pk), message, BLSSignature(signature)))
    except Exception:  # py_ecc raises on malformed points
        return False


def verify_possession(pk: bytes, proof: bytes) -> bool:
    try:
        return bool(_bls.PopVerify(BLSPubkey(pk), BLSSignature(proof)))
    except Exception:
        return False


def key_validate(pk: bytes) -> bool:
    """KeyValidate: canonical, on the curve, in the prime-order subgroup, not the identity."""
    try:
        return bool(_bls.KeyValidate(BLSPubkey(pk)))
    except Exception:
        return False


def aggregate(signatures: Sequence[bytes]) -> bytes:
    return bytes(_bls.Aggregate([BLSSignature(s) for s in signatures]))


def fast_aggregate_verify(keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    """FastAggregateVerify (keys must already have passed `key_validate`)."""
    if not keys:
        return False
    try:
        return bool(_bls.FastAggregateVerify([BLSPubkey(k) for k in keys], message, BLSSignature(signature)))
    except Exception:
        return False


def check_public_key(pk: bytes) -> bytes:
    if len(pk) != 48:
        raise EncodingError("a BLS public key is 48 bytes")
    return pk
