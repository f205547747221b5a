"""The differential flame graph: one profile's layout, every frame coloured by how much it changed.

The two sides are aligned by `foldkit.analysis.diff.diff_profiles`; this module draws them.
Built on the flame graph renderer (`foldkit.render`): the frames are laid out from the `--basis`
weights, each frame's weight in BEFORE and AFTER is looked up by its stack prefix, and the SVG
writer gets a fill (red grew, blue shrank, white unchanged), a tooltip and `data-before` /
`data-after` attributes per frame.

The fill follows the change of a frame's own (self) weight by default, as flamegraph.pl and
inferno colour it: a caller whose callee got slower stays white, only the callee turns red.
`color_by="total"` colours by the change of the inclusive weight instead.

A normalised BEFORE of integer weights is summed per frame in its integers and scaled once (the
sums do not depend on the order of the stacks). `render_table_diff` draws the same graph from two
folded files' native stack tables: the basis side is laid out by the native layout and the other
side's weights per drawn frame are summed by the native core (`table_frame_sums`), so no stack
becomes a Python object; `render_diff` of the dicts is its twin and the reference.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Protocol

from foldkit.errors import UsageError
from foldkit.jobs import default_jobs
from foldkit.native import native_core
from foldkit.profile import Diagnostics, LazyProfile, Profile, StackTable, Weight
from foldkit.render import (
    Layout,
    RenderOptions,
    layout_profile,
    reversed_weights,
    subtitle_for,
)
from foldkit.render.defaults import BASIS_CHOICES, COLOR_BY_CHOICES, DEFAULT_BASIS, DEFAULT_COLOR_BY
from foldkit.render.palette import diff_color
from foldkit.text import format_count, format_number

#: Title of a differential graph when none is given.
DIFF_TITLE = "Differential Flame Graph"
#: Changes smaller than this fraction of the total are rounding noise from normalising, not change.
NOISE = 1e-9
#: Share of BEFORE hidden by `--basis after` above which the subtitle points to `--basis union`.
HIDDEN_NOTE_MIN = 0.001


class StackDiff(Protocol):
    """What the differential graph draws: two profiles aligned stack by stack (made by
    `foldkit.analysis.diff.diff_profiles`; `before` already scaled when normalised)."""

    @property
    def before(self) -> Mapping[str, Weight]: ...
    @property
    def after(self) -> Mapping[str, Weight]: ...
    @property
    def scale(self) -> float: ...
    @property
    def normalized(self) -> bool: ...
    @property
    def unit(self) -> str: ...
    @property
    def roots(self) -> int: ...
    @property
    def raw_before(self) -> Mapping[str, Weight] | None: ...


def basis_weights(diff: StackDiff, basis: str) -> dict[str, Weight]:
    """The stack weights that set frame widths: AFTER's, (scaled) BEFORE's, or per stack the larger."""
    if basis == "after":
        return dict(diff.after)
    if basis == "before":
        return dict(diff.before)
    if basis == "union":
        b, a = diff.before, diff.after
        return {s: max(b.get(s, 0), a.get(s, 0)) for s in b.keys() | a.keys()}
    raise UsageError(f"--basis must be one of {', '.join(BASIS_CHOICES)}, not {basis!r}")


def _oriented(weights: Mapping[str, Weight], reverse: bool) -> Mapping[str, Weight]:
    return reversed_weights(weights) if reverse else weights


def hidden_share(diff: StackDiff) -> float:
    """Share of BEFORE in stacks that AFTER does not have (invisible with `--basis after`); of
    BEFORE's integers when it was scaled (the share is the same, the sums exact)."""
    before = diff.raw_before if diff.raw_before is not None else diff.before
    total = sum(before.values())
    if not total:
        return 0.0
    return sum(w for s, w in before.items() if s not in diff.after) / total


def check_color_by(color_by: str) -> str:
    """`color_by` when it is one of COLOR_BY_CHOICES, else a UsageError."""
    if color_by not in COLOR_BY_CHOICES:
        raise UsageError(f"--color-by must be one of {', '.join(COLOR_BY_CHOICES)}, not {color_by!r}")
    return color_by


