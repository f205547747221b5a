"""Histograms of a capture (`foldkit.ingest.histogram`): a summary per histogram (events and
percentiles, estimated within buckets), its bucket table, and an SVG bar chart made with lxml."""

from __future__ import annotations

from collections.abc import Sequence

from foldkit.ingest.histogram import HISTOGRAMS, Bucket, Histogram, percentile
from foldkit.profile import Profile

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:  # polars is loaded when a histogram is there (not for `top` of stacks)
    import polars as pl

#: Percentiles in the summary.
PERCENTILES = (0.5, 0.9, 0.99)
SVG_NS = "http://www.w3.org/2000/svg"


def histograms_of(profile: Profile) -> list[Histogram]:
    """The histograms a profile carries ([] for a stack profile)."""
    return list(profile.meta.get(HISTOGRAMS, ()))


def summary(profile: Profile) -> pl.DataFrame | None:
    """One row per histogram: name, unit, events, p50, p90, p99, max (the top of the highest
    non-empty bucket); None when the profile has no histograms."""
    rows = []
    for name, unit, buckets in histograms_of(profile):
        nonempty = [b for b in buckets if b[2]]
        row: dict[str, object] = {"histogram": name, "unit": unit, "events": sum(c for _, _, c in buckets)}
        for q in PERCENTILES:
            row[f"p{round(q * 100)}"] = percentile(buckets, q)
        row["max"] = float(max(b[1] for b in nonempty) - 1) if nonempty else None
        rows.append(row)
    if not rows:
        return None
    import polars as pl

    return pl.DataFrame(rows)


def summary_text(frame: pl.DataFrame) -> str:
    """The summary as aligned text (what `foldkit top` prints before its table)."""
    def fmt(v: object) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.1f}"
        return f"{v:,}" if isinstance(v, int) else str(v)

    header = list(frame.columns)
    cells = [[fmt(v) for v in row] for row in frame.iter_rows()]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    lines.append("-+-".join("-" * w for w in widths))
    for r in cells:
        lines.append(" | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines) + "\n"


def bucket_table(buckets: Sequence[Bucket]) -> pl.DataFrame:
    """low, high (exclusive), count, share % and cumulative % of each bucket."""
    import polars as pl

    total = sum(c for _, _, c in buckets) or 1
    frame = pl.DataFrame({"low": [b[0] for b in buckets], "high": [b[1] for b in buckets], "count": [b[2] for b in buckets]})
    return frame.with_columns(
        (pl.col("count") * 100 / total).alias("share %"),
        (pl.col("count").cum_sum() * 100 / total).alias("cumulative %"),
    )


def bar_chart(name: str, unit: str, buckets: Sequence[Bucket], width: int = 640, height: int = 200) -> bytes:
    """An SVG bar chart of the buckets (one bar each, in order), labelled with their low ends."""
    from lxml import etree  # on use: `top` of a histogram capture draws no chart

    svg = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS}, width=str(width), height=str(height + 40), viewBox=f"0 0 {width} {height + 40}")
    etree.SubElement(svg, f"{{{SVG_NS}}}title").text = f"{name} ({unit})" if unit else name
    peak = max((c for _, _, c in buckets), default=0) or 1
    step = width / max(len(buckets), 1)
    for i, (low, high, count) in enumerate(buckets):
        h = count / peak * height
        bar = etree.SubElement(
            svg, f"{{{SVG_NS}}}rect", x=f"{i * step + 1:.1f}", y=f"{height - h:.1f}", width=f"{max(step - 2, 1):.1f}", height=f"{h:.1f}", fill="#e0703a"
        )
        etree.SubElement(bar, f"{{{SVG_NS}}}title").text = f"[{low}, {high}): {count:,}"
        if len(buckets) <= 24 or i % max(len(buckets) // 12, 1) == 0:
            label = etree.SubElement(svg, f"{{{SVG_NS}}}text", x=f"{i * step + step / 2:.1f}", y=str(height + 14), **{"font-size": "10", "text-anchor": "middle"})
            label.text = _short(low)
    if unit:
        axis = etree.SubElement(svg, f"{{{SVG_NS}}}text", x=str(width / 2), y=str(height + 34), **{"font-size": "11", "text-anchor": "middle"})
        axis.text = unit
    return etree.tostring(svg)


def _short(n: int) -> str:
    for suffix, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)
