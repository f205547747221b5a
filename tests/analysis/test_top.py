"""`foldkit top`: self and total per function (dso, comm), table formats, CLI."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.analysis.dso import META_KEY, perf_frame_dsos, read_with_dsos
from foldkit.analysis.functions import aggregate, comm_of, dso_of
from foldkit.analysis.top import top_frame, top_table
from foldkit.cli import main
from foldkit.ingest import FoldOptions
from foldkit.profile import Profile
from tests.support.common import DATA, assert_golden, data_bytes

CAPTURE = DATA / "captures" / "perf-system-mixed.txt.zst"
WORKLOAD = DATA / "check" / "base-1.perf.zst"


def rows(frame: pl.DataFrame) -> dict[str, tuple[float, float]]:
    return {name: (s, t) for name, s, t in frame.select("name", "self", "total").iter_rows()}


def test_self_is_leaf_weight_and_total_counts_recursion_once() -> None:
    weights = {"main;f;f;f": 5, "main;f;g": 3, "main;g": 2, "main": 1}
    assert rows(aggregate(weights)) == {"main": (1, 11), "f": (5, 8), "g": (5, 5)}


def brute_force(weights: dict[str, int]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for stack, w in weights.items():
        frames = stack.split(";")
        out[frames[-1]][0] += w
        for f in set(frames):
            out[f][1] += w
    return {k: (v[0], v[1]) for k, v in out.items()}


stacks = st.dictionaries(
    st.lists(st.sampled_from(["a", "b", "c", "d", "x y", "[libc.so.6]", "é"]), min_size=1, max_size=8).map(";".join),
    st.integers(1, 1000),
    max_size=30,
)


@given(stacks)
def test_aggregate_matches_a_plain_count(weights: dict[str, int]) -> None:
    got = rows(aggregate(weights))
    assert got == brute_force(weights)
    total = sum(weights.values())
    assert sum(s for s, _ in got.values()) == total
    assert all(s <= t <= total for s, t in got.values())


def test_non_utf8_frame_names_are_shown_escaped() -> None:
    bad = b"main;caf\xe9".decode("utf-8", "surrogateescape")
    assert rows(aggregate({bad: 2})) == {"main": (0, 2), "caf\\xe9": (2, 2)}


def test_comm_strips_pid_and_tid() -> None:
    assert comm_of("java-4242/4250") == "java"
    assert comm_of("kworker/0:1-77") == "kworker/0:1"
    assert comm_of("sort") == "sort"
    assert rows(aggregate({"java-1/2;a": 3, "java-9/9;b": 4, "sh-3;c": 1}, "comm")) == {"java": (7, 7), "sh": (1, 1)}


def test_dso_from_the_map_or_the_name() -> None:
    known = {"memcpy": "libc.so.6"}
    assert dso_of("memcpy", known) == "libc.so.6"
    assert dso_of("memcpy_[i]", known) == "libc.so.6"
    assert dso_of("schedule_[k]") == "[kernel]"
    assert dso_of("Interpreter_[j]") == "[jit]"
    assert dso_of("[libz.so.1 <7f00aa>]") == "libz.so.1"
    assert dso_of("[unknown]") == dso_of("whatever") == "[unknown]"
    got = rows(aggregate({"app;main;memcpy": 3, "app;main": 1}, "dso", {"main": "app", "memcpy": "libc.so.6"}))
    assert got == {"app": (1, 4), "libc.so.6": (3, 3)}


def test_perf_dsos_are_recovered_from_the_capture() -> None:
    dsos = perf_frame_dsos(data_bytes("check/base-1.perf"), FoldOptions())
    assert dsos["msort_with_tmp"] == "libc.so.6"
    assert dsos["checksum_records"] == "workload"
    profile = read_with_dsos([str(WORKLOAD)], FoldOptions(jobs=1))
    frame = top_frame(profile, by="dso", sort="total")
    assert frame["name"][0] in ("libc.so.6", "workload")
    assert profile.meta[META_KEY]["mix_word"] == "workload"


def test_top_sorts_limits_and_reports_percentages() -> None:
    profile = Profile(weights={"m;a": 6, "m;b": 3, "m;b;a": 1}, unit="samples")
    table = top_table(profile, sort="self", limit=2)
    assert table.frame["name"].to_list() == ["a", "b"]
    assert table.frame["self_pct"].to_list() == pytest.approx([70.0, 30.0])
    assert table.meta["rows_total"] == 3
    by_total = top_table(profile, sort="total", limit=0)
    assert by_total.frame["name"].to_list() == ["m", "a", "b"]




def test_cli_text_file_is_golden(tmp_path: Path) -> None:
    path = tmp_path / "top.txt"
    assert main(["top", str(CAPTURE), "-n", "15", "-o", str(path)]) == 0
    assert_golden("top/perf-system-mixed.top.txt", path.read_bytes())


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_cli_formats_by_flag_and_by_suffix_agree(tmp_path: Path, fmt: str) -> None:
    by_suffix = tmp_path / f"top.{fmt}"
    by_flag = tmp_path / "top.out"
    assert main(["top", str(CAPTURE), "-o", str(by_suffix)]) == 0
    assert main(["top", str(CAPTURE), f"--{fmt}", "-o", str(by_flag)]) == 0
    assert by_suffix.read_bytes() == by_flag.read_bytes()
    if fmt == "parquet":
        frame = pl.read_parquet(by_suffix)
    elif fmt == "csv":
        frame = pl.read_csv(by_suffix)
    else:
        doc = json.loads(by_suffix.read_text())
        assert doc["by"] == "function" and doc["unit"] == "ns" and doc["samples"] > 0
        frame = pl.DataFrame(doc["rows"])
    assert frame.columns == ["name", "self", "self_pct", "total", "total_pct"]
    assert frame.height == 20
    assert frame["self"].to_list() == sorted(frame["self"].to_list(), reverse=True)


def test_cli_compressed_csv(tmp_path: Path) -> None:
    import zstandard

    path = tmp_path / "top.csv.zst"
    assert main(["top", str(CAPTURE), "-n", "3", "-o", str(path)]) == 0
    text = zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes()).decode()
    assert text.startswith("name,self,self_pct,total,total_pct\n") and text.count("\n") == 4


def test_cli_stdin_and_path_agree(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    args = [sys.executable, "-m", "foldkit", "top", "--by", "dso", "--csv"]
    by_path = subprocess.run([*args, str(WORKLOAD)], capture_output=True, timeout=120)
    by_stdin = subprocess.run([*args, "-"], input=WORKLOAD.read_bytes(), capture_output=True, timeout=120)
    assert by_path.returncode == by_stdin.returncode == 0
    assert by_path.stdout == by_stdin.stdout
    assert b"libc.so.6" in by_path.stdout


def test_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["top", str(CAPTURE), "--by", "file"]) == 2
    assert "--by must be one of" in capsys.readouterr().err
    assert main(["top", str(CAPTURE), "--csv", "--json"]) == 2
    assert main(["top", str(tmp_path / "missing.perf")]) == 2
