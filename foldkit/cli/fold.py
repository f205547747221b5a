"""`foldkit fold`: captures -> folded stacks (or another export, chosen by the output's suffix)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from foldkit.cli import common as c
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress, cluster_reader
from foldkit.cli.store_flags import Label, Store
from foldkit.errors import UsageError
from foldkit.export import export, exporter_for
from foldkit.export.split import combined_diagnostics, write_split
from foldkit.ingest import FoldOptions
from foldkit.outputs import refuse_input_as_output
from foldkit.profile import Profile
from foldkit.transform import Pipeline

PerThread = Annotated[bool, typer.Option("--per-thread", help="Write one folded file per thread (comm-PID-TID.folded) into the folder -o names.")]
PerProcess = Annotated[bool, typer.Option("--per-process", help="Write one folded file per process (comm-PID.folded) into the folder -o names.")]


@t.transforms_stacks
@c.reads_captures
def fold(
    inputs: c.Inputs,
    output: c.Output = None,
    per_thread: PerThread = False,
    per_process: PerProcess = False,
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

    The output's name picks the format: .folded (default), .speedscope.json or .parquet; .gz/.zst compress.

    Example: foldkit fold cpu.perf.zst -o cpu.folded   |   zstdcat cpu.perf.zst | foldkit fold - --exclude '^swapper$' > cpu.folded
    """
    if per_thread and per_process:
        raise UsageError("choose one of --per-thread and --per-process")
    refuse_input_as_output([output], inputs)
    if store is not None or label:
        if per_thread or per_process:
            raise UsageError("--store takes whole captures; drop --per-thread/--per-process")
        profile = _read_into_store(inputs, exporter_for(output).fold_options(fold_options), transforms, cluster, store, label)
        c.report(profile.diagnostics, quiet, verbose)
        export(profile, output)
        return
    with cluster_reader(cluster) as reader:
        if per_thread or per_process:
            parts = transforms.read_split(inputs, fold_options, "thread" if per_thread else "process", reader)
            c.report(combined_diagnostics(parts), quiet, verbose)
            write_split(parts, output)
            return
        profile = transforms.read(inputs, exporter_for(output).fold_options(fold_options), reader)
    c.report(profile.diagnostics, quiet, verbose)
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
