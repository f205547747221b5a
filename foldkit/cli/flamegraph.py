"""`foldkit flamegraph`: captures -> interactive SVG flame graph, icicle graph or flame chart."""

from __future__ import annotations

from dataclasses import replace

from foldkit.cli import common as c
from foldkit.cli import transforms as t
from foldkit.cli.cluster_flags import ClusterAddress, cluster_reader
from foldkit.cli.progress import reading_progress
from foldkit.cli.render_flags import RenderFlags, renders_svg
from foldkit.ingest import FoldOptions, read
from foldkit.outputs import output_suffix, output_suffixes, refuse_input_as_output, write_bytes
from foldkit.profile import Profile, merge_profiles
from foldkit.render import gc_paused, render_flamegraph, wants_viewer
from foldkit.render.palette import load_palette_map, save_palette_map
from foldkit.transform import Pipeline

output_suffixes("flamegraph", {".svg": "interactive SVG flame graph", ".html": "flame-graph viewer (canvas)", ".htm": "flame-graph viewer (canvas)"})


def _read_timeline(inputs: list[str], fold_options: FoldOptions) -> Profile:
    """Like `read`, keeping per-sample timestamps, one input after the other."""
    parts = [read([spec], replace(fold_options, keep_time=True)) for spec in inputs]
    profile = merge_profiles(parts)
    if len(parts) > 1 and all(p.timeline is not None for p in parts):
        profile.timeline = [sample for p in parts for sample in p.timeline or ()]
    return profile


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
    and top-table views).

    Examples:

    \b
      foldkit flamegraph cpu.perf.zst -o cpu.svg --title "checkout-api, 60 s"
      foldkit flamegraph cpu.perf.zst -o cpu.html
      foldkit flamegraph --inverted cpu.folded -o icicle.svg
      foldkit fold cpu.perf.zst --unit-header | foldkit flamegraph - > cpu.svg
    """
    options = render.options
    refuse_input_as_output([output], inputs)
    output_suffix("flamegraph", output)
    with gc_paused(), reading_progress(quiet), cluster_reader(cluster, "--flamechart" if options.flamechart else None) as reader:
        # sample times for a flame chart, and for the viewer's Time view
        timed = options.flamechart or wants_viewer(output)
        profile = transforms.read(inputs, fold_options, reader or (_read_timeline if timed else read))
    palette_map = load_palette_map(render.palette_file) if render.palette_file else None
    draw = render_flamegraph
    if wants_viewer(output):
        from foldkit.render.viewer import render_viewer  # loaded only when asked for

        draw = render_viewer
    svg = draw(profile, options, palette_map=palette_map, diagnostics=profile.diagnostics)
    c.report(profile.diagnostics, quiet, verbose)
    write_bytes(output, svg)
    if render.palette_file and palette_map is not None:
        save_palette_map(render.palette_file, palette_map)
