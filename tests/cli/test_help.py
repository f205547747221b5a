"""Every command's help: examples one per line and verbatim, no type labels as metavars, every
option it names exists, and every example it shows runs."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from foldkit.cli import COMMANDS, app, main
from tests.support.common import DATA

NAMES = [name for _, name in COMMANDS]
CAPTURE = DATA / "captures" / "perf-c-fp.txt.zst"
#: The files the examples name, made from one real capture.
EXAMPLE_FILES = [
    "cpu.perf.zst", "old.perf.zst", "new.perf.zst", "old-1.perf.zst", "new-1.perf.zst", "base.perf.zst",
    "main-1.perf.zst", "pr-1.perf.zst", "captures/cpu.perf.zst", "captures/last-release.perf.zst",
]  # fmt: skip


def help_text(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    assert main([name, "--help"]) == 0
    return capsys.readouterr().out


def examples(text: str) -> list[str]:
    """The example lines of a help text or docstring: the indented block after `Examples:`."""
    block = text.split("Examples:", 1)[1].lstrip("\n").replace("\b\n", "")
    lines = []
    for line in block.splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return lines


def option_names(name: str) -> set[str]:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("name", NAMES)
def test_examples_are_shown_one_per_line_verbatim(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    func = dict((n, f) for f, n in COMMANDS)[name]
    written = examples(inspect.cleandoc(func.__doc__ or ""))
    assert written and all(line.startswith(("foldkit ", "zstdcat ")) for line in written)
    assert examples(help_text(name, capsys, monkeypatch)) == written


@pytest.mark.parametrize("name", NAMES)
def test_no_type_labels_as_metavars(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text(name, capsys, monkeypatch)
    assert not re.search(r"<list\[|\{\w+\}|list\[str\]", text), text
    usage = text.splitlines()[0]
    assert "{" not in usage and "<" not in usage


def flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))


@pytest.mark.parametrize("name", NAMES)
def test_every_option_the_help_names_exists(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text(name, capsys, monkeypatch)
    shown = examples(text)
    prose = "\n".join(line for line in text.splitlines() if line.strip() not in shown)
    assert flags(prose) <= option_names(name) | {"--help"}, flags(prose) - option_names(name)
    for line in shown:  # each `foldkit COMMAND ...` of a pipeline uses that command's options
        for part in line.split("|"):
            words = part.split()
            if words[:1] == ["foldkit"]:
                assert flags(part) <= option_names(words[1]), (line, flags(part) - option_names(words[1]))


def test_the_check_help_names_its_own_sides(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text("check", capsys, monkeypatch)
    assert "--before" not in text and "--baseline/--candidate" in text


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    for name in EXAMPLE_FILES:
        (root / name).parent.mkdir(exist_ok=True)
        shutil.copyfile(CAPTURE, root / name)
    assert main(["fold", str(CAPTURE), "-o", str(root / "cpu.folded")]) == 0
    return root


def all_examples() -> list[tuple[str, str]]:
    return [(name, line) for func, name in COMMANDS for line in examples(inspect.cleandoc(func.__doc__ or ""))]


@pytest.mark.parametrize(("name", "line"), all_examples())
def test_every_example_runs(name: str, line: str, example_dir: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=example_dir, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, (line, done.stderr.decode())
