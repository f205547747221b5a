"""Golden outputs of every transform (and the exports) on real captures, through the CLI.

tests/golden/transform/<case>.*; FOLDKIT_BLESS=1 rewrites them after review."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from foldkit.transform import TRANSFORMS
from tests.support.transform import capture, check_golden, run_cli

#: case name -> (capture, extra command-line arguments)
CASES: dict[str, tuple[str, list[str]]] = {
    "focus": ("perf-c-fp.txt", ["--focus", "^tree_"]),
    "focus-root": ("perf-c-fp.txt", ["--focus-root", "^phase_tree$"]),
    "base": ("perf-c-fp.txt", ["--base", "phase_tree", "--base", "tree_insert"]),
    "exclude": ("perf-system-cpuclock-taskclock.txt", ["--exclude", "^(swapper|kworker)", "--event", "task-clock"]),
    "hide": ("perf-python-header.txt", ["--hide", r"^\[unknown\]$"]),
    "collapse-recursion": ("perf-c-fp.txt", ["--collapse-recursion"]),
    "collapse-recursion-all": ("perf-python-dwarf.txt", ["--collapse-recursion=all"]),
    "max-depth": ("perf-system-fields-full.txt", ["--max-depth", "3"]),
    "prune-below": ("perf-system-fields-full.txt", ["--prune-below", "2"]),
    "comm": ("perf-java.txt", ["--comm", "Compiler"]),
    "only-pid": ("perf-system-fields-full.txt", ["--only-pid", "14357,14441"]),
    "time": ("perf-system-fields-full.txt", ["--time", "0.25..0.5"]),
    "time-absolute": ("perf-system-fields-full.txt", ["--pid", "--time", "@911.2..@911.3"]),
    "rename": ("perf-java.txt", ["--rename", r"^\S+ (Work\.\w+)\(.*\)$=>\1", "--rename", r"^java\.util\.=>j.u."]),
    "normalize-symbols": ("perf-node.txt", ["--jit", "--focus-root", "^JS:", "--normalize-symbols"]),
    "normalize-symbols-unknown": ("perf-python-header.txt", ["--normalize-symbols"]),
    "python": ("../python/perf-python312-xperf.txt", ["--python"]),
    "pipeline": (
        "perf-system-fields-full.txt",
        ["--exclude", "^swapper", "--hide", r"^\[unknown\]$", "--collapse-recursion", "--prune-below", "1"],
    ),
}


def test_every_transform_has_a_golden_case() -> None:
    flags = {arg for _, args in CASES.values() for arg in args if arg.startswith("--")}
    flags |= {arg.split("=")[0] for arg in flags}
    for t in TRANSFORMS.values():
        assert t.flag in flags, f"no golden case for {t.flag}"


@pytest.mark.parametrize("case", list(CASES))
def test_transform_golden(case: str, tmp_path: Path) -> None:
    name, args = CASES[case]
    out = tmp_path / "out.folded"
    code, _, err = run_cli(["fold", "-q", capture(name), *args, "-o", str(out)])
    assert code == 0, err
    data = out.read_bytes()
    assert data, "a golden case should keep some stacks"
    check_golden(f"{case}.folded", data)


def test_per_process_split_golden(tmp_path: Path) -> None:
    folder = tmp_path / "by-process"
    code, _, err = run_cli(["fold", capture("perf-system-fields-full.txt"), "--per-process", "-o", str(folder)])
    assert code == 0, err
    listing = []
    for path in sorted(folder.iterdir()):
        rows = path.read_text().splitlines()
        roots = {r.split(";", 1)[0] for r in rows}
        total = sum(int(r.rsplit(" ", 1)[1]) for r in rows)
        listing.append(f"{path.name} stacks={len(rows)} total={total} roots={','.join(sorted(roots))}")
    check_golden("per-process.txt", ("\n".join(listing) + "\n").encode())
    # the parts add up to the whole profile (a stack may run in several processes)
    _, whole, _ = run_cli(["fold", capture("perf-system-fields-full.txt")])
    summed: dict[str, int] = {}
    for path in folder.iterdir():
        for line in path.read_text().splitlines():
            stack, w = line.rsplit(" ", 1)
            summed[stack] = summed.get(stack, 0) + int(w)
    assert summed == {s: int(w) for s, w in (line.rsplit(" ", 1) for line in whole.decode().splitlines())}


def test_per_thread_split(tmp_path: Path) -> None:
    folder = tmp_path / "by-thread"
    code, _, _ = run_cli(["fold", capture("perf-java.txt"), "--tid", "--per-thread", "-o", str(folder)])
    assert code == 0
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) > 3 and all(n.endswith(".folded") for n in names)
    assert all(line.split(";", 1)[0].count("/") == 1 for p in folder.iterdir() for line in p.read_text().splitlines())
    code, _, err = run_cli(["fold", capture("perf-java.txt"), "--per-thread", "--per-process", "-o", str(folder)])
    assert code == 2 and "one of --per-thread and --per-process" in err
    code, _, err = run_cli(["fold", capture("perf-java.txt"), "--per-thread"])
    assert code == 2 and "-o DIR" in err


def test_speedscope_golden(tmp_path: Path) -> None:
    out = tmp_path / "c.speedscope.json"
    code, _, err = run_cli(["fold", capture("perf-c-fp.txt"), "-o", str(out)])
    assert code == 0, err
    doc = json.loads(out.read_bytes())
    profile = doc["profiles"][0]
    # one line per frame and per sample, so the golden diffs line by line
    lines = [json.dumps({k: v for k, v in doc.items() if k not in ("shared", "profiles")}, sort_keys=True)]
    lines += [json.dumps(frame) for frame in doc["shared"]["frames"]]
    lines.append(json.dumps({k: v for k, v in profile.items() if k not in ("samples", "weights")}, sort_keys=True))
    lines += [json.dumps([w, stack]) for stack, w in zip(profile["samples"], profile["weights"], strict=True)]
    check_golden("perf-c-fp.speedscope.txt", ("\n".join(lines) + "\n").encode())


def test_parquet_golden(tmp_path: Path) -> None:
    out = tmp_path / "sys.parquet"
    code, _, err = run_cli(["fold", capture("perf-system-fields-full.txt"), "--tid", "--max-depth", "2", "-o", str(out)])
    assert code == 0, err
    frame = pl.read_parquet(out)
    assert frame.columns == ["stack", "frames", "weight", "count", "comm", "pid", "tid", "event", "unit"]
    assert frame.schema["frames"] == pl.List(pl.String) and frame.schema["pid"] == pl.Int64
    frame = frame.with_columns(pl.col("frames").list.join(" | "))
    check_golden("perf-system-fields-full.parquet.csv", frame.write_csv().encode())
