"""Outputs that cannot be written: a folder that cannot be made (a read-only file system, a folder
the user may not write to), a full file system, a set of files one of which cannot be written, a
run with nothing to publish. Each is exit 2 and one line from foldkit, never a traceback or a Rust
panic, and never a previous good output lost or a partial one left behind.

The file-system cases mount small tmpfs file systems and drop the capability that lets root write
anywhere; they are skipped when the tests do not run as root (or cannot mount)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.common import DATA, FIXTURES, TESTS

ROOT = TESTS.parent
CAPTURE = DATA / "captures" / "perf-system-cpuclock-sched-switch.txt.zst"
SMALL = DATA / "captures" / "perf-c-fp.txt.zst"
#: Root without the capabilities that bypass file modes: a mode-555 folder is as read-only to it
#: as to any unprivileged user (the tests' Python lives in /root, which `nobody` cannot run).
AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _foldkit(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "foldkit", *args], capture_output=True, text=True, timeout=300, check=False, cwd=ROOT
    )


def _clean_failure(run: subprocess.CompletedProcess[str]) -> None:
    """Exit 2 with foldkit's error line, and nothing else alarming."""
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "panicked" not in run.stderr and "RUST_BACKTRACE" not in run.stderr, run.stderr
    assert "foldkit: error: " in run.stderr


def _snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (hidden ones too) with a digest of its content."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (tmpfs mounts, dropping capabilities)")


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[object]:
    """`mount(size, read_only=False)`: a fresh tmpfs of `size`, unmounted afterwards."""
    _need_root()
    mounted: list[Path] = []

    def make(size: str, read_only: bool = False) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


#: Every command that makes folders, with {out} the folder (or its parent) to make.
MAKES_FOLDERS = {
    "per-thread": ["fold", str(CAPTURE), "--per-thread", "-o", "{out}/pt"],
    "per-process": ["fold", str(CAPTURE), "--per-process", "-o", "{out}/pp"],
    "per-thread-deep": ["fold", str(CAPTURE), "--per-thread", "-o", "{out}/a/b"],
    "report": ["report", str(SMALL), "-o", "{out}/site", "-q"],
    "store": ["fold", str(SMALL), "--store", "{out}/store", "-o", "{out}/x.folded"],
    "check": ["check", str(SMALL), str(SMALL), "--json", "{out}/c.json", "--junit", "{out}/c.xml"],
}


@pytest.mark.parametrize("how", ["read-only file system", "mode 555 as a user"])
@pytest.mark.parametrize("command", list(MAKES_FOLDERS))
def test_an_output_folder_that_cannot_be_made_is_exit_2(command: str, how: str, mount: object, tmp_path: Path) -> None:
    if how == "read-only file system":
        out = mount("1m", read_only=True)  # type: ignore[operator]
        prefix = None
    else:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv (util-linux)")
        out = tmp_path / "locked"
        out.mkdir(mode=0o555)
        out.chmod(0o555)
        prefix = AS_A_USER
    run = _foldkit(*[a.format(out=out) for a in MAKES_FOLDERS[command]], prefix=prefix)
    _clean_failure(run)
    reason = "Read-only file system" if how == "read-only file system" else "Permission denied"
    assert reason in run.stderr and str(out) in run.stderr, run.stderr
    assert list(out.iterdir()) == []


def test_a_report_into_a_full_file_system_keeps_the_previous_report(mount: object) -> None:
    disk = mount("1m")  # type: ignore[operator]
    site = disk / "site"
    assert _foldkit("report", str(SMALL), "-o", str(site), "-q").returncode == 0
    before = _snapshot(disk)
    # every capture of the tests: pages and graphs of several MiB, far more than the disk has left
    for jobs in ("1", "2"):
        run = _foldkit("report", str(DATA / "captures"), "-o", str(site), "-q", "-j", jobs)
        _clean_failure(run)
        assert "No space left on device" in run.stderr and str(site) in run.stderr
        assert ".foldkit-build-" not in run.stderr  # the file is named where the user looks
        assert _snapshot(disk) == before  # the old report intact, nothing half-written beside it


def test_fold_into_a_full_file_system_leaves_nothing(mount: object) -> None:
    disk = mount("64k")  # type: ignore[operator]
    (disk / "fill").write_bytes(b"\0" * (60 * 1024))
    before = _snapshot(disk)
    for args in (["-o", f"{disk}/x.folded"], ["-o", f"{disk}/x.parquet"], ["--per-thread", "-o", f"{disk}/pt"]):
        run = _foldkit("fold", str(CAPTURE), *args)
        _clean_failure(run)
        assert "No space left on device" in run.stderr
        assert _snapshot(disk) == before


def _processes_capture(path: Path, comms: list[str]) -> Path:
    records = [
        f"{comm} {100 + i}/{100 + i} [000] {i}.{t}: 1001001 cpu-clock: \n\t 4000 work (/bin/app)\n\t 3000 main (/bin/app)\n\n"
        for i, comm in enumerate(comms)
        for t in range(3)
    ]
    path.write_text("".join(records))
    return path


