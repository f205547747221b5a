"""The viewer's Time view: a FlameScope-style heatmap of the samples, whose ranges become the tree
every other view shows (Debian's chromium, as in tests/browser/test_viewer_browser.py)."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foldkit.ingest import FoldOptions, read
from foldkit.render.viewer import render_viewer
from foldkit.render.viewer.timeline import BUCKET, stack_nodes, time_payload
from foldkit.render.viewer.tree import build_tree
from tests.browser.test_viewer_browser import Viewer
from tests.support.browser import chromium_context
from tests.support.common import DATA

CAPTURE = DATA / "time" / "spinsleep.perf.zst"


def _profile() -> Any:
    return read([str(CAPTURE)], FoldOptions(keep_time=True, event="cpu-clock"))


def _range_weight(profile: Any, lo: int, hi: int, root: str | None = None) -> float:
    """The weight of the samples in buckets lo..hi (as the page buckets them), of one root frame."""
    start = min(t for t, _, _ in profile.timeline if not math.isnan(t))
    return sum(
        w
        for t, s, w in profile.timeline
        if lo <= int((t - start) / BUCKET) <= hi and (root is None or s.split(";")[0] == root)
    )


def test_stack_nodes_finds_where_every_stack_ends() -> None:
    weights = {"a;b": 2, "a;b;c": 1, "d": 3}
    tree = build_tree(weights)
    nodes = stack_nodes(tree)
    assert set(nodes) == set(weights)
    for stack, node in nodes.items():
        assert tree.selfs[0][node] == weights[stack]


def _decode(header: dict[str, Any], block: str) -> list[list[int | float]]:
    """The Time block's arrays, as the page reads them: byte planes put back together."""
    import base64
    import zlib
    from array import array

    raw = zlib.decompress(base64.b64decode(block), 31)
    assert len(raw) == header["rawBytes"]
    codes = {"u8": "B", "u16": "H", "u32": "I", "f64": "d"}
    out, at, m = [], 0, header["cells"]
    for name in header["types"]:
        a = array(codes[name])
        size = a.itemsize
        items = bytearray(size * m)
        for j in range(size):
            items[j::size] = raw[at : at + m]
            at += m
        a.frombytes(bytes(items))
        out.append(list(a))
    assert at == len(raw)
    return out


def test_the_time_block_stores_sample_counts_as_byte_planes() -> None:
    """Weights divided by their common divisor (the capture's period: 1,001,001 ns at 999 Hz) fit
    in a byte; every array is stored as byte planes; read back they give every sample's weight."""
    profile = _profile()
    tree = build_tree(profile.weights)
    header, block = time_payload(tree, profile.timeline)  # type: ignore[misc]
    assert header["scale"] > 1 and header["types"][0] == "u8"
    weight, node_step, bucket_step = _decode(header, block)
    assert sum(w * header["scale"] for w in weight) == profile.total
    assert sum(node_step) < len(tree) and max(bucket_step) < header["buckets"]
    fractional = time_payload(build_tree({"a": 1.5}), [(1.0, "a", 1.5)])
    assert fractional is not None and fractional[0]["scale"] == 1 and fractional[0]["types"][0] == "f64"
    assert _decode(*fractional)[0] == [1.5]


def test_no_time_block_without_timestamps() -> None:
    tree = build_tree({"a": 1})
    assert time_payload(tree, [(float("nan"), "a", 1)]) is None
    assert b'id="foldkit-time"' not in render_viewer(read([str(DATA / "captures" / "perf-c-fp.txt.zst")], FoldOptions()))