class _Sides(Protocol):
    """Where the graph reads the two sides' weights: dicts (`_Dicts`, the reference) or native
    stack tables (`_Tables`)."""

    @property
    def scale(self) -> float:
        """BEFORE's weights are multiplied by this."""
        ...

    @property
    def unit(self) -> str:
        """What the weights count."""
        ...

    def layout(self, basis: str, options: RenderOptions) -> Layout:
        """The frames drawn: the `basis` weights laid out."""
        ...

    def per_frame(self, layout: Layout, side: str) -> tuple[list[Weight], list[Weight]]:
        """`side`'s (before, after) inclusive and self weights on every frame of `layout`."""
        ...

    def hidden_share(self) -> float:
        """Share of BEFORE in stacks that AFTER does not have."""
        ...


def _scaled(values: list[Weight], scale: float) -> list[Weight]:
    return values if scale == 1.0 else [v * scale for v in values]


@dataclass
class _Dicts:
    """The sides as `diff`'s dicts; a scaled BEFORE of integers is summed in its integers."""

    diff: StackDiff
    reverse: bool

    @property
    def scale(self) -> float:
        return self.diff.scale

    @property
    def unit(self) -> str:
        return self.diff.unit

    def layout(self, basis: str, options: RenderOptions) -> Layout:
        return layout_profile(Profile(weights=basis_weights(self.diff, basis), unit=self.diff.unit), options)

    def per_frame(self, layout: Layout, side: str) -> tuple[list[Weight], list[Weight]]:
        # a negative scale (negative totals) turns which stacks are positive: those sum scaled
        raw = self.diff.raw_before if side == "before" and self.diff.scale > 0 else None
        weights = _oriented(raw if raw is not None else getattr(self.diff, side), self.reverse)
        scale = self.diff.scale if raw is not None else 1.0
        return _scaled(layout.inclusive(weights), scale), _scaled(layout.own(weights), scale)

    def hidden_share(self) -> float:
        return hidden_share(self.diff)


class _Refused(Exception):
    """The native core does not take a table (the caller draws from the dicts instead)."""


#: One side of a diff drawn by `render_table_diff`: a folded file's native stack table, or a dict.
Side = StackTable | Mapping[str, Weight]

#: A page whose tree is built, written to a binary file when called (`diff_html`).
PageWriter = Callable[[BinaryIO], None]


@dataclass
class _Tables:
    """The sides as folded files' native stack tables (or, for a side not in one, its dict of
    integer weights); BEFORE's weights are scaled by `scale`."""

    before: Side
    after: Side
    scale: float
    unit: str
    found: dict[str, tuple[list[int], list[int], int, int]] = field(default_factory=dict)

    def layout(self, basis: str, options: RenderOptions) -> Layout:
        side = self.after if basis == "after" else self.before
        profile = Profile(weights=dict(side), unit=self.unit) if isinstance(side, Mapping) else LazyProfile(table=side, unit=self.unit)
        return layout_profile(profile, options)

    def _sums(self, layout: Layout, side: str) -> tuple[list[int], list[int], int, int]:
        if side not in self.found:
            core = native_core()
            table = self.before if side == "before" else self.after
            other = (list(self.after) if isinstance(self.after, Mapping) else self.after) if side == "before" else None
            got = None if core is None else core.table_frame_sums(table, layout.names, layout.parents, other, default_jobs())
            if got is None:
                raise _Refused(side)
            self.found[side] = got
        return self.found[side]

    def per_frame(self, layout: Layout, side: str) -> tuple[list[Weight], list[Weight]]:
        scale = self.scale if side == "before" else 1.0
        weights = self.before if side == "before" else self.after
        if isinstance(weights, Mapping):
            return _scaled(layout.inclusive(weights), scale), _scaled(layout.own(weights), scale)
        inclusive, own, _, _ = self._sums(layout, side)
        return _scaled(list(inclusive), scale), _scaled(list(own), scale)

    def hidden_share(self) -> float:
        if isinstance(self.before, Mapping):
            if not isinstance(self.after, Mapping):
                raise _Refused("before")  # which of BEFORE's stacks AFTER's table lacks
            total = sum(self.before.values())
            return sum(w for s, w in self.before.items() if s not in self.after) / total if total else 0.0
        found = self.found.get("before")
        if found is None:
            raise _Refused("before")  # asked only after BEFORE's frames were summed
        hidden, total = found[2], found[3]
        return hidden / total if total else 0.0


