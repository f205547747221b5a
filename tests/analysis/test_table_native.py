"""The commands' work on the native stack table of a folded file (`fold`'s folded text, `top`'s
per-function sums, `diff --folded`'s union) against the Python twins working from the same stacks
as a dict: the same bytes and the same rows, for generated files read by any number of threads
in ranges cut anywhere (`min_split`), and the fallback to the twin where the table is not one the
core takes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.analysis.diff import (
    changes_table,
    diff_profiles,
    difffolded_bytes,
    table_changes,
    table_difffolded,
)
from foldkit.analysis.functions import heaviest
from foldkit.analysis.tables import Rows, Table, to_csv, to_json, to_text
from foldkit.analysis.top import top_table
from foldkit.ingest import FoldOptions
from foldkit.ingest.folded import fold_file
from foldkit.native import NATIVE_SWITCH
from foldkit.profile import ROOT_FRAMES, LazyProfile, Profile
from tests.support.transform import run_cli

#: Frame names: recursion (repeats), a shared prefix, non-ASCII, an empty frame.
FRAMES = st.sampled_from(["main", "a", "b", "abcdefgh", "abcdefghi", "é", "x y", "", "s1", "s10"])
STACK = st.lists(FRAMES, min_size=1, max_size=6).map(";".join).filter(lambda s: s.strip() != "")
WEIGHT = st.one_of(st.integers(min_value=-5, max_value=50), st.sampled_from([0, 2**40, 2**56]))
LINES = st.lists(st.tuples(STACK, WEIGHT), min_size=1, max_size=40)


def text_of(lines: list[tuple[str, int]]) -> bytes:
    return "".join(f"{s} {w}\n" for s, w in lines).encode()


def read_table(text: bytes, threads: int, min_split: int) -> Profile | None:
    """`fold_file` of `text` written to a file, by `threads` threads over ranges of at least
    `min_split` bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.folded"
        path.write_bytes(text)
        return fold_file("in.folded", str(path), FoldOptions(jobs=threads), 1 << 26, min_split=min_split)


def twin(profile: Profile) -> Profile:
    """The same stacks as a plain dict (the reference path), the table left in `profile`."""
    table = profile.table if isinstance(profile, LazyProfile) else None
    weights = table.to_dict() if table is not None else dict(profile.weights)
    return Profile(weights=weights, unit=profile.unit, meta=dict(profile.meta))


def python_folded(profile: Profile) -> bytes:
    return "".join(line + "\n" for line in profile.folded_lines()).encode("utf-8", "surrogateescape")


def leading_spaces_stripped(lines: list[tuple[str, int]]) -> bool:
    """A file whose stacks the reader keeps as written (no frame starts the line with a space)."""
    return all(not s[:1].isspace() for s, _ in lines)


@settings(max_examples=200, deadline=None)
@given(LINES, st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=64))
def test_folded_text_from_the_table_is_the_python_text(lines: list[tuple[str, int]], threads: int, min_split: int) -> None:
    got = read_table(text_of(lines), threads, min_split)
    assert isinstance(got, LazyProfile) and got.table is not None
    native = got.to_folded_bytes(header=True)
    assert got.table is not None  # written from the table, no dict made
    assert native == twin(got)._with_header(python_folded(twin(got)), True)


def rows(table: Table) -> tuple[object, ...]:
    """The table's rows, title and metadata, and its bytes in every format (its rows from the
    native table are lists until the frame is asked for: the text and JSON are written from them)."""
    written = (to_text(table), to_json(table), to_csv(table))
    return (table.frame.to_dicts(), table.title, table.meta, written)


@settings(max_examples=100, deadline=None)
@given(
    LINES,
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=1, max_value=64),
    st.sampled_from(["function", "comm"]),
    st.sampled_from(["self", "total"]),
    st.sampled_from([0, 1, 3, 20]),
    st.sampled_from([None, ("comm",)]),
)
def test_top_from_the_table_is_the_polars_top(
    lines: list[tuple[str, int]], threads: int, min_split: int, by: str, sort: str, limit: int, roots: tuple[str, ...] | None
) -> None:
    got = read_table(text_of(lines), threads, min_split)
    assert isinstance(got, LazyProfile)
    if roots is not None:
        got.meta[ROOT_FRAMES] = roots
    reference = twin(got)
    native = top_table(got, by, sort, limit)
    assert got.table is not None  # summed in the table, no dict made
    assert rows(native) == rows(top_table(reference, by, sort, limit))


@pytest.mark.parametrize("threads", [1, 2])
def test_many_stacks_sorted_and_summed_on_threads_are_the_twins(threads: int) -> None:
    """Enough stacks (150,000, long shared prefixes, windows of zero padding) that the core sorts
    them in parallel parts and writes the text on threads: the same bytes and top rows as the twin."""
    lines = [
        (f"java;start_thread;run;f{i % 977};g{(i * 7919) % 100_003}{'' if i % 5 else ';h'}", i % 7 - 1)
        for i in range(150_000)
    ]
    got = read_table(text_of(lines), threads, 1 << 16)
    assert isinstance(got, LazyProfile) and got.table is not None
    reference = twin(got)
    assert got.to_folded_bytes() == python_folded(reference)
    assert isinstance(top_table(got, "function", "self", 25).data, Rows)  # lists, no polars frame
    for sort in ("self", "total"):
        assert rows(top_table(got, "function", sort, 25)) == rows(top_table(reference, "function", sort, 25))
    assert got.table is not None


