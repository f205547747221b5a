"""`foldkit top`: the heaviest functions of a profile, self and total (the command's flags; what it
does is `foldkit.cli.ranking.rank`)."""

from __future__ import annotations

from typing import Annotated

import typer

from foldkit.analysis.defaults import DEFAULT_LIMIT
from foldkit.cli import common as c
from foldkit.cli import compare_flags as f
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress
from foldkit.cli.ranking import rank
from foldkit.ingest import FoldOptions
from foldkit.transform import Pipeline

By = Annotated[str, typer.Option("--by", help="Group by function, dso (shared object) or comm (process).")]


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
    rank(inputs, limit, by, sort, csv, json, parquet, output, cluster, quiet, verbose, fold_options=fold_options, transforms=transforms)
