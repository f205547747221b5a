"""`--demangle` for inputs folded without it (bpftrace, BCC, folded text): each distinct frame of
the folded profile is demangled once, with the native core's demanglers and the argument-list
rules perf names get (perf captures are demangled as their frame lines are named)."""

from __future__ import annotations

import re

from foldkit.ingest.perf_frames import cut_arguments, demangle
from foldkit.profile import ROOT_FRAMES, Profile, map_stacks

#: An annotation foldkit appends to a frame (kernel, JIT, inlined); kept across demangling.
_ANNOTATION = re.compile(r"_\[[kji]\]$")
#: Frames that may be mangled or half demangled: anything else is left as it is.
_MANGLED = re.compile(r"^_?_[ZR]|\$|::h[0-9a-f]{16}")


def demangle_frame(frame: str) -> str:
    """One folded frame demangled (`_ZN4work3runEi` -> `work::run`), annotations kept."""
    if not _MANGLED.search(frame):
        return frame
    m = _ANNOTATION.search(frame)
    base, suffix = (frame[: m.start()], m.group()) if m else (frame, "")
    name = demangle(base)
    if name == base:
        return frame
    name = cut_arguments(name.replace(";", ":")).replace('"', "").replace("'", "")
    return name + suffix


def demangle_profile(profile: Profile) -> Profile:
    """The profile with every frame demangled (root frames such as comm or PID left alone);
    stacks that become equal are merged."""
    roots = len(profile.meta.get(ROOT_FRAMES, ()))
    names: dict[str, str] = {}

    def renamed(stack: str) -> str:
        frames = stack.split(";")
        for i in range(roots, len(frames)):
            frame = frames[i]
            new = names.get(frame)
            if new is None:
                new = names[frame] = demangle_frame(frame)
            frames[i] = new
        return ";".join(frames)

    mapping = {stack: renamed(stack) for stack in profile.weights}
    if all(old == new for old, new in mapping.items()):
        return profile
    return map_stacks(profile, mapping.__getitem__)


__all__ = ["demangle_frame", "demangle_profile"]
