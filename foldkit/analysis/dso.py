"""Which shared object each frame came from, for `foldkit top --by dso`.

Folded stacks keep only function names. A folder that knows the dso of each frame may record it in
`Profile.meta["frame_dso"]` (frame name -> dso); for `perf script` text this module recovers it by
reading the capture's frame lines once more and naming them exactly as the perf folder does.
"""

from __future__ import annotations

from collections.abc import Sequence

from foldkit.ingest import FoldOptions, detect, fold_source
from foldkit.ingest import perf as perf_format
from foldkit.ingest.perf_frames import FrameNamer, parse_frame_line
from foldkit.inputs import InputSpec, open_source
from foldkit.profile import Profile, merge_profiles

#: Key of `Profile.meta` holding frame name -> dso.
META_KEY = "frame_dso"


def _dso_name(dso: str) -> str:
    return dso if dso.startswith("[") else dso.rsplit("/", 1)[-1]


def perf_frame_dsos(data: bytes | Sequence[bytes], options: FoldOptions) -> dict[str, str]:
    """Frame name (as the perf folder writes it under `options`) -> dso basename, from `perf
    script` text. Each distinct frame line is parsed once; the first dso seen for a name wins."""
    chunks = [data] if isinstance(data, bytes) else data
    namer = FrameNamer(options)
    seen: set[bytes] = set()
    out: dict[str, str] = {}
    for chunk in chunks:
        for line in set(chunk.split(b"\n")) - seen:
            seen.add(line)
            if line[:1] not in (b"\t", b" "):
                continue
            frame = parse_frame_line(line.decode("utf-8", "surrogateescape").rstrip("\r"))
            if frame is None or not frame.dso or frame.dso in ("inlined", "[unknown]"):
                continue
            dso = _dso_name(frame.dso)
            for java in (False, True):
                for name in namer.tidy(frame, java):
                    out.setdefault(name, dso)
    return out


def read_with_dsos(inputs: Sequence[InputSpec], options: FoldOptions) -> Profile:
    """Read and merge `inputs` like `foldkit.ingest.read`, recording frame -> dso in the profile's
    meta for perf inputs (a folder's own `frame_dso` is kept and takes precedence)."""
    profiles: list[Profile] = []
    dsos: dict[str, str] = {}
    for spec in inputs:
        source = open_source(spec)
        try:
            data = source.read_all()
        finally:
            source.close()
        source = open_source(data)
        if not isinstance(spec, bytes):
            source.name = "<stdin>" if str(spec) == "-" else str(spec)
        try:
            profile = fold_source(source, options)
        finally:
            source.close()
        if options.format == perf_format.NAME or (
            options.format == "auto" and detect(open_source(data)) is perf_format
        ):
            for name, dso in perf_frame_dsos(data, options).items():
                dsos.setdefault(name, dso)
        profiles.append(profile)
    own: list[dict[str, str]] = [p.meta.get(META_KEY) or {} for p in profiles]
    merged = merge_profiles(profiles)
    for table in own:
        dsos.update(table)
    merged.meta = {**merged.meta, META_KEY: dsos}
    return merged
