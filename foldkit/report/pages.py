"""The report's two kinds of page: the index (one row per capture) and a capture's page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lxml import etree

from foldkit.analysis.events import EventTable
from foldkit.analysis.tables import format_number
from foldkit.regression.gate import CheckResult
from foldkit.report.html import (
    Child,
    Column,
    cell,
    el,
    facts,
    href,
    lines,
    link,
    page,
    sortable_table,
    text,
)
from foldkit.report.result import CaptureResult, CheckSummary, Regression

if TYPE_CHECKING:
    import polars as pl

#: Biggest regressions named in an index row.
INDEX_REGRESSIONS = 3
#: Functions in each of the "heaviest by self / by total" lists at the top of a capture's page.
FIRST_SCREEN_ROWS = 10
#: File names at the top of a report.
INDEX = "index.html"
SUMMARY_JSON = "summary.json"
SUMMARY_PARQUET = "summary.parquet"

_STATUS_TEXT = {"ok": "ok", "warning": "warnings", "error": "error"}
_MEASURE = {"total": "inclusive", "self": "self"}
_FILE_LABELS = {
    "viewer": "flame graph viewer (HTML: flame, icicle, sandwich, top table)",
    "flamegraph": "flame graph (SVG)",
    "icicle": "icicle graph (SVG)",
    "top_csv": "top functions, every row (CSV)",
    "folded": "folded stacks (zstd)",
    "diff_viewer": "differential viewer against the baseline (HTML)",
    "diff": "differential flame graph against the baseline (SVG)",
    "check_json": "check against the baseline (JSON)",
    "check_md": "check against the baseline (Markdown)",
}


@dataclass(frozen=True)
class PageContext:
    """What every page says about the report it belongs to."""

    generated: str
    version: str
    baseline: str | None = None
    inputs: tuple[str, ...] = ()
    options: str = ""  # as typed on a command line


@dataclass
class PageData:
    """What a capture's page shows beyond its `CaptureResult`."""

    top_rows: list[tuple[Any, ...]] = field(default_factory=list)
    top_count: int = 0
    checked: CheckResult | None = None
    changes: list[tuple[str, float, float]] = field(default_factory=list)  # (function, Δ self pp, Δ total pp)
    event_tables: list[EventTable] = field(default_factory=list)  # an event-table capture's tables
    histogram_summary: pl.DataFrame | None = None  # a histogram capture: events and percentiles
    histograms: list[tuple[str, str, str, pl.DataFrame]] = field(default_factory=list)  # (name, unit, chart file, buckets)


def _count(value: float | int | None) -> str:
    return "—" if value is None else format_number(value, "weight")


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.3f} s" if value < 100 else f"{value:,.1f} s"


def _footer(context: PageContext) -> etree._Element:
    return el("footer", None, f"Made by foldkit {context.version} on {context.generated}.")


def _check_cell(check: CheckSummary | None) -> etree._Element:
    if check is None:
        return cell("—", sort="")
    if check.passed is None:
        return cell(el("span", {"class": "verdict-na", "title": check.error}, "not checked"), sort="3")
    if check.underpowered:  # passed, but one capture against one baseline can show only large changes
        return cell(el("span", {"class": "verdict-na", "title": check.verdict}, "UNDERPOWERED"), sort="2")
    css = "verdict-pass" if check.passed else "verdict-fail"
    return cell(el("span", {"class": css, "title": check.verdict}, "PASS" if check.passed else "FAIL"), sort="1" if not check.passed else "2")


def _regressions_list(check: CheckSummary | None, limit: int) -> Child:
    if check is None or not check.regressions:
        return None
    first: dict[str, Regression] = {}
    for r in check.regressions:  # culprit first (as `foldkit check`); a function once, by its first row
        first.setdefault(r.name, r)
    shown = list(first.values())[:limit]
    items = [
        el("li", None, el("span", {"class": "mono"}, r.name), f" {r.delta_pp:+.2f} pp ({_MEASURE[r.measure]})")
        for r in shown
    ]
    more = len(first) - len(shown)
    if more > 0:
        items.append(el("li", {"class": "more"}, f"and {more} more"))
    return el("ol", {"class": "top"}, items)


