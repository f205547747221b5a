"""Open inputs: files or stdin, plain, gzip or zstd (detected by magic bytes), read in record-aligned chunks."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from foldkit.constants import DEFAULT_MAX_RECORD, HEAD_SIZE
from foldkit.errors import INSTALL_CLUSTER, InputError

#: `typing.TYPE_CHECKING` without importing typing (the fold fast path loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

MAGIC_ZSTD = b"\x28\xb5\x2f\xfd"
MAGIC_GZIP = b"\x1f\x8b"
MAGIC_PERF_DATA = b"PERFILE2"

#: Decompressed bytes per chunk handed to a worker: large enough that per-chunk overhead (process
#: hand-off, result merge) is small, small enough that jobs x in-flight chunks stay a few tens of MB.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
#: Bytes read at a time while skipping an over-long record.
SKIP_STEP = 1024 * 1024
#: Input read without a record boundary, in units of `max_record`, after which reading stops with
#: an error instead of skipping on: an over-long record is skipped to the end of its line, but this
#: much input without a single complete record (over-long records in a row, or one line that runs
#: on) is an input without line breaks (`/dev/zero`, a binary file), which would be read for ever.
MAX_RECORDS_WITHOUT_BOUNDARY = 4
#: Largest zstd window accepted (`zstd --long` uses 2^27): a frame asking for more is refused
#: rather than allocated.
MAX_ZSTD_WINDOW = 2**27

InputSpec = str | os.PathLike[str] | bytes

#: Find the end of the last complete record in a buffer; return -1 when there is none yet.
Cutter = Callable[[bytes], int]


def cut_at_lines(buf: bytes) -> int:
    """Record boundary for line-oriented formats: after the last newline."""
    i = buf.rfind(b"\n")
    return -1 if i < 0 else i + 1


#: Bytes of already-searched data searched again with new data at most, so a boundary split between
#: two reads (a blank line, a header line) is still found.
_OVERLAP = 64 * 1024

#: Bytes read on at least when the data pending holds no record boundary yet.
_READ_ON = 64 * 1024


def _probe(pending: list[bytes], searched: int) -> bytes:
    """The data read since the last search, with the data searched before from its last newline on
    (a blank line or a header line split between reads, however short), at most `_OVERLAP` bytes."""
    tail: list[bytes] = []
    kept = 0
    for k in range(searched - 1, -1, -1):
        piece = pending[k][-(_OVERLAP - kept):]
        newline = piece.rfind(b"\n")
        tail.append(piece[newline:] if newline >= 0 else piece)
        kept += len(tail[-1])
        if newline >= 0 or kept >= _OVERLAP:
            break
    return b"".join([*reversed(tail), *pending[searched:]])


class _ChainReader(io.RawIOBase):
    """A raw stream that yields `prefix` and then the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO, name: str) -> None:
        self._prefix = prefix
        self._stream = stream
        self._name = name
        self.consumed = len(prefix)  # bytes taken from `stream`, the prefix included

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = read_input(self._stream, len(b), self._name)
        n = len(data)
        b[:n] = data
        self.consumed += n
        return n


def read_input(stream: BinaryIO, size: int, name: str) -> bytes:
    """`stream.read(size)` of the input `name`; a failing read (EIO from a disk, a network file
    system or `/proc/self/mem`) is an input error naming it. Every read of an input's bytes in
    Python goes through here; `ingest.fold_source` does the same for the native core's reads."""
    try:
        return stream.read(size)
    except OSError as exc:
        raise InputError(f"{name}: read error: {exc.strerror or exc}") from exc


def _stream_errors() -> tuple[type[Exception], ...]:
    """What a corrupt or truncated compressed stream raises: gzip's and zlib's errors once a gzip
    stream has loaded gzip, and zstandard's once a zstd stream has loaded it (before that none
    can occur)."""
    zstandard, gzip = sys.modules.get("zstandard"), sys.modules.get("gzip")
    zstd: tuple[type[Exception], ...] = (zstandard.ZstdError,) if zstandard is not None else ()
    gz: tuple[type[Exception], ...] = (gzip.BadGzipFile, sys.modules["zlib"].error) if gzip is not None else ()
    return (*zstd, *gz, EOFError)