def _subtitle(diff: _Sides, basis: str, options: RenderOptions, color_by: str) -> str:
    grew, shrank = ("blue", "red") if options.negate else ("red", "blue")
    what = "self" if color_by == "self" else "total (inclusive)"
    parts = [
        f"{grew}: {what} weight grew, {shrank}: shrank from BEFORE to AFTER",
        f"widths: {basis.upper() if basis != 'union' else 'larger of BEFORE and AFTER'}",
    ]
    if diff.scale != 1.0:
        parts.append(f"BEFORE normalised to AFTER's total (x{diff.scale:.4g})")
    else:
        parts.append("not normalised")
    hidden = diff.hidden_share()
    if basis == "after" and hidden > HIDDEN_NOTE_MIN:
        parts.append(f"{hidden * 100:.1f}% of BEFORE is in paths absent from AFTER (--basis union shows them)")
    return "; ".join(parts)


def render_diff(
    diff: StackDiff,
    basis: str = DEFAULT_BASIS,
    options: RenderOptions | None = None,
    diagnostics: Diagnostics | None = None,
    color_by: str = DEFAULT_COLOR_BY,
) -> bytes:
    """The differential flame graph of `diff` as SVG bytes, frames coloured by the change of their
    self weight (`color_by="self"`) or of their total weight (`"total"`)."""
    check_color_by(color_by)
    opts = _options(options)
    return _render(_Dicts(diff, opts.reverse), basis, opts, diagnostics, color_by)


def render_table_diff(
    before: Side,
    after: Side,
    scale: float,
    unit: str,
    basis: str = DEFAULT_BASIS,
    options: RenderOptions | None = None,
    diagnostics: Diagnostics | None = None,
    color_by: str = DEFAULT_COLOR_BY,
) -> bytes | None:
    """`render_diff` of folded files' native stack tables (BEFORE's weights times `scale`; a side
    not in a table may be a dict of integer weights), no stack of a table made a Python object;
    None when the core does not take them (no native core, `--reverse`, `--basis union`, a scaled
    `--basis before`, a negative scale, a table with decimal sums or stacks that are not UTF-8, a
    dict BEFORE with an AFTER table): draw `render_diff` of the dicts then."""
    check_color_by(color_by)
    opts = _options(options)
    if native_core() is None or opts.reverse or basis not in ("after", "before") or (basis == "before" and scale != 1.0) or scale <= 0:
        return None
    if any(isinstance(side, Mapping) and not all(type(w) is int for w in side.values()) for side in (before, after)):
        return None
    try:
        return _render(_Tables(before, after, scale, unit), basis, opts, diagnostics, color_by)
    except _Refused:
        return None


def _options(options: RenderOptions | None) -> RenderOptions:
    opts = options or RenderOptions()
    if opts.flamechart:
        raise UsageError("a differential graph cannot be a flame chart (--flamechart)")
    return opts if opts.title is not None else replace(opts, title=DIFF_TITLE)


def _render(sides: _Sides, basis: str, opts: RenderOptions, diagnostics: Diagnostics | None, color_by: str) -> bytes:
    """The differential graph of `sides` (see `render_diff`)."""
    if basis not in BASIS_CHOICES:
        raise UsageError(f"--basis must be one of {', '.join(BASIS_CHOICES)}, not {basis!r}")
    layout = sides.layout(basis, opts)
    # the layout's own weights are the basis side's inclusive weights: look up only the other side
    (a_w, a_own), (b_w, b_own) = (sides.per_frame(layout, side) for side in ("after", "before"))
    if basis == "after":
        a_w = list(layout.weights)
    elif basis == "before":
        b_w = list(layout.weights)
    a_total, b_total = (w[0] if w else 0 for w in (a_w, b_w))
    own = _subtitle(sides, basis, opts, color_by)
    opts = replace(opts, subtitle=f"{opts.subtitle} — {own}" if opts.subtitle else own)
    noise = NOISE * max(b_total, a_total)
    if color_by == "self":
        a_c, b_c = a_own, b_own
    else:
        a_c, b_c = a_w, b_w
    deltas = [0.0 if abs(a - b) <= noise else a - b for a, b in zip(a_c, b_c, strict=True)]
    max_delta = max((abs(d) for d in deltas[1:]), default=0.0)
    b_total = b_total or 1
    a_total = a_total or 1
    unit = opts.count_name or sides.unit
    names = layout.names

    def tooltip(i: int) -> str:
        b, a = b_w[i], a_w[i]
        pp = (a / a_total - b / b_total) * 100
        return (
            f"{names[i]} (before {format_count(b)}, after {format_count(a)} {unit}: "
            f"{'+' if a >= b else '-'}{format_count(abs(a - b))} {unit}, {pp:+.2f} pp)"
        )

    def attributes(i: int) -> dict[str, str]:
        return {"data-before": format_number(round(b_w[i], 3)), "data-after": format_number(round(a_w[i], 3))}

    if diagnostics is not None and layout.nonpositive:
        diagnostics.warnings.append(f"{layout.nonpositive} stack(s) with zero or negative weight left out of the graph")
    from foldkit.render.svg import write_svg  # (lxml: on use, `diff -o d.folded` draws nothing)

    return write_svg(
        layout,
        opts,
        fill=lambda i: diff_color(deltas[i], max_delta, opts.negate),
        count_name=unit,
        tooltip=tooltip,
        attributes=attributes,
        subtitle=subtitle_for(layout, opts),
        kind="flamegraph" if not opts.inverted else "icicle",
        message=None if layout.total else "no samples",
    )


