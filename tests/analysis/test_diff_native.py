"""`foldkit diff` drawn from folded files' native stack tables (`table_diff_svg`: the basis side
laid out natively, the other side's weights per drawn frame summed by the core; `table_diff_html`:
the tables handed to the viewer's native tree, a normalised BEFORE scaled there) against the
reference, `render_diff` and `render_diff_html` of the same stacks as dicts (the page's tree built
by the Python twins): the same bytes or the same decompressed tree, and no dict made of a table."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.analysis.diff import StackDiff, diff_profiles, table_diff_html, table_diff_svg
from foldkit.ingest import FoldOptions
from foldkit.ingest.folded import fold_file
from foldkit.native import NATIVE_SWITCH
from foldkit.profile import LazyProfile, Profile
from foldkit.render import RenderOptions
from foldkit.render.diffgraph import PageWriter, render_diff, render_diff_html
from tests.support.viewer import opened, parse_page

#: Frame names: recursion, a shared prefix, non-ASCII, an empty frame, markup.
FRAMES = st.sampled_from(["main", "a", "b", "abcdefgh", "é", "x y", "", "s1", "<&>"])
STACK = st.lists(FRAMES, min_size=1, max_size=5).map(";".join).filter(lambda s: s.strip() != "")
WEIGHT = st.one_of(st.integers(min_value=-3, max_value=60), st.sampled_from([0, 2**40]))
LINES = st.lists(st.tuples(STACK, WEIGHT), min_size=1, max_size=30)
OPTIONS = st.sampled_from(
    [
        RenderOptions(),
        RenderOptions(min_width="0"),
        RenderOptions(max_frames=4),
        RenderOptions(inverted=True, negate=True),
        RenderOptions(sort_by_weight=True, count_name="bytes"),
    ]
)


def read_table(lines: list[tuple[str, int]], threads: int = 1) -> LazyProfile:
    """The stacks of `lines` as a folded file's native table (by `threads` threads)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.folded"
        path.write_bytes("".join(f"{s} {w}\n" for s, w in lines).encode())
        got = fold_file("in.folded", str(path), FoldOptions(jobs=threads), 1 << 26, min_split=1)
    assert isinstance(got, LazyProfile) and got.table is not None
    return got


def as_dict(profile: LazyProfile) -> Profile:
    """The same stacks as a plain dict (the reference path), the table left in `profile`."""
    assert profile.table is not None
    return Profile(weights=profile.table.to_dict(), unit=profile.unit)


@settings(max_examples=150, deadline=None)
@given(
    LINES,
    LINES,
    st.booleans(),
    st.sampled_from(["after", "before"]),
    st.sampled_from(["self", "total"]),
    OPTIONS,
    st.integers(min_value=1, max_value=3),
)
def test_the_graph_from_two_tables_is_the_graph_from_the_dicts(
    before: list[tuple[str, int]],
    after: list[tuple[str, int]],
    normalize: bool,
    basis: str,
    color_by: str,
    options: RenderOptions,
    threads: int,
) -> None:
    old, new = read_table(before, threads), read_table(after, threads)
    native = table_diff_svg(old, new, normalize, basis, options, color_by)
    assert old.table is not None and new.table is not None  # no dict made of either table
    reference = render_diff(diff_profiles(as_dict(old), as_dict(new), normalize=normalize), basis, options, color_by=color_by)
    scaled = normalize and old.total != new.total and old.total and new.total
    if (basis == "before" and scaled) or (normalize and old.total * new.total < 0):
        assert native is None  # a scaled BEFORE as the basis, a negative scale: the dicts draw them
    else:
        assert native == reference


@settings(max_examples=60, deadline=None)
@given(LINES, LINES, st.booleans(), st.booleans(), st.sampled_from(["self", "total"]))
def test_a_small_side_as_a_dict_is_drawn_with_the_other_sides_table(
    before: list[tuple[str, int]], after: list[tuple[str, int]], table_first: bool, normalize: bool, color_by: str
) -> None:
    old, new = read_table(before), read_table(after)
    sides = (old, as_dict(new)) if table_first else (as_dict(old), new)
    native = table_diff_svg(*sides, normalize, "after", RenderOptions(), color_by)
    reference = render_diff(diff_profiles(as_dict(old), as_dict(new), normalize=normalize), "after", RenderOptions(), color_by=color_by)
    if table_first and not (normalize and old.total * new.total < 0):
        assert native == reference
    else:  # which of a dict BEFORE's stacks AFTER's table lacks, a negative scale: the dicts say
        assert native is None or native == reference


def test_what_the_tables_do_not_draw_is_left_to_the_dicts() -> None:
    old, new = read_table([("a;b", 3), ("a;c", 1)]), read_table([("a;b", 1), ("a;d", 4)])
    assert table_diff_svg(old, new, True, "union", RenderOptions(), "self") is None
    assert table_diff_svg(old, new, True, "after", RenderOptions(reverse=True), "self") is None
    assert table_diff_svg(as_dict(old), as_dict(new), True, "after", RenderOptions(), "self") is None
    got = table_diff_svg(old, new, True, "after", RenderOptions(), "self")
    assert got is not None and b"25.0% of BEFORE is in paths absent from AFTER" in got


