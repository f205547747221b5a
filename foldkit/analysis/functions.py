"""Per-function self and total (inclusive) weights of folded stacks, computed with polars.

*Self* is the weight of the stacks whose leaf frame is the function; *total* is the weight of the
stacks that contain it anywhere, each stack counted once however often the function recurses in it.
The same aggregation also groups frames by shared object (`dso`) or by process (`comm`), and by
regular expression (every frame matching a pattern counts as one pseudo-function).

Root frames that hold the command name, PID or TID (`Profile.meta["root_frames"]`, see
`foldkit.transform.roots`) are not functions: callers pass how many there are (`roots`) and they are
left out of every function and dso row (a stack with no other frame adds to no row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from foldkit.errors import UsageError
from foldkit.lazy import regex
from foldkit.native import native_core
from foldkit.profile import LazyProfile, Profile
from foldkit.text import utf8_all, utf8_safe

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import polars as pl

#: What `--by` accepts: the frame itself, the shared object it lives in, or the process (root frame).
BY_CHOICES = ("function", "dso", "comm")

#: The dso of a frame whose origin is not known.
UNKNOWN_DSO = "[unknown]"

_PID_SUFFIX = regex(globals(), "_PID_SUFFIX", r"-(?:\?|-?\d+)(?:/-?\d+)?$")
_ANNOTATION = regex(globals(), "_ANNOTATION", r"_\[[kji]\]$")
_UNRESOLVED = regex(globals(), "_UNRESOLVED", r"^\[(.+?)(?: <[0-9a-fA-Fx]+>)?\]$")


def comm_of(root: str) -> str:
    """The process name of a root frame: `java-4242/4250` -> `java`."""
    return _PID_SUFFIX.sub("", root) or root


def dso_of(frame: str, known: Mapping[str, str] | None = None) -> str:
    """The shared object of a frame: from `known` (frame -> dso) when it lists the frame, else from
    what the frame name itself says (`_[k]` kernel, `_[j]` JIT, `[libc.so.6]` unresolved), else
    `[unknown]`."""
    if known:
        hit = known.get(frame)
        if hit is not None:
            return hit
    ann = _ANNOTATION.search(frame)
    if ann:
        kind = ann.group(0)
        if kind == "_[k]":
            return "[kernel]"
        if kind == "_[j]":
            return "[jit]"
        frame = frame[: ann.start()]
        if known and frame in known:
            return known[frame]
    m = _UNRESOLVED.match(frame)
    if m and m.group(1) != "unknown":
        return m.group(1)
    return UNKNOWN_DSO


def _empty() -> pl.DataFrame:
    """No functions. Integer sums, as Python's `sum([])` is 0: a diff against an empty or all-zero
    side then keeps the other side's integers exact (float64 would round weights past 2^53)."""
    import polars as pl

    return pl.DataFrame(
        {"name": [], "self": [], "total": []},
        schema={"name": pl.String, "self": pl.Int64, "total": pl.Int64},
    )


def stack_table(weights: Mapping[str, float], roots: int = 0) -> pl.DataFrame:
    """Stacks as a polars frame: `frames` (list of names, root first, without the first `roots`
    frames) and `value`; stacks with no frame left are dropped."""
    import polars as pl

    stacks = utf8_all(weights)
    values = list(weights.values())
    dtype = pl.Int64 if all(type(v) is int for v in values) else pl.Float64
    table = pl.DataFrame(
        {"stack": stacks, "value": values},
        schema={"stack": pl.String, "value": dtype},
    ).select(pl.col("stack").str.split(";").alias("frames"), "value")
    if roots > 0:
        table = table.select(pl.col("frames").list.slice(roots), "value").filter(pl.col("frames").list.len() > 0)
    return table


def _mapped(table: pl.DataFrame, mapper: Callable[[str], str]) -> pl.DataFrame:
    """`table` with every frame name replaced by `mapper(name)` (evaluated once per distinct name)."""
    import polars as pl

    names = table.select(pl.col("frames").explode().unique()).to_series().to_list()
    mapping = {n: mapper(n) for n in names if n is not None}
    return table.with_columns(
        pl.col("frames").list.eval(pl.element().replace_strict(mapping, return_dtype=pl.String))
    )


