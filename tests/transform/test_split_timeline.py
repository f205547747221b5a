"""`--per-process` / `--per-thread` split a profile's timeline as arrays, in one pass (natively, or
by `Timeline.split`'s Python code, the reference), never as a tuple per sample; each part keeps
exactly the samples of its stacks, in order."""

from __future__ import annotations

import os
from array import array
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.ingest import FoldOptions
from foldkit.native import native_core
from foldkit.timeline import Timeline
from foldkit.transform import split
from foldkit.transform.roots import identify, read_profile, root_layout
from tests.support.common import DATA, assert_golden
from tests.support.transform import run_cli


@settings(max_examples=200)
@given(
    st.lists(st.integers(-1, 3), min_size=1, max_size=6),
    st.lists(st.tuples(st.floats(allow_nan=True), st.integers(0, 5), st.integers(-(2**63), 2**63 - 1)), max_size=40),
)
def test_native_split_equals_the_python_split(group: list[int], rows: list[tuple[float, int, int]]) -> None:
    stacks = [f"s{i}" for i in range(len(group))]
    rows = [(t, i % len(stacks), w) for t, i, w in rows]
    timeline = Timeline(stacks, array("d", [r[0] for r in rows]), array("I", [r[1] for r in rows]), array("q", [r[2] for r in rows]))
    parts = timeline.split(group, 4)
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        reference = timeline.split(group, 4)
    assert [p.stacks for p in parts] == [p.stacks for p in reference]
    assert parts == reference
    for k, part in enumerate(parts):
        assert part == [r for r in timeline if group[stacks.index(r[1])] == k]


@pytest.mark.parametrize("by", ["process", "thread"])
@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_split_keeps_each_parts_samples_in_order(by: str, native: bool) -> None:
    if native and native_core() is None:
        pytest.skip("the native core is not built")
    with mock.patch.dict(os.environ, {} if native else {"FOLDKIT_NATIVE": "0"}):
        profile = read_profile(DATA / "captures" / "perf-system-mixed.txt.zst", FoldOptions(pid=True, tid=True, keep_time=True))
        parts = split(profile, by)
    assert profile.timeline is not None and len(parts) > 3
    layout = root_layout(profile)
    n = 0
    for part in parts.values():
        assert isinstance(part.timeline, Timeline)
        samples = list(part.timeline)
        n += len(samples)
        assert {s for _, s, _ in samples} <= set(part.weights)
        assert samples == [r for r in profile.timeline if r[1] in part.weights]
        ident = identify(next(iter(part.weights)), layout)
        assert all(identify(s, layout).pid == ident.pid for _, s, _ in samples)
    assert n == len(profile.timeline)


def test_per_thread_files_of_a_time_window_are_the_golden_ones(tmp_path: Path) -> None:
    # (the golden was written by the split that made a tuple per sample)
    out = tmp_path / "parts"
    code, _, err = run_cli(["fold", str(DATA / "captures" / "perf-system-mixed.txt.zst"), "--per-thread", "--time", "1..3", "-o", str(out)])
    assert code == 0, err
    listing = b"".join(f"== {p.name}\n".encode() + p.read_bytes() for p in sorted(out.iterdir()))
    assert_golden("transform/per-thread-time-window.txt.zst", listing)
