"""Time-ordered samples (`foldkit.timeline`): a perf fold keeps them as arrays, and what the native
core makes of those arrays (flame-chart runs and layout, time windows, stack remapping, per-stack
sums, the viewer's Time view) is what the Python twin makes of them, sample for sample and byte for
byte."""

from __future__ import annotations

import base64
import gzip
import json
import math
import os
import subprocess
import sys
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.errors import InputError, UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.native import native_core
from foldkit.render import reverse_stack, reversed_weights
from foldkit.render.layout import layout_timeline
from foldkit.render.viewer.timeline import time_payload
from foldkit.render.viewer.tree import FrameTree, build_tree, native_tree
from foldkit.timeline import (
    Sample,
    Timeline,
    chart_runs,
    concat,
    has_times,
    native_chart_runs,
    sorted_by_time,
)
from foldkit.transform.window import TimeWindow, time_window
from tests.support.common import DATA

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")

CAPTURE = DATA / "captures" / "perf-cpp-fp.txt.zst"


@contextmanager
def twin() -> Iterator[None]:
    """The Python twins only."""
    with mock.patch.dict(os.environ, {"FOLDKIT_NATIVE": "0"}):
        yield


STACKS = ["a", "a;b", "a;b;c", "a;c", "b;a", "", "x;é\udcff", "all;a", "a;;b"]
TIMES = st.one_of(st.just(math.nan), st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.25, 3.0]), st.floats(0, 5, allow_nan=False))
WEIGHTS = st.one_of(st.integers(-2, 9), st.sampled_from([2**40, 2**62]))
SAMPLES = st.lists(st.tuples(TIMES, st.sampled_from(STACKS), WEIGHTS), max_size=40)
#: weights whose sums stay within int64 (the native viewer tree's limit)
SMALL_SAMPLES = st.lists(st.tuples(TIMES, st.sampled_from(STACKS), st.integers(-2, 2**40)), max_size=40)


def _same(a: list[Sample], b: list[Sample]) -> bool:
    """Equal, NaN times equal to each other."""
    return len(a) == len(b) and all(
        s == s2 and w == w2 and (t == u or (math.isnan(t) and math.isnan(u))) for (t, s, w), (u, s2, w2) in zip(a, b, strict=True)
    )


@given(SAMPLES)
def test_a_timeline_is_the_sequence_of_its_samples(samples: list[Sample]) -> None:
    tl = Timeline.from_samples(samples)
    assert len(tl) == len(samples) and tl == samples and _same(list(tl), samples)
    assert _same(tl[1:3], samples[1:3])
    assert isinstance(tl.weights, array)  # every weight here is an int within int64
    assert len(set(tl.stacks)) == len(tl.stacks)
    assert has_times(tl) == has_times(samples) == any(not math.isnan(t) for t, _, _ in samples)


@settings(max_examples=200, deadline=None)
@given(SAMPLES)
def test_chart_runs_native_equals_twin(samples: list[Sample]) -> None:
    tl = Timeline.from_samples(samples)
    runs, nonpositive = chart_runs(samples)
    got = native_chart_runs(tl)
    if got is None:  # left to the twin: only when a run is beyond int64
        assert max(w for _, w in runs) >= 2**63
        return
    ids, weights, native_nonpositive, total = got
    run_ids, run_weights = array("I"), array("q")
    run_ids.frombytes(ids)
    run_weights.frombytes(weights)
    assert [(tl.stacks[i], w) for i, w in zip(run_ids, run_weights, strict=True)] == runs
    assert (native_nonpositive, total) == (nonpositive, sum(w for _, w in runs))


@settings(max_examples=200, deadline=None)
@given(SAMPLES, st.booleans(), st.sampled_from([0.0, 0.01, 0.2]), st.sampled_from([1, 3, 100_000]), st.sampled_from([None, 10, 2**63]))
def test_chart_layout_native_equals_twin(samples: list[Sample], reverse: bool, fraction: float, max_frames: int, span: int | None) -> None:
    stack_of = reverse_stack if reverse else None
    options = {"stack_of": stack_of, "min_fraction": fraction, "max_frames": max_frames, "span": span}
    native = layout_timeline(Timeline.from_samples(samples), **options)  # type: ignore[arg-type]
    reference = layout_timeline(samples, native=False, **options)  # type: ignore[arg-type]
    assert native == reference