class _ZstdReader(io.RawIOBase):
    """Streaming zstd decompression across concatenated frames that, unlike `stream_reader`,
    reports a stream that ends inside a frame (a truncated file) as an error. Memory stays
    bounded whatever the compression ratio: compressed bytes are fed in small steps."""

    #: Compressed bytes fed per step. A zstd block holds at most 128 KiB and takes at least four
    #: bytes, so one step expands to at most 8 MiB even for a bomb (typical captures: ~20 KiB).
    STEP = 256

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        import zstandard  # on use: a fifth of a command's start-up, and most inputs are not zstd

        self._dctx = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW)
        self._obj = self._dctx.decompressobj()
        self._in_frame = False
        self._pieces: list[bytes] = []  # decompressed, not yet read
        self._available = 0  # their total length

    def readable(self) -> bool:
        return True

    def _step(self) -> bool:
        data = self._raw.read(self.STEP)
        if not data:
            if self._in_frame:
                raise EOFError("stream ends inside a zstd frame (truncated file?)")
            return False
        while data:
            out = self._obj.decompress(data)
            if out:
                self._pieces.append(out)
                self._available += len(out)
            if self._obj.eof:
                data = self._obj.unused_data
                self._obj = self._dctx.decompressobj()
                self._in_frame = False
            else:
                data = b""
                self._in_frame = True
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b)) if self._available or self._step() else b""
        b[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or self._available < size) and self._step():
            pass
        data = b"".join(self._pieces)
        self._pieces.clear()
        if 0 <= size < len(data):
            self._pieces.append(data[size:])
            data = data[:size]
        self._available -= len(data)
        return data


