"""`foldkit fold` from the command line: paths and stdin, outputs, exit codes, messages."""

from __future__ import annotations

import subprocess
import sys

import pytest
import zstandard

from foldkit.cli import main
from tests.support.common import DATA, FIXTURES, data_bytes

CAPTURE = DATA / "captures" / "perf-c-fp.txt.zst"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=120)


def test_path_and_stdin_give_the_same_output() -> None:
    by_path = run("fold", str(CAPTURE))
    by_stdin = run("fold", "-", stdin=CAPTURE.read_bytes())
    assert by_path.returncode == by_stdin.returncode == 0
    assert by_path.stdout == by_stdin.stdout
    assert by_path.stdout.startswith(b"deeprec;")
    assert by_path.stderr == b""


def test_several_inputs_are_merged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "two.folded"
    assert main(["fold", str(CAPTURE), str(CAPTURE), "-o", str(out)]) == 0
    once = tmp_path / "one.folded"
    assert main(["fold", str(CAPTURE), "-o", str(once)]) == 0
    doubled = {ln.rpartition(b" ")[0]: int(ln.rpartition(b" ")[2]) * 2 for ln in once.read_bytes().splitlines()}
    assert {ln.rpartition(b" ")[0]: int(ln.rpartition(b" ")[2]) for ln in out.read_bytes().splitlines()} == doubled


def test_output_suffix_compresses(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["fold", str(CAPTURE), "-o", str(tmp_path / "x.folded.zst")]) == 0
    assert main(["fold", str(CAPTURE), "-o", str(tmp_path / "x.folded")]) == 0
    packed = (tmp_path / "x.folded.zst").read_bytes()
    assert packed[:4] == b"\x28\xb5\x2f\xfd"
    assert zstandard.ZstdDecompressor().decompressobj().decompress(packed) == (tmp_path / "x.folded").read_bytes()


def test_bad_input_exit_2_and_no_partial_output(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = zstandard.ZstdCompressor().compress(data_bytes("captures/perf-system-mixed.txt"))
    (tmp_path / "cut.zst").write_bytes(data[:3000])
    out = tmp_path / "out.folded"
    assert main(["fold", str(tmp_path / "cut.zst"), "-o", str(out)]) == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "cut.zst"]  # no temp file left behind
    err = capsys.readouterr().err
    assert "cut.zst: truncated or corrupt zstd stream" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fold", "/nonexistent/x.perf"], "no such file"),
        (["fold", "--weight", "bogus", str(CAPTURE)], "--weight must be"),
        (["fold", "--format", "nope", str(CAPTURE)], "unknown format 'nope'"),
        (["fold", "--event", "cycles", str(CAPTURE)], "event 'cycles' not in the input"),
        (["fold", "--no-such-flag", str(CAPTURE)], "No such option"),
    ],
)
def test_usage_and_input_errors_exit_2(args: list[str], message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_strict_turns_bad_lines_into_exit_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "odd.perf"
    path.write_bytes(b"a 1 1.0: 1 cycles: \n\tffff f (/x)\n\nnot a perf line\n\n")
    ok = run("fold", str(path))
    assert ok.returncode == 0 and b"1 unrecognised line(s) skipped" in ok.stderr and b"odd.perf:4" in ok.stderr
    strict = run("fold", "--strict", str(path))
    assert strict.returncode == 2 and b"--strict" in strict.stderr and strict.stdout == b""
    quiet = run("fold", "-q", str(path))
    assert quiet.returncode == 0 and quiet.stderr == b""


def test_perf_data_is_recognised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "perf.data").write_bytes(b"PERFILE2" + bytes(100))
    r = run("fold", str(tmp_path / "perf.data"))
    assert r.returncode == 2 and b"run `perf script" in r.stderr and b"Traceback" not in r.stderr


def test_verbose_says_what_was_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = run("fold", "-v", str(FIXTURES / "system-mixed.perf.zst"), "-o", str(tmp_path / "x.folded"))
    assert r.returncode == 0 and b"format perf (zstd compression)" in r.stderr
    plain = run("fold", "-v", "-", stdin=data_bytes("captures/perf-c-fp.txt"))
    assert b"format perf (not compressed)" in plain.stderr and b"none compression" not in plain.stderr


def test_every_command_has_help_with_an_example() -> None:
    from foldkit.cli import COMMANDS

    for _, name in COMMANDS:
        r = run(name, "--help")
        assert r.returncode == 0, name
        assert b"Example" in r.stdout or b"example" in r.stdout, name


def test_cli_starts_without_importing_polars() -> None:
    """Start-up time: commands import their heavy libraries (polars) only when they run."""
    code = "import sys, foldkit.cli; print('polars' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert r.stdout.strip() == b"False", r.stderr
