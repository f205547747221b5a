"""The native flame-graph layout against its Python twin (identical layouts), and both linear in
the total number of frames: deep stacks neither take quadratic memory nor quadratic work."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.render import layout as layout_module
from foldkit.render.layout import Layout, layout_chart, layout_flame
from tests.render.test_render_layout import NAMES

STACKS = st.lists(NAMES, min_size=0, max_size=7).map(";".join)
WEIGHT = st.one_of(st.integers(min_value=-3, max_value=1000), st.sampled_from([2**40, 2**62, 0]))
WEIGHTS = st.dictionaries(STACKS, WEIGHT, max_size=30)
RUNS = st.lists(st.tuples(STACKS, WEIGHT), max_size=30)
FRACTION = st.sampled_from([0.0, 0.0, 0.01, 0.1, 0.3])
BUDGET = st.one_of(st.integers(min_value=1, max_value=15), st.just(10**6))


def same(a: Layout, b: Layout) -> None:
    assert asdict(a) == asdict(b)
    for name in ("starts", "weights"):
        assert [type(x) for x in getattr(a, name)] == [type(x) for x in getattr(b, name)]


@settings(max_examples=300)
@given(WEIGHTS, FRACTION, BUDGET, st.booleans(), st.sampled_from([None, 0, 5000]))
def test_flame_native_equals_python(weights: dict[str, int], fraction: float, budget: int, by_weight: bool, span: int | None) -> None:
    kw = {"min_fraction": fraction, "max_frames": budget, "sort_by_weight": by_weight, "span": span}
    same(layout_flame(weights, **kw), layout_flame(weights, native=False, **kw))


@settings(max_examples=300)
@given(RUNS, FRACTION, BUDGET)
def test_chart_native_equals_python(runs: list[tuple[str, int]], fraction: float, budget: int) -> None:
    kw = {"min_fraction": fraction, "max_frames": budget}
    same(layout_chart(runs, **kw), layout_chart(runs, native=False, **kw))


def test_native_is_used_for_integers_and_the_twin_for_the_rest(monkeypatch) -> None:
    calls = []
    real = _native.layout_frames

    def spy(*args: object) -> object:
        result = real(*args)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(_native, "layout_frames", spy)
    assert layout_flame({"a;b": 2, "a": 1}).weights == [3, 3, 2]
    assert layout_flame({"a;b": 2**70, "a": 1}).weights == [2**70 + 1] * 2 + [2**70]
    assert layout_flame({"a;b": 0.5, "a": 1}).weights == [1.5, 1.5, 0.5]
    assert calls == [True, False]  # the float total never reaches the native call


def test_a_panic_in_the_native_layout_falls_back_to_the_twin(monkeypatch) -> None:
    def panic(*args: object) -> object:
        raise RuntimeError("internal error in the native layout: boom")

    weights = {"a;b": 2, "a": 1, "c": 4}
    expected = layout_flame(weights, native=False)
    monkeypatch.setattr(_native, "layout_frames", panic)
    same(layout_flame(weights), expected)


def test_inclusive_weights_of_another_profile() -> None:
    layout = layout_flame({"a;b": 2, "a;c": 3, "d": 1})
    other = {"a;b;x": 5, "a": 1, "q": 7, "a;c": -4}
    assert dict(zip(layout.names, layout.inclusive(other), strict=True)) == {"all": 13, "a": 6, "b": 5, "c": 0, "d": 0}
    assert [layout.path(i) for i in range(len(layout))] == layout.paths() == ["", "a", "a;b", "a;c", "d"]


def test_deep_stacks_are_linear_in_frames() -> None:
    """Node count, not time: a 100,000-frame stack plus another sharing most of it make one node
    per distinct frame, in both the twin and the native core."""
    deep = ";".join(f"f{i}" for i in range(100_000))
    weights = {deep: 3, deep.rsplit(";", 1)[0] + ";g": 1, "x": 1}
    for native in (True, False):
        layout = layout_flame(weights, min_fraction=0, max_frames=10**9, native=native)
        assert len(layout) == 1 + 100_000 + 1 + 1
        assert layout.max_depth == 100_000
        assert layout.inclusive(weights)[:3] == [5, 4, 4]
    tree = layout_module._flame_tree(weights)
    assert len(tree.names) == 100_003


DEEP_SCRIPT = """
import sys
from foldkit.render.layout import layout_flame, layout_chart
frames = int(sys.argv[1])
deep = ";".join(f"function_name_{i}" for i in range(frames))
for native in (True, False):
    layout_flame({deep: 1, "x": 1}, min_fraction=0, max_frames=10**9, native=native).inclusive({deep: 2})
    layout_chart([(deep, 1), ("x", 1), (deep, 1)], min_fraction=0, max_frames=10**9, native=native)
# VmHWM, not getrusage's ru_maxrss: Linux carries the parent's peak across fork and exec into the
# latter, so a test runner grown large would be measured instead of this process.
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024)
"""


def test_a_hundred_thousand_frame_stack_stays_small() -> None:
    """Peak memory of laying out a 100,000-frame stack (2.3 MB of text) both ways: quadratic
    prefixes would need tens of GB; the bound leaves a wide margin over what it takes."""
    out = subprocess.run([sys.executable, "-c", DEEP_SCRIPT, "100000"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) < 400
