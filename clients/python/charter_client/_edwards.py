"""Just enough edwards25519 arithmetic (RFC 8032 §5.1) to apply Charter's rules that a generic
Ed25519 library does not: a key or `R` must decompress, be canonical (compress back to the same
bytes) and not be of small order (docs/wire-format.md §4, docs/proofs.md §4.2); and a
transaction's signature is checked by ZIP-215's cofactored equation (docs/wire-format.md §3)."""

from __future__ import annotations

import hashlib

from typing import Optional

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
IDENTITY: Point = (0, 1, 1, 0)


def _add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _neg(p: Point) -> Point:
    x, y, z, t = p
    return ((P - x) % P, y, z, (P - t) % P)


def _mul(k: int, p: Point) -> Point:
    result = IDENTITY
    while k:
        if k & 1:
            result = _add(result, p)
        p = _add(p, p)
        k >>= 1
    return result


def _is_identity(p: Point) -> bool:
    x, y, z, _ = p
    return x % P == 0 and (y - z) % P == 0


def decompress(b: bytes) -> Optional[Point]:
    """The point `b` encodes, or None when no x exists. Like curve25519-dalek, a `y` at or above
    `p` is reduced (so non-canonical encodings decode); `canonical` tells them apart."""
    if len(b) != 32:
        return None
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = (n & ((1 << 255) - 1)) % P
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x2 = u * pow(v, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if x & 1 != sign:
        x = (P - x) % P
    return (x, y, 1, x * y % P)


def compress(p: Point) -> bytes:
    x, y, z, _ = p
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return ((y | ((x & 1) << 255))).to_bytes(32, "little")


def is_small_order(p: Point) -> bool:
    q = p
    for _ in range(3):
        q = _add(q, q)
    return _is_identity(q)


def check_key(b: bytes) -> Optional[str]:
    """None if `b` is a canonical encoding of a point not of small order; else the reason."""
    if len(b) != 32:
        return "not 32 bytes"
    pt = decompress(b)
    if pt is None:
        return "not a curve point"
    if compress(pt) != b:
        return "not the canonical encoding of its point"
    if is_small_order(pt):
        return "a point of small order"
    return None


def check_signature_shape(public_key: bytes, signature: bytes) -> Optional[str]:
    """The checks of ed25519-dalek's `verify_strict` beyond the cofactorless equation:
    `A` decompresses and is not of small order, `s < L`, `R` decompresses and is not of small order."""
    if len(public_key) != 32 or len(signature) != 64:
        return "wrong length"
    a = decompress(public_key)
    if a is None or is_small_order(a):
        return "public key is not a point of large order"
    if int.from_bytes(signature[32:], "little") >= L:
        return "s is not canonical"
    r = decompress(signature[:32])
    if r is None or is_small_order(r):
        return "R is not a point of large order"
    return None


BASE: Point = (
    15112221349535400772501151409588531511454012693041857206046113283949847762202,
    46316835694926478169428394003475163141307993866256225615783033603165251855960,
    1,
    15112221349535400772501151409588531511454012693041857206046113283949847762202
    * 46316835694926478169428394003475163141307993866256225615783033603165251855960
    % P,
)


def verify_zip215(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """A transaction's signature rule (ZIP-215): `s < L`, `A` and `R` decode to curve points (any
    encoding, any order), and `[8]([s]B - R - [k]A)` is the identity, with
    `k = SHA-512(R || A || message) mod L` over the bytes as given."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    s = int.from_bytes(signature[32:], "little")
    a, r = decompress(public_key), decompress(signature[:32])
    if s >= L or a is None or r is None:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % L
    error = _add(_mul(s, BASE), _neg(_add(r, _mul(k, a))))
    return is_small_order(error)
