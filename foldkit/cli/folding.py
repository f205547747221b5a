"""What `foldkit fold` does once its flags are parsed: captures -> folded stacks (or another
export, chosen by the output's suffix). Without Typer: the command (`foldkit.cli.fold`) and the
drop-in fast path (`foldkit.cli.fast`) both call `fold_captures`."""

from __future__ import annotations

import contextlib

from foldkit.cli.progress import reading_progress
from foldkit.cli.running import cluster_reader, read_transformed, report
from foldkit.errors import UsageError
from foldkit.export import DEFAULT, EXPORTERS, export, exporter_for
from foldkit.outputs import (
    OutputPath,
    output_suffix,
    output_suffixes,
    refuse_input_as_output,
    write_bytes,
)

#: `typing.TYPE_CHECKING` without importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from foldkit.ingest import FoldOptions
    from foldkit.profile import Profile
    from foldkit.transform import Pipeline

output_suffixes(
    "fold",
    {
        **{suffix: e.description for suffix, e in EXPORTERS.items()},
        ".collapsed": "FlameGraph folded stacks",
        ".txt": "FlameGraph folded stacks",
    },
)


def fold_captures(
    inputs: list[str],
    output: OutputPath | None,
    *,
    per_thread: bool = False,
    per_process: bool = False,
    unit_header: bool = False,
    cluster: str | None = None,
    store: Path | None = None,
    label: list[str] | None = None,
    quiet: bool = False,
    verbose: bool = False,
    fold_options: FoldOptions,
    transforms: Pipeline | None = None,
) -> None:
    """Fold `inputs` and write them to `output` (stdout when None) as `foldkit fold` does; with no
    transform steps (`transforms` None or empty) the transforms are not loaded."""
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
            profile = _read_into_store(inputs, exporter_for(output).fold_options(fold_options), _pipeline(transforms), cluster, store, label)
        report(profile.diagnostics, quiet, verbose)
        export(profile, output)
        return
    with reading_progress(quiet), cluster_reader(cluster) as reader:
        if per_thread or per_process:
            from foldkit.export.split import combined_diagnostics, write_split

            parts = _pipeline(transforms).read_split(inputs, fold_options, "thread" if per_thread else "process", reader)
            report(combined_diagnostics(parts), quiet, verbose)
            write_split(parts, output)
            return
        options = exporter_for(output).fold_options(fold_options)
        profile = read_transformed(transforms, inputs, options, reader)
    report(profile.diagnostics, quiet, verbose)
    if unit_header:
        if exporter_for(output) is not DEFAULT:
            raise UsageError("--unit-header is for folded text; speedscope and Parquet files carry the unit already")
        write_bytes(output, profile.to_folded_bytes(header=True))
        return
    export(profile, output)


def _pipeline(transforms: Pipeline | None) -> Pipeline:
    """`transforms`, or the empty pipeline."""
    if transforms is not None:
        return transforms
    from foldkit.transform import Pipeline

    return Pipeline()


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
