"""What `foldkit flamegraph` does once its flags are parsed: captures -> interactive SVG flame
graph, icicle graph or flame chart (or the viewer, or pprof). Without Typer: the command
(`foldkit.cli.flamegraph`) and the drop-in fast path (`foldkit.cli.fast`) both call `draw`."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from foldkit.cli.progress import reading_progress
from foldkit.cli.render_values import RenderFlags
from foldkit.cli.running import cluster_reader, read_transformed, report
from foldkit.export import export, exporter_for
from foldkit.ingest import FoldOptions, read
from foldkit.outputs import (
    output_suffix,
    output_suffixes,
    refuse_input_as_output,
    write_bytes,
    write_stream,
)
from foldkit.profile import Profile, merge_profiles
from foldkit.render import RenderOptions, gc_paused, render_flamegraph, wants_viewer
from foldkit.render.nameattr import load_name_attributes
from foldkit.render.palette import load_palette_map, save_palette_map
from foldkit.timeline import concat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from foldkit.transform import Pipeline

output_suffixes(
    "flamegraph",
    {
        ".svg": "interactive SVG flame graph",
        ".html": "flame-graph viewer (canvas)",
        ".htm": "flame-graph viewer (canvas)",
        ".pb": "the graph's stacks as pprof profile.proto (.pb.gz gzip'd), for go tool pprof, Pyroscope, Parca",
        ".pprof": "the graph's stacks as pprof profile.proto, gzip'd",
    },
)


def _read_timeline(inputs: list[str], fold_options: FoldOptions) -> Profile:
    """Like `read`, keeping per-sample timestamps, one input after the other."""
    parts = [read([spec], replace(fold_options, keep_time=True)) for spec in inputs]
    profile = merge_profiles(parts)
    if len(parts) > 1 and all(p.timeline is not None for p in parts):
        profile.timeline = concat(p.timeline or () for p in parts)
    return profile


def _differential(profile: Profile, options: RenderOptions, viewer: bool) -> bytes:
    """The differential graph of a two-column `stack before after` input (difffolded.pl's, as
    flamegraph.pl and inferno draw it: widths from AFTER, colours from the change, not normalised)."""
    from foldkit.analysis.diff import diff_profiles
    from foldkit.render.diffgraph import render_diff, render_diff_html

    before = Profile(weights=profile.before or {}, unit=profile.unit, sources=profile.sources)
    diff = diff_profiles(before, profile)
    if viewer:
        return render_diff_html(diff, None, options)
    return render_diff(diff, "after", options, profile.diagnostics)


def draw(
    inputs: list[str],
    output: Path | None,
    cluster: str | None,
    quiet: bool,
    verbose: bool,
    *,
    fold_options: FoldOptions,
    render: RenderFlags,
    transforms: Pipeline | None,
) -> None:
    """`foldkit flamegraph` (see its help) with its flags parsed (`transforms` None: no transform
    step, and the transforms not loaded)."""
    options = render.options
    refuse_input_as_output([output], inputs)
    output_suffix("flamegraph", output)
    if wants_viewer(output):
        # loaded only when asked for, and before the read: the viewer's modules (lxml among them,
        # ~0.02 s) load while the native core still reads the input and builds its tree ahead
        import foldkit.render.viewer  # noqa: F401
    with (
        gc_paused(),
        reading_progress(quiet),
        cluster_reader(cluster, "--flamechart" if options.flamechart else None) as reader,
    ):
        # sample times for a flame chart, and for the viewer's Time view; a flame chart of
        # folded text keeps its lines in order
        timed = options.flamechart or wants_viewer(output)
        if options.flamechart:
            fold_options = replace(fold_options, keep_order=True)
        profile = read_transformed(transforms, inputs, fold_options, reader or (_read_timeline if timed else read))
    if exporter_for(output).name == "pprof":  # the stacks the graph would show, for pprof's tools
        report(profile.diagnostics, quiet, verbose)
        export(profile, output)
        return
    warnings = profile.diagnostics.warnings
    palette_map = load_palette_map(render.palette_file, warnings) if render.palette_file else None
    names = None
    if render.nameattr is not None:
        names = load_name_attributes(render.nameattr)
        warnings.extend(names.warnings)
    svg: bytes | None = None
    if profile.before is not None and not options.flamechart:
        svg = _differential(profile, options, wants_viewer(output))
    elif wants_viewer(output):
        from foldkit.render.viewer import write_viewer  # loaded only when asked for

        # the page is written as its data is compressed: never whole in memory
        write_stream(
            output,
            partial(
                write_viewer,
                profile,
                options=options,
                palette_map=palette_map,
                diagnostics=profile.diagnostics,
            ),
        )
    else:
        svg = render_flamegraph(
            profile, options, palette_map=palette_map, diagnostics=profile.diagnostics, names=names
        )
    report(profile.diagnostics, quiet, verbose)
    if svg is not None:
        write_bytes(output, svg)
    if render.palette_file and palette_map is not None:
        save_palette_map(render.palette_file, palette_map)
