"""`foldkit report` as a process among others: started from any folder, stopped by signals early or
late, killed outright; its workers never print tracebacks nor outlive it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.common import FIXTURES

FOLDKIT = Path(sys.executable).parent / "foldkit"


def _captures(folder: Path, copies: int = 6) -> Path:
    folder.mkdir()
    for i in range(copies):
        shutil.copy(FIXTURES / "system-mixed.perf.zst", folder / f"host-{i}.perf.zst")
    shutil.copy(FIXTURES / "java.perf", folder / "java.perf")
    return folder


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_report_runs_from_a_folder_that_holds_a_foldkit_package(tmp_path: Path) -> None:
    """Workers import foldkit from where the report process did, not from the current folder."""
    captures = _captures(tmp_path / "in", copies=2)
    (tmp_path / "foldkit").mkdir()
    (tmp_path / "foldkit" / "__init__.py").write_text("# another project's package\n")
    run = subprocess.run(
        [str(FOLDKIT), "report", "in", "-o", "site", "-j", "2", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    rows = json.loads((tmp_path / "site" / "summary.json").read_text())["captures"]
    assert len(rows) == len(list(captures.iterdir()))
    assert {r["status"] for r in rows} == {"ok"}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_process_group_while_workers_start_is_quiet(tmp_path: Path, sig: signal.Signals) -> None:
    """Ctrl-C (or a kill to the group) in the first seconds: exit 130 (or, for SIGTERM before the
    command runs, SIGTERM's own silent end), never a traceback from the report or its workers."""
    captures = _captures(tmp_path / "in", copies=40)  # long enough that no machine finishes before the last signal
    signalled = 0
    for delay in (0.8, 1.2, 1.6, 2.0, 2.5):
        proc = subprocess.Popen(
            [str(FOLDKIT), "report", str(captures), "-o", str(tmp_path / "site"), "-j", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=_default_sigint,  # as from a shell, whatever the test runner ignores
        )  # fmt: skip
        time.sleep(delay)
        running = proc.poll() is None
        if running:
            os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        time.sleep(0.3)  # a worker's late traceback would land on the same stderr pipe: gone by now
        assert b"Traceback" not in err, (delay, err.decode(errors="replace"))
        if not running:  # finished before the signal: nothing to stop, and the site must be complete
            assert proc.returncode == 0, (delay, err)
            shutil.rmtree(tmp_path / "site")
            continue
        signalled += 1
        assert proc.returncode in ((130,) if sig == signal.SIGINT else (130, -signal.SIGTERM)), (delay, err)
        assert not (tmp_path / "site").exists()
    assert signalled >= 3, "the report ended before most signals: give it more captures"


def test_workers_end_when_the_report_is_killed(tmp_path: Path) -> None:
    captures = _captures(tmp_path / "in", copies=8)
    proc = subprocess.Popen(
        [str(FOLDKIT), "report", str(captures), "-o", str(tmp_path / "site"), "-j", "2", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = _descendants(proc.pid)
    assert len(workers) >= 2, "the workers never started"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 60  # a bound, not a timing: they end within a second (PDEATHSIG, or their watcher)
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _alive(p)]
