"""Bytes that are not UTF-8, and integers out of every typed column's range, in every field of a
capture (comm, PID/TID, event, symbol, dso, bpftrace map name, folded frames): every output that
must be valid UTF-8 (Parquet, JSON, polars frames, JUnit, HTML) gets the visible form the SVG and
the terminal use (`\\xff`, `foldkit.text.utf8_safe`), and an integer that does not fit is an input
error naming the file, or left out of its column: never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from foldkit.cli import main
from foldkit.text import utf8_json, utf8_safe


def _perf(comm: bytes, pid: bytes, tid: bytes, event: bytes, sym: bytes, dso: bytes) -> bytes:
    sample = b"%s %s/%s [000] 1.000: 1001001 %s: \n\t ffffffff81000000 %s (%s)\n\t 4000 main (/bin/x)\n\n"
    return sample % (comm, pid, tid, event, sym, dso) * 3


def _assert_utf8_outputs(folder: Path) -> None:
    """Every output in `folder` (recursively) that must be UTF-8 is, and parses."""
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        name = path.name
        if name.endswith(".parquet"):
            pl.read_parquet(io.BytesIO(data))
        elif name.endswith(".json") or name == ".foldkit-report":
            json.loads(data.decode("utf-8"))
        elif name.endswith((".html", ".svg", ".xml")):
            data.decode("utf-8")
            if not name.endswith(".html"):
                etree.fromstring(data)


def _run(argv: list[str]) -> int:
    code = main(argv)
    assert code in (0, 1, 2), (argv, code)
    return code


def _every_output(capture: Path, out: Path, before: Path) -> None:
    """The capture through every command and output that needs valid UTF-8."""
    c = str(capture)
    for flags in ([], ["--pid"], ["--tid"]):
        _run(["fold", c, *flags, "-o", str(out / f"fold{''.join(flags)}.parquet")])
    _run(["fold", c, "--tid", "-o", str(out / "fold.speedscope.json")])
    for by in ("function", "dso", "comm"):
        _run(["top", c, "--by", by, "-o", str(out / f"top-{by}.json")])
        _run(["top", c, "--by", by, "-o", str(out / f"top-{by}.parquet")])
    _run(["flamegraph", c, "--tid", "-o", str(out / "fg.html")])
    _run(["check", str(before), c, "--junit", str(out / "check.xml"), "--json", str(out / "check.json")])
    _run(["diff", str(before), c, "-o", str(out / "diff.json")])
    _run(["report", c, "-o", str(out / "report"), "--force"])


#: (comm, event, symbol, dso): the issue's reproducers and one of each field alone
PERF_CASES = [
    (b"x", b"cpu\xffclock", b"a", b"b"),
    (b"x", b"cpu-clock", b"a", b"/lib/\xff.so"),
    (b"x\xd9", b"cpu-clock", b"a", b"b"),
    (b"x", b"cpu-clock", b"f\xed\xa0\x80", b"b"),
    (b"\xfe\xfd", b"\x80", b"\xc3", b"/\xff/\xfe"),
]


def _through_everything(tmp_path: Path, capture: Path, before: bytes) -> Path:
    """`capture` through every command with a UTF-8 output (diff and check against `before`);
    the folder of the outputs, each checked."""
    base = tmp_path / f"{capture.name}.before.folded"
    base.write_bytes(before)
    out = tmp_path / f"out-{capture.name}"
    out.mkdir()
    _every_output(capture, out, base)
    _assert_utf8_outputs(out)
    return out


@pytest.mark.parametrize(("comm", "event", "sym", "dso"), PERF_CASES)
def test_undecodable_bytes_in_every_perf_field(tmp_path: Path, comm: bytes, event: bytes, sym: bytes, dso: bytes) -> None:
    capture = tmp_path / "in.perf"
    capture.write_bytes(_perf(comm, b"7", b"8", event, sym, dso))
    _through_everything(tmp_path, capture, b"x-7/8;main 5\n")


@pytest.mark.parametrize(("pid", "tid"), [(b"18446744073709551616", b"5"), (b"7", b"-9223372036854775809"), (b"99999999999999999999999", b"99999999999999999999999")])
def test_integers_out_of_range_in_pid_and_tid(tmp_path: Path, pid: bytes, tid: bytes) -> None:
    capture = tmp_path / "in.perf"
    capture.write_bytes(_perf(b"x", pid, tid, b"cpu-clock", b"f", b"/lib/a.so"))
    out = _through_everything(tmp_path, capture, b"x;main 5\n")
    frame = pl.read_parquet(io.BytesIO((out / "fold--tid.parquet").read_bytes()))
    assert frame["pid"].null_count() + frame["tid"].null_count() > 0  # left out of the column, not wrapped


@pytest.mark.parametrize("bad", [b"\xff", b"\xed\xa0\x80"])
def test_undecodable_bytes_in_bpftrace_map_names_and_folded_frames(tmp_path: Path, bad: bytes) -> None:
    bt = tmp_path / "in.bt"
    bt.write_bytes(b"Attaching 1 probe...\n\n@m%s[\n    f%s+1\n    main+2\n]: 4\n" % (bad, bad))
    folded = tmp_path / "in.folded"
    folded.write_bytes(b"p-1/2;f%s;g 3\np-1/2;main 1\n" % bad)
    for capture in (bt, folded):
        _through_everything(tmp_path, capture, b"p-1/2;main 5\n")


@settings(max_examples=300)
@given(fields=st.lists(st.binary(min_size=0, max_size=12), min_size=4, max_size=4))
def test_any_bytes_reach_parquet_json_and_polars_as_valid_utf8(fields: list[bytes]) -> None:
    """Arbitrary bytes in every part of a profile (frames, comm-PID root, event, unit) through the
    typed and UTF-8 outputs, at the API level (fast: hundreds of examples)."""
    from foldkit.analysis.functions import aggregate
    from foldkit.export.speedscope import speedscope_document
    from foldkit.export.table import to_parquet_bytes
    from foldkit.profile import Profile

    text = [f.decode("utf-8", "surrogateescape").replace(";", "_").replace("\n", "_") for f in fields]
    profile = Profile({f"{text[0] or 'c'}-7/8;{text[1] or 'f'};{text[2] or 'g'}": 3, "c-1/2;main": 1})
    profile.event = text[3] or "e"
    frame = pl.read_parquet(io.BytesIO(to_parquet_bytes(profile)))
    assert frame["event"][0] == utf8_safe(profile.event)
    json.loads(utf8_json(json.dumps(speedscope_document(profile), ensure_ascii=False)).decode("utf-8"))
    for by in ("function", "dso", "comm"):
        aggregate(dict(profile.items()), by=by, dso_map={k: k for k in text})


def test_utf8_safe_is_the_visible_form() -> None:
    raw = b"a\xffb\xed\xa0\x80c".decode("utf-8", "surrogateescape")
    assert utf8_safe(raw) == "a\\xffb\\xed\\xa0\\x80c"
    assert utf8_safe("\ud800x") == "\\ud800x"  # a lone surrogate no decoder made
    assert utf8_safe("plain ü") == "plain ü"


def test_the_written_out_class_of_characters_made_visible_is_the_tables_keys() -> None:
    """`text._NEEDS_WORK_CLASS` (written out, so no table is built at import) matches exactly
    the characters `visible()`'s table replaces, and `visible` changes exactly those."""
    import re

    from foldkit import text

    everything = "".join(map(chr, range(0x110000)))
    matched = {ord(c) for c in re.findall(text._NEEDS_WORK_CLASS, everything)}
    assert matched == set(text._tables()["visible"])
    assert [c for c in everything if text.visible(c) != c] == [chr(c) for c in sorted(matched)]


