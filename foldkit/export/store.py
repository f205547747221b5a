"""The profile store: every capture's stacks as one Parquet dataset that polars, DuckDB or Spark
query across captures and nights.

    profiles/host=web-3/date=2026-11-26/capture=api%2Fcpu.perf.zst/part-0.parquet

One file per capture, in hive partitions: the labels the user gives (`key=value`), then the
capture's name. Each file holds the columns `capture, stack, frame_leaf, depth, weight, samples`
and the labels, so a file read alone says what it is. Files are written atomically: a reader sees
a capture's old stacks or its new ones, never half of them.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from foldkit.errors import InputError, UsageError
from foldkit.outputs import make_folder
from foldkit.profile import Profile, ProfileMerger
from foldkit.text import utf8_safe

if TYPE_CHECKING:
    import polars as pl

#: The columns of every file, in order (the labels follow).
COLUMNS = ("capture", "stack", "frame_leaf", "depth", "weight", "samples")
#: The one file of a capture's partition.
FILE = "part-0.parquet"

Labels = tuple[tuple[str, str], ...]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_labels(specs: Sequence[str]) -> Labels:
    """`key=value` labels (several may be joined by `/`: `host=web-3/date=2026-11-26`), in order;
    a malformed or repeated key, or one that names a column, is a UsageError."""
    labels: list[tuple[str, str]] = []
    for spec in specs:
        for part in spec.split("/"):
            key, sep, value = part.partition("=")
            if not sep or not _KEY.match(key) or not value:
                raise UsageError(f"--label {spec!r}: expected key=value (key: letters, digits, _), joined by / for several")
            if key in COLUMNS or key in (k for k, _ in labels):
                raise UsageError(f"--label {spec!r}: {key!r} is {'a column' if key in COLUMNS else 'given twice'}")
            labels.append((key, value))
    return tuple(labels)


def _partition(key: str, value: str) -> str:
    return f"{key}={quote(value, safe='')}"


def store_path(store: str | os.PathLike[str], capture: str, labels: Labels = ()) -> Path:
    """Where the file of `capture` goes in `store`."""
    parts = [_partition(k, v) for k, v in labels] + [_partition("capture", capture)]
    return Path(store).joinpath(*parts, FILE)


def store_frame(profile: Profile, capture: str, labels: Labels = ()) -> pl.DataFrame:
    """The rows of one capture: one per stack, in canonical order."""
    import polars as pl

    items = list(profile.items())
    stacks = [utf8_safe(s) for s, _ in items]
    counts = profile.counts
    n = len(items)
    columns = {
        "capture": pl.Series("capture", [utf8_safe(capture)] * n, dtype=pl.String),
        "stack": pl.Series("stack", stacks, dtype=pl.String),
        "frame_leaf": pl.Series("frame_leaf", [s.rpartition(";")[2] for s in stacks], dtype=pl.String),
        "depth": pl.Series("depth", [s.count(";") + 1 for s in stacks], dtype=pl.Int64),
        "weight": pl.Series("weight", [float(w) for _, w in items], dtype=pl.Float64),
        "samples": pl.Series("samples", [None if counts is None else counts.get(s, 0) for s, _ in items], dtype=pl.Int64),
    }
    for key, value in labels:
        columns[key] = pl.Series(key, [value] * n, dtype=pl.String)
    return pl.DataFrame(columns)


def store_bytes(profile: Profile, capture: str, labels: Labels = ()) -> bytes:
    """One capture's file of the store, as bytes."""
    buf = io.BytesIO()
    store_frame(profile, capture, labels).write_parquet(buf, compression="zstd")
    return buf.getvalue()


def put(store: str | os.PathLike[str], capture: str, labels: Labels, data: bytes | Path) -> Path:
    """Put a capture's file (its bytes, or a file to move) into `store`, replacing the one it
    had, atomically; return its path."""
    target = store_path(store, capture, labels)
    try:
        make_folder(target.parent)
        if isinstance(data, Path):
            with contextlib.suppress(OSError):
                os.replace(data, target)  # same file system: a rename
                return target
            data = data.read_bytes()
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise InputError(f"{target}: cannot write to the profile store: {exc.strerror or exc}") from None
    return target


def store_all(store: str | os.PathLike[str], labels: Labels, parts: Iterable[tuple[str, Profile]]) -> Profile:
    """Put every (capture name, profile) into `store`; return the profiles merged, in order."""
    merger = ProfileMerger()
    for name, profile in parts:
        put(store, name, labels, store_bytes(profile, name, labels))
        merger.add(profile)
    return merger.result()


def check_store(store: str | os.PathLike[str]) -> None:
    """Refuse a store that is a file (a folder that does not exist yet is made)."""
    path = Path(store)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--store {store}: exists and is not a folder")


__all__ = ["COLUMNS", "FILE", "Labels", "check_store", "parse_labels", "put", "store_all", "store_bytes", "store_frame", "store_path"]