def _status_cell(r: CaptureResult) -> etree._Element:
    rank = {"error": "0", "warning": "1", "ok": "2"}.get(r.status, "3")
    parts: list[Child] = [el("span", {"class": f"status-{r.status}"}, _STATUS_TEXT.get(r.status, r.status))]
    if r.error:
        parts.append(el("div", {"class": "error"}, lines(r.error)))
    elif r.warnings:
        parts.append(el("div", {"class": "warnings", "title": " · ".join(r.warnings)}, f"{len(r.warnings)} warning(s)"))
    return cell(parts, sort=rank)


def index_columns(with_baseline: bool) -> list[Column]:
    """The index table's columns."""
    columns = [
        Column("Capture"),
        Column("Status", title="ok, warnings (hover for them) or error"),
        Column("Format"),
        Column("Event", title="perf event, BCC tool or bpftrace map"),
        Column("Samples", numeric=True),
        Column("Weight", numeric=True, title="sum of the weights, in the capture's unit"),
        Column("Stacks", numeric=True, title="distinct stacks"),
        Column("Time span", numeric=True, title="first to last timestamped sample"),
        Column("Top self functions", sortable=False, title="heaviest functions by self weight, share of the total"),
    ]
    if with_baseline:
        columns += [
            Column("Check", title="foldkit check against the baseline: FAIL, PASS, or not checked"),
            Column("Biggest regressions", sortable=False),
        ]
    return columns


def index_row(r: CaptureResult, captures_dir: str, with_baseline: bool) -> list[etree._Element]:
    """The index row of one capture."""
    page_url = href(captures_dir, r.slug, "index.html")
    name: list[Child] = [link(page_url, r.name)]
    if r.is_baseline:
        name.append(" (baseline)")
    if "flamegraph" in r.files:
        name += [" ", el("small", None, "[", link(href(captures_dir, r.slug, r.files["flamegraph"]), "svg"), "]")]
    top = el("ol", {"class": "top"}, [
        el("li", None, el("span", {"class": "mono"}, t.name), f" {t.self_pct:.1f}%") for t in r.top
    ]) if r.top else None
    weight = None if r.weight is None else f"{_count(r.weight)} {r.unit or ''}".strip()
    row = [
        cell(name, sort=r.name, css="name"),
        _status_cell(r),
        cell(r.format or "—"),
        cell(r.event or "—"),
        cell(_count(r.samples), sort=r.samples, css="num"),
        cell(weight or "—", sort=r.weight, css="num"),
        cell(_count(r.stacks), sort=r.stacks, css="num"),
        cell(_seconds(r.time_span), sort=r.time_span, css="num"),
        cell(top),
    ]
    if with_baseline:
        row += [_check_cell(r.check), cell(_regressions_list(r.check, INDEX_REGRESSIONS))]
    return row


