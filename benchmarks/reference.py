"""Finding the reference tools the benchmarks compare against, when they are installed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def inferno(env: str, binary: str) -> list[str] | None:
    """The inferno binary named by the environment variable `env`, or `binary` on PATH."""
    found = os.environ.get(env) or shutil.which(binary)
    return [found] if found else None


def flamegraph_script(name: str) -> list[str] | None:
    """`perl NAME` for FlameGraph's script NAME in `FLAMEGRAPH_DIR`, or on PATH."""
    fg_dir = os.environ.get("FLAMEGRAPH_DIR")
    script = Path(fg_dir) / name if fg_dir else None
    if script is None or not script.exists():
        found = shutil.which(name)
        script = Path(found) if found else None
    return ["perl", str(script)] if script is not None and script.exists() else None


def foldkit() -> list[str]:
    """The command users run: the `foldkit` console script installed beside this interpreter (about
    5 ms quicker to start than `python -m foldkit`, whose runpy loads modules foldkit does not), or
    `python -m foldkit` where there is none."""
    script = Path(sys.executable).parent / "foldkit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "foldkit"]


def compile_foldkit() -> None:
    """Write foldkit's bytecode now, so no timed run pays for compiling it (PYTHONDONTWRITEBYTECODE,
    set on some machines, would otherwise make every run of an editable install recompile)."""
    import compileall

    import foldkit

    compileall.compile_dir(str(Path(foldkit.__file__).parent), quiet=1)