#: A perf record with every integer field as a placeholder: PID, TID, CPU, time, period, address.
_RECORD = "x {pid}/{tid} [{cpu}] {time}: {period} cpu-clock: \n\t {addr} f (/lib/a.so)\n\t 4000 main (/bin/x)\n\n"
_NORMAL = {"pid": "7", "tid": "8", "cpu": "000", "time": "1.000", "period": "1001001", "addr": "ffffffff81000000"}
_EXTREME = ["18446744073709551616", "99999999999999999999999", "-9223372036854775809"]


@pytest.mark.parametrize("value", _EXTREME)
@pytest.mark.parametrize("field", list(_NORMAL))
def test_integers_out_of_range_in_every_perf_field(tmp_path: Path, field: str, value: str) -> None:
    """One record of three with an integer field out of every type's range (a timestamp of 2**64 s
    among samples at 1 s spans more than any Time view: it is left out, with a warning)."""
    records = [_RECORD.format(**_NORMAL), _RECORD.format(**{**_NORMAL, field: value + (".5" if field == "time" else "")}), _RECORD.format(**_NORMAL)]
    capture = tmp_path / "in.perf"
    capture.write_text("".join(records))
    _through_everything(tmp_path, capture, b"x-7/8;main 5\n")


def test_a_time_view_spanning_more_than_it_can_show_is_left_out_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from foldkit.render.viewer.timeline import MAX_BUCKETS, ROWS

    capture = tmp_path / "in.perf"
    late = f"{1 + MAX_BUCKETS / ROWS:.3f}"
    capture.write_text(_RECORD.format(**_NORMAL) + _RECORD.format(**{**_NORMAL, "time": late}))
    assert main(["flamegraph", str(capture), "-o", str(tmp_path / "a.html")]) == 0
    assert "the Time view shows at most 23.3 hours, so it is left out" in capsys.readouterr().err
    assert b'"time":' not in (tmp_path / "a.html").read_bytes()
    capture.write_text(_RECORD.format(**_NORMAL) + _RECORD.format(**{**_NORMAL, "time": "3600.5"}))
    assert main(["flamegraph", str(capture), "-o", str(tmp_path / "b.html")]) == 0
    assert "Time view" not in capsys.readouterr().err
    assert b'"time":' in (tmp_path / "b.html").read_bytes()


@pytest.mark.parametrize(
    "text",
    [
        "\n@us: \n[0]   19 |@@@@   |\n[18446744073709551616, 18446744073709551617)   3 |@   |\n[4, 8)   2 |@   |\n",
        "     usecs               : count    distribution\n         0 -> 1          : 5        |**  |\n"
        "         2 -> 18446744073709551616 : 3 |*   |\n         4 -> 7          : 99999999999999999999 |*   |\n",
        '{"type": "hist", "data": {"@us": [{"min": 0, "max": 0, "count": 18}, {"min": 1, "max": 18446744073709551616, "count": 2}, {"min": 2, "max": 3, "count": 1}]}}\n',
    ],
    ids=["bpftrace", "bcc", "bpftrace-json"],
)
def test_histogram_buckets_out_of_range_are_unrecognised_lines(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A bucket bound or count beyond 64 bits (the bucket table's typed columns) is a mangled line,
    not an internal error in the report's histogram table."""
    capture = tmp_path / ("in.json" if text.startswith("{") else "in.txt")
    capture.write_text(text)
    _through_everything(tmp_path, capture, b"@us;[0] 5\n")
    site = tmp_path / f"out-{capture.name}" / "report"
    assert "internal error" not in capsys.readouterr().err
    assert "internal error" not in (site / "summary.json").read_text()
