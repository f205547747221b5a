"""What each transform does, on small hand-written profiles."""

from __future__ import annotations

import math

import pytest

import foldkit
from foldkit.errors import UsageError
from foldkit.profile import Profile
from foldkit.transform import (
    TRANSFORMS,
    CollapseRecursion,
    Comm,
    Focus,
    OnlyPid,
    Pipeline,
    PruneBelow,
    Rename,
    TimeWindow,
    apply,
)
from foldkit.transform.roots import ROOT_FRAMES, identify, split, with_root_frames
from tests.support.transform import capture, run_cli


def prof(text: str, **kw: object) -> Profile:
    """A profile from folded lines."""
    weights: dict[str, int] = {}
    for line in text.strip().splitlines():
        stack, w = line.rsplit(" ", 1)
        weights[stack] = weights.get(stack, 0) + int(w)
    return Profile(weights=weights, **kw)  # type: ignore[arg-type]


def folded(p: Profile) -> str:
    return "\n".join(p.folded_lines())


def test_focus_keeps_matching_stacks_unchanged() -> None:
    p = prof("a;b;c 1\na;x 2\nb 3")
    assert folded(p.focus("^b$")) == "a;b;c 1\nb 3"
    assert folded(p.focus("x")) == "a;x 2"


def test_focus_root_cuts_below_the_rootmost_match() -> None:
    p = prof("m;r;b;r;c 1\nm;x 2\nr;z 4")
    assert folded(p.focus_root("^r$")) == "r;b;r;c 1\nr;z 4"


def test_exclude_and_hide() -> None:
    p = prof("a;b;c 1\na;x 2\nb 3")
    assert folded(p.exclude("^b$")) == "a;x 2"
    assert folded(p.hide("^b$")) == "[hidden] 3\na;c 1\na;x 2"


def test_hide_merges_stacks_that_become_equal() -> None:
    p = prof("a;b;c 1\na;d;c 2", counts=None)
    p.counts = {"a;b;c": 1, "a;d;c": 1}
    out = p.hide("^[bd]$")
    assert out.weights == {"a;c": 3}
    assert out.counts == {"a;c": 2}


def test_collapse_recursion_examples_from_the_issue() -> None:
    assert folded(prof("a;r;r;r;b 1").collapse_recursion()) == "a;r;b 1"
    assert folded(prof("a;r;b;r;c 1").collapse_recursion()) == "a;r;b;r;c 1"
    assert folded(prof("a;r;b;r;c 1").collapse_recursion("all")) == "a;r;c 1"
    assert folded(prof("a;r;b;r;b;c 1").collapse_recursion("all")) == "a;r;b;c 1"
    with pytest.raises(UsageError, match="=all"):
        CollapseRecursion("some")


def test_max_depth() -> None:
    p = prof("a;b;c;d 1\na;b 2\nz 4")
    assert folded(p.max_depth(2)) == "a;b 3\nz 4"
    with pytest.raises(UsageError):
        p.max_depth(0)


def test_prune_below_replaces_slivers_by_one_frame() -> None:
    p = prof("a;b 90\na;c 4\na;d 4\nz 2")
    out = p.prune_below(5)
    assert folded(out) == "[pruned] 2\na;[pruned] 8\na;b 90"
    assert out.total == p.total
    assert folded(p.prune_below(0)) == folded(p)
    with pytest.raises(UsageError):
        PruneBelow(101)


def test_rename_groups_empty_and_separators() -> None:
    p = prof("java;Work.run;Work.sum 1\njava;Work.run;Other 2")
    assert folded(p.rename(r"^Work\.(\w+)$", r"W::\1")) == "java;W::run;Other 2\njava;W::run;W::sum 1"
    assert folded(p.rename("^Work.run$", "")) == "java;Other 2\njava;Work.sum 1"
    assert folded(p.rename("^java$", "a;b")) == "a:b;Work.run;Other 2\na:b;Work.run;Work.sum 1"
    assert folded(p.rename(".*", "")) == "[hidden] 3"
    assert Rename.parse("a=>b=>c") == Rename("a", "b=>c")
    for bad in ("no-arrow", "=>x", "(=>x", r"a=>\2"):
        with pytest.raises(UsageError, match="--rename"):
            Rename.parse(bad)


