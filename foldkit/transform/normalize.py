"""Symbol normalisation, so that profiles of two builds (or two runs of a JIT) line up in a diff.

A rebuild changes names that mean the same code: Rust's legacy mangling hash (`::h0123…`), compiler
clone suffixes (`.constprop.0`, `.isra.0`, `.llvm.1234`), addresses and offsets, the PID in JIT map
names (`[perf-4242.map]`), V8's tier markers and line numbers (`LazyCompile:~fn file.js:12`), BPF
program tags. `normalize_symbols` rewrites each frame to a stable form and merges the stacks that
become equal; it is a pure `(profile, options) -> profile` transform.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from foldkit.lazy import regex
from foldkit.profile import Profile, Weight
from foldkit.timeline import Timeline

#: The name every unresolved frame gets.
UNKNOWN = "[unknown]"


@dataclass(frozen=True)
class NormalizeOptions:
    """Which families of names to normalise (all on by default)."""

    rust_hash: bool = True  # `core::fmt::write::h1a2b3c4d5e6f7a8b` -> `core::fmt::write`
    clones: bool = True  # `foo.constprop.0`, `foo.isra.0.cold`, `foo.llvm.123` -> `foo`
    addresses: bool = True  # `+0x1f` offsets dropped, `0x7f12…` -> `0x...`, `[lib.so <7f12…>]` -> `[lib.so]`
    unknown: bool = True  # `unknown`, `[unknown] ([unknown])`, bare hex frames -> `[unknown]`
    jit: bool = True  # V8 `LazyCompile:~fn file:1:2` -> `fn file`; `[perf-42.map]` -> `[perf-PID.map]`


DEFAULT_NORMALIZE = NormalizeOptions()

_ANNOTATION = regex(globals(), "_ANNOTATION", r"_\[[kji]\]$")
_RUST_HASH = regex(globals(), "_RUST_HASH", r"::h[0-9a-f]{16}(?=$|::\{\{closure\}\})")
_CLONE = regex(globals(), "_CLONE", r"(?:\.(?:constprop|isra|part|lto_priv|clone|llvm)\.\d+)+(?:\.cold(?:\.\d+)?)?$")
_COLD_ONLY = regex(globals(), "_COLD_ONLY", r"^([A-Za-z_][A-Za-z0-9_]*)\.cold(?:\.\d+)?$")
_OFFSET = regex(globals(), "_OFFSET", r"\+0x[0-9a-fA-F]+$")
_ADDR_IN_BRACKETS = regex(globals(), "_ADDR_IN_BRACKETS", r"^\[(.+?) <(?:0x)?[0-9a-fA-F]+>\]$")
_HEX = regex(globals(), "_HEX", r"0x[0-9a-fA-F]+")
_BARE_HEX = regex(globals(), "_BARE_HEX", r"^(?:0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{12,16})$")
_UNKNOWN_FORMS = regex(globals(), "_UNKNOWN_FORMS", r"^\[?unknown\]?(?: \(\[?unknown\]?\))?$", re.IGNORECASE)
_PERF_MAP = regex(globals(), "_PERF_MAP", r"perf-\d+\.map")
_JITTED = regex(globals(), "_JITTED", r"jitted-\d+-\d+\.so")
_BPF_PROG = regex(globals(), "_BPF_PROG", r"^bpf_prog_[0-9a-f]{16}_")
_JAVA_LAMBDA = regex(globals(), "_JAVA_LAMBDA", r"\$\$Lambda\$\d+(?:/0x[0-9a-fA-F]+)?")
#: V8/Node perf-map entry kinds that name JavaScript functions; the marker after the colon is the
#: tier (`~` interpreted, `^` baseline, `+` Maglev, `*` optimised), which changes as code warms up.
_V8_FUNCTION = regex(
    globals(),
    "_V8_FUNCTION",
    r"^(?:LazyCompile|Function|JS|InterpretedFunction|Script|Eval):[~^+*]?(?P<name>[^ ]*)(?: (?P<script>.*?))?$"
)
_LINE_COL = regex(globals(), "_LINE_COL", r"(?::\d+){1,2}$")


def normalize_frame(name: str, options: NormalizeOptions = DEFAULT_NORMALIZE) -> str:
    """One frame name in its build-independent form (annotations such as `_[k]` are kept)."""
    ann = _ANNOTATION.search(name)
    suffix = ""
    if ann:
        suffix = ann.group(0)
        name = name[: ann.start()]
    stripped = name.strip()
    if options.unknown and (_UNKNOWN_FORMS.match(stripped) or _BARE_HEX.match(stripped) or not stripped):
        return UNKNOWN + suffix
    if options.jit:
        v8 = _V8_FUNCTION.match(name)
        if v8:
            func = v8.group("name") or "(anonymous)"
            script = v8.group("script")
            name = f"{func} {_LINE_COL.sub('', script)}" if script else func
        name = _PERF_MAP.sub("perf-PID.map", name)
        name = _JITTED.sub("jitted-PID.so", name)
        name = _BPF_PROG.sub("bpf_prog_", name)
        name = _JAVA_LAMBDA.sub("$$Lambda", name)
    if options.addresses:
        name = _OFFSET.sub("", name)
        m = _ADDR_IN_BRACKETS.match(name)
        if m:
            name = f"[{m.group(1)}]"
        name = _HEX.sub("0x...", name)
    if options.rust_hash:
        name = _RUST_HASH.sub("", name)
    if options.clones:
        name = _CLONE.sub("", name)
        name = _COLD_ONLY.sub(r"\1", name)
    return name + suffix


def _merge(mapping: dict[str, str], values: dict[str, Weight]) -> dict[str, Weight]:
    out: dict[str, Weight] = {}
    for stack, w in values.items():
        key = mapping[stack]
        out[key] = out.get(key, 0) + w
    return out


def _apply(profile: Profile, stack_name: dict[str, str]) -> Profile:
    """`profile` with every stack renamed by `stack_name`, merging stacks that become equal."""
    weights = _merge(stack_name, profile.weights)
    counts = None if profile.counts is None else _merge(stack_name, profile.counts)  # type: ignore[arg-type]
    timeline: Sequence[tuple[float, str, Weight]] | None = None
    if isinstance(profile.timeline, Timeline):  # each distinct stack once, the samples as arrays
        timeline = profile.timeline.map_stacks([stack_name.get(s, s) for s in profile.timeline.stacks])
    elif profile.timeline is not None:
        timeline = [(t, stack_name.get(s, s), w) for t, s, w in profile.timeline]
    before: dict[str, Weight] | None = None
    if profile.before is not None:
        before = {}
        for s, w in profile.before.items():
            key = stack_name.get(s, s)
            before[key] = before.get(key, 0) + w
    return replace(profile, weights=weights, counts=counts, timeline=timeline, before=before)  # type: ignore[arg-type]


def normalize_symbols(profile: Profile, options: NormalizeOptions | None = None) -> Profile:
    """`profile` with every frame normalised (see `NormalizeOptions`); stacks that become equal
    are merged, weights and sample counts summed. The input is not modified."""
    opts = options or DEFAULT_NORMALIZE
    cache: dict[str, str] = {}
    stack_name: dict[str, str] = {}
    for stack in profile.weights.keys() | (profile.counts or {}).keys():
        frames = stack.split(";")
        out = []
        for f in frames:
            g = cache.get(f)
            if g is None:
                g = cache[f] = normalize_frame(f, opts)
            out.append(g)
        stack_name[stack] = ";".join(out)
    return _apply(profile, stack_name)


def strip_hex(profile: Profile) -> Profile:
    """`profile` with every hex number `0x…` in frame names written `0x...` (`difffolded.pl -s`)."""
    stack_name = {s: _HEX.sub("0x...", s) for s in profile.weights.keys() | (profile.counts or {}).keys()}
    return _apply(profile, stack_name)
