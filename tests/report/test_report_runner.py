"""Captures processed in worker processes: same results as in-process, in input order, and a
worker that dies costs only its own captures."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from foldkit.ingest import FoldOptions
from foldkit.report import runner
from foldkit.report.capture import Settings
from foldkit.report.discover import find_captures
from foldkit.report.result import CaptureResult
from tests.support.common import FIXTURES
from tests.support.report import crash_on_name, mixed_folder

SETTINGS = Settings(FoldOptions())


def comparable(r: CaptureResult) -> tuple[object, ...]:
    return (r.name, r.status, r.format, r.samples, r.stacks, r.weight, r.time_span, r.top, r.error, sorted(r.files))


def test_workers_give_the_in_process_results_in_input_order(tmp_path: Path) -> None:
    items = find_captures([str(mixed_folder(tmp_path))])
    seen: list[tuple[str, int, int]] = []
    one = runner.process_all(items, str(tmp_path / "one"), SETTINGS, jobs=1)
    two = runner.process_all(items, str(tmp_path / "two"), SETTINGS, jobs=2, progress=lambda r, d, t: seen.append((r.name, d, t)))
    assert [comparable(r) for r in one] == [comparable(r) for r in two]
    assert [r.name for r in two] == [i.name for i in items]
    assert [d for _, d, _ in seen] == list(range(1, len(items) + 1))
    assert {t for _, _, t in seen} == {len(items)} and sorted(n for n, _, _ in seen) == sorted(i.name for i in items)


def test_a_dead_worker_costs_only_its_captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        shutil.copy(FIXTURES / "java.perf", folder / f"run-{i}.perf")
    shutil.copy(FIXTURES / "java.perf", folder / "crash.perf")
    items = find_captures([str(folder)])
    monkeypatch.setattr(runner, "process_capture", crash_on_name)
    results = runner.process_all(items, str(tmp_path / "site"), SETTINGS, jobs=2)
    by_name = {r.name: r for r in results}
    assert len(results) == len(items)
    error = by_name["crash.perf"].error or ""
    assert by_name["crash.perf"].status == "error"
    assert error == "the worker process reading this capture exited with code 9 before it finished"
    ok = [r for r in results if r.status == "ok"]
    assert len(ok) == len(items) - 1  # those in flight with it were retried alone


def test_a_worker_killed_by_a_signal_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "java.perf", folder / "run.perf")
    shutil.copy(FIXTURES / "java.perf", folder / "crash-kill.perf")
    items = find_captures([str(folder)])
    monkeypatch.setattr(runner, "process_capture", crash_on_name)
    results = {r.name: r for r in runner.process_all(items, str(tmp_path / "site"), SETTINGS, jobs=2)}
    assert results["run.perf"].status == "ok"
    assert (results["crash-kill.perf"].error or "").startswith("the worker process reading this capture was killed by SIGKILL")


def test_how_a_worker_ended_in_words() -> None:
    assert runner.how_it_ended(-15).endswith("killed by SIGTERM")
    assert "memory" in runner.how_it_ended(-9)
    assert "code 1 " in runner.how_it_ended(1)
    assert "stopped answering" in runner.how_it_ended(None)


class _ReapedElsewhere:
    """A dead worker whose exit code another thread (the pool's) sets only after a few reads."""

    def __init__(self, reads_before: int) -> None:
        self.reads_before = reads_before

    def join(self, timeout: float | None = None) -> None:
        pass

    @property
    def exitcode(self) -> int | None:
        self.reads_before -= 1
        return -9 if self.reads_before < 0 else None


def test_a_dead_workers_exit_code_is_waited_for_not_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "EXIT_STEP", 0.0)
    assert runner.exit_code(_ReapedElsewhere(3)) == -9  # type: ignore[arg-type]
    monkeypatch.setattr(runner, "EXIT_STEPS", 2)
    assert runner.exit_code(_ReapedElsewhere(10)) is None  # type: ignore[arg-type]


def test_terminate_and_hangup_stop_the_work_like_ctrl_c() -> None:
    before = signal.getsignal(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with pytest.raises(KeyboardInterrupt), runner.interrupt_on_terminate():
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the signal arrives first
    assert signal.getsignal(signal.SIGTERM) == before


def test_workers_stop_when_the_report_process_is_killed(tmp_path: Path) -> None:
    """A worker whose parent is gone (SIGKILL: no cleanup ran) exits at once."""
    import subprocess
    import sys

    ready = tmp_path / "ready"
    worker_code = f"from foldkit.report import runner; import os, pathlib, time; runner._start_worker(os.getppid()); pathlib.Path({str(ready)!r}).write_text(str(os.getpid())); time.sleep(60)"
    parent_code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {worker_code!r}]); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    deadline = time.monotonic() + 60
    while not (ready.exists() and ready.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    worker = int(ready.read_text())
    assert Path(f"/proc/{worker}").exists()
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 60  # a bound, not a timing: the kernel kills it at once (PDEATHSIG)
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(worker)  # dead (a zombie until init reaps it, which may take a while under load)


def _running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def polars_in_worker() -> tuple[str | None, int, bool, str | None]:
    """(POLARS_MAX_THREADS, polars' pool size, whether polars was imported before this task, its
    allocator's settings)."""
    import sys

    before = "polars" in sys.modules
    import polars as pl

    return os.environ.get(runner.POLARS_THREADS), pl.thread_pool_size(), before, os.environ.get(runner.POLARS_ALLOCATOR)


def test_workers_share_the_cores_out_among_their_polars_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's polars gets the cores divided by the workers (one thread each here) and an
    allocator that hands freed memory back, set before polars is imported; values the user set
    stay."""
    monkeypatch.delenv(runner.POLARS_THREADS, raising=False)
    monkeypatch.delenv(runner.POLARS_ALLOCATOR, raising=False)
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    pool = runner._pool(2)
    try:
        threads, size, before, allocator = pool.submit(polars_in_worker).result(timeout=120)
        # polars puts its own defaults before the settings it finds: the last of a setting counts
        assert (threads, size, before) == ("1", 1, False) and allocator and allocator.endswith(runner.WORKER_ALLOCATOR)
    finally:
        runner._stop(pool)
    monkeypatch.setenv(runner.POLARS_THREADS, "2")
    monkeypatch.setenv(runner.POLARS_ALLOCATOR, "dirty_decay_ms:1000")
    pool = runner._pool(2)
    try:
        found = pool.submit(polars_in_worker).result(timeout=120)
        assert found[:2] == ("2", 2) and found[3].endswith(",dirty_decay_ms:1000")
    finally:
        runner._stop(pool)