def index_page(
    results: Sequence[CaptureResult],
    skipped: Sequence[CaptureResult],
    context: PageContext,
    captures_dir: str,
) -> bytes:
    """The report's front page."""
    with_baseline = context.baseline is not None
    counts = {s: sum(1 for r in results if r.status == s) for s in ("ok", "warning", "error")}
    summary = f"{len(results)} capture(s): {counts['ok']} ok, {counts['warning']} with warnings, {counts['error']} could not be read"
    if with_baseline:
        failed = sum(1 for r in results if r.regressed)
        summary += f"; {failed} failed the check against the baseline"
    baseline_link: Child = None
    if context.baseline is not None:
        own = next((r for r in results if r.is_baseline), None)
        baseline_link = link(href(captures_dir, own.slug, "index.html"), context.baseline) if own else el("span", {"class": "mono"}, context.baseline)
    header = el(
        "header",
        None,
        el("h1", None, "foldkit report"),
        el("p", {"class": "meta", "id": "summary"}, summary),
        facts([
            ("Generated", context.generated),
            ("foldkit", context.version),
            ("Inputs", el("span", {"class": "mono"}, ", ".join(context.inputs))),
            ("Options", el("span", {"class": "mono"}, context.options)),
            ("Baseline", baseline_link),
            ("Data", [link(SUMMARY_JSON, SUMMARY_JSON), " · ", link(SUMMARY_PARQUET, SUMMARY_PARQUET), " (one row per capture)"]),
        ]),
    )
    body: list[Child] = [header]
    if skipped:
        body.append(el(
            "details",
            {"id": "skipped"},
            el("summary", None, f"{len(skipped)} file(s) skipped: no input format recognises them"),
            el("ul", None, [el("li", None, el("span", {"class": "mono"}, s.name)) for s in skipped]),
        ))
    body.append(el("input", {"id": "filter", "type": "search", "data-table": "captures", "placeholder": "Filter captures", "aria-label": "Filter captures"}))
    rows = [index_row(r, captures_dir, with_baseline) for r in results]
    body.append(sortable_table(index_columns(with_baseline), rows, table_id="captures", sorted_by=0))
    body.append(_footer(context))
    return page("foldkit report", body, description=summary)


def search_link(page_file: str, target: str, name: str) -> etree._Element:
    """A link that opens `page_file` (a viewer) in frame `target` searching for exactly `name`."""
    pattern = "^" + re.escape(text(name)) + "$"
    url = f"{href(page_file)}#search={quote(pattern, safe='')}"
    return el("a", {"href": url, "target": target, "class": "mono", "title": f"find {name} in the graph"}, name)


def _viewer(r: CaptureResult, kind: str, name: str, title: str) -> etree._Element:
    return el("iframe", {"class": "viewer", "name": name, "src": href(r.files[kind]), "title": f"{title} of {r.name}"})


def _heaviest(r: CaptureResult, data: PageData, title: str, share: int) -> etree._Element:
    rows = sorted(data.top_rows, key=lambda row: (-float(row[share]), str(row[0])))[:FIRST_SCREEN_ROWS]
    body = [
        el("tr", None, el("td", {"class": "name"}, search_link(r.files["viewer"], "viewer", str(row[0]))), el("td", {"class": "num"}, f"{float(row[share]):.2f}%"))
        for row in rows
    ]
    head = el("tr", None, el("th", {"scope": "col"}, title), el("th", {"scope": "col", "class": "num"}, "%"))
    return el("table", {"class": "heaviest"}, el("thead", None, head), el("tbody", None, body))


def _overview(r: CaptureResult, data: PageData) -> list[Child]:
    """The first screen: the heaviest functions by self and by total weight (each a search in
    the graph) next to the viewer, which fits the window."""
    if "viewer" not in r.files:
        return []
    lists: list[Child] = []
    if data.top_rows:
        lists = [
            el("h2", {"id": "heaviest"}, "Heaviest functions"),
            _heaviest(r, data, "By self weight", 2),
            _heaviest(r, data, "By total weight", 4),
            el("p", {"class": "meta"}, "Click a name to find it in the graph. ", link("#top", "Every function"), " is below."),
        ]
    return [el("section", {"class": "overview", "id": "overview"}, el("div", {"class": "lists"}, lists), _viewer(r, "viewer", "viewer", "flame graph"))]


def _changes(r: CaptureResult, data: PageData) -> list[Child]:
    """The differential viewer, with the biggest changes above it, each a search in it."""
    if "diff_viewer" not in r.files:
        return []
    out: list[Child] = [el("h2", {"id": "diff"}, "Differential flame graph (red: a frame's own time grew, blue: shrank)")]
    if data.changes:
        items = [
            el("li", None, search_link(r.files["diff_viewer"], "diff-viewer", name), f" self {ds:+.2f} pp, total {dt:+.2f} pp")
            for name, ds, dt in data.changes
        ]
        out += [
            el("p", {"class": "meta"}, "Biggest changes of self share (percentage points of the total); click one to find it in the graph:"),
            el("ol", {"class": "changes", "id": "changes"}, items),
        ]
    out.append(_viewer(r, "diff_viewer", "diff-viewer", "differential flame graph"))
    return out


