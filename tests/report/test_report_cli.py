"""`foldkit report` end to end on a folder of mixed real captures: every link resolves, the corrupt
capture has its error row, the summaries agree with the index, exit codes, replacement."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import zstandard

from foldkit.cli import main
from foldkit.report.discover import MARKER
from foldkit.report.progress import plain_progress, progress_display
from foldkit.report.result import CaptureResult
from tests.support.common import DATA, FIXTURES
from tests.support.report import (
    CORRUPT,
    MIXED,
    assert_valid_html,
    check_data,
    index_rows,
    local_links,
    mixed_folder,
    parse_html,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    root = tmp_path_factory.mktemp("report")
    folder = mixed_folder(root)
    site = root / "site"
    code = main(["report", str(folder), "-o", str(site), "--jobs", "2", "-q"])
    return folder, site, code


def test_every_link_resolves_to_a_file(report: tuple[Path, Path, int]) -> None:
    _, site, code = report
    assert code == 0  # a corrupt capture alone does not fail the batch
    pages = [site / "index.html", *sorted(site.glob("captures/*/index.html"))]
    assert len(pages) == 1 + len(MIXED) + 1
    checked = 0
    for page in pages:
        for url, target in local_links(page):
            assert target.is_file(), f"{page}: {url} -> {target} does not exist"
            assert site in target.parents, f"{page}: {url} leaves the report"
            checked += 1
    index_links = {url for url, _ in local_links(site / "index.html")}
    assert {"summary.json", "summary.parquet"} <= index_links
    assert checked > 40


def test_one_row_per_capture_and_an_error_row_for_the_corrupt_one(report: tuple[Path, Path, int]) -> None:
    _, site, _ = report
    rows = index_rows(site / "index.html")
    assert sorted(rows) == sorted([*MIXED, CORRUPT])
    for name, (fmt, timed) in MIXED.items():
        assert rows[name]["Format"] == fmt, name
        assert rows[name]["Status"].startswith(("ok", "warnings")), name
        assert (rows[name]["Time span"] != "—") is timed, name
        assert rows[name]["Top self functions"], name
    assert rows[CORRUPT]["Status"].startswith("error")
    assert "truncated or corrupt zstd" in rows[CORRUPT]["Status"]
    doc = parse_html(site / "index.html")
    skipped = doc.get_element_by_id("skipped").text_content()
    assert "notes.txt" in skipped and ".hidden" not in skipped
    assert "1 could not be read" in doc.get_element_by_id("summary").text_content()


def test_every_page_is_valid_html(report: tuple[Path, Path, int]) -> None:
    _, site, _ = report
    for page in [site / "index.html", *site.glob("captures/*/index.html")]:
        assert_valid_html(page)


def test_summaries_have_the_index_rows(report: tuple[Path, Path, int]) -> None:
    _, site, _ = report
    rows = index_rows(site / "index.html")
    doc = json.loads((site / "summary.json").read_bytes())
    frame = pl.read_parquet(site / "summary.parquet")
    assert sorted(c["name"] for c in doc["captures"]) == sorted(frame["name"].to_list()) == sorted(rows)
    by_name = {c["name"]: c for c in doc["captures"]}
    assert by_name[CORRUPT]["status"] == "error" and by_name[CORRUPT]["error"]
    for name in MIXED:
        c = by_name[name]
        # a folded file does not say what its weights count: no sample count is claimed for it
        assert (c["samples"] is None) is name.endswith(".folded")
        assert ("—" if c["samples"] is None else f"{c['samples']:,}") == rows[name]["Samples"]
        assert f"{c['stacks']:,}" == rows[name]["Stacks"]
        assert len(c["top"]) == 5 and c["top"][0]["name"] == c["top_functions"][0]
        assert (site / c["page"]).is_file()
    assert doc["skipped"] == ["notes.txt"] and doc["foldkit"] and doc["generated"]
    assert frame.filter(pl.col("status") == "error")["name"].to_list() == [CORRUPT]
    assert frame.schema["top_functions"] == pl.List(pl.String)


def test_the_report_is_marked_and_hides_no_temporary_folders(report: tuple[Path, Path, int]) -> None:
    folder, site, _ = report
    assert (site / MARKER).is_file()
    assert sorted(p.name for p in site.parent.iterdir()) == sorted([folder.name, site.name])


def test_fail_on_error_exits_2_with_the_report_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "java.perf", folder)
    (folder / "cut.perf.zst").write_bytes((FIXTURES / "system-mixed.perf.zst").read_bytes()[:20_000])
    site = tmp_path / "site"
    assert main(["report", str(folder), "-o", str(site), "--fail-on-error", "-j", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == f"{site / 'index.html'}\n"
    assert "1 of 2 capture(s) could not be read" in err
    assert "[2/2]" in err and "cut.perf.zst: error" in err
    assert (site / "captures" / "java.perf" / "flamegraph.svg").is_file()


def test_a_report_where_every_capture_failed_exits_2_without_fail_on_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("cut-1.perf.zst", "cut-2.perf.zst"):
        (folder / name).write_bytes((FIXTURES / "system-mixed.perf.zst").read_bytes()[:20_000])
    site = tmp_path / "site"
    assert main(["report", str(folder), "-o", str(site), "-j", "1", "-q"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and not site.exists()  # nothing to publish: no report (a previous one would stay)
    assert "none of the 2 capture(s) could be read" in err
    # one good capture among failed ones: error rows, exit 0, as before
    shutil.copy(FIXTURES / "java.perf", folder)
    assert main(["report", str(folder), "-o", str(site), "-j", "1", "-q"]) == 0
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("no capture here\n")
    assert main(["report", str(notes), "-o", str(tmp_path / "empty"), "-q"]) == 2
    assert "no file found is a capture foldkit can read" in capsys.readouterr().err


def test_a_regression_against_the_baseline_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    for name in ("base-1.perf.zst", "base-2.perf.zst", "slow-1.perf.zst"):
        shutil.copy(check_data(name), folder)
    # a build whose checksum_records does five times the work: far beyond what one odd run does
    program = {"main;parse_records": 1500, "main;hash_records": 1400, "main;checksum_records": 150}
    slower = {**program, "main;checksum_records;mix_word": 2500}
    (folder / "slower.folded").write_text("".join(f"{s} {n}\n" for s, n in slower.items()))
    site = tmp_path / "site"
    code = main(["report", str(folder), "-o", str(site), "--baseline", str(folder / "base-1.perf.zst"), "-q"])
    assert code == 1
    assert "1 capture(s) regressed against the baseline: slower.folded" in capsys.readouterr().err
    rows = index_rows(site / "index.html")
    assert rows["slower.folded"]["Check"] == "FAIL"
    assert rows["slower.folded"]["Biggest regressions"].startswith("mix_word")  # the culprit first
    assert rows["slow-1.perf.zst"]["Check"] == "UNDERPOWERED"  # +50% of one function, one run a side
    assert rows["base-2.perf.zst"]["Check"] == "UNDERPOWERED" and rows["base-1.perf.zst"]["Check"] == "UNDERPOWERED"
    assert "(baseline)" in rows["base-1.perf.zst"]["Capture"]
    for row in rows.values():  # a capture with warnings (the check's too) is counted as such
        assert ("warning(s)" in row["Status"]) is row["Status"].startswith("warnings")
    for page in [site / "index.html", *site.glob("captures/*/index.html")]:
        for url, target in local_links(page):
            assert target.is_file(), f"{page}: {url}"
    for kind in ("diff.svg", "check.json", "check.md"):
        assert (site / "captures" / "slower.folded" / kind).is_file()
    summary = json.loads((site / "summary.json").read_bytes())
    slow = next(c for c in summary["captures"] if c["name"] == "slower.folded")
    assert slow["check_passed"] is False and next(r["name"] for r in slow["regressions"]) == "mix_word"
    assert main(["report", str(folder / "base-2.perf.zst"), "-o", str(site), "--baseline", str(folder / "base-1.perf.zst"), "-q"]) == 0


def test_run_noise_reaches_every_capture_s_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`report --baseline --run-noise` is check's `--run-noise`: recorded in each check.json, bounds refused."""
    folder = tmp_path / "runs"
    folder.mkdir()
    for name in ("base-1.perf.zst", "base-2.perf.zst"):
        shutil.copy(check_data(name), folder)
    site = tmp_path / "site"
    args = ["report", str(folder), "-o", str(site), "--baseline", str(folder / "base-1.perf.zst"), "-q"]
    assert main([*args, "--run-noise", "3.5"]) == 0
    checked = json.loads((site / "captures" / "base-2.perf.zst" / "check.json").read_bytes())
    assert checked["settings"]["run_noise_pct"] == pytest.approx(3.5)
    assert main([*args, "--run-noise", "150"]) == 2
    assert "--run-noise must be" in capsys.readouterr().err


