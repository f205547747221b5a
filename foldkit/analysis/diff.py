"""Differences between two profiles: stacks aligned side by side, and per-function changes.

`diff_profiles(before, after)` aligns every stack of either profile (a stack missing on one side has
0 there). Optionally BEFORE is scaled to AFTER's total (`normalize`), because two captures rarely
have the same number of samples. From the aligned stacks come `difffolded.pl`'s two-column folded
text and the table of the functions whose share changed most.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from foldkit.analysis.defaults import DEFAULT_DIFF_LIMIT, DIFF_SORT_CHOICES
from foldkit.analysis.tables import Column, Rows, Table, choose_format, suffix_format
from foldkit.errors import UsageError
from foldkit.native import native_core
from foldkit.outputs import is_stdout
from foldkit.profile import (
    LazyProfile,
    Profile,
    StackTable,
    Weight,
    format_weight,
    merge_profiles,
    root_frame_count,
)

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    import polars as pl

    from foldkit.render import RenderOptions
    from foldkit.render.diffgraph import PageWriter


@dataclass
class StackDiff:
    """Two profiles aligned stack by stack. `before` is already scaled by `scale` when normalised."""

    before: dict[str, Weight]
    after: dict[str, Weight]
    before_total: float  # as captured (unscaled)
    after_total: float
    scale: float = 1.0
    normalized: bool = False
    unit: str = "samples"
    integral: bool = True  # both inputs had integer weights
    before_sources: list[str] = field(default_factory=list)
    after_sources: list[str] = field(default_factory=list)
    #: Leading frames of every stack that hold comm/PID/TID on both sides (no function).
    roots: int = 0
    #: BEFORE as captured when `before` is scaled and both sides are integral: function sums are
    #: made of its integers, then scaled once (as the native core makes them).
    raw_before: dict[str, Weight] | None = None

    def stacks(self) -> list[str]:
        """Every stack of either side, in canonical (byte-wise) order."""
        keys = self.before.keys() | self.after.keys()
        return sorted(keys, key=lambda s: s.encode("utf-8", "surrogateescape"))

    def delta(self) -> dict[str, Weight]:
        """AFTER minus (scaled) BEFORE, per stack."""
        b, a = self.before, self.after
        return {s: a.get(s, 0) - b.get(s, 0) for s in self.stacks()}

    def __repr__(self) -> str:
        """One line (as `Profile` and `CheckResult`): stacks and totals of each side, not every stack."""
        scaled = f", before scaled by {self.scale:.4g}" if self.normalized else ""
        sources = " from " + ", ".join(self.before_sources + self.after_sources) if self.before_sources or self.after_sources else ""
        return (
            f"<StackDiff: {len(self.before.keys() | self.after.keys()):,} stacks ({len(self.before):,} before, "
            f"{len(self.after):,} after), total {format_weight(self.before_total)} -> {format_weight(self.after_total)} "
            f"{self.unit}{scaled}{sources}>"
        )


def _integral(profile: Profile) -> bool:
    return all(isinstance(w, int) for w in profile.weights.values())


def output_kind(
    path: str | os.PathLike[str] | None,
    folded: bool = False,
    csv: bool = False,
    json: bool = False,
    parquet: bool = False,
) -> str:
    """What a diff writes: `svg`, `html`, `folded`, `pprof`, or a table format (`text`, `csv`, `json`, `parquet`),
    from the flags or else the output name's suffix."""
    flagged = choose_format(None, (folded, "folded"), (csv, "csv"), (json, "json"), (parquet, "parquet"))
    by_name = None if is_stdout(path) else _kind_by_name(path)  # type: ignore[arg-type]
    if folded or csv or json or parquet:
        if by_name not in (None, flagged):
            raise UsageError(f"--{flagged} contradicts the output name {path} ({by_name}); give one or the other")
        return flagged
    if is_stdout(path):
        return "text"
    if by_name is None:
        raise UsageError(
            f"{path}: cannot tell the output format from the name; use .svg (differential flame "
            "graph), .html (differential viewer), .folded (two columns), .pb.gz/.pprof (pprof, -diff_base form), "
            ".txt, .csv, .json or .parquet (table)"
        )
    return by_name


