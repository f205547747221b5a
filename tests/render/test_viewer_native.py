"""The native viewer tree and payload (`native/core/src/viewer.rs`, `palette.rs`) against their
Python twins (`render/viewer/tree.py`, `payload.py`, `render/palette.py`): the same nodes,
names, weights and fills, the same decompressed payload bytes and header."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.cli import main
from foldkit.profile import LazyProfile, Profile
from foldkit.render import reversed_weights
from foldkit.render import viewer as viewer_module
from foldkit.render.options import RenderOptions
from foldkit.render.palette import colorizer
from foldkit.render.viewer.payload import native_header, pack, pack_native, plain, write_native
from foldkit.render.viewer.tree import FrameTree, build_tree, native_tree, scaled
from tests.render.test_render_layout import NAMES
from tests.support.viewer import opened

#: Weights on either side of zero and of 2**32 (the payload's uint32 limit) and 2**53.
WEIGHT = st.one_of(st.integers(min_value=-3, max_value=1000), st.sampled_from([2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1]))
#: Frame names, the root's name among them (the twin gives such a frame the root's name id).
STACKS = st.lists(st.one_of(NAMES, st.just("all")), min_size=0, max_size=6).map(";".join)
SIDE = st.dictionaries(STACKS, WEIGHT, min_size=0, max_size=25)

#: ASCII name fragments that steer the default palette's hue (kernel, JIT, Java, JS, Rust, ...).
FRAGMENTS = st.sampled_from([
    "a", "x9", " ", ".", "$", "<", ">", "/", ":", "::", ":::", "_[k]", "_[j]", "_[i]", "_[w]", "_[x]", "]",
    "java/", "Ljava.", "org.", "Interpreter", "StubRoutines", "JS:", "LazyCompile:", "Builtin:", ".js:1",
    ".mjs", ".js", "[perf-12.map]", "jitted-1-2.so", "[JIT]", "[kernel.kallsyms]", "entry_SYSCALL",
    "do_syscall_64", "asm_exc_", "ret_from_fork", "py::", "[off-cpu:", "std::", "Foo.bar", "é", "\t",
])
ASCII_NAMES = st.lists(FRAGMENTS, min_size=1, max_size=5).map("".join)


def same_tree(native: FrameTree, twin: FrameTree) -> None:
    assert native.names == twin.names
    assert list(native.name_ids) == list(twin.name_ids)
    assert list(native.depths) == list(twin.depths)
    assert [list(s) for s in native.selfs] == [list(s) for s in twin.selfs]
    assert native.nonpositive == twin.nonpositive


def raw(data: str) -> bytes:
    return gzip.decompress(base64.b64decode(data))


@settings(max_examples=300, deadline=None)
@given(SIDE)
def test_one_side_is_the_twins_tree(weights: dict[str, int]) -> None:
    native = native_tree(weights)
    assert native is not None
    same_tree(FrameTree.from_native(native), build_tree(weights))


@settings(max_examples=200, deadline=None)
@given(SIDE, SIDE)
def test_two_sides_are_the_twins_tree(after: dict[str, int], before: dict[str, int]) -> None:
    native = native_tree(after, before)
    assert native is not None
    same_tree(FrameTree.from_native(native), build_tree(after, before))


#: What a normalised BEFORE is scaled by: AFTER's total over BEFORE's (integral or not).
SCALE = st.one_of(
    st.sampled_from([0.5, 2.0, 1 / 3, 3.0, 0.1, 1e-6, 7.25, 2**40 / 3]),
    st.fractions(min_value=1, max_value=10**6, max_denominator=10**6).map(lambda f: float(1 / f)),
    st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(SIDE, SIDE, SCALE, st.booleans())
def test_a_scaled_side_is_the_twins_tree_of_the_scaled_weights(
    after: dict[str, int], before: dict[str, int], scale: float, reverse: bool
) -> None:
    """The core keeps BEFORE's integers and shows each node's weight times the scale: the twin's
    tree of BEFORE scaled first (as `diff_profiles` normalises it), and its payload bytes; with
    `reverse`, of every stack reversed (`reversed_weights`)."""
    native = native_tree(after, before, scales=[1.0, scale], reverse=reverse)
    assert native is not None
    sides = [after, scaled(before, scale)]
    twin = build_tree(*(reversed_weights(s) if reverse else s for s in sides))
    same_tree(FrameTree.from_native(native), twin)
    header, data = pack_native(native, colorizer("hot"), "hot")
    twin_header, twin_data = pack(twin, colorizer("hot"), "hot")
    assert header == twin_header
    assert raw(data) == raw(twin_data)


def test_a_scale_the_core_does_not_take_is_left_to_the_twin() -> None:
    for scale in (0.0, -0.5, float("nan"), float("inf")):
        assert native_tree({"a": 1}, {"a": 2}, scales=[1.0, scale]) is None
    with pytest.raises(ValueError, match="one scale per side"):
        _native.viewer_tree([{"a": 1}], "all", [1.0, 2.0])
    page = viewer_module.render_diff_viewer({"a": 2}, {"a": 1}, before_scale=-0.5)  # the twin draws it
    assert b"foldkit-data" in page


@settings(max_examples=200, deadline=None)
@given(SIDE, st.sampled_from(["default", "red", "hot", "mem", "io", "java", None]))
def test_payload_decodes_to_the_twins_bytes(weights: dict[str, int], palette: str | None) -> None:
    native = native_tree(weights)
    assert native is not None
    header, data = pack_native(native, colorizer(palette or "default"), palette)
    twin_header, twin_data = pack(build_tree(weights), colorizer(palette or "default"), palette)
    assert header == twin_header
    assert raw(data) == raw(twin_data)


@settings(max_examples=300, deadline=None)
@given(st.lists(ASCII_NAMES, min_size=1, max_size=20), st.sampled_from(["default", "red", "orange", "hot", "mem", "io"]))
def test_the_page_is_given_the_fills_of_names_it_cannot_colour(names: list[str], palette: str) -> None:
    weights = {";".join(names[: i + 1]): 1 for i in range(len(names))}
    twin_header, twin_data = pack(build_tree(weights), colorizer(palette), palette)
    native = native_tree(weights)
    assert native is not None
    header, data = pack_native(native, colorizer(palette), palette)
    assert header == twin_header and header["palette"] == palette
    assert raw(data) == raw(twin_data)
    tree = build_tree(weights)
    assert header["given"] == sum(1 for n in tree.names if not plain(n))  # "é" and "\t" only


def test_without_a_page_palette_every_fill_is_given() -> None:
    weights = {"main;a": 1, "main;b": 2}
    for palette in ("java", None):
        header, _ = pack_native(native_tree(weights), colorizer("java"), palette)  # type: ignore[arg-type]
        assert header["palette"] is None and header["given"] == header["names"] == 4


def test_a_weight_beyond_64_bits_or_a_decimal_is_left_to_the_twin() -> None:
    assert native_tree({"a": 2**64}) is None
    assert native_tree({"a": 1.5}) is None
    assert native_tree({"a": 1}, {"b": 0.5}) is None


def test_a_folded_files_table_is_built_natively(tmp_path: Path) -> None:
    path = tmp_path / "x.folded"
    path.write_bytes(b"main;b 2\nmain;a 5\nmain 1\nz 0\nmain;a;\xc3\xa9 3\n")
    table = _native.read_folded_file(path, 1, 1 << 20, 100)
    assert table is not None
    native = native_tree(table)
    assert native is not None
    same_tree(FrameTree.from_native(native), build_tree(table.to_dict()))
    path.write_bytes(b"main;\xff 2\n")  # not UTF-8: the twin builds it
    table = _native.read_folded_file(path, 1, 1 << 20, 100)
    assert table is not None and native_tree(table) is None


def test_render_viewer_builds_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_twin(*sides: object) -> None:
        raise AssertionError("the Python twin was used")

    monkeypatch.setattr(viewer_module, "build_tree", no_twin)
    page = viewer_module.render_viewer(Profile(weights={"main;a": 3, "main;b": 1}), RenderOptions())
    assert b"foldkit-data" in page


def test_render_viewer_falls_back_to_the_twin() -> None:
    page = viewer_module.render_viewer(Profile(weights={"main;a": 2.5, "main;b": 1}), RenderOptions())
    assert b"foldkit-data" in page


class _Recorder:
    """A binary file that keeps each `write` apart."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.parts: list[bytes] = []
        self.fail_after = fail_after

    def write(self, data: bytes) -> int:
        if self.fail_after is not None and len(self.parts) >= self.fail_after:
            raise OSError(28, "No space left on device")
        self.parts.append(bytes(data))
        return len(data)


