"""`foldkit top`: the heaviest functions (or dsos, or processes) of a profile, pprof style."""

from __future__ import annotations

from foldkit.analysis.defaults import DEFAULT_LIMIT, DSO_META_KEY, SORT_CHOICES
from foldkit.analysis.functions import BY_CHOICES, aggregate, heaviest, heaviest_rows
from foldkit.analysis.tables import Column, Rows, Table
from foldkit.errors import UsageError
from foldkit.profile import Profile, root_frame_count

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import polars as pl


def top_frame(profile: Profile, by: str = "function", sort: str = "self") -> pl.DataFrame:
    """Every function (dso, comm) with `self`, `self_pct`, `total`, `total_pct`, heaviest first
    by `sort` (ties by the other column, then by name). Root frames holding comm/PID/TID are no
    function (nor dso)."""
    return _ranked(profile, by, sort, 0)[0]


def _checked(by: str, sort: str) -> None:
    if sort not in SORT_CHOICES:
        raise UsageError(f"--sort must be one of {', '.join(SORT_CHOICES)}, not {sort!r}")
    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")


def _scale(profile: Profile) -> float:
    """What turns a weight into a percentage of the profile's total."""
    grand = float(profile.total)
    return 100.0 / grand if grand else 0.0


def _ranked(profile: Profile, by: str, sort: str, limit: int) -> tuple[pl.DataFrame, int]:
    """The first `limit` rows (all when `limit` <= 0) of `top_frame`, and how many it has in all:
    from the native stack table when the profile's stacks are in one (`heaviest`), else from
    `aggregate` (the reference)."""
    import polars as pl

    _checked(by, sort)
    roots = root_frame_count(profile.meta)
    found = heaviest(profile, by, sort, limit, roots)
    if found is not None:
        frame, count = found
    else:
        frame = aggregate(profile.weights, by, profile.meta.get(DSO_META_KEY), roots)
        count = frame.height
    scale = _scale(profile)
    other = "total" if sort == "self" else "self"
    ranked = frame.select(
        "name",
        "self",
        (pl.col("self") * scale).alias("self_pct"),
        "total",
        (pl.col("total") * scale).alias("total_pct"),
    ).sort([sort, other, "name"], descending=[True, True, False])
    return (ranked.head(limit) if limit > 0 else ranked), count


def _shown(profile: Profile, by: str, sort: str, limit: int) -> tuple[pl.DataFrame | Rows, int]:
    """`_ranked`'s rows, as `Rows` (no polars) when the native stack table gives them by function
    in their order (`heaviest_rows`): the percentages computed as polars computes them (an
    integer sum times a float)."""
    _checked(by, sort)
    found = heaviest_rows(profile, by, sort, limit, root_frame_count(profile.meta))
    if found is None:
        return _ranked(profile, by, sort, limit)
    names, selfs, totals, count = found
    scale = _scale(profile)
    columns: dict[str, list[Any]] = {
        "name": names,
        "self": selfs,
        "self_pct": [s * scale for s in selfs],
        "total": totals,
        "total_pct": [t * scale for t in totals],
    }
    schema = {"name": "text", "self": "int", "self_pct": "float", "total": "int", "total_pct": "float"}
    return Rows(columns, schema), count


def top_table(profile: Profile, by: str = "function", sort: str = "self", limit: int = DEFAULT_LIMIT) -> Table:
    """The `top` table of `profile`: the first `limit` rows (all when `limit` <= 0) of `top_frame`."""
    frame, count = _shown(profile, by, sort, limit)
    unit = profile.unit
    label = {"function": "function", "dso": "dso", "comm": "comm"}[by]
    columns = [
        Column("name", label, "text", "left"),
        Column("self", f"self ({unit})", "weight"),
        Column("self_pct", "self %", "percent"),
        Column("total", f"total ({unit})", "weight"),
        Column("total_pct", "total %", "percent"),
    ]
    samples = profile.samples
    title = f"top {frame.height} of {count} {label}s by {sort}; total {float(profile.total):,.0f} {unit}"
    if samples is not None and unit != "samples":
        title += f" in {samples:,} samples"
    meta = {
        "by": by,
        "sort": sort,
        "unit": unit,
        "total": profile.total,
        "samples": samples,
        "rows_total": count,
        "sources": profile.sources,
    }
    return Table(frame, columns, title, meta)