def _top_section(r: CaptureResult, data: PageData) -> list[Child]:
    if not data.top_rows:
        return []
    unit = r.unit or "samples"
    columns = [
        Column("Function"),
        Column(f"Self ({unit})", numeric=True),
        Column("Self %", numeric=True),
        Column(f"Total ({unit})", numeric=True),
        Column("Total %", numeric=True),
    ]
    rows = [
        [
            cell(el("span", {"class": "mono"}, str(name)), css="name"),
            cell(format_number(s, "weight"), sort=float(s), css="num"),
            cell(format_number(sp, "percent"), sort=float(sp), css="num"),
            cell(format_number(t, "weight"), sort=float(t), css="num"),
            cell(format_number(tp, "percent"), sort=float(tp), css="num"),
        ]
        for name, s, sp, t, tp in data.top_rows
    ]
    note = f"{len(rows):,} of {data.top_count:,} functions: the heaviest by self or by total weight"
    if "top_csv" in r.files:
        note += "; every function is in "
    return [
        el("h2", {"id": "top"}, "Top functions"),
        el("p", None, note, link(r.files["top_csv"], r.files["top_csv"]) if "top_csv" in r.files else None, "."),
        sortable_table(columns, rows, table_id="top-table"),
    ]


def _frame_table(frame: pl.DataFrame, table_id: str) -> etree._Element:
    """A polars frame as a sortable table (numbers right-aligned and sorted as numbers)."""
    schema = frame.schema
    columns = [Column(name, numeric=schema[name].is_numeric()) for name in frame.columns]
    rows = [
        [
            (cell(format_number(v, "weight"), sort=v, css="num") if v is not None else cell("—", css="num"))
            if schema[name].is_numeric()
            else cell(el("span", {"class": "mono"}, str(v)), css="name")
            for name, v in zip(frame.columns, row, strict=True)
        ]
        for row in frame.iter_rows()
    ]
    return sortable_table(columns, rows, table_id=table_id)


def _event_section(data: PageData) -> list[Child]:
    """The tables of an event-table capture (opensnoop, tcplife, …), each sortable."""
    out: list[Child] = []
    for table in data.event_tables:
        out.append(el("h2", {"id": table.id}, table.title))
        if table.frame.is_empty():
            out.append(el("p", {"class": "meta"}, "none"))
            continue
        out.append(_frame_table(table.frame, f"{table.id}-table"))
    return out


def _histogram_section(data: PageData) -> list[Child]:
    """A histogram capture: the summary (events, percentiles) and each histogram's chart and buckets."""
    if data.histogram_summary is None:
        return []
    out: list[Child] = [
        el("h2", {"id": "histograms"}, "Histograms"),
        el("p", {"class": "meta"}, "Percentiles are estimated within buckets (linearly)."),
        _frame_table(data.histogram_summary, "histogram-summary"),
    ]
    for i, (name, unit, chart, buckets) in enumerate(data.histograms, start=1):
        out += [
            el("h3", {"id": f"histogram-{i}"}, f"{name} ({unit})" if unit else name),
            el("img", {"src": href(chart), "alt": f"bar chart of {name}", "class": "histogram"}),
            _frame_table(buckets, f"histogram-{i}-table"),
        ]
    return out


