"""The report folder is replaced as a whole, only when complete, and only if it is ours (or --force)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.errors import InputError, UsageError
from foldkit.report import ReportOptions, build_report
from foldkit.report.discover import MARKER
from foldkit.report.site import BUILD_PREFIX, building, swap_in, write_marker
from tests.support.report import mixed_folder


def build(target: Path, files: dict[str, str], force: bool = False) -> None:
    with building(target, force) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text)
        write_marker(tmp, "now")


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_a_new_report_appears_complete(tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(site, {"index.html": "one"})
    assert (site / "index.html").read_text() == "one" and (site / MARKER).is_file()
    assert sorted(p.name for p in site.iterdir()) == sorted(["index.html", MARKER])
    assert siblings(site) == ["site"]
    assert oct(site.stat().st_mode & 0o777) == "0o755"


def test_rebuilding_replaces_the_whole_report(tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(site, {"index.html": "one", "old.html": "stale"})
    inode = site.stat().st_ino
    build(site, {"index.html": "two"})
    assert (site / "index.html").read_text() == "two"
    assert not (site / "old.html").exists()  # nothing of the previous report is left over
    assert site.stat().st_ino != inode
    assert siblings(site) == ["site"]


def test_an_interrupted_build_leaves_the_previous_report_untouched(tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(site, {"index.html": "one"})
    with pytest.raises(KeyboardInterrupt), building(site) as tmp:
        (tmp / "index.html").write_text("half")
        raise KeyboardInterrupt
    assert (site / "index.html").read_text() == "one"
    assert siblings(site) == ["site"]


def test_a_folder_that_is_not_a_report_needs_force(tmp_path: Path) -> None:
    site = tmp_path / "mine"
    site.mkdir()
    (site / "thesis.tex").write_text("precious")
    with pytest.raises(UsageError, match="not a foldkit report; use --force"):
        build(site, {"index.html": "x"})
    assert (site / "thesis.tex").exists() and siblings(site) == ["mine"]
    build(site, {"index.html": "x"}, force=True)
    assert sorted(p.name for p in site.iterdir()) == [MARKER, "index.html"]


def test_an_empty_folder_is_used_without_force(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    build(site, {"index.html": "x"})
    assert (site / "index.html").exists()


def test_a_file_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "site"
    target.write_text("a file")
    with pytest.raises(UsageError, match="not a folder"):
        build(target, {}, force=True)
    assert target.read_text() == "a file"


def test_missing_parent_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        build(tmp_path / "no" / "site", {})


def test_a_link_to_a_report_keeps_pointing_at_the_new_one(tmp_path: Path) -> None:
    real = tmp_path / "real"
    build(real, {"index.html": "one"})
    link = tmp_path / "latest"
    link.symlink_to(real)
    build(link, {"index.html": "two"})
    assert link.is_symlink() and (link / "index.html").read_text() == "two"


#: Builds a report at `sys.argv[1]`, says where its build folder is, and waits to be killed.
_BUILD_AND_WAIT = """
import sys, time
from pathlib import Path
from foldkit.report.site import building
with building(Path(sys.argv[1])) as tmp:
    (tmp / "index.html").write_text("half-written")
    print(tmp, flush=True)
    time.sleep(120)
