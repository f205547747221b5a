"""The SVG: goldens, geometry against the folded input, escaping of hostile names, options."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from foldkit.analysis.diff import check_graph, diff_profiles
from foldkit.errors import UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.profile import Diagnostics, Profile
from foldkit.render import RenderOptions, render_flamegraph
from foldkit.render.diffgraph import render_diff
from foldkit.render.svg import svg_script
from foldkit.text import ANNOTATION, visible
from tests.support.common import assert_golden, data_bytes
from tests.support.svg import SVG, TITLE, frames, golden_text, parse

KINDS = {
    "python3;main;do_work;std::vector<int>::push_back": 30,
    "python3;main;do_work;compute_[i]": 10,
    "python3;main;interp;LazyCompile:*fib /app/x.js:3:10_[j]": 25,
    "java;start_thread;JavaMain;java/lang/Thread.run": 20,
    "java;start_thread;JavaMain;long Work.depthSum": 15,
    "swapper;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];__x64_sys_read_[k]": 40,
    "swapper;secondary_startup_64;cpu_idle": 60,
    "tiny;x": 1,
}

HOSTILE_NAMES = [
    "</script><script>window.pwned=1</script>",
    "]]>",
    '"><svg onload=window.pwned=1>',
    "<img src=x onerror=window.pwned=1>",
    "a&amp b&lt c",
    "ansi\x1b[31mred\x1b[0m",
    "nul\x00byte",
    "tab\tnewline\rcr",
    "bad utf-8 \udcff\udcfe",
    "rtl \u202eevil",
    "del\x7f c1\x85",
]


def render(profile: Profile, **options: object) -> bytes:
    return render_flamegraph(profile, RenderOptions(**options))  # type: ignore[arg-type]


def capture_profile(name: str, **fold: object) -> Profile:
    return read(data_bytes(f"captures/{name}"), FoldOptions(**fold))  # type: ignore[arg-type]


GOLDENS = {
    "kinds": lambda: render(Profile(weights=KINDS)),
    "kinds-icicle": lambda: render(
        Profile(weights=KINDS), inverted=True, subtitle="one of each kind of frame", notes="made by the golden test"
    ),
    "kinds-options": lambda: render(
        Profile(weights=KINDS),
        width=800,
        frame_height=20,
        font_type="monospace",
        font_size=10,
        font_width=0.6,
        count_name="ms",
        name_type="Frame:",
        factor=0.5,
        total=400,
        palette="hot",
        bgcolors="grey",
        search_color="#00ff00",
        truncate_text_right=False,
        sort_by_weight=True,
        hash=True,
    ),
    "perf-cpp-fp": lambda: render(read(data_bytes("expected/perf-cpp-fp.folded"))),
    "perf-cpp-fp-chart": lambda: render(capture_profile("perf-cpp-fp.txt", keep_time=True), flamechart=True, min_width="1%"),
    "hostile": lambda: render(
        Profile(weights={f"main;{n}": i + 1 for i, n in enumerate(HOSTILE_NAMES)}),
        title="<b>title</b>]]>",
        subtitle="sub\x1btitle",
        notes="--> <!-- notes -->",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden(name: str) -> None:
    assert_golden(f"svg/{name}.svg", golden_text(GOLDENS[name]()))


def tree_serialised(data: bytes) -> bytes:
    """`data` parsed and written again by lxml's tree serialiser, CDATA kept."""
    parser = etree.XMLParser(strip_cdata=False, huge_tree=True, resolve_entities=False, no_network=True)
    return etree.tostring(etree.fromstring(data, parser), xml_declaration=True, encoding="UTF-8") + b"\n"


def diff_svg(**options: object) -> bytes:
    before = Profile(weights={"main;a": 5, "main;b": 3, "main;</b>": 1})
    after = Profile(weights={"main;a": 2, "main;c": 6, "main;</b>": 2})
    return render_diff(diff_profiles(before, after), "union", RenderOptions(**options))  # type: ignore[arg-type]


