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
    from collections.abc import Callable
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


def _popped(started: dict[tuple[int, ...], Any], path: str) -> Any | None:
    """What `started` holds for the file at `path` as it is now (its identity), taken out of it;
    or None."""
    if not started:
        return None
    try:
        key = _identity(os.stat(path))
    except (OSError, ValueError):
        return None
    return started.pop(key, None)


def take(path: str, max_record: int) -> Any | None:
    """The read started for the file at `path` with this `max_record` (its `result()` gives what
    `_native.read_folded_file` would with any number of threads), or None; a read is taken once."""
    found = _popped(_PENDING, path)
    if found is None or found[0] != max_record:
        return None
    return found[1]


def forget() -> None:
    """Drop every read not taken (tests)."""
    _PENDING.clear()
    _CAPTURES.clear()


# --- perf captures folded ahead ---------------------------------------------------------------
#
# `foldkit fold x.perf` (the fast path's plan, with no flag but -o/-q/-v/-j) starts the native
# perf folder's threads on the capture here, while the command's modules still import; the perf
# reader (`foldkit.ingest.perf._fold_native`) takes the fold when it asks for the same file
# folded with the same options (`FoldOptions(jobs=...)`, nothing else changed), else it is left
# unused and the file is folded as usual. What the threads leave to Python (names of odd frame
# lines, chunks for the line path) is done by the reader's own code: the names on first need
# (`foldkit.ingest.perf.Resolver`), the chunks kept here and folded by the reader when it takes
# the fold, as its own fallback would fold them.

#: The fast path's `foldkit fold` parameters that leave the folding options at their defaults.
_PLAIN_FOLD = frozenset({"output", "quiet", "verbose", "jobs"})

#: Bytes per range the threads read (`foldkit.ingest.perf.NATIVE_RANGE_SIZE`, which a test
#: checks against this).
RANGE_SIZE = 512 * 1024

#: The fields of default `FoldOptions` the native folder reads (`_native.PerfFolder`); a test
#: checks them against `FoldOptions()`.
DEFAULT_PERF_OPTIONS: dict[str, Any] = {
    "kernel": False, "jit": False, "inline": False, "addrs": False, "demangle": False, "pid": False,
    "tid": False, "weight": "period", "skip_after": (), "keep_time": False, "clock": "cpu",
}  # fmt: skip

#: The perf reader's namer of frame lines for default options with a number of threads
#: (`foldkit.ingest.perf.Resolver(FoldOptions(jobs=...)).line_names`), set by that module when it
#: loads (this layer does not import the readers).
line_namers: list[Callable[[int], Callable[[bytes, bool], str | None]]] = []

#: Captures folding: file identity -> the fold.
_CAPTURES: dict[tuple[int, ...], CaptureFold] = {}


class _Options:
    """`DEFAULT_PERF_OPTIONS` as attributes (what `_native.PerfFolder` reads of a `FoldOptions`)."""

    def __init__(self) -> None:
        self.__dict__.update(DEFAULT_PERF_OPTIONS)


class CaptureFold:
    """A perf capture being folded by the native threads since start-up: `folder` (a
    `_native.PerfFolder`) has its ranges queued by a native thread (`feed_file`: no Python runs
    for that while the command's modules import); `chunks` are those the threads handed back for
    the line path, `(index, bytes)`."""

    def __init__(self, native: Any, path: str, jobs: int) -> None:
        import threading

        self.jobs = jobs
        self.chunks: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self._namer: Any = None
        self.folder = native.PerfFolder(_Options(), jobs=jobs, namer=self._name, fallback=self._keep)
        try:
            self.folder.feed_file(path, RANGE_SIZE, 0, DEFAULT_MAX_RECORD, False)
        except BaseException:
            self.folder.cancel()
            raise

    def _keep(self, index: int, chunk: bytes) -> None:
        with self._lock:
            self.chunks.append((index, bytes(chunk)))

    def _name(self, line: bytes, java: bool) -> bytes | bool | None:
        """The perf reader's name of a frame line the threads leave to Python (its namer, made
        by `line_namers[0]` once the reader has loaded and set it); False, "cannot answer", until
        then: the line's chunk is then handed back (`_keep`) and folded by the reader."""
        with self._lock:
            if self._namer is None:
                if not line_namers:
                    return False
                self._namer = line_namers[0](self.jobs)
            joined = self._namer(line, java)
        return None if joined is None else joined.encode("utf-8", "surrogateescape")


def start_capture(command: str, inputs: list[str], given: dict[str, Any]) -> None:
    """Start folding the one perf capture of a `foldkit fold` command line the fast path runs
    with no flag that changes the folding options (`_PLAIN_FOLD`): a plain (not compressed)
    regular file of at least `MIN_BYTES` whose head holds tab-led frame lines and a blank line
    (records end at blank lines), with the native core only. A file of another format folded
    here costs only time: the reader takes the fold for a perf capture only."""
    if command != "fold" or len(inputs) != 1 or not set(given) <= _PLAIN_FOLD:
        return
    path = inputs[0]
    st = _worth_it(path) if path != "-" else None
    if st is None:
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return
    if b"\n\n" not in head or b"\n\t" not in head:
        # not perf script's tab-led frame lines in records ended by blank lines (compressed,
        # another format, or records the reader finds otherwise): left to the reader
        return
    native = native_core()
    if native is None:
        return
    jobs = int(given.get("jobs") or 0)
    try:
        _CAPTURES[_identity(st)] = CaptureFold(native, path, jobs or default_jobs())
    except Exception:  # (folded as usual)
        return


def take_capture(path: str, options: Any) -> CaptureFold | None:
    """The fold started for the capture at `path`, when `options` (a `FoldOptions`) are those it
    was started with (`FoldOptions(jobs=...)`, the same number of threads); taken once. None
    otherwise (a fold started for that file is then stopped)."""
    found = _popped(_CAPTURES, path)
    if found is None:
        return None
    if options != type(options)(jobs=options.jobs) or (options.jobs or default_jobs()) != found.jobs:
        found.folder.cancel()
        return None
    return found


__all__ = ["MIN_BYTES", "CaptureFold", "forget", "start", "start_capture", "take", "take_capture", "worth_reading"]
