"""Shell completion (Typer's): `_FOLDKIT_COMPLETE=source_SHELL foldkit` prints the script a shell
evaluates, and the script's calls (`_FOLDKIT_COMPLETE=complete_SHELL`) complete commands and options;
without the variable nothing of it loads and `--help` does not mention it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from foldkit.cli import COMPLETE_VAR


def _foldkit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != COMPLETE_VAR} | env
    return subprocess.run([sys.executable, "-m", "foldkit", *args], env=full, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("shell", "expected"), [
    ("bash", "complete -o default -F _foldkit_completion foldkit"),
    ("zsh", "#compdef foldkit"),
    ("fish", "complete --command foldkit"),
])
def test_source_prints_the_shell_script(shell: str, expected: str) -> None:
    run = _foldkit({COMPLETE_VAR: f"source_{shell}"})
    assert run.returncode == 0 and expected in run.stdout, run.stderr


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("foldkit fl", "1", {"flamegraph"}),
    ("foldkit fold --per", "2", {"--per-process", "--per-thread"}),
])
def test_bash_completes_commands_and_options(words: str, cword: str, expected: set[str]) -> None:
    run = _foldkit({COMPLETE_VAR: "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword})
    assert run.returncode == 0 and set(run.stdout.split()) == expected, (run.stdout, run.stderr)


def test_help_does_not_offer_completion_options() -> None:
    run = _foldkit({}, "--help")
    assert run.returncode == 0 and "completion" not in run.stdout
