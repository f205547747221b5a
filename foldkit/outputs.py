"""Write outputs atomically (temp file + rename), compressing by suffix (`.gz`, `.zst`)."""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard

from foldkit.errors import InputError


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