def _many_names(count: int) -> dict[str, int]:
    """`count` stacks of names that compress badly (a payload of megabytes)."""
    import random

    rnd = random.Random(7)
    return {f"main;f{rnd.getrandbits(64):x};g{rnd.getrandbits(64):x}": rnd.randint(1, 9) for _ in range(count)}


def test_the_payload_is_written_in_chunks_as_it_is_compressed() -> None:
    weights = _many_names(60_000)
    native = native_tree(weights)
    assert native is not None
    header, given = native_header(native, colorizer("hot"), "hot")
    out = _Recorder()
    write_native(native, given, "hot", out)  # type: ignore[arg-type]
    assert len(out.parts) > 1 and max(len(p) for p in out.parts) <= 2 << 20
    twin_header, twin_data = pack(build_tree(weights), colorizer("hot"), "hot")
    assert header == twin_header
    assert raw(b"".join(out.parts).decode("ascii")) == raw(twin_data)


def _program(count: int, seed: int) -> dict[str, int]:
    """`count` stacks over a few hundred names (each met in both halves of the sorted stacks,
    the root's name among them), some weights zero or negative."""
    import random

    rnd = random.Random(seed)
    names = ["all", *(f"mod{i % 7}::f{i}" for i in range(300))]
    return {";".join(rnd.choice(names) for _ in range(rnd.randint(0, 9))): rnd.randint(-1, 50) for _ in range(count)}


