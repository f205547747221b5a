"""`--normalize-symbols`: make frame names comparable across builds and runs.

A rebuild changes things in frame names that are not the code: Rust's legacy symbol hashes
(`core::fmt::write::h8a2f3c0e5d1b7a96`), GCC clone suffixes (`.isra.0`, `.constprop.1`, `[clone
.cold]`), shared-library versions (`[liblzma.so.5.4.1]`), addresses of unresolved frames and the
many spellings of "unknown", and JIT names that carry a compilation tier and a source position
(`LazyCompile:~handle server.js:42`, `JS:*regexPhase /srv/work.js:24:20`). Without removing them a
diff shows everything as new. Annotations (`_[k]`, `_[j]`, `_[i]`) are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from foldkit.profile import Profile
from foldkit.transform.base import SEP, map_stacks

UNKNOWN = "[unknown]"

_ANNOTATION = re.compile(r"_\[[kjiw]\]$")
_RUST_HASH = re.compile(r"::h[0-9a-f]{16}(?=$|\+)")
_OFFSET = re.compile(r"\+(?:0x[0-9a-fA-F]+|\d+)$")
_GCC_CLONE = re.compile(r"(?: \[clone \.[A-Za-z_]+(?:\.\d+)?\])+|(?:\.(?:isra|constprop|part|lto_priv|cold|localalias)(?:\.\d+)?)+(?=$|[ (])")
_SO_VERSION = re.compile(r"(\.so)(?:\.\d+)+(?=\]|$| |\))")
_ADDR_IN_DSO = re.compile(r"^\[(.+?) <(?:0x)?[0-9a-fA-F]+>\]$")
_BARE_ADDR = re.compile(
    r"^(?:0x[0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{6,})(?: 0x[0-9a-fA-F]+)?(?: \(\[unknown\]\))?$"
)
_UNKNOWNS = re.compile(
    r"^(?:\[?unknown\]?(?: \(\[unknown\]\))?|\[Unknown\]|<unknown>|\[Missed (?:User|Kernel) Stack\]|<unwind failure>|\?\?)$",
    re.IGNORECASE,
)
_V8 = re.compile(
    r"^(?:LazyCompile|Function|InterpretedFunction|Script|JS|Baseline|Sparkplug|Maglev|Turbofan|Turboprop):"
    r"[~*^+]?(?P<name>[^ ]*)(?: (?P<file>.*?))?(?::\d+)*$"
)


@dataclass(frozen=True)
class NormalizeSymbols:
    """Normalise build-specific parts of frame names (no settings: one well-defined set of rules)."""


def normalize_name(frame: str) -> str:
    """One frame name without build- and run-specific details (see the module docstring)."""
    m = _ANNOTATION.search(frame)
    suffix = m.group(0) if m else ""
    name = frame[: m.start()] if m else frame
    name = _OFFSET.sub("", name)
    if _UNKNOWNS.match(name) or _BARE_ADDR.match(name):
        return UNKNOWN + suffix
    addr = _ADDR_IN_DSO.match(name)
    if addr:
        name = f"[{addr.group(1)}]"
    v8 = _V8.match(name)
    if v8 and v8.group("name"):
        name = f"JS:{v8.group('name')}" + (f" {v8.group('file')}" if v8.group("file") else "")
    elif v8:  # an anonymous function: its position is all that tells it apart
        name = "JS:(anonymous) " + name.split(" ", 1)[-1] if " " in name else name
    name = _RUST_HASH.sub("", name)
    name = _GCC_CLONE.sub("", name)
    name = _SO_VERSION.sub(r"\1", name)
    return (name or UNKNOWN) + suffix


def normalize_symbols(profile: Profile, options: NormalizeSymbols | None = None) -> Profile:
    """Every frame name normalised; runs of `[unknown]` frames become one; equal stacks merge."""
    memo: dict[str, str] = {}

    def rewrite(stack: str) -> str:
        out: list[str] = []
        for frame in stack.split(SEP):
            new = memo.get(frame)
            if new is None:
                new = memo[frame] = normalize_name(frame)
            if not (out and new == out[-1] and new.startswith(UNKNOWN)):
                out.append(new)
        return SEP.join(out)

    return map_stacks(profile, rewrite)
