"""Flame graphs: a `Profile` to a self-contained, interactive SVG.

    render_flamegraph(profile, RenderOptions(...)) -> bytes

Built from parts that other renderers (the differential graph of `foldkit diff`) reuse:

* `layout.py`  — `layout_profile(profile, options) -> Layout`: the drawn frames (name, depth,
  start, weight, parent, path) in weight units; `StackIndex` answers "how much weight passes
  through this frame path" for another profile;
* `svg.py`     — `write_svg(layout, options, fill=, tooltip=, attributes=, subtitle=)`: the SVG,
  with per-frame colour, tooltip and extra `data-*` attributes supplied by the caller;
* `palette.py` — name -> colour (`colorizer`), `diff_color`, palette maps (escaping untrusted text is
  `foldkit.text`, shared with the terminal output); `options.py` — `RenderOptions`; `defaults.py` — every default, once.
"""

from __future__ import annotations

import gc
import os

from foldkit.render import defaults

#: `typing.TYPE_CHECKING` without importing typing: the plain flame graph (`foldkit.cli.plain`)
#: loads this package for its defaults, and none of typing, contextlib, importlib or collections.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType
    from typing import Any

    from foldkit.profile import Diagnostics, Profile, Weight
    from foldkit.render.layout import Layout, StackIndex, layout_chart, layout_flame
    from foldkit.render.nameattr import NameAttributes
    from foldkit.render.options import DEFAULT_RENDER_OPTIONS, RenderOptions
    from foldkit.render.svg import write_svg

#: Names this package gives from its modules, imported on first use: the plain flame graph
#: (`foldkit.cli.plain`) reads `foldkit.render.defaults` without loading lxml, the layout's
#: and the options' dataclasses or the palettes.
_FROM = {
    "Layout": "foldkit.render.layout",
    "StackIndex": "foldkit.render.layout",
    "layout_chart": "foldkit.render.layout",
    "layout_flame": "foldkit.render.layout",
    "NameAttributes": "foldkit.render.nameattr",
    "DEFAULT_RENDER_OPTIONS": "foldkit.render.options",
    "RenderOptions": "foldkit.render.options",
    "write_svg": "foldkit.render.svg",
}


def __getattr__(name: str) -> Any:
    """The names of `_FROM`, from their modules."""
    from foldkit.lazy import attribute

    return attribute(globals(), _FROM, name)

#: Output names that get the HTML viewer (`foldkit.render.viewer`) instead of an SVG (before any
#: .gz/.zst suffix).
VIEWER_SUFFIXES = (".html", ".htm")


def wants_viewer(path: str | os.PathLike[str] | None) -> bool:
    """True when an output name asks for the HTML viewer (`x.html`, `x.html.gz`, ...)."""
    if path is None or os.fspath(path) == "-":
        return False
    name = os.fspath(path).lower()
    for compression in (".gz", ".zst"):
        name = name.removesuffix(compression)
    return name.endswith(VIEWER_SUFFIXES)


def reverse_stack(stack: str) -> str:
    """The stack with its frames in the opposite order (leaf first)."""
    return ";".join(reversed(stack.split(";")))


def reversed_weights(weights: Mapping[str, Weight]) -> dict[str, Weight]:
    """Every stack reversed (leaf first), weights of stacks that become equal summed."""
    out: dict[str, Weight] = {}
    for stack, w in weights.items():
        key = reverse_stack(stack)
        out[key] = out.get(key, 0) + w
    return out


def min_fraction(options: RenderOptions) -> float:
    """`--minwidth` as a fraction of the full width."""
    value, percent = options.min_width_value()
    return value / 100 if percent else value / options.plot_width


def layout_profile(profile: Profile, options: RenderOptions | None = None) -> Layout:
    """The frames `options` (default: `DEFAULT_RENDER_OPTIONS`) asks to draw for `profile`:
    merged and sorted, or in time order for a flame chart (the profile's timeline when it has
    one, else the order of its stacks)."""
    from foldkit.profile import LazyProfile
    from foldkit.render.layout import layout_flame, layout_table, layout_timeline
    from foldkit.render.options import DEFAULT_RENDER_OPTIONS

    options = DEFAULT_RENDER_OPTIONS if options is None else options
    fraction = min_fraction(options)
    if options.flamechart:
        samples = profile.timeline
        if samples is None:
            nan = float("nan")
            samples = [(nan, s, w) for s, w in profile.weights.items()]
        return layout_timeline(
            samples,
            stack_of=reverse_stack if options.reverse else None,
            min_fraction=fraction,
            max_frames=options.max_frames,
            span=options.total,
        )
    table = profile.table if isinstance(profile, LazyProfile) and not options.reverse else None
    stacks = table if table is not None else reversed_weights(profile.weights) if options.reverse else profile.weights
    lay = layout_table if table is not None else layout_flame
    return lay(
        stacks,  # type: ignore[arg-type]
        min_fraction=fraction,
        max_frames=options.max_frames,
        sort_by_weight=options.sort_by_weight,
        span=options.total,
    )