def test_a_tree_of_many_stacks_built_on_two_threads_is_the_twins() -> None:
    """From 65,536 stacks the core counts the two halves of the sorted stacks on two threads and
    interns the names on one while it walks the stacks on the other: the same tree and payload as
    the twin's, for one side and for two."""
    after, before = _program(70_000, 1), _program(9_000, 2)
    for sides in ([after], [after, before]):
        native = native_tree(*sides)
        assert native is not None
        twin = build_tree(*sides)
        same_tree(FrameTree.from_native(native), twin)
        header, data = pack_native(native, colorizer("hot"), "hot")
        twin_header, twin_data = pack(twin, colorizer("hot"), "hot")
        assert header == twin_header
        assert raw(data) == raw(twin_data)


def test_a_failing_write_stops_the_payload_with_its_error() -> None:
    native = native_tree(_many_names(60_000))
    assert native is not None
    _, given = native_header(native, colorizer("hot"), "hot")
    with pytest.raises(OSError, match="No space left"):
        write_native(native, given, "hot", _Recorder(fail_after=1))  # type: ignore[arg-type]


def test_the_streamed_page_is_the_rendered_page(tmp_path: Path) -> None:
    profile = Profile(weights={"main;a;é": 3, "main;b": 1, "main;c\u202e": 2})
    out = io.BytesIO()
    viewer_module.write_viewer(profile, out, RenderOptions(title="t"))
    page = viewer_module.render_viewer(profile, RenderOptions(title="t"))
    assert out.getvalue() == page
    assert page.count(b'id="foldkit-data">') == 1 and b"foldkit-viewer-data" not in page


def test_the_cli_streams_the_page_to_a_file_and_compresses_by_suffix(tmp_path: Path) -> None:
    folded = tmp_path / "x.folded"
    folded.write_text("main;a 3\nmain;b 1\n")
    plain, zipped = tmp_path / "x.html", tmp_path / "x.html.gz"
    for target in (plain, zipped):
        assert main(["flamegraph", "-q", str(folded), "-o", str(target)]) == 0
    assert plain.read_bytes().startswith(b"<!DOCTYPE html>")
    assert gzip.decompress(zipped.read_bytes()) == plain.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_diff_viewer_takes_two_native_tables(tmp_path: Path) -> None:
    before, after = tmp_path / "before.folded", tmp_path / "after.folded"
    before.write_bytes(b"main;a 5\nmain;b 2\n")
    after.write_bytes(b"main;a 3\nmain;c 4\nmain 1\n")
    tables = [_native.read_folded_file(p, 1, 1 << 20, 100) for p in (before, after)]
    assert tables[0] is not None and tables[1] is not None
    out = io.BytesIO()
    viewer_module.write_diff_viewer(tables[0], tables[1], out, roots=0)
    assert out.getvalue() == viewer_module.render_diff_viewer(tables[0].to_dict(), tables[1].to_dict(), roots=0)


def test_a_reversed_viewer_of_a_table_is_built_natively_as_the_twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`flamegraph -o x.html --reverse` of a folded file's table: the core reverses the stacks
    (no dict, no Python tree), and the page carries the twin's tree of `reversed_weights`."""
    path = tmp_path / "x.folded"
    path.write_bytes(b"main;b 2\nmain;a 5\nmain 1\nz 0\nmain;a;\xc3\xa9 3\n;x 4\n")
    table = _native.read_folded_file(path, 1, 1 << 20, 100)
    assert table is not None
    options = RenderOptions(reverse=True)
    with monkeypatch.context() as m:
        m.setenv("FOLDKIT_NATIVE", "0")
        twin = viewer_module.render_viewer(Profile(weights=table.to_dict()), options)

    def no_twin(*sides: object) -> None:
        raise AssertionError("the Python twin was used")

    monkeypatch.setattr(viewer_module, "build_tree", no_twin)
    native = viewer_module.render_viewer(LazyProfile(table=table), options)
    assert opened(native) == opened(twin)