def aggregate(
    weights: Mapping[str, float],
    by: str = "function",
    dso_map: Mapping[str, str] | None = None,
    roots: int = 0,
) -> pl.DataFrame:
    """Self and total weight per function (or dso, or comm): columns `name`, `self`, `total`.

    The first `roots` frames of every stack hold the comm/PID/TID, not code: they are no function
    or dso (`by="comm"` reads the process from the first frame). Rows are sorted by name; integer
    weights give integer sums.
    """
    import polars as pl

    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    if not weights:
        return _empty()
    table = stack_table(weights, 0 if by == "comm" else roots)
    if table.height == 0:
        return _empty()
    if by == "comm":
        root_frames = table.select(pl.col("frames").list.first().alias("root"), "value")
        names = root_frames.select(pl.col("root").unique()).to_series().to_list()
        mapping = {n: comm_of(n) for n in names}
        out = (
            root_frames.with_columns(pl.col("root").replace_strict(mapping, return_dtype=pl.String).alias("name"))
            .group_by("name")
            .agg(pl.col("value").sum().alias("self"))
            .with_columns(pl.col("self").alias("total"))
        )
        return out.sort("name")
    if by == "dso":
        # the table's names are utf8_safe: so are the map's names and what it maps them to
        known = {utf8_safe(k): utf8_safe(v) for k, v in dso_map.items()} if dso_map else None
        table = _mapped(table, lambda f: utf8_safe(dso_of(f, known)))
        # the root (process) frame and frames of unknown origin would make `[unknown]` contain
        # everything: they count only where they are the leaf
        return (
            _self_total(table)
            .with_columns(
                pl.when(pl.col("name") == UNKNOWN_DSO).then(pl.col("self")).otherwise(pl.col("total")).alias("total")
            )
            .filter(pl.col("total") != 0)
        )
    return _self_total(table)


def sums_frame(names: list[str], selfs: list[int], totals: list[int]) -> pl.DataFrame:
    """`name`, `self`, `total` columns as `aggregate` gives them for integer weights."""
    import polars as pl

    return pl.DataFrame(
        {"name": names, "self": selfs, "total": totals},
        schema={"name": pl.String, "self": pl.Int64, "total": pl.Int64},
    )


def heaviest(profile: Profile, by: str, sort: str, limit: int, roots: int = 0) -> tuple[pl.DataFrame, int] | None:
    """The first `limit` rows (all when `limit` <= 0) of `aggregate` by `sort` (ties by the other
    sum, then by name), in that order, and how many rows `aggregate` has in all: summed by the
    native core in the stack table of a folded file, without a Python object per stack or per
    function not shown; None when the profile's stacks are not in a table the core takes (use
    `aggregate`, the reference)."""
    import polars as pl

    native = native_core()
    table = profile.table if isinstance(profile, LazyProfile) else None
    if native is None or table is None or by not in ("function", "comm"):
        return None
    if by == "comm":  # per root frame, then per process name (few of them)
        found = native.table_top(table, "root", 0, True, 0)
        if found is None:
            return None
        names, selfs, _, _ = found
        frame = (
            sums_frame([comm_of(n) for n in names], selfs, selfs)
            .group_by("name")
            .agg(pl.col("self").sum(), pl.col("total").sum())
        )
        other = "total" if sort == "self" else "self"
        frame = frame.sort([sort, other, "name"], descending=[True, True, False])
        return (frame.head(limit) if limit > 0 else frame), frame.height
    found = heaviest_rows(profile, by, sort, limit, roots)
    if found is None:
        return None
    names, selfs, totals, count = found
    return sums_frame(names, selfs, totals), count


def heaviest_rows(
    profile: Profile, by: str, sort: str, limit: int, roots: int = 0
) -> tuple[list[str], list[int], list[int], int] | None:
    """`heaviest`'s rows by function as lists (names, selfs, totals) and how many rows there are
    in all, without polars; None when the native stack table does not give them (by dso or comm,
    no table, or one the core does not take)."""
    native = native_core()
    table = profile.table if isinstance(profile, LazyProfile) else None
    if native is None or table is None or by != "function":
        return None
    return native.table_top(table, "function", roots, sort == "self", limit)


def _self_total(table: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    leaf = (
        table.select(pl.col("frames").list.last().alias("name"), "value")
        .group_by("name")
        .agg(pl.col("value").sum().alias("self"))
    )
    total = (
        table.select(pl.col("frames").list.unique().alias("name"), "value")
        .explode("name")
        .group_by("name")
        .agg(pl.col("value").sum().alias("total"))
    )
    return (
        total.join(leaf, on="name", how="left")
        .select("name", pl.col("self").fill_null(0), "total")
        .sort("name")
    )


def pattern_totals(table: pl.DataFrame, pattern: re.Pattern[str]) -> tuple[float, float]:
    """(self, total) of every frame matching `pattern` taken together, in a `stack_table`: self is
    the weight of stacks whose leaf matches, total of stacks with any matching frame (once each)."""
    import polars as pl

    if table.height == 0:
        return 0.0, 0.0
    names = table.select(pl.col("frames").explode().unique()).to_series().to_list()
    matching = [n for n in names if n is not None and pattern.search(n)]
    if not matching:
        return 0.0, 0.0
    hits = table.select(
        pl.col("frames").list.last().is_in(matching).alias("leaf"),
        pl.col("frames").list.eval(pl.element().is_in(matching)).list.any().alias("any"),
        "value",
    )
    sums = hits.select(
        pl.col("value").filter(pl.col("leaf")).sum().alias("self"),
        pl.col("value").filter(pl.col("any")).sum().alias("total"),
    ).row(0)
    return float(sums[0] or 0.0), float(sums[1] or 0.0)
