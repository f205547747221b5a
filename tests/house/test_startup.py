"""Start-up stays cheap: a command loads only the modules its work needs (how long that takes is
measured in benchmarks/bench_fold.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.common import FIXTURES, console_modules

#: Modules that folding a perf capture to folded text never needs: the renderer and lxml, the
#: cluster session (logging, sockets), polars, Dask, the readers of the other formats.
NOT_FOR_FOLD = [
    "lxml.etree", "foldkit.render", "foldkit.cluster.session", "polars", "distributed",
    "foldkit.ingest.bcc", "foldkit.ingest.bpftrace", "foldkit.ingest.folded",
]  # fmt: skip
#: ... and `import foldkit` does not load the readers at all.
NOT_FOR_IMPORT = [*NOT_FOR_FOLD, "foldkit.ingest"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_folding_a_capture_loads_neither_renderer_nor_cluster_nor_polars() -> None:
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['fold', {str(FIXTURES / 'java.perf')!r}, '-q', '-o', '-']); print(); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.ingest.perf" in modules  # the test sees what was loaded
    assert [m for m in NOT_FOR_FOLD if m in modules] == []


def test_import_foldkit_is_light() -> None:
    modules = _modules_after("import json, sys, foldkit; print(json.dumps(sorted(sys.modules)))")
    assert [m for m in NOT_FOR_IMPORT if m in modules] == []


@pytest.mark.parametrize("name", ["Profile", "read", "diff", "check", "FoldOptions"])
def test_import_foldkit_gives_every_public_name(name: str) -> None:
    import foldkit

    assert name in foldkit.__all__ and getattr(foldkit, name) is not None
    assert callable(foldkit.Profile(weights={"a;b": 1}).focus)


def test_drawing_an_svg_loads_neither_the_html_viewer_nor_openssl() -> None:
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['flamegraph', {str(FIXTURES / 'java.perf')!r}, '-q', '-o', '-']); print(); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.render.svg" in modules  # the test sees what was loaded
    assert [m for m in ("foldkit.render.viewer", "_hashlib", "importlib.resources") if m in modules] == []


def test_a_folded_file_named_so_loads_no_other_reader(tmp_path: Path) -> None:
    folded = tmp_path / "cpu.folded"
    folded.write_text("main;work 3\nmain;idle 1\n")
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['flamegraph', {str(folded)!r}, '-q', '-o', {str(tmp_path / 'cpu.svg')!r}]); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.ingest.folded" in modules  # the test sees what was loaded
    assert [m for m in ("foldkit.ingest.perf", "foldkit.ingest.bcc", "foldkit.ingest.bpftrace") if m in modules] == []
    assert (tmp_path / "cpu.svg").read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize("suffix", [".folded", ".svg"])
def test_a_diff_of_folded_files_to_folded_text_or_svg_loads_no_polars(tmp_path: Path, suffix: str) -> None:
    before, after = tmp_path / "a.folded", tmp_path / "b.folded"
    before.write_text("main;work 3\nmain;idle 1\n")
    after.write_text("main;work 5\n")
    out = tmp_path / f"d{suffix}"
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['diff', {str(before)!r}, {str(after)!r}, '-q', '-o', {str(out)!r}]); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.analysis.diff" in modules  # the test sees what was loaded
    assert "polars" not in modules  # the per-function table's, not needed here
    assert out.read_bytes()


def _console_modules(tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    """Stdout of the console script (`foldkit.launch.entry`) run with `args`, and the modules
    loaded when it exits."""
    dump = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys; "
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        f"sys.argv = ['foldkit', *{list(args)!r}]; "
        "from foldkit.launch import entry; entry()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    return out, set(json.loads(dump.read_text()))


def test_version_loads_neither_the_command_line_nor_the_api(tmp_path: Path) -> None:
    out, modules = _console_modules(tmp_path, "--version")
    assert out.startswith("foldkit ") and "foldkit.launch" in modules  # the test sees what was loaded
    assert [m for m in ("typer", "foldkit.cli", "foldkit.api", "foldkit.profile", "foldkit.readahead", "dataclasses") if m in modules] == []


#: What drawing a folded file as an SVG never needs: the other commands, the viewer, analysis,
#: reports and checks, the cluster, tables (polars), the terminal toolkit (rich), other readers,
#: zstd (for a plain input and output).
NOT_FOR_A_FOLDED_SVG = (
    "foldkit.cli.fold", "foldkit.cli.top", "foldkit.cli.diff", "foldkit.cli.check", "foldkit.cli.report",
    "foldkit.cli.formats", "foldkit.render.viewer", "foldkit.render.diffgraph", "foldkit.analysis",
    "foldkit.regression", "foldkit.report", "foldkit.cluster.session", "foldkit.cluster.reading",
    "foldkit.ingest.perf", "foldkit.ingest.bcc", "foldkit.ingest.bpftrace", "foldkit.ingest.pprof",
    "polars", "rich", "distributed", "_hashlib", "importlib.resources", "zstandard",
)  # fmt: skip


def test_flamegraph_of_a_folded_file_loads_only_what_it_draws_with(tmp_path: Path) -> None:
    folded = tmp_path / "cpu.folded"
    folded.write_text("main;work 3\nmain;idle 1\n")
    svg = tmp_path / "cpu.svg"
    # a picture flag: the full path (without one the plain path draws it, tests/cli/test_plain.py)
    _, modules = _console_modules(tmp_path, "flamegraph", "--title", "cpu", str(folded), "-o", str(svg))
    assert {"foldkit.cli.draw", "foldkit.ingest.folded", "foldkit.render.svg"} <= modules  # the test sees what was loaded
    assert sorted(m for m in modules if m.startswith(NOT_FOR_A_FOLDED_SVG)) == []
    assert svg.read_bytes().startswith(b"<?xml")


def test_one_stack_longer_than_the_head_loads_no_other_reader(tmp_path: Path) -> None:
    """A file named `.folded` holding one stack longer than the 64 KiB the sniffers see (a tower
    of 29,000 frames) is judged by its whole first line: no other reader is loaded to sniff it."""
    folded = tmp_path / "tower.folded"
    folded.write_text(";".join(f"function_{i}" for i in range(20_000)) + " 7\n")
    svg = tmp_path / "tower.svg"
    _, modules = _console_modules(tmp_path, "flamegraph", "--title", "tower", str(folded), "-o", str(svg))
    assert "foldkit.ingest.folded" in modules  # the test sees what was loaded
    others = ("perf", "pprof", "histogram", "bpftrace", "dtrace", "bcc", "events")
    assert sorted(m for m in modules if m in {f"foldkit.ingest.{o}" for o in others}) == []
    assert svg.read_bytes().count(b"<rect data-name=") == 20_001


def test_a_long_first_line_that_is_no_stack_is_detected_as_before(tmp_path: Path) -> None:
    from foldkit.ingest import FORMATS, detect
    from foldkit.inputs import open_source

    path = tmp_path / "x.folded"
    path.write_bytes(b"x" * 100_000 + b"\n")  # no weight: left undecided, then read as folded
    assert detect(open_source(str(path))) is FORMATS["folded"]


@pytest.mark.parametrize("suffix", ["txt", "json"])
def test_top_of_a_folded_file_as_text_or_json_loads_no_polars(tmp_path: Path, suffix: str) -> None:
    """`top`'s rows come from the native stack table as lists (`tables.Rows`): polars is loaded
    only for CSV and Parquet."""
    source, out = tmp_path / "in.folded", tmp_path / f"top.{suffix}"
    source.write_bytes(b"".join(b"main;f%d;g 3\n" % i for i in range(300)))
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['top', {str(source)!r}, '-q', '-o', {str(out)!r}]); "
        "print(); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.analysis.top" in modules and out.stat().st_size > 0
    assert "polars" not in modules


def test_check_of_two_folded_files_loads_neither_polars_nor_lxml_nor_the_report(tmp_path: Path) -> None:
    """`check` writes its text report from plain rows; reading the captures' time span (a perf
    capture's) does not load the report's pages and the viewer."""
    base, cand = tmp_path / "a.folded", tmp_path / "b.folded"
    base.write_text("main;work 30\nmain;idle 10\n")
    cand.write_text("main;work 31\nmain;idle 9\n")
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['check', {str(base)!r}, {str(cand)!r}, '-q']); print(); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.regression.gate" in modules  # the test sees what was loaded
    assert [m for m in ("polars", "lxml.etree", "foldkit.report.build", "foldkit.render.viewer") if m in modules] == []


def test_a_diff_to_folded_text_loads_no_lxml(tmp_path: Path) -> None:
    before, after = tmp_path / "a.folded", tmp_path / "b.folded"
    before.write_text("main;work 3\nmain;idle 1\n")
    after.write_text("main;work 5\n")
    out = tmp_path / "d.folded"
    modules = _modules_after(
        "import json, sys; from foldkit.cli import main; "
        f"main(['diff', {str(before)!r}, {str(after)!r}, '-q', '-o', {str(out)!r}]); print(json.dumps(sorted(sys.modules)))"
    )
    assert "foldkit.analysis.diff" in modules and out.read_bytes()  # the test sees what was loaded
    assert [m for m in ("lxml.etree", "foldkit.render.svg") if m in modules] == []


#: The modules whose patterns are checked, and a script that prints how many patterns they (or
#: `foldkit.lazy` on their behalf) compiled while imported, then uses one.
_LAZY_PATTERNS = ("foldkit.transform.normalize", "foldkit.render.palette", "foldkit.ingest.bpf_frames", "foldkit.ingest.histogram", "foldkit.regression.gate")
_COUNT_COMPILES = f"""
import re, re._compiler as c, sys
made = []
real = c.compile
def counting(p, flags=0):
    f = sys._getframe(1)
    while f is not None and f.f_globals.get("__name__", "").split(".")[0] in ("re", "enum"):
        f = f.f_back
    if f is not None and f.f_globals.get("__name__") in ({", ".join(map(repr, _LAZY_PATTERNS))}, "foldkit.lazy"):
        made.append(p)
    return real(p, flags)
