"""pprof's profile.proto both ways: Go runtime/pprof profiles fold with the total and top function
`go tool pprof` reports (committed fixtures; fresh ones where `go` is installed), `--sample-type`,
detection gzip'd or not, bad input; `.pb.gz`/`.pprof` exports that `go tool pprof -top` reads
with foldkit's total and top functions, and that foldkit reads back unchanged."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.errors import InputError, UsageError
from foldkit.export.pprof import to_pprof_bytes
from foldkit.ingest import FORMATS
from foldkit.ingest.proto import field_bytes, field_varint, fields, varint
from foldkit.profile import Profile
from tests.support.bpf import capture_path, fold
from tests.support.common import DATA

PPROF = DATA / "pprof"
GO = shutil.which("go")
needs_go = pytest.mark.skipif(GO is None, reason="needs go (Debian's golang-go)")


def _self_top(profile: Profile) -> list[tuple[str, float]]:
    """(function, self weight) heaviest first, computed here from the stacks' leaves."""
    selfs: dict[str, float] = {}
    for stack, w in profile.weights.items():
        leaf = stack.rsplit(";", 1)[-1]
        selfs[leaf] = selfs.get(leaf, 0) + w
    return sorted(selfs.items(), key=lambda kv: (-kv[1], kv[0]))


def test_go_cpu_profile_folds_with_pprofs_total_and_top_function() -> None:
    """cpu.pb.gz: `go tool pprof -top` says `Total samples = 230ms`, top flat crypto/sha256.block 130ms."""
    profile = fold(PPROF / "cpu.pb.gz")
    assert profile.format == "pprof"
    assert (profile.unit, profile.event) == ("ns", "cpu")
    assert profile.total == 230_000_000
    assert profile.samples == 23  # the samples/count type
    assert _self_top(profile)[0] == ("crypto/sha256.block", 130_000_000)
    assert "runtime.main;main.main;main.hashLoop;crypto/sha256.Sum256;crypto/sha256.(*digest).Write;crypto/sha256.block" in profile.weights


def test_uncompressed_profile_is_detected_too(tmp_path: Path) -> None:
    raw = tmp_path / "cpu.bin"
    raw.write_bytes(gzip.decompress((PPROF / "cpu.pb.gz").read_bytes()))
    assert FORMATS["pprof"].sniff(raw.read_bytes()[:65536])
    assert fold(raw).weights == fold(PPROF / "cpu.pb.gz").weights


def test_heap_profile_sample_types_default_as_pprof_does() -> None:
    """heap.pb.gz: pprof's default is inuse_space (`2.12MB total`, main.allocate 2.09MB flat)."""
    default = fold(PPROF / "heap.pb.gz")
    assert (default.event, default.unit) == ("inuse_space", "bytes")
    assert default.total == 2_221_988
    assert _self_top(default)[0][0] == "main.allocate"
    objects = fold(PPROF / "heap.pb.gz", sample_type="alloc_objects")
    assert (objects.event, objects.unit) == ("alloc_objects", "samples")
    with pytest.raises(UsageError, match="no sample type 'cpu'; this profile has alloc_objects/count, alloc_space/bytes"):
        fold(PPROF / "heap.pb.gz", sample_type="cpu")


