"""`-o` with a suffix a command cannot write is a usage error naming the suffixes it can; every
suffix a command declares is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.errors import UsageError
from foldkit.outputs import OUTPUT_SUFFIXES, output_suffix, output_suffixes
from tests.support.common import DATA

CAPTURE = str(DATA / "captures" / "perf-c-fp.txt.zst")
ARGS = {"fold": [CAPTURE], "flamegraph": [CAPTURE], "top": [CAPTURE], "diff": [CAPTURE, CAPTURE], "check": [CAPTURE, CAPTURE]}


def test_every_writing_command_declares_its_suffixes() -> None:
    assert set(ARGS) <= set(OUTPUT_SUFFIXES)
    assert ".svg" in OUTPUT_SUFFIXES["flamegraph"] and ".parquet" in OUTPUT_SUFFIXES["fold"]


@pytest.mark.parametrize("command", sorted(ARGS))
def test_an_unwritable_suffix_is_a_usage_error(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x.png"
    assert main([command, *ARGS[command], "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"foldkit {command} cannot write .png files" in err and "Traceback" not in err
    assert all(suffix in err for suffix in OUTPUT_SUFFIXES[command])
    assert not target.exists()


@pytest.mark.parametrize(
    ("command", "suffix"), [(c, s) for c in sorted(ARGS) for s in sorted(OUTPUT_SUFFIXES.get(c, ()))]
)
def test_every_declared_suffix_is_written(command: str, suffix: str, tmp_path: Path) -> None:
    target = tmp_path / f"out{suffix}"
    assert main([command, *ARGS[command], "-o", str(target), "-q"]) in (0, 1)
    assert target.stat().st_size > 0


def test_the_registry_takes_new_suffixes() -> None:
    table = output_suffixes("test-command", {".svg": "picture"})
    assert output_suffix("test-command", "a/b.SVG.gz") == ".svg" and output_suffix("test-command", "-") is None
    assert output_suffix("test-command", "plain-name") == ""
    with pytest.raises(UsageError, match=r"cannot write \.html files; it writes \.svg"):
        output_suffix("test-command", "x.html")
    output_suffixes("test-command", {".html": "page"})
    assert output_suffix("test-command", "x.html") == ".html" and ".html" in table
    del OUTPUT_SUFFIXES["test-command"]
