"""A connection to a Dask scheduler (or a local Dask cluster for `local:N`), and running tasks on it
a bounded number at a time, results handed back as each finishes."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from foldkit.errors import INSTALL_CLUSTER, UsageError

#: Seconds to wait for a scheduler before giving up (the whole command must fail within 10 s).
CONNECT_SECONDS = 3
#: Tasks handed to the cluster ahead of its worker threads, per thread: enough to keep every
#: worker busy, few enough that the client holds few results and an interrupt cancels little.
AHEAD_PER_THREAD = 1


@dataclass(frozen=True)
class Outcome:
    """One task's end: its position among the calls, and its value or what went wrong."""

    index: int
    value: Any = None
    error: BaseException | None = None
    lost: str | None = None  # the task killed the workers that ran it, too often (Dask gave up)


def parse_address(address: str) -> int | None:
    """The number of local workers for `local:N` (`local`: one per core); None for a scheduler's
    address. A malformed `local:` is a UsageError."""
    text = address.strip()
    if not text:
        raise UsageError("--cluster needs a scheduler address (tcp://host:8786) or local:N")
    if text == "local":
        from foldkit.jobs import default_jobs

        return default_jobs()
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--cluster {address}: local:N needs a number of workers N >= 1")
        return int(count)
    return None


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise UsageError(f"--cluster needs Dask distributed, which is not installed ({exc}); install it with: {INSTALL_CLUSTER}") from None
    return distributed


class Cluster:
    """A client of a Dask cluster; `run` spreads calls over its workers."""

    def __init__(self, address: str, client: Any, local: Any = None) -> None:
        self.address = address
        self.client = client
        self.local = local

    @property
    def threads(self) -> int:
        """Worker threads on the cluster now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def run(self, func: Callable[..., Any], calls: Sequence[tuple[Any, ...]], name: str = "task") -> Iterator[Outcome]:
        """Run `func(*call)` for every call, in the folder this process runs in; yield each outcome
        as it finishes (any order). Leaving early (an error, Ctrl-C) cancels what is still queued."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        token = uuid.uuid4().hex[:12]
        cwd = os.getcwd()
        limit = self.threads * (1 + AHEAD_PER_THREAD)
        running: dict[Any, int] = {}
        queue = as_completed(loop=self.client.loop)
        position = 0

        def submit() -> None:
            nonlocal position
            future = self.client.submit(in_folder, cwd, func, *calls[position], key=f"foldkit-{name}-{position}-{token}", pure=False)
            running[future] = position
            queue.add(future)
            position += 1

        try:
            while position < len(calls) and len(running) < limit:
                submit()
            for future in queue:
                index = running.pop(future)
                try:
                    outcome = Outcome(index, value=future.result())
                except KilledWorker as exc:
                    outcome = Outcome(index, lost=_killed(exc))
                except Exception as exc:
                    outcome = Outcome(index, error=exc)
                future.release()
                if position < len(calls):
                    submit()
                yield outcome
        finally:
            if running:
                self.client.cancel(list(running), force=True)

    def close(self) -> None:
        """Disconnect (and stop the local cluster)."""
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.local is not None:
            _stop_local(self.local)


def _stop_local(local: Any) -> None:
    """Stop a LocalCluster that has no task left to run: its worker processes are killed rather
    than asked to shut down (which takes a second or more of their clean-up), after their nannies
    are told not to start new ones."""
    for nanny in list(getattr(local, "workers", {}).values()):
        with contextlib.suppress(Exception):
            nanny.close_gracefully()  # a worker that goes away now is not restarted
            if nanny.pid:
                os.kill(nanny.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        local.close(timeout=10)


def _killed(exc: BaseException) -> str:
    return f"the Dask workers running this task died each time it ran, so Dask gave up on it ({exc})"


def in_folder(cwd: str, func: Callable[..., Any], *args: Any) -> Any:
    """`func(*args)` run in the folder `cwd` when this machine has it (so relative paths name what
    they named for the client), in the worker's own otherwise. The worker stays there: every task
    of a run asks for the same folder."""
    if os.getcwd() != cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    return func(*args)


def _answers(address: str) -> None:
    """Check that a Dask scheduler answers at a tcp:// address, within CONNECT_SECONDS: something
    listens, and greets a new connection as Dask's protocol does (Dask's own client would retry a
    refused connection until its timeout, and wait on a server that never answers for longer)."""
    rest = address.removeprefix("tcp://")
    host, _, port = rest.rpartition(":")
    if "://" in rest or not port.isdigit():
        return  # another protocol (tls://, ucx://): left to Dask
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=CONNECT_SECONDS) as conn:
            conn.settimeout(CONNECT_SECONDS)
            greeting = conn.recv(1)
    except TimeoutError:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: no answer within {CONNECT_SECONDS} s") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    if not greeting:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: the connection was closed (not a Dask scheduler?)")


