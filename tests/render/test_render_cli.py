"""`foldkit flamegraph` from the command line: inputs by path and stdin, modes, options, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from foldkit.cli import main
from tests.support.common import DATA, FIXTURES, data_bytes
from tests.support.svg import SVG, frames, parse

CAPTURE = DATA / "captures" / "perf-cpp-fp.txt.zst"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=120)


def test_path_and_stdin_give_the_same_svg() -> None:
    by_path = run("flamegraph", str(CAPTURE))
    by_stdin = run("flamegraph", "-", stdin=CAPTURE.read_bytes())
    assert by_path.returncode == by_stdin.returncode == 0, by_path.stderr
    assert by_path.stdout == by_stdin.stdout
    assert by_path.stdout.startswith(b"<?xml") and by_path.stderr == b""
    assert frames(by_path.stdout)[1].name == "tmpl"


def test_fold_then_flamegraph_pipeline_matches_direct(tmp_path: Path) -> None:
    folded = tmp_path / "cpu.folded"
    assert main(["fold", str(CAPTURE), "-o", str(folded)]) == 0
    direct, piped = tmp_path / "direct.svg", tmp_path / "piped.svg"
    assert main(["flamegraph", str(CAPTURE), "-o", str(direct)]) == 0
    assert main(["flamegraph", str(folded), "-o", str(piped), "--countname", "ns"]) == 0
    assert direct.read_bytes() == piped.read_bytes()


def test_fold_options_apply(tmp_path: Path) -> None:
    out = tmp_path / "all.svg"
    assert main(["flamegraph", "--all", "--pid", str(CAPTURE), "-o", str(out)]) == 0
    names = {f.name for f in frames(out.read_bytes())}
    assert any(n.endswith("_[k]") for n in names)
    assert any(n.startswith("tmpl-") for n in names)


@pytest.mark.parametrize(("flag", "kind", "title"), [([], "flamegraph", "Flame Graph"), (["--inverted"], "icicle", "Icicle Graph"), (["--flamechart"], "flamechart", "Flame Chart")])
def test_modes(tmp_path: Path, flag: list[str], kind: str, title: str) -> None:
    out = tmp_path / "out.svg"
    assert main(["flamegraph", *flag, str(CAPTURE), "-o", str(out)]) == 0
    root = parse(out.read_bytes())
    assert root.get("data-kind") == kind
    assert root.find(f"{SVG}text[@id='title']").text == title


def test_flamechart_uses_perf_timestamps(tmp_path: Path) -> None:
    """Two captures given newest first: the chart puts them in time order (perf-cpp-fp, comm
    tmpl, was recorded before perf-c-fp, comm deeprec); the graph sorts them by name."""
    newer, older = DATA / "captures" / "perf-c-fp.txt.zst", CAPTURE
    chart, graph = tmp_path / "chart.svg", tmp_path / "graph.svg"
    assert main(["flamegraph", "--flamechart", str(newer), str(older), "-o", str(chart)]) == 0
    assert main(["flamegraph", str(newer), str(older), "-o", str(graph)]) == 0
    assert [f.name for f in frames(chart.read_bytes()) if f.depth == 1] == ["tmpl", "deeprec"]
    assert [f.name for f in frames(graph.read_bytes()) if f.depth == 1] == ["deeprec", "tmpl"]
    # within one capture samples stay in time order: other stacks interrupt the program's main
    # stack, so the chart draws __libc_start_call_main several times where the graph merges it
    def count(path: Path) -> int:
        return sum(1 for f in frames(path.read_bytes()) if f.name == "__libc_start_call_main" and f.depth == 2)

    assert count(chart) > 3 and count(graph) == 2


def test_consistent_palette_file(tmp_path: Path) -> None:
    palette_file = tmp_path / "colours.map"
    first = tmp_path / "a.svg"
    assert main(["flamegraph", "--palette-file", str(palette_file), str(CAPTURE), "-o", str(first)]) == 0
    lines = palette_file.read_text().splitlines()
    assert lines == sorted(lines) and all("->rgb(" in ln for ln in lines)
    second = tmp_path / "b.svg"
    assert main(["flamegraph", "--palette-file", str(palette_file), "--colors", "blue", str(CAPTURE), "-o", str(second)]) == 0
    assert [f.fill for f in frames(first.read_bytes())] == [f.fill for f in frames(second.read_bytes())]
    third = tmp_path / "c.svg"
    assert main(["flamegraph", "--colors", "blue", str(CAPTURE), "-o", str(third)]) == 0
    assert [f.fill for f in frames(first.read_bytes())] != [f.fill for f in frames(third.read_bytes())]


def test_cp_uses_palette_map_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["flamegraph", "--cp", str(CAPTURE), "-o", "x.svg"]) == 0
    assert (tmp_path / "palette.map").read_text().count("\n") > 10


def test_compressed_output_and_inputs(tmp_path: Path) -> None:
    out = tmp_path / "cpu.svg.gz"
    assert main(["flamegraph", str(FIXTURES / "system-mixed.perf.zst"), "-o", str(out)]) == 0
    import gzip

    assert gzip.decompress(out.read_bytes()).startswith(b"<?xml")


def test_every_picture_flag(tmp_path: Path) -> None:
    out = tmp_path / "all-flags.svg"
    args = [
        "flamegraph", str(CAPTURE), "-o", str(out),
        "--title", "t", "--subtitle", "s", "--width", "900", "--height", "18", "--minwidth", "0.5%",
        "--fonttype", "monospace", "--fontsize", "11", "--fontwidth", "0.6", "--countname", "ticks",
        "--nametype", "Fn:", "--notes", "n", "--palette", "java", "--hash", "--deterministic",
        "--bgcolors", "blue", "--reverse", "--inverted", "--factor", "2", "--total", "3e8",
        "--search-color", "rgb(1,2,3)", "--truncate-text-left", "--sort-by-weight", "--max-frames", "500",
    ]  # fmt: skip
    assert main(args) == 0
    root = parse(out.read_bytes())
    assert root.get("width") == "900" and root.get("font-family") == "monospace"
    assert root.get("data-kind") == "icicle" and root.get("data-truncate") == "left"
    assert root.find(f"{SVG}desc").text == "n"
    fs = frames(out.read_bytes())
    assert fs[0].title.startswith("all (") and " ticks, " in fs[0].title
    assert fs[0].height == 17 and fs[0].width == pytest.approx(880 * 207207207 / 3e8, abs=0.01)  # --total
    assert fs[0].title == "all (414,414,414 ticks, 69.07%)"  # --factor 2
    depth1 = {f.name for f in fs if f.depth == 1}
    assert "tmpl" not in depth1 and "tmpl" in {f.name for f in fs}  # --reverse: the comm is now a leaf


def test_stdout_when_no_output(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["flamegraph", str(CAPTURE)]) == 0
    assert capsysbinary.readouterr().out.startswith(b"<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--palette", "rainbow"], "unknown palette 'rainbow'"),
        (["--minwidth", "lots"], "--minwidth must be pixels"),
        (["--flamechart", "--sort-by-weight"], "cannot be combined"),
        (["--bgcolors", "javascript:1"], "--bgcolors must be"),
        (["--max-frames", "0"], "--max-frames must be at least 1"),
    ],
)
def test_bad_flags_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    out = tmp_path / "x.svg"
    assert main(["flamegraph", str(CAPTURE), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_missing_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flamegraph", str(tmp_path / "nope.perf"), "-o", str(tmp_path / "x.svg")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_empty_input_gives_an_svg_and_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.folded"
    empty.write_bytes(b"")
    out = tmp_path / "x.svg"
    assert main(["flamegraph", str(empty), "-o", str(out)]) == 0
    assert parse(out.read_bytes()).find(f"{SVG}text[@id='message']").text == "no samples"
    assert "no samples" in capsys.readouterr().err


def test_hostile_folded_input_end_to_end(tmp_path: Path) -> None:
    src = tmp_path / "evil.folded"
    src.write_bytes(b'main;</script><script>alert(1)</script> 3\nmain;"><svg onload=alert(1)> 2\nmain;]]> 1\nmain;\xff\x1b 1\n')
    out = tmp_path / "evil.svg"
    assert main(["flamegraph", str(src), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.count(b"<script") == 1 and data.count(b"<svg") == 1 and b"\x1b" not in data
    data.decode("utf-8")


def test_help_has_an_example() -> None:
    result = run("flamegraph", "--help")
    assert result.returncode == 0
    assert b"Examples:\n\n    foldkit flamegraph " in result.stdout and b"--flamechart" in result.stdout


def test_zstd_input_from_stdin() -> None:
    raw = data_bytes("captures/perf-cpp-fp.txt")
    plain = run("flamegraph", "-", stdin=raw)
    packed = run("flamegraph", "-", stdin=zstandard.ZstdCompressor().compress(raw))
    assert plain.returncode == packed.returncode == 0
    assert plain.stdout == packed.stdout