c.compile = counting
import {", ".join(_LAZY_PATTERNS)}
n = sys.modules["foldkit.transform.normalize"]
before = type(n._HEX).__name__
print(len(made), before, repr(n._HEX.sub("0x", "f 0x1f")), type(n._HEX).__name__)
"""


def test_module_regexes_are_compiled_when_first_used() -> None:
    """Importing the readers, palettes and transforms compiles none of their patterns (start-up of
    every command); the first use puts the compiled pattern in the global's place."""
    out = subprocess.run([sys.executable, "-c", _COUNT_COMPILES], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.split() == ["0", "_Regex", "'f", "0x'", "Pattern"]


#: foldkit's modules every command line the fast path runs (`foldkit.cli.fast`) loads, "foldkit."
#: left out: the launcher, the fast path, the readers' front (options, inputs, the profile).
_CORE = {
    "foldkit", "_native", "cli", "cli.compat", "cli.fast", "cli.running", "cluster", "constants", "errors",
    "ingest", "ingest.options", "inputs", "jobs", "launch", "lazy", "native", "outputs", "profile",
    "readahead", "timeline",
}  # fmt: skip
#: ... reading a folded file (and the text module that makes names visible).
_FOLDED = {"ingest.bpf_frames", "ingest.folded", "text"}
#: ... drawing with the full path (lxml), and the viewer page.
_DRAW = {"cli.render_values", "render", "render.assets", "render.backgrounds", "render.defaults", "render.layout",
         "render.nameattr", "render.options", "render.palette", "render.svg"}  # fmt: skip
_VIEWER = {"render.viewer", "render.viewer.page", "render.viewer.payload", "render.viewer.tree"}
_DIFF = {"analysis", "analysis.defaults", "analysis.diff", "analysis.sides", "analysis.tables", "cli.diffing", "render", "render.defaults"}

#: Per command line the fast path runs (IN, B: folded files; PERF: a perf capture): exactly the
#: foldkit modules it loads, and the packages outside the standard library (`cython_runtime` is
#: lxml's Cython support, not counted), beyond what the interpreter had loaded before.
FAST_PATH_MODULES: dict[str, tuple[list[str], set[str], set[str]]] = {
    "fold": (["fold", "PERF", "-o", "OUT.folded"], _CORE | {"cli.folding", "cli.progress", "export", "ingest.perf", "ingest.perf_frames"}, set()),
    "flamegraph svg": (["flamegraph", "--title", "t", "IN", "-o", "OUT.svg"], _CORE | _FOLDED | _DRAW | {"cli.draw", "cli.progress", "export"}, {"lxml"}),
    "flamegraph html": (["flamegraph", "IN", "-o", "OUT.html"], _CORE | _FOLDED | _DRAW | _VIEWER | {"cli.draw", "cli.progress", "export"}, {"lxml"}),
    "diff html": (["diff", "IN", "B", "-o", "OUT.html"], _CORE | _FOLDED | _DIFF | _DRAW | _VIEWER | {"render.diffgraph"}, {"lxml"}),
    "diff svg": (["diff", "IN", "B", "-o", "OUT.svg"], _CORE | _FOLDED | _DIFF | _DRAW | {"render.diffgraph"}, {"lxml"}),
    "diff table": (["diff", "IN", "B"], _CORE | _FOLDED | _DIFF, set()),
    "diff folded": (["diff", "IN", "B", "--folded"], _CORE | _FOLDED | _DIFF, set()),
    "top": (["top", "IN"], _CORE | _FOLDED | {"analysis", "analysis.defaults", "analysis.functions", "analysis.histograms", "analysis.tables", "analysis.top", "cli.ranking", "ingest.histogram"}, set()),
    "check": (
        ["check", "IN", "B"],
        _CORE | _FOLDED | {"analysis", "analysis.functions", "analysis.regex_subset", "analysis.sides", "analysis.tables", "cli.gating", "regression",
                           "regression.defaults", "regression.gate", "regression.outputs", "regression.samples", "regression.stats"},
        set(),
    ),
}  # fmt: skip

#: Standard-library modules none of those command lines loads but where named (lxml loads gzip and
#: zlib; the viewer's page json and base64; the picture flags' `RenderFlags`, a NamedTuple, typing,
#: and their files pathlib).
_NOT_LOADED = {"decimal", "gzip", "zlib", "shutil", "tempfile", "random", "glob", "unicodedata", "json", "base64", "subprocess", "logging", "statistics", "csv", "typing", "pathlib"}
_LOADED_BY = {"lxml": {"gzip", "zlib"}, "render.viewer": {"json", "base64"}, "cli.render_values": {"typing", "pathlib"}}


@pytest.mark.parametrize("name", sorted(FAST_PATH_MODULES))
def test_each_fast_path_loads_exactly_its_modules(tmp_path: Path, name: str) -> None:
    args, expected, others = FAST_PATH_MODULES[name]
    (tmp_path / "in.folded").write_text("main;work;inner 3\nmain;work 2\nmain;idle 1\n")
    (tmp_path / "b.folded").write_text("main;work;inner 1\nmain;work 6\nmain;new 2\n")
    names = {"IN": str(tmp_path / "in.folded"), "B": str(tmp_path / "b.folded"), "PERF": str(FIXTURES / "java.perf")}
    argv = [names.get(a, str(tmp_path / a.lower()) if a.startswith("OUT.") else a) for a in args]
    _, modules = console_modules(argv, tmp_path)  # (check exits 1: its code is not asked)
    assert "foldkit.cli.fast" in modules and "foldkit.cli.typer_app" not in modules  # the fast path ran
    foldkit = {m.removeprefix("foldkit.") for m in modules if m.split(".")[0] == "foldkit"}
    assert (sorted(foldkit - expected), sorted(expected - foldkit)) == ([], [])  # (loaded, not loaded)
    top = {m.split(".")[0] for m in modules}
    assert sorted(n for n in top - sys.stdlib_module_names if not n.startswith("_") and n not in ("foldkit", "cython_runtime")) == sorted(others)
    allowed = set().union(*(v for k, v in _LOADED_BY.items() if k in foldkit or k in top))
    assert sorted(modules & (_NOT_LOADED - allowed)) == []