def test_the_core_sums_what_it_takes_and_refuses_the_rest() -> None:
    got = read_table(b"a;b;a 3\nc;b 2\na 1\n", 1, 1)
    assert isinstance(got, LazyProfile)
    found = heaviest(got, "function", "total", 0)
    assert found is not None
    frame, count = found
    assert count == 3 and frame.rows() == [("b", 2, 5), ("a", 4, 4), ("c", 0, 2)]
    assert heaviest(got, "dso", "self", 0) is None  # dsos are the reference's
    assert heaviest(twin(got), "function", "self", 0) is None  # no table
    # a sum beyond i64: the reference (polars) sums it
    big = read_table(b"a %d\na;b %d\n" % (2**63 - 1, 2**63 - 1), 1, 1)
    assert isinstance(big, LazyProfile) and heaviest(big, "function", "self", 0) is None


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_sums_beyond_i64_stay_exact_in_the_table(threads: int) -> None:
    top = 2**63 - 1
    text = b"".join(b"a;b %d\nc 1\na;b -%d\na;b %d\n" % (top, top, top) for _ in range(40))
    got = read_table(text, threads, 1)
    assert isinstance(got, LazyProfile) and got.table is not None
    assert got.to_folded_bytes() == b"a;b %d\nc 40\n" % (40 * top)
    assert got.table.sums() == (40 * top + 40,) * 3


@settings(max_examples=150, deadline=None)
@given(LINES, LINES, st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=64))
def test_difffolded_from_two_tables_is_the_python_text(
    before: list[tuple[str, int]], after: list[tuple[str, int]], threads: int, min_split: int
) -> None:
    old = read_table(text_of(before), threads, min_split)
    new = read_table(text_of(after), threads, min_split)
    assert isinstance(old, LazyProfile) and isinstance(new, LazyProfile)
    native = table_difffolded(old, new)
    assert native is not None
    assert native == difffolded_bytes(diff_profiles(twin(old), twin(new)))


@settings(max_examples=100, deadline=None)
@given(
    LINES,
    LINES,
    st.integers(min_value=1, max_value=3),
    st.booleans(),
    st.sampled_from(["self", "total"]),
    st.sampled_from([0, 1, 3, 20]),
    st.sampled_from([None, ("comm",)]),
)
# an all-zero BEFORE beside a weight past 2^53: the reference's sums stay integers, as the core's
@example([("main", 0)], [("main;main", 1), ("main;main", 2**56)], 1, False, "self", 0, ("comm",))
# a negative BEFORE total scales by -1: a function with a zero sum is 0.0 on both paths, never -0.0
@example([("main", -1)], [("main", 1), ("a", 0)], 1, True, "self", 0, None)
@example([("main", 1)], [("main", -1), ("a", 0)], 1, True, "self", 0, None)
@example([("main;a", -1)], [("main", 1)], 1, True, "total", 0, None)
def test_diff_table_from_two_tables_is_the_polars_table(
    before: list[tuple[str, int]],
    after: list[tuple[str, int]],
    threads: int,
    normalize: bool,
    sort: str,
    limit: int,
    roots: tuple[str, ...] | None,
) -> None:
    old = read_table(text_of(before), threads, 1)
    new = read_table(text_of(after), threads, 1)
    assert isinstance(old, LazyProfile) and isinstance(new, LazyProfile)
    if roots is not None:
        old.meta[ROOT_FRAMES] = new.meta[ROOT_FRAMES] = roots
    native = table_changes(old, new, normalize, sort, limit)
    assert native is not None and old.table is not None and new.table is not None
    reference = changes_table(diff_profiles(twin(old), twin(new), normalize=normalize), sort, limit)
    assert rows(native) == rows(reference)


@pytest.mark.parametrize("long_first", [True, False])
@pytest.mark.parametrize(("sort", "limit"), [("self", 5), ("total", 0)])
def test_diff_table_of_a_long_side_against_a_short_one_is_the_polars_table(long_first: bool, sort: str, limit: int) -> None:
    # one side 8+ times the other's stack bytes: the short side is summed apart and matched by name
    long = [(f"p;m{i % 13};s{i % 29}", i % 4 - 1) for i in range(300)]
    short = [("p;m3;s3", 5), ("p;q", 2), ("z;m1", 1), ("p;m1;s1;m1", 7)]
    before, after = (long, short) if long_first else (short, long)
    old, new = read_table(text_of(before), 2, 1), read_table(text_of(after), 2, 1)
    assert isinstance(old, LazyProfile) and isinstance(new, LazyProfile)
    for normalize in (False, True):
        native = table_changes(old, new, normalize, sort, limit)
        assert native is not None
        assert rows(native) == rows(changes_table(diff_profiles(twin(old), twin(new), normalize=normalize), sort, limit))


