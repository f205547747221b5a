"""perf script captures without blank lines between samples (`grep -v '^$'`, tools and editors that
drop empty lines, CRLF): the native core folds them as the Python twin does, byte for byte, for any
chunk size and thread count, with comments, side events, source lines and bad lines among the
samples, and hands no chunk to the twin."""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.errors import InputError
from foldkit.ingest import FoldOptions, perf, read
from foldkit.inputs import Source
from foldkit.native import native_core
from tests.ingest.test_perf_equivalence import OPTIONS, _outcome, fixed_width_text, perf_text
from tests.ingest.test_perf_layouts import chunks_to_twin
from tests.support.common import data_bytes

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")


def without_blank_lines(text: bytes) -> bytes:
    """`text` with its blank lines (whitespace only) removed, line ends kept as they are."""
    return b"".join(line for line in text.splitlines(keepends=True) if line.strip())


def native_and_twin(text: bytes, options: FoldOptions, as_file: bool) -> tuple[tuple, tuple, list[int]]:  # type: ignore[type-arg]
    """`text` folded natively and by the twin, and the chunks the native folder handed over."""
    with tempfile.TemporaryDirectory() as tmp:
        spec: bytes | Path = text
        if as_file:  # a plain file
            spec = Path(tmp) / "capture.perf"
            spec.write_bytes(text)
        with chunks_to_twin() as calls:
            native = _outcome(spec, options)
        with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
            reference = _outcome(spec, options)
    return native, reference, calls


#: Lines among the samples: bad lines (no header, no frame; one the twin reads as a frame, unindented),
#: comments, side events, a space-indented header, a source line, a blank line.
OTHER = [b"NOT A HEADER", b"\tnot a frame", b"   x 1 ", b"7f00 unindented+0x1 (/x)", b"# a comment",
         b"sh 1 1.0: PERF_RECORD_EXIT(1:1):(0:0)", b"   bash 7/7 [000] 1.0: 1 cycles: ", b"  tmpl.cpp:124", b"", b"  "]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(perf_text(), fixed_width_text()), st.lists(st.tuples(st.integers(0, 200), st.sampled_from(OTHER)), max_size=3),
       OPTIONS, st.booleans())
def test_native_equals_twin_without_blank_lines(text: bytes, other: list[tuple[int, bytes]], options: FoldOptions,
                                                as_file: bool) -> None:
    lines = without_blank_lines(text).split(b"\n")
    for at, line in sorted(other, reverse=True):
        lines.insert(at % (len(lines) + 1), line)
    dense = b"\n".join(lines)
    native, reference, calls = native_and_twin(dense, FoldOptions(**{**options.__dict__, "format": "perf"}), as_file)
    assert native == reference
    assert calls == [], "no chunk goes to the twin"


@pytest.mark.parametrize("name", ["perf-system-mixed", "perf-cpp-srcline", "perf-cpp-with-side-events", "perf-java",
                                  "perf-python-header", "perf-system-hide-callgraph"])
def test_captures_without_blank_lines_fold_as_the_twin_folds_them(name: str) -> None:
    dense = without_blank_lines(data_bytes(f"captures/{name}.txt.zst"))
    assert b"\n\n" not in dense
    for text in (dense, dense.replace(b"\n", b"\r\n")):
        for options in [FoldOptions(jobs=2, chunk_size=20_000), FoldOptions.with_all(tid=True, keep_time=True, jobs=1, chunk_size=7_000)]:
            native, reference, calls = native_and_twin(text, options, as_file=True)
            assert native == reference, (name, options)
            assert calls == []


def test_a_capture_without_blank_lines_folds_as_the_capture_with_them() -> None:
    capture = data_bytes("captures/perf-system-mixed.txt.zst")
    assert b"\n\n" in capture
    options = FoldOptions(jobs=2, chunk_size=30_000)
    assert read(without_blank_lines(capture), options).to_folded_bytes() == read(capture, options).to_folded_bytes()



