"""Frame colours: a pure function of the frame name, so the same input gives a byte-identical SVG
and a function has the same colour in every graph.

Two kinds of palette:

* hue palettes (`red green blue aqua yellow purple orange`, and the two-dimensional `hot mem io`)
  vary one shade with a hash of the name;
* semantic palettes pick a hue from what the name says, then a shade from its hash:
  `default` (perf flame graphs in general), `java`, `js`, `perl`, `python`, `rust`, `wakeup`.

The `default` palette reads the annotations `foldkit fold --all` and stackcollapse-perf.pl add
(`_[k]` kernel → orange, `_[j]` JIT → green, `_[i]` inlined → aqua, `_[w]` waker → aqua) and, for
unannotated names, heuristics: Java/JavaScript/JIT names → green, kernel entry points → orange,
C++ (`::`) → yellow, off-CPU time (`[off-cpu:S]`, from `fold --off-cpu`/`--wall`) → blue,
everything else (user-level code) → red.

The shade is a hash of the name without its annotation, so `read` is the same shade of red in
every graph. By default the hash spreads all names evenly; `hash_start=True` (flamegraph.pl's
`--hash`) weighs the first characters most, so similar names get similar shades.

`diff_color(delta, max_delta, negate)` is the differential colouring (red grew, blue shrank) that
`foldkit diff` uses; `load_palette_map`/`save_palette_map` read and write flamegraph.pl's
`palette.map` (`name->rgb(r,g,b)` lines) for `--cp`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable

from foldkit.errors import InputError
from foldkit.lazy import regex
from foldkit.outputs import atomic_writer
from foldkit.render import backgrounds
from foldkit.render.backgrounds import BACKGROUNDS as BACKGROUNDS  # options.py validates with it
from foldkit.text import ANNOTATION, OFF_CPU_PREFIX

TYPE_CHECKING = False
if TYPE_CHECKING:
    import random  # imported on use: only --random needs it

try:  # hashlib's blake2b itself, without hashlib loading OpenSSL (milliseconds of every start-up)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without the module
    from hashlib import blake2b

#: Hue palettes: per channel (base, span, which hash value), value = base + int(span * v[i]).
#: The ranges are flamegraph.pl's, so pictures look as users expect.
_HUES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "red": ((200, 55, 0), (50, 80, 0), (50, 80, 0)),
    "green": ((50, 60, 0), (200, 55, 0), (50, 60, 0)),
    "blue": ((80, 60, 0), (80, 60, 0), (205, 50, 0)),
    "aqua": ((50, 60, 0), (165, 55, 0), (165, 55, 0)),
    "yellow": ((175, 55, 0), (175, 55, 0), (50, 20, 0)),
    "purple": ((190, 65, 0), (80, 60, 0), (190, 65, 0)),
    "orange": ((190, 65, 0), (90, 65, 0), (0, 0, 0)),
    "hot": ((205, 50, 2), (0, 230, 0), (0, 55, 1)),
    "mem": ((0, 0, 0), (190, 50, 1), (0, 210, 0)),
    "io": ((80, 60, 0), (80, 60, 0), (190, 55, 1)),
}

#: Names of Java, JavaScript and JIT-compiled code: what they start with, what they contain.
_JAVA_START = r"L?(?:java|javax|jdk|net|org|com|io|sun)[/.]|[\w$.\[\]<>]+ [\w$]+(?:\.[\w$<>]+)+$|(?:Interpreter|StubRoutines)\b"
_JAVA_ANYWHERE = r":::"
_JS_START = r"(?:JS|LazyCompile|Function|Builtin|BytecodeHandler|Script|RegExp|Eval):"
_JS_ANYWHERE = r"\.js:\d|\.m?js$"
_JIT_ANYWHERE = r"\[perf-\d+\.map|\bjitted-\d+-\d+\.so|\[JIT\]"
_JAVA = regex(globals(), "_JAVA", rf"^(?:{_JAVA_START})|{_JAVA_ANYWHERE}")
_JS = regex(globals(), "_JS", rf"^{_JS_START}|{_JS_ANYWHERE}")
#: Any of the three in two steps, three times faster than one search of all: a match at the start,
#: then a search of the names that `_might_be_jit`.
_ANY_JIT_START = regex(globals(), "_ANY_JIT_START", f"{_JAVA_START}|{_JS_START}")
_ANY_JIT_ANYWHERE = regex(globals(), "_ANY_JIT_ANYWHERE", f"{_JAVA_ANYWHERE}|{_JS_ANYWHERE}|{_JIT_ANYWHERE}")


def _might_be_jit(name: str) -> bool:
    """Whether `name` holds the literal part of some `_ANY_JIT_ANYWHERE` alternative (none matches without)."""
    return ":::" in name or "js" in name or "[perf-" in name or "jitted-" in name or "[JIT]" in name


#: Kernel frames: perf's kernel module name anywhere, or an entry point's name.
_KERNEL_MODULE = "[kernel.kallsyms]"
_KERNEL_START = regex(globals(), "_KERNEL_START", r"entry_SYSCALL|do_syscall_|__x64_sys_|__arm64_sys_|__do_sys_|asm_(?:exc|sysvec|common)_|ret_from_fork")
_PYTHON_CODE = regex(globals(), "_PYTHON_CODE", r"\.py\b|^<module>|^py::|^\(?(?:[\w.]+)\)? \(.*\.py")
_PYTHON_VM = regex(globals(), "_PYTHON_VM", r"^_?Py|^_PyEval|^cfunction_|^method_vectorcall|^slot_tp_")
_RUST_STD = regex(globals(), "_RUST_STD", r"^<?(?:core|std|alloc)::")


def _default(name: str) -> str:
    if name.endswith("]") and ANNOTATION.search(name):
        return {"k": "orange", "j": "green", "i": "aqua", "w": "aqua"}[name[-2]]
    if name.startswith(OFF_CPU_PREFIX):
        return "blue"
    if _ANY_JIT_START.match(name) or (_might_be_jit(name) and _ANY_JIT_ANYWHERE.search(name)):
        return "green"
    if _KERNEL_MODULE in name or _KERNEL_START.match(name):
        return "orange"
    if name.startswith("py::"):  # CPython 3.12+ -X perf: Python code, like other JIT'd code
        return "green"
    if "::" in name:
        return "yellow"
    return "red"


def _java(name: str) -> str:
    if name.endswith("_[j]"):
        return "green"
    if name.endswith("_[i]"):
        return "aqua"
    if _JAVA.search(name):
        return "green"
    if name.endswith("_[k]"):
        return "orange"
    if "::" in name:
        return "yellow"
    return "red"


def _js(name: str) -> str:
    if name.endswith("_[j]"):
        return "green" if "/" in name else "aqua"
    if "::" in name:
        return "yellow"
    if re.search(r"/.*\.js", name) or _JS.search(name):
        return "green"
    if ":" in name:
        return "aqua"
    if name == " ":
        return "green"
    if name.endswith("_[k]"):
        return "orange"
    return "red"


def _perl(name: str) -> str:
    if "::" in name:
        return "yellow"
    if "Perl" in name or ".pl" in name:
        return "green"
    if name.endswith("_[k]"):
        return "orange"
    return "red"


def _python(name: str) -> str:
    if name.endswith("_[k]"):
        return "orange"
    if _PYTHON_CODE.search(name):
        return "green"
    if _PYTHON_VM.search(name):
        return "yellow"
    return "red"


def _rust(name: str) -> str:
    if name.endswith("_[k]"):
        return "orange"
    if _RUST_STD.search(name):
        return "yellow"
    if "::" in name:
        return "green"
    return "red"


#: Semantic palettes: frame name -> hue palette.
_SEMANTIC: dict[str, Callable[[str], str]] = {
    "default": _default,
    "java": _java,
    "js": _js,
    "perl": _perl,
    "python": _python,
    "rust": _rust,
    "wakeup": lambda name: "aqua",
    # flamegraph.pl's off-CPU chain graphs: waker frames (`_[w]`) aqua, the rest blue
    "chain": lambda name: "aqua" if "_[w]" in name else "blue",
}

#: Every palette name `--palette` accepts.
PALETTES: tuple[str, ...] = (*_SEMANTIC, *_HUES)

def background(palette: str, bgcolors: str | None) -> tuple[str, str]:
    """The (top, bottom) background gradient of `palette` (`backgrounds.background`)."""
    return backgrounds.background(palette, bgcolors, palette in _HUES)


def _uniform(name: str) -> tuple[float, float, float]:
    bits = int.from_bytes(blake2b(name.encode("utf-8", "surrogatepass"), digest_size=6).digest(), "big")
    return ((bits >> 32) / 65536, ((bits >> 16) & 0xFFFF) / 65536, (bits & 0xFFFF) / 65536)


#: How many leading characters `hash_start` looks at, and how fast their weight falls; the
#: first character decides most of the shade, so names sharing a prefix look alike.
_START_CHARS = 8
_START_DECAY = 0.7


def _start_weighted(text: str) -> float:
    value = 0.0
    scale = 0.0
    weight = 1.0
    for ch in text[:_START_CHARS]:
        value += (ord(ch) % 10) / 9 * weight
        scale += weight
        weight *= _START_DECAY
    return value / scale if scale else 0.0


def _shades(name: str, hash_start: bool) -> tuple[float, float, float]:
    if hash_start:
        v1 = _start_weighted(name)
        v2 = _start_weighted(name[::-1])
        return v1, v2, v2
    return _uniform(name)


def _rgb(hue: str, v: tuple[float, float, float]) -> str:
    (rb, rs, ri), (gb, gs, gi), (bb, bs, bi) = _HUES[hue]
    return f"rgb({rb + int(rs * v[ri])},{gb + int(gs * v[gi])},{bb + int(bs * v[bi])})"


def frame_color(name: str, palette: str = "default", hash_start: bool = False, rng: random.Random | None = None) -> str:
    """The fill of a frame called `name` (a full name, annotations included); with `rng`, a random
    shade of the palette's hue (flamegraph.pl's `--random`)."""
    semantic = _SEMANTIC.get(palette)
    hue = semantic(name) if semantic is not None else palette
    if rng is not None:
        return _rgb(hue, (rng.random(), rng.random(), rng.random()))
    return _rgb(hue, _shades(ANNOTATION.sub("", name), hash_start))


def colorizer(
    palette: str = "default",
    hash_start: bool = False,
    palette_map: dict[str, str] | None = None,
    randomly: bool = False,
) -> Callable[[str], str]:
    """A cached `name -> fill` function. With `palette_map`, names found there keep their colour and
    new names are added to it (flamegraph.pl's `--cp`); `randomly`: each name a random shade."""
    cache: dict[str, str] = {}
    rng = None
    if randomly:
        import random

        rng = random.Random()

    def color(name: str) -> str:
        fill = cache.get(name)
        if fill is None:
            if palette_map is not None:
                fill = palette_map.get(name)
                if fill is None:
                    fill = palette_map[name] = frame_color(name, palette, hash_start, rng)
            else:
                fill = frame_color(name, palette, hash_start, rng)
            cache[name] = fill
        return fill

    return color


def diff_color(
    delta: float, max_delta: float, negate: bool = False, *, palest: int = 255, to_int: Callable[[float], int] = round
) -> str:
    """Differential fill: white when unchanged, then ever deeper red (grew) or blue (shrank) in
    proportion to `delta / max_delta`. The other two channels go from `palest` down to 0 for the
    largest change (255 and `round`: flamegraph.pl's scale, pure red or blue at the largest
    change; inferno's colour diffusion starts at 210 and truncates). `negate` swaps the hues."""
    if negate:
        delta = -delta
    if delta == 0 or max_delta <= 0:
        return "rgb(255,255,255)"
    pale = to_int(palest * (1.0 - min(abs(delta) / max_delta, 1.0)))
    return f"rgb(255,{pale},{pale})" if delta > 0 else f"rgb({pale},{pale},255)"


#: `diffusion_color`'s scale: inferno maps the square root of a frame's share onto 0..2000.
_DIFFUSION_STEPS = 2000


def diffusion_color(share: float) -> str:
    """inferno's `--colordiffusion` fill for a frame spanning `share` (0..1) of the width: white
    for the narrowest, pure red for the full width (square root, so wide frames stand out)."""
    return diff_color(int(math.sqrt(max(share, 0.0)) * _DIFFUSION_STEPS), _DIFFUSION_STEPS, palest=210, to_int=int)


_MAP_LINE = regex(globals(), "_MAP_LINE", r"(.*)->(rgb\(\d{1,3},\d{1,3},\d{1,3}\)|#[0-9a-fA-F]{6})")


def load_palette_map(path: str | os.PathLike[str], warnings: list[str] | None = None) -> dict[str, str]:
    """Read a `palette.map` (`name->rgb(r,g,b)` per line); a missing file is an empty map. Lines
    that are not map lines are ignored, with one warning for them all added to `warnings` (as
    inferno does)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InputError(f"{path}: cannot read palette map: {exc.strerror}") from None
    mapping: dict[str, str] = {}
    bad: list[int] = []
    for lineno, line in enumerate(raw.decode("utf-8", "surrogateescape").splitlines(), start=1):
        if not line.strip():
            continue
        m = _MAP_LINE.fullmatch(line.rstrip("\r"))
        if m is None:
            bad.append(lineno)
            continue
        mapping[m.group(1)] = m.group(2)
    if bad and warnings is not None:
        warnings.append(
            f"{path}: {len(bad)} line(s) that are not palette map lines (name->rgb(r,g,b)) ignored "
            f"(line {', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''})"
        )
    return mapping


def save_palette_map(path: str | os.PathLike[str], mapping: dict[str, str]) -> None:
    """Write a palette map atomically, sorted by name so it diffs cleanly between runs."""
    lines: Iterable[str] = (f"{name}->{fill}\n" for name, fill in sorted(mapping.items()))
    with atomic_writer(path) as fh:
        fh.write("".join(lines).encode("utf-8", "surrogateescape"))