def test_sample_type_flag_and_bad_profiles_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.folded"
    assert main(["fold", str(PPROF / "heap.pb.gz"), "--sample-type", "alloc_space", "-q", "-o", str(out)]) == 0
    assert "main.allocate" in out.read_text()
    cut = tmp_path / "cut.pb"
    cut.write_bytes(gzip.decompress((PPROF / "cpu.pb.gz").read_bytes())[:700])
    assert main(["fold", str(cut), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a well-formed pprof profile" in err and "Traceback" not in err


def test_text_captures_are_not_taken_for_pprof() -> None:
    for text in (b"\n\nAttaching 1 probe...\n", b"PID COMM FD ERR PATH\n", b"a;b;c 1\n", b"\x0a\x04\x08\x01\x10\x02 hello\n"):
        assert not FORMATS["pprof"].sniff(text)


def test_proto_varints_round_trip() -> None:
    for v in (0, 1, 127, 128, 300, 2**63 - 1, -1, -(2**63)):
        data = field_varint(1, v) + field_bytes(2, b"xy")
        got = list(fields(data))
        assert got[-1] == (2, 2, b"xy")
        if v:
            assert got[0][2] == (v if v >= 0 else v + 2**64)
    assert varint(300) == b"\xac\x02"


@pytest.mark.parametrize("name", ["perf-c-fp", "perf-system-mixed", "bpftrace-kstack-ustack-comm", "bcc-profile"])
def test_export_reads_back_unchanged(tmp_path: Path, name: str) -> None:
    profile = fold(capture_path(name))
    out = tmp_path / "x.pb.gz"
    assert main(["fold", str(capture_path(name)), "-q", "-o", str(out)]) == 0
    assert gzip.decompress(out.read_bytes())  # .pb.gz is gzip'd once
    back = fold(out)
    assert back.weights == {s: w for s, w in profile.weights.items() if w}
    assert back.unit == profile.unit
    assert back.samples == (profile.samples if profile.samples is not None else profile.total)  # samples/count


def test_pprof_suffix_is_gzipd_and_pb_is_not(tmp_path: Path) -> None:
    profile = fold(capture_path("perf-c-fp"))
    assert gzip.decompress(to_pprof_bytes(profile, gzipped=True)) == to_pprof_bytes(profile)
    assert main(["fold", str(capture_path("perf-c-fp")), "-q", "-o", str(tmp_path / "x.pprof")]) == 0
    assert main(["flamegraph", str(capture_path("perf-c-fp")), "-q", "-o", str(tmp_path / "x.pb")]) == 0
    assert (tmp_path / "x.pprof").read_bytes()[:2] == b"\x1f\x8b"
    assert fold(tmp_path / "x.pb").weights == fold(tmp_path / "x.pprof").weights == profile.weights


def _pprof_top(path: Path) -> tuple[float, list[tuple[str, float]]]:
    """(total, [(function, flat)]) from `go tool pprof -top -unit=ns` (or the unit's base)."""
    text = subprocess.run([GO or "go", "tool", "pprof", "-top", "-nodecount=1000", "-unit=ns", str(path)], capture_output=True, text=True, check=True).stdout
    total = float(re.search(r"of ([\d.]+)ns total", text).group(1))  # type: ignore[union-attr]
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)ns\s+[\d.]+%\s+[\d.]+%\s+[\d.]+ns\s+[\d.]+%\s+(.*)$", line)
        if m:
            rows.append((m.group(2), float(m.group(1))))
    return total, rows


@needs_go
@pytest.mark.parametrize("name", ["perf-c-fp", "perf-system-mixed"])
def test_go_tool_pprof_shows_foldkits_total_and_top_functions(tmp_path: Path, name: str) -> None:
    out = tmp_path / "cpu.pb.gz"
    assert main(["fold", str(capture_path(name)), "-q", "-o", str(out)]) == 0
    profile = fold(capture_path(name))
    total, rows = _pprof_top(out)
    assert total == pytest.approx(profile.total, rel=1e-9)
    ours = _self_top(profile)[:5]
    assert {n: w for n, w in rows[:5]} == pytest.approx(dict(ours), rel=1e-6)


@needs_go
def test_fresh_go_profile_folds_with_pprofs_total_and_top(tmp_path: Path) -> None:
    subprocess.run([GO or "go", "run", str(PPROF / "goprog" / "main.go"), str(tmp_path)], check=True, capture_output=True, env={**_go_env(tmp_path)})
    profile = fold(tmp_path / "cpu.pb.gz")
    total, rows = _pprof_top(tmp_path / "cpu.pb.gz")
    assert profile.total == total
    top = _self_top(profile)
    assert top[0][1] == rows[0][1]
    assert rows[0][0] in {n for n, w in top if w == top[0][1]}


def _go_env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "GO111MODULE": "off", "GOCACHE": str(tmp_path / "gocache"), "GOFLAGS": "-mod=mod"}


def test_input_error_for_a_profile_without_sample_types(tmp_path: Path) -> None:
    path = tmp_path / "empty.pb"
    path.write_bytes(field_varint(9, 12345) + field_bytes(6, b""))
    with pytest.raises(InputError):
        fold(path, format="pprof")


DIFF_BEFORE = DATA / "check" / "base-1.perf.zst"
DIFF_AFTER = DATA / "check" / "slow-1.perf.zst"


