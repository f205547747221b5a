"""`--cluster`: the same reports and folds on a real Dask scheduler with two worker processes on
loopback (and on `local:N`) as on this machine; faults, interrupts and a scheduler that does not
answer; dask never loaded without `--cluster`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from foldkit.cli import main
from foldkit.cluster import INSTALL, Starting, connect, parse_address
from foldkit.errors import FoldkitError, UsageError
from foldkit.ingest import FoldOptions
from foldkit.report import ReportOptions, build_report, runner
from foldkit.report.capture import Settings, process_capture
from foldkit.report.discover import find_captures
from tests.support.cluster import LoopbackCluster, start_cluster
from tests.support.common import FIXTURES, run_cli_without
from tests.support.report import crash_run_capture, mixed_folder

pytestmark = pytest.mark.slow

FOLDKIT = Path(sys.executable).parent / "foldkit"
INPUTS = [FIXTURES / "java.perf", FIXTURES / "system-mixed.perf.zst", FIXTURES / "kstack-ustack-comm.bt", FIXTURES / "bcc-profile.txt"]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    yield from start_cluster(tmp_path_factory.mktemp("dask"))


def _report_files(site: Path) -> dict[str, object]:
    """Every file of a report but its pages (which state when they were made), with the
    summaries' timings removed."""
    out: dict[str, object] = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site).as_posix()
        if not path.is_file() or path.suffix == ".html" or path.name.startswith(".foldkit"):
            continue
        if path.name == "summary.json":
            doc = json.loads(path.read_text())
            doc.pop("generated")
            for row in doc["captures"]:
                row.pop("seconds")
            out[rel] = doc
        elif path.name == "summary.parquet":
            out[rel] = pl.read_parquet(path).drop("seconds").to_dicts()
        else:
            out[rel] = path.read_bytes()
    return out


def _big_folder(root: Path, copies: int) -> Path:
    folder = root / "many"
    folder.mkdir()
    for i in range(copies):
        shutil.copy(FIXTURES / "system-mixed.perf.zst", folder / f"host-{i:02d}.perf.zst")
    return folder