@pytest.mark.parametrize("crlf", [False, True])
def test_plain_files_without_blank_lines_are_read_by_range(tmp_path: Path, crlf: bool) -> None:
    # by the native threads (records start at sample headers), not as Python chunks
    capture = data_bytes("captures/perf-system-mixed.txt.zst")
    dense = without_blank_lines(capture)
    path = tmp_path / "dense.perf"
    path.write_bytes(dense.replace(b"\n", b"\r\n") if crlf else dense)
    options = FoldOptions(jobs=2, chunk_size=20_000, keep_time=True)
    with mock.patch.object(Source, "chunks", side_effect=AssertionError("read as Python chunks")):
        native = _outcome(path, options)
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        assert native == _outcome(path, options)
    assert native[0] == read(capture, options).to_folded_bytes()


def test_the_twins_chunks_start_where_it_starts_afresh() -> None:
    # cut before a header, a comment, a side event or a blank line; never before an unindented
    # line that may be a frame of the sample before it, nor before a header indented as a source line
    sample = b"bash 1 1.0: 1 cycles: \n\t1234 f (/x)\n"
    for line, cut in [(b"bash 2 1.0: 1 cycles: ", True), (b"# c", True), (b"sh 1 1.0: PERF_RECORD_EXIT(1:1):(0:0)", True),
                      (b"   ", True), (b" bash 2 1.0: 1 cycles: ", True), (b"7f00 g+0x1 (/x)", False),
                      (b"  bash 2 1.0: 1 cycles: ", False), (b"\tbash 2 1.0: 1 cycles: ", False), (b"NOT A HEADER", False)]:
        for end in (b"\n", b"\r\n"):
            buf = (sample + line + b"\n" + b"\t5678 g (/x)\n").replace(b"\n", end)
            assert perf.cut_records(buf) == (len(sample.replace(b"\n", end)) if cut else -1), line
            assert perf.starts_record(line) is cut


def compressed(text: bytes, compression: str) -> bytes:
    """`text` as a zstd (level 3) or gzip (level 6) stream."""
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(text)
    return gzip.compress(text, compresslevel=6, mtime=0)