def _kind_by_name(path: str | os.PathLike[str]) -> str | None:
    name = os.fspath(path).lower()
    for comp in (".gz", ".zst"):
        name = name.removesuffix(comp)
    if name.endswith(".svg"):
        return "svg"
    if name.endswith((".html", ".htm")):
        return "html"
    if name.endswith((".folded", ".collapsed")):
        return "folded"
    if name.endswith((".pb", ".pprof")):
        return "pprof"
    return suffix_format(path)


def _unit(before: Profile, after: Profile) -> str:
    return after.unit if after.unit == before.unit else f"{before.unit} -> {after.unit}"


def diff_profiles(before: Profile, after: Profile, normalize: bool = False) -> StackDiff:
    """Align `before` and `after` stack by stack; with `normalize`, scale BEFORE to AFTER's total."""
    bt, at = float(before.total), float(after.total)
    scale = _scale(before, after, normalize)
    # canonical order on both sides, so float sums downstream do not depend on how the inputs
    # were folded (threads, workers, cluster) or on the process's string hashing
    weights: dict[str, Weight] = dict(before.items())
    if scale != 1.0:
        weights = {s: w * scale for s, w in weights.items()}
    unit = _unit(before, after)
    integral = _integral(before) and _integral(after)
    return StackDiff(
        raw_before=dict(before.items()) if scale != 1.0 and integral else None,
        before=weights,
        after=dict(after.items()),
        before_total=bt,
        after_total=at,
        scale=scale,
        normalized=scale != 1.0,
        unit=unit,
        integral=integral,
        before_sources=list(before.sources),
        after_sources=list(after.sources),
        roots=min(root_frame_count(before.meta), root_frame_count(after.meta)),
    )


def difffolded_lines(diff: StackDiff, order: list[str] | None = None) -> list[str]:
    """`stack before after` lines, sorted, as `difffolded.pl` writes them (a missing side is 0).

    Integer inputs stay integers: a normalised BEFORE is rounded to the nearest integer (where
    `difffolded.pl -n` truncates).
    """
    b, a = diff.before, diff.after
    stacks = diff.stacks() if order is None else order
    if diff.integral:
        return [f"{s} {round(b.get(s, 0))} {a.get(s, 0)}" for s in stacks]
    return [f"{s} {format_weight(b.get(s, 0))} {format_weight(a.get(s, 0))}" for s in stacks]


def as_profile(diff: StackDiff, event: str | None = None) -> Profile:
    """The diff as a profile of AFTER's stacks with `before` (scaled when normalised): what a
    two-column folded file reads as, and what the pprof export writes in `-diff_base` form."""
    return Profile(
        weights=dict(diff.after),
        before=dict(diff.before),
        unit=diff.unit,
        event=event,
        sources=diff.before_sources + diff.after_sources,
    )


def difffolded_bytes(diff: StackDiff) -> bytes:
    """The two-column folded text as bytes (non-UTF-8 input bytes restored)."""
    # valid UTF-8 sorts the same by code point as by bytes, so the plain sort is canonical unless a
    # stack carries surrogate-escaped bytes, which the strict encode below detects
    order = sorted(diff.before.keys() | diff.after.keys())
    if not order:
        return b""
    text = "\n".join(difffolded_lines(diff, order)) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join(line + "\n" for line in difffolded_lines(diff))
        return text.encode("utf-8", "surrogateescape")


def table_difffolded(before: Profile, after: Profile) -> bytes | None:
    """`difffolded_bytes(diff_profiles(before, after))` (not normalised) written by the native core
    from the stack tables of two folded files, without a Python object per stack; None when a
    side's stacks are not in a table the core takes (use `difffolded_bytes`, the reference)."""
    write = table_difffolded_writer(before, after)
    if write is None:
        return None
    out = io.BytesIO()
    write(out)
    return out.getvalue()


