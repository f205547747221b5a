"""A capture with no sample (an empty file, a `perf script` that failed) never passes a CI step:
`check` exits 2, `fold --strict` exits 2, `report --fail-on-error` has an error row and exits 2;
`flamegraph` of nothing warns and exits 0 like flamegraph.pl, and fails with `--strict`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from foldkit.cli import main
from tests.support.common import DATA, FIXTURES
from tests.support.report import index_rows

BASE = DATA / "check" / "base-1.perf.zst"
#: A perf capture holding only perf's `--header` comment block: no sample.
HEADER_ONLY = b"# ========\n# captured on    : Thu Dec  4 19:00:00 2026\n# ========\n#\n"


@pytest.fixture(params=["empty", "header-only"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "empty.perf"
    path.write_bytes(b"" if request.param == "empty" else HEADER_ONLY)
    return path


def test_check_with_an_empty_side_exits_2(empty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(empty), str(BASE), "-q"]) == 2
    assert "empty.perf: no samples in this capture" in capsys.readouterr().err
    assert main(["check", str(BASE), str(empty), "-q"]) == 2
    assert main(["check", "--baseline", str(BASE), "--baseline", str(empty), "--candidate", str(BASE), "-q"]) == 2


def test_fold_strict_refuses_an_empty_capture(empty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.folded"
    assert main(["fold", str(empty), "--strict", "-o", str(out)]) == 2
    assert "no samples found" in capsys.readouterr().err and not out.exists()
    assert main(["fold", str(empty), "-o", str(out)]) == 0  # without --strict: a warning
    assert "no samples found" in capsys.readouterr().err


def test_flamegraph_of_nothing_warns_and_fails_with_strict(empty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg = tmp_path / "out.svg"
    assert main(["flamegraph", str(empty), "-o", str(svg)]) == 0
    assert "no samples found" in capsys.readouterr().err and svg.is_file()
    svg.unlink()
    assert main(["flamegraph", str(empty), "--strict", "-o", str(svg)]) == 2
    assert "no samples found" in capsys.readouterr().err and not svg.exists()


def test_report_has_an_error_row_for_an_empty_capture(empty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "java.perf", folder)
    shutil.copy(empty, folder / "failed.perf")
    site = tmp_path / "site"
    assert main(["report", str(folder), "-o", str(site), "--fail-on-error", "-q", "-j", "1"]) == 2
    assert "1 of 2 capture(s) could not be read" in capsys.readouterr().err
    row = index_rows(site / "index.html")["failed.perf"]
    assert row["Status"].startswith("error")
