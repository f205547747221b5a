"""`foldkit diff`: aligned stacks, difffolded.pl's two-column form, changed functions, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.analysis import diff as d
from foldkit.cli import main
from foldkit.errors import UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.profile import Profile
from tests.support.common import DATA, assert_golden

CHECK = DATA / "check"
BEFORE = CHECK / "base-1.perf.zst"
AFTER = CHECK / "slow-1.perf.zst"

stacks = st.dictionaries(
    st.lists(st.sampled_from(["a", "b", "c", "0x1f", "x y"]), min_size=1, max_size=6).map(";".join),
    st.integers(1, 10_000),
    min_size=1,
    max_size=25,
)


def changes(before: Profile, after: Profile) -> dict[str, tuple[float, float]]:
    frame = d.function_changes(d.diff_profiles(before, after, normalize=True))
    return {n: (s, t) for n, s, t in frame.select("name", "d_self_pp", "d_total_pp").iter_rows()}


@given(stacks)
def test_diff_of_a_profile_with_itself_is_all_zeros(weights: dict[str, int]) -> None:
    p = Profile(weights=weights)
    diff = d.diff_profiles(p, p, normalize=True)
    assert set(diff.delta().values()) == {0}
    assert all(s == 0 and t == 0 for s, t in changes(p, p).values())
    assert all(line.split(" ")[-1] == line.split(" ")[-2] for line in d.difffolded_lines(diff))


@given(stacks, stacks)
def test_diff_a_b_is_the_negated_diff_b_a(a: dict[str, int], b: dict[str, int]) -> None:
    pa, pb = Profile(weights=a), Profile(weights=b)
    ab, ba = d.diff_profiles(pa, pb), d.diff_profiles(pb, pa)
    assert ab.delta() == {s: -v for s, v in ba.delta().items()}
    forward, backward = changes(pa, pb), changes(pb, pa)
    assert forward.keys() == backward.keys()
    for name, (s, t) in forward.items():
        assert s == pytest.approx(-backward[name][0], abs=1e-9)
        assert t == pytest.approx(-backward[name][1], abs=1e-9)


def test_difffolded_form_matches_the_reference_semantics() -> None:
    before = Profile(weights={"a;b": 10, "a;c": 30})
    after = Profile(weights={"a;b": 25, "a;d": 55})
    assert d.difffolded_lines(d.diff_profiles(before, after)) == ["a;b 10 25", "a;c 30 0", "a;d 0 55"]
    # -n: BEFORE scaled to AFTER's total (80 -> 40: x2), integers kept
    assert d.difffolded_lines(d.diff_profiles(before, after, normalize=True)) == ["a;b 20 25", "a;c 60 0", "a;d 0 55"]
    odd = d.diff_profiles(Profile(weights={"x": 3}), Profile(weights={"x": 1, "y": 1}), normalize=True)
    assert d.difffolded_lines(odd) == ["x 2 1", "y 0 1"]  # 3 * 2/3 = 2 (rounded, not truncated)
    fractional = d.diff_profiles(Profile(weights={"x": 0.5}), Profile(weights={"x": 1.25}))
    assert d.difffolded_lines(fractional) == ["x 0.5 1.25"]


def test_non_utf8_stacks_round_trip_in_the_folded_form() -> None:
    name = b"main;caf\xe9".decode("utf-8", "surrogateescape")
    data = d.difffolded_bytes(d.diff_profiles(Profile(weights={name: 1}), Profile(weights={name: 2})))
    assert data == b"main;caf\xe9 1 2\n"


def test_changes_table_finds_the_slowed_function() -> None:
    options = FoldOptions(jobs=1)
    table = d.changes_table(d.diff_profiles(read(BEFORE, options), read(AFTER, options), normalize=True), sort="total", limit=3)
    assert "checksum_records" in table.frame["name"].to_list()
    assert table.meta["normalized"] is True
    assert math.isclose(table.meta["scale"], table.meta["after_total"] / table.meta["before_total"])


def test_output_kind_from_flags_and_suffixes() -> None:
    assert d.output_kind(None) == "text"
    assert d.output_kind("x.svg") == "svg"
    assert d.output_kind("x.folded.zst") == "folded"
    assert d.output_kind("x.csv") == "csv"
    assert d.output_kind("x.bin", folded=True) == "folded"
    assert d.output_kind("x.csv", csv=True) == "csv"
    with pytest.raises(UsageError, match="contradicts"):
        d.output_kind("x.svg", folded=True)
    with pytest.raises(UsageError, match="contradicts"):
        d.output_kind("x.json", csv=True)
    with pytest.raises(Exception, match="cannot tell"):
        d.output_kind("x.bin")


def test_cli_folded_output_is_golden(tmp_path: Path) -> None:
    out = tmp_path / "diff.folded"
    assert main(["diff", str(BEFORE), str(AFTER), "-o", str(out)]) == 0
    assert_golden("diff/base-1-slow-1.diff.folded.zst", out.read_bytes())
    lines = out.read_text().splitlines()
    assert all(len(line.rsplit(" ", 2)) == 3 for line in lines)


def test_cli_several_inputs_per_side_are_merged(tmp_path: Path) -> None:
    merged = tmp_path / "merged.folded"
    assert main(["diff", "--before", str(CHECK / "base-[12].perf.zst"), "--after", str(AFTER), "--after", str(CHECK / "slow-2.perf.zst"), "-o", str(merged)]) == 0
    options = FoldOptions(jobs=1)
    before = read([CHECK / "base-1.perf.zst", CHECK / "base-2.perf.zst"], options)
    after = read([AFTER, CHECK / "slow-2.perf.zst"], options)
    assert merged.read_text().splitlines() == d.difffolded_lines(d.diff_profiles(before, after))


def test_cli_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(BEFORE), str(AFTER), "--limit", "5", "--sort", "total"]) == 0
    text = capsys.readouterr().out
    assert "checksum_records" in text and "pp" in text
    out = tmp_path / "diff.json"
    assert main(["diff", str(BEFORE), str(AFTER), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["normalized"] is True and len(doc["rows"]) == d.DEFAULT_DIFF_LIMIT


def test_cli_strip_hex_and_normalize_symbols(tmp_path: Path) -> None:
    a, b = tmp_path / "a.folded", tmp_path / "b.folded"
    a.write_text("main;obj@0x7f10;core::fmt::write::h0123456789abcdef 3\nmain;g.constprop.0 1\n")
    b.write_text("main;obj@0x7f20;core::fmt::write::hfedcba9876543210 3\nmain;g.constprop.1 1\n")
    out = tmp_path / "o.folded"
    assert main(["diff", str(a), str(b), "-o", str(out), "--strip-hex"]) == 0
    assert "main;obj@0x...;core::fmt::write::h0123456789abcdef 3 0" in out.read_text()
    assert main(["diff", str(a), str(b), "-o", str(out), "--normalize-symbols"]) == 0
    assert out.read_text() == "main;g 1 1\nmain;obj@0x...;core::fmt::write 3 3\n"


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["diff", str(BEFORE)]) == 2
    assert "expected two inputs" in capsys.readouterr().err
    assert main(["diff", str(BEFORE), str(AFTER), "--before", str(BEFORE)]) == 2
    assert main(["diff", "--before", str(BEFORE)]) == 2
    assert main(["diff", "--before", str(tmp_path / "nothing-*.perf"), "--after", str(AFTER)]) == 2
    assert "no file matches" in capsys.readouterr().err


def test_canonical_order_with_non_utf8_bytes_is_byte_order() -> None:
    raw = b"a;\x80".decode("utf-8", "surrogateescape")  # U+DC80 as a string, byte 80 in the file
    accented = "a;\u00e9"  # U+00E9 sorts first as a string, but its bytes c3 a9 sort after 80
    data = d.difffolded_bytes(d.diff_profiles(Profile(weights={raw: 1}), Profile(weights={accented: 1})))
    assert data == b"a;\x80 1 0\n" + "a;\u00e9 0 1\n".encode()


# --- differential flame graph -------------------------------------------------------------------

SVG_NS = {"s": "http://www.w3.org/2000/svg"}


def frames_of(svg: bytes) -> list[dict[str, str]]:
    from lxml import etree

    root = etree.fromstring(svg)
    out = []
    for rect in root.iterfind(".//s:g[@id='frames']/s:rect", SVG_NS):
        attrs = dict(rect.attrib)
        attrs["title"] = rect.findtext("s:title", namespaces=SVG_NS) or ""
        out.append(attrs)
    return out


def test_every_frame_carries_name_depth_before_after_and_a_tooltip() -> None:
    from foldkit.render.diffgraph import render_diff

    before = Profile(weights={"main;a": 60, "main;b": 40})
    after = Profile(weights={"main;a": 80, "main;b": 20})
    frames = frames_of(render_diff(d.diff_profiles(before, after, normalize=True)))
    assert {f["data-name"] for f in frames} == {"all", "main", "a", "b"}
    by_name = {f["data-name"]: f for f in frames}
    for f in frames:
        assert {"data-name", "data-depth", "data-before", "data-after", "data-weight"} <= f.keys()
    assert (by_name["a"]["data-before"], by_name["a"]["data-after"]) == ("60", "80")
    assert by_name["a"]["fill"] == "rgb(255,0,0)"  # the largest growth: pure red
    assert by_name["b"]["fill"] == "rgb(0,0,255)"  # the largest shrink: pure blue
    assert by_name["main"]["fill"] == "rgb(255,255,255)"  # unchanged: white
    assert "before 60" in by_name["a"]["title"] and "after 80" in by_name["a"]["title"] and "+20.00 pp" in by_name["a"]["title"]


def test_svg_of_a_profile_against_itself_is_all_white() -> None:
    from foldkit.render.diffgraph import render_diff

    options = FoldOptions(jobs=1)
    p = read(BEFORE, options)
    other = read(BEFORE, options)
    frames = frames_of(render_diff(d.diff_profiles(p, other, normalize=True), basis="union"))
    assert len(frames) > 20
    assert {f["fill"] for f in frames} == {"rgb(255,255,255)"}
    assert all(f["data-before"] == f["data-after"] for f in frames)


def test_swapping_sides_with_negate_gives_the_same_colours() -> None:
    from foldkit.render import RenderOptions
    from foldkit.render.diffgraph import render_diff

    options = FoldOptions(jobs=1)
    a, b = read(BEFORE, options), read(AFTER, options)
    ab = frames_of(render_diff(d.diff_profiles(a, b), basis="union"))
    ba = frames_of(render_diff(d.diff_profiles(b, a), basis="union", options=RenderOptions(negate=True)))
    assert [(f["data-name"], f["width"], f["fill"]) for f in ab] == [(f["data-name"], f["width"], f["fill"]) for f in ba]
    assert [(f["data-before"], f["data-after"]) for f in ab] == [(f["data-after"], f["data-before"]) for f in ba]


@pytest.mark.parametrize(("basis", "visible"), [("after", False), ("before", True), ("union", True)])
def test_paths_only_in_before_are_visible_with_basis_before_or_union(basis: str, visible: bool) -> None:
    from lxml import etree

    from foldkit.render.diffgraph import render_diff

    before = Profile(weights={"main;gone": 50, "main;kept": 50})
    after = Profile(weights={"main;kept": 100})
    svg = render_diff(d.diff_profiles(before, after, normalize=True), basis=basis)
    names = {f["data-name"] for f in frames_of(svg)}
    assert ("gone" in names) is visible
    subtitle = etree.fromstring(svg).findtext(".//s:text[@id='subtitle']", namespaces=SVG_NS)
    assert "normalised" in subtitle
    if basis == "after":
        assert "50.0% of BEFORE is in paths absent from AFTER" in subtitle


def test_untrusted_frame_names_cannot_inject_markup() -> None:
    from lxml import etree

    from foldkit.render.diffgraph import render_diff

    evil = '<script>alert(1)</script>;x" onload="alert(2)'
    svg = render_diff(d.diff_profiles(Profile(weights={evil: 1}), Profile(weights={evil: 2})))
    root = etree.fromstring(svg)
    assert len(root.findall(".//s:script", SVG_NS)) == 1
    assert not any("onload" in el.attrib for el in root.iter())


def test_cli_svg_and_check_svg(tmp_path: Path) -> None:
    svg = tmp_path / "diff.svg"
    assert main(["diff", str(BEFORE), str(AFTER), "-o", str(svg), "--basis", "union", "--negate", "--title", "build 41 → 42"]) == 0
    frames = frames_of(svg.read_bytes())
    grew = next(f for f in frames if f["data-name"] == "mix_word")
    assert grew["fill"].startswith("rgb(") and grew["fill"].endswith(",255)")  # negated: growth is blue
    assert b"build 41" in svg.read_bytes()
    assert main(["diff", str(BEFORE), str(AFTER), "-o", str(svg), "--basis", "sideways"]) == 2
    checked = tmp_path / "check.svg"
    assert main(["check", str(BEFORE), str(AFTER), "--svg", str(checked), "-q"]) == 0  # one run a side: UNDERPOWERED (issue 18)
    assert any(f["data-name"] == "checksum_records" for f in frames_of(checked.read_bytes()))


@pytest.mark.parametrize("normalize", [True, False])
def test_colours_follow_each_frames_own_change_by_default(tmp_path: Path, normalize: bool) -> None:
    """As flamegraph.pl and inferno: before `a;b 1`/`a;c 1`, after `a;b 3`/`a;c 1`: `a` has no self
    weight, so it stays white however much its callees changed; `b` is pure red."""
    before, after = tmp_path / "before.folded", tmp_path / "after.folded"
    before.write_text("a;b 1\na;c 1\n")
    after.write_text("a;b 3\na;c 1\n")
    out = tmp_path / "d.svg"
    flag = "--normalize" if normalize else "--no-normalize"
    assert main(["diff", str(before), str(after), flag, "-o", str(out)]) == 0
    fills = {f["data-name"]: f["fill"] for f in frames_of(out.read_bytes())}
    assert fills["a"] == "rgb(255,255,255)" and fills["b"] == "rgb(255,0,0)"
    assert fills["c"] == ("rgb(0,0,255)" if normalize else "rgb(255,255,255)")
    assert main(["diff", str(before), str(after), "--no-normalize", "--color-by", "total", "-o", str(out)]) == 0
    by_total = {f["data-name"]: f["fill"] for f in frames_of(out.read_bytes())}
    assert by_total["a"] == by_total["b"] == "rgb(255,0,0)", "today's rule: a's inclusive weight doubled"


def test_self_colouring_makes_the_culprit_the_reddest_frame() -> None:
    """A slower leaf under main: by self change only the leaf is coloured, by total main is too."""
    from foldkit.render.diffgraph import render_diff

    before = Profile(weights={"main;work;dialled": 10, "main;work": 80, "main;other": 10})
    after = Profile(weights={"main;work;dialled": 20, "main;work": 80, "main;other": 10})
    diff = d.diff_profiles(before, after)
    fills = {f["data-name"]: f["fill"] for f in frames_of(render_diff(diff, basis="union"))}
    assert fills["dialled"] == "rgb(255,0,0)" and fills["main"] == fills["work"] == "rgb(255,255,255)"
    total = {f["data-name"]: f["fill"] for f in frames_of(render_diff(diff, basis="union", color_by="total"))}
    assert total["main"] == total["work"] == total["dialled"] == "rgb(255,0,0)"


def test_color_by_is_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folded = tmp_path / "x.folded"
    folded.write_text("a 1\n")
    assert main(["diff", str(folded), str(folded), "--color-by", "both", "-o", str(tmp_path / "d.svg")]) == 2
    assert "--color-by must be one of self, total" in capsys.readouterr().err