def test_a_report_on_the_cluster_is_the_local_report(dask_cluster: LoopbackCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = mixed_folder(tmp_path)
    common = ["report", str(folder), "-j", "2", "--baseline", str(folder / "perf/java.perf")]
    # the other captures are other workloads, compared one run a side: each check is made (and most
    # are underpowered); the exit code, like every file, is the same on the cluster as locally
    local = main([*common, "-o", str(tmp_path / "local"), "-q", "--store", str(tmp_path / "store-local")])
    assert local in (0, 1)
    assert main([*common, "-o", str(tmp_path / "cluster"), "--cluster", dask_cluster.address, "--store", str(tmp_path / "store-cluster")]) == local
    err = capsys.readouterr().err
    local, cluster = _report_files(tmp_path / "local"), _report_files(tmp_path / "cluster")
    assert sorted(local) == sorted(cluster)
    assert any(k.endswith("stacks.folded.zst") for k in local) and any(k.endswith("diff.svg") for k in local)
    for name in local:
        assert local[name] == cluster[name], name
    stores = [pl.scan_parquet(f"{tmp_path}/store-{kind}/**/*.parquet").collect() for kind in ("local", "cluster")]
    assert stores[0].height > 0 and stores[0].equals(stores[1])
    counted = re.findall(r"\[(\d+)/(\d+)\]", err)  # progress counted every file found
    assert [int(k) for k, _ in counted] == list(range(1, len(find_captures([str(folder)])) + 1))


def test_fold_flamegraph_and_top_on_the_cluster_are_the_local_ones(dask_cluster: LoopbackCluster, tmp_path: Path) -> None:
    inputs = [str(p) for p in INPUTS[:-1]] + [INPUTS[-1].as_uri()]  # URLs are read by the workers too
    for command, suffix in (("fold", "folded"), ("flamegraph", "svg"), ("top", "csv")):
        args = [command, *inputs, "-q"]
        assert main([*args, "-o", str(tmp_path / f"local.{suffix}")]) == 0
        assert main([*args, "-o", str(tmp_path / f"cluster.{suffix}"), "--cluster", dask_cluster.address]) == 0
        assert (tmp_path / f"local.{suffix}").read_bytes() == (tmp_path / f"cluster.{suffix}").read_bytes(), command


def test_a_worker_killed_mid_report_costs_nothing(dask_cluster: LoopbackCluster, tmp_path: Path) -> None:
    folder = _big_folder(tmp_path, 10)
    site = tmp_path / "site"
    proc = subprocess.Popen(
        [str(FOLDKIT), "report", str(folder), "-o", str(site), "--cluster", dask_cluster.address],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert "[1/10]" in first, first
    victim = next(iter(dask_cluster.worker_pids().values()))
    os.kill(victim, signal.SIGKILL)
    rest = proc.stderr.read()
    assert proc.wait(timeout=300) == 0, rest
    rows = json.loads((site / "summary.json").read_text())["captures"]
    assert [r["status"] for r in rows] == ["ok"] * 10
    stacks = {(site / "captures" / r["page"].split("/")[1] / "stacks.folded.zst").read_bytes() for r in rows}
    assert len(stacks) == 1  # ten copies of one capture: ten times the same stacks
    assert len(dask_cluster.worker_pids()) == 2  # the nanny started a new worker
    # the killed worker's scratch folder was in the report (which removed it), not in its TMPDIR
    assert not list(dask_cluster.tmp.glob("foldkit-capture-*"))
    assert not (site / ".foldkit-scratch").exists()


def test_a_capture_that_kills_every_worker_becomes_an_error_row(dask_cluster: LoopbackCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "java.perf", folder / "a.perf")
    shutil.copy(FIXTURES / "java.perf", folder / "crash.perf")
    shutil.copy(FIXTURES / "bcc-profile.txt", folder / "z.txt")
    items = find_captures([str(folder)])
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(runner, "run_capture", crash_run_capture)
    seen: list[int] = []
    with connect(dask_cluster.address) as cluster:
        results = runner.process_all(items, str(site), Settings(FoldOptions()), progress=lambda r, d, t: seen.append(d), cluster=cluster)
    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == ["a.perf", "crash.perf", "z.txt"]
    assert by_name["a.perf"].status == by_name["z.txt"].status == "ok", [(r.name, r.error) for r in results]
    assert by_name["crash.perf"].status == "error"
    assert "died each time it ran" in (by_name["crash.perf"].error or "")
    assert seen == [1, 2, 3]
    dask_cluster.worker_pids()  # the workers are back for the next test


def test_ctrl_c_cancels_the_tasks_and_keeps_the_previous_report(dask_cluster: LoopbackCluster, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert main(["report", str(FIXTURES / "java.perf"), "-o", str(site), "-q", "-j", "1"]) == 0
    before = (site / "index.html").read_bytes()
    folder = _big_folder(tmp_path, 12)
    proc = subprocess.Popen(
        [str(FOLDKIT), "report", str(folder), "-o", str(site), "--cluster", dask_cluster.address],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    assert "[1/12]" in proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, rest
    assert "Traceback" not in rest and "foldkit: interrupted" in rest
    assert (site / "index.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many", "site"]  # no half-built report left
    deadline = time.monotonic() + 120  # a bound, not a timing: the scheduler drops them within seconds
    while dask_cluster.tasks_left() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert dask_cluster.tasks_left() == 0


def test_the_files_are_sent_back_when_workers_cannot_see_the_report(tmp_path: Path) -> None:
    """A worker that does not see the report being built (no shared file system) sends the files
    back; one that does moves them in."""
    item = find_captures([str(FIXTURES / "java.perf")])[0]
    settings = Settings(FoldOptions(jobs=1))
    site = tmp_path / "site"
    (site / "captures").mkdir(parents=True)
    (site / runner.PROBE).write_text("the client's token")
    result, files = runner.run_capture(item, str(site), settings, "another client's token")
    assert files is not None and not (site / "captures" / item.slug).exists()
    local = process_capture(item, str(tmp_path / "local"), settings)
    folder = tmp_path / "local" / "captures" / item.slug
    assert sorted(files) == sorted(p.name for p in folder.iterdir()) == sorted(result.files.values())
    for name, data in files.items():
        if not name.endswith(".html"):
            assert data == (folder / name).read_bytes(), name
    assert result.samples == local.samples
    result, files = runner.run_capture(item, str(site), settings, "the client's token")
    assert files is None and (site / "captures" / item.slug / "flamegraph.svg").is_file()


def test_local_n_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = [str(p) for p in INPUTS[:3]]
    assert main(["fold", *inputs, "-q", "-o", str(tmp_path / "local.folded")]) == 0
    monkeypatch.setenv("FOLDKIT_CLUSTER", "local:2")
    assert main(["fold", *inputs, "-q", "-o", str(tmp_path / "cluster.folded")]) == 0
    assert (tmp_path / "local.folded").read_bytes() == (tmp_path / "cluster.folded").read_bytes()


@pytest.mark.parametrize("listening", [False, True], ids=["nothing-listens", "silent-server"])
def test_a_scheduler_that_does_not_answer_fails_in_seconds(tmp_path: Path, listening: bool) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        if listening:
            server.listen()  # accepts connections (the kernel does) and never says a word
        else:
            server.close()
        # bounded by foldkit's connect timeout (3 s), not Dask's: with Dask's made an hour, a run that
        # waited for it would outlast the guard below (a bound for a hang, not a timing: a run
        # takes seconds, more on a loaded machine)
        run = subprocess.run(
            [str(FOLDKIT), "report", str(FIXTURES / "java.perf"), "-o", str(tmp_path / "site"), "--cluster", address],
            capture_output=True, text=True, timeout=120, env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3600s"},
        )  # fmt: skip
    assert run.returncode == 2
    assert f"cannot reach the Dask scheduler at {address}" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "site").exists()


def test_without_dask_cluster_says_how_to_install_it(tmp_path: Path) -> None:
    run = run_cli_without(["distributed", "dask"], ["fold", str(FIXTURES / "java.perf"), "-q", "--cluster", "local:2", "-o", str(tmp_path / "x.folded")])
    assert run.returncode == 2
    assert INSTALL in run.stderr and "Traceback" not in run.stderr


def test_the_library_and_the_plain_command_line_never_load_dask(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import foldkit, foldkit.api, foldkit.report, foldkit.cluster, foldkit.cluster.reading\n"
        "from foldkit.cli import main\n"
        f"assert main(['fold', {str(FIXTURES / 'java.perf')!r}, '-q', '-o', {str(tmp_path / 'x.folded')!r}]) == 0\n"
        f"assert main(['report', {str(FIXTURES / 'java.perf')!r}, '-q', '-j', '1', '-o', {str(tmp_path / 'site')!r}]) == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'fsspec'}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("address", ["", "local:0", "local:x", "local:-1"])
def test_a_malformed_local_address_is_a_usage_error(address: str) -> None:
    with pytest.raises(UsageError):
        parse_address(address)


def test_addresses() -> None:
    assert parse_address("local:3") == 3
    assert parse_address("local") == len(os.sched_getaffinity(0))
    assert parse_address("tcp://10.0.0.1:8786") is None


def _children() -> set[int]:
    """This process's live child processes, but multiprocessing's resource tracker (which stays)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state != "Z" and b"resource_tracker" not in command:
            out.add(int(entry.name))
    return out


def _loaded(module: str) -> bool:
    return module in sys.modules


def _environ(name: str) -> str | None:
    return os.environ.get(name)


def test_a_local_cluster_starts_in_the_background_with_the_task_module_loaded_and_stops_for_good(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    before = _children()
    starting = Starting("local:2", preload=["foldkit.report.runner"])
    try:
        cluster = starting.cluster()
        loaded = cluster.client.run(_loaded, "foldkit.report.runner")  # before any task ran
        # glibc's allocator as in a local worker process (Dask's nanny would set it to 65536)
        assert list(cluster.client.run(_environ, "MALLOC_TRIM_THRESHOLD_").values()) == [None, None]
        pids = set(cluster.client.run(os.getpid).values())
        assert len(pids) == 2 and pids <= _children()
    finally:
        starting.close()
    assert list(loaded.values()) == [True, True]
    assert _children() <= before  # the workers were stopped, and not restarted by their nannies


def test_a_cluster_start_fails_when_the_cluster_is_needed_a_malformed_address_at_once() -> None:
    with pytest.raises(UsageError, match="local:N needs a number"):
        Starting("local:x")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    starting = Starting(address)  # nothing listens there
    with pytest.raises(UsageError, match=re.escape(f"cannot reach the Dask scheduler at {address}")):
        starting.cluster()
    starting.close()


def test_a_report_that_fails_while_its_local_cluster_starts_stops_the_cluster(tmp_path: Path) -> None:
    before = _children()
    bad = tmp_path / "baseline.txt"
    bad.write_text("no profile in here\n")
    options = ReportOptions(cluster="local:2", baseline=str(bad))
    with pytest.raises(FoldkitError, match="baseline"):
        build_report([str(FIXTURES / "java.perf")], tmp_path / "site", options)
    assert _children() <= before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.txt"]


def _processes(pgid: int) -> dict[int, tuple[int, bytes]]:
    """Live (not zombie) processes of the process group `pgid`: pid -> (parent pid, command line)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == pgid:
            out[int(entry.name)] = (int(fields[1]), command)
    return out


def _wait_for(condition: object, seconds: float = 120) -> object:
    """Poll `condition()` until it is true (returned) or `seconds` pass (AssertionError)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {condition}")


def _spawned_workers(report: subprocess.Popen[str]) -> list[int]:
    """The worker processes a local cluster has started for `report` (spawned, not the resource tracker)."""
    return [pid for pid, (ppid, command) in _processes(report.pid).items() if ppid == report.pid and b"spawn_main" in command]


def _local_report(folder: Path, site: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(FOLDKIT), "report", str(folder), "-o", str(site), "--cluster", "local:2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def _not_progress(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("foldkit: ["))


@pytest.mark.parametrize("moment", ["workers starting", "first capture done"])
def test_ctrl_c_to_a_local_cluster_report_prints_only_foldkits_line(tmp_path: Path, moment: str) -> None:
    folder = _big_folder(tmp_path, 8)
    report = _local_report(folder, tmp_path / "site")
    assert report.stderr is not None
    try:
        if moment == "workers starting":  # their interpreters starting, Dask and foldkit importing
            _wait_for(lambda: _spawned_workers(report))
        else:
            assert "[1/8]" in report.stderr.readline()
        os.killpg(report.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process of the group
        rest = report.stderr.read()
        assert report.wait(timeout=120) == 130, rest
    finally:
        if report.poll() is None:
            os.killpg(report.pid, signal.SIGKILL)
            report.wait()
    assert _not_progress(rest) == "foldkit: interrupted\n"  # no traceback, no line from Dask's children
    _wait_for(lambda: not _processes(report.pid), 60)  # nothing of the group survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many"]


def test_a_worker_killed_while_a_local_cluster_starts_is_replaced(tmp_path: Path) -> None:
    folder = _big_folder(tmp_path, 6)
    site = tmp_path / "site"
    report = _local_report(folder, site)
    assert report.stderr is not None
    try:
        first = _wait_for(lambda: _spawned_workers(report))
        os.kill(first[0], signal.SIGKILL)  # before it could tell its nanny it started
        # multiprocessing's resource tracker, which prints KeyError tracebacks about a killed
        # worker's semaphores, writes to /dev/null
        trackers = [pid for pid, (_, command) in _processes(report.pid).items() if b"resource_tracker" in command]
        assert trackers and all(os.readlink(f"/proc/{pid}/fd/2") == os.devnull for pid in trackers)
        # and later ones, while captures run: each time a worker that is running one
        killed = 0
        lines = []
        for line in report.stderr:
            lines.append(line)
            if line.startswith("foldkit: [") and killed < 2:
                victims = _spawned_workers(report)
                if victims:
                    os.kill(victims[0], signal.SIGKILL)
                    killed += 1
        assert report.wait(timeout=120) == 0, "".join(lines)
    finally:
        if report.poll() is None:
            os.killpg(report.pid, signal.SIGKILL)
            report.wait()
    stderr = "".join(lines)
    assert "Traceback" not in stderr and "KeyError" not in stderr and _not_progress(stderr) == "", stderr
    rows = json.loads((site / "summary.json").read_text())["captures"]
    assert [r["status"] for r in rows] == ["ok"] * 6


#: Runs `foldkit.cluster.connect("local:1")` with a task on the cluster's event loop that logs a
#: Dask INFO line when the loop ends (as a batched send woken by the close did); prints Dask's
#: log handlers' levels before and after.
_LATE_LOG = """
import asyncio, logging
from foldkit.cluster import connect
import distributed
handlers = [h for h in logging.getLogger("distributed").handlers if isinstance(h, logging.StreamHandler)]
print([h.level for h in handlers])

async def late():
    try:
        await asyncio.sleep(3600)
    finally:  # cancelled when the loop ends, after the cluster's close returned
        logging.getLogger("distributed.batched").info("a record logged as the loop ends")

with connect("local:1") as cluster:
    asyncio.run_coroutine_threadsafe(late(), cluster.client.loop.asyncio_loop)
print([h.level for h in handlers])
"""


def test_a_local_cluster_prints_no_dask_log_line_once_closed() -> None:
    """Dask's log handlers stay quiet until the local cluster's event loop has ended (Dask's own
    `silence_logs` gave them back while tasks still ran on it: a closed comm's INFO line and its
    traceback under a Ctrl-C), and get their levels back then."""
    run = subprocess.run([sys.executable, "-c", _LATE_LOG], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    before, after = run.stdout.splitlines()
    assert before == after
    assert "a record logged as the loop ends" not in run.stderr and run.stderr == "", run.stderr
