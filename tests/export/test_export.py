"""Exports chosen by the output's suffix: folded (plain or compressed), speedscope, Parquet."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
import zstandard

import foldkit
from foldkit.errors import UsageError
from foldkit.export import EXPORTERS, exporter_for
from foldkit.export.speedscope import speedscope_document
from foldkit.profile import Profile
from foldkit.transform.roots import ROOT_FRAMES
from tests.support.transform import capture, run_cli


@pytest.mark.parametrize(
    ("name", "exporter"),
    [
        (None, "folded"),
        ("-", "folded"),
        ("out.folded", "folded"),
        ("out.txt", "folded"),
        ("out.folded.zst", "folded"),
        ("OUT.SPEEDSCOPE.JSON", "speedscope"),
        ("dir.v2/out.speedscope.json.gz", "speedscope"),
        ("out.parquet", "parquet"),
    ],
)
def test_exporter_by_suffix(name: str | None, exporter: str) -> None:
    assert exporter_for(name).name == exporter


@pytest.mark.parametrize(("name", "message"), [("out.json", "did you mean .speedscope.json"), ("x.parquet.zst", "compressed internally")])
def test_misleading_suffixes_are_refused(name: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        exporter_for(name)


def test_every_exporter_round_trips_through_fold(tmp_path: Path) -> None:
    src = capture("perf-c-fp.txt")
    plain = foldkit.read(src)
    for suffix in EXPORTERS:
        out = tmp_path / f"p{suffix}"
        code, _, err = run_cli(["fold", src, "-o", str(out)])
        assert code == 0, err
        assert out.stat().st_size > 0
    assert (tmp_path / "p.folded").read_bytes() == plain.to_folded_bytes()


def test_compressed_folded(tmp_path: Path) -> None:
    src = capture("perf-c-fp.txt")
    want = foldkit.read(src).to_folded_bytes()
    for name, decompress in (("a.folded.gz", gzip.decompress), ("a.folded.zst", zstandard.ZstdDecompressor().decompress)):
        code, _, _ = run_cli(["fold", src, "-o", str(tmp_path / name)])
        assert code == 0
        assert decompress((tmp_path / name).read_bytes()) == want


def test_speedscope_uses_the_timeline_in_time_order() -> None:
    p = Profile(
        weights={"a;b": 3, "a;c": 4},
        counts={"a;b": 2, "a;c": 1},
        unit="ns",
        timeline=[(2.0, "a;b", 1), (1.0, "a;c", 4), (3.0, "a;b", 2)],  # type: ignore[list-item]
        sources=["x.perf"],
        event="cpu-clock",
    )
    doc = speedscope_document(p)
    frames = [f["name"] for f in doc["shared"]["frames"]]  # type: ignore[index]
    prof = doc["profiles"][0]  # type: ignore[index]
    assert prof["type"] == "sampled" and prof["unit"] == "nanoseconds"
    assert [[frames[i] for i in s] for s in prof["samples"]] == [["a", "c"], ["a", "b"], ["a", "b"]]
    assert prof["weights"] == [4, 1, 2] and prof["endValue"] == 7
    assert doc["name"] == "x.perf (cpu-clock)"


def test_speedscope_aggregate_without_timeline() -> None:
    doc = speedscope_document(Profile(weights={"z": 1, "a;b": 2}, unit="samples"))
    prof = doc["profiles"][0]  # type: ignore[index]
    assert prof["unit"] == "none" and prof["weights"] == [2, 1] and len(prof["samples"]) == 2


def test_speedscope_from_fold_has_one_sample_per_perf_sample(tmp_path: Path) -> None:
    out = tmp_path / "c.speedscope.json"
    src = capture("perf-c-fp.txt")
    assert run_cli(["fold", src, "-o", str(out)])[0] == 0
    doc = json.loads(out.read_bytes())
    prof = doc["profiles"][0]
    assert len(prof["samples"]) == foldkit.read(src).samples == 310
    assert sum(prof["weights"]) == foldkit.read(src).total
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"


def test_non_utf8_frames_are_escaped_in_json_and_parquet(tmp_path: Path) -> None:
    raw = b"caf\xe9;main 3\n"
    p = foldkit.read(raw)
    assert "\udce9" in next(iter(p.weights))
    doc = speedscope_document(p)
    assert doc["shared"]["frames"][0]["name"] == "caf\\xe9"  # type: ignore[index]
    p.export(tmp_path / "x.parquet")
    assert pl.read_parquet(tmp_path / "x.parquet")["stack"].to_list() == ["caf\\xe9;main"]
    p.export(tmp_path / "x.folded")
    assert (tmp_path / "x.folded").read_bytes() == raw


def test_parquet_columns_follow_what_is_known(tmp_path: Path) -> None:
    folded_only = Profile(weights={"a;b": 2})
    assert folded_only.to_dataframe().columns == ["stack", "frames", "weight", "unit"]
    bpf = Profile(weights={"find;22883;x": 1.5}, meta={ROOT_FRAMES: ("comm", "pid")}, event="profile:hz:99")
    frame = bpf.to_dataframe()
    assert frame.columns == ["stack", "frames", "weight", "comm", "pid", "event", "unit"]
    assert frame.row(0) == ("find;22883;x", ["find", "22883", "x"], 1.5, "find", 22883, "profile:hz:99", "samples")
    path = tmp_path / "b.parquet"
    bpf.export(path)
    assert pl.read_parquet(path).equals(frame)
