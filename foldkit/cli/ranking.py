"""What `foldkit top` does once its flags are parsed: captures -> the table of the heaviest
functions. Without Typer: the command (`foldkit.cli.top`) and the fast path (`foldkit.cli.fast`)
both call `rank`."""

from __future__ import annotations

from foldkit.analysis.defaults import DEFAULT_LIMIT
from foldkit.outputs import TABLE_SUFFIXES, output_suffixes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from foldkit.ingest.options import FoldOptions
    from foldkit.outputs import OutputPath
    from foldkit.transform import Pipeline

output_suffixes("top", {suffix: f"{fmt} table" for suffix, fmt in TABLE_SUFFIXES.items()})

#: The defaults of `rank`'s own parameters (the command's flags that are no folding or transform
#: flag), written once: the Typer command declares these (a test checks they agree).
DEFAULTS: dict[str, object] = {
    "limit": DEFAULT_LIMIT,
    "by": "function",
    "sort": "self",
    "csv": False,
    "json": False,
    "parquet": False,
    "output": None,
    "cluster": None,
    "quiet": False,
    "verbose": False,
}


def rank(
    inputs: list[str],
    limit: int,
    by: str,
    sort: str,
    csv: bool,
    json: bool,
    parquet: bool,
    output: OutputPath | None,
    cluster: str | None,
    quiet: bool,
    verbose: bool,
    *,
    fold_options: FoldOptions,
    transforms: Pipeline | None,
) -> None:
    """`foldkit top` (see its help) with its flags parsed (`transforms` None: no transform step)."""
    import sys

    from foldkit.analysis.tables import choose_format, render_text, write_table
    from foldkit.analysis.top import top_table
    from foldkit.cli.running import cluster_reader, read_transformed, report
    from foldkit.ingest import read
    from foldkit.outputs import is_stdout, output_suffix, refuse_input_as_output, write_bytes

    refuse_input_as_output([output], inputs)
    if not (csv or json or parquet):  # a format flag names the format whatever the suffix
        output_suffix("top", output)
    fmt = choose_format(output, (csv, "csv"), (json, "json"), (parquet, "parquet"))
    with cluster_reader(cluster, "--by dso" if by == "dso" else None) as reader:
        if by == "dso":  # (loads the perf reader's frame namer: only then)
            from foldkit.analysis.dso import read_with_dsos

            profile = read_transformed(transforms, inputs, fold_options, reader or read_with_dsos)
        else:
            profile = read_transformed(transforms, inputs, fold_options, reader or read)
    report(profile.diagnostics, quiet, verbose)
    if fmt == "text":
        from foldkit.analysis.histograms import summary, summary_text

        hist = summary(profile)
        if hist is not None:  # a histogram capture: its events and percentiles first
            text = summary_text(hist)
            if is_stdout(output):
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            else:
                write_bytes(output, (text + "\n").encode() + render_text(top_table(profile, by, sort, limit), False, 10_000).encode())
                return
    write_table(top_table(profile, by, sort, limit), output, fmt)
