"""`foldkit fold --per-process / --per-thread`: one folded file per process or thread in a folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from foldkit.errors import UsageError
from foldkit.outputs import is_stdout, staged_folder
from foldkit.profile import Diagnostics, Profile

SUFFIX = ".folded"


def combined_diagnostics(parts: Mapping[str, Profile]) -> Diagnostics:
    """The diagnostics of every part, each warning once."""
    diag = Diagnostics()
    for part in parts.values():
        diag.merge(part.diagnostics)
    return diag


def write_split(parts: Mapping[str, Profile], folder: str | os.PathLike[str] | None) -> list[Path]:
    """Write each part as `<folder>/<name>.folded` (the folder is created if missing), all or none:
    the set is staged and moved into the folder only when every file is written; the paths."""
    if is_stdout(folder):
        raise UsageError("--per-process/--per-thread write one file per group: give the folder with -o DIR")
    assert folder is not None
    target = Path(folder)
    if os.path.exists(target) and not os.path.isdir(target):
        raise UsageError(f"{target}: -o must name a folder with --per-process/--per-thread")
    with staged_folder(target) as stage:
        for name, part in parts.items():
            part.to_folded(stage / f"{name}{SUFFIX}")
    return [target / f"{name}{SUFFIX}" for name in parts]
