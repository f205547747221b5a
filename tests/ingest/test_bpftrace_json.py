"""bpftrace `-f json`: stack maps fold exactly as the text form does (keys as printed: empty
stacks, scalar keys after stacks, several maps); histograms and statistics are noted, not folded."""

from __future__ import annotations

import json
import re

import pytest
import zstandard

from foldkit.errors import InputError
from foldkit.ingest import FORMATS
from foldkit.ingest.bpftrace import json_key_parts
from tests.support.bpf import fold
from tests.support.common import DATA, assert_golden

JSON = DATA / "bpftrace-json"


def _text(name: str) -> bytes:
    return zstandard.ZstdDecompressor().decompress((JSON / name).read_bytes())


def _without_pids(stacks: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for stack, w in stacks.items():
        key = re.sub(r"^(@u;cat);\d+;", r"\1;PID;", stack)
        out[key] = out.get(key, 0) + w
    return out


def test_json_and_text_of_the_same_workload_fold_alike() -> None:
    """Two runs of one program and workload, one printed as JSON, one as text: the same stacks
    (the pids of the `cat`s differ between runs)."""
    from_json = fold(JSON / "openat-maps.json.zst", maps=("all",))
    from_text = fold(JSON / "openat-maps.text.zst", maps=("all",))
    assert from_json.format == from_text.format == "bpftrace"
    assert _without_pids(from_json.weights) == _without_pids(from_text.weights)
    assert from_json.weights["@;cat;entry_SYSCALL_64_after_hwframe;do_syscall_64;syscall_trace_enter;perf_syscall_enter"] == 192
    notes = " ".join(from_json.diagnostics.notes)
    for name in ("@flags", "@lin", "@s"):
        assert f"JSON map {name}: 1 histogram/statistics print(s)" in notes


def test_profile_json_keeps_every_printed_value_and_the_golden_holds() -> None:
    raw = _text("profile-kstack-ustack-comm.json.zst")
    printed = sum(
        v for line in raw.decode().splitlines() if line.strip()
        for event in [json.loads(line)] if event["type"] == "map"
        for entries in event["data"].values() for v in entries.values()
    )
    profile = fold(JSON / "profile-kstack-ustack-comm.json.zst")
    assert profile.total == printed == 391
    assert not profile.diagnostics.bad_lines
    assert_golden("bpf/bpftrace-json-profile-kstack-ustack-comm.folded", profile.to_folded_bytes())


def test_json_is_read_as_the_text_it_stands_for() -> None:
    entry = {"\n    vfs_read+5\n    ksys_read+99\n,\n    read+20\n    main+7\n,cat,42": 3, ",\n    0x7f00\n,sh,7": 2, "\n    kthread+1\n,,,1": 1}
    data = (json.dumps({"type": "attached_probes", "data": {"probes": 1}}) + "\n" + json.dumps({"type": "map", "data": {"@": entry}}) + "\n").encode()
    text = (
        b"Attaching 1 probe...\n@[\n    vfs_read+5\n    ksys_read+99\n, \n    read+20\n    main+7\n, cat, 42]: 3\n"
        b"@[, \n    0x7f00\n, sh, 7]: 2\n@[\n    kthread+1\n, , , 1]: 1\n"
    )
    assert FORMATS["bpftrace"].sniff(data)
    assert fold(data).weights == fold(text).weights
    assert json_key_parts(",\n    a+1\n,python") == ["", "\n    a+1\n", "python"]
    assert json_key_parts("\n    a\n,\n    b\n,cat,28595") == ["\n    a\n", "\n    b\n", "cat", "28595"]


def test_a_json_file_of_histograms_only_says_so() -> None:
    data = b'{"type": "hist", "data": {"@us": [{"min": 0, "max": 1, "count": 3}]}}\n'
    with pytest.raises(InputError, match="no stack map to fold; JSON map @us: 1 histogram/statistics print"):
        fold(data, format="bpftrace")
