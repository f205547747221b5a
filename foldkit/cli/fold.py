"""`foldkit fold`: captures -> folded stacks (or another export, chosen by the output's suffix)."""

from __future__ import annotations

from typing import Annotated

import typer

from foldkit.cli import common as c
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress
from foldkit.cli.folding import fold_captures
from foldkit.cli.store_flags import Label, Store
from foldkit.ingest import FoldOptions
from foldkit.transform import Pipeline

PerThread = Annotated[bool, typer.Option("--per-thread", help="Write one folded file per thread (comm-PID-TID.folded) into the folder -o names.")]
UnitHeader = Annotated[bool, typer.Option("--unit-header", help="Start folded output with a '# foldkit: unit=ns event=cpu-clock' line that foldkit reads back (flamegraph.pl and inferno skip it; difffolded.pl does not).")]
PerProcess = Annotated[bool, typer.Option("--per-process", help="Write one folded file per process (comm-PID.folded) into the folder -o names.")]


@t.transforms_stacks
@c.reads_captures_collapse
def fold(
    inputs: c.Inputs,
    output: c.Output = None,
    per_thread: PerThread = False,
    per_process: PerProcess = False,
    unit_header: UnitHeader = False,
    cluster: ClusterAddress = None,
    store: Store = None,
    label: Label = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
    transforms: Pipeline,
) -> None:
    """Fold captures into sorted `stack weight` lines (FlameGraph's folded format).

    The output's name picks the format: .folded (default), .speedscope.json, .parquet or .pb.gz (pprof); .gz/.zst compress.

    Examples:

    \b
      foldkit fold cpu.perf.zst -o cpu.folded
      zstdcat cpu.perf.zst | foldkit fold - --exclude '^swapper$' > cpu.folded
      foldkit fold cpu.perf.zst --unit-header -o cpu.folded.zst
    """
    fold_captures(
        inputs, output, per_thread=per_thread, per_process=per_process, unit_header=unit_header, cluster=cluster,
        store=store, label=label, quiet=quiet, verbose=verbose, fold_options=fold_options, transforms=transforms,
    )  # fmt: skip
