"""The viewer's call tree against a plain tree built from the folded input, and its packing."""

from __future__ import annotations

import base64
import gzip
import json
import struct
from array import array

from hypothesis import given, settings

from foldkit.render.viewer.payload import name_codes, pack, rgb_bytes
from foldkit.render.viewer.tree import FrameTree, build_tree
from tests.render.test_render_layout import WEIGHTS, naive_tree
from tests.support.viewer import decode_names


def node_paths(tree: FrameTree) -> list[tuple[str, ...]]:
    """The frame path of every node, from the pre-order depths."""
    paths: list[tuple[str, ...]] = []
    stack: list[str] = []
    for i in range(len(tree)):
        d = tree.depths[i]
        assert d <= len(stack) + 1 and (i == 0) == (d == 0), "not a pre-order"
        del stack[max(d - 1, 0):]
        if d:
            stack.append(tree.names[tree.name_ids[i]])
        paths.append(tuple(stack))
    return paths


@settings(max_examples=300, deadline=None)
@given(WEIGHTS)
def test_every_prefix_is_one_node_with_its_inclusive_weight(weights: dict[str, int]) -> None:
    tree = build_tree(weights)
    paths = node_paths(tree)
    expected = naive_tree(weights)
    assert len(paths) == len(set(paths)), "a frame path appears twice"
    assert dict(zip(paths, tree.totals(), strict=True)) == expected
    assert sum(tree.selfs[0]) == sum(weights.values())


@settings(max_examples=200, deadline=None)
@given(WEIGHTS, WEIGHTS)
def test_a_differential_tree_holds_both_sides(after: dict[str, int], before: dict[str, int]) -> None:
    tree = build_tree(after, before)
    paths = node_paths(tree)
    assert set(paths) == set(naive_tree(after)) | set(naive_tree(before))
    for side, weights in enumerate((after, before)):
        expected = naive_tree(weights)
        assert {p: w for p, w in zip(paths, tree.totals(side), strict=True) if w} == {p: w for p, w in expected.items() if w}


def test_siblings_are_in_name_order_and_nothing_is_pruned() -> None:
    weights = {"main;b": 1, "main;a": 1_000_000, "main;a;x": 1, "main;c": 1}
    tree = build_tree(weights)
    assert [tree.names[tree.name_ids[i]] for i in range(len(tree))] == ["all", "main", "a", "x", "b", "c"]
    assert list(tree.depths) == [0, 1, 2, 3, 2, 2]


def test_nonpositive_stacks_are_left_out_and_counted() -> None:
    tree = build_tree({"a;b": 3, "a;c": 0, "d": -2})
    assert node_paths(tree) == [(), ("a",), ("a", "b")]
    assert tree.nonpositive == 2


def test_the_packed_block_decodes_to_the_tree() -> None:
    tree = build_tree({"main;f": 2.5, "main;g\x1b": 1}, {"main;f": 1})
    header, data = pack(tree, lambda name: "rgb(1,2,3)" if name == "f" else "#0a0b0c")
    raw = gzip.decompress(base64.b64decode(data))
    n, m = header["nodes"], header["names"]
    assert len(raw) == header["rawBytes"] and header["sides"] == 2
    assert header["types"] == ["f64", "u16", "u16"]  # a fraction: float64 weights; few names, shallow
    after = struct.unpack(f"<{n}d", raw[: 8 * n])
    before = struct.unpack(f"<{n}d", raw[8 * n : 16 * n])
    assert (sum(after), sum(before)) == (3.5, 1.0)
    ids = decode_names(struct.unpack(f"<{n}H", raw[16 * n : 18 * n]))
    assert ids == tuple(tree.name_ids)
    colors = raw[20 * n : 20 * n + 3 * m]
    names = raw[-header["namesBytes"] :].decode("utf-8").split("\n")[:m]
    assert names == ["all", "main", "f", "g\u241b"]  # the escape character made visible
    assert colors[3 * ids[2] : 3 * ids[2] + 3] == bytes([1, 2, 3])
    assert colors[3 * ids[3] : 3 * ids[3] + 3] == bytes([10, 11, 12])
    json.dumps(header)  # the header is plain JSON


def test_a_page_palette_leaves_plain_names_to_the_page() -> None:
    tree = build_tree({"main;f": 2, "main;g\x1b": 1, "main;é": 1})
    header, data = pack(tree, lambda name: "rgb(1,2,3)", "hot")
    raw = gzip.decompress(base64.b64decode(data))
    n = header["nodes"]
    assert (header["palette"], header["given"], header["types"]) == ("hot", 2, ["u32", "u16", "u16"])
    assert len(raw) == header["rawBytes"] == 4 * n + 4 * 2 + 2 * n + 2 * n + 3 * 2 + header["namesBytes"]
    given = struct.unpack("<2I", raw[4 * n : 4 * n + 8])
    assert [tree.names[i] for i in given] == ["g\x1b", "é"]  # not printable ASCII: the twin's fills
    assert raw[8 * n + 8 : 8 * n + 14] == bytes([1, 2, 3, 1, 2, 3])
    assert pack(tree, str, "java")[0]["palette"] is None  # a palette the page does not know: every fill
    assert pack(tree, str)[0]["given"] == len(tree.names)


def test_names_are_coded_as_new_or_their_id_plus_one() -> None:
    tree = build_tree({"main;f;main": 1, "main;g;f": 1, "x": 1})
    assert list(tree.name_ids) == [0, 1, 2, 1, 3, 2, 4]
    assert list(name_codes(tree.name_ids)) == [0, 0, 0, 2, 0, 3, 0]  # the next new name is 0
    raw = gzip.decompress(base64.b64decode(pack(tree, str)[1]))
    n = len(tree)
    assert struct.unpack(f"<{n}H", raw[4 * n : 6 * n]) == (0, 0, 0, 2, 0, 3, 0)
    assert list(name_codes(array("I", [0, 2, 1]))) == [0, 3, 0]  # ids in any order round-trip
    assert decode_names((0, 3, 0)) == (0, 2, 1)


def test_arrays_take_the_narrowest_type_that_holds_them() -> None:
    assert pack(build_tree({"a;b": 3}), str)[0]["types"] == ["u32", "u16", "u16"]
    below = build_tree({f"f{i}": 1 for i in range(2**16 - 1)})  # 65,535 names: codes up to 65,535
    assert len(below.names) == 2**16 and pack(below, str)[0]["types"] == ["u32", "u32", "u16"]
    assert pack(build_tree({f"f{i}": 1 for i in range(2**16 - 2)}), str)[0]["types"] == ["u32", "u16", "u16"]
    assert pack(build_tree({"a": 2**32}), str)[0]["types"] == ["f64", "u16", "u16"]
    many = build_tree({f"f{i}": 1 for i in range(70_000)})
    assert pack(many, str)[0]["types"] == ["u32", "u32", "u16"]
    deep = build_tree({";".join(["f"] * 70_000): 1})
    assert pack(deep, str)[0]["types"] == ["u32", "u32", "u32"]  # uint32 depths keep uint32 names aligned


def test_fills_as_bytes() -> None:
    assert rgb_bytes("rgb(255,128,0)") == b"\xff\x80\x00"
    assert rgb_bytes("#ff8000") == b"\xff\x80\x00"
    assert rgb_bytes("teal") == b"\xa0\xa0\xa0"