def render_diff_html(
    diff: StackDiff, basis: str | None = None, options: RenderOptions | None = None, color_by: str = DEFAULT_COLOR_BY
) -> bytes:
    """The differential viewer page of `diff` (`foldkit diff -o x.html`): every frame of either
    side, coloured by the change of its self or total weight (`color_by`), widths from `basis`
    (default: the larger side, switchable in the page)."""
    out = io.BytesIO()
    diff_html(diff, basis, options, color_by)(out)
    return out.getvalue()


def diff_html(
    diff: StackDiff, basis: str | None = None, options: RenderOptions | None = None, color_by: str = DEFAULT_COLOR_BY
) -> PageWriter:
    """`render_diff_html`, its tree built: a function that writes the page to a binary file. A
    normalised BEFORE of integers goes to the viewer's tree as its integers and the scale (the
    core scales each node's weight once, as `diff.before` holds it scaled)."""
    raw = diff.raw_before if diff.scale > 0 else None
    if raw is not None:
        return _diff_page(raw, diff.after, diff.scale, diff.scale, diff.unit, diff.roots, basis, options, color_by)
    return _diff_page(diff.before, diff.after, diff.scale, 1.0, diff.unit, diff.roots, basis, options, color_by)


def table_diff_html(
    before: Side,
    after: Side,
    scale: float,
    unit: str,
    roots: int,
    basis: str | None = None,
    options: RenderOptions | None = None,
    color_by: str = DEFAULT_COLOR_BY,
) -> PageWriter | None:
    """`diff_html` of folded files' native stack tables (BEFORE's weights times `scale`; a side
    not in a table may be a dict of integer weights), the tables' stacks left in the core for the
    viewer's tree, which scales BEFORE's (and reverses every stack for `--reverse`); None when
    there is no native core: write `diff_html` of the dicts then."""
    opts = options or RenderOptions()
    if native_core() is None:
        return None
    return _diff_page(before, after, scale, scale, unit, roots, basis, opts, color_by)


def _diff_page(
    before: Side,
    after: Side,
    scale: float,
    before_scale: float,
    unit: str,
    roots: int,
    basis: str | None,
    options: RenderOptions | None,
    color_by: str,
) -> PageWriter:
    """The differential viewer page of two sides normalised by `scale` (said in the subtitle),
    BEFORE's weights still to be multiplied by `before_scale` (1 when they already are)."""
    from foldkit.render.viewer import DIFF_BASIS, diff_viewer

    check_color_by(color_by)
    opts = options or RenderOptions()
    notes = ["BEFORE normalised to AFTER's total (x" + f"{scale:.4g})" if scale != 1.0 else "not normalised"]
    if opts.subtitle:
        notes.insert(0, opts.subtitle)
    return diff_viewer(
        before,  # a table goes to the viewer's native tree as it is
        after,
        unit=opts.count_name or unit,
        basis=basis or DIFF_BASIS,
        options=replace(opts, subtitle="; ".join(notes)),
        title=DIFF_TITLE,
        color_by=color_by,
        roots=roots,
        before_scale=before_scale,
    )
