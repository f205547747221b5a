"""`foldkit fold`: captures -> folded stacks (or another export, chosen by the output's suffix)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli import common as c
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress, cluster_reader
from foldkit.cli.progress import reading_progress
from foldkit.cli.store_flags import Label, Store
from foldkit.errors import UsageError
from foldkit.export import DEFAULT, EXPORTERS, export, exporter_for
from foldkit.export.split import combined_diagnostics, write_split
from foldkit.ingest import FoldOptions
from foldkit.outputs import output_suffix, output_suffixes, refuse_input_as_output, write_bytes
from foldkit.profile import Profile
from foldkit.transform import Pipeline

PerThread = Annotated[bool, typer.Option("--per-thread", help="Write one folded file per thread (comm-PID-TID.folded) into the folder -o names.")]
UnitHeader = Annotated[bool, typer.Option("--unit-header", help="Start folded output with a '# foldkit: unit=ns event=cpu-clock' line that foldkit reads back (flamegraph.pl and inferno skip it; difffolded.pl does not).")]
PerProcess = Annotated[bool, typer.Option("--per-process", help="Write one folded file per process (comm-PID.folded) into the folder -o names.")]

output_suffixes(
    "fold",
    {
        **{suffix: e.description for suffix, e in EXPORTERS.items()},
        ".collapsed": "FlameGraph folded stacks",
        ".txt": "FlameGraph folded stacks",
    },
)


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
    if per_thread and per_process:
        raise UsageError("choose one of --per-thread and --per-process")
    refuse_input_as_output([output], inputs)
    if not (per_thread or per_process):
        output_suffix("fold", output)
    if store is not None or label:
        if per_thread or per_process:
            raise UsageError("--store takes whole captures; drop --per-thread/--per-process")
        if unit_header:
            raise UsageError("--unit-header writes folded text; with --store, fold writes the store (and -o as usual)")
        with reading_progress(quiet):
            profile = _read_into_store(inputs, exporter_for(output).fold_options(fold_options), transforms, cluster, store, label)
        c.report(profile.diagnostics, quiet, verbose)
        export(profile, output)
        return
    with reading_progress(quiet), cluster_reader(cluster) as reader:
        if per_thread or per_process:
            parts = transforms.read_split(inputs, fold_options, "thread" if per_thread else "process", reader)
            c.report(combined_diagnostics(parts), quiet, verbose)
            write_split(parts, output)
            return
        profile = transforms.read(inputs, exporter_for(output).fold_options(fold_options), reader)
    c.report(profile.diagnostics, quiet, verbose)
    if unit_header:
        if exporter_for(output) is not DEFAULT:
            raise UsageError("--unit-header is for folded text; speedscope and Parquet files carry the unit already")
        write_bytes(output, profile.to_folded_bytes(header=True))
        return
    export(profile, output)


def _read_into_store(
    inputs: list[str], options: FoldOptions, transforms: Pipeline, cluster: str | None, store: Path | None, label: list[str] | None
) -> Profile:
    """Each input read (on the cluster, if given) into the store as its own capture; their merge."""
    from foldkit.cluster import connect
    from foldkit.cluster.reading import read_each
    from foldkit.export.store import check_store, parse_labels, store_all

    if store is None:
        raise UsageError("--label needs --store")
    labels = parse_labels(label or [])
    check_store(store)
    with contextlib.ExitStack() as stack:
        session = None if cluster is None else stack.enter_context(connect(cluster))
        return store_all(store, labels, read_each(inputs, options, transforms, session))
