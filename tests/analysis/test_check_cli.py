"""`foldkit check` (and `top`, `diff`) from the command line: inputs in any format, by path or
stdin, several per side; exit codes 0/1/2 and their messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.cli import main
from tests.support.common import DATA, data_bytes

CHECK = DATA / "check"
BASE1, BASE2 = CHECK / "base-1.perf.zst", CHECK / "base-2.perf.zst"
SLOW1, SLOW2 = CHECK / "slow-1.perf.zst", CHECK / "slow-2.perf.zst"
#: Two runs a side: the fewest that measure run-to-run variance (one a side is underpowered).
TWO_BASE = ["--baseline", str(CHECK / "base-[12].perf.zst")]
TWO_SLOW = ["--candidate", str(CHECK / "slow-[12].perf.zst")]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=120)


def test_end_to_end_exit_codes_and_streams() -> None:
    ok = run("check", *TWO_BASE, "--candidate", str(CHECK / "base-[34].perf.zst"))
    assert ok.returncode == 0 and b"PASS" in ok.stdout and ok.stderr == b""
    single = run("check", str(BASE1), str(SLOW1))
    assert single.returncode == 0 and single.stdout.startswith(b"foldkit check: UNDERPOWERED") and single.stderr == b""
    bad = run("check", *TWO_BASE, *TWO_SLOW)
    assert bad.returncode == 1 and b"mix_word" in bad.stdout
    assert b"FAIL: 2 regressed: mix_word, checksum_records" in bad.stderr  # the one-line reason, culprit first
    missing = run("check", str(BASE1), str(CHECK / "nope.perf.zst"))
    assert missing.returncode == 2 and b"no such file" in missing.stderr


def test_candidate_from_stdin_equals_by_path(tmp_path: Path) -> None:
    by_path, by_stdin = tmp_path / "p.json", tmp_path / "s.json"
    assert run("check", *TWO_BASE, *TWO_SLOW, "--json", str(by_path), "-q").returncode == 1
    stdin = run("check", *TWO_BASE, "--candidate", "-", "--candidate", str(SLOW2), "--json", str(by_stdin), "-q", stdin=SLOW1.read_bytes())
    assert stdin.returncode == 1
    import json

    a, b = json.loads(by_path.read_text()), json.loads(by_stdin.read_text())
    assert a["regressions"] == b["regressions"]


def test_folded_inputs_work_and_period_weights_are_recognised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """stackcollapse-perf.pl output: period-weighted folded text with no sample counts."""
    folded = tmp_path / "ref.folded"
    folded.write_bytes(data_bytes("expected/perf-system-mixed.folded"))
    assert main(["check", str(folded), str(folded)]) == 0
    out = capsys.readouterr().out
    assert "UNDERPOWERED" in out and "multiple of 2004008" in out
    assert main(["top", str(folded), "-n", "3"]) == 0
    assert main(["diff", str(folded), str(folded), "-o", str(tmp_path / "d.svg")]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-increase", "2"], "percentage points"),
        (["--budget", "foo<5%"], "REGEX<=N%"),
        (["--function", "("], "not a regular expression"),
        (["--alpha", "0"], "--alpha"),
        (["--only"], "--only needs"),
        (["--run-noise", "-1"], "--run-noise"),
        (["--run-noise", "100"], "--run-noise"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BASE1), str(BASE2), *args]) == 2
    assert message in capsys.readouterr().err


def test_run_noise_sets_the_floor_of_run_to_run_noise(tmp_path: Path) -> None:
    """`--run-noise` is the least run-to-run variation assumed: the JSON says which, and a lower
    floor gives a smaller detectable increase on the same captures."""
    import json

    found = {}
    for noise in ("6.5", "0"):
        js = tmp_path / f"{noise}.json"
        args = ["check", *TWO_BASE, "--candidate", str(CHECK / "base-[34].perf.zst"), "--json", str(js), "-q"]
        assert main([*args, "--run-noise", noise] if noise != "6.5" else args) == 0
        found[noise] = json.loads(js.read_text())
    assert found["6.5"]["settings"]["run_noise_pct"] == 6.5 and found["0"]["settings"]["run_noise_pct"] == 0.0
    assert found["6.5"]["run_noise_pct"] >= 6.5 > found["0"]["run_noise_pct"]
    assert found["0"]["detectable_pp_at_10pct"] < found["6.5"]["detectable_pp_at_10pct"]


def test_sides_must_be_given_one_way(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BASE1)]) == 2
    assert "--baseline" in capsys.readouterr().err
    assert main(["check", str(BASE1), str(BASE2), "--candidate", str(SLOW1)]) == 2
    assert main(["check", "-", "-"]) == 2


def test_unmatched_pattern_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BASE1), str(BASE2), "--function", "no_such_function"]) == 0
    assert "matches no frame" in capsys.readouterr().out


def test_every_comparison_command_has_help() -> None:
    for command in ("top", "diff", "check"):
        result = run(command, "--help")
        assert result.returncode == 0 and b"Example" in result.stdout


@pytest.mark.parametrize(
    "capture",
    [
        "perf-system-mixed.txt.zst",
        "bpftrace-kstack-ustack-comm.txt.zst",
        "bcc-profile.txt.zst",
        "bcc-profile-folded.txt.zst",
        "bcc-stackcount-sched-switch.txt.zst",
    ],
)
def test_top_diff_check_read_every_format(capture: str, tmp_path: Path) -> None:
    path = str(DATA / "captures" / capture)
    assert main(["top", path, "-n", "5", "-o", str(tmp_path / "top.csv")]) == 0
    assert len((tmp_path / "top.csv").read_text().splitlines()) == 6
    assert main(["diff", path, path, "-o", str(tmp_path / "d.svg")]) == 0
    assert main(["diff", path, path, "-o", str(tmp_path / "d.folded")]) == 0
    lines = (tmp_path / "d.folded").read_text().splitlines()
    assert lines and all(line.rsplit(" ", 2)[1] == line.rsplit(" ", 2)[2] for line in lines)
    assert main(["check", path, path, "-q"]) == 0


def test_output_writes_the_readable_report_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "check.txt"
    assert main(["check", *TWO_BASE, *TWO_SLOW, "-o", str(report)]) == 1
    text = report.read_text()
    assert text.startswith("foldkit check: FAIL") and "checksum_records" in text
    assert "checksum_records" not in capsys.readouterr().out  # the table went to the file
    quiet = tmp_path / "verdict.txt"
    assert main(["check", "-q", str(CHECK / "base-1.perf.zst"), str(CHECK / "base-2.perf.zst"), "-o", str(quiet)]) == 0
    assert quiet.read_text().startswith("foldkit check: UNDERPOWERED")
