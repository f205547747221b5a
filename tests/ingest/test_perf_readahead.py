"""A perf capture folded from start-up (`readahead.start_capture`, `foldkit fold x.perf` on the
fast path): taken by the perf reader only for the same file and options, with the same result as
folding it when asked; everything else folds as usual."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from foldkit import readahead
from foldkit.ingest import FoldOptions, read
from foldkit.ingest import perf as perf_reader
from foldkit.inputs import open_source

pytestmark = pytest.mark.skipif(perf_reader.native_core() is None, reason="needs the native core")


@pytest.fixture(autouse=True)
def _nothing_pending() -> Iterator[None]:
    readahead.forget()
    yield
    readahead.forget()


def big_capture(path: Path, odd: bytes = b"") -> Path:
    """A `perf script` capture of more than `readahead.MIN_BYTES`, with a frame only the Python
    namer names (not UTF-8) and a bad line, then `odd` records."""
    records = [
        f"proc{i % 5} {100 + i % 3}/{200 + i % 9} [000] {i}.000001: {1000 + i % 11} cycles: \n"
        f"\tffffffff815d6c20 kfunc_{i % 17}+0x1 ([kernel.kallsyms])\n"
        f"\t    7f1e2215d058 main_{i % 23}+0xed (/bin/app)\n\n".encode()
        for i in range(40_000)
    ]
    records.insert(7, b"proc1 101/201 [000] 7.5: 10 cycles: \n\t    7f1e2215d058 caf\xe9+0x1 (/bin/app)\n\n")
    records.insert(9, b"a line no reader takes\n\n")
    path.write_bytes(b"".join(records) + odd)
    assert path.stat().st_size >= readahead.MIN_BYTES
    return path


def _same(a: object, b: object) -> None:
    assert a.weights == b.weights  # type: ignore[attr-defined]
    assert a.counts == b.counts  # type: ignore[attr-defined]
    assert a.event == b.event and a.unit == b.unit  # type: ignore[attr-defined]
    assert a.diagnostics.bad_lines == b.diagnostics.bad_lines  # type: ignore[attr-defined]
    assert a.diagnostics.messages() == b.diagnostics.messages()  # type: ignore[attr-defined]


def test_the_defaults_are_those_of_fold_options() -> None:
    options = FoldOptions()
    assert {name: getattr(options, name) for name in readahead.DEFAULT_PERF_OPTIONS} == readahead.DEFAULT_PERF_OPTIONS
    assert perf_reader.NATIVE_RANGE_SIZE == readahead.RANGE_SIZE


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_a_fold_started_ahead_gives_what_the_reader_gives(tmp_path: Path, jobs: int) -> None:
    path = str(big_capture(tmp_path / "a.perf"))
    expected = read(path, FoldOptions(jobs=jobs))
    readahead.start_capture("fold", [path], {"jobs": jobs, "output": "x.folded", "quiet": True})
    (ahead,) = readahead._CAPTURES.values()
    got = read(path, FoldOptions(jobs=jobs))
    assert ahead._namer is not None  # the frame not UTF-8 was named by the reader's namer
    assert not readahead._CAPTURES  # taken
    _same(got, expected)
    _same(read(path, FoldOptions(jobs=jobs)), expected)  # (folded as usual: taken once)


def test_a_chunk_handed_back_is_folded_by_the_line_path(tmp_path: Path) -> None:
    # a period beyond 64 bits: the core hands its chunk back
    odd = b"proc9 109/209 [000] 99.5: 18446744073709551616 cycles: \n\t    7f1e2215d058 huge+0x1 (/bin/app)\n\n"
    path = str(big_capture(tmp_path / "a.perf", odd))

    def fold() -> object:  # (not `read`, which refuses such sums)
        source = open_source(path)
        try:
            return perf_reader.fold(source, FoldOptions(jobs=2))
        finally:
            source.close()

    expected = fold()
    assert expected.weights[next(s for s in expected.weights if "huge" in s)] == 1 << 64  # type: ignore[attr-defined]
    readahead.start_capture("fold", [path], {"jobs": 2})
    (ahead,) = readahead._CAPTURES.values()
    _same(fold(), expected)
    assert not readahead._CAPTURES
    assert ahead.chunks  # handed back, and folded by the reader's line path


@pytest.mark.parametrize("options", [FoldOptions(jobs=2, tid=True), FoldOptions(jobs=1), FoldOptions(jobs=2, chunk_size=1 << 20)])
def test_other_options_are_folded_as_usual(tmp_path: Path, options: FoldOptions) -> None:
    path = str(big_capture(tmp_path / "a.perf"))
    expected = read(path, options)
    readahead.start_capture("fold", [path], {"jobs": 2})
    _same(read(path, options), expected)
    assert not readahead._CAPTURES


def test_a_file_changed_after_the_start_is_folded_again(tmp_path: Path) -> None:
    path = big_capture(tmp_path / "a.perf")
    readahead.start_capture("fold", [str(path)], {"jobs": 2})
    with open(path, "ab") as fh:
        fh.write(b"proc9 109/209 [000] 99.5: 5 cycles: \n\t    7f1e2215d058 late+0x1 (/bin/app)\n\n")
    assert any("late" in stack for stack in read(str(path), FoldOptions(jobs=2)).weights)


def test_what_is_not_started(tmp_path: Path) -> None:
    path = str(big_capture(tmp_path / "a.perf"))
    small = tmp_path / "small.perf"
    small.write_bytes(b"a 1 1.0: 1 cycles: \n\t1234 f (/x)\n\n")
    packed = tmp_path / "a.perf.zst"
    packed.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * readahead.MIN_BYTES)
    other = tmp_path / "a.txt"  # folded stacks with blank lines between them
    other.write_bytes(b"main;f 1\n\n" * (readahead.MIN_BYTES // 10 + 1))
    for command, inputs, given in [
        ("flamegraph", [path], {}),
        ("fold", [path, path], {}),
        ("fold", [path], {"tid": True}),
        ("fold", [str(small)], {}),
        ("fold", [str(packed)], {}),
        ("fold", [str(other)], {}),
        ("fold", ["-"], {}),
        ("fold", [str(tmp_path / "missing.perf")], {}),
    ]:
        readahead.start_capture(command, inputs, given)
        assert not readahead._CAPTURES, (command, inputs, given)


def test_the_command_writes_the_same_file(tmp_path: Path) -> None:
    path = str(big_capture(tmp_path / "a.perf"))
    outputs = []
    for fast in ("1", "0"):  # (the Typer command line starts nothing ahead)
        out = tmp_path / f"out-{fast}.folded"
        env = {**os.environ, "FOLDKIT_FAST_PATH": fast}
        subprocess.run([sys.executable, "-m", "foldkit", "fold", "-q", "-j", "2", path, "-o", str(out)], check=True, env=env)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_a_line_to_name_before_the_reader_loads_hands_its_chunk_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(big_capture(tmp_path / "a.perf"))
    expected = read(path, FoldOptions(jobs=2))
    monkeypatch.setattr(readahead, "line_namers", [])  # (the reader not loaded yet)
    readahead.start_capture("fold", [path], {"jobs": 2})
    (ahead,) = readahead._CAPTURES.values()
    _same(read(path, FoldOptions(jobs=2)), expected)
    assert ahead._namer is None and ahead.chunks  # the frame not UTF-8: its chunk folded by the reader
