"""The differential flame graph: one profile's layout, every frame coloured by how much it changed.

The two sides are aligned by `foldkit.analysis.diff.diff_profiles`; this module draws them.
Built on the flame graph renderer (`foldkit.render`): the frames are laid out from the `--basis`
weights, each frame's weight in BEFORE and AFTER is looked up by its stack prefix, and the SVG
writer gets a fill (red grew, blue shrank, white unchanged), a tooltip and `data-before` /
`data-after` attributes per frame.

The fill follows the change of a frame's own (self) weight by default, as flamegraph.pl and
inferno colour it: a caller whose callee got slower stays white, only the callee turns red.
`color_by="total"` colours by the change of the inclusive weight instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from foldkit.errors import UsageError
from foldkit.profile import Diagnostics, Profile, Weight
from foldkit.render import (
    RenderOptions,
    layout_profile,
    reversed_weights,
    subtitle_for,
    write_svg,
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
    """Share of BEFORE in stacks that AFTER does not have (invisible with `--basis after`)."""
    total = sum(diff.before.values())
    if not total:
        return 0.0
    return sum(w for s, w in diff.before.items() if s not in diff.after) / total


def check_color_by(color_by: str) -> str:
    """`color_by` when it is one of COLOR_BY_CHOICES, else a UsageError."""
    if color_by not in COLOR_BY_CHOICES:
        raise UsageError(f"--color-by must be one of {', '.join(COLOR_BY_CHOICES)}, not {color_by!r}")
    return color_by


def _subtitle(diff: StackDiff, basis: str, options: RenderOptions, color_by: str) -> str:
    grew, shrank = ("blue", "red") if options.negate else ("red", "blue")
    what = "self" if color_by == "self" else "total (inclusive)"
    parts = [
        f"{grew}: {what} weight grew, {shrank}: shrank from BEFORE to AFTER",
        f"widths: {basis.upper() if basis != 'union' else 'larger of BEFORE and AFTER'}",
    ]
    if diff.normalized:
        parts.append(f"BEFORE normalised to AFTER's total (x{diff.scale:.4g})")
    else:
        parts.append("not normalised")
    hidden = hidden_share(diff)
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
    opts = options or RenderOptions()
    if opts.flamechart:
        raise UsageError("a differential graph cannot be a flame chart (--flamechart)")
    if opts.title is None:
        opts = replace(opts, title=DIFF_TITLE)
    own = _subtitle(diff, basis, opts, color_by)
    opts = replace(opts, subtitle=f"{opts.subtitle} — {own}" if opts.subtitle else own)
    weights = basis_weights(diff, basis)
    layout = layout_profile(Profile(weights=weights, unit=diff.unit), opts)

    def inclusive(weights: Mapping[str, Weight], is_basis: bool) -> tuple[list[Weight], Weight]:
        # the layout's own weights are the basis side's inclusive weights: look up only the other side
        if is_basis:
            return list(layout.weights), layout.total
        found = layout.inclusive(_oriented(weights, opts.reverse))
        return found, found[0]

    a_w, a_total = inclusive(diff.after, basis == "after")
    b_w, b_total = inclusive(diff.before, basis == "before")
    noise = NOISE * max(b_total, a_total)
    if color_by == "self":
        a_c, b_c = layout.own(_oriented(diff.after, opts.reverse)), layout.own(_oriented(diff.before, opts.reverse))
    else:
        a_c, b_c = a_w, b_w
    deltas = [0.0 if abs(a - b) <= noise else a - b for a, b in zip(a_c, b_c, strict=True)]
    max_delta = max((abs(d) for d in deltas[1:]), default=0.0)
    b_total = b_total or 1
    a_total = a_total or 1
    unit = opts.count_name or diff.unit
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
    from foldkit.render.viewer import DIFF_BASIS, render_diff_viewer

    check_color_by(color_by)
    opts = options or RenderOptions()
    notes = ["BEFORE normalised to AFTER's total (x" + f"{diff.scale:.4g})" if diff.normalized else "not normalised"]
    if opts.subtitle:
        notes.insert(0, opts.subtitle)
    return render_diff_viewer(
        diff.before,
        diff.after,
        unit=opts.count_name or diff.unit,
        basis=basis or DIFF_BASIS,
        options=replace(opts, subtitle="; ".join(notes)),
        title=DIFF_TITLE,
        color_by=color_by,
        roots=diff.roots,
    )
