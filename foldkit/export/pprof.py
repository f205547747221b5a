"""pprof's `profile.proto` (`.pb`; gzip'd as `.pb.gz`, `.pprof`): what `go tool pprof`, Pyroscope, Parca,
Grafana and Perfetto read.

One function and one location per distinct frame name, one sample per stack (locations leaf
first). The sample types: the weight in the profile's unit (`cpu/nanoseconds` for a perf
`cpu-clock` profile, `samples/count` for plain sample counts, `space/bytes`, …), preceded by
`samples/count` when the profile knows its sample counts, so `go tool pprof` shows the weight by
default (its last type) and `-sample_index=samples` the counts. Frames are mapped by what their
name says of their object: `_[k]` kernel frames to `[kernel.kallsyms]`, `[dso]` (an unresolved
frame of that object) to `dso`, the rest to one mapping named after the profile's sources.

A profile with a BEFORE side (`foldkit diff -o x.pb.gz`, a two-column folded input) is written
in pprof's own `-diff_base` form, as `go tool pprof -diff_base=before.pb.gz after.pb.gz -proto`
writes it: AFTER's samples as they are, then BEFORE's with their values negated and the label
`pprof::base=true`. pprof's tools then show each function's AFTER minus BEFORE, and percentages of
BEFORE's total; foldkit reads such a file back as the two sides.
"""

from __future__ import annotations

import gzip
import os

from foldkit.ingest import bpf_frames as bf
from foldkit.ingest.pprof import DIFF_BASE_LABEL
from foldkit.ingest.proto import field_bytes, field_packed, field_varint
from foldkit.native import native_core
from foldkit.profile import Profile

#: foldkit units -> pprof's.
UNITS = {"ns": "nanoseconds", "us": "microseconds", "µs": "microseconds", "ms": "milliseconds", "s": "seconds", "bytes": "bytes"}
KERNEL = "[kernel.kallsyms]"

# profile.proto field numbers (Profile)
_SAMPLE_TYPE, _SAMPLE, _MAPPING, _LOCATION, _FUNCTION, _STRINGS = 1, 2, 3, 4, 5, 6
_PERIOD_TYPE, _DEFAULT_SAMPLE_TYPE = 11, 14


class _Strings:
    """The string table: index 0 is the empty string."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        got = self.index.get(s)
        if got is None:
            got = self.index[s] = len(self.index)
        return got

    def encode(self) -> bytes:
        return b"".join(field_bytes(_STRINGS, s.encode("utf-8", "surrogateescape")) for s in self.index)


def sample_types(profile: Profile) -> list[tuple[str, str]]:
    """(type, unit) of each value of a sample: the weight last."""
    unit = profile.unit
    if unit == "samples":
        return [("samples", "count")]
    pprof_unit = UNITS.get(unit, "count")
    if unit == "ns" and (profile.event or "").endswith("-clock"):
        kind = "cpu"
    elif unit == "bytes":
        kind = "space"
    else:
        kind = profile.event or (unit if pprof_unit == "count" else "time")
    weight = (kind, pprof_unit)
    return [("samples", "count"), weight] if profile.counts is not None else [weight]


def _mapping_name(frame: str, default: str) -> str:
    if frame.endswith(bf.KERNEL_SUFFIX):
        return KERNEL
    if frame.startswith("[") and frame.endswith("]") and " " not in frame and frame != bf.UNKNOWN:
        return frame[1:-1]
    return default


#: A sample to write: (stack, value, sample count, whether it is a BEFORE sample of the
#: `-diff_base` form, its value negated).
Row = tuple[str, int, int, bool]


def to_pprof_bytes(profile: Profile, gzipped: bool = False) -> bytes:
    """The profile as a profile.proto message (gzip'd with `gzipped`): encoded by the native core
    (`_native.pprof_bytes`, prost) when it is in use, else by `encode_python`, its twin (both
    write the same bytes)."""
    types = sample_types(profile)
    default = ", ".join(os.path.basename(s) or s for s in profile.sources) or "foldkit"
    counts = profile.counts or {}
    rows: list[Row] = [(s, round(w), counts.get(s, 0), False) for s, w in profile.items()]
    diff_base = profile.before is not None  # pprof's -diff_base form: BEFORE negated and labelled
    if profile.before is not None:
        rows.extend((s, -round(w), 0, True) for s, w in profile.before.items() if w)
    data = None
    core = native_core()
    if core is not None:
        utf8 = lambda text: text.encode("utf-8", "surrogateescape")  # noqa: E731
        try:
            data = core.pprof_bytes(
                [(utf8(s), v, c, b) for s, v, c, b in rows], [(utf8(t), utf8(u)) for t, u in types], utf8(default), diff_base
            )
        except OverflowError:  # a value beyond int64: Python's integers take it
            data = None
    if data is None:
        data = encode_python(rows, types, default, diff_base)
    # level 1, as Go's runtime/pprof writes (gzip.BestSpeed): on profile.proto 4x faster than 6 and no bigger
    return gzip.compress(data, compresslevel=1, mtime=0) if gzipped else data


def encode_python(rows: list[Row], types: list[tuple[str, str]], default: str, diff_base: bool) -> bytes:
    """The profile.proto message of `rows` in pure Python (`foldkit.ingest.proto`): one function
    and location per distinct frame, numbered as first met, mappings by `_mapping_name` (the
    first, `default`, names the profile's main file)."""
    strings = _Strings()
    out = [field_bytes(_SAMPLE_TYPE, field_varint(1, strings(t)) + field_varint(2, strings(u))) for t, u in types]
    mappings: dict[str, int] = {default: 1}
    locations: dict[str, int] = {}
    body: list[bytes] = []
    base_label = b""
    if diff_base:
        key, value = DIFF_BASE_LABEL
        base_label = field_bytes(3, field_varint(1, strings(key)) + field_varint(2, strings(value)))
    for stack, v, count, base in rows:
        ids = []
        for frame in reversed(stack.split(";")):
            loc = locations.get(frame)
            if loc is None:
                loc = locations[frame] = len(locations) + 1
                mapping_name = _mapping_name(frame, default)
                mapping = mappings.get(mapping_name)
                if mapping is None:
                    mapping = mappings[mapping_name] = len(mappings) + 1
                name = strings(frame)
                body.append(field_bytes(_FUNCTION, field_varint(1, loc) + field_varint(2, name) + field_varint(3, name)))
                body.append(field_bytes(_LOCATION, field_varint(1, loc) + field_varint(2, mapping) + field_bytes(4, field_varint(1, loc))))
            ids.append(loc)
        values = [count, v] if len(types) == 2 else [v]
        out.append(field_bytes(_SAMPLE, field_packed(1, ids) + field_packed(2, values) + (base_label if base else b"")))
    for mapping_name, ident in mappings.items():
        # has_functions (7), has_filenames (8): the names are symbols already, nothing to look up
        out.append(field_bytes(_MAPPING, field_varint(1, ident) + field_varint(5, strings(mapping_name)) + field_varint(7, 1) + field_varint(8, 1)))
    out.extend(body)
    weight_type, weight_unit = types[-1]
    period_type = field_bytes(_PERIOD_TYPE, field_varint(1, strings(weight_type)) + field_varint(2, strings(weight_unit)))
    tail = period_type + field_varint(_DEFAULT_SAMPLE_TYPE, strings(weight_type))
    return b"".join(out) + strings.encode() + tail
