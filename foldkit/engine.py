"""Run a per-chunk function over a stream of chunks in worker processes, results in input order,
with a bounded number of chunks in flight so memory does not grow with the input."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
Opts = TypeVar("Opts")

#: Chunks queued per worker: 2 lets a worker start its next chunk while the reader prepares another;
#: memory in flight is bounded by jobs x 2 x chunk size.
IN_FLIGHT_PER_WORKER = 2


def default_jobs() -> int:
    """Worker processes to use by default: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def map_chunks(
    func: Callable[[bytes, Opts], T], chunks: Iterator[bytes], options: Opts, jobs: int = 0
) -> Iterator[T]:
    """`func(chunk, options)` for every chunk, in order; in-process when there is one chunk or job."""
    jobs = jobs or default_jobs()
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None or jobs == 1:
        yield func(first, options)
        if second is not None:
            yield func(second, options)
            for chunk in chunks:
                yield func(chunk, options)
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        pending: deque[Future[T]] = deque()
        pending.append(pool.submit(func, first, options))
        pending.append(pool.submit(func, second, options))
        limit = jobs * IN_FLIGHT_PER_WORKER
        for chunk in chunks:
            while len(pending) >= limit:
                yield pending.popleft().result()
            pending.append(pool.submit(func, chunk, options))
        while pending:
            yield pending.popleft().result()
