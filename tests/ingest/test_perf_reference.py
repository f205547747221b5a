"""perf folding against FlameGraph's reference results (docs/differences.md lists every deliberate
difference; each one appears below as a named adjustment, never as a blanket tolerance)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from foldkit.errors import UsageError
from foldkit.ingest import FoldOptions, read
from foldkit.ingest.perf_frames import tidy_rust
from tests.support.common import DATA, data_bytes, folded_weights

FG_INPUTS = sorted(p.name.removesuffix(".txt.zst") for p in (DATA / "flamegraph-tests").glob("perf-*.txt.zst"))
FG_OPTIONS = {
    "pid": FoldOptions(pid=True),
    "tid": FoldOptions(tid=True),
    "kernel": FoldOptions(kernel=True),
    "jit": FoldOptions(jit=True),
    "all": FoldOptions(kernel=True, jit=True, inline=True),
    "addrs": FoldOptions(addrs=True),
}


def _merge(a: dict[bytes, float], b: dict[bytes, float]) -> dict[bytes, float]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def test_fg_corpus_is_present() -> None:
    assert len(FG_INPUTS) == 13


#: Captures with several sampling events, which foldkit refuses to fold without `--event`
#: (docs/differences.md, perf row 10): the reference keeps the first one seen, named here.
REFERENCE_EVENT = {
    "perf-cycles-instructions-01": "instructions",
    "perf-cpp-two-events": "page-faults",
    "perf-system-cpuclock-taskclock": "cpu-clock",
}


@pytest.mark.parametrize("opt", sorted(FG_OPTIONS))
@pytest.mark.parametrize("name", FG_INPUTS)
def test_flamegraph_test_suite(name: str, opt: str) -> None:
    text = data_bytes(f"flamegraph-tests/{name}.txt")
    options = replace(FG_OPTIONS[opt], event=REFERENCE_EVENT.get(name))
    got = folded_weights(read(text, options).to_folded_bytes())
    expected = folded_weights(data_bytes(f"flamegraph-tests/results/{name}-collapsed-{opt}.txt"))

    # Difference 1: a last sample with no blank line after it is folded (the recorded results
    # predate FlameGraph's fix for #230 and drop it).
    if not text.rstrip(b" \t").endswith(b"\n\n"):
        last = text[text.rstrip(b"\n").rfind(b"\n\n") + 2 :]
        expected = _merge(expected, folded_weights(read(last, options).to_folded_bytes()))
    # Difference 2: a frame with an empty symbol is named after its dso like `[unknown]` frames,
    # not a frame called " " (3 frames in libc-2.15.so in perf-vertx-stacks-01).
    # With --addrs the frame keeps its address, as other unresolved frames do.
    if name == "perf-vertx-stacks-01":
        addrs = re.findall(rb"\n\t *([0-9a-f]+)  \(/lib/x86_64-linux-gnu/libc-2.15.so\)", text)
        assert len(addrs) == 3
        fixed: dict[bytes, float] = {}
        for stack, w in got.items():
            frames = stack.split(b";")
            if opt == "addrs":
                frames = [b" " if any(f == b"[libc-2.15.so <%s>]" % a for a in addrs) else f for f in frames]
            fixed[b";".join(frames)] = fixed.get(b";".join(frames), 0) + w
        got = fixed
        if opt != "addrs":
            fixed = {}
            for stack, w in expected.items():
                key = b";".join(b"[libc-2.15.so]" if f == b" " else f for f in stack.split(b";"))
                fixed[key] = fixed.get(key, 0) + w
            expected = fixed
    # Difference 17: Rust names that perf printed half demangled are tidied as rustc-demangle
    # prints them (`_$u7b$$u7b$closure$u7d$$u7d$` -> `{{closure}}`, the `::h…` hash dropped); a lifetime's
    # quote (`$u27$a` -> `'a`) is then removed like every quote.
    if name.startswith("perf-rust-"):
        tidied: dict[bytes, float] = {}
        for stack, w in expected.items():
            frames = [tidy_rust(f.decode()).replace("'", "").encode() for f in stack.split(b";")]
            tidied = _merge(tidied, {b";".join(frames): w})
        expected = tidied
        assert any(b"{{closure}}" in stack for stack in expected)
    assert got == expected


PERF_CAPTURES = sorted(
    p.name.removesuffix(".txt.zst") for p in (DATA / "captures").glob("perf-*.zst")
)
_ANNOTATION = re.compile(rb"_\[[kjiw]\]$")


def reference_view(stack: bytes) -> bytes:
    """A stack seen through the reference's naming rules (docs/differences.md, perf section):
    annotations dropped, names cut at the first `(` (the reference's argument-list rule) and
    right-stripped, `(anonymous namespace)` frames removed (the reference skips them), frames of
    deleted memfd mappings named `[unknown]`."""
    out = []
    for frame in stack.split(b";"):
        frame = _ANNOTATION.sub(b"", frame)
        if frame.startswith(b"(anonymous namespace)"):
            continue
        if frame.startswith(b"[memfd:"):
            frame = b"[unknown]"
        out.append(frame.split(b"(", 1)[0].rstrip())
    return b";".join(out)


def _view(weights: dict[bytes, float]) -> dict[bytes, float]:
    out: dict[bytes, float] = {}
    for stack, w in weights.items():
        key = reference_view(stack)
        out[key] = out.get(key, 0) + w
    return out


#: Captures where the reference output is structurally wrong (docs/differences.md, perf section).
#: The one-line layouts (`-G`, recordings without call chains) it folds to nothing (perf row 8).
REFERENCE_BROKEN = {
    "perf-cpp-hide-callgraph",
    "perf-cpp-fields-comm-tid-ip-sym",
    "perf-system-hide-callgraph",
    "perf-system-no-callchain",
    "perf-system-no-callchain-fields",
    "perf-system-no-callchain-srcline",
}


@pytest.mark.parametrize("suffix", ["", ".all"])
@pytest.mark.parametrize("name", PERF_CAPTURES)
def test_captures_match_reference_up_to_documented_naming(name: str, suffix: str) -> None:
    if name in REFERENCE_BROKEN:
        pytest.skip("reference output is wrong here; see test_reference_broken_captures")
    options = FoldOptions(kernel=True, jit=True, inline=True) if suffix else FoldOptions()
    options = replace(options, event=REFERENCE_EVENT.get(name))
    got = folded_weights(read(DATA / "captures" / f"{name}.txt.zst", options).to_folded_bytes())
    if name == "perf-system-cpuclock-sched-switch":
        # Difference (perf row 11): the reference filters no event when a tracepoint is present, so
        # its output sums both events; foldkit folds the sampling event, and the tracepoint on request.
        tracepoint = read(DATA / "captures" / f"{name}.txt.zst", replace(options, event="sched:sched_switch"))
        got = _merge(got, folded_weights(tracepoint.to_folded_bytes()))
    if name == "perf-sched-switch":
        # Difference: samples of exited threads (`:-1    -1` headers) are kept, not dropped.
        unknown = {s: w for s, w in got.items() if s.startswith(b":-1")}
        assert sum(unknown.values()) == 2
        got = {s: w for s, w in got.items() if s not in unknown}
    expected = folded_weights(data_bytes(f"expected/{name}{suffix}.folded"))
    assert _view(got) == _view(expected)


def test_reference_broken_captures() -> None:
    # -G: the reference folds nothing; every sample keeps its one frame (ip sym dso on the header line).
    p = read(DATA / "captures" / "perf-cpp-hide-callgraph.txt.zst")
    assert p.samples == 207 and p.total == 207 * 1001001
    assert all(s.count(";") == 1 for s in p.weights)
    assert p.weights["tmpl;__memmove_avx512_unaligned_erms"] > 0
    # -F comm,tid,ip,sym (no dso): the reference leaves 191 samples as the bare stack `tmpl`.
    p = read(DATA / "captures" / "perf-cpp-fields-comm-tid-ip-sym.txt.zst")
    assert p.samples == 207 and p.total == 207
    assert "tmpl" not in p.weights
    assert any("std::_Function_handler<double (double)" in s for s in p.weights)
    assert p.diagnostics.bad_lines == 0


def test_multiple_events_are_refused_naming_both() -> None:
    with pytest.raises(UsageError) as err:
        read(DATA / "captures" / "perf-cpp-two-events.txt.zst")
    assert "page-faults/period=40/ (223 samples)" in str(err.value)
    assert "cpu-clock/freq=499/ (199 samples)" in str(err.value)
    p = read(DATA / "captures" / "perf-cpp-two-events.txt.zst", FoldOptions(event="page-faults"))
    assert p.event == "page-faults/period=40/" and p.total == 223 * 40
    assert not p.diagnostics.warnings and "dropped events: cpu-clock/freq=499/ (199 samples)" in p.diagnostics.notes
    chosen = read(DATA / "captures" / "perf-cpp-two-events.txt.zst", FoldOptions(event="cpu-clock"))
    assert chosen.event == "cpu-clock/freq=499/" and chosen.samples == 199
    assert not chosen.diagnostics.warnings


def test_event_modifiers_do_not_make_another_event() -> None:
    text = (
        b"a 1 1.0: 10 cycles:u: \n\tffff f+0x1 (/x)\n\n"
        b"a 1 2.0: 10 cycles: \n\tffff f+0x1 (/x)\n\n"
        b"a 1 3.0: 10 cycles:ppp: \n\tffff g+0x1 (/x)\n"
    )
    p = read(text)
    assert p.weights == {"a;f": 20, "a;g": 10}
    assert not p.diagnostics.warnings


def test_weight_samples_counts_samples() -> None:
    p = read(DATA / "captures" / "perf-c-fp.txt.zst", FoldOptions(weight="samples"))
    assert p.total == 310 and p.unit == "samples"
    q = read(DATA / "captures" / "perf-c-fp.txt.zst")
    assert q.total == 310 * 1001001 and q.unit == "ns"
    assert q.counts is not None and sum(q.counts.values()) == 310