def kind_of(options: RenderOptions) -> str:
    """`flamechart`, `icicle` or `flamegraph` (the SVG's `data-kind`)."""
    if options.flamechart:
        return "flamechart"
    return "icicle" if options.inverted else "flamegraph"


def subtitle_for(layout: Layout, options: RenderOptions, profile: Profile | None = None) -> str | None:
    """The user's subtitle plus what the reader must know: a raised minimum width, input order."""
    parts = [options.subtitle] if options.subtitle else []
    if options.flamechart and profile is not None and (profile.timeline is None or profile.format == "folded"):
        parts.append("stacks in input order (no timestamps)")
    from foldkit.text import format_count

    if layout.budget_limited and layout.span:
        px = layout.min_weight / layout.span * options.plot_width
        share = 100 * layout.min_weight / layout.span
        parts.append(
            f"frames narrower than {px:.3g} px ({share:.3g}%) hidden to stay within "
            f"{format_count(options.max_frames)} frames"
        )
    return " — ".join(parts) if parts else None


def warn_about(layout: Layout, options: RenderOptions, diagnostics: Diagnostics) -> None:
    """Add what a user should hear about this layout to `diagnostics`."""
    from foldkit.text import format_count

    if layout.nonpositive:
        diagnostics.warnings.append(f"{layout.nonpositive} stack(s) with zero or negative weight left out of the graph")
    if options.total is not None and layout.total > options.total:
        diagnostics.warnings.append(
            f"--total {format_count(options.total)} is less than the profile's total "
            f"{format_count(layout.total)}; the profile's total is used"
        )
    if options.negate:
        diagnostics.warnings.append("--negate only changes differential graphs (foldkit diff, two-column input); ignored")
    if layout.budget_limited:
        diagnostics.notes.append(
            f"more than {format_count(options.max_frames)} frames: frames lighter than "
            f"{format_count(layout.min_weight)} hidden (--max-frames, --minwidth)"
        )


class gc_paused:
    """Pause the cyclic garbage collector while a `with` block runs: building a picture allocates
    hundreds of thousands of small acyclic objects, and on this project's benchmark (45 MB
    folded, 43,667 stacks) the collections they trigger cost as much as the rendering itself
    (0.26 s against 0.15 s). A class, not a `contextlib` generator: this package loads with
    the plain flame graph, which loads no contextlib."""

    __slots__ = ("_enabled",)

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None) -> None:
        if self._enabled:
            gc.enable()


def render_flamegraph(
    profile: Profile,
    options: RenderOptions | None = None,
    *,
    palette_map: dict[str, str] | None = None,
    diagnostics: Diagnostics | None = None,
    names: NameAttributes | None = None,
) -> bytes:
    """The flame graph (or icicle graph, or flame chart) of `profile` as SVG bytes.

    `palette_map` (flamegraph.pl's `--cp`): names found there keep their colour, new names are
    added to it. `names` (`--nameattr`): tooltips and attributes of some functions' frames.
    Warnings (dropped stacks, a raised minimum width) go to `diagnostics`; `options` defaults
    to `DEFAULT_RENDER_OPTIONS`."""
    from foldkit.render.options import DEFAULT_RENDER_OPTIONS

    with gc_paused():
        return _render(profile, DEFAULT_RENDER_OPTIONS if options is None else options, palette_map, diagnostics, names)


def _render(
    profile: Profile,
    options: RenderOptions,
    palette_map: dict[str, str] | None,
    diagnostics: Diagnostics | None,
    names: NameAttributes | None = None,
) -> bytes:
    from foldkit.render.palette import colorizer, diffusion_color
    from foldkit.render.svg import write_svg
    from foldkit.timeline import has_times

    layout = layout_profile(profile, options)
    if diagnostics is not None:
        warn_about(layout, options, diagnostics)
        if options.flamechart and not has_times(profile.timeline):
            diagnostics.warnings.append(
                "--flamechart: the input has no sample times (folded text, BPF maps, perf script "
                "without the time field), so the stacks are drawn in input order, not in time"
            )
    frame_names = layout.names
    palette: tuple[str, bool] | None = None
    if options.color_diffusion:
        span = layout.span or 1
        weights = layout.weights

        def fill(i: int) -> str:
            return diffusion_color(weights[i] / span)
    else:
        if palette_map is None and not options.random:
            palette = (options.palette, options.hash)
        color = colorizer(options.palette, options.hash, palette_map, randomly=options.random)

        def fill(i: int) -> str:
            return color(frame_names[i])

    return write_svg(
        layout,
        options,
        fill=fill,
        names=names,
        palette=palette,
        count_name=options.count_name or profile.unit or defaults.COUNT_NAME,
        subtitle=subtitle_for(layout, options, profile),
        kind=kind_of(options),
        message=None if layout.total else "no samples",
    )


__all__ = [
    "DEFAULT_RENDER_OPTIONS",
    "VIEWER_SUFFIXES",
    "Layout",
    "RenderOptions",
    "StackIndex",
    "layout_chart",
    "layout_flame",
    "layout_profile",
    "render_flamegraph",
    "wants_viewer",
    "write_svg",
]
