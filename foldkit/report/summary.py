"""`summary.json` and `summary.parquet`: one row per capture, for analysis outside the report.

Text is stored as the pages show it (`visible()`: bytes that were not UTF-8 as `\\xNN`), so both
files are valid UTF-8 whatever the captures held.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

from foldkit.report.result import CaptureResult
from foldkit.text import utf8_all, utf8_json, utf8_safe, visible, visible_lines


def schema() -> dict[str, Any]:
    """Columns of summary.parquet and their types (summary.json rows have the same keys, plus the
    top functions and regressions as objects); a function so that polars is imported only when
    the summary is written (the report process runs without it while its workers work)."""
    import polars as pl

    return {
        "name": pl.String,
        "path": pl.String,
        "page": pl.String,
        "status": pl.String,
        "error": pl.String,
        "format": pl.String,
        "compression": pl.String,
        "event": pl.String,
        "unit": pl.String,
        "weight": pl.Float64,
        "samples": pl.Int64,
        "stacks": pl.Int64,
        "time_start": pl.Float64,
        "time_end": pl.Float64,
        "time_span_s": pl.Float64,
        "top_functions": pl.List(pl.String),
        "top_self_pct": pl.List(pl.Float64),
        "warnings": pl.List(pl.String),
        "is_baseline": pl.Boolean,
        "check_passed": pl.Boolean,
        "check_verdict": pl.String,
        "check_error": pl.String,
        "regressions": pl.List(pl.String),
        "regressions_pp": pl.List(pl.Float64),
        "seconds": pl.Float64,
    }


def _text(value: str | None) -> str | None:
    return None if value is None else visible(value)


def _message(value: str | None) -> str | None:
    """A message as the pages show it, its line breaks kept as `\\n` (not `␊`)."""
    return None if value is None else visible_lines(value)


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def row(r: CaptureResult, page: str) -> dict[str, Any]:
    """The flat summary row of one capture (`page`: its page, relative to the report)."""
    check = r.check
    return {
        "name": visible(r.name),
        "path": visible(r.path),
        "page": page,
        "status": r.status,
        "error": _message(r.error),
        "format": r.format,
        "compression": r.compression,
        "event": _text(r.event),
        "unit": r.unit,
        "weight": _finite(r.weight),
        "samples": r.samples,
        "stacks": r.stacks,
        "time_start": _finite(r.time_start),
        "time_end": _finite(r.time_end),
        "time_span_s": r.time_span,
        "top_functions": [visible(t.name) for t in r.top],
        "top_self_pct": [t.self_pct for t in r.top],
        "warnings": [visible_lines(w) for w in r.warnings],
        "is_baseline": r.is_baseline,
        "check_passed": None if check is None else check.passed,
        "check_verdict": None if check is None else visible(check.verdict),
        "check_error": None if check is None else _message(check.error),
        "regressions": [] if check is None else [visible(g.name) for g in check.regressions],
        "regressions_pp": [] if check is None else [_finite(g.delta_pp) for g in check.regressions],
        "seconds": round(r.seconds, 3),
    }


def to_json(rows: Sequence[dict[str, Any]], meta: dict[str, Any], results: Sequence[CaptureResult]) -> bytes:
    """summary.json: the report's metadata and `captures` (one object per capture, with its top
    functions and regressions spelled out)."""
    captures = []
    for r, flat in zip(results, rows, strict=True):
        doc = dict(flat)
        doc["top"] = [{"name": visible(t.name), "self": t.self_weight, "self_pct": t.self_pct} for t in r.top]
        doc["regressions"] = [] if r.check is None else [
            {
                "name": visible(g.name),
                "measure": g.measure,
                "baseline_pct": g.base_pct,
                "capture_pct": g.cand_pct,
                "delta_pp": g.delta_pp,
                "p_adjusted": _finite(g.p_adjusted),
            }
            for g in r.check.regressions
        ]
        captures.append(doc)
    doc = {**meta, "captures": captures}
    return utf8_json(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n")


def _utf8_value(value: Any) -> Any:
    """A summary value with its text (and lists of text) made `utf8_safe` for polars."""
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, list) and any(isinstance(v, str) for v in value):
        return utf8_all(value)
    return value


def to_parquet(rows: Sequence[dict[str, Any]]) -> bytes:
    """summary.parquet: the flat rows."""
    import polars as pl

    safe = [{k: _utf8_value(v) for k, v in row.items()} for row in rows]
    columns = schema()
    frame = pl.from_dicts(safe, schema=columns) if safe else pl.DataFrame(schema=columns)
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()
