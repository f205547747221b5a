"""What `foldkit check` does once its flags are parsed: baseline and candidate runs -> the CI
verdict and its reports. Without Typer: the command (`foldkit.cli.check`) and the fast path
(`foldkit.cli.fast`) both call `gate_runs`."""

from __future__ import annotations

from foldkit.outputs import output_suffixes
from foldkit.regression.defaults import DEFAULT_ALPHA, DEFAULT_MAX_INCREASE, DEFAULT_RUN_NOISE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from foldkit.ingest.options import FoldOptions
    from foldkit.outputs import OutputPath
    from foldkit.profile import Profile
    from foldkit.transform import Pipeline

output_suffixes("check", {".txt": "the readable report", ".text": "the readable report", ".log": "the readable report"})

#: The defaults of `gate_runs`' own parameters (the command's flags that are no folding or
#: transform flag), written once: the Typer command declares these (a test checks they agree).
DEFAULTS: dict[str, object] = {
    "baseline": None,
    "candidate": None,
    "max_increase": DEFAULT_MAX_INCREASE,
    "function": None,
    "budget": None,
    "alpha": DEFAULT_ALPHA,
    "run_noise": DEFAULT_RUN_NOISE,
    "only": False,
    "absolute": None,
    "json": None,
    "junit": None,
    "markdown": None,
    "svg": None,
    "output": None,
    "strip_hex": False,
    "quiet": False,
    "verbose": False,
}


def gate_runs(
    sides: list[str] | None,
    baseline: list[str] | None,
    candidate: list[str] | None,
    max_increase: str,
    function: list[str] | None,
    budget: list[str] | None,
    alpha: float,
    run_noise: float,
    only: bool,
    absolute: bool | None,
    json: OutputPath | None,
    junit: OutputPath | None,
    markdown: OutputPath | None,
    svg: OutputPath | None,
    output: OutputPath | None,
    strip_hex: bool,
    quiet: bool,
    verbose: bool,
    *,
    fold_options: FoldOptions,
    transforms: Pipeline | None,
) -> None:
    """`foldkit check` (see its help) with its flags parsed (`transforms` None: no transform
    step); CheckFailed (exit 1) for a failed gate."""
    from dataclasses import replace

    from foldkit.analysis.sides import read_runs, require_samples, same_event, split_sides
    from foldkit.cli.running import read_transformed, report
    from foldkit.errors import CheckFailed
    from foldkit.outputs import output_suffix, refuse_input_as_output, write_all
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

    def reader(spec: str, options: FoldOptions) -> Profile:
        return read_transformed(transforms, [spec], options, None)

    base_runs = read_runs(first, fold_options, hex_numbers=strip_hex, reader=reader)
    cand_runs = read_runs(second, fold_options, hex_numbers=strip_hex, reader=reader)
    for p in (*base_runs, *cand_runs):
        report(p.diagnostics, quiet, verbose)
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
    from foldkit.inputs import rereadable
    from foldkit.regression.gate import comparable_cpu_runs

    if comparable_cpu_runs(base_runs, cand_runs, [1.0] * len(specs)) is None or not all(map(rereadable, specs)):
        return None  # (stdin, a FIFO: read once already)
    from foldkit.report.timespan import perf_time_range  # (only for perf captures that may compare)

    durations = []
    for spec in specs:
        start, end = perf_time_range(spec, options)
        durations.append(None if start is None or end is None else end - start)
    return comparable_cpu_runs(base_runs, cand_runs, durations)
