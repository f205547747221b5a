"""Units survive folded text: `fold --unit-header` writes `# foldkit: unit=... event=...`, every
reading command reads it back, and `--unit` says what headerless weights count."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.ingest.folded import parse_header
from foldkit.profile import Profile, folded_header
from tests.support.common import DATA
from tests.support.svg import frames

CAPTURE = DATA / "captures" / "perf-c-fp.txt.zst"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def with_header(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("units") / "cpu.folded"
    assert main(["fold", str(CAPTURE), "--unit-header", "-o", str(path)]) == 0
    return path


def test_fold_writes_the_header_only_when_asked(with_header: Path, tmp_path: Path) -> None:
    first, second = with_header.read_bytes().split(b"\n")[:2]
    assert first == b"# foldkit: unit=ns event=cpu-clock roots=comm" and not second.startswith(b"#")
    plain = tmp_path / "plain.folded"
    assert main(["fold", str(CAPTURE), "-o", str(plain)]) == 0
    assert plain.read_bytes() == with_header.read_bytes().split(b"\n", 1)[1]  # stackcollapse-perf.pl's text


def test_the_header_round_trips_odd_values() -> None:
    line = folded_header("µs of off-cpu", "sched:sched_switch")
    assert parse_header(line.encode()) == {"unit": "µs of off-cpu", "event": "sched:sched_switch"}
    assert parse_header(b"# a comment") == {}
    text = Profile(weights={"a;b": 2}, unit="bytes").to_folded_bytes(header=True)
    assert text == b"# foldkit: unit=bytes\na;b 2\n"


@pytest.mark.parametrize("by", ["path", "stdin"])
def test_top_and_flamegraph_read_the_unit(with_header: Path, by: str) -> None:
    data = with_header.read_bytes()
    source, stdin = (str(with_header), None) if by == "path" else ("-", data)
    top = run("top", source, "-n", "3", stdin=stdin)
    assert top.returncode == 0 and b"self (ns)" in top.stdout and b"samples" not in top.stdout
    svg = run("flamegraph", source, stdin=stdin)
    assert svg.returncode == 0 and " ns, 100.00%)" in frames(svg.stdout)[0].title


def test_unit_flag_names_what_headerless_weights_count(tmp_path: Path) -> None:
    plain = tmp_path / "plain.folded"
    plain.write_bytes(b"main;work 3000\nmain;idle 1000\n")
    top = run("top", str(plain)).stdout
    assert b"self (weight)" in top and b"samples" not in top, "a headerless weight may be ns: never 'samples'"
    assert frames(run("flamegraph", str(plain)).stdout)[0].title == "all (4,000 weight, 100.00%)"
    assert b"self (bytes)" in run("top", str(plain), "--unit", "bytes").stdout
    svg = run("flamegraph", str(plain), "--unit", "bytes").stdout
    assert frames(svg)[0].title == "all (4,000 bytes, 100.00%)"
    assert b"unit=bytes" in run("fold", str(plain), "--unit", "bytes", "--unit-header").stdout


def test_check_reads_period_weighted_folded_text_with_a_time_unit(with_header: Path) -> None:
    result = run("check", str(with_header), str(with_header))
    assert result.returncode == 0, result.stderr
    offcpu = with_header.with_name("offcpu.folded")
    offcpu.write_bytes(b"# foldkit: unit=us\nmain;sleep 1234\nmain;read 77\n")
    refused = run("check", str(offcpu), str(offcpu))
    assert refused.returncode == 2 and b"weights are times (us)" in refused.stderr


def test_unit_header_needs_folded_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fold", str(CAPTURE), "--unit-header", "-o", str(tmp_path / "x.parquet")]) == 2
    assert "--unit-header is for folded text" in capsys.readouterr().err


INFERNO = shutil.which("inferno-flamegraph")
FLAMEGRAPH_PL = Path("/work/tools/FlameGraph/flamegraph.pl")


@pytest.mark.skipif(INFERNO is None, reason="inferno-flamegraph is not installed")
def test_inferno_draws_the_same_graph_with_the_header(with_header: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.folded"
    plain.write_bytes(with_header.read_bytes().split(b"\n", 1)[1])
    svgs = [subprocess.run([str(INFERNO), str(p)], capture_output=True, check=True) for p in (with_header, plain)]
    assert svgs[0].stdout == svgs[1].stdout and svgs[0].stderr == b""


@pytest.mark.skipif(not FLAMEGRAPH_PL.exists(), reason="FlameGraph's flamegraph.pl is not in /work/tools")
def test_flamegraph_pl_skips_the_header_line(with_header: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.folded"
    plain.write_bytes(with_header.read_bytes().split(b"\n", 1)[1])
    svgs = [subprocess.run(["perl", str(FLAMEGRAPH_PL), str(p)], capture_output=True, check=True) for p in (with_header, plain)]
    titles = [sorted(re.findall(rb"<title>([^<]*)</title>", s.stdout)) for s in svgs]
    assert len(titles[0]) > 20 and titles[0] == titles[1]
    assert b"Ignored 1 lines with invalid format" in svgs[0].stderr


def test_report_of_a_folded_copy_claims_no_samples(tmp_path: Path) -> None:
    """Issue 18: the report called a folded copy's ns "19,969,696,770 samples"."""
    import json

    import polars as pl

    from tests.support.report import index_rows

    folder = tmp_path / "in"
    folder.mkdir()
    assert main(["fold", str(CAPTURE), "-o", str(folder / "plain.folded")]) == 0
    assert main(["fold", str(CAPTURE), "--unit-header", "-o", str(folder / "headed.folded")]) == 0
    site = tmp_path / "site"
    assert main(["report", str(folder), "-o", str(site), "-q", "-j", "1"]) == 0
    rows = index_rows(site / "index.html")
    for name, unit in (("plain.folded", "weight"), ("headed.folded", "ns")):
        assert rows[name]["Samples"] == "—", "no sample count is claimed for folded weights"
        assert rows[name]["Weight"].endswith(f" {unit}")
    captures = {c["name"]: c for c in json.loads((site / "summary.json").read_bytes())["captures"]}
    assert captures["plain.folded"]["unit"] == "weight" and captures["plain.folded"]["samples"] is None
    frame = pl.read_parquet(site / "summary.parquet").filter(pl.col("name") == "plain.folded")
    assert frame["unit"].to_list() == ["weight"] and frame["samples"].to_list() == [None]
