"""`foldkit top`: the heaviest functions of a profile, self and total."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from foldkit.analysis.defaults import DEFAULT_LIMIT
from foldkit.cli import common as c
from foldkit.cli import compare_flags as f
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress, cluster_reader
from foldkit.ingest import FoldOptions, read
from foldkit.outputs import (
    TABLE_SUFFIXES,
    is_stdout,
    output_suffix,
    output_suffixes,
    refuse_input_as_output,
    write_bytes,
)
from foldkit.transform import Pipeline

By = Annotated[str, typer.Option("--by", help="Group by function, dso (shared object) or comm (process).")]

output_suffixes("top", {suffix: f"{fmt} table" for suffix, fmt in TABLE_SUFFIXES.items()})


@t.transforms_stacks
@c.reads_captures
def top(
    inputs: c.Inputs,
    limit: f.Limit = DEFAULT_LIMIT,
    by: By = "function",
    sort: f.Sort = "self",
    csv: f.AsCsv = False,
    json: f.AsJson = False,
    parquet: f.AsParquet = False,
    output: c.Output = None,
    cluster: ClusterAddress = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
    transforms: Pipeline,
) -> None:
    """Table of the heaviest functions: self, self %, total (inclusive, once per stack), total %.
    For histograms (biolatency, runqlat, bpftrace hist()), first their events and percentiles.

    Examples:

    \b
      foldkit top cpu.perf.zst -n 30 --sort total
      foldkit top cpu.perf.zst --by dso -o dsos.csv
    """
    from foldkit.analysis.tables import choose_format, render_text, write_table
    from foldkit.analysis.top import top_table

    refuse_input_as_output([output], inputs)
    if not (csv or json or parquet):  # a format flag names the format whatever the suffix
        output_suffix("top", output)
    fmt = choose_format(output, (csv, "csv"), (json, "json"), (parquet, "parquet"))
    with cluster_reader(cluster, "--by dso" if by == "dso" else None) as reader:
        if by == "dso":  # (loads the perf reader's frame namer: only then)
            from foldkit.analysis.dso import read_with_dsos

            profile = transforms.read(inputs, fold_options, reader or read_with_dsos)
        else:
            profile = transforms.read(inputs, fold_options, reader or read)
    c.report(profile.diagnostics, quiet, verbose)
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
