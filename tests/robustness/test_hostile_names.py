"""Frame names from a hostile capture never reach an SVG, a terminal or a readable text file raw:
one sanitising path (`foldkit.text.visible`) for everything foldkit shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from foldkit.analysis.tables import Column, Table, render_text
from foldkit.cli import main
from tests.support.common import run_on_pty

#: ESC (a colour change), an OSC that retitles the terminal, BEL, NUL, a right-to-left override,
#: and a byte that is not UTF-8.
HOSTILE = b"a;b\x1b[31m;c\x1b]0;pwned\x07;d\x00e;f\xe2\x80\xaeg;h\xff 5\nx;y 1\n"
BEFORE = b"a;b 3\nx;y 3\n"
RAW = (b"\x1b", b"\x07", b"\x00", "\u202e".encode(), b"\xff")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    (tmp_path / "before.folded").write_bytes(BEFORE)
    path = tmp_path / "hostile.folded"
    path.write_bytes(HOSTILE)
    return path


def _assert_clean(data: bytes) -> None:
    for raw in RAW:
        assert raw not in data, raw


@pytest.mark.parametrize(
    "args",
    [
        ["flamegraph", "{h}"],
        ["diff", "{b}", "{h}"],
        ["diff", "{b}", "{h}", "--basis", "union"],
        ["diff", "{h}", "{b}", "--basis", "before"],
    ],
)
def test_every_svg_is_well_formed_and_clean(args: list[str], hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.svg"
    argv = [a.format(h=hostile, b=tmp_path / "before.folded") for a in args]
    assert main([*argv, "-o", str(out)]) == 0
    data = out.read_bytes()
    etree.fromstring(data)
    _assert_clean(data)
    assert "␛".encode() in data and b"\\xff" in data


def test_check_svg_and_readable_outputs_are_clean(hostile: Path, tmp_path: Path) -> None:
    outs = {s: tmp_path / f"c.{s}" for s in ("svg", "md", "xml", "txt")}
    code = main([
        "check", str(tmp_path / "before.folded"), str(hostile), "--svg", str(outs["svg"]),
        "--markdown", str(outs["md"]), "--junit", str(outs["xml"]), "-o", str(outs["txt"]),
    ])
    assert code in (0, 1)
    etree.fromstring(outs["svg"].read_bytes())
    etree.fromstring(outs["xml"].read_bytes())
    for path in outs.values():
        _assert_clean(path.read_bytes())


@pytest.mark.parametrize("command", [["top", "{h}"], ["diff", "{b}", "{h}"], ["check", "{b}", "{h}"]])
def test_text_on_stdout_and_errors_are_clean(command: list[str], hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[bytes]) -> None:
    argv = [a.format(h=hostile, b=tmp_path / "before.folded") for a in command]
    main(argv)
    captured = capsys.readouterr()
    _assert_clean(captured.out.encode("utf-8", "surrogateescape"))
    _assert_clean(captured.err.encode("utf-8", "surrogateescape"))
    assert "␛" in captured.out


def test_check_fail_line_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "base.folded").write_bytes(b"main;work 997\n")
    (tmp_path / "cand.folded").write_bytes(b"main;work 499\nmain;evil\x1b]2\x07 498\n")
    assert main(["check", str(tmp_path / "base.folded"), str(tmp_path / "cand.folded")]) == 1
    captured = capsys.readouterr()
    assert "foldkit: error: FAIL" in captured.err
    _assert_clean((captured.out + captured.err).encode("utf-8", "surrogateescape"))


def test_terminal_table_cuts_names_to_fit_with_an_ellipsis() -> None:
    import polars as pl

    name = "std::collections::hash::map::HashMap<K,V,S>::insert::h1234567890abcdef"
    table = Table(
        pl.DataFrame({"name": [name, "short"], "self": [10, 5]}),
        [Column("name", "function", "text", "left"), Column("self", "self (samples)", "weight")],
        "top",
    )
    lines = render_text(table, styled=False, width=40).splitlines()
    assert all(len(line) <= 40 for line in lines)
    assert any(line.startswith(" std::collections::") and "…" in line for line in lines)
    assert name in render_text(table, styled=False)  # files and pipes keep the whole name


def test_top_table_is_linear_in_rows(tmp_path: Path) -> None:
    import polars as pl

    # 40,000 rows used to take ~24 s through rich; the plain renderer is a single pass. Not a
    # timing test: it checks that every row is there and aligned.
    n = 40_000
    table = Table(
        pl.DataFrame({"name": [f"f{i}" for i in range(n)], "self": list(range(n))}),
        [Column("name", "function", "text", "left"), Column("self", "self", "weight")],
    )
    lines = render_text(table).splitlines()
    assert len(lines) == n + 2
    assert len({line.index("|") for line in lines[2:]}) == 1


def test_top_on_an_80_column_terminal_cuts_names_instead_of_wrapping(tmp_path: Path) -> None:
    import os
    import sys

    long = "std::collections::hash::map::HashMap<K,V,S>::insert_with_a_very_long_generic_name::h0123456789abcdef"
    capture = tmp_path / "long.folded"
    capture.write_bytes(f"main;{long} 7\nmain;short 3\n".encode())
    env = {**os.environ, "COLUMNS": "80", "LINES": "24", "NO_COLOR": "1"}
    code, shown = run_on_pty([sys.executable, "-m", "foldkit", "top", str(capture)], env)
    assert code == 0
    lines = shown.decode().replace("\r\n", "\n").splitlines()
    rows = [line for line in lines if "|" in line]
    assert rows and all(len(line) <= 80 for line in lines)
    assert any(line.startswith(" std::collections::hash") and "…" in line for line in rows)
    assert not any(line.startswith(" insert_with") for line in lines)  # nothing wrapped onto a new line


def test_report_with_a_baseline_draws_hostile_names(hostile: Path, tmp_path: Path) -> None:
    import json

    site = tmp_path / "site"
    code = main(["report", str(hostile), "-o", str(site), "--baseline", str(tmp_path / "before.folded"), "-q", "--jobs", "1"])
    assert code in (0, 1)
    captures = json.loads((site / "summary.json").read_text())["captures"]
    assert [c["status"] for c in captures] != ["error"], captures
    for svg in site.rglob("*.svg"):
        etree.parse(str(svg))
        _assert_clean(svg.read_bytes())