def test_diff_writes_pprofs_diff_base_form_and_reads_back_as_both_sides(tmp_path: Path) -> None:
    """`diff -o x.pb.gz`: AFTER's samples, BEFORE's negated with the label pprof::base=true; read
    back, the two sides come apart again (a flame graph of it is the differential graph)."""
    from foldkit.analysis.diff import diff_profiles

    out = tmp_path / "d.pb.gz"
    assert main(["diff", str(DIFF_BEFORE), str(DIFF_AFTER), "-q", "-o", str(out)]) == 0
    expected = diff_profiles(fold(DIFF_BEFORE), fold(DIFF_AFTER))  # not normalised, as pprof -diff_base
    back = fold(out)
    assert back.weights == {s: w for s, w in expected.after.items() if w}
    assert back.before == {s: w for s, w in expected.before.items() if w}
    assert any("-diff_base form" in n for n in back.diagnostics.notes)
    data = gzip.decompress(out.read_bytes())
    assert b"pprof::base" in data
    svg = tmp_path / "d.svg"
    assert main(["flamegraph", str(out), "-q", "-o", str(svg)]) == 0
    assert "Differential Flame Graph" in svg.read_text()
    folded = tmp_path / "d.folded"
    assert main(["diff", str(DIFF_BEFORE), str(DIFF_AFTER), "-q", "-o", str(folded)]) == 0
    again = tmp_path / "again.pb.gz"
    assert main(["fold", str(folded), "-q", "-o", str(again)]) == 0  # a two-column input keeps its BEFORE
    twice = fold(again)
    assert (twice.weights, twice.before) == (back.weights, back.before)


def test_normalised_diff_scales_before_into_the_pprof(tmp_path: Path) -> None:
    out = tmp_path / "d.pprof"
    assert main(["diff", "-n", str(DIFF_BEFORE), str(DIFF_AFTER), "-q", "-o", str(out)]) == 0
    back = fold(out)
    assert back.before is not None
    assert sum(back.before.values()) == pytest.approx(back.total, rel=1e-6)


def _pprof_top_signed(path: Path) -> tuple[float, dict[str, float]]:
    """(total, {function: flat}) from `go tool pprof -top -unit=ns`, flat values of either sign."""
    text = subprocess.run([GO or "go", "tool", "pprof", "-top", "-nodecount=1000", "-unit=ns", str(path)], capture_output=True, text=True, check=True).stdout
    total = float(re.search(r"of ([\d.]+)ns total", text).group(1))  # type: ignore[union-attr]
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\s*(-?[\d.]+)ns\s+[\d.]+%\s+-?[\d.]+%\s+-?[\d.]+ns\s+[\d.]+%\s+(.*)$", line)
        if m:
            rows[m.group(2)] = float(m.group(1))
    return total, rows


@needs_go
def test_go_tool_pprof_of_a_diff_shows_foldkits_changes(tmp_path: Path) -> None:
    """pprof's numbers for the diff are foldkit's: each function's flat is `diff --json`'s d_self
    (AFTER minus BEFORE), and the total pprof divides by is BEFORE's, as for -diff_base."""
    import json

    out = tmp_path / "d.pb.gz"
    assert main(["diff", str(DIFF_BEFORE), str(DIFF_AFTER), "-q", "-o", str(out)]) == 0
    table = tmp_path / "d.json"
    assert main(["diff", str(DIFF_BEFORE), str(DIFF_AFTER), "--no-normalize", "--limit", "8", "-q", "-o", str(table)]) == 0
    ours = json.loads(table.read_text())
    total, flat = _pprof_top_signed(out)
    assert total == pytest.approx(ours["before_total"], rel=1e-9)
    for row in ours["rows"]:
        assert flat.get(row["name"], 0.0) == pytest.approx(row["d_self"], abs=1.0), row["name"]
    assert any(row["d_self"] < 0 for row in ours["rows"]) and any(row["d_self"] > 0 for row in ours["rows"])


def test_pb_gz_is_gzipd_once_at_pprofs_level(tmp_path: Path) -> None:
    """`-o x.pb.gz` holds exactly `to_pprof_bytes(gzipped=True)` (level 1, as Go's runtime/pprof
    writes), not the message gzip'd again by the `.gz` suffix at its level 9."""
    out = tmp_path / "x.pb.gz"
    assert main(["fold", str(capture_path("perf-system-mixed")), "-q", "-o", str(out)]) == 0
    profile = fold(capture_path("perf-system-mixed"))
    assert out.read_bytes() == to_pprof_bytes(profile, gzipped=True) == gzip.compress(to_pprof_bytes(profile), 1, mtime=0)