def table_difffolded_writer(before: Profile, after: Profile) -> Callable[[BinaryIO], None] | None:
    """`table_difffolded` as a function that writes the text to a binary file a piece at a time
    (the pieces made on every core while the file takes the ones before; the text is never held
    whole); None when a side's stacks are not in a table the core takes."""
    native = native_core()
    tables = _tables(before, after)
    if native is None or tables is None:
        return None
    old, new = tables
    if not native.table_difffolded_write(old, new):
        return None

    def write(out: BinaryIO) -> None:
        native.table_difffolded_write(old, new, out)

    return write


def _tables(before: Profile, after: Profile) -> tuple[StackTable, StackTable] | None:
    """Both sides' native stack tables, or None when the core is off or a side is not in one."""
    tables = [p.table if isinstance(p, LazyProfile) else None for p in (before, after)]
    if native_core() is None or tables[0] is None or tables[1] is None:
        return None
    return tables[0], tables[1]


def _scale(before: Profile, after: Profile, normalize: bool) -> float:
    """What BEFORE's weights are multiplied by: AFTER's total over BEFORE's when normalising."""
    bt, at = float(before.total), float(after.total)
    return at / bt if normalize and bt and at else 1.0


def table_diff_svg(
    before: Profile,
    after: Profile,
    normalize: bool,
    basis: str,
    options: RenderOptions,
    color_by: str,
) -> bytes | None:
    """`render_diff(diff_profiles(before, after, normalize), basis, options, color_by=color_by)`
    drawn from the stack tables of folded files (one side may be a small dict), without a Python
    object per stack of a table; None when no side is in a table the core takes, or for what only
    the dicts draw (`--basis union`, a scaled `--basis before`, `--reverse`)."""
    from foldkit.render.diffgraph import render_table_diff

    sides = _sides(before, after)
    if sides is None:
        return None
    scale = _scale(before, after, normalize)
    return render_table_diff(*sides, scale, _unit(before, after), basis, options, color_by=color_by)


def _sides(before: Profile, after: Profile) -> tuple[StackTable | dict[str, Weight], StackTable | dict[str, Weight]] | None:
    """Each side's native stack table, or its dict when it is not in one; None when neither side
    is in a table (or the core is off): the reference draws those."""
    tables = [p.table if isinstance(p, LazyProfile) else None for p in (before, after)]
    if native_core() is None or tables == [None, None]:
        return None
    old, new = (t if t is not None else p.weights for t, p in zip(tables, (before, after), strict=True))
    return old, new


def table_diff_html(
    before: Profile,
    after: Profile,
    normalize: bool,
    basis: str | None,
    options: RenderOptions,
    color_by: str,
) -> PageWriter | None:
    """`diff_html(diff_profiles(before, after, normalize), basis, options, color_by)` with the
    stacks of folded files left in their native tables for the viewer's tree (a normalised BEFORE
    scaled there): the page, its tree built, written to a binary file when called; None when no
    side is in a table (or the core is off)."""
    from foldkit.render.diffgraph import table_diff_html as page

    sides = _sides(before, after)
    if sides is None:
        return None
    roots = min(root_frame_count(before.meta), root_frame_count(after.meta))
    scale = _scale(before, after, normalize)
    return page(*sides, scale, _unit(before, after), roots, basis, options, color_by)


def function_changes(diff: StackDiff, by: str = "function") -> pl.DataFrame:
    """Per function (dso, comm): self and total weights of both sides, their shares of each side's
    total in percent, and the changes (`d_self_pp`, `d_total_pp`; `d_self` in AFTER's units)."""
    from foldkit.analysis.functions import BY_CHOICES, aggregate
    if by not in BY_CHOICES or by == "dso":
        raise UsageError("a diff groups by function or comm")
    if diff.raw_before is not None:  # integer sums, scaled once
        before = _scaled(aggregate(diff.raw_before, by, roots=diff.roots), diff.scale)
        bt: Weight = float(sum(diff.raw_before.values())) * diff.scale
    else:
        before = aggregate(diff.before, by, roots=diff.roots)
        bt = sum(diff.before.values())
    after = aggregate(diff.after, by, roots=diff.roots)
    return _changes(before, after, bt, sum(diff.after.values()))


