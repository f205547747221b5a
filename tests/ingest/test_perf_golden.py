"""Exact folded output of every perf capture, default and --all (FOLDKIT_BLESS=1 rewrites)."""

from __future__ import annotations

import pytest

from foldkit.ingest import FoldOptions, read
from tests.ingest.test_perf_reference import REFERENCE_EVENT
from tests.support.common import DATA, assert_golden

CAPTURES = sorted(p.name.removesuffix(".txt.zst") for p in (DATA / "captures").glob("perf-*.zst"))


@pytest.mark.parametrize("all_", [False, True], ids=["default", "all"])
@pytest.mark.parametrize("name", CAPTURES)
def test_perf_capture_golden(name: str, all_: bool) -> None:
    options = FoldOptions.with_all() if all_ else FoldOptions()
    options = FoldOptions(**{**options.__dict__, "event": REFERENCE_EVENT.get(name)})  # several sampling events: the first
    profile = read(DATA / "captures" / f"{name}.txt.zst", options)
    suffix = ".all" if all_ else ""
    assert_golden(f"perf/{name}{suffix}.folded.zst", profile.to_folded_bytes())
