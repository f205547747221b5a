"""Report: a capture's error of several lines (bpftrace's listing of stack maps) stays readable on
its pages and in the progress output, and `--map PATTERN=MAP` picks a map per capture."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.report.progress import describe, plain_progress
from foldkit.report.result import CaptureResult
from tests.support.common import DATA
from tests.support.report import parse_html

MAPS = "bpftrace-mixed-maps.txt.zst"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    for name in (MAPS, "perf-c-fp.txt.zst"):
        shutil.copyfile(DATA / "captures" / name, root / name)
    return root


def error_result() -> CaptureResult:
    return CaptureResult(name="x.txt", path="/in/x.txt", slug="x.txt", status="error", error="2 stack maps:\n  @ (kstack)\n  @user\x1b (ustack)\nChoose with --map")


def test_progress_keeps_the_lines_of_an_error() -> None:
    text = describe(error_result())
    assert text.splitlines() == ["error: 2 stack maps:", "      @ (kstack)", "      @user␛ (ustack)", "    Choose with --map"]
    stream = io.StringIO()
    plain_progress(stream)(error_result(), 1, 1)
    assert "␊" not in stream.getvalue() and stream.getvalue().count("\n") == 4


def test_the_pages_show_the_map_listing_line_by_line(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["report", str(folder), "-o", str(site)]) == 0
    assert "␊" not in capsys.readouterr().err
    page = parse_html(site / "captures" / MAPS / "index.html")
    error = page.get_element_by_id("error")
    lines = [line.strip() for line in error.itertext()]
    assert len(error.findall("br")) == 3 and "␊" not in error.text_content()
    assert lines[1:3] == ["@ (keys: kstack; 98 entries, total 989)", "@user (keys: ustack, string; 829 entries, total 989)"]
    index = parse_html(site / "index.html")
    assert any(len(div.findall("br")) == 3 for div in index.find_class("error"))


def test_map_pattern_picks_a_map_for_matching_captures_only(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["report", str(folder), "-o", str(site), "--map", "bpftrace-*=@user"]) == 0
    err = capsys.readouterr().err
    assert f"{MAPS}: bpftrace, 989 samples" in err and "perf-c-fp.txt.zst: perf, 310 samples" in err
    folded = (site / "captures" / MAPS).glob("stacks.folded*")
    assert next(folded).stat().st_size > 0
    assert main(["report", str(folder), "-o", str(tmp_path / "bad"), "--map", "=@user"]) == 2
    assert "expected MAP, or PATTERN=MAP" in capsys.readouterr().err
