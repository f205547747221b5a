"""Open inputs: files or stdin, plain, gzip or zstd (detected by magic bytes), read in record-aligned chunks."""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from foldkit.errors import InputError

MAGIC_ZSTD = b"\x28\xb5\x2f\xfd"
MAGIC_GZIP = b"\x1f\x8b"
MAGIC_PERF_DATA = b"PERFILE2"

#: Bytes of decompressed input kept for format sniffing.
HEAD_SIZE = 64 * 1024
#: Decompressed bytes per chunk handed to a worker: large enough that per-chunk overhead (process
#: hand-off, result merge) is small, small enough that jobs x in-flight chunks stay a few tens of MB.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

InputSpec = str | os.PathLike[str] | bytes

#: Find the end of the last complete record in a buffer; return -1 when there is none yet.
Cutter = Callable[[bytes], int]


def cut_at_lines(buf: bytes) -> int:
    """Record boundary for line-oriented formats: after the last newline."""
    i = buf.rfind(b"\n")
    return -1 if i < 0 else i + 1


class _ChainReader(io.RawIOBase):
    """A raw stream that yields `prefix` and then the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(b))
        n = len(data)
        b[:n] = data
        return n


class _ZstdReader(io.RawIOBase):
    """Streaming zstd decompression across concatenated frames that, unlike `stream_reader`,
    reports a stream that ends inside a frame (a truncated file) as an error."""

    #: Compressed bytes fed per step; zstd captures compress ~70x, so this bounds each output piece.
    STEP = 128 * 1024

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        self._obj = self._dctx.decompressobj()
        self._in_frame = False
        self._out = b""

    def readable(self) -> bool:
        return True

    def _step(self) -> bool:
        data = self._raw.read(self.STEP)
        if not data:
            if self._in_frame:
                raise EOFError("stream ends inside a zstd frame (truncated file?)")
            return False
        pieces = []
        while data:
            pieces.append(self._obj.decompress(data))
            if self._obj.eof:
                data = self._obj.unused_data
                self._obj = self._dctx.decompressobj()
                self._in_frame = False
            else:
                data = b""
                self._in_frame = True
        self._out += b"".join(pieces)
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out:
            if not self._step():
                return 0
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._out) < size) and self._step():
            pass
        if size < 0:
            size = len(self._out)
        data, self._out = self._out[:size], self._out[size:]
        return data


@dataclass
class Source:
    """One opened input: a decompressed byte stream, its display name and its compression."""

    name: str
    compression: str
    _stream: BinaryIO
    _buffer: bytes = b""
    _eof: bool = False
    path: str | None = None  # set for a plain, uncompressed regular file (it can be read by range)

    def seekable_path(self) -> str | None:
        """The file's path when its bytes can be read by offset (plain regular file, untouched)."""
        return self.path if self.compression == "none" and not self._eof else None

    def _fill(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except (zstandard.ZstdError, gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise InputError(
                f"{self.name}: truncated or corrupt {self.compression} stream ({exc})"
            ) from exc
        except OSError as exc:
            raise InputError(f"{self.name}: read error: {exc}") from exc

    def head(self, size: int = HEAD_SIZE) -> bytes:
        """The first `size` decompressed bytes, without consuming them."""
        while len(self._buffer) < size and not self._eof:
            data = self._fill(max(size - len(self._buffer), 65536))
            if not data:
                self._eof = True
                break
            self._buffer += data
        return self._buffer[:size]

    def chunks(self, cut: Cutter = cut_at_lines, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Decompressed data in pieces of about `size` bytes, each ending where `cut` says a record ends."""
        buf = self._buffer
        self._buffer = b""
        pending: list[bytes] = [buf] if buf else []
        pending_len = len(buf)
        while True:
            if pending_len < size and not self._eof:
                data = self._fill(size)
                if data:
                    pending.append(data)
                    pending_len += len(data)
                    continue
                self._eof = True
            if not pending:
                return
            buf = b"".join(pending) if len(pending) > 1 else pending[0]
            if self._eof:
                yield buf
                return
            end = cut(buf)
            if end <= 0:
                # no record boundary yet: keep reading (memory grows only with one record's size)
                pending = [buf]
                size = max(size, pending_len * 2)
                continue
            yield buf[:end]
            rest = buf[end:]
            pending = [rest] if rest else []
            pending_len = len(rest)

    def text_lines(self) -> Iterator[str]:
        """The decompressed input as text lines, without line ends (CRLF too); bytes that are not
        UTF-8 are kept as surrogate escapes so they round-trip."""
        for chunk in self.chunks(cut=cut_at_lines):
            text = chunk.decode("utf-8", "surrogateescape")
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            pieces = text.split("\n")
            if pieces and pieces[-1] == "":
                pieces.pop()
            yield from pieces

    def read_all(self) -> bytes:
        """The whole decompressed content (for small inputs and tests)."""
        return b"".join(self.chunks(cut=lambda b: len(b)))

    def close(self) -> None:
        """Release the underlying file."""
        try:
            self._stream.close()
        except Exception:  # closing must never mask the real error
            pass


def _display_name(spec: InputSpec) -> str:
    if isinstance(spec, bytes):
        return "<bytes>"
    s = os.fspath(spec)
    return "<stdin>" if s == "-" else s


def _open_raw(spec: InputSpec) -> BinaryIO:
    if isinstance(spec, bytes):
        return io.BytesIO(spec)
    s = os.fspath(spec)
    if s == "-":
        return sys.stdin.buffer
    path = Path(s)
    if path.is_dir():
        raise InputError(f"{s}: is a directory, not a capture file")
    try:
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise InputError(f"{s}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{s}: cannot open: {exc.strerror}") from exc


def open_source(spec: InputSpec) -> Source:
    """Open a path, `-` (stdin) or bytes, detecting gzip/zstd compression by magic bytes."""
    name = _display_name(spec)
    raw = _open_raw(spec)
    magic = raw.read(8)
    rest = _ChainReader(magic, raw)
    stream: BinaryIO
    if magic.startswith(MAGIC_ZSTD):
        stream = _ZstdReader(io.BufferedReader(rest, 1 << 20))  # type: ignore[assignment]
        compression = "zstd"
    elif magic.startswith(MAGIC_GZIP):
        stream = gzip.GzipFile(fileobj=io.BufferedReader(rest, 1 << 20), mode="rb")  # type: ignore[assignment]
        compression = "gzip"
    else:
        stream = io.BufferedReader(rest, 1 << 20)  # type: ignore[assignment]
        compression = "none"
    path = None
    if compression == "none" and not isinstance(spec, bytes) and os.fspath(spec) != "-" and Path(os.fspath(spec)).is_file():
        path = os.fspath(spec)
    source = Source(name=name, compression=compression, _stream=stream, path=path)
    head = source.head(16)
    if head.startswith(MAGIC_PERF_DATA):
        source.close()
        raise InputError(
            f"{name}: this is a binary perf.data file; run `perf script -i {name} > out.perf` "
            "on the capture host (where the binaries and symbols are) and give foldkit that text"
        )
    return source
