"""Several events in one perf capture: the sampling (on-CPU) event is folded when the others are
tracepoints, whichever comes first in time; several sampling events are refused (exit 2) naming
them and `--event`; `check` refuses to compare different events; `report` says each page's event.
The native folder and the Python reference agree on every case."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.errors import UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.ingest.perf import is_tracepoint
from tests.support.common import DATA, data_bytes
from tests.support.report import index_rows

CAPTURES = DATA / "captures"
#: `perf record -a -g -e cpu-clock -e sched:sched_switch`: the first sample is a sched_switch.
MIXED = CAPTURES / "perf-system-cpuclock-sched-switch.txt.zst"


@pytest.fixture(params=["native", "python"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the native core and with the pure-Python reference folder."""
    if request.param == "python":
        monkeypatch.setenv("FOLDKIT_NATIVE", "0")
    return str(request.param)


def test_the_capture_starts_with_the_tracepoint() -> None:
    first = next(line for line in data_bytes("captures/perf-system-cpuclock-sched-switch.txt").split(b"\n") if line[:1] not in (b"", b"#"))
    assert b"sched:sched_switch:" in first, "the case of the issue: the tracepoint comes first in time"


def test_the_sampling_event_is_folded_when_tracepoints_come_along(engine: str) -> None:
    p = read(MIXED, FoldOptions(jobs=2))
    assert p.event == "cpu-clock" and p.unit == "ns"
    assert p.samples == 2672
    [warning] = p.diagnostics.warnings
    assert "folded the sampling event cpu-clock (2672 samples)" in warning
    assert "sched:sched_switch (238 samples)" in warning and "--event" in warning
    top = p.top(1)
    assert top["name"][0] != "__schedule" and top["self_pct"][0] < 10
    chosen = read(MIXED, FoldOptions(jobs=2, event="sched:sched_switch"))
    assert chosen.event == "sched:sched_switch" and chosen.samples == 238 and not chosen.diagnostics.warnings


@pytest.mark.parametrize(
    ("capture", "named"),
    [
        ("perf-system-cpuclock-taskclock.txt.zst", ["cpu-clock (253 samples)", "task-clock (252 samples)", "--event cpu-clock", "--event task-clock"]),
        ("perf-cpp-two-events.txt.zst", ["page-faults/period=40/ (223 samples)", "cpu-clock/freq=499/ (199 samples)", "--event page-faults", "--event cpu-clock"]),
    ],
)
def test_several_sampling_events_are_refused(engine: str, capture: str, named: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as err:
        read(CAPTURES / capture, FoldOptions(jobs=2))
    assert all(n in str(err.value) for n in named), str(err.value)
    assert main(["fold", str(CAPTURES / capture), "-q"]) == 2
    assert "2 sampling events" in capsys.readouterr().err
    for event in ("cpu-clock", named[3].split()[1]):
        chosen = read(CAPTURES / capture, FoldOptions(jobs=2, event=event))
        assert chosen.samples and not chosen.diagnostics.warnings


def test_one_tracepoint_alone_is_folded(engine: str) -> None:
    p = read(CAPTURES / "perf-sched-switch.txt.zst", FoldOptions(jobs=2))
    assert p.event == "sched:sched_switch" and not p.diagnostics.warnings


def test_several_tracepoints_without_a_sampling_event_are_refused() -> None:
    text = (
        b"a 1 [000] 1.0: sched:sched_wakeup: x\n\tffff f+0x1 (/x)\n\n"
        b"a 1 [000] 2.0: sched:sched_switch: x\n\tffff g+0x1 (/x)\n\n"
    )
    with pytest.raises(UsageError, match=r"2 tracepoint events.*--event sched:sched_wakeup or --event sched:sched_switch"):
        read(text, FoldOptions(jobs=1, format="perf"))


def test_which_events_sample() -> None:
    for event in ("cpu-clock", "task-clock", "cycles", "instructions", "page-faults", "cpu-clock/freq=499/", "cpu/event=0x3c/", "r003c"):
        assert not is_tracepoint(event), event
    for event in ("sched:sched_switch", "probe_libc:malloc", "syscalls:sys_enter_read", "sdt_node:gc__start"):
        assert is_tracepoint(event), event


def test_check_refuses_to_compare_different_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(CAPTURES / "perf-sched-switch.txt.zst"), str(MIXED), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "different events (baseline: sched:sched_switch; candidate: cpu-clock)" in err and "--event" in err
    # the same event on both sides is compared (cpu-clock/freq=499/ is cpu-clock at another rate)
    assert main(["check", str(MIXED), str(MIXED), "-q"]) == 0


def test_report_names_each_pages_event(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("perf-system-cpuclock-sched-switch.txt.zst", "perf-sched-switch.txt.zst", "perf-system-cpuclock-taskclock.txt.zst"):
        shutil.copy(CAPTURES / name, folder / name.replace(".txt.zst", ".perf.zst"))
    site = tmp_path / "site"
    main(["report", str(folder), "-o", str(site), "-q", "-j", "1"])
    rows = index_rows(site / "index.html")
    assert rows["perf-system-cpuclock-sched-switch.perf.zst"]["Event"] == "cpu-clock"
    assert rows["perf-sched-switch.perf.zst"]["Event"] == "sched:sched_switch"
    refused = rows["perf-system-cpuclock-taskclock.perf.zst"]
    assert refused["Status"].startswith("error")
    page = (site / "captures" / "perf-system-cpuclock-sched-switch.perf.zst" / "index.html").read_text()
    heaviest = page.split('id="heaviest"')[1][:1500]
    assert "cpu-clock" in page and "<td" in heaviest and "__schedule" not in heaviest
