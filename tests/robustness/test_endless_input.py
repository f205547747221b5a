"""Input that never ends and never has a line break (issue 28): `/dev/zero` as `z.folded` (a
symlink) or as itself, a FIFO fed zeros for ever, a compressed stream of zeros, a sparse file.
Each is read up to 4 x `--max-record` without a record, then refused with exit 2 and a message
naming the file; `--max-record` still raises the bound for genuine long lines. The native readers
(folded file, perf file ranges, compressed perf streams) give such input back to the stream
reader within about `--max-record` bytes (see their unit tests), which stops. Subprocess timeouts
(and the generator's end) are a safety net only: before the fix each of these ran until killed."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import zstandard

from foldkit.errors import InputError
from foldkit.ingest.perf import cut_records
from foldkit.inputs import MAX_RECORDS_WITHOUT_BOUNDARY, SKIP_STEP, Source

#: Seconds a command may take before it counts as reading for ever (a safety net).
SAFETY = 120


class Endless(io.RawIOBase):
    """A generator of bytes: `pattern` repeated, counting what was read. As a safety net it ends
    after `cap` bytes (far more than a reader may take), so a reader that does not stop fails
    the test instead of hanging it."""

    def __init__(self, pattern: bytes, cap: int = 256 << 20) -> None:
        self.pattern = pattern
        self.consumed = 0
        self.cap = cap

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self.cap - self.consumed)
        b[:n] = (self.pattern * (n // len(self.pattern) + 1))[:n]
        self.consumed += n
        return n


def drain(source: Source, **kwargs: object) -> None:
    for _ in source.chunks(**kwargs):  # type: ignore[arg-type]
        pass


def test_an_endless_stream_without_line_breaks_stops_with_an_error() -> None:
    raw = Endless(b"\0")
    source = Source(name="zeros", compression="none", _stream=io.BufferedReader(raw), max_record=100_000)
    with pytest.raises(InputError, match=r"^zeros: no line break in the first 400,000 bytes: the input has no line breaks"):
        drain(source, size=64 * 1024)
    assert raw.consumed <= MAX_RECORDS_WITHOUT_BOUNDARY * 100_000 + SKIP_STEP + 128 * 1024 < raw.cap
    assert MAX_RECORDS_WITHOUT_BOUNDARY == 4  # the README says so


def test_records_that_never_end_stop_with_an_error() -> None:
    # perf script text whose sample never ends: frame lines, never a blank line or a new header
    raw = Endless(b"\t1234 f (/x)\n")
    source = Source(name="frames", compression="none", _stream=io.BufferedReader(raw), max_record=100_000)
    with pytest.raises(InputError, match=r"^frames: no record boundary \(a blank line or the next sample's header line\) in the first 400,000 bytes"):
        drain(source, cut=cut_records, size=64 * 1024)


def test_records_before_the_endless_part_are_read_then_it_stops() -> None:
    raw = Endless(b"\0")
    stream = io.BufferedReader(_Chain(b"a;b 1\n" * 1000, raw))  # type: ignore[arg-type]
    source = Source(name="tail", compression="none", _stream=stream, max_record=100_000)
    got = []
    with pytest.raises(InputError, match=r"^tail: no line break in 400,000 bytes after its last complete line: the rest"):
        for chunk in source.chunks(size=64 * 1024):
            got.append(chunk)
    assert b"".join(got) == b"a;b 1\n" * 1000


class _Chain(io.RawIOBase):
    def __init__(self, head: bytes, rest: io.RawIOBase) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        return self.rest.readinto(b)


def foldkit(*args: str, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], capture_output=True, text=True, timeout=SAFETY, stdin=stdin)


def test_dev_zero_named_z_folded_with_the_default_max_record(tmp_path: Path) -> None:
    link = tmp_path / "z.folded"
    link.symlink_to("/dev/zero")
    done = foldkit("top", str(link))
    assert done.returncode == 2, done.stderr
    assert f"{link}: no line break in the first 268,435,456 bytes: the input has no line breaks" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("fmt", ["auto", "folded", "perf", "bpftrace"])
def test_dev_zero_itself(fmt: str) -> None:
    done = foldkit("top", "/dev/zero", "--format", fmt, "--max-record", "64K")
    assert done.returncode == 2, done.stderr
    assert "/dev/zero: no line break in the first 262,144 bytes" in done.stderr


def test_a_fifo_fed_zeros_for_ever(tmp_path: Path) -> None:
    fifo = tmp_path / "z.folded"
    os.mkfifo(fifo)

    def feed() -> None:
        try:
            with open(fifo, "wb") as out:
                block = bytes(1 << 16)
                while True:
                    out.write(block)
        except OSError:  # the reader went away (EPIPE): done
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = foldkit("top", str(fifo), "--max-record", "64K")
    writer.join(timeout=SAFETY)
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: no line break in the first 262,144 bytes" in done.stderr
    assert not writer.is_alive()


@pytest.mark.parametrize("fmt", ["perf", "folded"])
def test_a_compressed_stream_of_zeros(tmp_path: Path, fmt: str) -> None:
    # perf: the native stream reader gives up after --max-record and hands over to the stream reader
    path = tmp_path / "zeros.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(bytes(64 << 20)))
    done = foldkit("top", str(path), "--format", fmt, "--max-record", "1M")
    assert done.returncode == 2, done.stderr
    assert f"{path}: no line break in the first 4,194,304 bytes" in done.stderr


@pytest.mark.parametrize(("name", "max_record", "limit"), [("z.folded", "1M", "4,194,304"), ("z.perf", "1M", "4,194,304"), ("big.folded", "64M", "268,435,456")])
def test_a_sparse_file_of_zeros(tmp_path: Path, name: str, max_record: str, limit: str) -> None:
    # the native readers of plain files (by range, on threads; big.folded is read ahead at
    # start-up) give the file back to the stream reader, which stops
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(1 << 30)
    done = foldkit("top", str(path), "--max-record", max_record) if max_record != "64M" else foldkit("top", str(path))
    assert done.returncode == 2, done.stderr
    assert f"{path}: no line break in the first {limit} bytes" in done.stderr


def test_max_record_still_raises_the_bound_for_long_lines(tmp_path: Path) -> None:
    path = tmp_path / "long.folded"
    path.write_bytes(b"main;a 1\n" + b"x" * (5 << 20) + b" 1\nmain;b 2\n")
    refused = foldkit("top", str(path), "--max-record", "1M")  # 5 MiB > 4 x 1 MiB: taken for no line breaks
    assert refused.returncode == 2 and "no line break in 4,194,304 bytes after its last complete line" in refused.stderr
    skipped = foldkit("top", str(path), "--max-record", "2M")  # < 4 x 2 MiB: skipped, as before
    assert skipped.returncode == 0, skipped.stderr
    assert "1 record(s) longer than 2,097,152 bytes skipped" in skipped.stderr
    assert "main" in skipped.stdout