#: Every kind of SVG the writer streams: the goldens, a message instead of frames, diffs, a check.
STREAMED = GOLDENS | {
    "empty": lambda: render(Profile(), subtitle="s", notes="n"),
    "diff": lambda: diff_svg(),
    "diff-icicle": lambda: diff_svg(inverted=True, negate=True, truncate_text_right=False),
    "check": lambda: check_graph([Profile(weights={"a;b": 3})], [Profile(weights={"a;b": 1, "a;c\x1b": 4})]),
}


@pytest.mark.parametrize("name", sorted(STREAMED))
def test_streamed_svg_is_what_the_tree_serialiser_writes(name: str) -> None:
    """Streaming the SVG changes no byte: the declaration, empty elements (`<stop .../>`, an empty
    `<g id="frames"/>`) and attribute order as the tree serialiser writes them; every element in
    the SVG namespace, declared once."""
    data = STREAMED[name]()
    assert data == tree_serialised(data)
    assert data.count(b"xmlns") == 1
    assert all(isinstance(el.tag, str) and el.tag.startswith(SVG) for el in parse(data).iter())


#: Frame names with everything a capture can hold: any character, bytes that were not UTF-8, markup.
FRAME_NAMES = st.lists(
    st.characters(exclude_characters=";\n") | st.sampled_from(["\udcff", "\x00", "\x1b", "\u202e", "]]>", "<b>", "&amp;"]),
    min_size=1,
    max_size=8,
).map("".join)


@given(
    st.dictionaries(st.lists(FRAME_NAMES, min_size=1, max_size=4).map(";".join), st.integers(1, 10**6), max_size=12),
    st.booleans(),
    st.booleans(),
)
def test_any_profile_streams_the_svg_the_tree_serialiser_writes(
    weights: dict[str, int], inverted: bool, truncate_right: bool
) -> None:
    options = {"inverted": inverted, "truncate_text_right": truncate_right, "width": 300, "min_width": "0"}
    data = render(Profile(weights=weights), **options)
    assert data == tree_serialised(data)
    assert {f.name for f in frames(data)} >= {visible(stack.split(";")[-1]) for stack in weights}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_geometry_follows_the_weights(name: str) -> None:
    """Each frame's width is its weight's share; children sit inside their parent, never wider."""
    data = GOLDENS[name]()
    root = parse(data)
    xpad = float(root.get("data-xpad"))
    span = float(root.get("data-span"))
    plot = float(root.get("width")) - 2 * xpad
    fs = frames(data)
    parents: list[int] = []
    for i, f in enumerate(fs):
        assert f.width == pytest.approx(f.weight / span * plot, abs=0.006)
        assert f.x == pytest.approx(xpad + f.start / span * plot, abs=0.006)
        del parents[f.depth :]
        if f.depth:
            p = fs[parents[-1]]
            assert p.depth == f.depth - 1
            assert f.weight <= p.weight
            assert p.x - 0.011 <= f.x and f.x + f.width <= p.x + p.width + 0.021  # each value rounded to 0.005
            assert f.y == pytest.approx(p.y + (f.height + 1) * (1 if root.get("data-kind") == "icicle" else -1))
        parents.append(i)


def test_frame_weights_are_the_inclusive_weights_of_the_folded_input() -> None:
    data = data_bytes("expected/perf-cpp-fp.folded")
    profile = read(data)
    fs = frames(render(profile, min_width="0"))
    inclusive: dict[tuple[int, str], float] = {}
    for stack, w in profile.weights.items():
        parts = stack.split(";")
        for d in range(1, len(parts) + 1):
            key = (d, ";".join(parts[:d]))
            inclusive[key] = inclusive.get(key, 0) + w
    paths: list[str] = []
    seen = 0
    for f in fs[1:]:
        del paths[f.depth - 1 :]
        paths.append(f.name)
        assert f.weight == inclusive[(f.depth, ";".join(paths))]
        seen += 1
    assert seen == len(inclusive)
    assert fs[0].weight == profile.total


