"""Which shared object each frame came from, for `foldkit top --by dso`.

Folded stacks keep only function names. A folder that knows the dso of each frame may record it in
`Profile.meta["frame_dso"]` (frame name -> dso); for `perf script` text this module recovers it by
reading the capture's frame lines once more and naming them exactly as the perf folder does.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

from foldkit.analysis.defaults import DSO_META_KEY
from foldkit.ingest import FoldOptions, fold_source
from foldkit.ingest import perf as perf_format
from foldkit.ingest.perf_frames import FrameNamer, parse_frame_line
from foldkit.inputs import InputSpec, open_source, rereadable
from foldkit.profile import Profile, merge_profiles

#: Key of `Profile.meta` holding frame name -> dso.
META_KEY = DSO_META_KEY


def _dso_name(dso: str) -> str:
    return dso if dso.startswith("[") else dso.rsplit("/", 1)[-1]


def perf_frame_dsos(data: bytes | Iterable[bytes], options: FoldOptions) -> dict[str, str]:
    """Frame name (as the perf folder writes it under `options`) -> dso basename, from `perf
    script` text. An inlined frame (printed `(inlined)`) belongs to the dso of the next real
    frame below it. Each distinct line is parsed once. A name found in several dsos (`_start` is
    in the program and in the dynamic loader) gets the one it was seen in most often."""
    chunks = [data] if isinstance(data, bytes) else data
    namer = FrameNamer(options)
    parsed: dict[bytes, tuple[list[str], str | None] | None] = {}
    seen: dict[str, Counter[str]] = {}
    pending: list[str] = []
    for chunk in chunks:
        for line in chunk.split(b"\n"):
            if line[:1] not in (b"\t", b" "):
                pending.clear()
                continue
            got: tuple[list[str], str | None] | Literal[False] | None = parsed.get(line, False)
            if got is False:
                got = parsed[line] = _parse(line, namer)
            if got is None:
                continue
            names, dso = got
            if dso is None:
                pending.extend(names)
                continue
            for name in (*pending, *names):
                tally = seen.get(name)
                if tally is None:
                    tally = seen[name] = Counter()
                tally[dso] += 1
            pending.clear()
    return {name: tally.most_common(1)[0][0] for name, tally in seen.items()}


def _parse(line: bytes, namer: FrameNamer) -> tuple[list[str], str | None] | None:
    """A frame line's names (both Java and plain spellings) and dso (None when inlined)."""
    frame = parse_frame_line(line.decode("utf-8", "surrogateescape").rstrip("\r"))
    if frame is None or frame.dso is None or frame.dso == "[unknown]":
        return None
    names = list(dict.fromkeys([*namer.tidy(frame, False), *namer.tidy(frame, True)]))
    return names, None if frame.dso == "inlined" else _dso_name(frame.dso)


@contextlib.contextmanager
def _replayable(spec: InputSpec) -> Iterator[InputSpec]:
    """`spec` in a form that can be read twice: standard input, a FIFO or a device is copied to a
    temporary file as it is read (memory stays bounded), files, URLs and bytes are given back as
    they are."""
    if rereadable(spec):
        yield spec
        return
    source = open_source(spec)
    try:
        with tempfile.NamedTemporaryFile(prefix="foldkit-stdin-") as tmp:
            for chunk in source.chunks(cut=len):
                tmp.write(chunk)
            tmp.flush()
            yield tmp.name
    finally:
        source.close()


def _read_twice(spec: InputSpec, options: FoldOptions) -> tuple[Profile, dict[str, str]]:
    """The profile of one input, and frame -> dso from its perf frame lines (if it is perf)."""
    with _replayable(spec) as replay:
        source = open_source(replay)
        if not isinstance(spec, bytes):
            source.name = "<stdin>" if str(spec) == "-" else str(spec)
        try:
            profile = fold_source(source, options)
        finally:
            source.close()
        if profile.format != perf_format.NAME:
            return profile, {}
        again = open_source(replay)
        try:
            return profile, perf_frame_dsos(again.chunks(), options)
        finally:
            again.close()


def read_with_dsos(inputs: Sequence[InputSpec], options: FoldOptions) -> Profile:
    """Read and merge `inputs` like `foldkit.ingest.read`, recording frame -> dso in the profile's
    meta for perf inputs (a folder's own `frame_dso` is kept and takes precedence)."""
    profiles: list[Profile] = []
    dsos: dict[str, str] = {}
    for spec in inputs:
        profile, found = _read_twice(spec, options)
        for name, dso in found.items():
            dsos.setdefault(name, dso)
        profiles.append(profile)
    own: list[dict[str, str]] = [p.meta.get(META_KEY) or {} for p in profiles]
    merged = merge_profiles(profiles)
    for table in own:
        dsos.update(table)
    merged.meta = {**merged.meta, META_KEY: dsos}
    return merged
