"""The plain flame graph (`foldkit.cli.plain`): `foldkit flamegraph x.folded` without picture
flags is drawn natively from the file to the SVG, byte for byte what the full path (`foldkit.cli
.draw` with lxml, the reference) draws; every input it does not take (None) is drawn by the full
path."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.cli import plain
from foldkit.native import native_core
from tests.support.common import console_modules

pytestmark = pytest.mark.skipif(native_core() is None, reason="the plain flame graph is native")


def _full(path: Path, out: Path) -> bytes:
    """The SVG the full path (`foldkit.cli.draw`, as `foldkit.cli.fast` calls it) draws."""
    from foldkit.cli.draw import draw
    from foldkit.cli.render_values import RENDER_DEFAULTS, render_flags
    from foldkit.ingest.options import FoldOptions
    from foldkit.transform import Pipeline

    draw([str(path)], out, None, True, False, fold_options=FoldOptions(), render=render_flags(**RENDER_DEFAULTS), transforms=Pipeline())
    return out.read_bytes()


#: Folded files the plain path draws.
TAKEN = {
    "small": b"main;work;inner 3\nmain;work 2\nmain;idle 1\n",
    "tower": (";".join(f"function_{i % 97}_{i}" for i in range(29_000)) + " 7\n").encode(),
    "escaped": b'a<b>;c&d;"q\';x 5\nmain;[unknown] ;x  4\nk;read_[k] 2\nj;java/lang/Thread.run 1\n',
    "narrow": b"main;big 100000\nmain;tiny 1\n" + b"".join(b"main;f%d 3\n" % i for i in range(200)),
    "crlf": b"main;a 1\r\nmain;b 2\r\n",
    "control": b"main;a\x01b;c\x7fd 2\n",
    "many too narrow": b"".join(b"main;f%d 1\n" % i for i in range(31_000)),
    "blank lines": b"main;a 1\n\nmain;b 2\n\n",
    "long head": b"".join(b"root;frame_%06d;leaf 1\n" % i for i in range(5000)),
    "a long first line, then more": (";".join(f"f{i}" for i in range(20_000)) + " 3\n").encode() + b"main 1\n",
}

#: Folded files it leaves to the full path (which says something, or draws another picture).
LEFT = {
    "header": b"# foldkit: unit=ns\nmain;a 1\n",
    "comment": b"# made by hand\nmain;a 1\n",
    "decimal": b"main;a 1.5\n",
    "offsets": b"main+0x10;a 1\n",
    "zero weight": b"main;a 0\nmain;b 2\n",
    "bad line": b"main;a 1\nnonsense\n",
    "not ASCII": "main;caf\u00e9 2\n".encode(),
    "two columns": b"main;a 1 2\n",
    "indented": b" main;a 1\n",
    "bpftrace entry": b"@main;a 1\n",
    "empty": b"",
    "budget": (";".join(f"f{i}" for i in range(31_000)) + " 7\n").encode(),  # over the frame budget: a subtitle
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_plain_inputs_are_drawn_natively_as_the_full_path_draws_them(tmp_path: Path, name: str) -> None:
    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN[name])
    svg = plain.draw(str(path))
    assert svg is not None
    assert svg == _full(path, tmp_path / "full.svg")


@pytest.mark.parametrize("name", sorted(LEFT))
def test_other_inputs_are_left_to_the_full_path(tmp_path: Path, name: str) -> None:
    path = tmp_path / "in.folded"
    path.write_bytes(LEFT[name])
    assert plain.draw(str(path)) is None


def test_only_folded_files_below_the_read_ahead_size(tmp_path: Path) -> None:
    other = tmp_path / "in.txt"
    other.write_bytes(TAKEN["small"])
    assert plain.draw(str(other)) is None
    compressed = tmp_path / "in.folded"
    import gzip

    compressed.write_bytes(gzip.compress(TAKEN["small"]))
    assert plain.draw(str(compressed)) is None
    assert plain.draw(str(tmp_path / "nosuch.folded")) is None


_NAME = st.text(alphabet=st.sampled_from(list("ab_[]k:<>&\"' .jJ/0123456789()")), min_size=1, max_size=8).filter(
    lambda s: s.strip() == s and "+" not in s
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stacks=st.dictionaries(st.lists(_NAME, min_size=1, max_size=6).map(";".join), st.integers(1, 10**6), min_size=1, max_size=30))
def test_random_profiles_as_the_full_path(tmp_path: Path, stacks: dict[str, int]) -> None:
    path = tmp_path / "h.folded"
    path.write_bytes("".join(f"{s} {w}\n" for s, w in stacks.items()).encode())
    svg = plain.draw(str(path))
    if svg is not None:
        assert svg == _full(path, tmp_path / "h.svg")


#: Every module the plain path loads beyond the interpreter's own start-up: foldkit's few, the
#: native core, and three small built-ins. Not typing, re, enum, functools, collections,
#: contextlib, signal, pathlib, tempfile, shutil, gzip, importlib or dataclasses, each of which
#: took longer to import than drawing a tower of 29,000 frames (issue 20).
PLAIN_MODULES = {
    "__future__", "gc", "itertools", "math",
    "foldkit", "foldkit._native", "foldkit.cli", "foldkit.cli.compat", "foldkit.cli.fast",
    "foldkit.cli.plain", "foldkit.cli.running", "foldkit.cluster", "foldkit.constants",
    "foldkit.errors", "foldkit.jobs", "foldkit.launch", "foldkit.lazy", "foldkit.native",
    "foldkit.outputs", "foldkit.readahead", "foldkit.render", "foldkit.render.assets",
    "foldkit.render.backgrounds", "foldkit.render.defaults",
}  # fmt: skip


@pytest.mark.parametrize("to", ["file", "stdout"])
def test_the_plain_path_loads_only_its_own_few_modules(tmp_path: Path, to: str) -> None:
    folded = tmp_path / "tower.folded"
    folded.write_bytes(TAKEN["tower"])
    svg = tmp_path / "tower.svg"
    proc, modules = console_modules(["flamegraph", str(folded), "-o", str(svg) if to == "file" else "-"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "foldkit.cli.plain" in modules  # the test sees what was loaded
    assert sorted(modules - PLAIN_MODULES) == []
    assert (svg.read_bytes() if to == "file" else out) == _full(folded, tmp_path / "full.svg")


@pytest.mark.parametrize("name", ["small", "tower", "escaped", "long head"])
def test_plain_write_streams_the_full_paths_bytes_into_place(tmp_path: Path, name: str) -> None:
    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN[name])
    out = tmp_path / "out.svg"
    out.write_bytes(b"old")
    assert plain.write(str(path), str(out))
    assert out.read_bytes() == _full(path, tmp_path / "full.svg")
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)  # as `write_bytes` leaves a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.svg", "in.folded", "out.svg"]  # no temp file left


@pytest.mark.parametrize("name", ["comment", "decimal", "budget", "not ASCII"])
def test_plain_write_of_another_input_writes_nothing(tmp_path: Path, name: str) -> None:
    path = tmp_path / "in.folded"
    path.write_bytes(LEFT[name])
    assert not plain.write(str(path), str(tmp_path / "out.svg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.folded"]


def test_plain_write_to_a_replaced_stdout_writes_the_bytes(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN["escaped"])
    assert plain.write(str(path), "-")
    assert capsysbinary.readouterr().out == _full(path, tmp_path / "full.svg")


def test_plain_write_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    from foldkit.errors import OutputError

    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN["small"])
    with pytest.raises(OutputError, match=r"output directory .*nope does not exist"):
        plain.write(str(path), str(tmp_path / "nope" / "out.svg"))


def test_plain_write_onto_a_full_device_is_the_reason(tmp_path: Path) -> None:
    from foldkit.errors import OutputError
    from tests.robustness.test_outputs import device_copy

    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN["tower"])
    full = device_copy(tmp_path, "/dev/full")
    with pytest.raises(OutputError, match=f"{full}: cannot write: No space left on device$"):
        plain.write(str(path), str(full))
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_temp_name_taken_is_left_alone_and_another_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from foldkit import outputs

    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN["small"])
    expected = _full(path, tmp_path / "full.svg")
    taken = tmp_path / ".out.svg.taken.tmp"
    taken.write_bytes(b"someone else's")
    names = iter([str(taken), str(tmp_path / ".out.svg.free.tmp")])
    monkeypatch.setattr(outputs, "_temp_names", lambda parent, target: names)
    assert plain.write(str(path), str(tmp_path / "out.svg"))
    assert taken.read_bytes() == b"someone else's"
    assert (tmp_path / "out.svg").read_bytes() == expected
    assert not (tmp_path / ".out.svg.free.tmp").exists()


def test_the_native_writer_raises_oserror_as_python_does(tmp_path: Path) -> None:
    path = tmp_path / "in.folded"
    path.write_bytes(TAKEN["small"])
    found = plain._plain_table(str(path))
    assert found is not None
    core, table = found
    there = tmp_path / "there.svg"
    there.write_bytes(b"kept")
    with pytest.raises(FileExistsError) as made:
        core.table_svg_write(table, 0, 1000, plain.page(), str(there), True)
    assert (made.value.errno, made.value.strerror) == (errno.EEXIST, os.strerror(errno.EEXIST))
    assert there.read_bytes() == b"kept"
    with pytest.raises(FileNotFoundError):
        core.table_svg_write(table, 0, 1000, plain.page(), str(tmp_path / "nope" / "x.svg"), False)
