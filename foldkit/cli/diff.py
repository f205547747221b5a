"""`foldkit diff`: compare two profiles (differential flame graph, two-column folded, or table);
the command's flags; what it does is `foldkit.cli.diffing.compare`."""

from __future__ import annotations

from typing import Annotated

import typer

from foldkit.analysis.defaults import DEFAULT_DIFF_LIMIT
from foldkit.cli import common as c
from foldkit.cli import compare_flags as f
from foldkit.cli import transforms as t
from foldkit.cli.diffing import compare
from foldkit.cli.render_flags import RenderFlags, renders_svg
from foldkit.ingest import FoldOptions
from foldkit.render.defaults import DEFAULT_COLOR_BY
from foldkit.transform import Pipeline

Before = Annotated[list[str] | None, typer.Option("--before", metavar="FILE", help="A BEFORE capture (repeatable; a quoted glob is expanded). Several are merged.")]
After = Annotated[list[str] | None, typer.Option("--after", metavar="FILE", help="An AFTER capture (repeatable; a quoted glob is expanded). Several are merged.")]
Normalize = Annotated[bool | None, typer.Option("--normalize/--no-normalize", "-n", help="Scale BEFORE to AFTER's total (default: on for SVG and tables, off for .folded like difffolded.pl and for pprof like pprof -diff_base; -n as difffolded.pl's).")]
Basis = Annotated[str | None, typer.Option("--basis", help="Frame widths from: after (the SVG's default), before, or union (the larger of the two, so paths only in BEFORE stay visible; the .html viewer's default, switchable in the page).")]
ColorBy = Annotated[str, typer.Option("--color-by", help="Colour each frame by the change of its own (self) weight, as flamegraph.pl and inferno do (default), or by the change of its total (inclusive) weight: self or total. For .svg and .html.")]
AsFolded = Annotated[bool, typer.Option("--folded", help="Write the two-column folded form (also chosen by -o x.folded).")]

@t.transforms_stacks
@c.reads_captures
@renders_svg
def diff(
    sides: f.Sides = None,
    before: Before = None,
    after: After = None,
    output: c.Output = None,
    basis: Basis = None,
    color_by: ColorBy = DEFAULT_COLOR_BY,
    normalize: Normalize = None,
    strip_hex: f.StripHex = False,
    folded: AsFolded = False,
    limit: f.DiffLimit = DEFAULT_DIFF_LIMIT,
    sort: f.Sort = "self",
    csv: f.AsCsv = False,
    json: f.AsJson = False,
    parquet: f.AsParquet = False,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
    render: RenderFlags,
    transforms: Pipeline,
) -> None:
    """Compare BEFORE and AFTER: -o x.svg a differential flame graph, -o x.html a differential
    viewer, -o x.folded the `stack before after` form of difffolded.pl, -o x.pb.gz a pprof
    profile in pprof's -diff_base form (AFTER's samples, BEFORE's negated and labelled
    pprof::base, so `go tool pprof -top` shows AFTER minus BEFORE), otherwise the functions that
    changed most.

    Examples:

    \b
      foldkit diff old.perf.zst new.perf.zst -o diff.svg
      foldkit diff old.perf.zst new.perf.zst -o diff.html
      foldkit diff --before 'old-*.perf.zst' --after 'new-*.perf.zst'
    """
    compare(
        sides,
        before,
        after,
        output,
        basis,
        color_by,
        normalize,
        strip_hex,
        folded,
        limit,
        sort,
        csv,
        json,
        parquet,
        quiet,
        verbose,
        fold_options=fold_options,
        render=render,
        transforms=transforms,
    )
