"""Write outputs atomically (temp file + rename), compressing by suffix (`.gz`, `.zst`); the
registry of what each command can write, by output suffix."""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import zstandard

from foldkit.errors import InputError, UsageError

#: Suffixes that compress a text output.
COMPRESSION_SUFFIXES = (".gz", ".zst")
#: Table outputs (`top`, `diff`): suffix -> table format.
TABLE_SUFFIXES = {".txt": "text", ".text": "text", ".csv": "csv", ".json": "json", ".parquet": "parquet"}
#: What each command can write with `-o`: command -> {suffix: what it writes}. A command declares
#: its suffixes with `output_suffixes`; a new output format is one more entry.
OUTPUT_SUFFIXES: dict[str, dict[str, str]] = {}


def output_suffixes(command: str, suffixes: Mapping[str, str]) -> dict[str, str]:
    """Declare (or extend) the suffixes `command` can write; its whole table."""
    table = OUTPUT_SUFFIXES.setdefault(command, {})
    table.update(suffixes)
    return table


def output_suffix(command: str, path: str | os.PathLike[str] | None) -> str | None:
    """The declared suffix `path` ends with (the longest; `.gz`/`.zst` ignored), "" for a name
    without a suffix, None for stdout; a UsageError naming what `command` can write otherwise."""
    if is_stdout(path):
        return None
    name = os.path.basename(os.fspath(path)).lower()  # type: ignore[arg-type]
    for comp in COMPRESSION_SUFFIXES:
        name = name.removesuffix(comp)
    table = OUTPUT_SUFFIXES.get(command, {})
    for suffix in sorted(table, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    if "." not in name.lstrip("."):
        return ""
    raise UsageError(
        f"{path}: foldkit {command} cannot write {os.path.splitext(name)[1]} files; "
        f"it writes {', '.join(table)} (a .gz or .zst suffix compresses text)"
    )


def is_stdout(path: str | os.PathLike[str] | None) -> bool:
    """True when `path` means standard output (absent or `-`)."""
    return path is None or os.fspath(path) == "-"


def compress_for(path: str | os.PathLike[str], data: bytes) -> bytes:
    """`data` compressed as the output name's suffix asks (`.gz`, `.zst`), else unchanged."""
    name = os.fspath(path)
    if name.endswith(".zst"):
        return zstandard.ZstdCompressor(level=6).compress(data)
    if name.endswith(".gz"):
        return gzip.compress(data, mtime=0)
    return data


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that appears at `path` only if the block finishes without error."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{path}: output directory {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike[str] | None, data: bytes) -> None:
    """Write `data` to `path` atomically (compressed by suffix), or to stdout for `-`/None."""
    if is_stdout(path):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    assert path is not None
    with atomic_writer(path) as fh:
        fh.write(compress_for(path, data))
