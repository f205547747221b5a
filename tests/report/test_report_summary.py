"""summary.json and summary.parquet: one row per capture, valid UTF-8 whatever the names."""

from __future__ import annotations

import io
import json
import math

import polars as pl

from foldkit.report.result import CaptureResult, CheckSummary, Regression, TopFunction
from foldkit.report.summary import row, schema, to_json, to_parquet


def sample() -> list[CaptureResult]:
    ok = CaptureResult(
        name="host\udcff/cpu.perf",
        path="/in/host\udcff/cpu.perf",
        slug="host_cpu.perf",
        format="perf",
        compression="zstd",
        event="cpu-clock",
        unit="ns",
        weight=1e9,
        samples=1000,
        stacks=42,
        time_start=10.0,
        time_end=15.5,
        top=[TopFunction("f\x1b", 500.0, 50.0), TopFunction("g", 250.0, 25.0)],
        warnings=["odd line"],
        check=CheckSummary(False, "FAIL: 1 regressed: f", [Regression("f\x1b", "total", 10.0, 20.0, 10.0, 1e-9)]),
    )
    bad = CaptureResult(name="cut.perf.zst", path="/in/cut.perf.zst", slug="cut.perf.zst", status="error", error="truncated\udcfe")
    nan = CaptureResult(name="nan", path="nan", slug="nan", time_start=math.nan, time_end=math.nan, weight=math.inf)
    return [ok, bad, nan]


def test_json_and_parquet_agree() -> None:
    results = sample()
    rows = [row(r, f"captures/{r.slug}/index.html") for r in results]
    doc = json.loads(to_json(rows, {"foldkit": "x"}, results).decode("utf-8"))
    frame = pl.read_parquet(io.BytesIO(to_parquet(rows)))
    assert frame.schema == pl.Schema(schema())
    assert frame["name"].to_list() == [c["name"] for c in doc["captures"]] == ["host\\xff/cpu.perf", "cut.perf.zst", "nan"]
    first = doc["captures"][0]
    assert first["time_span_s"] == 5.5 and first["top"][0] == {"name": "f␛", "self": 500.0, "self_pct": 50.0}
    assert first["regressions"][0]["name"] == "f␛" and first["check_passed"] is False
    assert frame.row(0, named=True)["regressions"] == ["f␛"] and frame.row(0, named=True)["top_self_pct"] == [50.0, 25.0]
    assert doc["captures"][1]["error"] == "truncated\\xfe" and frame["status"].to_list() == ["ok", "error", "ok"]
    third = doc["captures"][2]
    assert third["time_span_s"] is None and third["weight"] is None and third["time_start"] is None
    assert doc["foldkit"] == "x"


def test_no_captures_still_give_typed_empty_files() -> None:
    frame = pl.read_parquet(io.BytesIO(to_parquet([])))
    assert frame.height == 0 and frame.schema == pl.Schema(schema())
    assert json.loads(to_json([], {}, []))["captures"] == []