def _check_section(r: CaptureResult, data: PageData) -> list[Child]:
    check = r.check
    if check is None:
        return []
    out: list[Child] = [el("h2", {"id": "check"}, "Against the baseline")]
    if check.passed is None:
        out.append(el("p", {"class": "verdict-na"}, lines(f"Not checked: {check.error}")))
    else:
        css = "verdict-na" if check.underpowered else "verdict-pass" if check.passed else "verdict-fail"
        out.append(el("p", {"class": css}, check.verdict))
    if data.checked is not None:
        c = data.checked
        out.append(facts([
            ("Test", c.method),
            ("Threshold", f"{c.options.max_increase}, alpha {c.options.alpha:g}, {c.tests} tests"),
            ("Samples", f"baseline {c.baseline.samples:,}, this capture {c.candidate.samples:,}"),
            ("Detectable", None if c.detectable_pp is None else f"+{c.detectable_pp:.2f} pp at a 10% share (80% power)"),
        ]))
    if check.regressions:
        columns = [
            Column("Function"), Column("Measure"), Column("Baseline %", numeric=True), Column("This capture %", numeric=True),
            Column("Change (pp)", numeric=True), Column("Adjusted p", numeric=True),
        ]
        rows = [
            [
                cell(el("span", {"class": "mono"}, g.name), css="name"),
                cell(_MEASURE[g.measure]),
                cell(f"{g.base_pct:.2f}%", sort=g.base_pct, css="num"),
                cell(f"{g.cand_pct:.2f}%", sort=g.cand_pct, css="num"),
                cell(f"{g.delta_pp:+.2f}", sort=g.delta_pp, css="num"),
                cell(format_number(g.p_adjusted, "pvalue"), sort=g.p_adjusted, css="num"),
            ]
            for g in check.regressions
        ]
        out.append(sortable_table(columns, rows, table_id="regressions"))
    out += _changes(r, data)
    return out


def capture_page(r: CaptureResult, data: PageData, context: PageContext) -> bytes:
    """The page of one capture: its facts, files, graphs, comparison and top functions."""
    weight = None if r.weight is None else f"{_count(r.weight)} {r.unit or ''}".strip()
    span = None
    if r.time_span is not None:
        span = f"{_seconds(r.time_span)} (timestamps {r.time_start:.6f} to {r.time_end:.6f})"
    status = _STATUS_TEXT.get(r.status, r.status)
    summary = " · ".join(
        x for x in (
            r.format,
            r.event,
            None if r.samples is None else f"{_count(r.samples)} samples",
            weight if r.unit != "samples" else None,
            None if r.stacks is None else f"{_count(r.stacks)} stacks",
            None if r.time_span is None else _seconds(r.time_span),
        ) if x
    )
    body: list[Child] = [
        el("header", None,
           el("p", None, link("../../" + INDEX, "← all captures")),
           el("h1", None, r.name),
           el("p", {"class": "meta", "id": "summary"}, el("span", {"class": f"status-{r.status}"}, status), f" · {summary}" if summary else None)),
    ]
    if r.error:
        body.append(el("p", {"class": "error", "id": "error"}, lines(r.error)))
    body += _event_section(data)
    body += _histogram_section(data)
    body += _overview(r, data)
    if r.warnings:
        body += [el("h2", {"id": "warnings"}, "Warnings"), el("ul", {"class": "warnings"}, [el("li", None, w) for w in r.warnings])]
    body += _check_section(r, data)
    body += _top_section(r, data)
    body += [
        el("h2", {"id": "facts"}, "Capture"),
        facts([
            ("File", el("span", {"class": "mono"}, r.path)),
            ("Status", el("span", {"class": f"status-{r.status}"}, status)),
            ("Format", None if r.format is None else f"{r.format} ({r.compression or 'no'} compression)"),
            ("Event", r.event),
            ("Samples", None if r.samples is None else _count(r.samples)),
            ("Weight", weight),
            ("Distinct stacks", None if r.stacks is None else _count(r.stacks)),
            ("Time span", span),
            ("Baseline", "this capture is the baseline" if r.is_baseline else None),
        ]),
    ]
    files = [k for k in _FILE_LABELS if k in r.files]
    if files:
        body += [
            el("h2", {"id": "files"}, "Files"),
            el("ul", {"class": "files"}, [el("li", None, link(href(r.files[k]), r.files[k]), f" — {_FILE_LABELS[k]}") for k in files]),
        ]
    if r.notes:
        body.append(el("details", None, el("summary", None, "Reading notes"), el("ul", None, [el("li", None, n) for n in r.notes])))
    body.append(_footer(context))
    return page(f"{r.name} — foldkit report", body, description=f"foldkit report page of {r.name}")