#: Dask settings of a `local:N` cluster: one task per worker at a time, so a task is not queued
#: behind one that kills its worker and blamed for the death (Dask counts deaths per task, see
#: allowed-failures); no statistical profiler sampling the workers' tasks, and the scheduler's,
#: nannies' and workers' event-loop ticks and memory and system monitors run every second or so
#: rather than up to 50 times a second: an idle 2-worker cluster used 10 % of a core, now 1.3 %
#: (nobody reads the profiles, or a dashboard, and the kernel still stops a worker out of memory).
LOCAL_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    # Dask's nanny also sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, so glibc hands freed
    # memory back at once and takes it again for the next capture: 4 times the page faults and
    # about twice the system time of a local worker process, which runs without it
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1},
}


#: Signals foldkit handles for the processes a local cluster starts (it stops them); blocked in
#: those processes, so a Ctrl-C to the terminal's process group prints nothing from them.
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Attempts to start a local cluster: a worker lost while it starts (killed, out of memory) fails
#: Dask's start ("Nanny failed to start"); the cluster is started again instead.
START_ATTEMPTS = 3


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Within the block, this thread blocks HELD_SIGNALS, so the threads and processes started in it
    are born with them blocked, and keep them blocked. Dask's event-loop thread, started here,
    starts every worker process (and restarts them): none of them is interrupted by a Ctrl-C meant
    for foldkit, which stops them itself. Nothing is held back from foldkit: a signal sent to the
    process goes to a thread that does not block it, and Python runs foldkit's handler in the main
    thread as usual (this block usually runs in `Starting`'s thread, not the main one)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (which every worker process uses) with its standard
    error on /dev/null: a worker killed at the wrong moment makes it print `KeyError` tracebacks
    about semaphores it never saw, which say nothing to a foldkit user."""
    from multiprocessing import resource_tracker

    if getattr(resource_tracker._resource_tracker, "_fd", None) is not None:  # already running
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


#: Level of Dask's log handlers while foldkit runs a local cluster: its routine INFO lines (a
#: closed comm, with its traceback) say nothing to a foldkit user, who sees foldkit's own messages.
QUIET_LEVEL = logging.CRITICAL
#: Seconds to wait, once a local cluster is closed, for its event-loop thread to end.
LOOP_END_SECONDS = 10.0


@contextlib.contextmanager
def _dask_quiet() -> Iterator[None]:
    """Within the block (a local cluster's whole life), Dask's log handlers in this process print
    only QUIET_LEVEL records; they are given back their levels once Dask's event-loop thread
    started in the block has ended, or never if it has not (it is foldkit's cluster's).

    Dask's own `silence_logs` gives them back when the cluster's close returns from its last
    step, while the event loop still runs: a task that wakes up after it (the scheduler's batched
    send of a comm its close has just closed) then printed an INFO line and a traceback, under
    load or at a Ctrl-C. With the handlers already quiet, Dask has nothing to give back."""
    handlers = [h for h in logging.getLogger("distributed").handlers if isinstance(h, logging.StreamHandler)]
    saved = [(h, h.level) for h in handlers]
    before = set(threading.enumerate())
    for handler in handlers:
        handler.setLevel(QUIET_LEVEL)
    try:
        yield
    finally:
        loops = [t for t in threading.enumerate() if t not in before and t.name == "IO loop"]
        for thread in loops:
            thread.join(timeout=LOOP_END_SECONDS)
        if not any(t.is_alive() for t in loops):
            for handler, level in saved:
                handler.setLevel(level)


def _start_local(distributed: Any, workers: int, preload: Sequence[str]) -> Any:
    """A LocalCluster of `workers` processes (loading the modules `preload`), its processes born
    with HELD_SIGNALS blocked; started again when a worker is lost during the start."""
    import dask

    dask.config.set(LOCAL_CONFIG)
    extra = {"preload": list(preload)} if preload else {}
    _quiet_resource_tracker()
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            with _signals_held():
                return distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=logging.CRITICAL, **extra,
                )  # fmt: skip
        except Exception as exc:  # Dask closed what it had started
            if attempt == START_ATTEMPTS or "failed to start" not in str(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def connect(address: str, preload: Sequence[str] = ()) -> Iterator[Cluster]:
    """A client of the scheduler at `address`, or of a local cluster of N worker processes for
    `local:N` (which import the modules `preload` while they start, and ignore the Ctrl-C meant
    for foldkit); closed (and the local cluster stopped) when the block ends. An address that
    does not answer within CONNECT_SECONDS is a UsageError naming it."""
    local_workers = parse_address(address)
    if local_workers is None:
        _answers(address)  # before loading Dask (seconds on a busy machine)
    distributed = _distributed()
    local = None
    with contextlib.ExitStack() as quiet:
        if local_workers is not None:
            quiet.enter_context(_dask_quiet())
        try:
            if local_workers is not None:
                local = _start_local(distributed, local_workers, preload)
                client = distributed.Client(local, set_as_default=False)
            else:
                client = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except UsageError:
            raise
        except Exception as exc:
            if local is not None:
                local.close()
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {exc}") from None
        cluster = Cluster(address, client, local)
        try:
            yield cluster
        finally:
            cluster.close()


class Starting:
    """`connect(address)` run in a thread, so the cluster starts (a local one's workers start and
    load foldkit) while the caller prepares its work; and closed in a thread, while the caller
    finishes off what the tasks returned.

        starting = Starting(address)       # returns at once; a malformed address raises here
        ...                                # find the inputs, prepare the output
        cluster = starting.cluster()       # waits for the start; its error, if any, raises here
        ...                                # run the tasks
        starting.close_soon()              # stops the cluster in the background
        ...                                # write the results
        starting.close()                   # waits for the stop (also after an error: always call it)
    """

    def __init__(self, address: str, preload: Sequence[str] = ()) -> None:
        parse_address(address)  # a malformed address is reported before anything starts
        self._stack = contextlib.ExitStack()
        self._cluster: Cluster | None = None
        self._error: BaseException | None = None
        self._starter = threading.Thread(target=self._start, args=(address, tuple(preload)), name="foldkit-cluster-start", daemon=True)
        self._closer: threading.Thread | None = None
        self._starter.start()

    def _start(self, address: str, preload: tuple[str, ...]) -> None:
        try:
            self._cluster = self._stack.enter_context(connect(address, preload))
        except BaseException as exc:  # handed to the caller by cluster()
            self._error = exc

    def cluster(self) -> Cluster:
        """The connected cluster, once started; the start's error (a UsageError) if it failed."""
        self._starter.join()
        if self._error is not None:
            raise self._error
        assert self._cluster is not None
        return self._cluster

    def close_soon(self) -> None:
        """Start closing the cluster (stopping a local one) in the background."""
        if self._closer is None:
            self._closer = threading.Thread(target=self._close, name="foldkit-cluster-close", daemon=True)
            self._closer.start()

    def _close(self) -> None:
        self._starter.join()
        with contextlib.suppress(Exception):
            self._stack.close()

    def close(self) -> None:
        """Close the cluster (waiting for it to start first, if it is starting) and wait until it is."""
        self.close_soon()
        assert self._closer is not None
        self._closer.join()