def native_stream_and_twin(text: bytes, compression: str, options: FoldOptions) -> tuple[tuple, tuple, list[int]]:  # type: ignore[type-arg]
    """`text` compressed in a file, folded natively (decompressed and cut by the native reader: no
    Python chunk) and by the twin, and the chunks the native folder handed to it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"capture.perf.{'zst' if compression == 'zstd' else 'gz'}"
        path.write_bytes(compressed(text, compression))
        with chunks_to_twin() as calls, mock.patch.object(Source, "chunks", side_effect=AssertionError("read as Python chunks")):
            native = _outcome(path, options)
        with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
            reference = _outcome(path, options)
    return native, reference, calls


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(perf_text(), fixed_width_text()), st.lists(st.tuples(st.integers(0, 200), st.sampled_from(OTHER)), max_size=3),
       OPTIONS, st.sampled_from(["zstd", "gzip"]), st.booleans(), st.integers(1, 400))
def test_native_stream_equals_twin_without_blank_lines(text: bytes, other: list[tuple[int, bytes]], options: FoldOptions,
                                                       compression: str, crlf: bool, repeat: int) -> None:
    # repeated up to a few hundred times: decompressed reads of 64 KiB cut at record starts
    # between chunks of a byte and more
    lines = without_blank_lines(text).split(b"\n")
    for at, line in sorted(other, reverse=True):
        lines.insert(at % (len(lines) + 1), line)
    dense = b"\n".join(lines)
    if dense and not dense.endswith(b"\n"):
        dense += b"\n"
    dense = dense * (repeat if repeat > 380 else 1)
    if crlf:
        dense = dense.replace(b"\n", b"\r\n")
    # records short of max_record: the native reader gives up on a stream with no cut within it
    options = FoldOptions(**{**options.__dict__, "format": "perf", "max_record": 30_000})
    native, reference, calls = native_stream_and_twin(dense, compression, options)
    assert native == reference
    assert calls == [], "no chunk goes to the twin"


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
@pytest.mark.parametrize("name", ["perf-system-mixed", "perf-cpp-srcline", "perf-cpp-with-side-events", "perf-java",
                                  "perf-python-header", "perf-system-hide-callgraph"])
def test_compressed_captures_without_blank_lines_are_cut_natively(name: str, compression: str) -> None:
    # decompressed and cut into chunks at record starts by the native reader, not Python's
    dense = without_blank_lines(data_bytes(f"captures/{name}.txt.zst"))
    for text in (dense, dense.replace(b"\n", b"\r\n")):
        # records short of max_record: the native reader gives up on a stream with no cut within it
        for options in [FoldOptions(jobs=2, chunk_size=20_000, max_record=30_000),
                        FoldOptions.with_all(tid=True, keep_time=True, jobs=3, chunk_size=1, max_record=30_000), FoldOptions(jobs=1)]:
            native, reference, calls = native_stream_and_twin(text, compression, options)
            assert native == reference, (name, options)
            assert calls == []


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_compressed_captures_without_blank_lines_fold_as_with_them(tmp_path: Path, compression: str) -> None:
    capture = data_bytes("captures/perf-system-mixed.txt.zst")
    path = tmp_path / f"dense.perf.{'zst' if compression == 'zstd' else 'gz'}"
    path.write_bytes(compressed(without_blank_lines(capture), compression))
    options = FoldOptions(jobs=2, chunk_size=20_000, max_record=30_000)
    with mock.patch.object(Source, "chunks", side_effect=AssertionError("read as Python chunks")):
        folded = read(path, options).to_folded_bytes()
    assert folded == read(capture, options).to_folded_bytes()


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_odd_compressed_streams_without_blank_lines(tmp_path: Path, compression: str) -> None:
    # one record, a record longer than a chunk, an empty stream: the twin's result natively; a
    # truncated stream, a record longer than max_record: the Python reader's message or result
    path = tmp_path / f"odd.perf.{'zst' if compression == 'zstd' else 'gz'}"
    one = b"bash 1/1 [000] 1.0: 1 cycles: \n" + b"".join(b"\t%x f%d+0x1 (/x)\n" % (k, k) for k in range(30_000))
    sample = b"bash 1/2 [000] 1.0: 1 cycles: \n\t1234 g+0x1 (/x)\n"
    for text in (one, sample * 2000 + one + sample * 2000, b""):
        for options in (FoldOptions(jobs=2, chunk_size=4096, format="perf"), FoldOptions(jobs=1, chunk_size=1, format="perf")):
            native, reference, calls = native_stream_and_twin(text, compression, options)
            assert native == reference
            assert calls == []
    text = sample * 20_000
    packed = compressed(text, compression)
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=f"truncated or corrupt {compression} stream"):
        read(path, FoldOptions(jobs=2, chunk_size=4096))
    # longer than max_record: given back to the Python reader, which skips it as the twin does
    path.write_bytes(compressed(sample * 2000 + one + sample * 2000, compression))
    options = FoldOptions(jobs=2, chunk_size=4096, max_record=200_000)
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        reference = _outcome(path, options)
    native = _outcome(path, options)
    assert native == reference
    assert b"bash;g 4000\n" in native[0]


def test_the_twins_reader_finds_record_starts_split_between_many_reads() -> None:
    # chunks of a byte: a header line split between reads is still found (no record of a few KB
    # taken for one longer than max_record and skipped), without a search per byte read
    dense = without_blank_lines(data_bytes("captures/perf-cpp-srcline.txt.zst"))
    source = Source(name="dense", compression="none", _stream=io.BufferedReader(io.BytesIO(dense)), max_record=30_000)
    chunks = list(source.chunks(cut=perf.cut_records, size=1))
    assert source.oversize == 0
    assert b"".join(chunks) == dense
    assert len(chunks) > 1


@pytest.mark.parametrize("clock", ["off-cpu", "wall"])
def test_compressed_sched_captures_without_blank_lines_are_cut_natively(clock: str) -> None:
    # `--off-cpu` / `--wall` read the compressed capture the same way: chunks cut natively
    dense = without_blank_lines(data_bytes("time/spinsleep.perf.zst"))
    assert b"\n\n" not in dense
    for compression in ("zstd", "gzip"):
        options = FoldOptions(format="perf", clock=clock, jobs=2, chunk_size=20_000, max_record=30_000)
        native, reference, calls = native_stream_and_twin(dense, compression, options)
        assert native == reference
        assert native[0].count(b"[off-cpu:") >= 5
        assert calls == []
