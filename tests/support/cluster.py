"""A real Dask scheduler and two worker processes (each under a nanny that restarts it) on loopback,
started with the `dask` command line, for the cluster tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.common import TESTS

DASK = Path(sys.executable).parent / "dask"
#: Worker deaths a task may cause before Dask gives up on it (Dask's default is 3; 1 keeps the
#: test of a capture that kills every worker short).
ALLOWED_FAILURES = 1


#: Seconds a client may take to connect to the scheduler: a bound, not a timing (a loaded 2-core
#: machine running the workers' start-up may keep the scheduler from answering for seconds).
CONNECT = 60


@dataclass
class LoopbackCluster:
    """The scheduler's address and the processes to stop."""

    address: str
    processes: list[subprocess.Popen[bytes]]
    #: The workers' temporary folder (their TMPDIR)
    tmp: Path

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> pid of its worker process (not the nanny)."""
        from distributed import Client

        with Client(self.address, timeout=CONNECT, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            return client.run(os.getpid)

    def tasks_left(self) -> int:
        """Tasks the scheduler still holds."""
        from distributed import Client

        with Client(self.address, timeout=CONNECT, set_as_default=False) as client:
            return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def _scheduler_address(scheduler_file: Path, deadline: float) -> str:
    """The address the scheduler wrote to its file, once the file is complete (the scheduler
    creates it before it writes it)."""
    while True:
        try:
            return str(json.loads(scheduler_file.read_text())["address"])
        except (FileNotFoundError, ValueError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_cluster(folder: Path) -> Iterator[LoopbackCluster]:
    """Start a scheduler and two single-threaded workers on 127.0.0.1; stop them afterwards."""
    scheduler_file = folder / "scheduler.json"
    tmp = folder / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(ALLOWED_FAILURES),
        # one task per worker thread at a time, as foldkit's local:N sets: a task waiting behind
        # one that kills its worker is not blamed for the death
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
        "PYTHONPATH": str(TESTS.parent),  # workers import the tests' helper tasks
        "TMPDIR": str(tmp),  # what a killed worker leaves there stays with the test's files
    }
    log = open(folder / "dask.log", "wb")
    common = ["--no-dashboard", "--scheduler-file", str(scheduler_file)]
    scheduler = subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", *common], cwd=folder, env=env, stdout=log, stderr=log
    )
    processes = [scheduler]
    try:
        address = _scheduler_address(scheduler_file, time.monotonic() + 60)
        processes.append(
            subprocess.Popen(
                [str(DASK), "worker", "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1", *common],
                cwd=folder, env=env, stdout=log, stderr=log,
            )
        )
        cluster = LoopbackCluster(address, processes, tmp)
        cluster.worker_pids()  # both workers are up
        yield cluster
    finally:
        for p in reversed(processes):
            p.send_signal(signal.SIGTERM)
        for p in reversed(processes):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
