"""`normalize_symbols`: names that change between builds get one stable spelling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foldkit.profile import Profile
from foldkit.transform.normalize import (
    NormalizeOptions,
    normalize_frame,
    normalize_symbols,
    strip_hex,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("core::fmt::write::h1a2b3c4d5e6f7a8b", "core::fmt::write"),
        ("<T as core::any::Any>::type_id::h0123456789abcdef", "<T as core::any::Any>::type_id"),
        ("foo.constprop.0", "foo"),
        ("foo.isra.0.cold", "foo"),
        ("foo.part.1", "foo"),
        ("foo.cold", "foo"),
        ("bar.llvm.12345678901", "bar"),
        ("java.lang.Weather.cold", "java.lang.Weather.cold"),  # a Java method called cold stays
        ("main+0x1f", "main"),
        ("[libc.so.6 <7f12ab34cd>]", "[libc.so.6]"),
        ("unknown", "[unknown]"),
        ("[unknown] ([unknown])", "[unknown]"),
        ("0x7f1234abcd", "[unknown]"),
        ("ffffffff8103ce3b", "[unknown]"),
        ("0xffffffff81aebbfe_[k]", "[unknown]_[k]"),
        ("schedule_[k]", "schedule_[k]"),
        ("deadbeef", "deadbeef"),
        ("LazyCompile:~body_0 evalmachine.<anonymous>:1", "body_0 evalmachine.<anonymous>"),
        ("LazyCompile:*body_0 evalmachine.<anonymous>:7", "body_0 evalmachine.<anonymous>"),
        ("JS:^parse /srv/app/lib/parse.js:10:5", "parse /srv/app/lib/parse.js"),
        ("Function:~ /srv/app/x.js:3:1", "(anonymous) /srv/app/x.js"),
        ("Builtin:ArrayMap", "Builtin:ArrayMap"),
        ("RegExp:[&<>\"']", "RegExp:[&<>\"']"),
        ("[perf-31912.map]", "[perf-PID.map]"),
        ("[jitted-31714-4145673320.so]", "[jitted-PID.so]"),
        ("bpf_prog_2b956549c660136a_uni_l4lb", "bpf_prog_uni_l4lb"),
        ("Foo$$Lambda$123/0x0000000800c0b2b8.apply", "Foo$$Lambda.apply"),
        ("Interpreter_[j]", "Interpreter_[j]"),
    ],
)
def test_frame_forms(raw: str, normal: str) -> None:
    assert normalize_frame(raw) == normal


def test_families_can_be_switched_off() -> None:
    opts = NormalizeOptions(rust_hash=False, clones=False)
    assert normalize_frame("f::h0123456789abcdef", opts) == "f::h0123456789abcdef"
    assert normalize_frame("g.isra.0", opts) == "g.isra.0"
    assert normalize_frame("unknown", NormalizeOptions(unknown=False)) == "unknown"


def test_stacks_that_become_equal_are_merged_with_counts() -> None:
    p = Profile(
        weights={"main;f::h0123456789abcdef": 30, "main;f::hfedcba9876543210": 10, "main;g": 5},
        counts={"main;f::h0123456789abcdef": 3, "main;f::hfedcba9876543210": 1, "main;g": 1},
        unit="ns",
        timeline=[(1.0, "main;f::h0123456789abcdef", 30)],
    )
    n = normalize_symbols(p)
    assert n.weights == {"main;f": 40, "main;g": 5}
    assert n.counts == {"main;f": 4, "main;g": 1}
    assert n.timeline == [(1.0, "main;f", 30)]
    assert n.unit == "ns"
    assert p.weights["main;g"] == 5 and len(p.weights) == 3  # input untouched


def test_empty_profile_passes_through() -> None:
    assert normalize_symbols(Profile()).weights == {}
    assert strip_hex(Profile()).weights == {}


def test_strip_hex_is_difffolded_s() -> None:
    p = Profile(weights={"a;f+0x1f;g 0xABC": 1, "a;f+0x20;g 0xabd": 2})
    assert strip_hex(p).weights == {"a;f+0x...;g 0x...": 3}


frames = st.text(alphabet=st.sampled_from(list("abcf0123456789x:.<>[]_ ~*+-hk")), max_size=25)


@given(st.lists(frames, min_size=1, max_size=5))
def test_normalising_twice_changes_nothing_more(stack: list[str]) -> None:
    once = [normalize_frame(f) for f in stack]
    assert [normalize_frame(f) for f in once] == once


@given(st.dictionaries(st.lists(frames, min_size=1, max_size=4).map(";".join), st.integers(1, 100), max_size=20))
def test_total_weight_is_kept(weights: dict[str, int]) -> None:
    assert normalize_symbols(Profile(weights=weights)).total == sum(weights.values())
