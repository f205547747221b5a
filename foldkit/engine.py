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


class _WorkerFailed(Exception):
    pass


def _worker(folder: ChunkFolder[Any], tasks: Any, results: Any) -> None:
    state = folder.new_state()
    try:
        while True:
            item = tasks.get()
            if item is None:
                break
            index, chunk = item
            folder.fold(state, index, chunk)
        results.put(("ok", state))
    except BaseException as exc:  # report, never hang the parent
        results.put(("error", exc))


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
    ctx = multiprocessing.get_context("fork")
    tasks = ctx.Queue(maxsize=jobs * QUEUED_PER_WORKER)
    results = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(folder, tasks, results), daemon=True) for _ in range(jobs)]
    for w in workers:
        w.start()
    states: list[S] = []
    try:
        for index, chunk in enumerate(_chain(first, second, chunks)):
            _put(tasks, (index, chunk), workers)
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


__all__ = ["ChunkFolder", "default_jobs", "fold_chunks"]
