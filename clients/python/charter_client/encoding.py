"""Borsh primitives (docs/wire-format.md §1): a writer and a strict reader.

Integers are little-endian and fixed width (u8 to u128), `bool` one byte 0/1, `String` a `u32`
byte count then UTF-8, `[u8; N]` is its bytes, `Vec<T>` a `u32` count then
the elements, `Option<T>` `0x00` or `0x01 ‖ T`, an enum one `u8` index then its fields, a struct
its fields in order. The reader refuses truncated input, trailing bytes (`finish`), option tags
other than 0/1, bool bytes other than 0/1, strings that are not UTF-8 and (through the callers) unknown variant indices, raising `EncodingError`.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, TypeVar

from .errors import EncodingError

T = TypeVar("T")

#: The largest transaction a node accepts (`MAX_TRANSACTION_BYTES`).
MAX_TRANSACTION_BYTES = 65_536

_U8 = (1 << 8) - 1
_U16 = (1 << 16) - 1
_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_U128 = (1 << 128) - 1


def _check_int(value: int, limit: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > limit:
        raise EncodingError(f"{name} out of range: {value!r}")
    return value


class Writer:
    """Appends Borsh encodings to a buffer."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def u8(self, v: int) -> "Writer":
        self._buf += _check_int(v, _U8, "u8").to_bytes(1, "little")
        return self

    def u16(self, v: int) -> "Writer":
        self._buf += _check_int(v, _U16, "u16").to_bytes(2, "little")
        return self

    def u32(self, v: int) -> "Writer":
        self._buf += _check_int(v, _U32, "u32").to_bytes(4, "little")
        return self

    def u64(self, v: int) -> "Writer":
        self._buf += _check_int(v, _U64, "u64").to_bytes(8, "little")
        return self

    def u128(self, v: int) -> "Writer":
        self._buf += _check_int(v, _U128, "u128").to_bytes(16, "little")
        return self

    def bool(self, v: bool) -> "Writer":
        """`bool`: one byte, 0x00 or 0x01."""
        if not isinstance(v, bool):
            raise EncodingError(f"bool expected, got {type(v).__name__}")
        self._buf.append(1 if v else 0)
        return self

    def string(self, s: str) -> "Writer":
        """`String`: `u32` byte count, then the UTF-8 bytes."""
        if not isinstance(s, str):
            raise EncodingError(f"str expected, got {type(s).__name__}")
        return self.bytes_vec(s.encode("utf-8"))

    def fixed(self, b: bytes, n: int) -> "Writer":
        """`[u8; N]`: exactly `n` bytes, no length."""
        if not isinstance(b, (bytes, bytearray)) or len(b) != n:
            raise EncodingError(f"expected {n} bytes, got {len(b) if isinstance(b, (bytes, bytearray)) else type(b).__name__}")
        self._buf += b
        return self

    def raw(self, b: bytes) -> "Writer":
        """Bytes already encoded (a nested value's encoding)."""
        self._buf += b
        return self

    def bytes_vec(self, b: bytes) -> "Writer":
        """`Vec<u8>`: `u32` length then the bytes."""
        self.u32(len(b))
        self._buf += b
        return self

    def vec(self, items: Sequence[T], put: Callable[["Writer", T], object]) -> "Writer":
        self.u32(len(items))
        for item in items:
            put(self, item)
        return self

    def option(self, value: Optional[T], put: Callable[["Writer", T], object]) -> "Writer":
        if value is None:
            self.u8(0)
        else:
            self.u8(1)
            put(self, value)
        return self

    def getvalue(self) -> bytes:
        return bytes(self._buf)


class Reader:
    """Reads Borsh from a byte string, refusing truncation; call `finish` to refuse trailing bytes."""

    def __init__(self, data: bytes, max_len: int | None = None) -> None:
        if max_len is not None and len(data) > max_len:
            raise EncodingError(f"input of {len(data)} bytes is longer than {max_len}")
        self._data = bytes(data)
        self._pos = 0

    @property
    def position(self) -> int:
        return self._pos

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, n: int) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise EncodingError(f"truncated: needed {n} bytes at offset {self._pos}, {self.remaining()} left")
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "little")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "little")

    def u128(self) -> int:
        return int.from_bytes(self.take(16), "little")

    def bool(self) -> bool:
        b = self.u8()
        if b > 1:
            raise EncodingError(f"bool byte {b} at offset {self._pos - 1} is neither 0 nor 1")
        return b == 1

    def string(self) -> str:
        """`String`: refuses bytes that are not valid UTF-8."""
        start = self._pos
        raw = self.bytes_vec()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EncodingError(f"string at offset {start} is not valid UTF-8") from e

    def fixed(self, n: int) -> bytes:
        return self.take(n)

    def bytes_vec(self) -> bytes:
        return self.take(self.u32())

    def vec(self, get: Callable[["Reader"], T], max_items: int | None = None) -> list[T]:
        n = self.u32()
        if max_items is not None and n > max_items:
            raise EncodingError(f"vector of {n} elements is longer than {max_items}")
        return [get(self) for _ in range(n)]

    def option(self, get: Callable[["Reader"], T]) -> Optional[T]:
        tag = self.u8()
        if tag == 0:
            return None
        if tag == 1:
            return get(self)
        raise EncodingError(f"option tag {tag} at offset {self._pos - 1} is neither 0 nor 1")

    def variant(self, count: int, type_name: str) -> int:
        """An enum index that must be below `count`."""
        tag = self.u8()
        if tag >= count:
            raise EncodingError(f"unknown {type_name} variant {tag} at offset {self._pos - 1}")
        return tag

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise EncodingError(f"{self.remaining()} trailing bytes after offset {self._pos}")


def decode_all(data: bytes, get: Callable[[Reader], T], max_len: int | None = None) -> T:
    """Decode exactly one value from `data` (no trailing bytes)."""
    r = Reader(data, max_len)
    value = get(r)
    r.finish()
    return value


def from_hex(s: object, n: int | None = None, what: str = "value") -> bytes:
    """Lowercase/uppercase hex to bytes; `n` fixes the length. Raises `EncodingError`."""
    if not isinstance(s, str):
        raise EncodingError(f"{what}: expected a hex string, got {type(s).__name__}")
    try:
        b = bytes.fromhex(s)
    except ValueError as e:
        raise EncodingError(f"{what}: not hex: {s[:80]!r}") from e
    if n is not None and len(b) != n:
        raise EncodingError(f"{what}: expected {n} bytes, got {len(b)}")
    return b


def encode_bytes_vec_list(items: Sequence[bytes]) -> bytes:
    """Borsh `Vec<Vec<u8>>`: the body of `POST /v1/transactions/batch`."""
    w = Writer()
    w.u32(len(items))
    for it in items:
        w.bytes_vec(it)
    return w.getvalue()
