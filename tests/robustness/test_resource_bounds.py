"""Bounded memory on hostile inputs: a record longer than --max-record is skipped and counted,
zstd is decompressed in bounded steps, `top --by dso` never holds a whole input in memory."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from foldkit.analysis.dso import read_with_dsos
from foldkit.cli import main
from foldkit.ingest import FoldOptions, read
from foldkit.inputs import _ZstdReader, open_source
from tests.support.common import DATA

GOOD = b"main;work 3\nmain;idle 1\n"


def test_a_record_longer_than_the_limit_is_skipped_and_counted() -> None:
    data = GOOD + b"x" * 70_000 + b";y 7\n" + GOOD  # longer than the 64 KiB read to sniff the format
    profile = read(data, FoldOptions(format="folded", max_record=20_000))
    assert profile.weights == {"main;work": 6, "main;idle": 2}
    messages = " ".join(profile.diagnostics.messages())
    assert "1 record(s) longer than 20,000 bytes skipped" in messages
    assert profile.diagnostics.bad_lines == 1


def test_line_numbers_after_a_skipped_record_stay_right() -> None:
    data = b"a 1\n" + b"x" * 70_000 + b"\nbad line here\nb 2\n"
    profile = read(data, FoldOptions(format="folded", max_record=20_000))
    assert profile.weights == {"a": 1, "b": 2}
    assert ("<bytes>", 3, "bad line here") in profile.diagnostics.bad_examples


def test_chunks_stay_bounded_on_input_without_newlines() -> None:
    source = open_source(b"z" * 300_000 + b"\nlast 1\n")
    source.max_record = 100_000
    pieces = list(source.chunks(size=64 * 1024))
    assert max(map(len, pieces)) <= 100_000 + 2 * 64 * 1024
    assert b"".join(pieces).endswith(b"\nlast 1\n") and source.oversize == 1


def test_records_that_fit_are_not_split_by_the_search_shortcut() -> None:
    # records (blank-line separated, as perf's) longer than a read step: a boundary in new data
    # is found with the overlap, and whole records come out
    record = b"header\n" + b"\tframe\n" * 3000 + b"\n"
    source = open_source(record * 20)
    from foldkit.ingest.perf import cut_records

    pieces = list(source.chunks(cut=cut_records, size=4096))
    assert b"".join(pieces) == record * 20
    assert all(p.endswith(b"\n\n") for p in pieces)


def test_zstd_steps_are_bounded_on_a_bomb() -> None:
    bomb = zstandard.ZstdCompressor(level=3).compress(b"\0" * 200_000_000)
    reader = _ZstdReader(io.BytesIO(bomb))
    largest = 0
    while reader._step():
        largest = max(largest, reader._available)
        reader.read(reader._available)
    assert largest <= 8 * 1024 * 1024 + 128 * 1024


def test_a_zstd_window_above_the_limit_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)
    stream = zstandard.ZstdCompressor(compression_params=params).compressobj()  # size unknown: window kept
    data = stream.compress(GOOD * 10) + stream.flush()
    assert zstandard.get_frame_parameters(data).window_size == 2**28
    path = tmp_path / "wide.folded.zst"
    path.write_bytes(data)
    assert main(["fold", str(path)]) == 2
    assert "wide.folded.zst: truncated or corrupt zstd stream" in capsys.readouterr().err


@pytest.mark.parametrize("compress", [gzip.compress, zstandard.ZstdCompressor().compress])
def test_a_compressed_line_without_newline_is_skipped(compress: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb"
    path.write_bytes(compress(b"\0" * 3_000_000))  # type: ignore[operator]
    assert main(["fold", str(path), "--format", "folded", "--max-record", "1M"]) == 0
    assert "longer than 1,048,576 bytes skipped" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0", "-1", "lots", "1T"])
def test_max_record_must_be_a_positive_size(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fold", "-", "--max-record", bad]) == 2
    assert "--max-record" in capsys.readouterr().err


def test_top_by_dso_reads_stdin_like_a_file() -> None:
    capture = DATA / "check" / "base-1.perf.zst"
    by_file = subprocess.run([sys.executable, "-m", "foldkit", "top", str(capture), "--by", "dso", "--csv"], capture_output=True, timeout=120)
    by_stdin = subprocess.run([sys.executable, "-m", "foldkit", "top", "-", "--by", "dso", "--csv"], input=capture.read_bytes(), capture_output=True, timeout=120)
    assert by_file.returncode == by_stdin.returncode == 0
    assert by_file.stdout == by_stdin.stdout and b"[kernel" in by_file.stdout


def test_top_by_dso_on_bytes_and_paths_agree() -> None:
    capture = DATA / "check" / "base-1.perf.zst"
    a = read_with_dsos([str(capture)], FoldOptions(jobs=1))
    b = read_with_dsos([capture.read_bytes()], FoldOptions(jobs=1))
    assert a.weights == b.weights and a.meta["frame_dso"] == b.meta["frame_dso"]
