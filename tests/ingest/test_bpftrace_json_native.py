"""The native `-f json` reader (`foldkit_core::bpf::json`) against its Python twin
(`bpftrace.fold_python`, which reads each line with `json.loads`): the same Profile, diagnostics
and errors for generated JSON lines cut into random chunks (string escapes of every kind, lone
and paired surrogates, bytes that are not UTF-8, numbers Python reads as int or float, keys
repeated, nesting too deep for Python, lines that are not JSON), and for the JSON captures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldkit.ingest import FoldOptions, bpftrace
from foldkit.inputs import open_source
from foldkit.native import native_core
from foldkit.profile import LazyProfile
from tests.support.bpf import twin_outcomes
from tests.support.common import DATA, TESTS

pytestmark = pytest.mark.skipif(native_core() is None, reason="the native core is not built")

JSON = DATA / "bpftrace-json"

FRAME = st.sampled_from(
    [
        "    do_nanosleep+1",
        "        entry_SYSCALL_64_after_hwframe+68",
        "    main+3",
        "    std::vector<int>::push(int)+9",
        "    0x7f5949169904",
        "    0xffffffff81000010",
        "    [inlined] foo@/src/a.c:14",
        "    a;b+0x1f",
        "    é_ünïcode+5",
        "    名前+1",
        "    emoji\U0001f600+1",
        "    lone\ud800+1",
        "    esc\udcff+2",
        "    pair\udcc3\udca9+2",
        "    low\udc00x",
        "    ctl\x01\x1f+1",
        "    q\"uote\\back/slash+1",
        "    tab\tin+1",
        "\t7faa1e35a1f3 malloc_consolidate+179 (/usr/lib/libc.so.6)",
        "\tffffffff81000010 do_idle+5",
        "ffffffff81000010",
        "    \u3000spaced\u00a0+1",
        "    ",
        "    @x[",
    ]
)
STACK = st.lists(FRAME, max_size=3).map(lambda frames: "\n" + "".join(f + "\n" for f in frames) if frames else "")
SCALAR = st.sampled_from(["sleep", "bash", "1234", "-7", "a;b", "", "x y", "ç", "]", "a,b", "\ud800", "\udcfe", "opt cgu.0"])
KEY = st.lists(st.one_of(STACK, SCALAR), min_size=1, max_size=4).map(",".join)
VALUE = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 7, True, False, None, 1.5, -0.0, 1e300, "5", [1, 2], {"count": 1}]),
)
MAP_NAME = st.sampled_from(["@", "@stacks", "@x", "@u", "@é", "@\n", "@a b", "@\ud800", "x"])
ENTRIES = st.one_of(st.dictionaries(KEY, VALUE, max_size=5), VALUE)
EVENT = st.one_of(
    st.fixed_dictionaries({"type": st.just("map"), "data": st.dictionaries(MAP_NAME, ENTRIES, max_size=3)}),
    st.fixed_dictionaries(
        {"type": st.just("attached_probes"), "data": st.one_of(st.fixed_dictionaries({"probes": VALUE}), st.just({}), st.just(3))}
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["hist", "lhist", "stats"]), "data": st.dictionaries(MAP_NAME, VALUE, max_size=2)}),
    st.fixed_dictionaries({"type": st.sampled_from(["printf", "time", "lost_events", "m\u0061p"]), "data": VALUE}),
    st.fixed_dictionaries({"type": st.sampled_from(["map", 5, None])}),
)
#: Lines written by hand: what `json.dumps` never writes.
ODD_LINE = st.sampled_from(
    [
        '{"type": "map", "data": {"@": {"\\n    f+1\\n,cat": -0}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n,cat": 1, "\\n    f+1\\n,cat": 2}}}',
        '{"type": "map", "data": {"@": {"a": 1, "\\u0061": 2}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 3}, "@": 4}}',
        '{"type": "map", "type": "hist", "data": {"@": 1}}',
        '{"data": {"@": {"\\n    f+1\\n": 3}}, "type": "map"}',
        '{"type": "map", "data": {"@": {",\\n    0x7f2437cfc21f\\n,a\\uffffffc3\\uffffffa9\\t\\"\\\\\\u0001\\uffffffff;,x": 1}}}',
        '{"type": "map", "data": {"@": {"\\n    f\\ud83d\\ude00+1\\n": 3, "\\n    g\\ud800\\u0041\\n": 2, "\\n    h\\uDCFF\\n": 1}}}',
        '{"type": "map", "data": {"@": {"\\n    f\\u00e9+1\\n": 3, "\\n    f\\u00E9+1\\n": 3}}}',
        '{"type": "map", "data": {"@": {"\\n    f\\x+1\\n": 3}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 01}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 1.}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 1e5, "\\n    g+1\\n": 2E-1, "\\n    h+1\\n": NaN, "\\n    i+1\\n": -Infinity}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 3,}}}',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 3}}} x',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 3}}',
        '  {"type":"map","data":{"@":{"\\n    f+1\\n":3}}}  ',
        '\t{ "type" : "map" , "data" : { "@" : { "\\n    f+1\\n" : 3 } } }',
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": ' + "9" * 700 + "}}}",
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": ' + "9" * 4301 + "}}}",
        '{"type": "map", "data": {"@": {"\\n    f+1\\n": 3}, "@deep": ' + "[" * 150 + "]" * 150 + "}}",
        '{"type": "map", "data": ' + "[" * 3000 + "]" * 3000 + "}",
        '{"type": "attached_probes", "data": {"probes": "x\\ny"}}',
        '{"type": "attached_probes", "data": {"probes": [1, 2]}}',
        '{"type": "attached_probes", "data": {"probes": -0}}',
        '{"type": "attached_probes", "data": {"probes": 1, "probes": 2}}',
        "[1, 2]",
        '"map"',
        "@[\n    f+1\n]: 3",
        "Attaching 1 probe...",
        "",
        "   ",
        "\u2028",
        '{"type": "printf", "data": "hi\\n"}\x00',
        '{"type": "map", "data": {"@\\u0000": 1}}',
    ]
)
FIRST_LINE = st.sampled_from(
    ['{"type": "attached_probes", "data": {"probes": 1}}', '{"type": "map", "data": {"@": {"\\n    main+1\\n": 2}}}', '{"type": 7}']
)


def _dumps(event: dict[str, object], ascii_only: bool, compact: bool) -> bytes:
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(event, ensure_ascii=ascii_only, separators=separators).encode("utf-8", "surrogatepass")


LINE = st.one_of(
    st.builds(_dumps, EVENT, st.booleans(), st.booleans()),
    ODD_LINE.map(lambda line: line.encode("utf-8", "surrogatepass")),
)
#: Raw damage to a line: bytes that are not UTF-8 or control characters put in, or the line cut.
DAMAGE = st.one_of(
    st.none(),
    st.tuples(st.floats(min_value=0, max_value=1), st.sampled_from([b"\xff", b"\xc3", b"\xc3\xa9", b"\x01", b"\t", b"\\", b'"', b"\r"])),
    st.tuples(st.floats(min_value=0, max_value=1), st.none()),
)
OPTIONS = st.sampled_from(
    [
        FoldOptions(maps=("all",)),
        FoldOptions(),
        FoldOptions(maps=("all",), kernel=True, inline=True, addrs=True),
        FoldOptions(maps=("@x",)),
    ]
)


def _damaged(line: bytes, damage: tuple[float, bytes | None] | None) -> bytes:
    if damage is None:
        return line
    where, insert = damage
    at = int(where * len(line))
    return line[:at] if insert is None else line[:at] + insert + line[at:]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    FIRST_LINE,
    st.lists(st.tuples(LINE, DAMAGE), max_size=8),
    st.lists(st.integers(min_value=0, max_value=3000), max_size=5),
    OPTIONS,
    st.sampled_from([b"\n", b"\r\n"]),
)
def test_native_json_reader_is_its_python_twin(
    first: str, lines: list[tuple[bytes, tuple[float, bytes | None] | None]], cuts: list[int], options: FoldOptions, newline: bytes
) -> None:
    text = newline.join([first.encode(), *(_damaged(line, damage) for line, damage in lines)]) + newline
    python, native = twin_outcomes(bpftrace, text, cuts, options, json=True)
    assert native == python


def _capture(name: str) -> bytes:
    return zstandard.ZstdDecompressor().decompress((JSON / name).read_bytes())


@pytest.mark.parametrize("name", sorted(p.name for p in JSON.glob("*.json.zst")))
@pytest.mark.parametrize(
    "options",
    [FoldOptions(maps=("all",)), FoldOptions(maps=("all",), kernel=True, inline=True, addrs=True)],
    ids=["plain", "kernel-inline-addrs"],
)
def test_json_captures_fold_alike(name: str, options: FoldOptions) -> None:
    text = _capture(name)
    python, native = twin_outcomes(bpftrace, text, [len(text) // 3, len(text) // 2], options, json=True)
    assert native == python and python[0] == "ok"


def test_fold_reads_json_natively() -> None:
    """`fold` takes the native path for `-f json` output: its stacks stay in the native table."""
    source = open_source(str(JSON / "profile-kstack-ustack-comm.json.zst"))
    try:
        profile = bpftrace.fold(source, FoldOptions())
    finally:
        source.close()
    assert isinstance(profile, LazyProfile) and profile.table is not None


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "map", "data": {"@": {"\\n    f+1\\n": 3}}',  # cut short
        b'{"type": "map", "data": ' + b"[" * 100_000 + b"\n",  # deeper than Python's recursion limit
        b'{"type": "map", "data": {"@": {"\\n    f+1\\n": ' + b"9" * 5000 + b"}}}\n",  # past Python's int digits
    ],
    ids=["cut", "deep", "long-int"],
)
def test_json_that_cannot_be_read_is_exit_2_with_a_message(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-m", "foldkit", "fold", "--format", "bpftrace", str(path)],
        capture_output=True, timeout=120, check=False, cwd=TESTS.parent,
    )
    assert run.returncode == 2 and b"Traceback" not in run.stderr and b"panicked" not in run.stderr, run.stderr
    assert b"no bpftrace map found" in run.stderr and run.stdout == b""
