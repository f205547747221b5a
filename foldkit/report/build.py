"""`build_report`: captures in, a static report folder out."""

from __future__ import annotations

import contextlib
import datetime
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from foldkit import __version__
from foldkit.cluster import Starting
from foldkit.errors import InputError, UsageError
from foldkit.export.store import Labels, check_store, put
from foldkit.ingest import FoldOptions
from foldkit.ingest.options import DEFAULT_OPTIONS
from foldkit.jobs import default_jobs
from foldkit.outputs import output_errors, write_file
from foldkit.regression.gate import CheckOptions
from foldkit.regression.samples import sample_counts
from foldkit.report import pages, summary
from foldkit.report.capture import CAPTURES_DIR, STORE_FILE, Settings, write_capture_page
from foldkit.report.discover import find_captures
from foldkit.report.html import href
from foldkit.report.result import CaptureResult
from foldkit.report.runner import Progress, process_all
from foldkit.report.site import building, write_marker
from foldkit.text import visible
from foldkit.transform import Pipeline, describe

#: FoldOptions fields that say how to work, not what the stacks are; not listed as report options.
_MECHANICS = {"jobs", "keep_time", "keep_order", "chunk_size", "max_record"}


@dataclass(frozen=True)
class ReportOptions:
    """How to build a report; defaults are the CLI's."""

    fold_options: FoldOptions = DEFAULT_OPTIONS
    transforms: Pipeline = field(default_factory=Pipeline)  # applied to every capture and the baseline
    baseline: str | None = None  # compare every capture with this one (check + differential graph)
    check_options: CheckOptions = field(default_factory=CheckOptions)
    jobs: int = 0  # captures processed at once; 0 = one per core
    force: bool = False  # replace an output folder that is not a foldkit report
    cluster: str | None = None  # a Dask scheduler's address, or local:N: process captures there
    capture_maps: tuple[tuple[str, str], ...] = ()  # (capture name pattern, bpftrace map) pairs
    store: str | os.PathLike[str] | None = None  # also put every capture's stacks in this profile store
    labels: Labels = ()  # the store's partitions for this report's captures


@dataclass
class ReportResult:
    """What was written: the report folder and every capture's result."""

    output: Path
    captures: list[CaptureResult]  # one per row of the index
    skipped: list[CaptureResult]  # files in folders that no format recognises

    @property
    def index(self) -> Path:
        """The report's front page."""
        return self.output / pages.INDEX

    @property
    def errors(self) -> list[CaptureResult]:
        """Captures that could not be read."""
        return [r for r in self.captures if r.status == "error"]

    @property
    def failed_checks(self) -> list[CaptureResult]:
        """Captures that regressed against the baseline."""
        return [r for r in self.captures if r.regressed]


#: Command-line flag of each FoldOptions field whose flag is not simply its name.
_FLAGS = {"skip_after": "--skip-after", "maps": "--map"}


def describe_options(options: ReportOptions) -> list[tuple[str, str]]:
    """The options worth stating in the report's header, as (flag, value) pairs (value "" for a
    switch): folding options that differ from the defaults, the check settings, the parallelism."""
    fold = options.fold_options
    out: list[tuple[str, str]] = []
    changed = {f.name for f in fields(FoldOptions) if getattr(fold, f.name) != getattr(DEFAULT_OPTIONS, f.name)} - _MECHANICS
    if {"kernel", "jit", "inline"} <= changed:
        out.append(("--all", ""))
        changed -= {"kernel", "jit", "inline"}
    for f in fields(FoldOptions):
        if f.name not in changed:
            continue
        flag = _FLAGS.get(f.name, "--" + f.name.replace("_", "-"))
        value = getattr(fold, f.name)
        if isinstance(value, bool):
            out.append((flag, ""))
        elif isinstance(value, tuple):
            out.extend((flag, str(v)) for v in value)
        else:
            out.append((flag, str(value)))
    out.extend((describe(step), "") for step in options.transforms.steps)
    if options.baseline is not None:
        out.append(("--max-increase", str(options.check_options.max_increase)))
        out.append(("--alpha", f"{options.check_options.alpha:g}"))
    out.append(("--jobs", str(options.jobs or default_jobs())))
    return out


def command_line(options: Sequence[tuple[str, str]]) -> str:
    """(flag, value) pairs as they would be typed."""
    return " ".join(f"{flag} {shlex.quote(value)}" if value else flag for flag, value in options)


def _check_inputs_against_output(inputs: Sequence[str], output: Path) -> None:
    target = Path(os.path.abspath(output))
    for spec in inputs:
        path = Path(os.path.abspath(spec))
        if path == target or target in path.parents:
            raise UsageError(f"{output}: the report folder would replace the input {spec}; choose another output folder")


def _check_baseline(path: str, options: FoldOptions, transforms: Pipeline) -> None:
    """Fail early (exit 2) when the baseline cannot be read or has no sample counts to check against."""
    profile = transforms.read(path, options)
    try:
        sample_counts(profile)
    except UsageError as exc:
        raise UsageError(f"--baseline {exc}") from None
    if not profile.weights:
        raise UsageError(f"--baseline {path}: no samples")


