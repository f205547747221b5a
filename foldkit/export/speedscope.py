"""speedscope's file format (https://www.speedscope.app/file-format-schema.json): one sampled
profile, in time order when the profile kept its timeline, else one sample per distinct stack."""

from __future__ import annotations

import json
import os
from array import array

from foldkit import __version__
from foldkit.native import native_core
from foldkit.profile import Profile, Weight
from foldkit.text import utf8_safe
from foldkit.timeline import Timeline

SCHEMA = "https://www.speedscope.app/file-format-schema.json"

#: foldkit unit names -> speedscope's value units (anything else is "none": plain counts).
UNITS = {
    "ns": "nanoseconds",
    "nanoseconds": "nanoseconds",
    "us": "microseconds",
    "µs": "microseconds",
    "microseconds": "microseconds",
    "ms": "milliseconds",
    "milliseconds": "milliseconds",
    "s": "seconds",
    "seconds": "seconds",
    "bytes": "bytes",
}


def _name(profile: Profile) -> str:
    name = ", ".join(os.path.basename(s) or s for s in profile.sources) or "foldkit profile"
    return f"{name} ({profile.event})" if profile.event else name


def speedscope_document(profile: Profile) -> dict[str, object]:
    """The speedscope file contents as a JSON-ready dict."""
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}
    stack_ids: dict[str, list[int]] = {}

    def ids(stack: str) -> list[int]:
        got = stack_ids.get(stack)
        if got is None:
            got = []
            for frame in stack.split(";"):
                i = index.get(frame)
                if i is None:
                    i = index[frame] = len(frames)
                    frames.append({"name": utf8_safe(frame)})
                got.append(i)
            stack_ids[stack] = got
        return got

    samples: list[list[int]] = []
    weights: list[Weight] = []
    if profile.timeline is not None:
        for _, stack, w in sorted(profile.timeline, key=lambda t: t[0]):
            samples.append(ids(stack))
            weights.append(w)
    else:
        for stack, w in profile.items():
            samples.append(ids(stack))
            weights.append(w)
    name = _name(profile)
    return {
        "$schema": SCHEMA,
        "exporter": f"foldkit {__version__}",
        "name": utf8_safe(name),
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": utf8_safe(name),
                "unit": UNITS.get(profile.unit, "none"),
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
    }


#: Stands for an array the native core writes (json.dumps writes it as `"\u0000NAME\u0000"`, which
#: no other string of the document can be: names from file names hold no NUL).
_SLOT = "\0{}\0"


def _native_parts(profile: Profile) -> tuple[bytes, bytes, bytes, int] | None:
    """The frames, samples and weights arrays (JSON text) and endValue of a profile with a
    timeline of int64 weights, from the native core; None when it is not in use or declines."""
    timeline = profile.timeline
    core = native_core()
    if core is None or not isinstance(timeline, Timeline) or not isinstance(timeline.weights, array):
        return None
    return core.timeline_speedscope(timeline.stacks, timeline.times.tobytes(), timeline.ids.tobytes(), timeline.weights.tobytes())


def to_speedscope_bytes(profile: Profile) -> bytes:
    """The profile as a speedscope JSON file (the samples of a timeline written by the native core,
    byte for byte as `speedscope_document` and `json.dumps` write them)."""
    parts = _native_parts(profile)
    if parts is None:
        return json.dumps(speedscope_document(profile), separators=(",", ":")).encode("utf-8")
    frames, samples, weights, end = parts
    doc = speedscope_document(Profile(unit=profile.unit, event=profile.event, sources=profile.sources))
    doc["shared"] = {"frames": _SLOT.format("frames")}
    sampled = doc["profiles"][0]  # type: ignore[index]
    sampled.update(endValue=end, samples=_SLOT.format("samples"), weights=_SLOT.format("weights"))
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    for name, value in (("frames", frames), ("samples", samples), ("weights", weights)):
        text = text.replace(json.dumps(_SLOT.format(name)).encode(), value, 1)
    return text
