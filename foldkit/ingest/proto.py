"""The protobuf wire format, both ways, as much of it as pprof's `profile.proto` uses: varints,
length-delimited fields (messages, strings, packed varints) and the fixed-width types (skipped).

The pure-Python twin of the native core's codec (`native/core/src/pprof.rs`, prost), used when
the native core is not (`FOLDKIT_NATIVE=0`, no build) and as the reference it is tested against:
`profile.proto` needs five message types of integers and string indices, which take a hundred
lines here, so the Python side needs no `protobuf` dependency either.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from foldkit.errors import InputError

VARINT, I64, LEN, I32 = 0, 1, 2, 5


class ProtoError(InputError):
    """Bytes that are not a well-formed protobuf message."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at `pos`."""
    result = 0
    shift = 0
    while True:
        try:
            b = buf[pos]
        except IndexError:
            raise ProtoError("truncated varint") from None
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtoError("varint longer than 10 bytes")


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field of a message: an int for varints, the bytes
    for length-delimited fields; fixed-width values are read as ints. (One-byte varints, most
    keys, lengths and small values, are read inline: this loop is where reading a profile goes.)"""
    pos = 0
    end = len(buf)
    while pos < end:
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtoError("field number 0")
        if wire == VARINT or wire == LEN:
            if pos >= end:
                raise ProtoError("truncated field")
            value = buf[pos]
            if value < 0x80:
                pos += 1
            else:
                value, pos = read_varint(buf, pos)
            if wire == VARINT:
                yield number, wire, value
                continue
            if pos + value > end:
                raise ProtoError("length-delimited field runs past the end")
            yield number, wire, buf[pos : pos + value]
            pos += value
        elif wire == I64:
            if pos + 8 > end:
                raise ProtoError("truncated 64-bit field")
            yield number, wire, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == I32:
            if pos + 4 > end:
                raise ProtoError("truncated 32-bit field")
            yield number, wire, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise ProtoError(f"unknown wire type {wire}")


#: One varint: continuation bytes, then a last byte below 0x80.
_VARINT = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f]")


def packed(value: int | bytes) -> list[int]:
    """The integers of a repeated varint field: packed (bytes) or one unpacked value."""
    if isinstance(value, int):
        return [value]
    if value.isascii():  # every value below 128: one byte each
        return list(value)
    out = []
    consumed = 0
    for m in _VARINT.finditer(value):
        b = m.group()
        if m.start() != consumed:
            break
        consumed = m.end()
        if len(b) == 1:
            out.append(b[0])
        else:
            v = 0
            for i, byte in enumerate(b):
                v |= (byte & 0x7F) << (7 * i)
            out.append(v)
    if consumed != len(value):
        raise ProtoError("truncated or overlong packed varint")
    return out


def signed(value: int) -> int:
    """An int64 field's value (negative numbers are sent as 64-bit two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


@functools.lru_cache(maxsize=1 << 20)
def varint(value: int) -> bytes:
    """The varint encoding of `value` (negative int64 as 64-bit two's complement); memoised, as
    a profile repeats its ids and keys."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    """A varint field (nothing for 0, proto3's default)."""
    return varint(number << 3) + varint(value) if value else b""


def field_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field: a message, a string or packed varints."""
    return varint(number << 3 | LEN) + varint(len(data)) + data


def field_packed(number: int, values: list[int]) -> bytes:
    """A packed repeated varint field (nothing when empty)."""
    return field_bytes(number, b"".join(map(varint, values))) if values else b""