def test_a_run_beyond_int64_is_left_to_the_twin() -> None:
    samples = [(1.0, "a", 2**62), (2.0, "a", 2**62), (3.0, "a", 2**62)]
    assert native_chart_runs(Timeline.from_samples(samples)) is None
    layout = layout_timeline(Timeline.from_samples(samples))
    assert layout.total == 3 * 2**62


@settings(max_examples=200, deadline=None)
@given(SAMPLES, st.sampled_from([None, -1.0, 0.0, 0.5]), st.sampled_from([None, 0.5, 1.0, 2.0, 10.0]), st.booleans())
def test_time_window_native_equals_twin(samples: list[Sample], start: float | None, end: float | None, absolute: bool) -> None:
    from foldkit.profile import Profile

    if start is not None and end is not None and end <= start:
        return
    weights: dict[str, int] = {}
    for _, s, w in samples:
        weights[s] = weights.get(s, 0) + w
    window = TimeWindow(start, end, absolute)

    def windowed(timeline: object) -> tuple[object, ...]:
        try:
            out = time_window(Profile(weights=dict(weights), counts={}, timeline=timeline), window)  # type: ignore[arg-type]
        except UsageError as exc:  # the same refusal on both sides
            return ("error", str(exc))
        return out.weights, out.counts, list(out.timeline or ()), out.meta

    native = windowed(Timeline.from_samples(samples))
    with twin():
        reference = windowed(list(samples))
    assert repr(native) == repr(reference)


@settings(max_examples=200, deadline=None)
@given(SAMPLES, st.sampled_from(["drop c", "b to a", "all", "none"]))
def test_map_stacks_and_sums_native_equal_twin(samples: list[Sample], how: str) -> None:
    def fn(stack: str) -> str | None:
        if how == "drop c":
            return None if "c" in stack else stack
        if how == "b to a":
            return stack.replace("b", "a")
        return stack if how == "all" else None

    tl = Timeline.from_samples(samples)
    mapped = tl.map_stacks([fn(s) for s in tl.stacks])
    reference = [(t, new, w) for t, s, w in samples if (new := fn(s)) is not None]
    assert _same(list(mapped), reference)
    assert len(set(mapped.stacks)) == len(mapped.stacks)
    with twin():
        twin_mapped = Timeline.from_samples(samples).map_stacks([fn(s) for s in tl.stacks])
        twin_sums = twin_mapped.sums()
    assert _same(list(twin_mapped), reference)
    sums = mapped.sums()
    assert {s: (w, n) for s, w, n in zip(mapped.stacks, *sums, strict=True) if n} == {
        s: (w, n) for s, w, n in zip(twin_mapped.stacks, *twin_sums, strict=True) if n
    }