def test_titles_read_like_flamegraph_pl() -> None:
    fs = frames(render(Profile(weights={"a;b": 1234, "a;c": 20_000}), count_name="samples"))
    assert [f.title for f in fs] == [
        "all (21,234 samples, 100.00%)",
        "a (21,234 samples, 100.00%)",
        "b (1,234 samples, 5.81%)",
        "c (20,000 samples, 94.19%)",
    ]
    assert all(TITLE.match(f.title) for f in fs)


def test_annotations_are_dropped_from_titles_and_labels_but_kept_in_data_name() -> None:
    f = next(f for f in frames(render(Profile(weights=KINDS))) if f.name == "do_syscall_64_[k]")
    assert f.title.startswith("do_syscall_64 (") and f.label is not None and "_[k]" not in f.label


def test_unit_and_factor_and_nametype() -> None:
    profile = Profile(weights={"a": 3_000_000}, unit="ns")
    data = render(profile, factor=0.001, name_type="Frame:")
    assert frames(data)[1].title == "a (3,000 ns, 100.00%)"
    assert parse(data).get("data-name-type") == "Frame:"
    assert frames(render(profile, count_name="µs"))[1].title == "a (3,000,000 µs, 100.00%)"


def test_labels_only_where_they_fit() -> None:
    weights = {"wide_function_name": 1000, "narrow_function_name": 4, "mid_function_name_that_is_long": 60}
    fs = {f.name: f for f in frames(render(Profile(weights=weights)))}
    assert fs["wide_function_name"].label == "wide_function_name"
    assert fs["narrow_function_name"].label is None  # 4.5 px: not even three characters
    cut = fs["mid_function_name_that_is_long"].label  # ~66 px: 9 characters, cut at the end by default
    assert cut is not None and cut.endswith("..") and "mid_function_name_that_is_long".startswith(cut[:-2])
    left = {f.name: f for f in frames(render(Profile(weights=weights), truncate_text_right=False))}
    label = left["mid_function_name_that_is_long"].label
    assert label is not None and label.startswith("..") and "mid_function_name_that_is_long".endswith(label[2:])
    for f in fs.values():
        if f.label:
            assert len(f.label) * 12 * 0.59 <= f.width


def test_hostile_names_stay_text() -> None:
    data = GOLDENS["hostile"]()
    root = parse(data)
    scripts = list(root.iter(f"{SVG}script"))
    assert len(scripts) == 1 and scripts[0].text == svg_script()
    allowed = {"svg", "desc", "defs", "linearGradient", "stop", "style", "rect", "text", "g", "title", "script"}
    for el in root.iter():
        assert isinstance(el.tag, str) and el.tag.startswith(SVG), el.tag
        assert el.tag[len(SVG) :] in allowed
        assert not any(k.lower().startswith("on") for k in el.attrib), el.attrib
    names = {f.name for f in frames(data)}
    for name in HOSTILE_NAMES:
        assert visible(name) in names
    assert data.count(b"<script") == 1 and data.count(b"]]>") == 1
    assert b"\x1b" not in data and b"\x00" not in data and "\u202e".encode() not in data
    text = data.decode("utf-8")  # valid UTF-8 although the input was not
    assert "\\xff\\xfe" in text and "\u241b" in text and "\\u202e" in text
    assert root.find(f"{SVG}text[@id='title']").text == "<b>title</b>]]>"
    assert root.find(f"{SVG}desc").text == "--> <!-- notes -->"


def test_visible_shows_what_xml_cannot_carry() -> None:
    assert visible("plain name::x<int>") == "plain name::x<int>"
    assert visible("a\x00b\x1b\x7f") == "a\u2400b\u241b\u2421"
    assert visible("\udc80\udcff") == "\\x80\\xff"
    assert visible("\u202e\u2066\ufffe\x85") == "\\u202e\\u2066\\ufffe\\u0085"
    for ch in map(chr, range(0x20)):
        etree.fromstring(f"<a b='{visible(ch)}'>{visible(ch)}</a>".encode())  # well-formed