def test_normalize_symbols_is_the_registered_transform() -> None:
    """The rules are tested in test_normalize.py; here: the CLI flag and the method run them."""
    a = prof("app;main;serve::h0123456789abcdef;0x7f0012345678 3")
    b = prof("app;main;serve::hfedcba9876543210;[unknown] 4")
    assert folded(a.normalize_symbols()) == "app;main;serve;[unknown] 3"
    assert folded(b.normalize_symbols()) == "app;main;serve;[unknown] 4"
    assert folded(a.normalize_symbols(rust_hash=False)) == "app;main;serve::h0123456789abcdef;[unknown] 3"


# --- who ran a stack -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "layout", "comm", "pid", "tid"),
    [
        ("java;main", ("comm",), "java", None, None),
        ("java-42;main", ("comm-pid",), "java", "42", None),
        ("C2 CompilerThre-42/43;x", ("comm-pid/tid",), "C2 CompilerThre", "42", "43"),
        ("kworker/u8:1-wr-7/7;x", ("comm-pid/tid",), "kworker/u8:1-wr", "7", "7"),
        ("sort-?/99;x", ("comm-pid/tid",), "sort", "?", "99"),
        ("find;22883;x", ("comm", "pid"), "find", "22883", None),
        ("ext4_lookup;x", (), None, None, None),
        ("java-42;main", None, "java", "42", None),
        ("pyenv-exec;main", None, "pyenv-exec", None, None),
    ],
)
def test_identify(stack: str, layout: tuple[str, ...] | None, comm: str | None, pid: str | None, tid: str | None) -> None:
    ident = identify(stack, layout)
    assert (ident.comm, ident.pid, ident.tid) == (comm, pid, tid)


def test_comm_and_pid_filters_by_layout() -> None:
    p = prof("java-42/43;a 1\nbash-7/7;b 2\njavac-9/9;c 4", meta={ROOT_FRAMES: ("comm-pid/tid",)})
    assert folded(p.comm("^java")) == "java-42/43;a 1\njavac-9/9;c 4"
    assert folded(p.comm("^java$", "bash")) == "bash-7/7;b 2\njava-42/43;a 1"
    assert folded(p.only_pid(42, 9)) == "java-42/43;a 1\njavac-9/9;c 4"
    assert folded(p.only_pid("7,9")) == "bash-7/7;b 2\njavac-9/9;c 4"
    bpf = prof("find;22883;x 1\nbash;22985;y 2", meta={ROOT_FRAMES: ("comm", "pid")})
    assert folded(bpf.only_pid(22985)) == "bash;22985;y 2"
    assert folded(bpf.comm("find")) == "find;22883;x 1"


def test_pid_filter_without_pids_is_a_clear_error() -> None:
    p = prof("java;a 1", meta={ROOT_FRAMES: ("comm",)}, format="perf")
    with pytest.raises(UsageError, match="--pid or --tid"):
        p.only_pid(1)
    kernel_only = prof("ext4_lookup;x 1", meta={ROOT_FRAMES: ()})
    with pytest.raises(UsageError, match="carry no comm"):
        kernel_only.comm("x")
    with pytest.raises(UsageError, match="no root frame"):
        prof("main;x 1").only_pid(1)
    with pytest.raises(UsageError, match="process ids"):
        OnlyPid(("12a",))


def test_pid_filter_falls_back_to_thread_ids_with_a_warning() -> None:
    p = prof("sort-?/99;a 1\nxz-?/98;b 2", meta={ROOT_FRAMES: ("comm-pid/tid",)})
    out = p.only_pid(99)
    assert folded(out) == "sort-?/99;a 1"
    assert any("thread ids" in w for w in out.diagnostics.warnings)
    assert not p.diagnostics.warnings, "the input's diagnostics are not touched"


def test_with_root_frames_restores_the_asked_layout() -> None:
    p = prof("sort-?/99;a 1\njava-4/5;b 2", meta={ROOT_FRAMES: ("comm-pid/tid",)})
    assert folded(with_root_frames(p, ("comm",))) == "java;b 2\nsort;a 1"
    assert folded(with_root_frames(p, ("comm-pid",))) == "java-4;b 2\nsort-?;a 1"


def test_split_per_process_and_thread() -> None:
    p = prof("java-4/5;a 1\njava-4/6;b 2\nC1 Thread-4/7;c 1\nbash-9/9;d 8", meta={ROOT_FRAMES: ("comm-pid/tid",)})
    parts = split(p, "process")
    assert list(parts) == ["bash-9", "java-4"]
    assert parts["java-4"].total == 4
    threads = split(p, "thread")
    assert sorted(threads) == ["C1_Thread-4-7", "bash-9-9", "java-4-5", "java-4-6"]
    with pytest.raises(UsageError, match="thread id"):
        split(prof("java-4;a 1", meta={ROOT_FRAMES: ("comm-pid",)}), "thread")


