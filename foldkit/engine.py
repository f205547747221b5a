"""Fold a stream of chunks in worker processes that each accumulate their own partial result.

Workers pull (index, chunk) pairs from a bounded queue, fold them into a per-process state and
send that state back once, at the end; the caller merges the few states. Shipping one result per
worker instead of one per chunk matters: a chunk's folded stacks are nearly as large as the chunk.
Anything order-dependent (first event seen, line numbers) is keyed by chunk index, so the merged
result does not depend on which worker got which chunk.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

S = TypeVar("S")

#: Chunks waiting per worker: enough to keep workers busy while the reader prepares the next one;
#: memory in flight is bounded by jobs x (1 + QUEUED_PER_WORKER) x chunk size.
QUEUED_PER_WORKER = 2
#: Seconds between checks that the workers are still alive while waiting on them.
POLL_SECONDS = 1.0


def default_jobs() -> int:
    """Worker processes to use by default: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class ChunkFolder(Generic[S]):
    """What the engine needs from a format: a fresh state, folding one chunk into it."""

    def new_state(self) -> S:
        """An empty partial result."""
        raise NotImplementedError

    def fold(self, state: S, index: int, chunk: bytes) -> None:
        """Fold chunk number `index` into `state`."""
        raise NotImplementedError

    def next_boundary(self, data: bytes, pos: int) -> int:
        """The first record boundary at or after `pos` in `data`, or -1 if `data` holds none.
        Formats that can be split by file offset (workers reading ranges themselves) override it."""
        raise NotImplementedError


#: Bytes read at a time while looking for a record boundary near a range end.
BOUNDARY_SCAN = 64 * 1024


def _boundary_at_or_after(fh: Any, folder: ChunkFolder[Any], offset: int, size: int) -> int:
    """File offset of the first record boundary at or after `offset` (the file size if none)."""
    if offset <= 0:
        return 0
    # read from a little before `offset` so a boundary marker straddling it is seen
    start = max(0, offset - 2)
    while start < size:
        data = os.pread(fh, BOUNDARY_SCAN + 2, start)
        if not data:
            break
        found = folder.next_boundary(data, offset - start if offset > start else 0)
        if found >= 0:
            return start + found
        start += BOUNDARY_SCAN
    return size


def _read_range(folder: ChunkFolder[Any], path: str, fds: dict[str, int], first: int, last: int) -> bytes:
    fd = fds.get(path)
    if fd is None:
        fd = fds[path] = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    begin = _boundary_at_or_after(fd, folder, first, size)
    end = _boundary_at_or_after(fd, folder, last, size) if last < size else size
    if end <= begin:
        return b""
    parts = []
    while begin < end:
        piece = os.pread(fd, end - begin, begin)
        if not piece:
            break
        parts.append(piece)
        begin += len(piece)
    return b"".join(parts)


class _WorkerFailed(Exception):
    pass


def _worker(folder: ChunkFolder[Any], tasks: Any, results: Any) -> None:
    state = folder.new_state()
    fds: dict[str, int] = {}
    try:
        while True:
            item = tasks.get()
            if item is None:
                break
            if len(item) == 2:
                index, chunk = item
            else:
                index, path, first, last = item
                chunk = _read_range(folder, path, fds, first, last)
            if chunk:
                folder.fold(state, index, chunk)
        results.put(("ok", state))
    except BaseException as exc:  # report, never hang the parent
        results.put(("error", exc))


def fold_file(folder: ChunkFolder[S], path: str, chunk_size: int, jobs: int = 0) -> list[S] | None:
    """Fold a plain file by letting each worker read byte ranges itself (no copying through the
    parent); None when that is not worthwhile (one job, or a file of one chunk)."""
    jobs = jobs or default_jobs()
    size = os.path.getsize(path)
    if jobs == 1 or size <= chunk_size:
        return None
    ranges = [(i, path, start, min(start + chunk_size, size)) for i, start in enumerate(range(0, size, chunk_size))]
    return _run_workers(folder, iter(ranges), jobs)


def fold_chunks(folder: ChunkFolder[S], chunks: Iterator[bytes], jobs: int = 0) -> list[S]:
    """Fold every chunk; return the partial states (one per worker, or one when run in-process)."""
    jobs = jobs or default_jobs()
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if second is None or jobs == 1:
        state = folder.new_state()
        for index, chunk in enumerate(_chain(first, second, chunks)):
            folder.fold(state, index, chunk)
        return [state]
    return _run_workers(folder, enumerate(_chain(first, second, chunks)), jobs)


def _run_workers(folder: ChunkFolder[S], items: Iterator[tuple[Any, ...]], jobs: int) -> list[S]:
    ctx = multiprocessing.get_context("fork")
    tasks = ctx.Queue(maxsize=jobs * QUEUED_PER_WORKER)
    results = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(folder, tasks, results), daemon=True) for _ in range(jobs)]
    for w in workers:
        w.start()
    states: list[S] = []
    try:
        for item in items:
            _put(tasks, item, workers)
        for _ in workers:
            _put(tasks, None, workers)
        while len(states) < jobs:
            try:
                kind, payload = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not all(w.is_alive() or w.exitcode == 0 for w in workers):
                    raise _WorkerFailed("a worker process died (out of memory?)") from None
                continue
            if kind == "error":
                raise payload
            states.append(payload)
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
            w.join()
    return states


def _chain(first: bytes | None, second: bytes | None, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first is not None:
        yield first
    if second is not None:
        yield second
        yield from rest


def _put(tasks: Any, item: Any, workers: list[Any]) -> None:
    while True:
        try:
            tasks.put(item, timeout=POLL_SECONDS)
            return
        except queue.Full:
            if not all(w.is_alive() for w in workers):
                raise _WorkerFailed("a worker process died (out of memory?)") from None


__all__ = ["ChunkFolder", "default_jobs", "fold_chunks", "fold_file"]
