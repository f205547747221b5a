"""The profile as a table (one row per stack) for polars, DuckDB and Parquet files."""

from __future__ import annotations

import io

import polars as pl

from foldkit.profile import Profile
from foldkit.text import utf8_safe
from foldkit.transform.roots import holds, identify, root_layout

#: The range of polars' Int64 columns; a PID or TID outside it (`x 18446744073709551616/5`) is
#: not a number any kernel gives, and is left out of its column (null) like one that is missing.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _int_or_none(value: str | None) -> int | None:
    """The integer a root frame's PID or TID part says, or None (missing, not a number, or out
    of Int64's range)."""
    try:
        number = None if value is None else int(value)
    except ValueError:
        return None
    return number if number is not None and INT64_MIN <= number <= INT64_MAX else None


def stack_frame(profile: Profile) -> pl.DataFrame:
    """One row per stack in canonical order: `stack`, `frames` (root first), `weight`, then where
    known `count` (samples), `comm`, `pid`, `tid` (from the root frames), `event` and `unit`."""
    items = list(profile.items())
    stacks = [utf8_safe(s) for s, _ in items]
    columns: dict[str, pl.Series] = {
        "stack": pl.Series("stack", stacks, dtype=pl.String),
        "frames": pl.Series("frames", [s.split(";") for s in stacks], dtype=pl.List(pl.String)),
        "weight": pl.Series(
            "weight",
            [w for _, w in items],
            dtype=pl.Int64 if all(isinstance(w, int) for _, w in items) else pl.Float64,
        ),
    }
    if profile.counts is not None:
        counts = profile.counts
        columns["count"] = pl.Series("count", [counts.get(s, 0) for s, _ in items], dtype=pl.Int64)
    layout = root_layout(profile)
    if layout:
        idents = [identify(s, layout) for s, _ in items]
        if holds(layout, "comm"):
            columns["comm"] = pl.Series("comm", [utf8_safe(i.comm) if i.comm else None for i in idents], dtype=pl.String)
        if holds(layout, "pid"):
            columns["pid"] = pl.Series("pid", [_int_or_none(i.pid) for i in idents], dtype=pl.Int64)
        if holds(layout, "tid"):
            columns["tid"] = pl.Series("tid", [_int_or_none(i.tid) for i in idents], dtype=pl.Int64)
    if profile.event:
        columns["event"] = pl.Series("event", [utf8_safe(profile.event)] * len(items), dtype=pl.String)
    columns["unit"] = pl.Series("unit", [utf8_safe(profile.unit)] * len(items), dtype=pl.String)
    return pl.DataFrame(columns)


def to_parquet_bytes(profile: Profile) -> bytes:
    """The stack table as a Parquet file (zstd-compressed columns)."""
    buf = io.BytesIO()
    stack_frame(profile).write_parquet(buf, compression="zstd")
    return buf.getvalue()
