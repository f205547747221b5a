"""The native SVG frame writer (`_native.svg_frames`) against its Python twin, the lxml writer of
`foldkit.render.svg`: byte-identical documents for any layout, palette and picture options, and
the twin taking over whenever the native writer cannot be exact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.profile import Profile
from foldkit.render import RenderOptions, render_flamegraph
from foldkit.render.layout import layout_flame
from foldkit.render.palette import colorizer
from foldkit.render.svg import write_svg

#: Names that exercise the palettes' rules, annotations, escaping and `visible`.
NAMES = st.sampled_from(
    [
        "main", "a", "read_[k]", "foo_[j]", "bar_[i]", "wake_[w]", "x_[k]\n", "[off-cpu:S]",
        "java/lang/Thread.run", "Lcom/x/Y;.z", "org.a.B c.d", "Interpreter", "LazyCompile:f",
        "x.js:12", "y.mjs", "[perf-123.map]", "jitted-1-2.so", "[JIT] f", "do_syscall_64",
        "a [kernel.kallsyms]", "py::f", "std::vec::Vec", "<&\"'>", "]]>", "a\x01b", "\x7f",
        "é", "naïve_[k]", "\u202e", "\u0085", "long_function_name_that_needs_cutting_" * 3, "",
        "a b", "0123456789",
    ]
)
STACKS = st.lists(NAMES, min_size=0, max_size=6).map(";".join)
WEIGHT = st.one_of(st.integers(min_value=1, max_value=1000), st.sampled_from([2**20 + 1, 10**9, 2**40]))
WEIGHTS = st.dictionaries(STACKS, WEIGHT, min_size=1, max_size=25)
PALETTES = st.sampled_from(["default", "hot", "mem", "io", "red", "aqua", "wakeup", "chain", "java", "python"])
OPTIONS = st.builds(
    RenderOptions,
    width=st.sampled_from([1200, 300, 1913]),
    frame_height=st.sampled_from([16, 2, 23]),
    font_size=st.sampled_from([12.0, 7.5, 13.0]),
    font_width=st.sampled_from([0.59, 0.3, 1.1]),
    factor=st.sampled_from([1.0, 0.001, 2.5, 3.0]),
    inverted=st.booleans(),
    truncate_text_right=st.booleans(),
    palette=PALETTES,
    hash=st.booleans(),
    min_width=st.sampled_from(["0", "0.1"]),
    count_name=st.sampled_from([None, "ms", "a&b<c>"]),
)


def both(layout_weights: dict[str, int], options: RenderOptions, span: int | None = None) -> tuple[bytes, bytes]:
    """The SVG of these stacks written natively and by the twin."""
    layout = layout_flame(layout_weights, span=span)
    color = colorizer(options.palette, options.hash)

    def fill(i: int) -> str:
        return color(layout.names[i])

    kw = {"fill": fill, "palette": (options.palette, options.hash), "count_name": options.count_name or "samples"}
    return write_svg(layout, options, **kw), write_svg(layout, options, native=False, **kw)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(WEIGHTS, OPTIONS, st.sampled_from([None, 0, 5000, 3 * 10**9]))
def test_native_frames_equal_the_lxml_writer(weights: dict[str, int], options: RenderOptions, span: int | None) -> None:
    native, twin = both(weights, options, span)
    assert native == twin


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=2**40, allow_nan=False), st.integers(min_value=1, max_value=2**45))
def test_numbers_at_rounding_edges(value: float, span: int) -> None:
    """Weights and spans whose pixel positions land near half a hundredth."""
    weight = max(1, min(int(value), span))
    native, twin = both({"a": weight, "a;b": 1}, RenderOptions(), span=span)
    assert native == twin


def test_native_is_used_when_it_can_be_exact(monkeypatch) -> None:
    calls: list[bool] = []
    real = _native.svg_frames

    def spy(*args: object) -> object:
        result = real(*args)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(_native, "svg_frames", spy)
    render_flamegraph(Profile({"a;b": 2, "é;c_[k]": 1}))
    render_flamegraph(Profile({"a;b": 1}), RenderOptions(palette="java"))  # a palette only Python has
    render_flamegraph(Profile({"a;\udcff": 1}))  # not UTF-8
    assert calls == [True, False, False]
    calls.clear()
    render_flamegraph(Profile({"a;b": 2**50}))  # beyond the exact range: the twin writes it
    render_flamegraph(Profile({"a;b": 0.5}))  # fractional weights: the twin's layout and writer
    render_flamegraph(Profile({"a;b": 1}), RenderOptions(color_diffusion=True))  # fills by width
    render_flamegraph(Profile({"a;b": 1}), RenderOptions(random=True))
    assert calls == []


def test_a_tower_is_written_natively_and_identically() -> None:
    stack = ";".join(f"function_{i % 997}_{i}" for i in range(3000))
    native, twin = both({stack: 7}, RenderOptions())
    assert native == twin
    assert native.count(b"<rect data-name=") == 3001
