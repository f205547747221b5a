"""Differences between two profiles: stacks aligned side by side, and per-function changes.

`diff_profiles(before, after)` aligns every stack of either profile (a stack missing on one side has
0 there). Optionally BEFORE is scaled to AFTER's total (`normalize`), because two captures rarely
have the same number of samples. From the aligned stacks come `difffolded.pl`'s two-column folded
text and the table of the functions whose share changed most.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from foldkit.analysis.defaults import DEFAULT_DIFF_LIMIT, DIFF_SORT_CHOICES
from foldkit.analysis.functions import BY_CHOICES, aggregate
from foldkit.analysis.tables import Column, Table, choose_format, suffix_format
from foldkit.errors import UsageError
from foldkit.outputs import is_stdout
from foldkit.profile import Profile, Weight, format_weight, merge_profiles, root_frame_count


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


def diff_profiles(before: Profile, after: Profile, normalize: bool = False) -> StackDiff:
    """Align `before` and `after` stack by stack; with `normalize`, scale BEFORE to AFTER's total."""
    bt, at = float(before.total), float(after.total)
    scale = at / bt if normalize and bt and at else 1.0
    # canonical order on both sides, so float sums downstream do not depend on how the inputs
    # were folded (threads, workers, cluster) or on the process's string hashing
    weights: dict[str, Weight] = dict(before.items())
    if scale != 1.0:
        weights = {s: w * scale for s, w in weights.items()}
    unit = after.unit if after.unit == before.unit else f"{before.unit} -> {after.unit}"
    return StackDiff(
        before=weights,
        after=dict(after.items()),
        before_total=bt,
        after_total=at,
        scale=scale,
        normalized=scale != 1.0,
        unit=unit,
        integral=_integral(before) and _integral(after),
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


def function_changes(diff: StackDiff, by: str = "function") -> pl.DataFrame:
    """Per function (dso, comm): self and total weights of both sides, their shares of each side's
    total in percent, and the changes (`d_self_pp`, `d_total_pp`; `d_self` in AFTER's units)."""
    if by not in BY_CHOICES or by == "dso":
        raise UsageError("a diff groups by function or comm")
    before = aggregate(diff.before, by, roots=diff.roots).rename({"self": "self_before", "total": "total_before"})
    after = aggregate(diff.after, by, roots=diff.roots).rename({"self": "self_after", "total": "total_after"})
    joined = before.join(after, on="name", how="full", coalesce=True).fill_null(0)
    bt = sum(diff.before.values())
    at = sum(diff.after.values())
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


def changes_table(
    diff: StackDiff, sort: str = "self", limit: int = DEFAULT_DIFF_LIMIT, by: str = "function"
) -> Table:
    """The functions whose share changed most (by |change in `sort` share|), as a table."""
    if sort not in DIFF_SORT_CHOICES:
        raise UsageError(f"--sort must be one of {', '.join(DIFF_SORT_CHOICES)}, not {sort!r}")
    frame = function_changes(diff, by)
    key = f"d_{sort}_pp"
    frame = frame.with_columns(pl.col(key).abs().alias("_abs")).sort(
        ["_abs", "name"], descending=[True, False]
    ).drop("_abs")
    count = frame.height
    if limit > 0:
        frame = frame.head(limit)
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
