"""Processing one capture (in a worker process): read it, write its files and its page, and return
the small `CaptureResult` the index needs. Whatever goes wrong with the capture becomes the
result's error: one bad capture never stops the others; a file that cannot be written (a full
disk) is an `OutputError` that stops the report.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from foldkit import __version__
from foldkit.analysis.diff import StackDiff, diff_profiles, function_changes
from foldkit.analysis.events import event_tables
from foldkit.analysis.histograms import bar_chart, bucket_table, histograms_of
from foldkit.analysis.histograms import summary as histogram_summary
from foldkit.analysis.sides import same_event
from foldkit.analysis.tables import to_csv
from foldkit.analysis.top import top_table
from foldkit.errors import FoldkitError, InputError, OutputError, UsageError
from foldkit.export.store import store_bytes
from foldkit.ingest import FoldOptions, detect, fold_source
from foldkit.inputs import open_source
from foldkit.outputs import compress_for, make_folder, write_file
from foldkit.profile import Profile
from foldkit.regression import outputs as check_outputs
from foldkit.regression.gate import CheckOptions, CheckResult, check_profiles
from foldkit.render import RenderOptions, render_flamegraph
from foldkit.render.viewer import render_viewer
from foldkit.report import pages
from foldkit.report.discover import CaptureInput
from foldkit.report.pages import PageData
from foldkit.report.result import CaptureResult, CheckSummary, Regression, TopFunction
from foldkit.report.timespan import perf_time_range
from foldkit.transform import Pipeline

if TYPE_CHECKING:  # polars is imported where it is used: the report process needs it only at the end
    import polars as pl

#: Folder of the per-capture pages inside a report.
CAPTURES_DIR = "captures"
#: The files of one capture's folder, by kind.
FILES = {
    "page": "index.html",
    "viewer": "flamegraph.html",
    "flamegraph": "flamegraph.svg",
    "icicle": "icicle.svg",
    "top_csv": "top.csv",
    "folded": "stacks.folded.zst",
    "diff_viewer": "diff.html",
    "diff": "diff.svg",
    "check_json": "check.json",
    "check_md": "check.md",
}
#: A capture's rows of the profile store, left in its folder for the report process to move into
#: the store (hidden: not part of the report).
STORE_FILE = ".store.parquet"
#: Functions named in an index row (the issue asks for the top 5 by self weight).
INDEX_TOP = 5
#: Biggest changes against the baseline listed above the differential viewer: as many as the
#: index's "biggest regressions" and then some, still one screen.
PAGE_CHANGES = 10
#: The `top` table on a capture's page holds the functions among this many heaviest by self or by
#: total weight (so sorting by either column shows the right head): the hot part of any profile,
#: while the page stays quick to load with tens of thousands of functions; top.csv has every row.
PAGE_TOP_ROWS = 200


@dataclass(frozen=True)
class Settings:
    """What every capture is processed with."""

    fold_options: FoldOptions
    baseline: str | None = None
    check_options: CheckOptions | None = None
    generated: str = ""
    transforms: Pipeline = field(default_factory=Pipeline)
    capture_maps: tuple[tuple[str, str], ...] = ()  # (name pattern, bpftrace map): --map PATTERN=MAP
    store_labels: tuple[tuple[str, str], ...] | None = None  # write STORE_FILE, with these labels

    def options_for(self, item: CaptureInput) -> FoldOptions:
        """The folding options of one capture: `--map PATTERN=MAP` entries whose pattern matches
        its name (or file name) choose its bpftrace maps."""
        maps = tuple(m for pattern, m in self.capture_maps if capture_matches(item, pattern))
        return replace(self.fold_options, maps=maps) if maps else self.fold_options


def capture_matches(item: CaptureInput, pattern: str) -> bool:
    """Whether a shell-style `pattern` matches the capture's name in the report or its file name."""
    return fnmatch.fnmatchcase(item.name, pattern) or fnmatch.fnmatchcase(os.path.basename(item.path), pattern)


_BASELINES: dict[tuple[str, FoldOptions, Pipeline], Profile] = {}


class NotACapture(Exception):
    """A file found in a folder that no input format recognises."""


def load_baseline(path: str, options: FoldOptions, transforms: Pipeline) -> Profile:
    """The baseline profile (read and transformed like every capture), read once per process."""
    key = (path, options, transforms)
    profile = _BASELINES.get(key)
    if profile is None:
        _BASELINES.clear()
        profile = _BASELINES[key] = transforms.read(path, options)
    return profile


def read_capture(item: CaptureInput, options: FoldOptions) -> Profile:
    """The capture's profile; NotACapture when `item` was found in a folder and no format
    recognises it."""
    source = open_source(item.path)
    try:
        source.head()  # a corrupt compressed stream is an error, not "unrecognised"
        opts = options
        if opts.format == "auto":
            try:
                module = detect(source)
            except InputError:
                if item.explicit:
                    raise
                raise NotACapture(item.path) from None
            opts = replace(opts, format=module.NAME)
        if opts.format == "perf":
            opts = replace(opts, keep_time=True)  # sample times for the viewer's Time view
        try:
            profile = fold_source(source, opts)
        except UsageError as exc:
            raise _report_hint(exc, item) from None
        profile.meta["compression"] = source.compression
        return profile
    finally:
        source.close()