def test_a_baseline_without_sample_counts_is_refused_early(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    offcpu = DATA / "captures" / "libbpf-tools-offcputime.txt.zst"
    assert main(["report", str(FIXTURES / "java.perf"), "-o", str(site), "--baseline", str(offcpu)]) == 2
    assert "--baseline" in capsys.readouterr().err and not site.exists()


def test_rerunning_replaces_and_foreign_folders_need_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["report", str(FIXTURES / "java.perf"), "-o", str(site), "-q"]) == 0
    assert main(["report", str(FIXTURES / "bcc-profile.txt"), "-o", str(site), "-q"]) == 0
    assert [p.name for p in (site / "captures").iterdir()] == ["bcc-profile.txt"]
    other = tmp_path / "documents"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert main(["report", str(FIXTURES / "java.perf"), "-o", str(other), "-q"]) == 2
    assert "use --force" in capsys.readouterr().err and (other / "keep.txt").exists()
    assert main(["report", str(FIXTURES / "java.perf"), "-o", str(other), "-q", "--force"]) == 0
    assert not (other / "keep.txt").exists() and (other / "index.html").is_file()


def test_the_output_may_not_replace_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "java.perf", folder)
    assert main(["report", str(folder), "-o", str(folder), "--force"]) == 2
    assert main(["report", str(folder / "java.perf"), "-o", str(tmp_path), "--force"]) == 2
    assert "would replace the input" in capsys.readouterr().err
    assert (folder / "java.perf").is_file()
    # a report inside the input folder is fine, and is not read as captures the next time
    site = folder / "site"
    assert main(["report", str(folder), "-o", str(site), "-q"]) == 0
    assert main(["report", str(folder), "-o", str(site), "-q"]) == 0
    assert list(index_rows(site / "index.html")) == ["java.perf"]


