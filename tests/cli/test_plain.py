"""The plain flame graph (`foldkit.cli.plain`): `foldkit flamegraph x.folded` without picture
flags is drawn natively from the file to the SVG, byte for byte what the full path (`foldkit.cli
.draw` with lxml, the reference) draws; every input it does not take (None) is drawn by the full
path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.cli import plain
from foldkit.native import native_core

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


def test_the_plain_path_loads_neither_lxml_nor_the_readers(tmp_path: Path) -> None:
    folded = tmp_path / "tower.folded"
    folded.write_bytes(TAKEN["tower"])
    svg = tmp_path / "tower.svg"
    dump = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys; "
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        f"sys.argv = ['foldkit', 'flamegraph', {str(folded)!r}, '-o', {str(svg)!r}]; "
        "from foldkit.launch import entry; entry()"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FOLDKIT_CLUSTER", "FOLDKIT_FAST_PATH")}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
    modules = set(json.loads(dump.read_text()))
    assert "foldkit.cli.plain" in modules  # the test sees what was loaded
    heavy = ("lxml", "dataclasses", "foldkit.ingest", "foldkit.render.svg", "foldkit.render.layout", "foldkit.render.options", "foldkit.profile", "foldkit.cli.draw")
    assert sorted(m for m in modules if m.startswith(heavy)) == []
    assert svg.read_bytes() == _full(folded, tmp_path / "full.svg")