def _scaled(sums: pl.DataFrame, scale: float) -> pl.DataFrame:
    """`aggregate`'s sums of an unscaled BEFORE, scaled."""
    import polars as pl

    return sums.with_columns(pl.col("self") * scale, pl.col("total") * scale)


def _changes(before: pl.DataFrame, after: pl.DataFrame, bt: Weight, at: Weight) -> pl.DataFrame:
    """`function_changes` of the per-function sums of each side, whose weights sum to `bt`, `at`."""
    import polars as pl

    before = before.rename({"self": "self_before", "total": "total_before"})
    after = after.rename({"self": "self_after", "total": "total_after"})
    joined = before.join(after, on="name", how="full", coalesce=True).fill_null(0)
    bs = 100.0 / bt if bt else 0.0
    as_ = 100.0 / at if at else 0.0
    return joined.select(
        "name",
        "self_before",
        "self_after",
        (pl.col("self_after") - pl.col("self_before")).alias("d_self"),
        (pl.col("self_before") * bs).alias("self_before_pct"),
        (pl.col("self_after") * as_).alias("self_after_pct"),
        (pl.col("self_after") * as_ - pl.col("self_before") * bs).alias("d_self_pp"),
        "total_before",
        "total_after",
        (pl.col("total_before") * bs).alias("total_before_pct"),
        (pl.col("total_after") * as_).alias("total_after_pct"),
        (pl.col("total_after") * as_ - pl.col("total_before") * bs).alias("d_total_pp"),
    )


def _largest(frame: pl.DataFrame, sort: str, limit: int) -> pl.DataFrame:
    """The first `limit` rows (all when <= 0) of `function_changes` by |change of `sort` share|."""
    import polars as pl

    key = f"d_{sort}_pp"
    frame = frame.with_columns(pl.col(key).abs().alias("_abs")).sort(["_abs", "name"], descending=[True, False]).drop("_abs")
    return frame.head(limit) if limit > 0 else frame


def changes_table(
    diff: StackDiff, sort: str = "self", limit: int = DEFAULT_DIFF_LIMIT, by: str = "function"
) -> Table:
    """The functions whose share changed most (by |change in `sort` share|), as a table."""
    if sort not in DIFF_SORT_CHOICES:
        raise UsageError(f"--sort must be one of {', '.join(DIFF_SORT_CHOICES)}, not {sort!r}")
    frame = function_changes(diff, by)
    count = frame.height
    return _changes_table(_largest(frame, sort, limit), count, diff, sort, by)


def table_changes(before: Profile, after: Profile, normalize: bool, sort: str = "self", limit: int = DEFAULT_DIFF_LIMIT) -> Table | None:
    """`changes_table(diff_profiles(before, after, normalize), sort, limit)` summed by the native
    core in the stack tables of two folded files, without a Python object per stack or per
    function not shown; None when a side's stacks are not in a table the core takes (use
    `changes_table`, the reference)."""
    if sort not in DIFF_SORT_CHOICES:
        raise UsageError(f"--sort must be one of {', '.join(DIFF_SORT_CHOICES)}, not {sort!r}")
    native = native_core()
    tables = _tables(before, after)
    if native is None or tables is None:
        return None
    raw_bt, at = before.total, after.total
    scale = _scale(before, after, normalize)
    bt: Weight = float(raw_bt) * scale if scale != 1.0 else raw_bt
    roots = min(root_frame_count(before.meta), root_frame_count(after.meta))
    bs = 100.0 / bt if bt else 0.0
    as_ = 100.0 / at if at else 0.0
    found = native.table_changes(*tables, roots, scale, bs, as_, sort == "self", limit)
    if found is None:
        return None
    names, self_before, total_before, self_after, total_after, count = found
    frame = _changes_rows(names, (self_before, total_before), (self_after, total_after), scale, (bs, as_), sort, limit)
    shape = StackDiff(
        before={},
        after={},
        before_total=float(raw_bt),
        after_total=float(at),
        scale=scale,
        normalized=scale != 1.0,
        unit=_unit(before, after),
        before_sources=list(before.sources),
        after_sources=list(after.sources),
        roots=roots,
    )
    return _changes_table(frame, count, shape, sort, "function")