@dataclass
class Source:
    """One opened input: a decompressed byte stream, its display name and its compression."""

    name: str
    compression: str
    _stream: BinaryIO
    _buffer: bytes = b""
    _eof: bool = False
    path: str | None = None  # set for a regular file (compressed or not; see `seekable_path`)
    max_record: int = DEFAULT_MAX_RECORD  # longer records are skipped (see `chunks`)
    oversize: int = 0  # records skipped for being longer than `max_record`
    size: int | None = None  # bytes in the file as stored (compressed), when known
    _raw: _ChainReader | None = None
    _skipped: int = 0  # bytes of over-long records skipped since the last record handed out
    _lines: bool = False  # whether those bytes held a line break
    _handed: bool = False  # whether a record was handed out

    @property
    def bytes_read(self) -> int:
        """Bytes of the input as stored (compressed) read so far, for progress display."""
        return self._raw.consumed if self._raw is not None else 0

    def seekable_path(self) -> str | None:
        """The file's path when its bytes can be read by offset: a plain regular file, untouched,
        whose size is known. A size of 0 is only a hint (every `/proc` and `/sys` file, some FUSE
        and network files say 0 and have content), so such a file is read to its end instead."""
        return self.path if self.compression == "none" and not self._eof and self.size else None

    def whole_file_path(self) -> str | None:
        """The file's path when it is a plain regular file the head read whole (a file smaller
        than the head): its size on disk is the bytes read, so a reader by path reads what the
        stream holds."""
        whole = self.compression == "none" and self._eof and self.size and len(self._buffer) == self.size
        return self.path if whole else None

    def _fill(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except _stream_errors() as exc:
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
        """Decompressed data in pieces of about `size` bytes, each ending where `cut` says a record
        ends. A record longer than `max_record` is skipped to the end of its line and counted in
        `oversize`, so memory stays bounded whatever the input."""
        pending: list[bytes] = [self._buffer] if self._buffer else []
        self._buffer = b""
        pending_len = len(pending[0]) if pending else 0
        searched = 0  # leading pieces of `pending` known to hold no record boundary
        self._skipped, self._lines = 0, False
        size = min(size, self.max_record)
        goal = size
        while True:
            while pending_len < goal and not self._eof:
                data = self._fill(goal - pending_len)
                if not data:
                    self._eof = True
                    break
                pending.append(data)
                pending_len += len(data)
            if not pending:
                return
            if self._eof:
                buf = b"".join(pending) if len(pending) > 1 else pending[0]
                pending = []  # the pieces are not kept while the caller reads the chunk
                if len(buf) > self.max_record:  # the last record, cut short by the end, is too long
                    end = cut(buf)
                    if end > 0:
                        yield buf[:end]
                        buf = buf[end:]
                    if len(buf) > self.max_record:
                        self.oversize += 1
                        buf = b"\n"
                yield buf
                return
            if searched and cut(_probe(pending, searched)) <= 0:
                end = -1  # the new data holds no boundary: no need to join and search everything
            else:
                buf = b"".join(pending) if len(pending) > 1 else pending[0]
                pending = [buf]
                end = cut(buf)
            if end <= 0:
                if pending_len > self.max_record:
                    # one record longer than allowed: skip to the end of its line, leave an empty
                    # line in its place (line numbers stay right; the record is closed)
                    self.oversize += 1
                    self._skipped += pending_len
                    self._lines = self._lines or any(b"\n" in piece for piece in pending)
                    pending = [b"\n" + self._skip_line()]
                    pending_len = len(pending[0])
                    searched, goal = 0, size
                    continue
                # no record boundary yet: read on (memory grows only up to `max_record`), at least
                # `_READ_ON` bytes (chunks of a byte: not a search per byte of a long record)
                searched = len(pending)
                goal = pending_len + max(size, _READ_ON)
                continue
            self._skipped, self._lines, self._handed = 0, False, True
            chunk, rest = buf[:end], buf[end:]
            del buf  # only the chunk and the rest are kept while the caller reads the chunk
            pending = [rest] if rest else []
            pending_len = len(rest)
            searched, goal = 0, size
            yield chunk

    def _skip_line(self) -> bytes:
        """Read on to the next newline, dropping what comes before it; the data after it. Stops
        with an InputError once `MAX_RECORDS_WITHOUT_BOUNDARY` x `max_record` bytes have been
        skipped since the last record handed out (see `_no_boundary`)."""
        limit = MAX_RECORDS_WITHOUT_BOUNDARY * self.max_record
        while True:
            if self._skipped >= limit:
                raise self._no_boundary(limit)
            data = self._fill(min(SKIP_STEP, max(limit - self._skipped, 1)))
            if not data:
                self._eof = True
                return b""
            i = data.find(b"\n")
            if i >= 0:
                self._skipped += i + 1
                self._lines = True
                return data[i + 1 :]
            self._skipped += len(data)

    def _no_boundary(self, limit: int) -> InputError:
        """The error for `limit` bytes of input without one complete record."""
        if self._lines:
            what = "record boundary (a blank line or the next sample's header line)"
            after = "its last complete record" if self._handed else ""
            rest = "records that never end"
        else:
            what, after, rest = "line break", "its last complete line", "no line breaks"
        where = f"{limit:,} bytes after {after}" if self._handed else f"the first {limit:,} bytes"
        return InputError(
            f"{self.name}: no {what} in {where}: the {'rest of the ' if self._handed else ''}input has "
            f"{rest}, so it is not a profile (reading stops after {MAX_RECORDS_WITHOUT_BOUNDARY} x "
            f"--max-record without a record; raise --max-record, now {self.max_record:,} bytes, for longer records)"
        )

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


def is_url(spec: str) -> bool:
    """Whether an input names a URL (`s3://…`, `https://…`, `file://…`) rather than a path."""
    scheme, sep, _ = spec.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum()


def _open_url(url: str) -> BinaryIO:
    """A URL opened with fsspec (the `foldkit-profiles[cluster]` extra; s3://, gs://… need their package)."""
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{url}: reading URLs needs fsspec: {INSTALL_CLUSTER}") from None
    try:
        return fsspec.open(url, "rb").open()
    except FileNotFoundError:
        raise InputError(f"{url}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{url}: is a directory, not a capture file") from None
    except ImportError as exc:  # fsspec names the package the protocol needs
        raise InputError(f"{url}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{url}: cannot open: {exc}") from None


def _open_raw(spec: InputSpec) -> BinaryIO:
    if isinstance(spec, bytes):
        return io.BytesIO(spec)
    s = os.fspath(spec)
    if s == "-":
        return sys.stdin.buffer
    if is_url(s):
        return _open_url(s)
    try:
        mode = _mode(s)
        if stat.S_ISDIR(mode):
            raise InputError(f"{s}: is a directory, not a capture file")
        if stat.S_ISFIFO(mode):
            return _open_fifo(s)
        return open(s, "rb")
    except FileNotFoundError as exc:
        raise InputError(f"{s}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{s}: cannot open: {exc.strerror}") from exc


#: What `os.stat` may fail with that pathlib's `is_dir()`, `is_fifo()` and `is_file()` answer
#: False to (no such file, a file in the path, a symlink loop, a bad descriptor).
_NOT_THERE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _mode(path: str) -> int:
    """`os.stat(path).st_mode`, or 0 when pathlib's `is_dir()` and kin would answer False: the
    stat fails with one of `_NOT_THERE` or on a null byte (its other errors are raised, as they
    raise them; a name too long among them). Without loading pathlib."""
    try:
        return os.stat(path).st_mode
    except OSError as exc:
        if exc.errno not in _NOT_THERE:
            raise
        return 0
    except ValueError:
        return 0


#: How often the main thread looks for Ctrl-C while a FIFO waits for its writer, in seconds.
_FIFO_POLL = 0.2


def _open_fifo(path: str) -> BinaryIO:
    """`path`, a named pipe, opened for reading. open() blocks until a writer comes, and the
    SIGINT of a Ctrl-C may be delivered to another of the process's threads (the native core's,
    the allocator's), so the main thread would never see it: the open waits in a thread while
    the main thread polls, which lets Ctrl-C end the command."""
    opened: list[BinaryIO] = []
    failed: list[OSError] = []
    done = threading.Event()

    def wait_for_writer() -> None:
        try:
            opened.append(open(path, "rb"))
        except OSError as exc:
            failed.append(exc)
        done.set()

    threading.Thread(target=wait_for_writer, name="foldkit-fifo-open", daemon=True).start()
    while not done.wait(_FIFO_POLL):
        pass
    if failed:
        raise failed[0]
    return opened[0]


def rereadable(spec: InputSpec) -> bool:
    """Whether `spec` can be opened again and gives the same bytes: bytes, URLs and regular files
    (or what cannot be looked at: opening it says why); not standard input, a FIFO, a character
    device or a socket, whose second open waits for a writer that never comes, or reads other
    bytes. Readers that need an input twice spool the others to a temporary file, or skip the
    second read."""
    if isinstance(spec, bytes):
        return True
    s = os.fspath(spec)
    if s == "-":
        return False
    if is_url(s):
        return True
    try:
        return stat.S_ISREG(os.stat(s).st_mode)
    except OSError:
        return True


#: Told of every Source opened (the command line's progress bar); see `watch_sources`.
_WATCHERS: list[Callable[[Source], None]] = []


@contextlib.contextmanager
def watch_sources(callback: Callable[[Source], None]) -> Iterator[None]:
    """Call `callback` with every Source opened inside the block."""
    _WATCHERS.append(callback)
    try:
        yield
    finally:
        _WATCHERS.remove(callback)


def _size(raw: BinaryIO) -> int | None:
    try:
        st = os.fstat(raw.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def open_source(spec: InputSpec) -> Source:
    """Open a path, `-` (stdin) or bytes, detecting gzip/zstd compression by magic bytes."""
    name = _display_name(spec)
    raw = _open_raw(spec)
    magic = read_input(raw, 8, name)
    rest = _ChainReader(magic, raw, name)
    stream: BinaryIO
    if magic.startswith(MAGIC_ZSTD):
        stream = _ZstdReader(io.BufferedReader(rest, 1 << 20))  # type: ignore[assignment]
        compression = "zstd"
    elif magic.startswith(MAGIC_GZIP):
        import gzip  # (on use: most inputs are not gzip'd)

        stream = gzip.GzipFile(fileobj=io.BufferedReader(rest, 1 << 20), mode="rb")  # type: ignore[assignment]
        compression = "gzip"
    else:
        stream = io.BufferedReader(rest, 1 << 20)
        compression = "none"
    path = None
    if not isinstance(spec, bytes) and os.fspath(spec) != "-" and stat.S_ISREG(_mode(os.fspath(spec))):
        path = os.fspath(spec)
    source = Source(name=name, compression=compression, _stream=stream, path=path, size=_size(raw), _raw=rest)
    for watcher in _WATCHERS:
        watcher(source)
    head = source.head(16)
    if head.startswith(MAGIC_PERF_DATA):
        source.close()
        raise InputError(
            f"{name}: this is a binary perf.data file; run `perf script -i {name} > out.perf` "
            "on the capture host (where the binaries and symbols are) and give foldkit that text"
        )
    return source