def test_same_input_same_bytes_and_colours_follow_names() -> None:
    first = render(Profile(weights=KINDS))
    assert first == render(Profile(weights=dict(reversed(list(KINDS.items())))))
    other = render(Profile(weights={"elsewhere;main;do_work": 5, "x;cpu_idle": 1}))
    fill_a = {f.name: f.fill for f in frames(first)}
    fill_b = {f.name: f.fill for f in frames(other)}
    for name in fill_a.keys() & fill_b.keys():
        assert fill_a[name] == fill_b[name]


HUE = re.compile(r"rgb\((\d+),(\d+),(\d+)\)")


def hue_of(fill: str) -> str:
    r, g, b = map(int, HUE.fullmatch(fill).groups())  # type: ignore[union-attr]
    if r > 180 and g < 140 and b < 140 and abs(g - b) < 2:
        return "red"
    if b == 0 and r >= 190 and 90 <= g <= 155:
        return "orange"
    if r == g and b <= 70:
        return "yellow"
    if g > r and g > b and r == b:
        return "green"
    if r < g and g == b:
        return "aqua"
    return "other"


def test_default_palette_tells_frame_kinds_apart() -> None:
    fills = {f.name: hue_of(f.fill) for f in frames(render(Profile(weights=KINDS)))}
    assert fills["main"] == "red"
    assert fills["do_syscall_64_[k]"] == "orange"
    assert fills["secondary_startup_64"] == "red"
    assert fills["std::vector<int>::push_back"] == "yellow"
    assert fills["LazyCompile:*fib /app/x.js:3:10_[j]"] == "green"
    assert fills["java/lang/Thread.run"] == "green"
    assert fills["long Work.depthSum"] == "green"
    assert fills["compute_[i]"] == "aqua"


#: Pieces of names that decide the default palette's hue, and some that nearly do.
HUE_FRAGMENTS = [
    "java/", "Ljavax.", "org.x", ":::", "::", ".js:1", ".mjs", "js", "[perf-12.map", "[perf-x.map", "jitted-1-2.so",
    "[JIT]", "LazyCompile:", "Interpreter", "StubRoutines", "long a.b", "[kernel.kallsyms]", "entry_SYSCALL",
    "ret_from_fork", "asm_exc_", "_[k]", "_[j]", " ", ".", "-", "1", "a",
]


def expected_hue(name: str) -> str:
    """The default palette's hue of `name` by searching every pattern of its docstring's rules."""
    from foldkit.render import palette

    if name.endswith("]") and ANNOTATION.search(name):
        return {"k": "orange", "j": "green", "i": "aqua", "w": "aqua"}[name[-2]]
    if palette._JAVA.search(name) or palette._JS.search(name) or re.search(palette._JIT_ANYWHERE, name):
        return "green"
    if "[kernel.kallsyms]" in name or re.search(f"^(?:{palette._KERNEL_START.pattern})", name):
        return "orange"
    return "yellow" if "::" in name else "red"


def test_default_palette_hue_of_every_fragment_pair() -> None:
    from foldkit.render.palette import _default

    for first in ["", *HUE_FRAGMENTS]:
        for second in HUE_FRAGMENTS:
            assert _default(first + second) == expected_hue(first + second), first + second


@given(st.lists(st.sampled_from(HUE_FRAGMENTS) | st.text(max_size=2), max_size=6).map("".join))
def test_default_palette_hue_is_what_searching_every_pattern_gives(name: str) -> None:
    from foldkit.render.palette import _default

    assert _default(name) == expected_hue(name)


@pytest.mark.parametrize(
    ("palette", "hue"), [("red", "red"), ("green", "green"), ("aqua", "aqua"), ("yellow", "yellow"), ("orange", "orange")]
)
def test_hue_palettes(palette: str, hue: str) -> None:
    assert {hue_of(f.fill) for f in frames(render(Profile(weights=KINDS), palette=palette))} == {hue}


def test_every_palette_renders_and_bgcolors() -> None:
    from foldkit.render.palette import PALETTES

    for palette in PALETTES:
        root = parse(render(Profile(weights=KINDS), palette=palette))
        assert len(root.find(f"{SVG}g[@id='frames']")) > 5
    stops = parse(render(Profile(weights=KINDS), bgcolors="#123456")).iter(f"{SVG}stop")
    assert [s.get("stop-color") for s in stops] == ["#123456", "#123456"]
    stops = parse(render(Profile(weights=KINDS), palette="mem")).iter(f"{SVG}stop")
    assert [s.get("stop-color") for s in stops] == ["#eef2ee", "#e0ffe0"]


