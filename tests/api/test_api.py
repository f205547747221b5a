"""The Python API: foldkit.read, the Profile transform methods, exports; import cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import foldkit
from foldkit.errors import UsageError
from foldkit.profile import Profile, merge_profiles
from foldkit.transform import (
    TRANSFORMS,
    Base,
    CollapseRecursion,
    Comm,
    Exclude,
    Focus,
    FocusRoot,
    Hide,
    MaxDepth,
    NormalizeOptions,
    OnlyPid,
    Pipeline,
    PruneBelow,
    PythonView,
    Rename,
    TimeWindow,
)
from foldkit.transform.roots import ROOT_FRAMES
from tests.support.transform import ROOT, capture

C_FP = capture("perf-c-fp.txt")
FIELDS = capture("perf-system-fields-full.txt")


def test_import_foldkit_does_not_load_the_cli() -> None:
    code = (
        "import sys, foldkit\n"
        f"p = foldkit.read({C_FP!r}).focus('quicksort').max_depth(3)\n"
        "assert len(p) == 1, p.weights\n"
        "assert 'typer' not in sys.modules and 'foldkit.cli' not in sys.modules, sorted(sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def test_read_sources_and_options() -> None:
    by_path = foldkit.read(C_FP)
    assert by_path.format == "perf" and by_path.meta[ROOT_FRAMES] == ("comm",)
    assert foldkit.read(Path(C_FP)).weights == by_path.weights
    assert foldkit.read(Path(C_FP).read_bytes()).weights == by_path.weights
    twice = foldkit.read([C_FP, C_FP])
    assert twice.total == 2 * by_path.total
    assert foldkit.read(C_FP, "perf", kernel=True).total == by_path.total
    assert any(s.endswith("_[k]") for s in foldkit.read(C_FP, all=True).weights)
    assert foldkit.read(C_FP, tid=True).meta[ROOT_FRAMES] == ("comm-pid/tid",)
    assert foldkit.read(C_FP, skip_after="main").weights == foldkit.read(C_FP, skip_after=["main"]).weights
    assert foldkit.read(C_FP, foldkit.FoldOptions(pid=True)).meta[ROOT_FRAMES] == ("comm-pid",)
    with pytest.raises(UsageError, match="unknown folding option"):
        foldkit.read(C_FP, kernal=True)
    with pytest.raises(UsageError, match="unknown format"):
        foldkit.read(C_FP, "perff")


#: (method name, arguments, the options object the method must build)
CALLS: list[tuple[str, tuple[object, ...], object]] = [
    ("focus", ("^quicksort$",), Focus("^quicksort$")),
    ("focus_root", ("^main$",), FocusRoot("^main$")),
    ("base", ("main", "phase_tree"), Base(("main", "phase_tree"))),
    ("exclude", ("^quicksort$",), Exclude("^quicksort$")),
    ("hide", ("^quicksort$",), Hide("^quicksort$")),
    ("collapse_recursion", ("all",), CollapseRecursion("all")),
    ("max_depth", (3,), MaxDepth(3)),
    ("prune_below", (5,), PruneBelow(5)),
    ("comm", ("deeprec", "x"), Comm(("deeprec", "x"))),
    ("only_pid", (28763,), OnlyPid((28763,))),
    ("time", (0.1, 0.2), TimeWindow(0.1, 0.2)),
    ("rename", ("^(tree)_", r"\1::"), Rename("^(tree)_", r"\1::")),
    ("normalize_symbols", (), NormalizeOptions()),
    ("python", (), PythonView()),
]


def test_every_transform_method_is_its_registered_function() -> None:
    assert {name for name, _, _ in CALLS} == set(TRANSFORMS)
    profile = foldkit.read(capture("perf-cpp-fields-pidtid.txt"), pid=True, keep_time=True)
    before = profile.folded_lines()
    for name, args, options in CALLS:
        got = getattr(profile, name)(*args)
        want = TRANSFORMS[name].func(profile, options)
        assert isinstance(got, Profile)
        assert got.weights == want.weights and got.counts == want.counts, name
    assert list(profile.folded_lines()) == list(before), "methods return new profiles"


def test_time_needs_keep_time() -> None:
    with pytest.raises(UsageError, match="timestamps"):
        foldkit.read(b"a;b 1\n").time(0, 1)
    assert foldkit.read(C_FP, keep_time=True).time("..").weights == foldkit.read(C_FP).weights


def test_pipeline_read_drops_ids_it_only_needed() -> None:
    steps = Pipeline((OnlyPid((14357,)),))
    options = foldkit.FoldOptions()
    got = steps.read(FIELDS, options)
    assert got.meta[ROOT_FRAMES] == ("comm",)
    assert {s.split(";", 1)[0] for s in got.weights} == {"find"}
    with_pid = foldkit.read(FIELDS, pid=True).only_pid(14357)
    assert {s.split(";", 1)[0] for s in with_pid.weights} == {"find-14357"}
    assert with_pid.total == got.total


def test_read_split_keeps_the_asked_root_frames() -> None:
    parts = Pipeline().read_split(FIELDS, foldkit.FoldOptions(), "process")
    assert "find-14357" in parts
    assert all(s.startswith("find;") for s in parts["find-14357"].weights)
    assert sum(p.total for p in parts.values()) == foldkit.read(FIELDS).total


def test_merge_keeps_timelines_and_shared_meta() -> None:
    a = foldkit.read(C_FP, keep_time=True)
    merged = merge_profiles([a, a])
    assert merged.timeline is not None and len(merged.timeline) == 2 * len(a.timeline or [])
    assert merged.meta == a.meta
    assert merge_profiles([a, foldkit.read(C_FP)]).timeline is None


def test_export_and_dataframe(tmp_path: Path) -> None:
    profile = foldkit.read(FIELDS, pid=True)
    frame = profile.to_dataframe()
    assert frame["pid"].drop_nulls().n_unique() > 10
    assert frame["weight"].sum() == profile.total
    profile.export(tmp_path / "x.folded.gz")
    assert foldkit.read(tmp_path / "x.folded.gz").weights == profile.weights


def test_top_svg_diff_and_check(tmp_path: Path) -> None:
    profile = foldkit.read(C_FP)
    top = profile.top(2)
    assert top.columns == ["name", "self", "self_pct", "total", "total_pct"] and top.height == 2
    everything = profile.top(0)
    assert {s.rsplit(";", 1)[-1] for s in profile.weights} <= set(everything["name"]), "n <= 0: every row"
    assert everything["self"].sum() == profile.total
    assert profile.focus("^quicksort$").top(1)["name"][0] == "quicksort"
    profile.to_svg(tmp_path / "c.svg", title="deeprec <&>")
    svg = (tmp_path / "c.svg").read_text()
    assert svg.startswith("<?xml") and "deeprec &lt;&amp;&gt;" in svg
    result = foldkit.diff(C_FP, profile.exclude("quicksort"))
    assert sum(v for v in result.delta().values()) == -(profile.total - profile.exclude("quicksort").total)
    same = foldkit.check(C_FP, [profile, profile])
    assert same.passed
    focused = profile.focus("quicksort")
    assert foldkit.check(profile, focused).status == "underpowered"  # one run a side cannot measure noise
    assert foldkit.check([profile, profile], [focused, focused]).status == "fail"
    floored, steady = (foldkit.check([profile, profile], [profile, profile], run_noise=x) for x in (None, 0))
    assert floored.options.run_noise == 0.065 and steady.options.run_noise == 0.0
    assert floored.noise == 0.065 and steady.noise == 0.0  # identical runs: only the floor adds noise


def test_foldkit_check_stays_callable_next_to_the_gate_package() -> None:
    """`foldkit.check` is the API function even after the CLI and the gate package are imported."""
    import foldkit.cli  # imports foldkit.regression.gate
    from foldkit.regression import gate

    assert callable(foldkit.check) and foldkit.check is foldkit.api.check
    assert gate.check_profiles


@pytest.mark.parametrize("module", ["foldkit.profile", "foldkit.transform", "foldkit.ingest"])
def test_profile_has_its_methods_however_it_is_imported(module: str) -> None:
    """In a fresh interpreter (as a script or notebook starts), `Profile` taken from any module
    has `.focus` & co.: the API that gives them is loaded by a library import."""
    code = f"import {module}; from foldkit.profile import Profile; print(hasattr(Profile, 'focus'), hasattr(Profile, 'top'))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert run.stdout.split() == ["True", "True"]
