"""perf captures whose first record is longer than the head the reader looks at (stacks thousands of
frames deep): read by the native threads by range, not as Python chunks, with the Python line
path's result, whether blank lines end the records or not."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from foldkit.ingest import FoldOptions, perf, read
from foldkit.inputs import HEAD_SIZE, Source
from foldkit.native import native_core
from foldkit.profile import Profile

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")


def _deep(path: Path, frames: int, blank: bool) -> Path:
    chain = b"".join(b"\t%16x function_%d_%d (/usr/bin/deep)\n" % (0x400000 + 16 * i, i % 97, i) for i in range(1, frames))
    end = b"\n" if blank else b""
    path.write_bytes(
        b"".join(b"deep 100/100 [000] %.6f: 1001 cycles:\n\t%16x leaf_%d (/usr/bin/deep)\n%s%s" % (1 + n / 1000, 0x400000, n, chain, end) for n in range(4))
    )
    return path


def _key(p: Profile) -> tuple[object, ...]:
    return p.to_folded_bytes(), p.counts, p.event, p.unit, p.diagnostics.bad_lines, p.diagnostics.messages(), repr(p.timeline)


@pytest.mark.parametrize("jobs", [1, 2])
def test_deep_records_are_read_by_range(tmp_path: Path, jobs: int) -> None:
    path = _deep(tmp_path / "deep.perf", 20_000, blank=True)
    assert HEAD_SIZE < path.stat().st_size // 8  # the head lies within the first record
    options = FoldOptions(jobs=jobs, keep_time=True, chunk_size=65_536)
    with mock.patch.object(Source, "chunks", side_effect=AssertionError("read as Python chunks")):
        native = read(path, options)
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        reference = read(path, options)
    assert _key(native) == _key(reference) and len(native) == 4


@pytest.mark.parametrize("jobs", [1, 2])
def test_deep_records_without_blank_lines_fold_as_the_twin(tmp_path: Path, jobs: int) -> None:
    path = _deep(tmp_path / "deep.perf", 20_000, blank=False)
    options = FoldOptions(jobs=jobs, keep_time=True, chunk_size=65_536)
    native = read(path, options)
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        reference = read(path, options)
    assert _key(native) == _key(reference) and len(native) == 4


def test_within_first_record() -> None:
    header = b"deep 100/100 [000] 1.000000: 1001 cycles:\n"
    frames = b"\tffff f (/x)\n" * 100
    assert perf.within_first_record(b"# comment\n" + header + frames + b"\tffff g (/")
    assert not perf.within_first_record(header + frames + header + frames)  # two records, no blank line
    assert not perf.within_first_record(header + b"\n".join([header] * 3))  # -G: headers only
    assert not perf.within_first_record(b"not a header\n" + frames)