@pytest.mark.parametrize("split", ["--per-process", "--per-thread"])
def test_a_set_of_files_is_written_all_or_none(split: str, tmp_path: Path) -> None:
    # the last process's name is too long for a file name: none of the set may appear
    capture = _processes_capture(tmp_path / "in.perf", ["app", "bee", "z" * 300])

    def file_of(comm: str, pid: int) -> str:
        return f"{comm}-{pid}-{pid}.folded" if split == "--per-thread" else f"{comm}-{pid}.folded"

    folder = tmp_path / "out"
    folder.mkdir()
    (folder / file_of("app", 100)).write_text("old\n")
    (folder / "notes.txt").write_text("mine\n")
    before = _snapshot(folder)
    run = _foldkit("fold", str(capture), split, "-o", str(folder))
    _clean_failure(run)
    assert "File name too long" in run.stderr and f"{folder}/zzz" in run.stderr and ".foldkit-staging" not in run.stderr
    assert _snapshot(folder) == before  # old files not replaced, no new ones
    fresh = tmp_path / "fresh"
    _clean_failure(_foldkit("fold", str(capture), split, "-o", str(fresh)))
    assert not fresh.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.perf", "out"]
    # once every name fits, the whole set is moved in: old ones replaced, the user's file kept
    _processes_capture(capture, ["app", "bee", "zed"])
    assert _foldkit("fold", str(capture), split, "-o", str(folder)).returncode == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["notes.txt", file_of("app", 100), file_of("bee", 101), file_of("zed", 102)]), names
    assert (folder / "notes.txt").read_text() == "mine\n"
    assert (folder / file_of("app", 100)).read_text() == "app;main;work 3003003\n"


def test_a_report_with_nothing_readable_leaves_the_previous_report(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _foldkit("report", str(SMALL), "-o", str(site), "-q").returncode == 0
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("cut-1.perf.zst", "cut-2.perf.zst"):
        (folder / name).write_bytes((FIXTURES / "system-mixed.perf.zst").read_bytes()[:20_000])
    before = _snapshot(tmp_path)
    run = _foldkit("report", str(folder), "-o", str(site), "-q")
    _clean_failure(run)
    assert "none of the 2 capture(s) could be read (cut-1.perf.zst: " in run.stderr and f"{site} is left as it was" in run.stderr
    assert run.stdout == ""  # no report to point at
    assert _snapshot(tmp_path) == before
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("no capture here\n")
    before = _snapshot(tmp_path)
    run = _foldkit("report", str(notes), "-o", str(site), "-q")
    _clean_failure(run)
    assert "no file found is a capture foldkit can read" in run.stderr
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["name too long", "under a file"])
def test_a_set_of_files_into_a_folder_that_cannot_be_named_is_exit_2(where: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / ("n" * 300 if where == "name too long" else "a-file/pt")
    run = _foldkit("fold", str(SMALL), "--per-process", "-o", str(folder))
    _clean_failure(run)
    assert ("File name too long" if where == "name too long" else "Not a directory") in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


#: Stages a set of files for `sys.argv[1]` as `fold --per-thread` does, says so, and waits to be
#: killed (a killed run's staging folder is what the next run finds).
_STAGE_AND_WAIT = """
import sys, time
from foldkit.outputs import staged_folder
with staged_folder(sys.argv[1]) as stage:
    (stage / "half-written.folded").write_text("a;b 1\\n")
    print(stage, flush=True)
    time.sleep(120)
"""


def _stage_and_wait(folder: Path) -> tuple[subprocess.Popen[str], Path]:
    run = subprocess.Popen([sys.executable, "-c", _STAGE_AND_WAIT, str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert run.stdout is not None
    stage = Path(run.stdout.readline().strip())
    assert stage.name.startswith(".foldkit-staging-") and (stage / "half-written.folded").exists()
    return run, stage


@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "existing folder"])
def test_a_killed_per_thread_run_leaves_nothing_after_the_next_run(existing: bool, tmp_path: Path) -> None:
    # SIGKILL cannot be caught: the killed run's staging folder stays until the next run into the
    # same folder, which deletes it (nobody holds its lock) and writes its own set
    folder = tmp_path / "pt"
    if existing:
        folder.mkdir()
        (folder / "notes.txt").write_text("mine\n")
    run, stage = _stage_and_wait(folder)
    run.kill()
    run.wait()
    assert stage.exists()
    assert _foldkit("fold", str(SMALL), "--per-thread", "-o", str(folder)).returncode == 0
    assert not stage.exists()
    leftovers = [p for p in tmp_path.rglob(".foldkit-staging-*")]
    assert leftovers == [] and sorted(p.name for p in tmp_path.iterdir()) == ["pt"]
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.endswith(".folded") for n in names if n != "notes.txt")
    assert ("notes.txt" in names) == existing and "half-written.folded" not in names


def test_a_running_per_thread_runs_staging_folder_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "pt"
    run, stage = _stage_and_wait(folder)
    try:
        assert _foldkit("fold", str(SMALL), "--per-thread", "-o", str(folder)).returncode == 0
        assert (stage / "half-written.folded").exists()  # still being written: not abandoned
    finally:
        run.kill()
        run.wait()


def test_an_empty_staging_folder_just_made_is_left_for_its_run_to_lock(tmp_path: Path) -> None:
    from foldkit.outputs import remove_abandoned_stages

    young = tmp_path / ".foldkit-staging-pt.young"
    old = tmp_path / ".foldkit-staging-pt.old"
    other = tmp_path / ".foldkit-staging-other.x"
    for made in (young, old, other):
        made.mkdir()
    os.utime(old, (0, 0))
    os.utime(other, (0, 0))
    remove_abandoned_stages(tmp_path, ".foldkit-staging-pt.")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, young.name]
