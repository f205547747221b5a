"""The time span read from a capture's two ends equals the one from every sample's timestamp."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import zstandard

from foldkit.ingest import FoldOptions
from foldkit.inputs import open_source
from foldkit.report import timespan
from foldkit.report.timespan import perf_time_range
from tests.support.common import DATA, FIXTURES, data_bytes

PERF = sorted(p.name.removesuffix(".zst") for p in (DATA / "captures").glob("perf-*.txt.zst"))


#: The timestamp of a sample's header line (a test oracle, independent of foldkit's reader):
#: header lines are not tab-indented, frame lines are; side events (PERF_RECORD_*) are no samples.
HEADER_TIME = re.compile(rb"^(?![^\n]*PERF_RECORD_)[^\t\n#][^\n]*?\s(\d+\.\d+):\s", re.MULTILINE)


def full_range(path: Path) -> tuple[float | None, float | None]:
    """(first, last) timestamp of every sample of any event."""
    times = [float(t) for t in HEADER_TIME.findall(open_source(str(path)).read_all())]
    return (min(times), max(times)) if times else (None, None)


@pytest.mark.parametrize("name", PERF)
def test_every_perf_capture(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / name
    data = data_bytes(f"captures/{name}")
    path.write_bytes(data * 3)  # three copies: longer than two probes at the probe size below
    monkeypatch.setattr(timespan, "PROBE_BYTES", max(4096, len(data) // 4))
    assert perf_time_range(str(path), FoldOptions()) == full_range(path)


def test_small_and_compressed_captures(tmp_path: Path) -> None:
    big = tmp_path / "big.perf.zst"
    big.write_bytes(zstandard.ZstdCompressor().compress(data_bytes("captures/perf-system-mixed.txt")))
    for path in (FIXTURES / "java.perf", FIXTURES / "system-mixed.perf.zst", big):
        start, end = perf_time_range(str(path), FoldOptions())
        assert (start, end) == full_range(path) and start is not None and end is not None and end > start


def test_no_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "notime.perf"
    path.write_text("prog 12 cpu-clock: \n\tffff f (/bin/prog)\n\n" * 3)
    assert perf_time_range(str(path), FoldOptions()) == (None, None)


def test_side_events_before_the_first_sample_are_skipped_within_the_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of side-event lines (more than MAX_RECORDS) before the first sample, with no blank
    line between, all within the first probe: the span still starts at that sample."""
    side = b"".join(b"swapper     0 [000]     0.000000: PERF_RECORD_COMM: x:%d/%d\n" % (i, i) for i in range(2000))
    sample = b"app 1 [000] %.6f: 1 cpu-clock:\n\tffffffff81000000 do_work+0x1 ([kernel.kallsyms])\n\n"
    body = side + b"".join(sample % (100.0 + i) for i in range(4000))
    path = tmp_path / "side.perf"
    path.write_bytes(body)
    monkeypatch.setattr(timespan, "PROBE_BYTES", len(side) + 20 * len(sample % 100.0))
    assert perf_time_range(str(path), FoldOptions()) == (100.0, 4099.0)


def test_a_probe_of_side_events_only_is_widened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first probe holds nothing but side events: a wider one finds the first sample."""
    side = b"".join(b"swapper     0 [000]     0.000000: PERF_RECORD_MMAP -1/0: [0x%x(0x10) @ 0]: x y\n" % i for i in range(5000))
    sample = b"app 1 [000] %.6f: 1 cpu-clock:\n\tffffffff81000000 do_work+0x1 ([kernel.kallsyms])\n\n"
    body = side + b"".join(sample % (100.0 + i) for i in range(40000))
    path = tmp_path / "side.perf"
    path.write_bytes(body)
    monkeypatch.setattr(timespan, "PROBE_BYTES", len(side) // 4)
    assert len(side) // 4 * 8 * 2 < len(body)  # the wider probe is still a probe, not the whole file
    assert perf_time_range(str(path), FoldOptions()) == (100.0, 40099.0)


def test_deep_records_fold_their_header_lines_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records far longer than the probe (stacks thousands of frames deep): the span still comes
    from the first and the last record, and only their header lines are folded, never a call
    chain (which cost a report worker tens of MB on 100,000-frame stacks)."""
    chain = b"".join(b"\t%16x function_%d (/usr/bin/deep)\n" % (0x400000 + 16 * i, i) for i in range(20000))
    body = b"".join(b"deep 100/100 [000] %.6f: 1001 cycles:\n%s\n" % (1.0 + n, chain) for n in range(6))
    path = tmp_path / "deep.perf"
    path.write_bytes(body)
    monkeypatch.setattr(timespan, "PROBE_BYTES", 64 * 1024)
    assert len(chain) > 8 * 64 * 1024  # a record is longer than the probe once widened
    folded: list[int] = []
    times = timespan._times

    def counted(data: bytes, options: FoldOptions) -> tuple[list[float], bool]:
        folded.append(len(data))
        return times(data, options)

    monkeypatch.setattr(timespan, "_times", counted)
    assert perf_time_range(str(path), FoldOptions()) == (1.0, 6.0) == full_range(path)
    assert folded and max(folded) < 200


def test_a_header_cut_short_by_the_probe_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe ends inside the first record's header line: that line is not taken as it is (cut
    before its time, it is a sample without one, which would make the span unknown), a wider probe
    reads it whole."""
    path = tmp_path / "cut.perf"
    path.write_bytes(b"app 1 [000] 12.345678: 1 cpu-clock:\n\tffff f (/bin/app)\n\n" * 4000)
    monkeypatch.setattr(timespan, "PROBE_BYTES", len(b"app 1 [000] "))
    assert perf_time_range(str(path), FoldOptions()) == (12.345678, 12.345678)