@given(st.lists(SAMPLES, max_size=4))
def test_concat_and_sort_keep_every_sample(parts: list[list[Sample]]) -> None:
    joined = concat(Timeline.from_samples(p) for p in parts)
    everything = [s for p in parts for s in p]
    assert _same(list(joined), everything)
    assert len(set(joined.stacks)) == len(joined.stacks)
    assert repr(list(sorted_by_time(joined))) == repr(sorted(everything, key=lambda s: s[0]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SMALL_SAMPLES, st.booleans())
def test_time_view_native_equals_twin(samples: list[Sample], reverse: bool) -> None:
    weights: dict[str, int] = {}
    for _, s, w in samples:
        weights[s] = weights.get(s, 0) + w
    side = reversed_weights(weights) if reverse else weights
    stack_of = reverse_stack if reverse else None
    tree = native_tree(side)
    assert tree is not None
    warnings: list[str] = []
    native = time_payload(lambda: FrameTree.from_native(tree), Timeline.from_samples(samples), stack_of, warnings.append, tree)
    reference = time_payload(build_tree(side), list(samples), stack_of, warnings.append)
    assert native == reference


def test_perf_fold_keeps_time_as_arrays() -> None:
    """The native folder hands back each chunk's samples as arrays, not a tuple per sample."""
    profile = read(CAPTURE, FoldOptions(keep_time=True, jobs=2, chunk_size=20_000))
    timeline = profile.timeline
    assert isinstance(timeline, Timeline) and isinstance(timeline.weights, array) and len(timeline) > 100
    assert sum(timeline.weights) == profile.total
    with twin():
        reference = read(CAPTURE, FoldOptions(keep_time=True))
    assert timeline == reference.timeline


def _flamegraph(tmp_path: Path, name: str, args: list[str], native: bool) -> bytes:
    out = tmp_path / name
    env = {**os.environ, "FOLDKIT_NATIVE": "1" if native else "0"}
    done = subprocess.run([sys.executable, "-m", "foldkit", "flamegraph", *args, "-o", str(out)], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["--flamechart"],
        ["--flamechart", "--reverse", "--tid"],
        ["--flamechart", "--time", "0.2..0.9", "--minwidth", "0"],
        ["--time", "0.1..0.7"],
        ["--reverse"],
    ],
    ids=["chart", "chart-reverse", "chart-window", "viewer-window", "viewer-reverse"],
)
def test_outputs_are_the_twins(tmp_path: Path, args: list[str]) -> None:
    """Flame charts byte for byte; viewer pages block for block (the tree block is compressed by
    a different deflate in the core, so its bytes differ, its content not)."""
    viewer = "--flamechart" not in args
    suffix = ".html" if viewer else ".svg"
    inputs = [str(CAPTURE), str(DATA / "captures" / "perf-c-fp.txt.zst")]
    native = _flamegraph(tmp_path, "native" + suffix, [*inputs, *args], native=True)
    reference = _flamegraph(tmp_path, "twin" + suffix, [*inputs, *args], native=False)
    if viewer:
        assert _blocks(native) == _blocks(reference)
        assert _blocks(native)[2]  # the Time view is there
    else:
        assert native == reference


def _blocks(html: bytes) -> tuple[object, bytes, bytes]:
    """(settings, tree block, Time view block) of a viewer page, the blocks decompressed."""
    doc = lxml.html.fromstring(html)
    meta = json.loads(doc.get_element_by_id("foldkit-meta").text)

    def block(name: str) -> bytes:
        element = doc.get_element_by_id(name, None)
        return b"" if element is None else gzip.decompress(base64.b64decode(element.text))

    return meta, block("foldkit-data"), block("foldkit-time")


FOLDED_LINES = st.sampled_from([
    "a;b 1", "a;b 3", "a;c 2", "a 1.5", "x;é 4", "a;b  7", " a;b 1", "a;b ;c 2", "# comment", "",
    "not a line", "a;b 1 2", "c;d -1", "a;b 0", "# foldkit: unit=ns", "b;a\t5", "a;b 1\r",
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FOLDED_LINES, max_size=30), st.sampled_from([(), ("b",)]))
def test_folded_lines_in_order_native_equal_twin(lines: list[str], skip: tuple[str, ...]) -> None:
    """`--flamechart` of folded text: the native reader's lines in order are the reference reader's."""
    text = ("\n".join(lines) + "\n").encode()
    options = FoldOptions(format="folded", keep_order=True, skip_after=skip)

    def outcome() -> tuple[object, ...]:
        try:
            p = read(text, options)
        except InputError as exc:
            return ("refused", str(exc))
        return p.weights, p.before, repr(list(p.timeline or ())), p.diagnostics.messages(), p.unit

    native = outcome()
    with twin():
        reference = outcome()
    assert native == reference


def test_folded_flamechart_is_the_twins(tmp_path: Path) -> None:
    folded = tmp_path / "in-order.folded"
    folded.write_bytes(b"a;b 1\na;c 2.5\n\na;b  3\nbad\nb;c 4\na;b 1\n")
    native = _flamegraph(tmp_path, "native.svg", [str(folded), "--flamechart"], native=True)
    reference = _flamegraph(tmp_path, "twin.svg", [str(folded), "--flamechart"], native=False)
    assert native == reference
    assert read(folded, FoldOptions(keep_order=True)).timeline == [
        (math.nan, s, w) for s, w in [("a;b", 1), ("a;c", 2.5), ("a;b", 3), ("b;c", 4), ("a;b", 1)]
    ]
