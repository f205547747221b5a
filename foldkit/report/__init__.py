"""Batch reports: a folder of captures to a static, self-contained, browsable report.

    build_report(["captures/"], "site", ReportOptions(baseline="captures/last-release.perf.zst"))

writes `site/index.html` (one row per capture, sortable), `site/captures/SLUG/` per capture (page,
flame and icicle SVGs, the `top` table as CSV, folded stacks, and against a baseline the
differential SVG and the check as JSON and Markdown), `site/summary.json` and
`site/summary.parquet`. Parts: `discover` (which files), `capture` (one capture, in a worker),
`runner` (workers), `pages`/`html` (lxml-built HTML), `summary`, `site` (atomic replacement),
`progress` (terminal display).
"""

from __future__ import annotations

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from foldkit.report.build import ReportOptions, ReportResult, build_report
    from foldkit.report.result import CaptureResult

#: Names this package gives from its modules, imported on first use: `foldkit check` reads a
#: capture's time span (`foldkit.report.timespan`) without loading the report's pages, the
#: viewer and polars.
_FROM = {
    "ReportOptions": "foldkit.report.build",
    "ReportResult": "foldkit.report.build",
    "build_report": "foldkit.report.build",
    "CaptureResult": "foldkit.report.result",
}


def __getattr__(name: str) -> Any:
    """The names of `_FROM`, from their modules."""
    from foldkit.lazy import attribute

    return attribute(globals(), _FROM, name)


__all__ = ["CaptureResult", "ReportOptions", "ReportResult", "build_report"]