def _changes_rows(
    names: list[str],
    before: tuple[list[int], list[int]],
    after: tuple[list[int], list[int]],
    scale: float,
    shares: tuple[float, float],
    sort: str,
    limit: int,
) -> Rows:
    """`_largest(_changes(...), sort, limit)` of per-function integer sums (self, total) of both
    sides (BEFORE's scaled by `scale` unless 1.0; `shares`: percent per unit of each side), as the
    rows of Python values polars would hold, without loading polars (`table_changes`)."""
    bs, as_ = shares
    (sb, tb), (sa, ta) = ([[v * scale for v in sums] for sums in before] if scale != 1.0 else before), after
    rows = [
        (n, b, a, a - b, b * bs, a * as_, a * as_ - b * bs, bt_, at_, bt_ * bs, at_ * as_, at_ * as_ - bt_ * bs)
        for n, b, a, bt_, at_ in zip(names, sb, sa, tb, ta, strict=True)
    ]
    change = (lambda row: row[6]) if sort == "self" else (lambda row: row[11])
    rows.sort(key=lambda row: (-abs(change(row)), row[0]))
    if limit > 0:
        rows = rows[:limit]
    weight = "float" if scale != 1.0 else "int"
    schema = {
        "name": "text",
        "self_before": weight,
        "self_after": "int",
        "d_self": weight,
        "self_before_pct": "float",
        "self_after_pct": "float",
        "d_self_pp": "float",
        "total_before": weight,
        "total_after": "int",
        "total_before_pct": "float",
        "total_after_pct": "float",
        "d_total_pp": "float",
    }
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return Rows({name: list(column) for name, column in zip(schema, columns, strict=True)}, schema)


def _changes_table(frame: pl.DataFrame | Rows, count: int, diff: StackDiff, sort: str, by: str) -> Table:
    """The table of `frame` (the rows shown, of `count`), titled from `diff`'s totals."""
    columns = [
        Column("name", by, "text", "left"),
        Column("self_before_pct", "self before", "percent"),
        Column("self_after_pct", "self after", "percent"),
        Column("d_self_pp", "Δ self", "pp"),
        Column("total_before_pct", "total before", "percent"),
        Column("total_after_pct", "total after", "percent"),
        Column("d_total_pp", "Δ total", "pp"),
    ]
    title = (
        f"{frame.height} of {count} {by}s with the largest change in {sort} share "
        f"(before {diff.before_total:,.0f}, after {diff.after_total:,.0f} {diff.unit})"
    )
    meta = {
        "by": by,
        "sort": sort,
        "unit": diff.unit,
        "before_total": diff.before_total,
        "after_total": diff.after_total,
        "normalized": diff.normalized,
        "scale": diff.scale,
        "before_sources": diff.before_sources,
        "after_sources": diff.after_sources,
        "rows_total": count,
    }
    return Table(frame, columns, title, meta)


def check_graph(baseline: Sequence[Profile], candidate: Sequence[Profile]) -> bytes:
    """`foldkit check --svg`: the differential graph of the merged baseline against the merged
    candidate (BEFORE normalised, union basis so removed paths stay visible)."""
    from foldkit.render import RenderOptions
    from foldkit.render.diffgraph import render_diff

    diff = diff_profiles(merge_profiles(baseline), merge_profiles(candidate), normalize=True)
    options = RenderOptions(title="foldkit check: baseline → candidate")
    return render_diff(diff, "union", options)
