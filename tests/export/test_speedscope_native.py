"""The speedscope export of a timeline is written by the native core from the timeline's arrays (no
Python tuple per sample), byte for byte as the Python writer (`speedscope_document` + `json.dumps`,
the reference) writes it."""

from __future__ import annotations

import json
import math
import os
from array import array
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit.export import speedscope
from foldkit.ingest import FoldOptions, read
from foldkit.native import native_core
from foldkit.profile import Profile
from foldkit.timeline import Timeline
from tests.support.common import DATA

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")


def _reference(profile: Profile) -> bytes:
    return json.dumps(speedscope.speedscope_document(profile), separators=(",", ":")).encode("utf-8")


NAMES = ["main", "a b", 'q"uote', "back\\slash", "tab\tx", "ctl\x01\x7f", "caf\u00e9", "\u20ac", "emoji\U0001f600", "", "[unknown]",
         "x\udcff"]
TIMES = [0.0, -0.0, 1.5, 1.5, 2.25, 1e-9, 1e9, math.nan]


@settings(max_examples=300)
@given(
    st.lists(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map(";".join), min_size=1, max_size=6, unique=True),
    st.lists(st.tuples(st.sampled_from(TIMES), st.integers(0, 5), st.integers(-(2**63), 2**63 - 1)), max_size=30),
    st.sampled_from(["ns", "samples", "bytes"]),
)
def test_native_writer_equals_the_reference(stacks: list[str], rows: list[tuple[float, int, int]], unit: str) -> None:
    rows = [(t, i % len(stacks), w) for t, i, w in rows]
    timeline = Timeline(stacks, array("d", [r[0] for r in rows]), array("I", [r[1] for r in rows]), array("q", [r[2] for r in rows]))
    profile = Profile(weights={s: 1 for s in stacks}, unit=unit, event="cpu-clock", sources=["/x/cap.perf"], timeline=timeline)
    native = speedscope._native_parts(profile)
    expect_native = not any(math.isnan(r[0]) for r in rows) and not any("\udcff" in s for s in stacks)
    assert (native is not None) == expect_native
    assert speedscope.to_speedscope_bytes(profile) == _reference(profile)


@pytest.mark.parametrize("name", ["perf-c-fp", "perf-system-mixed", "perf-java", "perf-system-hide-callgraph"])
def test_fold_to_speedscope_is_the_twins(name: str, tmp_path: Path) -> None:
    from foldkit.cli import main

    source = DATA / "captures" / f"{name}.txt.zst"
    outs = {}
    for native in (True, False):
        out = tmp_path / f"{native}.speedscope.json"
        with mock.patch.dict(os.environ, {} if native else {"FOLDKIT_NATIVE": "0"}):
            assert main(["fold", str(source), "-o", str(out), "-q"]) in (0, None)
        outs[native] = out.read_bytes()
    assert outs[True] == outs[False]
    profile = read(source, FoldOptions(keep_time=True))
    assert speedscope._native_parts(profile) is not None, "the native writer took the capture's timeline"
