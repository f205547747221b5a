"""Format detection is unambiguous on every capture, fails clearly on anything else, and
`foldkit formats` lists what is supported."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.cli.common import Format
from foldkit.errors import InputError
from foldkit.ingest import FORMATS, detect, format_names
from foldkit.inputs import open_source
from tests.support.bpf import CAPTURES, DATA, fold

ROOT = Path(__file__).resolve().parents[2]


def _expected_format(name: str) -> str:
    if name.endswith("-folded.txt.zst") or "-collapsed-" in name:
        return "folded"
    if name.startswith(("perf-", "example-perf")):
        return "perf"
    if "dtrace" in name:
        return "dtrace"
    if name.startswith("bpftrace-"):
        return "bpftrace"
    return "bcc"  # bcc-*, libbpf-tools-*


INPUTS = sorted(CAPTURES.glob("*.zst")) + sorted((DATA / "flamegraph-tests").glob("**/*.txt.zst"))
#: inferno's DTrace inputs that hold a stack (only-header-lines.txt holds none).
DTRACE_INPUTS = sorted(p for p in (DATA / "inferno" / "collapse-dtrace").glob("*.txt") if p.name != "only-header-lines.txt")


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_exactly_one_sniffer_claims_each_capture(path: Path) -> None:
    source = open_source(str(path))
    try:
        head = source.head()
        claims = [name for name, module in FORMATS.items() if module.sniff(head)]
        assert claims == [_expected_format(path.name)]
        assert detect(source).NAME == claims[0]
    finally:
        source.close()


@pytest.mark.parametrize("path", DTRACE_INPUTS, ids=lambda p: p.name)
def test_dtrace_aggregations_are_detected(path: Path) -> None:
    source = open_source(str(path))
    try:
        head = source.head()
        assert [name for name, module in FORMATS.items() if module.sniff(head)] == ["dtrace"]
    finally:
        source.close()


@pytest.mark.parametrize("suffix", [".folded", ".perf.zst"])
@pytest.mark.parametrize("path", INPUTS[::3], ids=lambda p: p.name)
def test_a_misleading_file_name_does_not_change_the_format(tmp_path: Path, path: Path, suffix: str) -> None:
    """The name's suggestion is only sniffed first: the content decides."""
    misnamed = tmp_path / f"capture{suffix}"
    misnamed.write_bytes(path.read_bytes())
    source = open_source(str(misnamed))
    try:
        assert detect(source).NAME == _expected_format(path.name)
    finally:
        source.close()


def test_fixtures_are_detected() -> None:
    fixtures = ROOT / "fixtures"
    want = {"bcc-profile.txt": "bcc", "kstack-ustack-comm.bt": "bpftrace", "java.perf": "perf", "system-mixed.perf.zst": "perf"}
    for name, fmt in want.items():
        if (fixtures / name).exists():
            assert fold(fixtures / name).format == fmt


def test_unknown_input_lists_formats_and_perf_data_hint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Dear diary,\nthe profile was slow.\n")
    assert main(["fold", str(path)]) == 2
    err = capsys.readouterr().err
    for name in FORMATS:
        assert name in err
    assert "perf script" in err and "Traceback" not in err


def test_bpftrace_error_text_is_reported_as_such() -> None:
    with pytest.raises(InputError, match="bpftrace printed an error"):
        fold(b"ERROR: Could not resolve symbol: /bin/bash:readline\n")


def test_verbose_says_what_detection_chose(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "o.folded"
    assert main(["fold", "-v", str(CAPTURES / "bcc-profile.txt.zst"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "format bcc (zstd compression)" in err
    assert "BCC profile output" in err


def test_formats_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name, module in FORMATS.items():
        row = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
        assert module.DESCRIPTION in lines[row]
        assert lines[row + 1].strip() == f"e.g. {module.EXAMPLE}"
    assert any(line.startswith("auto ") for line in lines)


def test_formats_command_end_to_end() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "foldkit", "formats"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    listing, _, status = done.stdout.rstrip("\n").rpartition("\n\n")
    assert [line.split()[0] for line in listing.splitlines() if line[:1] != " "] == [*FORMATS, "auto"]
    assert status.startswith("native core: ")


def test_format_option_help_names_every_format() -> None:
    """`--format`'s help is written by hand: a new format must be added there too."""
    help_text = typing.get_args(Format)[1].help
    listed = help_text.removeprefix("Input format: ").rstrip(".").split(", ")
    assert listed == format_names()


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_examples_are_one_line(name: str) -> None:
    module = FORMATS[name]
    assert "\n" not in module.EXAMPLE and "\n" not in module.DESCRIPTION


@pytest.mark.parametrize(("fmt", "capture"), [("bcc", "bpftrace-kstack"), ("bpftrace", "bcc-profile"), ("folded", "bcc-profile")])
def test_forcing_the_wrong_format_fails_clearly(fmt: str, capture: str) -> None:
    with pytest.raises(InputError, match="found"):
        fold(CAPTURES / f"{capture}.txt.zst", format=fmt)
