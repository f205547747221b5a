"""Process captures in parallel worker processes, a bounded number at a time.

Each worker reads one capture, writes its files and sends back a small `CaptureResult`, so memory
is bounded by (workers x one capture), whatever the number of captures. A worker that dies (out
of memory, a crash) breaks the pool: a fresh pool takes over the rest, and the captures that were
in flight are retried one at a time, so only the capture that kills its worker gets an error row.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from foldkit.engine import default_jobs
from foldkit.report.capture import Settings, error_message, process_capture
from foldkit.report.discover import CaptureInput
from foldkit.report.result import CaptureResult

#: Captures handed to the pool ahead of the workers, per worker: enough to keep every worker busy,
#: few enough that a broken pool or an interrupt affects little.
AHEAD_PER_WORKER = 1

Progress = Callable[[CaptureResult, int, int], None]


#: Seconds between a worker's checks that the process that started it still runs.
PARENT_CHECK_SECONDS = 1.0


def _watch_parent(pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)  # the report was abandoned (its process was killed): stop working on it
        except PermissionError:  # pragma: no cover - another user's process took the pid
            os._exit(1)


def _start_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


@contextlib.contextmanager
def interrupt_on_terminate() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP stop the work like Ctrl-C (KeyboardInterrupt), so a
    killed job still stops its workers and removes its half-built report. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main_importable() -> bool:
    """Whether worker processes started afresh can import the main module (not so for code read
    from standard input)."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return path is None or os.path.exists(path)


def _pool(workers: int) -> ProcessPoolExecutor:
    # Workers start from a clean server process rather than a fork of this one, which may run
    # threads (the progress bar's, polars' pool) whose locks a fork would copy in a held state.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["foldkit.report.capture"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start_worker, initargs=(os.getpid(),))


def _stop(pool: ProcessPoolExecutor) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)


def _died(item: CaptureInput) -> CaptureResult:
    return CaptureResult(
        name=item.name,
        path=item.path,
        slug=item.slug,
        status="error",
        error="the worker process reading this capture died (out of memory?)",
    )


def _failed(item: CaptureInput, exc: BaseException) -> CaptureResult:
    return CaptureResult(name=item.name, path=item.path, slug=item.slug, status="error", error=error_message(exc))


def process_all(
    items: Sequence[CaptureInput],
    site: str,
    settings: Settings,
    jobs: int = 0,
    progress: Progress | None = None,
) -> list[CaptureResult]:
    """Every capture processed (in `items` order), `jobs` at a time (0: one per core). With one
    worker the captures are read in this process, each fold using `jobs` processes itself; so
    they are when the main program cannot be imported by worker processes (code read from stdin)."""
    jobs = jobs or default_jobs()
    workers = min(jobs, len(items)) if _main_importable() else 1
    results: list[CaptureResult | None] = [None] * len(items)
    done = 0

    def finish(index: int, result: CaptureResult) -> None:
        nonlocal done
        results[index] = result
        done += 1
        if progress is not None:
            progress(result, done, len(items))

    if workers <= 1:
        own = replace(settings, fold_options=replace(settings.fold_options, jobs=jobs))
        for i, item in enumerate(items):
            finish(i, process_capture(item, site, own))
        return [r for r in results if r is not None]

    settings = replace(settings, fold_options=replace(settings.fold_options, jobs=1))
    pending = list(reversed(range(len(items))))  # pop() takes the next in order
    suspects: list[int] = []  # in flight when a worker died: retried alone, one at a time
    while pending:
        suspects += _run_pool(items, pending, site, settings, workers, finish)
    for i in suspects:
        if _run_pool(items, [i], site, settings, 1, finish):
            finish(i, _died(items[i]))
    return [r for r in results if r is not None]


def _run_pool(
    items: Sequence[CaptureInput],
    pending: list[int],
    site: str,
    settings: Settings,
    workers: int,
    finish: Callable[[int, CaptureResult], None],
) -> list[int]:
    """Process `pending` (taken from its end) in one pool until it is empty or the pool breaks;
    return the captures that were in flight when a worker died."""
    pool = _pool(workers)
    running: dict[Future[CaptureResult], int] = {}
    lost: list[int] = []
    limit = workers * (1 + AHEAD_PER_WORKER)
    try:
        while (pending and not lost) or running:
            while pending and not lost and len(running) < limit:
                try:
                    future = pool.submit(process_capture, items[pending[-1]], site, settings)
                except BrokenProcessPool:
                    lost.append(pending.pop())
                    break
                running[future] = pending.pop()
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i = running.pop(future)
                try:
                    finish(i, future.result())
                except BrokenProcessPool:
                    lost.append(i)
                except Exception as exc:  # e.g. the disk filled while writing its page
                    finish(i, _failed(items[i], exc))
    except BaseException:
        _stop(pool)
        raise
    if lost:
        _stop(pool)
    else:
        pool.shutdown(wait=True)
    return lost
