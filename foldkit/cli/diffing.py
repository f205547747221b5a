"""What `foldkit diff` does once its flags are parsed: two sides of captures -> a differential
flame graph or viewer, the two-column folded form, a pprof diff or the table of changes. Without
Typer: the command (`foldkit.cli.diff`) and the fast path (`foldkit.cli.fast`) both call
`compare`."""

from __future__ import annotations

from foldkit.analysis.defaults import DEFAULT_DIFF_LIMIT
from foldkit.outputs import TABLE_SUFFIXES, output_suffixes
from foldkit.render.defaults import DEFAULT_COLOR_BY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from foldkit.cli.render_values import RenderFlags
    from foldkit.ingest.options import FoldOptions
    from foldkit.outputs import OutputPath
    from foldkit.render import RenderOptions
    from foldkit.transform import Pipeline

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

#: The defaults of `compare`'s own parameters (the command's flags that are no folding, picture or
#: transform flag), written once: the Typer command declares these (a test checks they agree).
DEFAULTS: dict[str, object] = {
    "before": None,
    "after": None,
    "output": None,
    "basis": None,
    "color_by": DEFAULT_COLOR_BY,
    "normalize": None,
    "strip_hex": False,
    "folded": False,
    "limit": DEFAULT_DIFF_LIMIT,
    "sort": "self",
    "csv": False,
    "json": False,
    "parquet": False,
    "quiet": False,
    "verbose": False,
}


def _options(render: RenderFlags | None) -> RenderOptions:
    """The picture's options: `render`'s, or every picture flag's default (None)."""
    if render is not None:
        return render.options
    from foldkit.cli.render_values import RENDER_DEFAULTS, render_flags

    return render_flags(**RENDER_DEFAULTS).options


def compare(
    sides: list[str] | None,
    before: list[str] | None,
    after: list[str] | None,
    output: OutputPath | None,
    basis: str | None,
    color_by: str,
    normalize: bool | None,
    strip_hex: bool,
    folded: bool,
    limit: int,
    sort: str,
    csv: bool,
    json: bool,
    parquet: bool,
    quiet: bool,
    verbose: bool,
    *,
    fold_options: FoldOptions,
    render: RenderFlags | None,
    transforms: Pipeline | None,
) -> None:
    """`foldkit diff` (see its help) with its flags parsed (`render` None: every picture flag at
    its default, made only for a picture; `transforms` None: no transform step)."""
    from foldkit.analysis import diff as d
    from foldkit.analysis.sides import prepare, split_sides
    from foldkit.analysis.tables import write_table
    from foldkit.cli.running import read_transformed, report
    from foldkit.errors import UsageError
    from foldkit.outputs import output_suffix, refuse_input_as_output, write_bytes, write_stream
    from foldkit.render.defaults import BASIS_CHOICES, DEFAULT_BASIS

    if not (folded or csv or json or parquet):  # a format flag names the format whatever the suffix
        output_suffix("diff", output)
    kind = d.output_kind(output, folded=folded, csv=csv, json=json, parquet=parquet)
    if basis is not None and basis not in BASIS_CHOICES:
        raise UsageError(f"--basis must be one of {', '.join(BASIS_CHOICES)}, not {basis!r}")
    _check_color_by(color_by)
    first, second = split_sides(sides, before, after)
    refuse_input_as_output([output], [*first, *second])
    old, new = (prepare(read_transformed(transforms, side, fold_options, None), hex_numbers=strip_hex) for side in (first, second))
    for p in (old, new):
        report(p.diagnostics, quiet, verbose)
    scaled = normalize if normalize is not None else kind not in ("folded", "pprof")
    if kind == "folded" and not scaled and (text := d.table_difffolded_writer(old, new)) is not None:
        write_stream(output, text)  # written a piece at a time, never held whole
        return
    if kind not in ("svg", "html", "folded", "pprof") and (table := d.table_changes(old, new, scaled, sort, limit)) is not None:
        write_table(table, output, kind)
        return
    if kind == "svg" and (svg := d.table_diff_svg(old, new, scaled, basis or DEFAULT_BASIS, _options(render), color_by)) is not None:
        write_bytes(output, svg)
        return
    if kind == "html" and (page := d.table_diff_html(old, new, scaled, basis, _options(render), color_by)) is not None:
        write_stream(output, page)  # the tree is built; the page is written as it is compressed
        return
    result = d.diff_profiles(old, new, normalize=scaled)
    if kind == "svg":
        from foldkit.render.diffgraph import render_diff

        write_bytes(output, render_diff(result, basis or DEFAULT_BASIS, _options(render), color_by=color_by))
    elif kind == "html":
        from foldkit.render.diffgraph import diff_html

        write_stream(output, diff_html(result, basis, _options(render), color_by=color_by))
    elif kind == "folded":
        write_bytes(output, d.difffolded_bytes(result))
    elif kind == "pprof":
        from foldkit.export import export

        export(d.as_profile(result, new.event if new.event == old.event else None), output)
    else:
        write_table(d.changes_table(result, sort, limit), output, kind)


def _check_color_by(color_by: str) -> None:
    """`render.diffgraph.check_color_by` (a UsageError for another value), loading the
    differential graph's module only for a value other than the two it takes."""
    from foldkit.render.defaults import COLOR_BY_CHOICES

    if color_by not in COLOR_BY_CHOICES:
        from foldkit.render.diffgraph import check_color_by

        check_color_by(color_by)
