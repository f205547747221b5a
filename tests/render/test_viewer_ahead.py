"""The viewer's tree built ahead (`readahead.start(..., viewer_root=...)`, `read_ahead.rs`): built
as the file read ahead is read, taken by `native_tree` only for that table with that root and
without `--reverse`, the same tree it builds otherwise; which command lines build it ahead
(`launch.viewer_root`); and that the page written is the same either way."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from foldkit import _native, readahead
from foldkit.cli import fast
from foldkit.ingest import FoldOptions, read
from foldkit.inputs import DEFAULT_MAX_RECORD
from foldkit.launch import viewer_root
from foldkit.profile import LazyProfile
from foldkit.render.viewer.tree import FrameTree, build_tree, native_tree
from tests.ingest.test_readahead import big_folded
from tests.render.test_viewer_native import same_tree


@pytest.fixture(autouse=True)
def _nothing_pending() -> Iterator[None]:
    readahead.forget()
    yield
    readahead.forget()


def _table_read_ahead(path: Path, root: str | None = "all") -> _native.FoldedStacks:
    readahead.start([str(path)], viewer_root=root)
    pending = readahead.take(str(path), DEFAULT_MAX_RECORD)
    assert pending is not None
    table = pending.result()
    assert table is not None
    return table


def test_the_tree_built_ahead_is_the_tree_built_now(tmp_path: Path) -> None:
    big = big_folded(tmp_path / "a.folded")
    table = _table_read_ahead(big)
    ahead = native_tree(table)
    assert ahead is not None and ahead.built_ahead
    again = native_tree(table)  # taken once: built now
    assert again is not None and not again.built_ahead
    same_tree(FrameTree.from_native(ahead), FrameTree.from_native(again))
    same_tree(FrameTree.from_native(ahead), build_tree(table.to_dict()))
    # scales apply to a tree built ahead as to one built now
    scaled = _table_read_ahead(big)
    half = native_tree(scaled, scales=[0.5])
    assert half is not None and half.built_ahead
    assert list(FrameTree.from_native(half).selfs[0]) == [w * 0.5 for w in FrameTree.from_native(again).selfs[0]]


@pytest.mark.parametrize("case", ["another root", "reversed", "another table", "two sides", "no tree asked"])
def test_a_tree_built_ahead_is_taken_only_for_its_table_and_root(tmp_path: Path, case: str) -> None:
    big = big_folded(tmp_path / "a.folded")
    table = _table_read_ahead(big, None if case == "no tree asked" else "all")
    fresh = _native.read_folded_file(str(big), 2, DEFAULT_MAX_RECORD)
    if case == "another root":
        tree = native_tree(table, root="everything")
    elif case == "reversed":
        tree = native_tree(table, reverse=True)
    elif case == "another table":
        tree = native_tree(fresh)
    elif case == "two sides":
        tree = native_tree(table, table)
    else:
        tree = native_tree(table)
    assert tree is not None and not tree.built_ahead
    # whatever was held is let go: the table's own tree is built now afterwards
    later = native_tree(table)
    assert later is not None and not later.built_ahead


def test_stacks_the_core_does_not_build_are_not_built_ahead(tmp_path: Path) -> None:
    path = tmp_path / "a.folded"
    big_folded(path)
    with path.open("a") as f:
        f.write("decimal;weight 1.5\n")  # a decimal sum: the twin builds the tree
    table = _table_read_ahead(path)
    assert table.has_floats() and native_tree(table) is None


def _plan(*args: str) -> fast.Plan | None:
    return fast.parse(list(args))


def test_the_command_lines_that_build_the_tree_ahead(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    assert viewer_root(_plan("flamegraph", big, "-o", "x.html")) == "all"
    assert viewer_root(_plan("flamegraph", big, "-o", "x.HTM", "--title", "t", "--hash")) == "all"
    assert viewer_root(_plan("flamegraph", big, "-o", "x.html.gz")) == "all"
    assert viewer_root(_plan("flamegraph", big, "-o", "x.html", "--reverse")) is None
    assert viewer_root(_plan("flamegraph", big, "-o", "x.svg")) is None
    assert viewer_root(_plan("flamegraph", big)) is None
    assert viewer_root(_plan("flamegraph", big, big, "-o", "x.html")) is None
    assert viewer_root(_plan("fold", big, "-o", "x.html")) is None
    assert viewer_root(None) is None


def test_the_profile_read_keeps_the_table_the_tree_was_built_from(tmp_path: Path) -> None:
    big = big_folded(tmp_path / "a.folded")
    readahead.start([str(big)], viewer_root="all")
    profile = read([str(big)], FoldOptions())
    assert isinstance(profile, LazyProfile)
    tree = native_tree(profile.table)
    assert tree is not None and tree.built_ahead


def test_the_page_is_the_same_built_ahead_or_not(tmp_path: Path) -> None:
    big = str(big_folded(tmp_path / "a.folded"))
    code = (
        "import sys; from foldkit.render.viewer import tree; real = tree.native_tree\n"
        "def native_tree(*a, **k):\n"
        "    r = real(*a, **k); print('ahead' if r is not None and r.built_ahead else 'now', file=sys.stderr); return r\n"
        "tree.native_tree = native_tree\n"
        "import foldkit.render.viewer as v; v.native_tree = native_tree\n"
        "sys.argv = ['foldkit'] + sys.argv[1:]\n"
        "from foldkit.launch import entry; entry()"
    )
    pages = {}
    for how in ("fast", "typer"):
        out = tmp_path / f"{how}.html"
        env = {**os.environ, fast.SWITCH: "1" if how == "fast" else "0"}
        done = subprocess.run([sys.executable, "-c", code, "flamegraph", big, "-o", str(out)], capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip() == ("ahead" if how == "fast" else "now")
        pages[how] = out.read_bytes()
    assert pages["fast"] == pages["typer"]
