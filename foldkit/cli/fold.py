"""`foldkit fold`: captures -> folded stacks."""

from __future__ import annotations

from foldkit.cli import common as c
from foldkit.ingest import FoldOptions, read
from foldkit.outputs import write_bytes


@c.reads_captures
def fold(
    inputs: c.Inputs,
    output: c.Output = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
) -> None:
    """Fold captures into sorted `stack weight` lines (FlameGraph's folded format).

    Example: foldkit fold cpu.perf.zst -o cpu.folded   |   zstdcat cpu.perf.zst | foldkit fold - > cpu.folded
    """
    profile = read(inputs, fold_options)
    c.report(profile.diagnostics, quiet, verbose)
    write_bytes(output, profile.to_folded_bytes())
