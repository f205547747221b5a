"""`foldkit check`: root frames (comm/PID/TID) are never functions, the JUnit and verdict counts
agree, tables are apart, and sample counts are compared for CPU profiles of the same length."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from foldkit.cli import main
from foldkit.profile import Profile
from foldkit.regression import gate
from foldkit.regression import outputs as out


def comm_profile(unwound: int, lost: int, slow: int = 0) -> Profile:
    """1,000 samples of python3: `lost` of them with no code frame under the comm root frame."""
    counts = {"python3": lost, "python3;main;work": unwound - slow, "python3;main;slow": 100 + slow}
    counts["python3;main;idle"] = 1000 - sum(counts.values())
    return Profile(weights=dict(counts), counts=dict(counts), format="perf", meta={"root_frames": ("comm",)})


def test_a_comm_root_frame_is_never_a_regressed_function() -> None:
    result = gate.check_profiles([comm_profile(600, 3)], [comm_profile(600, 30)])
    assert "python3" not in {name for name, _, _ in result.functions()}
    assert result.passed and result.no_code_shares() == (0.003, 0.03)
    message = out.no_code_message(result)
    assert message is not None and "0.30% -> 3.00%" in message
    assert message in out.to_text(result) and "0.30% -&gt; 3.00%" in out.to_markdown(result).decode()
    junit = etree.fromstring(out.to_junit(result))
    assert junit.find(".//property[@name='no_code_frame']").get("value") == message
    assert json.loads(out.to_json(result))["no_code_frame_pct"] == [pytest.approx(0.3), pytest.approx(3.0)]


def test_unchanged_weight_without_code_frames_is_not_mentioned() -> None:
    result = gate.check_profiles([comm_profile(600, 3)], [comm_profile(600, 3)])
    assert out.no_code_message(result) is None and "without a code frame" not in out.to_text(result)


def test_without_declared_root_frames_the_first_frame_is_a_function() -> None:
    plain = Profile(weights={"a;b": 5, "a": 5})
    assert gate.code_stacks({"a;b": 5, "a": 5}, 0) == ({"a;b": 5, "a": 5}, 0)
    assert gate.code_stacks({"c;a;b": 5, "c": 4, "d;a;b": 1}, 1) == ({"a;b": 6}, 4)
    assert "a" in {n for n, _, _ in gate.check_profiles([plain], [plain]).functions()}


def test_junit_counts_what_the_verdict_counts() -> None:
    base, cand = comm_profile(600, 3), comm_profile(450, 3, slow=150)
    for options in (gate.CheckOptions(), gate.CheckOptions(budgets=(gate.Budget.parse("idle<=50%"),))):
        result = gate.check_profiles([base], [cand], options)
        junit = etree.fromstring(out.to_junit(result))
        cases = junit.findall(".//testcase")
        assert int(junit.get("tests")) == len(cases) == out.checked(result)
        functions = re.search(r"(\d+) functions checked", out.verdict(gate.check_profiles([base], [base], options)))
        assert functions is not None and int(functions.group(1)) == len(result.functions())


def test_a_blank_line_separates_the_tables() -> None:
    def profile(**counts: int) -> Profile:
        return Profile(weights={f"main;{k}": v for k, v in counts.items()})

    base, cand = profile(a=400, b=300, c=200, d=100), profile(a=250, b=280, c=350, d=120)
    result = gate.check_profiles([base, base], [cand, cand])
    text = out.to_text(result)
    assert "regressions (culprit first):" in text and f"\n\n{out.OTHER_TITLE}" in text


def perf_capture(samples: dict[str, int], seconds: float, period: int = 10101010) -> bytes:
    """`perf script` text: `samples` (leaf -> count) of prog under main, spread over `seconds`."""
    records = []
    total = sum(samples.values())
    i = 0
    for leaf, n in samples.items():
        for _ in range(n):
            t = 100.0 + seconds * i / max(1, total - 1)
            records.append(
                f"prog 4242 [000] {t:.6f}: {period} cpu-clock: \n"
                f"\t    1111 {leaf}+0x1 (/usr/bin/prog)\n\t    2222 main+0x2 (/usr/bin/prog)\n"
            )
            i += 1
    return "\n".join(records).encode() + b"\n"


def test_a_uniform_slowdown_fails_when_counts_are_comparable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, slow, short = tmp_path / "base.perf", tmp_path / "slow.perf", tmp_path / "short.perf"
    base.write_bytes(perf_capture({"parse": 300, "render": 200}, 10.0))
    slow.write_bytes(perf_capture({"parse": 600, "render": 400}, 10.0))  # same shares, twice the CPU
    short.write_bytes(perf_capture({"parse": 600, "render": 400}, 5.0))  # a different duration

    def sides(candidate: Path) -> list[str]:  # two runs a side (here the same capture twice)
        return ["--baseline", str(base), "--baseline", str(base), "--candidate", str(candidate), "--candidate", str(candidate)]

    assert main(["check", *sides(slow)]) == 1
    text = capsys.readouterr().out
    assert "self count" in text and "every run is a cpu-clock profile sampled every 10101010 ns over 10.0 s" in text
    assert main(["check", *sides(slow), "--shares-only"]) == 0
    assert main(["check", *sides(short)]) == 0
    assert "count" not in capsys.readouterr().out
    assert main(["check", *sides(short), "--absolute"]) == 1
    assert "(asked for with --absolute)" in capsys.readouterr().out


def test_comparable_needs_one_cpu_event_one_period_and_one_duration() -> None:
    def perf(event: str, period: int) -> Profile:
        return Profile(weights={"p;a": 3 * period}, counts={"p;a": 3}, format="perf", event=event, unit="ns")

    cpu = perf("cpu-clock:ppp", 1000)
    assert gate.comparable_cpu_runs([cpu], [cpu], [1.0, 1.0]) is not None
    assert gate.comparable_cpu_runs([cpu], [cpu], [1.0, 1.5]) is None
    assert gate.comparable_cpu_runs([cpu], [cpu], [1.0, None]) is None
    assert gate.comparable_cpu_runs([cpu], [perf("cpu-clock", 2000)], [1.0, 1.0]) is None
    assert gate.comparable_cpu_runs([perf("sched:sched_switch", 1)], [perf("sched:sched_switch", 1)], [1.0, 1.0]) is None