@pytest.mark.parametrize("big_first", [True, False])
def test_diff_folded_of_many_pieces_is_written_as_the_python_text(tmp_path: Path, big_first: bool) -> None:
    # 150,000 stacks: three pieces of the larger side, the smaller side's stacks falling in each
    big = b"".join(b"p;m%d;s%d 1\n" % (i, i) for i in range(150_000))
    small = b"p;m5;s5 3\np;m99999;s99999 2\nq 4\np;m149999;s149999 7\na 1\n"
    first, second = (big, small) if big_first else (small, big)
    (tmp_path / "b.folded").write_bytes(first)
    (tmp_path / "a.folded").write_bytes(second)
    out = tmp_path / "d.folded"
    code, _, err = run_cli(["diff", str(tmp_path / "b.folded"), str(tmp_path / "a.folded"), "-o", str(out)])
    assert code == 0, err
    old, new = read_table(first, 2, 1 << 20), read_table(second, 1, 1)
    assert old is not None and new is not None
    assert out.read_bytes() == table_difffolded(old, new) == difffolded_bytes(diff_profiles(twin(old), twin(new)))


@settings(max_examples=100, deadline=None)
@given(LINES, st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=64))
def test_folded_text_written_from_the_table_is_the_python_text(lines: list[tuple[str, int]], threads: int, min_split: int) -> None:
    got = read_table(text_of(lines), threads, min_split)
    assert isinstance(got, LazyProfile) and got.table is not None
    with tempfile.TemporaryDirectory() as tmp:
        made, truncated = Path(tmp) / "new.folded", Path(tmp) / "old.folded"
        truncated.write_bytes(b"x" * 10_000)
        assert _native.table_folded_write(got.table, str(made), True)
        assert _native.table_folded_write(got.table, str(truncated), False)
        with pytest.raises(FileExistsError):
            _native.table_folded_write(got.table, str(made), True)
        exported = Path(tmp) / "export.folded"
        from foldkit.export import export

        export(got, exported)
        assert got.table is not None  # written from the table, no dict made
        want = python_folded(twin(got))
        assert made.read_bytes() == truncated.read_bytes() == exported.read_bytes() == want
        assert oct(made.stat().st_mode & 0o777) == oct(0o600)


def test_a_table_with_decimal_sums_is_left_to_the_twin() -> None:
    got = read_table(b"a 1.5\nb 2\n", 1, 1)
    # decimal sums make a plain profile: nothing for the core's table writers
    assert not isinstance(got, LazyProfile) or got.table is None
    table = _native.read_folded_file  # the table itself refuses to write decimals
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.folded"
        path.write_bytes(b"a 1.5\nb 2\n")
        stacks = table(str(path), 1, 1 << 20, 100)
        assert stacks is not None
        assert _native.table_folded_text(stacks) is None
        assert _native.table_folded_write(stacks, str(Path(tmp) / "never"), True) is False
        assert not (Path(tmp) / "never").exists()
        assert _native.table_top(stacks, "function", 0, True, 0) is None
        assert _native.table_difffolded_write(stacks, stacks) is False
        out = io.BytesIO()
        assert _native.table_difffolded_write(stacks, stacks, out) is False and not out.getvalue()
        assert _native.table_changes(stacks, stacks, 0, 1.0, 1.0, 1.0, True, 0) is None


@pytest.mark.parametrize(
    ("command", "suffix"),
    [
        (["fold"], ".folded"),
        (["top", "-n", "0"], ".txt"),
        (["top", "--by", "comm"], ".csv"),
        (["diff", "--folded"], ".folded"),
        (["diff"], ".json"),
        (["diff", "--no-normalize", "--sort", "total"], ".csv"),
        (["diff"], ".svg"),
        (["diff", "--basis", "before", "--no-normalize", "--color-by", "total"], ".svg"),
    ],
)
def test_the_commands_write_what_the_twin_writes(tmp_path: Path, command: list[str], suffix: str) -> None:
    lines = [(f"p{i % 3};m{i % 7};s{i % 11};m{i % 7}", i % 5 + 1) for i in range(300)]
    first = tmp_path / "a.folded"
    first.write_bytes(text_of(lines))
    second = tmp_path / "b.folded"
    second.write_bytes(text_of([*lines[100:], ("p0;new", 9)]))
    inputs = [str(first), str(second)] if command[0] == "diff" else [str(first)]
    outputs = []
    for native in ("1", "0"):
        out = tmp_path / f"out{native}{suffix}"
        env = {**os.environ, NATIVE_SWITCH: native}
        subprocess.run([sys.executable, "-m", "foldkit", *command, *inputs, "-o", str(out)], check=True, env=env)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]
