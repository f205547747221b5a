"""`foldkit flamegraph`: captures -> interactive SVG flame graph, icicle graph or flame chart
(the command's flags; what it does is `foldkit.cli.draw`)."""

from __future__ import annotations

from foldkit.cli import common as c
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress
from foldkit.cli.draw import draw
from foldkit.cli.render_flags import RenderFlags, renders_svg
from foldkit.ingest import FoldOptions
from foldkit.transform import Pipeline


@t.transforms_stacks
@c.reads_captures
@renders_svg
def flamegraph(
    inputs: c.Inputs,
    output: c.Output = None,
    cluster: ClusterAddress = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    *,
    fold_options: FoldOptions,
    render: RenderFlags,
    transforms: Pipeline,
) -> None:
    """Draw an interactive flame graph of captures: an SVG (hover, click to zoom, Ctrl-F to search),
    or with -o x.html a self-contained viewer (every frame on a canvas; flame, icicle, sandwich
    and top-table views). Two-column `stack before after` input (difffolded.pl,
    inferno-diff-folded, foldkit diff -o x.folded) draws the differential graph; -o x.pb.gz writes
    the graph's stacks as a pprof profile instead.

    Examples:

    \b
      foldkit flamegraph cpu.perf.zst -o cpu.svg --title "checkout-api, 60 s"
      foldkit flamegraph cpu.perf.zst -o cpu.html
      foldkit flamegraph --inverted cpu.folded -o icicle.svg
      foldkit fold cpu.perf.zst --unit-header | foldkit flamegraph - > cpu.svg
      foldkit diff old.perf.zst new.perf.zst --folded | foldkit flamegraph - > diff.svg
    """
    draw(
        inputs,
        output,
        cluster,
        quiet,
        verbose,
        fold_options=fold_options,
        render=render,
        transforms=transforms,
    )
