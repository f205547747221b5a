"""Process captures in parallel worker processes, a bounded number at a time.

Each worker reads one capture, writes its files and sends back a small `CaptureResult`, so memory
is bounded by (workers x one capture), whatever the number of captures. A worker that dies (out
of memory, a crash) breaks the pool: a fresh pool takes over the rest, and the captures that were
in flight are retried one at a time, so only the capture that kills its worker gets an error row
saying how the worker ended.

Workers are started afresh (spawn) with the report process's import path, never the current
directory's, so a folder named `foldkit` there cannot shadow the package. They are born with
SIGINT, SIGTERM and SIGHUP blocked, so a Ctrl-C or a `kill` to the process group during their
start-up prints nothing: the report process alone handles those and stops them; and they die with
it, even when it is killed (SIGKILL) and can clean up nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from foldkit.cluster import Cluster
from foldkit.errors import OutputError
from foldkit.jobs import default_jobs
from foldkit.outputs import make_folder, write_file
from foldkit.report.capture import CAPTURES_DIR, Settings, error_message, process_capture
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


#: Signals the report process handles for its workers (it stops them), blocked in the workers.
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent ends (Linux); the watcher thread covers
    other systems."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


#: polars' setting of the threads of its pool, given to each worker (unless the user set it).
POLARS_THREADS = "POLARS_MAX_THREADS"
#: The settings of polars' allocator (jemalloc, its `_rjem_` build) and what each worker gets
#: (unless the user set them): freed pages handed back to the system at once rather than kept
#: for 0.5 to 1 s (the defaults polars puts before these when it is imported). A worker summing a 100,000-frame stack's functions otherwise kept about 25 MB that
#: the next capture's reading (by the system allocator) could not use: its peak 174 -> 163 MB,
#: at no measurable CPU cost over a report's captures.
POLARS_ALLOCATOR = "_RJEM_MALLOC_CONF"
WORKER_ALLOCATOR = "dirty_decay_ms:0,muzzy_decay_ms:0"


def worker_threads(workers: int) -> int:
    """Threads each of `workers` worker processes gives polars: the cores shared out. polars would
    start one per core in every worker, each with memory of its own (about 20 MB more in a worker
    summing a 100,000-frame stack's functions) and no core to run on while the other workers
    work; one thread a worker also took less CPU time over a report's captures."""
    return max(1, default_jobs() // max(1, workers))


def _start_worker(parent: int, polars_threads: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    _die_with(parent)
    if polars_threads > 0:  # before polars is imported (the first capture imports it)
        os.environ.setdefault(POLARS_THREADS, str(polars_threads))
        os.environ.setdefault(POLARS_ALLOCATOR, WORKER_ALLOCATOR)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM/SIGHUP wait (delivered when it ends), and processes
    started in it are born with them blocked. Main thread only (elsewhere: does nothing).

    Blocking them in this thread is not enough: a signal sent to the process (a Ctrl-C to the
    process group) then goes to another of its threads that does not block it (polars' cleanup
    thread, the native core's), and Python runs the handler in this thread all the same, in the
    middle of the block: inside `Process.start`, after the worker was spawned but before the pool
    knew it, so no one stopped that worker and it printed a traceback (its start-up data cut
    short). So the handlers are replaced too, by one that notes the signal, and the first signal
    noted is raised again once the block's handlers and mask are given back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    handlers = {sig: handler for sig in HELD_SIGNALS if (handler := signal.getsignal(sig)) is not None}
    for sig in handlers:
        signal.signal(sig, note)
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if noted:
            signal.raise_signal(noted[0])  # to its own handler again (or its default action)


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
    # Workers start afresh (spawn) rather than as a fork of this one, which may run threads (the
    # progress bar's, polars' pool) whose locks a fork would copy in a held state; and not from
    # a fork server, whose Python (3.11) imports from the current directory.
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_start_worker, initargs=(os.getpid(), worker_threads(workers))
    )


def _processes(pool: ProcessPoolExecutor) -> list[multiprocessing.Process]:
    return list(getattr(pool, "_processes", {}).values())


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop `pool` at once: its pending work cancelled, its workers killed and reaped, and its
    manager thread ended. That thread closes the pool's wake-up pipe as it ends; left running, it
    races the interpreter's exit hook (`concurrent.futures.process._python_exit`), which writes to
    that pipe, and the exit printed an "Exception ignored ... Bad file descriptor" traceback."""
    processes = _processes(pool)
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.kill()  # workers block SIGTERM (see held_signals)
    for p in processes:
        p.join(timeout=5)
    if isinstance(manager, threading.Thread) and manager is not threading.current_thread():
        manager.join(timeout=5)


def how_it_ended(exitcode: int | None) -> str:
    """How a worker process ended, in words, from its exit code (negative: the signal)."""
    if exitcode is None:
        return "the worker process reading this capture stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = " (sent by the kernel when memory runs out, or by a user)" if exitcode == -signal.SIGKILL else ""
        return f"the worker process reading this capture was killed by {name}{why}"
    return f"the worker process reading this capture exited with code {exitcode} before it finished"


#: How long a dead worker's exit code is waited for (see `exit_code`), in steps of `EXIT_STEP` s.
EXIT_STEPS = 500
EXIT_STEP = 0.01


def exit_code(p: multiprocessing.Process) -> int | None:
    """The exit code of `p`, a worker whose sentinel is ready (it has exited), or None if none
    appears within EXIT_STEPS * EXIT_STEP seconds. The pool's own thread may be reaping it at the
    same moment: our waitpid then fails (ECHILD) and its exit code is set by that thread shortly
    after, so it is waited for rather than read once."""
    p.join(timeout=5)
    for _ in range(EXIT_STEPS):
        code = p.exitcode
        if code is not None:
            return code
        time.sleep(EXIT_STEP)
    return p.exitcode


def _died(item: CaptureInput, how: str) -> CaptureResult:
    return CaptureResult(name=item.name, path=item.path, slug=item.slug, status="error", error=how)


def _failed(item: CaptureInput, exc: BaseException) -> CaptureResult:
    return CaptureResult(name=item.name, path=item.path, slug=item.slug, status="error", error=error_message(exc))


def process_all(
    items: Sequence[CaptureInput],
    site: str,
    settings: Settings,
    jobs: int = 0,
    progress: Progress | None = None,
    cluster: Cluster | None = None,
) -> list[CaptureResult]:
    """Every capture processed (in `items` order), `jobs` at a time (0: one per core), or on the
    Dask `cluster`. With one worker the captures are read in this process, each fold using `jobs`
    processes itself; so they are when the main program cannot be imported by worker processes
    (code read from stdin)."""
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

    if cluster is not None:
        _process_on_cluster(items, site, settings, cluster, finish)
        return [r for r in results if r is not None]
    if workers <= 1:
        own = replace(settings, fold_options=replace(settings.fold_options, jobs=jobs))
        for i, item in enumerate(items):
            finish(i, process_capture(item, site, own))
        return [r for r in results if r is not None]

    settings = replace(settings, fold_options=replace(settings.fold_options, jobs=1))
    pending = list(reversed(range(len(items))))  # pop() takes the next in order
    suspects: list[int] = []  # in flight when a worker died: retried alone, one at a time
    ended: list[int | None] = []  # exit codes of workers that died
    while pending:
        suspects += _run_pool(items, pending, site, settings, workers, finish, ended)
    for i in suspects:
        lost = _run_pool(items, [i], site, settings, 1, finish, ended)
        if lost:
            finish(i, _died(items[i], how_it_ended(ended[-1] if ended else None)))
    return [r for r in results if r is not None]


def _run_pool(
    items: Sequence[CaptureInput],
    pending: list[int],
    site: str,
    settings: Settings,
    workers: int,
    finish: Callable[[int, CaptureResult], None],
    ended: list[int | None],
) -> list[int]:
    """Process `pending` (taken from its end) in one pool until it is empty or the pool breaks;
    return the captures that were in flight when a worker died (whose exit code goes to `ended`)."""
    with held_signals():  # the first SemLock starts multiprocessing's resource tracker
        pool = _pool(workers)
    running: dict[Future[CaptureResult], int] = {}
    lost: list[int] = []
    limit = workers * (1 + AHEAD_PER_WORKER)
    started: dict[int, multiprocessing.Process] = {}  # every worker the pool started, by pid
    try:
        while (pending and not lost) or running:
            while pending and not lost and len(running) < limit:
                try:
                    with held_signals():  # submit starts workers: born with the signals blocked
                        future = pool.submit(process_capture, items[pending[-1]], site, settings)
                except BrokenProcessPool:
                    lost.append(pending.pop())
                    break
                running[future] = pending.pop()
            started.update((p.pid, p) for p in _processes(pool) if p.pid is not None)
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i = running.pop(future)
                try:
                    finish(i, future.result())
                except BrokenProcessPool:
                    lost.append(i)
                except OutputError:  # the disk filled while writing its files: the report stops
                    raise
                except Exception as exc:  # e.g. its result could not be sent back
                    finish(i, _failed(items[i], exc))
    except BaseException:
        _stop(pool)
        raise
    if lost:
        # exited on their own (not killed by _stop): their sentinel is ready, with no race with
        # the pool's thread over reaping them (which may also drop them from the pool's table)
        started.update((p.pid, p) for p in _processes(pool) if p.pid is not None)
        ready = set(multiprocessing.connection.wait([p.sentinel for p in started.values()], timeout=1))
        exited = [p for p in started.values() if p.sentinel in ready]
        _stop(pool)
        codes = [exit_code(p) for p in exited]
        ended.extend(code for code in codes if code != 0)
    else:
        pool.shutdown(wait=True)
    return lost


#: File in the report being built that tells cluster workers whether they see its folder.
PROBE = ".foldkit-cluster-probe"
#: Folder in the report being built where workers that see it process their captures: a worker
#: killed mid-capture leaves its scratch files there, and the report removes them (with the whole
#: half-built report when it is interrupted), not in the worker's temporary folder.
SCRATCH = ".foldkit-scratch"
#: Seconds an interrupted cluster report waits for workers to finish moving a capture's files in,
#: before it removes the half-built report.
SETTLE_SECONDS = 1.0


def _sees(site: str, token: str) -> bool:
    try:
        return (Path(site) / PROBE).read_text() == token
    except OSError:
        return False


def run_capture(item: CaptureInput, site: str, settings: Settings, token: str) -> tuple[CaptureResult, dict[str, bytes] | None]:
    """`process_capture` on a cluster worker, into a scratch folder (in the report's `SCRATCH` when
    this machine sees the report being built, else in its temporary folder); its files are then
    moved into the report when this machine sees it (a shared file system: None is returned), else
    sent back."""
    root = Path(site) / SCRATCH
    where = str(root) if _sees(site, token) and root.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="foldkit-capture-", dir=where, ignore_cleanup_errors=True) as scratch:
        result = process_capture(item, scratch, settings)
        folder = Path(scratch) / CAPTURES_DIR / item.slug
        if not folder.is_dir():  # not a capture
            return result, {}
        captures = Path(site) / CAPTURES_DIR
        if _sees(site, token) and captures.is_dir():
            with contextlib.suppress(OSError):
                shutil.move(folder, captures / item.slug)
                return result, None
        return result, {p.name: p.read_bytes() for p in folder.iterdir()}


def _process_on_cluster(
    items: Sequence[CaptureInput],
    site: str,
    settings: Settings,
    cluster: Cluster,
    finish: Callable[[int, CaptureResult], None],
) -> None:
    settings = replace(settings, fold_options=replace(settings.fold_options, jobs=1))
    token = uuid.uuid4().hex
    probe = Path(site) / PROBE
    write_file(probe, token.encode())
    make_folder(Path(site) / CAPTURES_DIR)
    scratch = Path(site) / SCRATCH
    make_folder(scratch)
    try:
        calls = [(item, site, settings, token) for item in items]
        for outcome in cluster.run(run_capture, calls, "capture"):
            item = items[outcome.index]
            if outcome.lost is not None:
                finish(outcome.index, _died(item, outcome.lost))
            elif isinstance(outcome.error, OutputError):  # a worker's disk is full: the report stops
                raise outcome.error
            elif outcome.error is not None:
                finish(outcome.index, _failed(item, outcome.error))
            else:
                result, files = outcome.value
                if files:
                    folder = Path(site) / CAPTURES_DIR / item.slug
                    make_folder(folder)
                    for name, data in files.items():
                        write_file(folder / name, data)
                finish(outcome.index, result)
    except BaseException:
        probe.unlink(missing_ok=True)  # workers still running put nothing more in
        time.sleep(SETTLE_SECONDS)
        raise
    probe.unlink(missing_ok=True)
    shutil.rmtree(scratch, ignore_errors=True)  # what workers killed mid-capture left
