"""`foldkit fold`: captures -> folded stacks."""

from __future__ import annotations

from foldkit.cli import common as c
from foldkit.ingest import read
from foldkit.outputs import write_bytes


def fold(
    inputs: c.Inputs,
    output: c.Output = None,
    format: c.Format = "auto",
    pid: c.Pid = False,
    tid: c.Tid = False,
    kernel: c.Kernel = False,
    jit: c.Jit = False,
    all: c.All = False,
    addrs: c.Addrs = False,
    event: c.Event = None,
    weight: c.WeightBy = "period",
    skip_after: c.SkipAfter = None,
    map: c.Maps = None,
    strict: c.Strict = False,
    jobs: c.Jobs = 0,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
) -> None:
    """Fold captures into sorted `stack weight` lines (FlameGraph's folded format).

    Example: foldkit fold cpu.perf.zst -o cpu.folded   |   zstdcat cpu.perf.zst | foldkit fold - > cpu.folded
    """
    options = c.fold_options(format, pid, tid, kernel, jit, all, addrs, event, weight, skip_after, map, strict, jobs)
    profile = read(inputs, options)
    c.report(profile.diagnostics, quiet, verbose)
    write_bytes(output, profile.to_folded_bytes())
