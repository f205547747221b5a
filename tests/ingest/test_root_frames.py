"""Root frames that hold the command name, PID or TID are no functions: every reader declares them
(`Profile.meta["root_frames"]`) and `top` (every sort), `diff`'s table, the viewer's top table,
the report and `check` leave them out, for perf (--pid/--tid), bpftrace, BCC and folded text
with a `roots=` header."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import foldkit
from foldkit.analysis.diff import changes_table, diff_profiles
from foldkit.analysis.functions import aggregate
from foldkit.analysis.top import top_frame
from foldkit.cli import main
from foldkit.ingest import FoldOptions, read
from foldkit.profile import ROOT_FRAMES, Profile
from foldkit.render.viewer import render_viewer
from tests.support.common import DATA, data_bytes
from tests.support.viewer import parse_page

CAPTURES = DATA / "captures"


def _roots(profile: Profile) -> set[str]:
    """The distinct root frames of a profile's stacks."""
    return {s.split(";", 1)[0] for s in profile.weights}


def _names(profile: Profile, sort: str) -> set[str]:
    return set(top_frame(profile, sort=sort)["name"].to_list())


@pytest.mark.parametrize(
    ("capture", "options", "layout"),
    [
        ("perf-system-mixed.txt.zst", {}, ("comm",)),
        ("perf-system-mixed.txt.zst", {"pid": True}, ("comm-pid",)),
        ("perf-system-mixed.txt.zst", {"tid": True}, ("comm-pid/tid",)),
        ("bpftrace-kstack-ustack-comm.txt.zst", {}, ("comm",)),
        ("bpftrace-comm-pid-kstack.txt.zst", {}, ("comm", "pid")),
        ("bcc-profile.txt.zst", {}, ("comm",)),
        ("bcc-profile.txt.zst", {"pid": True}, ("comm-pid",)),
        ("bcc-stackcount-sched-switch.txt.zst", {}, ()),
    ],
)
@pytest.mark.parametrize("sort", ["self", "total"])
def test_top_lists_no_root_frame_as_a_function(capture: str, options: dict[str, bool], layout: tuple[str, ...], sort: str) -> None:
    profile = read(CAPTURES / capture, FoldOptions(jobs=1, **options))
    assert profile.meta[ROOT_FRAMES] == layout
    names = _names(profile, sort)
    # a frame that is only ever a root frame (a process or thread name) is never listed
    only_root = _roots(profile) - {f for s in profile.weights for f in s.split(";")[len(layout) :]}
    assert not (only_root & names), f"root frames listed as functions: {sorted(only_root & names)[:5]}"
    assert only_root or not layout


def test_bpftrace_comms_are_no_functions_by_name() -> None:
    """The issue's case: `top --sort total` of `@[kstack, ustack, comm]` listed `deeprec` and `node`."""
    profile = read(CAPTURES / "bpftrace-kstack-ustack-comm.txt.zst", FoldOptions(jobs=1))
    names = _names(profile, "total")
    assert not {"deeprec", "node", "cc1plus", "tmpl", "find", "xz", "zstd", "sort"} & names


def test_folded_header_carries_the_root_frames(tmp_path: Path) -> None:
    folded = tmp_path / "cpu.folded"
    assert main(["fold", str(CAPTURES / "perf-system-mixed.txt.zst"), "--pid", "--unit-header", "-o", str(folded)]) == 0
    assert folded.read_bytes().split(b"\n", 1)[0] == b"# foldkit: unit=ns event=cpu-clock roots=comm-pid"
    again = read(folded, FoldOptions(jobs=1))
    assert again.meta[ROOT_FRAMES] == ("comm-pid",)
    assert not any(n.startswith("sort-") for n in _names(again, "total"))
    bare = Profile(weights={"a;b": 1}, meta={ROOT_FRAMES: ()})
    assert bare.to_folded_bytes(header=True).startswith(b"# foldkit: unit=samples roots=none\n")
    assert foldkit.read(bare.to_folded_bytes(header=True)).meta[ROOT_FRAMES] == ()
    assert ROOT_FRAMES not in foldkit.read(b"a;b 1\n").meta, "a headerless folded file does not say"


def test_aggregate_drops_the_root_frames_it_is_told_of() -> None:
    weights = {"java;main;work": 3, "java;main": 1, "java": 2}
    rows = {n: (s, t) for n, s, t in aggregate(weights, roots=1).iter_rows()}
    assert rows == {"main": (1, 4), "work": (3, 3)}
    assert {n for n, *_ in aggregate(weights).iter_rows()} == {"java", "main", "work"}
    assert aggregate({"java": 2}, roots=1).height == 0


def test_diff_table_leaves_root_frames_out() -> None:
    before = read(CAPTURES / "bcc-profile.txt.zst", FoldOptions(jobs=1))
    after = Profile(weights={s: w * (3 if s.startswith("java;") else 1) for s, w in before.weights.items()}, meta=before.meta)
    names = set(changes_table(diff_profiles(before, after, normalize=True), limit=0).frame["name"].to_list())
    assert "java" not in names and "[unknown]" in names


def test_viewer_top_table_is_told_the_root_frames() -> None:
    profile = read(CAPTURES / "bpftrace-kstack-ustack-comm.txt.zst", FoldOptions(jobs=1))
    assert parse_page(render_viewer(profile))[1].meta["rootFrames"] == 1
    assert parse_page(render_viewer(Profile(weights={"a;b": 1})))[1].meta["rootFrames"] == 0


def _scaled_bpftrace(comm: str, factor: int) -> bytes:
    text = data_bytes("captures/bpftrace-kstack-ustack-comm.txt").decode()
    return re.sub(
        rf"(?m)^(.*, {comm}\]: )(\d+)$", lambda m: m.group(1) + str(int(m.group(2)) * factor), text
    ).encode()


def test_check_of_two_bpftrace_comm_captures_names_no_process(tmp_path: Path) -> None:
    base, slow = tmp_path / "base.bt.txt", tmp_path / "slow.bt.txt"
    base.write_bytes(data_bytes("captures/bpftrace-kstack-ustack-comm.txt"))
    slow.write_bytes(_scaled_bpftrace("deeprec", 5))
    report = tmp_path / "check.json"
    # one run a side: FAIL only for a change beyond the prior noise, else UNDERPOWERED (issue 18);
    # either way no process name is a tested function
    assert main(["check", str(base), str(slow), "--json", str(report), "-q"]) in (0, 1)
    findings = json.loads(report.read_text())["findings"]
    names = {f["name"] for f in findings}
    assert "deeprec" not in names and names, names


def test_filters_that_remove_root_frames_say_so() -> None:
    """`--focus-root` at a function and `--hide` of a process name leave stacks that start with
    code: no frame of them may be dropped as a root frame."""
    p = Profile(weights={"java;main;work": 3, "bash;main;x": 1}, meta={ROOT_FRAMES: ("comm",)})
    rooted = p.focus_root("^main$")
    assert rooted.meta[ROOT_FRAMES] == () and "main" in set(rooted.top(0)["name"].to_list())
    assert p.focus_root("^java$").meta[ROOT_FRAMES] == ("comm",)
    assert ROOT_FRAMES not in p.hide("^java$").meta, "some stacks lost their root frame: unknown"
    assert p.hide("^(java|bash)$").meta[ROOT_FRAMES] == ()
    assert p.hide("work").meta[ROOT_FRAMES] == ("comm",)
    assert p.meta[ROOT_FRAMES] == ("comm",), "the input profile is not changed"
