"""`Profile` and `CheckResult` in a REPL or notebook: a one-line repr and an HTML view that keeps
frame names as text."""

from __future__ import annotations

from lxml import html

import foldkit
from foldkit.profile import Profile
from tests.support.common import DATA

CHECK = DATA / "check"
HOSTILE = "<script>alert(1)</script>"


def test_a_profile_prints_in_one_short_line() -> None:
    profile = foldkit.read(DATA / "captures" / "perf-system-mixed.txt.zst")
    text = repr(profile)
    assert len(text) < 300 and "\n" not in text
    assert text.startswith("<Profile perf cpu-clock: ") and f"{len(profile):,} stacks" in text
    assert f"total {profile.total:,} ns" in text and f"{profile.samples:,} samples" in text
    assert repr(Profile()) == "<Profile 0 stacks, total 0 samples>"


def test_a_profile_notebook_view_lists_its_heaviest_stacks_as_text() -> None:
    profile = Profile(weights={f"main;{HOSTILE}": 3, "main;" + ";".join(f"f{i}" for i in range(20)): 1})
    doc = html.fromstring(profile._repr_html_())
    cells = [td.text_content() for td in doc.iter("td")]
    assert cells[:3] == ["3", "75.00%", f"main;{HOSTILE}"] and cells[5].startswith("…;f14")
    assert not list(doc.iter("script"))


def test_a_check_result_prints_in_one_short_line_with_its_verdict() -> None:
    base = [CHECK / "base-1.perf.zst", CHECK / "base-2.perf.zst"]
    failed = foldkit.check(base, [CHECK / "slow-1.perf.zst", CHECK / "slow-2.perf.zst"])
    text = repr(failed)
    assert len(text) < 300 and "\n" not in text
    assert text.startswith("<CheckResult FAIL: 2 regressed (mix_word, checksum_records), 0 of 0 budget(s) exceeded")  # culprit first
    passed = foldkit.check(base, [CHECK / "base-3.perf.zst", CHECK / "base-4.perf.zst"])
    assert repr(passed).startswith("<CheckResult PASS: 0 regressed, ")
    single = foldkit.check(CHECK / "base-1.perf.zst", CHECK / "base-2.perf.zst")
    assert repr(single).startswith("<CheckResult UNDERPOWERED: 0 regressed, ")


def test_a_check_result_notebook_view_names_the_regressions() -> None:
    base = Profile(weights={f"main;{HOSTILE}": 100, "main;b": 900})
    cand = Profile(weights={f"main;{HOSTILE}": 300, "main;b": 700})
    doc = html.fromstring(foldkit.check(base, cand)._repr_html_())
    assert doc.find(".//strong").text_content().startswith("FAIL: 1 regressed")
    assert HOSTILE in [code.text_content() for code in doc.iter("code")] and not list(doc.iter("script"))