def test_the_core_sums_each_drawn_frame_of_a_table() -> None:
    table = read_table([("a;b;c", 3), ("a;b", 2), ("a;x", 5), ("q", -4), ("a;b;c;d", 6)]).table
    other = read_table([("a;b", 1)]).table
    names, parents = ["all", "a", "b", "c", "z"], [-1, 0, 1, 2, 0]
    inclusive, own, hidden, total = _native.table_frame_sums(table, names, parents, other, 2)
    assert (inclusive, own, hidden, total) == ([16, 16, 11, 9, 0], [0, 0, 2, 3, 0], 10, 12)
    assert _native.table_frame_sums(table, names, parents, ["a;b", "q"])[2:] == (14, 12)
    assert _native.table_frame_sums(table, names, [-1, 2, 0, 1, 0]) is None  # not a pre-order tree


def twin_page(diff: StackDiff, basis: str | None, options: RenderOptions, color_by: str) -> bytes:
    """`render_diff_html(diff)` by the Python twins alone (the tree built from `diff`'s dicts, BEFORE
    scaled per stack): the reference."""
    with mock.patch.dict(os.environ, {NATIVE_SWITCH: "0"}):
        return render_diff_html(diff, basis, options, color_by)


def written(page: PageWriter | None) -> bytes | None:
    """What a page writer writes (None for None)."""
    if page is None:
        return None
    out = io.BytesIO()
    page(out)
    return out.getvalue()


@settings(max_examples=80, deadline=None)
@given(
    LINES,
    LINES,
    st.sampled_from([None, "after", "before"]),
    st.sampled_from(["self", "total"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_the_viewer_page_from_two_tables_is_the_twins_page_of_the_dicts(
    before: list[tuple[str, int]],
    after: list[tuple[str, int]],
    basis: str | None,
    color_by: str,
    normalize: bool,
    small_dict: bool,
    reverse: bool,
) -> None:
    """Normalised or not, reversed or not, the page from the tables (BEFORE scaled and the stacks
    reversed in the core's tree) carries the tree the Python builder makes of `diff_profiles`'
    dicts: the same header, settings and decompressed payload; and it is the page
    `render_diff_html` writes."""
    old, new = read_table(before), read_table(after)
    sides = (old, as_dict(new)) if small_dict else (old, new)
    options = RenderOptions(reverse=reverse)
    native = written(table_diff_html(*sides, normalize, basis, options, color_by))
    assert native is not None
    assert old.table is not None and new.table is not None  # no dict made of either table
    diff = diff_profiles(as_dict(old), as_dict(new), normalize=normalize)
    assert opened(native) == opened(twin_page(diff, basis, options, color_by))
    assert native == render_diff_html(diff, basis, options, color_by)


def test_a_normalised_page_shows_before_scaled_and_says_so() -> None:
    old, new = read_table([("a;b", 3), ("a;c", 1)]), read_table([("a;b", 1), ("a;d", 5)])
    page = written(table_diff_html(old, new, True, None, RenderOptions(), "self"))
    assert page is not None
    _, embedded = parse_page(page)
    assert embedded.meta["types"][0] == "f64" and "BEFORE normalised to AFTER's total (x1.5)" in embedded.meta["subtitle"]
    paths = embedded.paths()
    after, before = embedded.selfs
    assert (before[paths[("a", "b")]], before[paths[("a", "c")]], before[paths[("a", "d")]]) == (4.5, 1.5, 0.0)
    assert (after[paths[("a", "b")]], after[paths[("a", "d")]]) == (1, 5)
    reversed_ = written(table_diff_html(old, new, True, None, RenderOptions(reverse=True), "self"))
    assert reversed_ is not None
    _, embedded = parse_page(reversed_)
    assert embedded.selfs[1][embedded.paths()[("b", "a")]] == 4.5  # leaf first


def test_the_cli_writes_the_default_page_from_the_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`diff -o d.html` (normalised by default, as with `-n`), `--no-normalize`, `--basis`,
    `--color-by` and `--reverse` never align the stacks as dicts nor build the tree in Python, and write the page
    the reference writes."""
    import foldkit.analysis.diff as d
    from foldkit.cli import main
    from foldkit.render import viewer

    # files larger than the head read to detect their format, so they are read into tables
    before = {f"main;read;f{i}": i % 7 + 1 for i in range(5000)} | {"main;gone": 40}
    after = {f"main;read;f{i}": i % 5 + 1 for i in range(0, 5000, 2)} | {"main;new": 9}
    old, new = tmp_path / "old.folded", tmp_path / "new.folded"
    for path, weights in ((old, before), (new, after)):
        path.write_text("".join(f"{s} {w}\n" for s, w in weights.items()))
    sides = (Profile(weights=before, unit="weight"), Profile(weights=after, unit="weight"))
    runs = [
        ((), True, None, "self"),
        (("-n", "--basis", "after"), True, "after", "self"),
        (("--no-normalize",), False, None, "self"),
        (("--color-by", "total", "--basis", "before"), True, "before", "total"),
        (("--reverse",), True, None, "self"),
    ]
    reference = [
        render_diff_html(diff_profiles(*sides, normalize=scaled), basis, RenderOptions(reverse="--reverse" in flags), color_by)
        for flags, scaled, basis, color_by in runs
    ]

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stacks left the native tables")

    monkeypatch.setattr(d, "diff_profiles", refused)
    monkeypatch.setattr(viewer, "build_tree", refused)
    for (flags, *_), expected in zip(runs, reference, strict=True):
        out = tmp_path / "d.html"
        assert main(["diff", "-q", str(old), str(new), *flags, "-o", str(out)]) == 0
        assert out.read_bytes() == expected, flags
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.html", "new.folded", "old.folded"]
