"""Which files a report covers, what they are called, and the folder each gets."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.errors import InputError, UsageError
from foldkit.report.discover import MARKER, MAX_SLUG, find_captures, slugify


def touch(path: Path, text: str = "main;f 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folders_are_walked_recursively_in_order_without_hidden_files(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for name in ("b.perf", "a/z.bt", "a/b/c.folded", ".hidden", ".git/objects/x", "a/.cache/y"):
        touch(root / name)
    found = find_captures([str(root)])
    assert [c.name for c in found] == ["a/b/c.folded", "a/z.bt", "b.perf"]
    assert not any(c.explicit for c in found)


def test_reports_and_the_output_are_not_read_as_captures(tmp_path: Path) -> None:
    root = tmp_path / "in"
    touch(root / "cpu.perf")
    touch(root / "old-report" / MARKER, "{}")
    touch(root / "old-report" / "captures" / "x" / "stacks.folded")
    touch(root / "site" / "index.html")  # the report being written, not yet marked
    found = find_captures([str(root)], exclude=[root / "site"])
    assert [c.name for c in found] == ["cpu.perf"]


def test_names_are_relative_to_the_common_folder(tmp_path: Path) -> None:
    a = touch(tmp_path / "hosts" / "a" / "cpu.perf")
    b = touch(tmp_path / "hosts" / "b" / "cpu.perf")
    found = find_captures([str(a), str(b.parent)])
    assert [c.name for c in found] == ["a/cpu.perf", "b/cpu.perf"]
    assert [c.explicit for c in found] == [True, False]
    assert find_captures([str(a)])[0].name == "cpu.perf"


def test_a_file_named_twice_is_reported_once(tmp_path: Path) -> None:
    f = touch(tmp_path / "in" / "cpu.perf")
    found = find_captures([str(f), str(tmp_path / "in"), str(f)])
    assert [c.path for c in found] == [str(f)]


def test_slugs_are_unique_even_on_case_insensitive_file_systems(tmp_path: Path) -> None:
    for name in ("a b.perf", "a_b.perf", "A_B.perf", "a?b.perf"):
        touch(tmp_path / name)
    slugs = [c.slug for c in find_captures([str(tmp_path)])]
    assert len({s.lower() for s in slugs}) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", s) for s in slugs)


@pytest.mark.parametrize(
    ("inputs", "error", "message"),
    [
        (["missing"], InputError, "no such file or folder"),
        (["-"], UsageError, "not standard input"),
        ([], UsageError, "at least one"),
        (["empty"], UsageError, "no files found"),
    ],
)
def test_bad_inputs(tmp_path: Path, inputs: list[str], error: type[Exception], message: str) -> None:
    (tmp_path / "empty").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(error, match=message):
            find_captures(inputs)
    finally:
        os.chdir(cwd)


@given(st.text(min_size=0, max_size=300))
def test_slugify_is_always_a_safe_folder_name(name: str) -> None:
    slug = slugify(name)
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", slug)
    assert slug not in (".", "..") and len(slug) <= MAX_SLUG


def test_slugify_keeps_names_recognisable() -> None:
    assert slugify("host-1/cpu.perf.zst") == "host-1__cpu.perf.zst"
    assert slugify("../../etc/passwd") == "etc__passwd"
    assert slugify("<script>") == "script"
