"""Folded files read ahead: big folded files a command names, read by the native core's threads
while Python is still starting up (importing the command line's modules takes about as long as
reading a 45 MB file), then handed to the folded reader when it asks for that file.

    start(paths)                                     # the console script (`foldkit.launch`), first
    take(path, max_record) -> PendingStacks | None   # ingest.folded

Which arguments of a command line name such files is the command line's knowledge
(`foldkit.launch.read_ahead_paths`); this module only reads. A read is handed over only if it read
the same file (device, inode, size and modification time unchanged) with the `--max-record` the
reader asks for; anything else is left unused and read as usual, so reading ahead never changes
what a command does, only when it reads. The read uses one thread fewer than the cores (at least
one), leaving a core to the start-up it overlaps; the number of threads never changes what the
native reader gives.
"""

from __future__ import annotations

import os
import stat

from foldkit.constants import DEFAULT_MAX_RECORD
from foldkit.jobs import default_jobs
from foldkit.native import native_core

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Files smaller than this are read when asked for (a few milliseconds).
MIN_BYTES = 4 * 1024 * 1024

#: Reads started: file identity -> (max_record, pending read).
_PENDING: dict[tuple[int, ...], tuple[int, Any]] = {}


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _worth_it(path: str) -> os.stat_result | None:
    """The file's status when it is a regular file of at least `MIN_BYTES`, else None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) and st.st_size >= MIN_BYTES else None


def worth_reading(paths: list[str]) -> list[str]:
    """The `paths` worth reading ahead: regular files of at least `MIN_BYTES`."""
    return [path for path in paths if _worth_it(path) is not None]


def start(paths: list[str], viewer_root: str | None = None) -> None:
    """Start reading ahead those of `paths` worth it (with the native core only). With
    `viewer_root` and one such file, the viewer's tree of its stacks is built too once they are
    read, with that root (the command draws that file's HTML viewer: `foldkit.launch.viewer_root`):
    `render.viewer.tree.native_tree` of the table read takes it (`ViewerTree.built_ahead`),
    the same tree it would build, and of another table never."""
    found = [(path, st) for path in paths if (st := _worth_it(path)) is not None]
    native = native_core() if found else None
    if native is None:
        return
    threads = max(1, default_jobs() - 1)
    tree_root = viewer_root if len(found) == 1 else None
    for path, st in found:
        try:
            pending = native.read_folded_file_later(path, threads, DEFAULT_MAX_RECORD, viewer_root=tree_root)
        except (OSError, ValueError):
            continue  # read as usual
        _PENDING[_identity(st)] = (DEFAULT_MAX_RECORD, pending)


def take(path: str, max_record: int) -> Any | None:
    """The read started for the file at `path` with this `max_record` (its `result()` gives what
    `_native.read_folded_file` would with any number of threads), or None; a read is taken once."""
    if not _PENDING:
        return None
    try:
        key = _identity(os.stat(path))
    except (OSError, ValueError):
        return None
    found = _PENDING.pop(key, None)
    if found is None or found[0] != max_record:
        return None
    return found[1]


def forget() -> None:
    """Drop every read not taken (tests)."""
    _PENDING.clear()


__all__ = ["MIN_BYTES", "forget", "start", "take", "worth_reading"]
