"""Folded files read ahead: the big folded files a command names, read by the native core's
threads while Python is still starting up (importing the command line's modules takes about as
long as reading a 45 MB file), then handed to the folded reader when it asks for that file.

    start(args)                                  # the console script, before anything else
    take(path, threads, max_record, max_deferred) -> PendingStacks | None   # ingest.folded

A read is handed over only if it read the same file (device, inode, size and modification
time unchanged) with the same settings the reader asks for; anything else is left unused and
read as usual, so reading ahead never changes what a command does, only when it reads. The
read uses one thread fewer than the cores (at least one), leaving a core to the start-up it
overlaps; the number of threads never changes what the native reader gives.
"""

from __future__ import annotations

import os
import stat
from itertools import pairwise
from typing import Any

from foldkit.engine import default_jobs, native_core
from foldkit.inputs import DEFAULT_MAX_RECORD

#: Lines the native file reader hands to the reference reader (comments, bad lines) before it
#: leaves the whole file to the stream reader (see `ingest.folded`).
MAX_DEFERRED = 10_000

#: Commands whose folded inputs are read in this process (`report` reads in worker processes).
COMMANDS = frozenset({"flamegraph", "top", "diff", "check", "fold"})

#: Options after which inputs are not read ahead: they change how (or whether) a file is read,
#: or the command does not run.
_OPTIONS = ("-j", "--jobs", "--max-record", "--format", "--cluster", "-h", "--help", "--version")

#: Options whose value is a file written, not read.
_OUTPUT = frozenset({"-o", "--output"})

#: Files smaller than this are read when asked for (a few milliseconds).
MIN_BYTES = 4 * 1024 * 1024

#: Inputs read ahead at most (a diff's two).
MAX_FILES = 2

#: Reads started: file identity -> ((max_record, max_deferred), pending read).
_PENDING: dict[tuple[int, ...], tuple[tuple[int, int], Any]] = {}


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def candidates(args: list[str]) -> list[str]:
    """The arguments of a command line (without the program name) worth reading ahead: files
    named `*.folded` of at least `MIN_BYTES` (not the value of `-o`), for a command of
    `COMMANDS` given none of the options that change how inputs are read."""
    if not args or args[0] not in COMMANDS or os.environ.get("FOLDKIT_CLUSTER"):
        return []
    if any(a.startswith(_OPTIONS) for a in args[1:]):
        return []
    found = []
    for before, arg in pairwise(args):
        if arg.startswith("-") or not arg.endswith(".folded") or before in _OUTPUT:
            continue
        try:
            st = os.stat(arg)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size >= MIN_BYTES:
            found.append(arg)
    return found[:MAX_FILES]


def start(args: list[str]) -> None:
    """Start reading ahead the `candidates` of this command line (with the native core only)."""
    native = native_core()
    if native is None:
        return
    for path in candidates(args):
        try:
            st = os.stat(path)
            threads = max(1, default_jobs() - 1)
            pending = native.read_folded_file_later(path, threads, DEFAULT_MAX_RECORD, MAX_DEFERRED)
            _PENDING[_identity(st)] = ((DEFAULT_MAX_RECORD, MAX_DEFERRED), pending)
        except (OSError, ValueError):
            continue  # read as usual


def take(path: str, max_record: int, max_deferred: int) -> Any | None:
    """The read started for the file at `path` with these settings (its `result()` gives what
    `_native.read_folded_file` would with any number of threads), or None; a read is taken once."""
    if not _PENDING:
        return None
    try:
        key = _identity(os.stat(path))
    except (OSError, ValueError):
        return None
    found = _PENDING.pop(key, None)
    if found is None or found[0] != (max_record, max_deferred):
        return None
    return found[1]


def forget() -> None:
    """Drop every read not taken (tests)."""
    _PENDING.clear()


__all__ = ["COMMANDS", "MAX_DEFERRED", "MIN_BYTES", "candidates", "forget", "start", "take"]
