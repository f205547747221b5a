"""`foldkit diff`: compare two profiles (differential flame graph, two-column folded, or table)."""

from __future__ import annotations

from typing import Annotated

import typer

from foldkit.analysis.defaults import DEFAULT_DIFF_LIMIT
from foldkit.cli import common as c
from foldkit.cli import compare_flags as f
from foldkit.cli import transforms as t
from foldkit.cli.render_flags import RenderFlags, renders_svg
from foldkit.errors import UsageError
from foldkit.ingest import FoldOptions
from foldkit.outputs import (
    TABLE_SUFFIXES,
    output_suffix,
    output_suffixes,
    refuse_input_as_output,
    write_bytes,
    write_stream,
)
from foldkit.render.defaults import BASIS_CHOICES, DEFAULT_BASIS, DEFAULT_COLOR_BY
from foldkit.transform import Pipeline

Before = Annotated[list[str] | None, typer.Option("--before", metavar="FILE", help="A BEFORE capture (repeatable; a quoted glob is expanded). Several are merged.")]
After = Annotated[list[str] | None, typer.Option("--after", metavar="FILE", help="An AFTER capture (repeatable; a quoted glob is expanded). Several are merged.")]
Normalize = Annotated[bool | None, typer.Option("--normalize/--no-normalize", "-n", help="Scale BEFORE to AFTER's total (default: on for SVG and tables, off for .folded like difffolded.pl and for pprof like pprof -diff_base; -n as difffolded.pl's).")]
Basis = Annotated[str | None, typer.Option("--basis", help="Frame widths from: after (the SVG's default), before, or union (the larger of the two, so paths only in BEFORE stay visible; the .html viewer's default, switchable in the page).")]
ColorBy = Annotated[str, typer.Option("--color-by", help="Colour each frame by the change of its own (self) weight, as flamegraph.pl and inferno do (default), or by the change of its total (inclusive) weight: self or total. For .svg and .html.")]
AsFolded = Annotated[bool, typer.Option("--folded", help="Write the two-column folded form (also chosen by -o x.folded).")]

output_suffixes(
    "diff",
    {
        ".svg": "differential flame graph",
        ".html": "differential flame-graph viewer",
        ".htm": "differential flame-graph viewer",
        ".folded": "two-column folded stacks",
        ".collapsed": "two-column folded stacks",
        ".pb": "pprof profile.proto in pprof's -diff_base form (.pb.gz gzip'd): AFTER, and BEFORE negated",
        ".pprof": "pprof profile.proto in -diff_base form, gzip'd (as .pb.gz)",
        **{suffix: f"{fmt} table" for suffix, fmt in TABLE_SUFFIXES.items()},
    },
)


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
    from foldkit.analysis import diff as d
    from foldkit.analysis.sides import prepare, split_sides
    from foldkit.analysis.tables import write_table
    from foldkit.render.diffgraph import check_color_by, diff_html, render_diff

    if not (folded or csv or json or parquet):  # a format flag names the format whatever the suffix
        output_suffix("diff", output)
    kind = d.output_kind(output, folded=folded, csv=csv, json=json, parquet=parquet)
    if basis is not None and basis not in BASIS_CHOICES:
        raise UsageError(f"--basis must be one of {', '.join(BASIS_CHOICES)}, not {basis!r}")
    check_color_by(color_by)
    first, second = split_sides(sides, before, after)
    refuse_input_as_output([output], [*first, *second])
    old, new = (prepare(transforms.read(side, fold_options), hex_numbers=strip_hex) for side in (first, second))
    for p in (old, new):
        c.report(p.diagnostics, quiet, verbose)
    scaled = normalize if normalize is not None else kind not in ("folded", "pprof")
    if kind == "folded" and not scaled and (text := d.table_difffolded_writer(old, new)) is not None:
        write_stream(output, text)  # written a piece at a time, never held whole
        return
    if kind not in ("svg", "html", "folded", "pprof") and (table := d.table_changes(old, new, scaled, sort, limit)) is not None:
        write_table(table, output, kind)
        return
    if kind == "svg" and (svg := d.table_diff_svg(old, new, scaled, basis or DEFAULT_BASIS, render.options, color_by)) is not None:
        write_bytes(output, svg)
        return
    if kind == "html" and (page := d.table_diff_html(old, new, scaled, basis, render.options, color_by)) is not None:
        write_stream(output, page)  # the tree is built; the page is written as it is compressed
        return
    result = d.diff_profiles(old, new, normalize=scaled)
    if kind == "svg":
        write_bytes(output, render_diff(result, basis or DEFAULT_BASIS, render.options, color_by=color_by))
    elif kind == "html":
        write_stream(output, diff_html(result, basis, render.options, color_by=color_by))
    elif kind == "folded":
        write_bytes(output, d.difffolded_bytes(result))
    elif kind == "pprof":
        from foldkit.export import export

        export(d.as_profile(result, new.event if new.event == old.event else None), output)
    else:
        write_table(d.changes_table(result, sort, limit), output, kind)
