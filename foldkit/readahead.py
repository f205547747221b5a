"""Folded files read ahead: the big folded files a command names, read by the native core's
threads while Python is still starting up (importing the command line's modules takes about as
long as reading a 45 MB file), then handed to the folded reader when it asks for that file.

    start(args)                                  # the console script, before anything else
    take(path, max_record) -> PendingStacks | None   # ingest.folded

A read is handed over only if it read the same file (device, inode, size and modification
time unchanged) with the `--max-record` the reader asks for; anything else is left unused and
read as usual, so reading ahead never changes what a command does, only when it reads. The
read uses one thread fewer than the cores (at least one), leaving a core to the start-up it
overlaps; the number of threads never changes what the native reader gives.
"""

from __future__ import annotations

import os
import stat
from itertools import pairwise
from typing import Any

from foldkit.inputs import DEFAULT_MAX_RECORD
from foldkit.jobs import default_jobs
from foldkit.native import native_core

#: Lines the native file reader hands to the reference reader (comments, bad lines) before it
#: leaves the whole file to the stream reader (see `ingest.folded`).
MAX_DEFERRED = 10_000

#: Commands whose folded inputs are read in this process (`report` reads in worker processes).
COMMANDS = frozenset({"flamegraph", "top", "diff", "check", "fold"})

#: Options after which inputs are not read ahead: they change how (or whether) a file is read
#: (a flame chart reads folded lines in order, one by one), or the command does not run.
_OPTIONS = ("-j", "--jobs", "--nthreads", "--max-record", "--format", "--cluster", "--flamechart", "-h", "--help", "--version")
#: More such options of one command: `fold -n` is inferno-collapse-perf's `--nthreads`.
_COMMAND_OPTIONS = {"fold": ("-n",)}

#: Options whose value is a file written, not read.
_OUTPUT = frozenset({"-o", "--output"})

#: Files smaller than this are read when asked for (a few milliseconds).
MIN_BYTES = 4 * 1024 * 1024

#: Inputs read ahead at most (a diff's two).
MAX_FILES = 2

#: Reads started: file identity -> (max_record, pending read).
_PENDING: dict[tuple[int, ...], tuple[int, Any]] = {}


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _found(args: list[str]) -> list[tuple[str, os.stat_result]]:
    if not args or args[0] not in COMMANDS or os.environ.get("FOLDKIT_CLUSTER"):
        return []
    options = _OPTIONS + _COMMAND_OPTIONS.get(args[0], ())
    if any(a.startswith(options) for a in args[1:]):
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
            found.append((arg, st))
    return found[:MAX_FILES]


def candidates(args: list[str]) -> list[str]:
    """The arguments of a command line (without the program name) worth reading ahead: files
    named `*.folded` of at least `MIN_BYTES` (not the value of `-o`), for a command of
    `COMMANDS` given none of the options that change how inputs are read."""
    return [path for path, _ in _found(args)]


def start(args: list[str]) -> None:
    """Start reading ahead the `candidates` of this command line (with the native core only)."""
    found = _found(args)
    native = native_core() if found else None
    if native is None:
        return
    threads = max(1, default_jobs() - 1)
    for path, st in found:
        try:
            pending = native.read_folded_file_later(path, threads, DEFAULT_MAX_RECORD, MAX_DEFERRED)
        except (OSError, ValueError):
            continue  # read as usual
        _PENDING[_identity(st)] = (DEFAULT_MAX_RECORD, pending)


def take(path: str, max_record: int) -> Any | None:
    """The read started for the file at `path` with this `max_record` (its `result()` gives what
    `_native.read_folded_file` would with any number of threads and `MAX_DEFERRED`), or None; a
    read is taken once."""
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


__all__ = ["COMMANDS", "MAX_DEFERRED", "MIN_BYTES", "candidates", "forget", "start", "take"]