def test_hash_gives_similar_names_similar_colours() -> None:
    from foldkit.render.palette import frame_color

    def red(name: str, hashed: bool) -> int:
        return int(HUE.fullmatch(frame_color(name, "red", hashed)).group(2))  # type: ignore[union-attr]

    assert abs(red("ext4_readdir_aaaaaaaaa", True) - red("ext4_readdir_bbbbbbbbb", True)) <= 1
    spread = {red(f"fn{i}", False) for i in range(50)}
    assert len(spread) > 20


def test_titles_by_mode_and_subtitle_notes() -> None:
    def title(**kw: object) -> str:
        return parse(render(Profile(weights=KINDS), **kw)).find(f"{SVG}text[@id='title']").text

    assert title() == "Flame Graph"
    assert title(inverted=True) == "Icicle Graph"
    assert title(flamechart=True) == "Flame Chart"
    assert title(title="mine") == "mine"
    root = parse(render(Profile(weights=KINDS), flamechart=True))
    assert "input order" in root.find(f"{SVG}text[@id='subtitle']").text


def test_frame_budget_is_announced_in_the_subtitle() -> None:
    weights = {f"root;f{i:04d}": 1 + i % 7 for i in range(500)}
    diag = Diagnostics()
    data = render_flamegraph(Profile(weights=weights), RenderOptions(min_width="0", max_frames=100), diagnostics=diag)
    fs = frames(data)
    assert 2 <= len(fs) <= 100
    subtitle = parse(data).find(f"{SVG}text[@id='subtitle']").text
    assert "hidden to stay within 100 frames" in subtitle
    assert diag.notes and "more than 100 frames" in diag.notes[0]


def test_empty_profile_draws_a_message() -> None:
    root = parse(render(Profile()))
    assert root.find(f"{SVG}text[@id='message']").text == "no samples"
    assert len(root.find(f"{SVG}g[@id='frames']")) == 0


def test_warnings_for_non_positive_weights_negate_and_small_total() -> None:
    diag = Diagnostics()
    render_flamegraph(Profile(weights={"a": 5, "b": -1}), RenderOptions(negate=True, total=2), diagnostics=diag)
    text = " ".join(diag.warnings)
    assert "1 stack(s) with zero or negative weight" in text
    assert "--negate only changes differential graphs" in text
    assert "--total 2 is less than the profile's total 5" in text


@pytest.mark.parametrize(
    "bad",
    [
        {"palette": "rainbow"},
        {"min_width": "wide"},
        {"min_width": "150%"},
        {"bgcolors": "url(http://x)"},
        {"search_color": "red;}"},
        {"width": 5},
        {"frame_height": 0},
        {"factor": 0},
        {"total": -1},
        {"max_frames": 0},
        {"flamechart": True, "sort_by_weight": True},
    ],
)
def test_bad_options_are_usage_errors(bad: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        RenderOptions(**bad)  # type: ignore[arg-type]


def test_frames_carry_machine_readable_attributes() -> None:
    root = parse(render(Profile(weights={"a;b": 2, "a": 1})))
    rects = root.find(f"{SVG}g[@id='frames']").findall(f"{SVG}rect")
    assert [(r.get("data-name"), r.get("data-depth"), r.get("data-start"), r.get("data-weight")) for r in rects] == [
        ("all", "0", "0", "3"),
        ("a", "1", "0", "3"),
        ("b", "2", "1", "2"),
    ]
    assert root.get("data-kind") == "flamegraph" and root.get("data-span") == "3"


def test_options_are_frozen_and_replaceable() -> None:
    options = RenderOptions()
    assert replace(options, inverted=True).default_title() == "Icicle Graph"
    with pytest.raises(AttributeError):
        options.width = 10  # type: ignore[misc]