# --- time ----------------------------------------------------------------------------------


def timed() -> Profile:
    timeline = [(100.0, "a;b", 1), (100.5, "a;c", 2), (101.0, "a;b", 4), (102.5, "a;b", 8)]
    return Profile(weights={"a;b": 13, "a;c": 2}, counts={"a;b": 3, "a;c": 1}, timeline=timeline)  # type: ignore[arg-type]


def test_time_window_relative_absolute_and_open() -> None:
    p = timed()
    assert p.time(0.5, 1.5).weights == {"a;c": 2, "a;b": 4}
    assert p.time(0.5, 1.5).counts == {"a;c": 1, "a;b": 1}
    assert p.time("..1").weights == {"a;b": 1, "a;c": 2}
    assert p.time("2..").weights == {"a;b": 8}
    assert p.time("@101..@103").weights == {"a;b": 12}
    assert p.time("500ms..1s").weights == {"a;c": 2}
    assert p.time("..").weights == p.weights


@pytest.mark.parametrize("text", ["5", "a..b", "3..1", "1..1"])
def test_time_window_bad_specs(text: str) -> None:
    with pytest.raises(UsageError, match="--time"):
        TimeWindow.parse(text)


def test_time_needs_timestamps() -> None:
    with pytest.raises(UsageError, match="timestamps"):
        prof("a 1", format="folded").time(0, 1)
    nan = Profile(weights={"a": 1}, timeline=[(math.nan, "a", 1)])
    with pytest.raises(UsageError, match="no timestamps"):
        nan.time(0, 1)


def test_transforms_compose_after_time_window_keeps_timeline() -> None:
    out = timed().focus("c").time("..1")
    assert out.weights == {"a;c": 2}
    assert out.timeline == [(100.5, "a;c", 2)]


# --- order and pipeline --------------------------------------------------------------------


def test_order_matters() -> None:
    p = prof("a;b;c 1\na;x 2")
    assert folded(apply(p, [Focus("c"), TRANSFORMS["max_depth"].parse("2")])) == "a;b 1"
    assert folded(apply(p, [TRANSFORMS["max_depth"].parse("2"), Focus("c")])) == ""


def test_empty_result_names_the_step() -> None:
    out = Pipeline((Comm(("nope",)),)).apply(prof("java;a 1"))
    assert out.diagnostics.warnings == ["no stacks left after --comm 'nope'"]


def test_registry_matches_api_and_flags() -> None:
    for name, t in TRANSFORMS.items():
        assert callable(getattr(Profile, name)), f"Profile.{name} is missing"
        assert t.flag.startswith("--") and t.help and t.example.startswith("foldkit ")


def test_bpftrace_scalar_keys_are_read_as_comm_and_pid() -> None:
    """bpftrace's folder declares its scalar keys as root frames (a string key `comm`, an integer
    `pid`); where a profile does not say, a numeric frame next to the first is taken as the PID
    (keys `@[comm, pid, kstack]` and `@[pid, comm, ...]`)."""
    p = foldkit.read(capture("bpftrace-comm-pid-kstack.txt"))
    assert p.meta[ROOT_FRAMES] == ("comm", "pid")
    out = p.only_pid(22939)
    assert out.weights and all(s.startswith("bash;22939;") for s in out.weights)
    assert not any("root frames" in n for n in out.diagnostics.notes), "declared, not guessed"
    undeclared = Profile(weights=p.weights).only_pid(22939)
    assert undeclared.weights == out.weights and any("root frames" in n for n in undeclared.diagnostics.notes)
    assert identify("22939;bash;x", None) == identify("bash;22939;x", None)
    assert identify("main;123", None).pid is None, "a numeric leaf is a frame, not a PID"
    parts = p.split("process")
    assert "bash-22939" in parts and sum(x.total for x in parts.values()) == p.total


def test_bcc_only_pid_reads_pids() -> None:
    code, out, err = run_cli(["fold", capture("bcc-profile.txt"), "--only-pid", "25002"])
    assert code == 0, err
    roots = {line.split(";", 1)[0] for line in out.decode().splitlines()}
    assert {"java-25002", "C2 CompilerThre-25002"} <= roots, "every thread of the JVM process"
    assert all(r.endswith("-25002") for r in roots)