"""


def _build_and_wait(site: Path) -> tuple[subprocess.Popen[str], Path]:
    run = subprocess.Popen([sys.executable, "-c", _BUILD_AND_WAIT, str(site)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    assert run.stdout is not None
    tmp = Path(run.stdout.readline().strip())
    assert tmp.name.startswith(f"{BUILD_PREFIX}{site.name}.") and (tmp / "index.html").exists()
    return run, tmp


def test_builds_left_by_killed_runs_are_removed_and_running_ones_kept(tmp_path: Path) -> None:
    """A run holds its build folder until it is done; one SIGKILL stopped (no clean-up possible)
    holds nothing, and the next run into the same place deletes its folder."""
    killed, abandoned = _build_and_wait(tmp_path / "site")
    running, in_progress = _build_and_wait(tmp_path / "site")
    try:
        killed.kill()
        killed.wait()
        other = tmp_path / f"{BUILD_PREFIX}other.ghi"  # another report's
        other.mkdir()
        (other / "index.html").write_text("x")
        old = tmp_path / ".foldkit-old-site.jkl"  # left by a run killed while it swapped
        (old / "previous").mkdir(parents=True)
        # a killed run's pid is taken by a live process (here this one): what counts is the lock
        reused = tmp_path / f"{BUILD_PREFIX}site.pid"
        reused.mkdir()
        (reused / ".foldkit-owner").write_text(f"{os.getpid()}\n")
        build(tmp_path / "site", {"index.html": "x"})
        assert not abandoned.exists() and not old.exists() and not reused.exists()
        assert (in_progress / "index.html").read_text() == "half-written" and other.exists()
    finally:
        running.kill()
        running.wait()
    build(tmp_path / "site", {"index.html": "y"})
    assert not in_progress.exists()
    assert siblings(tmp_path / "site") == [other.name, "site"]


def test_swap_falls_back_to_two_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from foldkit.report import site as site_module

    monkeypatch.setattr(site_module, "_exchange", lambda a, b: False)
    target = tmp_path / "site"
    target.mkdir()
    (target / "old").write_text("old")
    new = tmp_path / "new"
    new.mkdir()
    (new / "index.html").write_text("new")
    swap_in(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["index.html"]
    assert siblings(target) == ["site"]


def test_the_swap_is_one_atomic_exchange_on_linux(tmp_path: Path) -> None:
    from foldkit.report.site import _exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from-a").touch()
    assert _exchange(a, b) is sys.platform.startswith("linux")
    if sys.platform.startswith("linux"):
        assert [p.name for p in b.iterdir()] == ["from-a"] and not list(a.iterdir())


def test_a_forged_marker_does_not_make_a_folder_a_report(tmp_path: Path) -> None:
    site = tmp_path / "mine"
    site.mkdir()
    (site / "thesis.tex").write_text("precious")
    for forged in ("", "{}", '{"foldkit": "1", "files": {}}', '{"files": {"thesis.tex": [8, "0"]}}'):
        (site / MARKER).write_text(forged)
        with pytest.raises(UsageError, match="use --force"):
            build(site, {"index.html": "x"})
        assert (site / "thesis.tex").read_text() == "precious"


def test_a_report_with_a_file_added_or_changed_needs_force(tmp_path: Path) -> None:
    site = tmp_path / "site"
    build(site, {"index.html": "one"})
    (site / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"did not write, or changed \(notes.txt\)"):
        build(site, {"index.html": "two"})
    (site / "notes.txt").unlink()
    (site / "index.html").write_text("edited by hand")
    with pytest.raises(UsageError, match=r"\(index.html\)"):
        build(site, {"index.html": "two"})
    (site / "index.html").write_text("one")
    build(site, {"index.html": "two"})
    assert (site / "index.html").read_text() == "two"


def test_the_marker_lists_every_file_written(tmp_path: Path) -> None:
    import hashlib
    import json

    site = tmp_path / "site"
    build(site, {"index.html": "one", "b.txt": "bee"})
    files = json.loads((site / MARKER).read_text())["files"]
    assert files == {
        "b.txt": [3, hashlib.sha256(b"bee").hexdigest()],
        "index.html": [3, hashlib.sha256(b"one").hexdigest()],
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_manifest_takes_a_writers_digest_only_for_a_file_of_that_size(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"abc")
    (tmp_path / "b").write_bytes(b"xyz")
    write_marker(tmp_path, "now", {"a": (3, "as its writer hashed it"), "b": (4, "of an older b")})
    files = json.loads((tmp_path / MARKER).read_text())["files"]
    assert files == {"a": [3, "as its writer hashed it"], "b": [3, _sha(b"xyz")]}


def test_the_workers_digests_of_a_reports_files_are_the_files_own(tmp_path: Path) -> None:
    folder = mixed_folder(tmp_path)
    site = tmp_path / "site"
    result = build_report([str(folder)], site, ReportOptions(jobs=2, baseline=str(folder / "perf/java.perf")))
    written = {f"captures/{r.slug}/{name}" for r in result.captures for name in r.digests}
    assert written == {p.relative_to(site).as_posix() for p in (site / "captures").rglob("*") if p.is_file()}
    files = json.loads((site / MARKER).read_text())["files"]
    assert written < set(files)
    for rel, entry in files.items():
        data = (site / rel).read_bytes()
        assert entry == [len(data), _sha(data)], rel