def test_the_cli_embeds_times_for_perf_captures(tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    done = subprocess.run(
        [sys.executable, "-m", "foldkit", "flamegraph", "--event", "cpu-clock", str(CAPTURE), "-o", str(out)],
        capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert b'id="foldkit-time"' in out.read_bytes()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from chromium_context(tmp_path_factory, 1200, 800)


@pytest.mark.browser
def test_a_range_becomes_the_flame_graph_and_round_trips_in_the_url(browser: Any, tmp_path: Path) -> None:
    profile = _profile()
    path = tmp_path / "time.html"
    path.write_bytes(render_viewer(profile))
    v = Viewer(browser, path)
    buckets = v.js("foldkit.timeState.buckets")
    assert buckets > 30  # the capture lasts about 0.7 s
    assert v.js("foldkit.tree.width[0]") == pytest.approx(profile.total)
    v.page.locator("#tab-time").click()
    assert v.page.locator("#heatmap").is_visible()
    # drag over buckets 10..20
    a, b = v.js("b => foldkit.cell(b)", 10), v.js("b => foldkit.cell(b)", 20)
    v.page.mouse.move(a["x"], a["y"])
    v.page.mouse.down()
    v.page.mouse.move(b["x"], b["y"])
    v.page.mouse.up()
    assert v.js("foldkit.timeState.range") == [10, 20]
    assert v.js("foldkit.tree.width[0]") == pytest.approx(_range_weight(profile, 10, 20))
    assert "range=10-20" in v.fragment()
    # two clicks choose a range too
    c, d = v.js("b => foldkit.cell(b)", 30), v.js("b => foldkit.cell(b)", 25)
    v.page.mouse.click(c["x"], c["y"])
    v.page.mouse.click(d["x"], d["y"])
    assert v.js("foldkit.timeState.range") == [25, 30]
    assert v.js("foldkit.tree.width[0]") == pytest.approx(_range_weight(profile, 25, 30))
    # one process
    node = v.node("spinsleep")
    v.page.select_option("#time-process", str(node))
    assert v.js("foldkit.tree.width[0]") == pytest.approx(_range_weight(profile, 25, 30, "spinsleep"))
    fragment = v.fragment()
    assert "proc=spinsleep" in fragment
    # the link reproduces the view
    again = Viewer(browser, path, fragment)
    assert again.js("foldkit.timeState") == {"range": [25, 30], "proc": node, "buckets": buckets}
    assert again.js("foldkit.tree.width[0]") == pytest.approx(_range_weight(profile, 25, 30, "spinsleep"))
    again.close()
    v.page.locator("#time-clear").click()
    assert v.js("foldkit.tree.width[0]") == pytest.approx(profile.total)
    assert "range=" not in v.fragment()
    v.close()


@pytest.mark.browser
def test_no_time_tab_without_times(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "plain.html"
    path.write_bytes(render_viewer(read([str(DATA / "captures" / "perf-c-fp.txt.zst")], FoldOptions())))
    v = Viewer(browser, path)
    assert v.page.locator("#tab-time").count() == 0
    v.close()


def _phases_profile() -> Any:
    """One thread in a (buckets 0-49), b (50-99), a again (100-124), one sample a bucket (two in
    the first); another process in buckets 25-74."""
    from foldkit.profile import Profile

    timeline: list[tuple[float, str, int]] = [(100.0, "app;main;a", 1)]
    for j in range(125):
        t = 100.0 + 0.02 * j + 0.01  # mid-bucket
        timeline.append((t, f"app;main;{'b' if 50 <= j < 100 else 'a'}", 1))
        if 25 <= j < 75:
            timeline.append((t + 0.001, "other;work", 1))
    weights: dict[str, int] = {}
    for _, stack, w in timeline:
        weights[stack] = weights.get(stack, 0) + w
    return Profile(weights=weights, timeline=timeline)  # type: ignore[arg-type]


@pytest.mark.browser
def test_the_flame_chart_shows_the_selection_in_time_order(browser: Any, tmp_path: Path) -> None:
    """The chart of one process: each function a bar for as long as the thread stayed in it, in
    the order it ran; a range's chart starts at the range; the chart is drawn in the Time view."""
    path = tmp_path / "phases.html"
    path.write_bytes(render_viewer(_phases_profile()))
    v = Viewer(browser, path)
    app = v.node("app")
    v.js("p => foldkit.range(null, p)", app)
    bars = sorted(v.js("foldkit.chart()"), key=lambda bar: (bar[1], bar[2]))
    assert bars == [["app", 0, 0, 125], ["main", 1, 0, 125], ["a", 2, 0, 50], ["b", 2, 50, 100], ["a", 2, 100, 125]]
    v.js("p => foldkit.range([40, 59], p)", app)
    bars = sorted(v.js("foldkit.chart()"), key=lambda bar: (bar[1], bar[2]))
    assert bars == [["app", 0, 0, 20], ["main", 1, 0, 20], ["a", 2, 0, 10], ["b", 2, 10, 20]]
    # every process: where the other one runs too, each column is shared by weight
    v.js("foldkit.range([20, 29], -1)")
    bars = v.js("foldkit.chart()")
    roots = [bar for bar in bars if bar[1] == 0]
    assert len(roots) == 1 and roots[0][2:] == [0, 10]
    work = [bar[2:] for bar in bars if bar[0] == "work"]
    assert work == [[k + 0.5, k + 1] for k in range(5, 10)]  # app first (tree order), half of each column
    v.page.locator("#tab-time").click()
    assert v.page.locator("#flamechart").is_visible()
    # four rows of 16 px: the root, the processes, main and work, a
    assert v.js("document.getElementById('flamechart').getBoundingClientRect().height") == 4 * 16
    assert "Flame chart of" in v.page.inner_text("#chart-note")
    assert not v.errors
    v.close()