def _report_hint(exc: UsageError, item: CaptureInput) -> UsageError:
    """`exc` with the report's own way of choosing where it has one: several bpftrace maps are
    chosen per capture with `--map 'PATTERN=MAP'`."""
    maps = getattr(exc, "maps", None)
    if not maps or not hasattr(exc, "choice"):
        return exc
    name = os.path.basename(item.path)
    forms = " or ".join(f"--map '{name}={m}'" for m in maps)
    return UsageError(exc.choice(f"{forms} (PATTERN=MAP: the map of the captures whose name matches PATTERN; repeatable), or --map all"))


def describe_event(profile: Profile) -> str | None:
    """What the capture counted: the perf event, the BCC tool, or the bpftrace maps."""
    if profile.event:
        return profile.event
    if profile.meta.get("tool"):
        return str(profile.meta["tool"])
    maps = profile.meta.get("maps")
    if maps:
        return ("map " if len(maps) == 1 else "maps ") + ", ".join(str(m) for m in maps)
    return None


def page_rows(frame: pl.DataFrame, limit: int = PAGE_TOP_ROWS) -> list[tuple[object, ...]]:
    """The rows of a `top` frame (heaviest self first) among the `limit` heaviest by self or by
    total weight, in the frame's order."""
    import polars as pl

    by_total = pl.col("total").rank("ordinal", descending=True)
    return frame.with_row_index("_i").filter((pl.col("_i") < limit) | (by_total <= limit)).drop("_i").rows()


def summarize(profile: Profile, result: CaptureResult, top: pl.DataFrame) -> None:
    """Fill `result` with the facts of `profile` (`top`: its functions, heaviest self first)."""
    result.format = profile.format
    result.compression = profile.meta.get("compression")
    result.event = describe_event(profile)
    result.unit = profile.unit
    result.weight = float(profile.total)
    samples = profile.samples
    if samples is None and profile.unit == "samples" and all(float(w).is_integer() for w in profile.weights.values()):
        samples = int(profile.total)
    result.samples = samples
    result.stacks = len(profile.weights)
    result.warnings = profile.diagnostics.messages()
    result.notes = list(profile.diagnostics.notes)
    if result.warnings:
        result.status = "warning"
    import polars as pl

    # the index shows self shares to 0.1 %: a function below 0.05 % would read "0.0 %" there
    shown = top.filter(pl.col("self_pct") >= 0.05).head(INDEX_TOP)
    result.top = [TopFunction(name, float(s), float(p)) for name, s, p, _, _ in shown.iter_rows()]


def _write(folder: Path, result: CaptureResult, kind: str, data: bytes) -> None:
    name = FILES[kind]
    write_file(folder / name, data)
    result.files[kind] = name
    result.digests[name] = (len(data), hashlib.sha256(data).hexdigest())  # for the report's manifest


def _render_graphs(profile: Profile, result: CaptureResult, folder: Path, page: PageData) -> None:
    subtitle = " · ".join(x for x in (result.format, result.event, f"{result.stacks:,} stacks") if x)
    _write(folder, result, "viewer", render_viewer(profile, RenderOptions(title=result.name, subtitle=subtitle)))
    for kind, inverted in (("flamegraph", False), ("icicle", True)):
        options = RenderOptions(title=result.name, subtitle=subtitle, inverted=inverted)
        _write(folder, result, kind, render_flamegraph(profile, options))


def _histograms(profile: Profile, result: CaptureResult, folder: Path, page: PageData) -> None:
    """A histogram capture's summary, and each histogram's bar chart (`histogram-N.svg`) and buckets."""
    frame = histogram_summary(profile)
    if frame is None:
        return
    page.histogram_summary = frame
    for i, (name, unit, buckets) in enumerate(histograms_of(profile), start=1):
        file = f"histogram-{i}.svg"
        data = bar_chart(name, unit, buckets)
        write_file(folder / file, data)
        result.digests[file] = (len(data), hashlib.sha256(data).hexdigest())
        page.histograms.append((name, unit, file, bucket_table(buckets)))


def compare_with_baseline(
    profile: Profile, baseline: Profile, options: CheckOptions | None
) -> tuple[CheckSummary, CheckResult | None]:
    """The check of `profile` against `baseline` (as `foldkit check`); a check that cannot be made
    (no sample counts, no samples) is described, not raised."""
    try:
        same_event([baseline], [profile], ("baseline", "this capture"))
        checked = check_profiles([baseline], [profile], options)
    except FoldkitError as exc:
        return CheckSummary(passed=None, verdict="not checked", error=str(exc)), None
    regressions = [  # culprit first, the order of every output of `foldkit check` (`gate.rank_key`)
        Regression(f.name, f.measure, f.base * 100, f.cand * 100, f.delta * 100, f.p_adjusted)
        for f in checked.regressions
    ]
    summary = CheckSummary(
        passed=checked.passed, verdict=check_outputs.verdict(checked), regressions=regressions, underpowered=checked.underpowered
    )
    return summary, checked


