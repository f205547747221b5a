"""Which files a report covers: the files named, every file under the folders named, and the URLs
named (read through fsspec; listed after the files).

Folders are walked recursively in sorted order; hidden files and folders (a leading `.`) and
folders that are themselves foldkit reports are left out. Each capture gets a display name (its
path relative to the folder all inputs share) and a slug: the name of its folder in the report,
made of safe characters only and unique in the report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from foldkit.errors import InputError, UsageError
from foldkit.inputs import is_url

#: Name of the file that marks a folder as a foldkit report (so it may be replaced, and is never
#: read as captures).
MARKER = ".foldkit-report"
#: Longest slug: long enough to recognise a capture, short enough for every file system.
MAX_SLUG = 80

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CaptureInput:
    """One file to report on."""

    path: str  # where to read it
    name: str  # what to call it (relative to the inputs' common folder)
    slug: str  # its folder under captures/ in the report
    explicit: bool  # named on the command line (unrecognised content is an error, not skipped)


def is_report(folder: Path) -> bool:
    """Whether `folder` is a foldkit report (it has the marker file)."""
    return (folder / MARKER).is_file()


def _walk(root: Path, exclude: set[Path]) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and (here / d).resolve() not in exclude and not is_report(here / d)
        )
        found.extend(here / f for f in filenames if not f.startswith(".") and (here / f).is_file())
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _raise(exc: OSError) -> None:
    raise InputError(f"{exc.filename}: cannot list folder: {exc.strerror}")


def slugify(name: str) -> str:
    """A file-system- and URL-safe folder name for a capture called `name`."""
    slug = _UNSAFE.sub("_", name.replace("/", "__")).strip("._")
    return slug[:MAX_SLUG] or "capture"


def _unique(slugs: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for slug in slugs:
        candidate, n = slug, 1
        while candidate.lower() in seen:  # case-insensitive file systems too
            n += 1
            candidate = f"{slug}-{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def find_captures(inputs: Sequence[str], exclude: Sequence[str | os.PathLike[str]] = ()) -> list[CaptureInput]:
    """The captures under `inputs` (files and folders), in a stable order, without `exclude`d
    folders (the report being written). A missing input is an error; so is finding no file."""
    if not inputs:
        raise UsageError("give at least one capture file or folder")
    skip = {Path(p).resolve() for p in exclude}
    entries: list[tuple[Path, bool]] = []
    roots: list[Path] = []
    urls = [spec for spec in inputs if is_url(spec)]  # each a capture, named as written
    for spec in inputs:
        if spec == "-":
            raise UsageError("foldkit report reads files and folders, not standard input")
        if spec in urls:
            continue
        path = Path(spec)
        if path.is_dir():
            roots.append(Path(os.path.abspath(path)))
            entries.extend((p, False) for p in _walk(path, skip))
        elif path.is_file():
            roots.append(Path(os.path.abspath(path)).parent)
            entries.append((path, True))
        elif path.exists():
            raise InputError(f"{spec}: not a regular file or folder")
        else:
            raise InputError(f"{spec}: no such file or folder")
    seen: set[Path] = set()
    unique: list[tuple[Path, bool]] = []
    for path, explicit in entries:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((path, explicit))
    if not unique and not urls:
        raise UsageError(f"no files found in {', '.join(inputs)}")
    names = []
    if roots:
        common = Path(os.path.commonpath([str(r) for r in roots]))
        for path, _ in unique:
            names.append(Path(os.path.abspath(path)).relative_to(common).as_posix())
    paths = [str(p) for p, _ in unique] + list(dict.fromkeys(urls))
    named = [e for _, e in unique] + [True] * (len(paths) - len(unique))
    names += paths[len(unique) :]
    slugs = _unique([slugify(n) for n in names])
    return [
        CaptureInput(path=p, name=n, slug=s, explicit=e)
        for p, n, s, e in zip(paths, names, slugs, named, strict=True)
    ]
