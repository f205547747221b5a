"""Signals during `foldkit fold` (issue 11, items 8 and 9): Ctrl-C exits 130 promptly, and
SIGTERM/SIGKILL leave nothing behind (folding runs on threads of the one process).

"Promptly" is checked without a clock, which a loaded machine would decide: the fold stops before
its output (nothing is written), and an input that never ends can only end by the signal. The one
time limit, `HANG`, is a guard against a hang (issue 11 saw the fold stay alive for good), far
above what any machine needs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.common import data_bytes

pytestmark = pytest.mark.slow

#: Seconds after which a fold still alive has hung (a guard, not a timing: a stopped fold is gone
#: in well under a second of CPU time).
HANG = 300.0


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A plain perf capture large enough that no machine folds it before the signal lands (800 MB),
    removed when the module's tests are done (pytest keeps the last runs' temp folders)."""
    path = tmp_path_factory.mktemp("signals") / "big.perf"
    sample = data_bytes("captures/perf-system-mixed.txt")
    with path.open("wb") as f:
        for _ in range(max(1, (800 << 20) // len(sample))):
            f.write(sample)
    yield path
    path.unlink()


def _start(args: list[str], stdin: object = None, stdout: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "foldkit", "fold", *args, "-o", "-"],
        stdin=stdin,  # type: ignore[arg-type]
        stdout=stdout,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_busy(proc: subprocess.Popen[bytes]) -> None:
    """Wait until the fold is under way (its threads exist: foldkit's SIGINT handler is in place),
    so the signal lands mid-fold."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        if len(os.listdir(f"/proc/{proc.pid}/task")) > 2:  # the threads fold: signal now, mid-fold
            return
        time.sleep(0.002)
    raise AssertionError("fold never started its threads")


def _group_is_gone(pgid: int) -> bool:
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _feed_forever(fd: int, sample: bytes) -> None:
    """Write `sample` to the pipe `fd` over and over, until its reader (the fold) is gone."""
    try:
        with open(fd, "wb") as pipe:
            while True:
                pipe.write(sample)
    except OSError:  # the fold ended: the pipe has no reader
        pass


#: Seconds after the fold's threads start at which Ctrl-C lands, one run each: while the
#: command's own modules still import (where the interrupt used to be lost, or raised from another
#: exception, or end the process by SIGINT after foldkit's line) and once it folds. Spread, not
#: timed: any of them must end the same way.
DELAYS = [i * 0.012 for i in range(10)]


@pytest.mark.parametrize("via", ["path", "stdin", "endless pipe"])
def test_ctrl_c_exits_130_promptly(big_capture: Path, via: str) -> None:
    endings = []
    for delay in DELAYS if via != "endless pipe" else DELAYS[::3]:
        if via == "endless pipe":  # the input never ends: only the signal can end the fold
            read_end, write_end = os.pipe()
            proc = _start(["-"], stdin=read_end, stdout=subprocess.PIPE)
            os.close(read_end)
            threading.Thread(target=_feed_forever, args=(write_end, data_bytes("captures/perf-system-mixed.txt")), daemon=True).start()
        else:
            with big_capture.open("rb") as stdin:
                proc = _start([str(big_capture)] if via == "path" else ["-"], stdin=stdin if via == "stdin" else None, stdout=subprocess.PIPE)
        _wait_busy(proc)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)  # as the terminal does: the whole process group
        out, err = proc.communicate(timeout=HANG)
        assert _group_is_gone(proc.pid)
        endings.append((round(delay, 3), proc.returncode, out[:40], err.decode(errors="replace")[-400:]))
    # every run: exit 130 with foldkit's line last, no traceback, and no output (it stopped)
    assert all(code == 130 and out == b"" and err.endswith("foldkit: interrupted\n") and "Traceback" not in err for _, code, out, err in endings), endings


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_term_and_kill_leave_no_process_behind(big_capture: Path, sig: signal.Signals) -> None:
    proc = _start([str(big_capture)])
    _wait_busy(proc)
    proc.send_signal(sig)  # to the fold alone, as a supervisor would
    proc.communicate(timeout=HANG)
    assert proc.returncode == -sig
    assert _group_is_gone(proc.pid), "a process of the fold outlived it"
