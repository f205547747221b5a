"""pprof's `profile.proto` (Go's `runtime/pprof`, `go tool pprof -proto`, Pyroscope, Parca,
perf_to_profile…), gzip'd (the usual `.pb.gz`) or not.

A sample lists its locations leaf first; a location lists its lines innermost first (the ones
before the last were inlined into it). Each sample folds to the function names of those lines,
root first, weighted by one of its values: `--sample-type NAME` (e.g. `alloc_space`), else the
profile's `default_sample_type`, else the last type, as `go tool pprof` does. When the profile
also counts samples (`samples/count`, Go CPU profiles) the count becomes the stack's sample count.
A location without lines (not symbolised) is `[mapping file name]`, or `[unknown]`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from foldkit.errors import InputError, UsageError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest.options import FoldOptions
from foldkit.ingest.proto import LEN, VARINT, ProtoError, fields, packed, signed
from foldkit.inputs import Source
from foldkit.native import native_core
from foldkit.profile import ROOT_FRAMES, Diagnostics, Profile, Weight

NAME = "pprof"
DESCRIPTION = "pprof profile.proto (Go runtime/pprof, Pyroscope, Parca…), gzip'd or not"
EXAMPLE = "(binary) go tool pprof -proto … > cpu.pb.gz"

#: pprof unit names -> foldkit's.
UNITS = {"nanoseconds": "ns", "microseconds": "us", "milliseconds": "ms", "seconds": "s", "bytes": "bytes", "count": "samples"}

# profile.proto field numbers
_SAMPLE_TYPE, _SAMPLE, _MAPPING, _LOCATION, _FUNCTION, _STRINGS = 1, 2, 3, 4, 5, 6
_DEFAULT_SAMPLE_TYPE = 14
#: The label (key, value) of a `-diff_base` profile's base samples (their values negated): pprof's.
DIFF_BASE_LABEL = ("pprof::base", "true")


@dataclass
class _Raw:
    """The parts of a profile message, undecoded where they are decoded lazily."""

    sample_types: list[tuple[int, int]] = field(default_factory=list)
    samples: list[bytes] = field(default_factory=list)
    mappings: dict[int, int] = field(default_factory=dict)  # id -> file name index
    locations: dict[int, tuple[list[int], int]] = field(default_factory=dict)  # id -> (function ids, mapping id)
    functions: dict[int, int] = field(default_factory=dict)  # id -> name index
    strings: list[str] = field(default_factory=list)
    default_sample_type: int = 0


def _message(data: bytes) -> _Raw:
    raw = _Raw()
    for number, wire, value in fields(data):
        if wire == LEN and isinstance(value, bytes):
            if number == _SAMPLE:
                raw.samples.append(value)
            elif number == _LOCATION:
                _location(raw, value)
            elif number == _FUNCTION:
                ident = name = 0
                for n, _, v in fields(value):
                    if n == 1 and isinstance(v, int):
                        ident = v
                    elif n == 2 and isinstance(v, int):
                        name = v
                raw.functions[ident] = name
            elif number == _STRINGS:
                raw.strings.append(value.decode("utf-8", "surrogateescape"))
            elif number == _SAMPLE_TYPE:
                kinds = {n: v for n, _, v in fields(value) if isinstance(v, int)}
                raw.sample_types.append((kinds.get(1, 0), kinds.get(2, 0)))
            elif number == _MAPPING:
                parts = {n: v for n, _, v in fields(value) if isinstance(v, int)}
                raw.mappings[parts.get(1, 0)] = parts.get(5, 0)
        elif wire == VARINT and number == _DEFAULT_SAMPLE_TYPE and isinstance(value, int):
            raw.default_sample_type = value
    return raw


def _location(raw: _Raw, data: bytes) -> None:
    ident = mapping = 0
    functions: list[int] = []
    for n, _, v in fields(data):
        if n == 1 and isinstance(v, int):
            ident = v
        elif n == 2 and isinstance(v, int):
            mapping = v
        elif n == 4 and isinstance(v, bytes):
            fid = next((x for k, _, x in fields(v) if k == 1 and isinstance(x, int)), 0)
            functions.append(fid)
    raw.locations[ident] = (functions, mapping)


def _string(raw: _Raw, index: int) -> str:
    if not 0 <= index < len(raw.strings):
        raise ProtoError(f"string index {index} out of range")
    return raw.strings[index]


def sample_type_names(raw: _Raw) -> list[str]:
    """The sample types as `type/unit` (`cpu/nanoseconds`)."""
    return [f"{_string(raw, t)}/{_string(raw, u)}" for t, u in raw.sample_types]


def _choose(raw: _Raw, wanted: str | None, name: str) -> int:
    names = [_string(raw, t) for t, _ in raw.sample_types]
    if not names:
        raise InputError(f"{name}: a pprof profile without sample types")
    if wanted:
        if wanted in names:
            return names.index(wanted)
        raise UsageError(f"{name}: no sample type {wanted!r}; this profile has {', '.join(sample_type_names(raw))}")
    if raw.default_sample_type:
        default = _string(raw, raw.default_sample_type)
        if default in names:
            return names.index(default)
    return len(names) - 1


class _Frames:
    """Location id -> its frames (innermost first), memoised."""

    def __init__(self, raw: _Raw, options: FoldOptions) -> None:
        self.raw = raw
        self.options = options
        self.memo: dict[int, list[str]] = {}

    def __call__(self, location: int) -> list[str]:
        got = self.memo.get(location)
        if got is None:
            got = self.memo[location] = self._frames(location)
        return got

    def _frames(self, location: int) -> list[str]:
        functions, mapping = self.raw.locations.get(location, ([], 0))
        names = [_tidy(_string(self.raw, self.raw.functions.get(f, 0))) or bf.UNKNOWN for f in functions]
        if not names:
            file = _string(self.raw, self.raw.mappings.get(mapping, 0)) if mapping in self.raw.mappings else ""
            names = [f"[{os.path.basename(file)}]" if file else bf.UNKNOWN]
        if self.options.inline:
            names = [n + bf.INLINE_SUFFIX for n in names[:-1]] + names[-1:]
        return names


def _tidy(name: str) -> str:
    return name.replace(";", ":").replace("\n", " ")


#: Wire type of each field of the Profile message (13, `comment`, may be packed or not).
_WIRE = {1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 7: VARINT, 8: VARINT, 9: VARINT, 10: VARINT, 11: LEN, 12: VARINT, 13: None, 14: VARINT}


def sniff(head: bytes) -> bool | None:
    """True when the input starts like an uncompressed profile.proto: every field in its first
    4 KiB is a Profile field of the right wire type, and a well-formed sample type is among them
    (Go writes `time_nanos` first, others the sample types)."""
    sample_type = False
    try:
        for number, wire, value in fields(head[:4096]):
            if number not in _WIRE or _WIRE[number] not in (None, wire):
                return False
            if number == _SAMPLE_TYPE:
                assert isinstance(value, bytes)
                if any(n not in (1, 2) or w != VARINT for n, w, _ in fields(value)):
                    return False
                sample_type = True
    except ProtoError:
        pass  # the head cuts a field short (or this is not protobuf: then no sample type was seen)
    return sample_type


def fold(source: Source, options: FoldOptions) -> Profile:
    """Every sample under its stack, weighted by the chosen sample type: by the native core
    (`_native.fold_pprof`, prost) when it is in use, else by `fold_python`, its twin."""
    core = native_core()
    if core is None:
        return fold_python(source, options)
    data = source.read_all()
    wanted = options.sample_type.encode("utf-8", "surrogateescape") if options.sample_type else None
    try:
        types, index, samples, ints, counts, ints_before = core.fold_pprof(data, wanted, options.inline)
    except ValueError as exc:
        raise InputError(f"{source.name}: not a well-formed pprof profile ({exc})") from None
    names = [f"{t}/{u}" for t, u in types]
    if index is None:
        if not types:
            raise InputError(f"{source.name}: a pprof profile without sample types")
        raise UsageError(f"{source.name}: no sample type {options.sample_type!r}; this profile has {', '.join(names)}")
    sample_type, unit = types[index]
    weights: dict[str, Weight] = ints  # type: ignore[assignment]  # (dict is invariant; int is a Weight)
    before: dict[str, Weight] = ints_before  # type: ignore[assignment]
    return _profile(source.name, names, sample_type, unit, samples, weights, counts, before)


def fold_python(source: Source, options: FoldOptions) -> Profile:
    """`fold` in pure Python (`foldkit.ingest.proto`): the reference the native reader is tested
    against, and the reader when the native core is not in use."""
    data = source.read_all()
    try:
        raw = _message(data)
        index = _choose(raw, options.sample_type, source.name)
        count_index = next(
            (i for i, (t, u) in enumerate(raw.sample_types) if i != index and _string(raw, u) == "count" and _string(raw, t) == "samples"),
            None,
        )
        frames = _Frames(raw, options)
        weights: dict[str, Weight] = {}
        counts: dict[str, int] | None = {} if count_index is not None else None
        stack_of: dict[tuple[int, ...], str] = {}
        before: dict[str, Weight] = {}
        for sample in raw.samples:
            locations: list[int] = []
            values: list[int] = []
            base = False
            for n, _, v in fields(sample):
                if n == 1:
                    locations.extend(packed(v))
                elif n == 2:
                    values.extend(packed(v))
                elif n == 3 and isinstance(v, bytes):
                    label = {k: x for k, _, x in fields(v) if isinstance(x, int)}
                    base = base or (_string(raw, label.get(1, 0)), _string(raw, label.get(2, 0))) == DIFF_BASE_LABEL
            if index >= len(values):
                continue
            w = signed(values[index])
            c = signed(values[count_index]) if count_index is not None and count_index < len(values) else 0
            if not w and not c:
                continue
            key = tuple(locations)
            stack = stack_of.get(key)
            if stack is None:
                names = [name for loc in locations for name in frames(loc)]
                names.reverse()
                stack = stack_of[key] = ";".join(names) or bf.NO_STACK
            if base:  # pprof's -diff_base form: BEFORE's samples, negated
                before[stack] = before.get(stack, 0) - w
                continue
            weights[stack] = weights.get(stack, 0) + w
            if counts is not None:
                counts[stack] = counts.get(stack, 0) + c
        type_name, unit_name = raw.sample_types[index]
        sample_type = _string(raw, type_name)
        unit = _string(raw, unit_name)
    except ProtoError as exc:
        raise InputError(f"{source.name}: not a well-formed pprof profile ({exc})") from None
    return _profile(source.name, sample_type_names(raw), sample_type, unit, len(raw.samples), weights, counts, before)


def _profile(
    name: str,
    type_names: list[str],
    sample_type: str,
    unit: str,
    samples: int,
    weights: dict[str, Weight],
    counts: dict[str, int] | None,
    before: dict[str, Weight],
) -> Profile:
    """The Profile of folded pprof samples (`type_names`: every sample type as `type/unit`;
    `before`: the samples labelled `pprof::base`, negated back, the BEFORE side of a diff)."""
    counted = (sample_type, unit) == ("samples", "count")
    if counted and counts is None:  # the weights are the sample counts
        counts = {s: int(w) for s, w in weights.items()}
    diag = Diagnostics()
    diag.notes.append(
        f"{name}: pprof sample types {', '.join(type_names)}; folded {sample_type}/{unit}"
        f" ({samples:,} samples, {len(weights):,} stacks)"
    )
    if before:
        diag.notes.append(f"{name}: pprof -diff_base form: {len(before):,} stacks labelled pprof::base read as BEFORE")
    return Profile(
        weights=weights,
        counts=counts,
        unit=UNITS.get(unit, unit or "samples"),
        event=None if counted else sample_type or None,
        diagnostics=diag,
        meta={ROOT_FRAMES: ()},
        before=before or None,
    )
