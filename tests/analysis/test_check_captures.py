"""The gate on real captures (tests/data/check/README.md says how they were made): repeated runs of
the same workload pass, and a build with one function made slower fails and names it in every output."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from lxml import etree

from foldkit.cli import main
from foldkit.ingest import FoldOptions, read
from foldkit.profile import Profile
from foldkit.regression import gate
from foldkit.regression import outputs as out
from tests.support.common import DATA

CHECK = DATA / "check"
BASE = sorted(CHECK.glob("base-*.perf.zst"))
SLOW = sorted(CHECK.glob("slow-*.perf.zst"))
#: The function whose work the slow build increases, and its callee, which does that work.
SLOWED = "checksum_records"
CALLEE = "mix_word"
RESAMPLED_SPLITS = 24


@pytest.fixture(scope="module")
def runs() -> dict[str, list[Profile]]:
    options = FoldOptions(jobs=1)
    return {"base": [read(p, options) for p in BASE], "slow": [read(p, options) for p in SLOW]}


def test_the_captures_are_what_the_readme_says(runs: dict[str, list[Profile]]) -> None:
    assert len(BASE) == 8 and len(SLOW) == 4
    for p in runs["base"] + runs["slow"]:
        assert p.counts is not None and 2000 < sum(p.counts.values()) < 4000
        assert p.unit == "ns"  # period-weighted: the gate must use the counts


def test_every_pair_of_single_runs_of_the_same_workload_passes(runs: dict[str, list[Profile]]) -> None:
    pairs = list(itertools.permutations(range(len(BASE)), 2))
    assert len(pairs) >= 20
    for i, j in pairs:
        result = gate.check_profiles([runs["base"][i]], [runs["base"][j]])
        assert result.status == "underpowered", (i, j, out.verdict(result))


def test_resampled_multi_run_comparisons_of_the_same_workload_pass(runs: dict[str, list[Profile]]) -> None:
    rng = random.Random(20240611)
    for _ in range(RESAMPLED_SPLITS):
        order = rng.sample(range(len(BASE)), 6)
        base = [runs["base"][i] for i in order[:3]]
        cand = [runs["base"][i] for i in order[3:]]
        result = gate.check_profiles(base, cand)
        assert result.status == "pass", (order, out.verdict(result))
        assert result.measured and "run-to-run variation of each function's time" in result.method


@pytest.mark.parametrize("n", [2, 3])
def test_the_slowed_function_fails_the_gate_and_is_named(runs: dict[str, list[Profile]], n: int) -> None:
    result = gate.check_profiles(runs["base"][:n], runs["slow"][:n])
    assert result.status == "fail"
    assert result.culprit_names() == [CALLEE, SLOWED]  # the callee doing the extra work first, by effect
    assert [f.measure for f in result.regressions] == ["self", "self"]
    top = result.regressions[0]
    assert top.delta > 0.03 and top.p_adjusted < 0.01
    explained = {f.name: f.explained_by for f in result.explained}
    assert explained[SLOWED] == CALLEE  # its inclusive rise is its callee's, not a second regression


def test_one_run_a_side_of_the_slowed_function_is_underpowered_not_a_guess(runs: dict[str, list[Profile]]) -> None:
    for i in range(len(SLOW)):
        result = gate.check_profiles([runs["base"][i]], [runs["slow"][i]])
        assert result.status == "underpowered" and not result.measured
        assert result.detectable_pp is not None and result.detectable_pp > 5
        assert "record at least 2 runs a side" in out.verdict(result)


def test_the_slow_build_passes_with_a_threshold_above_its_change(runs: dict[str, list[Profile]]) -> None:
    options = gate.CheckOptions(max_increase=gate.Threshold.parse("10pp"))
    assert gate.check_profiles(runs["base"][:3], runs["slow"][:3], options).passed


def test_cli_outputs_all_name_the_slowed_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {k: tmp_path / f"check.{k}" for k in ("json", "xml", "md")}
    code = main([
        "check", "--baseline", str(CHECK / "base-[1-3].perf.zst"), "--candidate", str(CHECK / "slow-[1-3].perf.zst"),
        "--json", str(files["json"]), "--junit", str(files["xml"]), "--markdown", str(files["md"]),
    ])
    assert code == 1
    text = capsys.readouterr()
    assert "FAIL" in text.out and SLOWED in text.out
    doc = json.loads(files["json"].read_text())
    assert doc["passed"] is False
    assert SLOWED in {r["name"] for r in doc["regressions"]}
    assert doc["baseline"]["runs"] == 3 and doc["candidate"]["runs"] == 3
    junit = etree.parse(str(files["xml"]))
    failed = {c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None}
    assert failed == {r["name"] for r in doc["regressions"]}
    assert junit.getroot().get("failures") == str(len(failed))
    md = files["md"].read_text()
    assert md.startswith("### ❌")
    for name in failed:
        assert name.replace("_", "\\_") in md.split("**Regressions**")[1].split("<details>")[0]
    # culprit first everywhere: the verdict, the text table, JSON, JUnit and Markdown agree on the order
    assert doc["culprits"][0] == CALLEE and doc["verdict"].startswith(f"FAIL: 2 regressed: {CALLEE}, {SLOWED}")
    table = text.out.split("regressions (culprit first):")[1]
    assert table.index(CALLEE) < table.index(SLOWED)
    assert [c.get("name") for c in junit.iter("testcase")][:2] == [CALLEE, SLOWED]
    rows = [line for line in md.split("**Regressions**")[1].splitlines() if line.startswith("| ") and "\\_" in line]
    assert rows[0].startswith("| mix\\_word | self") and "explained by callee mix\\_word" in md


def test_cli_same_workload_exit_0_and_outputs_agree(tmp_path: Path) -> None:
    js, xml, md = tmp_path / "c.json", tmp_path / "c.xml", tmp_path / "c.md"
    sides = ["--baseline", str(CHECK / "base-[123].perf.zst"), "--candidate", str(CHECK / "base-[456].perf.zst")]
    code = main(["check", *sides, "--json", str(js), "--junit", str(xml), "--markdown", str(md), "-q"])
    assert code == 0
    assert json.loads(js.read_text())["status"] == "pass"
    assert etree.parse(str(xml)).getroot().get("failures") == "0"
    assert md.read_text().startswith("### ✅")
    code = main(["check", str(BASE[0]), str(BASE[1]), "--json", str(js), "--markdown", str(md), "-q"])
    assert code == 0 and json.loads(js.read_text())["status"] == "underpowered"
    assert md.read_text().startswith("### ⚠️ foldkit check: UNDERPOWERED")