def diff_graphs(baseline: Profile, profile: Profile, name: str) -> tuple[StackDiff, bytes, bytes]:
    """The comparison of the baseline with `profile` (BEFORE scaled to this capture's total), its
    differential flame graph (SVG, as `foldkit check --svg`) and viewer page, both with union
    widths so what disappeared stays visible."""
    from foldkit.render.diffgraph import render_diff, render_diff_html

    diff = diff_profiles(baseline, profile, normalize=True)
    options = RenderOptions(title=f"{name}: baseline → this capture")
    return diff, render_diff(diff, "union", options), render_diff_html(diff, "union", options)


def biggest_changes(diff: StackDiff, limit: int = PAGE_CHANGES) -> list[tuple[str, float, float]]:
    """(function, change of its self share, change of its total share) in percentage points, the
    `limit` largest changes of self share first."""
    import polars as pl

    frame = function_changes(diff).with_columns(pl.col("d_self_pp").abs().alias("_abs"))
    frame = frame.filter(pl.col("_abs") > 0).sort(["_abs", "name"], descending=[True, False]).head(limit)
    return [(str(n), float(s), float(t)) for n, s, t in frame.select("name", "d_self_pp", "d_total_pp").iter_rows()]


def _process(item: CaptureInput, folder: Path, settings: Settings, result: CaptureResult, page: PageData) -> bool:
    options = settings.options_for(item)
    try:
        profile = settings.transforms.read(item.path, options, lambda _, options: read_capture(item, options))
    except NotACapture:
        return False
    if not len(profile):
        raise InputError(f"{item.name}: no samples in this capture (empty input, or `perf script` failed?)")
    if settings.store_labels is not None:
        write_file(folder / STORE_FILE, store_bytes(profile, item.name, settings.store_labels))
    table = top_table(profile, limit=0)
    summarize(profile, result, table.frame)
    if profile.format == "perf" and profile.weights:
        result.time_start, result.time_end = perf_time_range(item.path, options)
    page.event_tables = event_tables(profile)
    _histograms(profile, result, folder, page)
    page.top_rows = page_rows(table.frame)
    page.top_count = table.frame.height
    _write(folder, result, "top_csv", to_csv(table))
    del table
    _render_graphs(profile, result, folder, page)
    _write(folder, result, "folded", compress_for(FILES["folded"], profile.to_folded_bytes()))
    if settings.baseline is not None:
        baseline = load_baseline(settings.baseline, settings.fold_options, settings.transforms)
        result.is_baseline = _same_file(item.path, settings.baseline)
        result.check, page.checked = compare_with_baseline(profile, baseline, settings.check_options)
        if page.checked is not None:
            result.warnings.extend(w for w in page.checked.warnings if w not in result.warnings)
            if result.warnings:
                result.status = "warning"
            _write(folder, result, "check_json", check_outputs.to_json(page.checked))
            _write(folder, result, "check_md", check_outputs.to_markdown(page.checked))
        diff, svg, html = diff_graphs(baseline, profile, result.name)
        page.changes = biggest_changes(diff)
        _write(folder, result, "diff", svg)
        _write(folder, result, "diff_viewer", html)
    return True


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).samefile(b)
    except OSError:
        return False


def error_message(exc: BaseException) -> str:
    """An exception as one line for the report (foldkit's own errors as they are, others typed)."""
    if isinstance(exc, FoldkitError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory while processing this capture"
    return f"internal error: {type(exc).__name__}: {exc}"


def process_capture(item: CaptureInput, site: str, settings: Settings) -> CaptureResult:
    """Read one capture and write its folder (`captures/SLUG/` under `site`): graphs, tables,
    folded stacks, the comparison with the baseline, and its page."""
    start = time.perf_counter()
    result = CaptureResult(name=item.name, path=item.path, slug=item.slug)
    folder = Path(site) / CAPTURES_DIR / item.slug
    make_folder(folder)
    page = pages.PageData()
    try:
        if not _process(item, folder, settings, result, page):
            result.status = "skipped"
            folder.rmdir()
            result.seconds = time.perf_counter() - start
            return result
    except OutputError:  # the report cannot be written (a full disk): no capture can be
        raise
    except Exception as exc:  # one bad capture never sinks the batch
        result.status = "error"
        result.error = error_message(exc)
    result.seconds = time.perf_counter() - start
    context = pages.PageContext(generated=settings.generated, version=__version__, baseline=settings.baseline)
    write_capture_page(Path(site), result, context, page)
    return result


def write_capture_page(site: Path, result: CaptureResult, context: pages.PageContext, page: PageData | None = None) -> None:
    """Write the page of `result` into its folder of the report `site`."""
    folder = site / CAPTURES_DIR / result.slug
    make_folder(folder)
    _write(folder, result, "page", pages.capture_page(result, page or PageData(), context))
