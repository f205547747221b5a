"""The report folder: built next to its final place, then swapped in, so a reader (or an
interrupted run) never sees a half-written report.

    with building(Path("site"), force=False) as tmp:   # a fresh folder beside site/
        ...write everything into tmp...
    # site/ now holds what was written; the previous report is gone

The swap is one atomic `renameat2(RENAME_EXCHANGE)` where the kernel and file system offer it,
else two renames in quick succession. A folder that exists and is not a foldkit report is only
replaced with `force`: the marker file is a manifest of every file the report wrote (size and
SHA-256), and a folder counts as a report only when it holds exactly those files, unchanged, so a
copied or forged marker cannot make foldkit delete anything else. A run holds a lock on its build
folder (`foldkit.outputs.holding`) until it is done with it; builds nobody holds, left behind by
runs that were killed (SIGKILL cannot be caught), are removed by the next run into the same place.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from stat import S_ISREG

from foldkit import __version__
from foldkit.errors import InputError, OutputError, UsageError
from foldkit.outputs import holding, output_errors, remove_abandoned_stages
from foldkit.report.discover import MARKER

#: Prefixes of the sibling folders a build uses (hidden, so folder walks skip them).
BUILD_PREFIX = ".foldkit-build-"
OLD_PREFIX = ".foldkit-old-"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def check_target(target: Path, force: bool) -> None:
    """Refuse to replace what is not ours: a file, or a non-empty folder without the marker
    (unless `force`)."""
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder; choose another output folder")
    if force or is_empty(target):
        return
    if not (target / MARKER).is_file():
        raise UsageError(
            f"{target}: folder exists and is not a foldkit report; use --force to replace it "
            "(everything in it will be deleted)"
        )
    foreign = not_in_manifest(target)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise UsageError(
            f"{target}: holds files the foldkit report there did not write, or changed ({shown}); "
            "use --force to replace it (everything in it will be deleted)"
        )


def is_empty(folder: Path) -> bool:
    """Whether `folder` has no entries."""
    with os.scandir(folder) as entries:
        return next(entries, None) is None


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of every entry under `folder` that is not a folder, marker excluded."""
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        links = [d for d in dirnames if (here / d).is_symlink()]  # a link is an entry, not a folder
        for name in [*filenames, *links]:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            if rel != MARKER:
                yield rel, path


def _fingerprint(path: Path) -> list[object] | None:
    """[size, sha256] of a regular file; None for anything else."""
    if path.is_symlink() or not path.is_file():
        return None
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return [path.stat().st_size, digest]


def write_marker(folder: Path, generated: str, known: Mapping[str, tuple[int, str]] | None = None) -> None:
    """Mark `folder` as a foldkit report: a manifest of every file in it (size, SHA-256). `known`
    gives (size, SHA-256) of files by relative path as their writer computed them (the workers, in
    parallel); a file it does not name, or whose size differs, is read and hashed here."""
    known = known or {}
    files = {rel: _known(path, known.get(rel)) or _fingerprint(path) for rel, path in sorted(_files(folder))}
    doc = {"foldkit": __version__, "generated": generated, "files": files}
    (folder / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _known(path: Path, fingerprint: tuple[int, str] | None) -> list[object] | None:
    """`fingerprint` as a manifest entry, when `path` is a regular file of that size."""
    if fingerprint is None or path.is_symlink():
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    size, digest = fingerprint
    return [size, digest] if S_ISREG(stat.st_mode) and stat.st_size == size else None


def not_in_manifest(folder: Path) -> list[str]:
    """The entries of `folder` its marker does not list as written by foldkit (or that changed
    since); every entry when the marker is not a manifest."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        listed = doc["files"]
        if not isinstance(listed, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        return [MARKER + " (not a foldkit manifest)"]
    foreign = []
    for rel, path in _files(folder):
        expected = listed.get(rel)
        if expected is None or _fingerprint(path) != expected:
            foreign.append(rel)
    return sorted(foreign)


def remove_abandoned(parent: Path, name: str) -> None:
    """Delete build and old folders of `name` in `parent` that no run holds: left by runs that
    were killed (the lock goes with the process, however it ends, and a new process reusing its
    pid does not hold it)."""
    for prefix in (BUILD_PREFIX, OLD_PREFIX):
        remove_abandoned_stages(parent, f"{prefix}{name}.")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def swap_in(build: Path, target: Path) -> None:
    """Put the finished `build` folder at `target`, replacing what was there."""
    os.chmod(build, 0o755)  # mkdtemp makes it private; a report is for reading
    if not target.exists() and not target.is_symlink():
        os.rename(build, target)
        return
    if target.is_dir() and not target.is_symlink() and _exchange(build, target):
        shutil.rmtree(build, ignore_errors=True)  # now holds the previous report
        return
    old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{target.name}.", dir=target.parent))
    with holding(old):
        os.rename(target, old / "previous")
        os.rename(build, target)
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def building(target: Path, force: bool = False) -> Iterator[Path]:
    """A fresh folder next to `target` to build the report in; swapped in at `target` when the
    block ends normally, deleted when it raises (or is interrupted)."""
    target = Path(os.path.abspath(target))
    if target.is_symlink():
        target = target.resolve()  # replace the folder the link points to, keep the link
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"{target}: parent folder {parent} does not exist")
    check_target(target, force)
    remove_abandoned(parent, target.name)
    with output_errors(str(target)):
        build = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{target.name}.", dir=parent))
    try:
        with holding(build):
            yield build
            with output_errors(str(target)):
                swap_in(build, target)
    except OutputError as exc:  # a file of the report could not be written: named in the report
        shutil.rmtree(build, ignore_errors=True)
        raise OutputError(str(exc).replace(os.fspath(build), os.fspath(target))) from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