def test_missing_input_and_missing_output_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "site")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["report", str(FIXTURES / "java.perf")]) == 2
    assert "--output" in capsys.readouterr().err


def test_command_line_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "java.perf", folder)
    shutil.copy(FIXTURES / "kstack-ustack-comm.bt", folder)
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "foldkit", "report", str(folder), "-o", str(site), "--jobs", "2", "--kernel"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{site / 'index.html'}\n"
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("foldkit: [") for line in lines)
    assert "--kernel --jobs 2" in parse_html(site / "index.html").text_content()


def result(name: str, status: str = "ok", **kwargs: object) -> CaptureResult:
    return CaptureResult(name=name, path=name, slug=name, status=status, **kwargs)  # type: ignore[arg-type]


def test_plain_progress_lines_are_safe_for_terminals() -> None:
    out = io.StringIO()
    show = plain_progress(out, verbose=True)
    show(result("evil\x1b]0;title\x07.perf", format="perf", samples=1234, warnings=["odd\x1b[2J"]), 1, 2)
    show(result("bad.perf", "error", error="cut short"), 2, 2)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "[1/2] evil␛]0;title␇.perf: perf, 1,234 samples, 1 warning(s)" in text
    assert "warning: odd␛[2J" in text and "[2/2] bad.perf: error: cut short" in text


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_and_errors_above_it() -> None:
    out = FakeTerminal()
    with progress_display(stream=out) as show:
        assert show is not None
        show(result("a.perf"), 1, 2)
        show(result("b.perf", "error", error="cut short"), 2, 2)
    text = out.getvalue()
    assert "b.perf: error: cut short" in text and "2/2" in text
    with progress_display(quiet=True, stream=out) as show:
        assert show is None


def test_transform_flags_apply_to_every_capture_and_the_baseline(tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    for name in ("base-1.perf.zst", "slow-1.perf.zst"):
        shutil.copy(check_data(name), folder)
    site = tmp_path / "site"
    args = ["report", str(folder), "-o", str(site), "-q", "--focus", "^hash_records$", "--baseline", str(folder / "base-1.perf.zst")]
    assert main(args) == 0  # within hash_records, the slow build does not regress
    for name in ("base-1.perf.zst", "slow-1.perf.zst"):
        folded = zstandard.ZstdDecompressor().decompressobj().decompress((site / "captures" / name / "stacks.folded.zst").read_bytes())
        assert folded and all(b";hash_records" in line for line in folded.splitlines())
    assert "--focus '^hash_records$'" in parse_html(site / "index.html").get_element_by_id("summary").getnext().text_content()


def test_an_interrupted_run_exits_130_and_keeps_the_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from foldkit.report import build

    site = tmp_path / "site"
    assert main(["report", str(FIXTURES / "java.perf"), "-o", str(site), "-q"]) == 0
    before = sorted(p.relative_to(site) for p in site.rglob("*"))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "process_all", interrupted)
    assert main(["report", str(FIXTURES / "bcc-profile.txt"), "-o", str(site), "-q"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["site"]
