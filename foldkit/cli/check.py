"""`foldkit check`: the CI gate — fail on a significant regression or a budget breach (the
command's flags; what it does is `foldkit.cli.gating.gate_runs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli import common as c
from foldkit.cli import compare_flags as f
from foldkit.cli import transforms as t
from foldkit.cli.gating import gate_runs
from foldkit.ingest import FoldOptions
from foldkit.regression.defaults import DEFAULT_ALPHA, DEFAULT_MAX_INCREASE, DEFAULT_RUN_NOISE
from foldkit.transform import Pipeline

Sides = Annotated[list[str] | None, typer.Argument(help="BASELINE and CANDIDATE captures (any format foldkit reads), or use --baseline/--candidate.", show_default=False, metavar="BASELINE CANDIDATE")]
Absolute = Annotated[bool | None, typer.Option("--absolute/--shares-only", help="Also compare each function's sample count, which catches a uniform slowdown (default: when both sides are perf CPU profiles at the same period over the same duration).", show_default=False)]
Baseline = Annotated[list[str] | None, typer.Option("--baseline", metavar="FILE", help="A baseline capture, one per run (repeatable; a quoted glob is expanded).")]
Candidate = Annotated[list[str] | None, typer.Option("--candidate", metavar="FILE", help="A candidate capture, one per run (repeatable; a quoted glob is expanded).")]
MaxIncrease = Annotated[str, typer.Option("--max-increase", help="Smallest increase that counts: percentage points of the profile (2pp) or relative to the baseline share (10%).")]
Functions = Annotated[list[str] | None, typer.Option("--function", metavar="REGEX", help="Also check every frame matching this regex taken together (repeatable).")]
Budgets = Annotated[list[str] | None, typer.Option("--budget", metavar="BUDGET", help="Ceiling on a share of the candidate: 'REGEX<=5%' (inclusive) or 'self:REGEX<=5%' (repeatable).")]
Alpha = Annotated[float, typer.Option("--alpha", help="Family-wise significance level (chance of failing on noise alone).")]
RunNoise = Annotated[float, typer.Option("--run-noise", metavar="PERCENT", help="Least run-to-run variation of a function's time assumed, in percent of it per run (measured on a quiet shared machine; lower it for a dedicated one whose runs vary less, 0 trusts the runs' own spread).")]
Only = Annotated[bool, typer.Option("--only", help="Check only the --function patterns and budgets, not every function.")]
JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the result as JSON to FILE.")]
JunitOut = Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML to FILE (one test case per function and budget).")]
MarkdownOut = Annotated[Path | None, typer.Option("--markdown", help="Write a Markdown summary to FILE (PR comment, $GITHUB_STEP_SUMMARY).")]
SvgOut = Annotated[Path | None, typer.Option("--svg", help="Write the differential flame graph of the comparison to FILE.")]

@t.transforms_stacks
@c.reads_captures
def check(
    sides: Sides = None,
    baseline: Baseline = None,
    candidate: Candidate = None,
    max_increase: MaxIncrease = DEFAULT_MAX_INCREASE,
    function: Functions = None,
    budget: Budgets = None,
    alpha: Alpha = DEFAULT_ALPHA,
    run_noise: RunNoise = DEFAULT_RUN_NOISE,
    only: Only = False,
    absolute: Absolute = None,
    json: JsonOut = None,
    junit: JunitOut = None,
    markdown: MarkdownOut = None,
    svg: SvgOut = None,
    output: c.Output = None,
    strip_hex: f.StripHex = False,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
    transforms: Pipeline,
) -> None:
    """Fail (exit 1) when CANDIDATE regresses against BASELINE beyond noise, or breaks a budget.

    Give at least 2 runs a side: run-to-run noise is measured across all functions of both sides.
    With one run a side only very large changes can be shown; finding none, the verdict is
    UNDERPOWERED (exit 0). Regressions are listed culprit first (self time), a caller's inclusive
    rise that a regressed callee explains is said to be so.

    Examples:

    \b
      foldkit check base.perf.zst new.perf.zst --max-increase 2pp --junit check.xml
      foldkit check --baseline 'main-*.perf.zst' --candidate 'pr-*.perf.zst' --budget 'json_.*<=5%'
    """
    gate_runs(
        sides,
        baseline,
        candidate,
        max_increase,
        function,
        budget,
        alpha,
        run_noise,
        only,
        absolute,
        json,
        junit,
        markdown,
        svg,
        output,
        strip_hex,
        quiet,
        verbose,
        fold_options=fold_options,
        transforms=transforms,
    )
