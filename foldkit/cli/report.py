"""`foldkit report`: files and folders of captures -> a static, browsable report folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli import common as c
from foldkit.cli import transforms as t
from foldkit.cli.check import Alpha, MaxIncrease, RunNoise
from foldkit.cli.cluster_flags import ClusterAddress
from foldkit.cli.store_flags import Label, Store
from foldkit.errors import CheckFailed, InputError, UsageError
from foldkit.ingest import FoldOptions
from foldkit.regression.defaults import DEFAULT_ALPHA, DEFAULT_MAX_INCREASE, DEFAULT_RUN_NOISE
from foldkit.transform import Pipeline

Inputs = Annotated[list[str], typer.Argument(metavar="INPUT", help="Capture files and folders (searched recursively; every file foldkit can read, plain, .gz or .zst).", show_default=False)]
OutDir = Annotated[Path, typer.Option("--output", "-o", help="Report folder to write; replaced as a whole when the report is complete.", show_default=False)]
Baseline = Annotated[str | None, typer.Option("--baseline", help="Check every capture against this capture (as foldkit check) and draw a differential flame graph.")]
FailOnError = Annotated[bool, typer.Option("--fail-on-error", help="Exit 2 when any capture cannot be read (without it, only when none can); the report is written all the same.")]
Force = Annotated[bool, typer.Option("--force", help="Replace the output folder even if it is not a foldkit report.")]

#: Regressed captures named in the error message (the index lists them all).
NAMED_FAILURES = 5


@t.transforms_stacks
@c.reads_captures
def report(
    inputs: Inputs,
    output: OutDir,
    baseline: Baseline = None,
    max_increase: MaxIncrease = DEFAULT_MAX_INCREASE,
    alpha: Alpha = DEFAULT_ALPHA,
    run_noise: RunNoise = DEFAULT_RUN_NOISE,
    fail_on_error: FailOnError = False,
    force: Force = False,
    cluster: ClusterAddress = None,
    store: Store = None,
    label: Label = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
    transforms: Pipeline,
) -> None:
    """Build a static report of captures (index.html, a page each, summary.json/.parquet); print its path.

    Examples:

    \b
      foldkit report captures/ -o site/
      foldkit report captures/ -o site/ --baseline captures/last-release.perf.zst --jobs 2
      foldkit report captures/ -o site/ --map 'bpftrace-*.txt=@user'

    --map PATTERN=MAP folds map MAP of the captures whose name (or file name) matches PATTERN
    (shell-style; repeatable); a plain --map MAP applies to every capture.
    """
    from foldkit.export.store import parse_labels
    from foldkit.regression.gate import CheckOptions, Threshold
    from foldkit.report import ReportOptions, build_report
    from foldkit.report.progress import progress_display
    from foldkit.report.runner import interrupt_on_terminate
    from foldkit.text import visible

    per_capture = tuple(_capture_map(m) for m in fold_options.maps if "=" in m)
    fold_options = replace(fold_options, maps=tuple(m for m in fold_options.maps if "=" not in m))
    options = ReportOptions(
        fold_options=fold_options,
        capture_maps=per_capture,
        transforms=transforms,
        baseline=baseline,
        check_options=CheckOptions(max_increase=Threshold.parse(max_increase), alpha=alpha, run_noise=run_noise / 100.0),
        jobs=fold_options.jobs,
        force=force,
        cluster=cluster,
        store=store,
        labels=parse_labels(label or []),
    )
    if label and store is None:
        raise UsageError("--label needs --store")
    with interrupt_on_terminate(), progress_display(quiet, verbose) as progress:
        result = build_report(inputs, output, options, progress)
    print(visible(str(result.index)))  # (no capture found, or none readable: an InputError, nothing written)
    if result.errors and fail_on_error:
        raise InputError(f"{len(result.errors)} of {len(result.captures)} capture(s) could not be read (see {result.index})")
    if result.failed_checks:
        names = ", ".join(visible(r.name) for r in result.failed_checks[:NAMED_FAILURES])
        if len(result.failed_checks) > NAMED_FAILURES:
            names += f" and {len(result.failed_checks) - NAMED_FAILURES} more"
        raise CheckFailed(f"{len(result.failed_checks)} capture(s) regressed against the baseline: {names}")


def _capture_map(text: str) -> tuple[str, str]:
    """`PATTERN=MAP` of `--map` as (pattern, map)."""
    pattern, _, name = text.partition("=")
    if not pattern or not name:
        raise UsageError(f"--map {text!r}: expected MAP, or PATTERN=MAP for the captures whose name matches PATTERN")
    return pattern, name