def _fill_store(site: Path, results: Sequence[CaptureResult], store: str | os.PathLike[str], labels: Labels) -> None:
    """Move the store files the captures left in their folders into the profile store."""
    for r in results:
        path = site / CAPTURES_DIR / r.slug / STORE_FILE
        if path.is_file():
            put(store, r.name, labels, path)
            path.unlink(missing_ok=True)


#: Capture errors named in the message of a report that has nothing to publish.
NAMED_ERRORS = 3


def _refuse_nothing_to_publish(captures: Sequence[CaptureResult], target: Path) -> None:
    """An InputError when no capture was found or none could be read: such a run publishes no
    report, and whatever is at `target` (a previous report) stays."""
    kept = f"{target} is left as it was" if target.exists() else f"no report written to {target}"
    if not captures:
        raise InputError(f"no file found is a capture foldkit can read; {kept}")
    if all(r.status == "error" for r in captures):
        named = "; ".join(f"{visible(r.name)}: {visible(r.error or '?')}" for r in captures[:NAMED_ERRORS])
        more = f"; and {len(captures) - NAMED_ERRORS} more" if len(captures) > NAMED_ERRORS else ""
        raise InputError(f"none of the {len(captures)} capture(s) could be read ({named}{more}); {kept}")


def now() -> str:
    """The current local time, as the report states it."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def build_report(
    inputs: Sequence[str],
    output: str | os.PathLike[str],
    options: ReportOptions | None = None,
    progress: Progress | None = None,
) -> ReportResult:
    """Read every capture under `inputs` and write the report folder `output`: `index.html`, a page
    and files per capture under `captures/`, `summary.json` and `summary.parquet`. The folder is
    replaced as a whole only when everything is written; a run where no capture is found or none
    can be read is an InputError that writes nothing (a previous report stays)."""
    opts = options or ReportOptions()
    target = Path(output)
    _check_inputs_against_output(inputs, target)
    with contextlib.ExitStack() as stack:
        # a cluster starts while the captures are found and the report folder prepared
        starting = None if opts.cluster is None else Starting(opts.cluster, preload=[WORKER_MODULE])
        if starting is not None:
            stack.callback(starting.close)
        return _build(inputs, target, opts, progress, starting)


#: The module a cluster's workers run captures with (loaded while a local cluster starts).
WORKER_MODULE = "foldkit.report.runner"


def _build(
    inputs: Sequence[str], target: Path, opts: ReportOptions, progress: Progress | None, starting: Starting | None
) -> ReportResult:
    items = find_captures(inputs, exclude=[target])
    if opts.baseline is not None:
        _check_baseline(opts.baseline, opts.fold_options, opts.transforms)
    if opts.store is not None:
        check_store(opts.store)
    generated = now()
    settings = Settings(
        opts.fold_options, opts.baseline, opts.check_options, generated, opts.transforms, opts.capture_maps,
        store_labels=None if opts.store is None else opts.labels,
    )  # fmt: skip
    context = pages.PageContext(
        generated=generated,
        version=__version__,
        baseline=opts.baseline,
        inputs=tuple(inputs),
        options=command_line(describe_options(opts)),
    )
    with building(target, opts.force) as tmp:
        cluster = None if starting is None else starting.cluster()
        results = process_all(items, str(tmp), settings, opts.jobs, progress, cluster)
        if starting is not None:
            starting.close_soon()  # stops while the pages and summaries are written
        if opts.store is not None:
            _fill_store(tmp, results, opts.store, opts.labels)
        context_page = pages.PageContext(generated=generated, version=__version__, baseline=opts.baseline)
        for r in results:
            if r.status != "skipped" and "page" not in r.files:  # its worker died before writing it
                write_capture_page(tmp, r, context_page)
        captures = [r for r in results if r.status != "skipped"]
        skipped = [r for r in results if r.status == "skipped"]
        _refuse_nothing_to_publish(captures, target)  # the previous report stays as it was
        rows = [summary.row(r, href(CAPTURES_DIR, r.slug, pages.INDEX)) for r in captures]
        meta: dict[str, Any] = {
            "foldkit": __version__,
            "generated": generated,
            "inputs": [visible(i) for i in inputs],
            "options": visible(context.options),
            "baseline": None if opts.baseline is None else visible(opts.baseline),
            "skipped": [visible(r.name) for r in skipped],
        }
        with output_errors(str(target)):
            write_file(tmp / pages.SUMMARY_JSON, summary.to_json(rows, meta, captures))
            write_file(tmp / pages.SUMMARY_PARQUET, summary.to_parquet(rows))
            write_file(tmp / pages.INDEX, pages.index_page(captures, skipped, context, CAPTURES_DIR))
            written = {f"{CAPTURES_DIR}/{r.slug}/{name}": d for r in results for name, d in r.digests.items()}
            write_marker(tmp, generated, written)  # hashing only what the workers did not
    return ReportResult(Path(os.path.abspath(target)), captures, skipped)
