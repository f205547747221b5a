"""Small things a CI user reads (issue 18): summary.json keeps line breaks, the index's "top self"
lists no 0.0 % row, every table column has a header, `--flamechart` without sample times warns,
an unquoted glob after `--baseline` gets a hint, and `report`'s several-maps message suggests its
own `--map PATTERN=MAP` form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from foldkit.analysis.top import top_frame
from foldkit.cli import main
from foldkit.profile import Profile
from foldkit.regression import outputs
from foldkit.report.capture import summarize
from foldkit.report.result import CaptureResult
from tests.support.common import DATA, FIXTURES

CHECK = DATA / "check"


@pytest.fixture(scope="module")
def two_maps_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("maps")
    folder = root / "in"
    folder.mkdir()
    shutil.copy(DATA / "captures" / "bpftrace-mixed-maps.txt.zst", folder / "mixed.bt.zst")
    shutil.copy(FIXTURES / "java.perf", folder)
    site = root / "site"
    assert main(["report", str(folder), "-o", str(site), "-q", "-j", "1"]) == 0
    return site


def test_report_suggests_its_own_map_form(two_maps_report: Path) -> None:
    doc = json.loads((two_maps_report / "summary.json").read_bytes())
    error = next(c for c in doc["captures"] if c["name"] == "mixed.bt.zst")["error"]
    assert "--map 'mixed.bt.zst=@' or --map 'mixed.bt.zst=@user'" in error and "PATTERN=MAP" in error


def test_summary_json_keeps_line_breaks_in_messages(two_maps_report: Path) -> None:
    doc = json.loads((two_maps_report / "summary.json").read_bytes())
    error = next(c for c in doc["captures"] if c["name"] == "mixed.bt.zst")["error"]
    assert "\n  @user (keys" in error and "␊" not in error


def test_top_self_lists_no_zero_share() -> None:
    weights = {"main;hot": 99_980, "main;rare": 20}  # rare: 0.02 %, shown as 0.0 %
    profile = Profile(weights=weights)
    result = CaptureResult(name="x", path="x", slug="x")
    summarize(profile, result, top_frame(profile))
    assert [t.name for t in result.top] == ["hot"]


def test_every_check_table_column_has_a_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md = tmp_path / "check.md"
    code = main(["check", str(CHECK / "base-1.perf.zst"), str(CHECK / "slow-1.perf.zst"), "--budget", "checksum.*<=5%", "--markdown", str(md)])
    assert code == 1
    text = capsys.readouterr().out
    budget_header = next(line for line in text.splitlines() if line.strip().startswith("budget "))
    assert [c.strip() for c in budget_header.split("|")][-1] == "state"
    for line in md.read_text().splitlines():
        if line.startswith("| budget") or line.startswith("| function"):
            assert all(cell.strip() for cell in line.strip().strip("|").split("|")), line
    table = outputs.budgets_table([])
    assert all(c.header for c in table.columns)


def test_flamechart_without_sample_times_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folded = tmp_path / "x.folded"
    folded.write_text("a;b 1\na;c 2\n")
    assert main(["flamegraph", "--flamechart", str(folded), "-o", str(tmp_path / "c.svg")]) == 0
    assert "--flamechart: the input has no sample times" in capsys.readouterr().err
    capture = DATA / "captures" / "perf-c-fp.txt.zst"
    assert main(["flamegraph", "--flamechart", str(capture), "-o", str(tmp_path / "t.svg")]) == 0
    assert "no sample times" not in capsys.readouterr().err


def test_an_unquoted_baseline_glob_gets_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in (1, 2, 3):
        shutil.copy(CHECK / f"base-{n}.perf.zst", tmp_path)
    runs = [str(tmp_path / f"base-{n}.perf.zst") for n in (1, 2, 3)]
    # what the shell makes of `--baseline runs/base-*.perf.zst --candidate x`
    assert main(["check", "--baseline", *runs, "--candidate", str(CHECK / "slow-1.perf.zst"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "unquoted glob that the shell expanded after --baseline: quote it" in err
    assert f"--baseline '{tmp_path}/*.perf.zst'" in err
    # other extra inputs get the plain message
    assert main(["check", str(CHECK / "base-1.perf.zst"), "--baseline", str(tmp_path / "base-1.perf.zst"), "--candidate", "other.txt", "-q"]) == 2
    assert "quote it" not in capsys.readouterr().err
