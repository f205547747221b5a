"""`foldkit check`: the CI gate — fail on a significant regression or a budget breach."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli import common as c
from foldkit.cli import compare_flags as f
from foldkit.cli import transforms as t
from foldkit.errors import CheckFailed
from foldkit.ingest import FoldOptions
from foldkit.inputs import rereadable
from foldkit.outputs import output_suffix, output_suffixes, refuse_input_as_output, write_all
from foldkit.profile import Profile
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

output_suffixes("check", {".txt": "the readable report", ".text": "the readable report", ".log": "the readable report"})


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
    from foldkit.analysis.sides import read_runs, require_samples, same_event, split_sides
    from foldkit.regression import gate
    from foldkit.regression import outputs as out

    output_suffix("check", output)
    options = gate.CheckOptions(
        max_increase=gate.Threshold.parse(max_increase),
        alpha=alpha,
        run_noise=run_noise / 100.0,
        functions=tuple(function or ()),
        budgets=tuple(gate.Budget.parse(b) for b in budget or ()),
        only=only,
        absolute=bool(absolute),
    )
    first, second = split_sides(sides, baseline, candidate, names=("baseline", "candidate"))
    refuse_input_as_output([json, junit, markdown, svg, output], [*first, *second])
    base_runs = read_runs(first, fold_options, hex_numbers=strip_hex, reader=transforms.read)
    cand_runs = read_runs(second, fold_options, hex_numbers=strip_hex, reader=transforms.read)
    for p in (*base_runs, *cand_runs):
        c.report(p.diagnostics, quiet, verbose)
    require_samples([*base_runs, *cand_runs], [*first, *second])
    same_event(base_runs, cand_runs)
    if absolute is None:
        reason = _comparable(first + second, base_runs, cand_runs, fold_options)
        if reason:
            options = replace(options, absolute=True, absolute_reason=reason)
    result = gate.check_profiles(base_runs, cand_runs, options)
    # every output is built before any is written, and they are written all or none
    files = [(path, render(result)) for path, render in ((json, out.to_json), (junit, out.to_junit), (markdown, out.to_markdown)) if path is not None]
    if svg is not None:
        from foldkit.analysis.diff import check_graph

        files.append((svg, check_graph(base_runs, cand_runs)))
    if output is not None:
        files.append((output, out.report_bytes(result, quiet)))
    write_all(files)
    if output is None:
        out.print_report(result, quiet)
    if not result.passed:
        raise CheckFailed(out.verdict(result))


def _comparable(specs: list[str], base_runs: list[Profile], cand_runs: list[Profile], options: FoldOptions) -> str | None:
    """Why sample counts of these runs are comparable (see `gate.comparable_cpu_runs`), or None;
    durations are read from the captures' first and last samples only when the rest agrees."""
    from foldkit.regression.gate import comparable_cpu_runs
    from foldkit.report.timespan import perf_time_range

    if comparable_cpu_runs(base_runs, cand_runs, [1.0] * len(specs)) is None or not all(map(rereadable, specs)):
        return None  # (stdin, a FIFO: read once already)
    durations = []
    for spec in specs:
        start, end = perf_time_range(spec, options)
        durations.append(None if start is None or end is None else end - start)
    return comparable_cpu_runs(base_runs, cand_runs, durations)
