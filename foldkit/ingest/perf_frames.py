"""Frame lines of `perf script`: split `ip sym+off (dso)` and tidy symbol names like the reference.

Kept apart from the sample parser so the same rules serve the fast and the line-by-line paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from foldkit.ingest.options import FoldOptions
from foldkit.lazy import regex

_HEX = regex(globals(), "_HEX", r"[0-9a-fA-F]+")
_OFFSET = regex(globals(), "_OFFSET", r"\+0x[0-9a-fA-F]+$")
_JIT_MAP = regex(globals(), "_JIT_MAP", r"/tmp/perf-\d+\.map")
_JITDUMP = regex(globals(), "_JITDUMP", r"jitted-\d+-\d+\.so$")
_GO_METHOD = regex(globals(), "_GO_METHOD", r"\.\(\*?[^()]*\)\.")
_RUST_ESCAPES = {"SP": "@", "BP": "*", "RF": "&", "LT": "<", "GT": ">", "LP": "(", "RP": ")", "C": ","}


@dataclass(frozen=True, slots=True)
class FrameLine:
    """One parsed frame line: address (may be empty), raw symbol and dso (None when not printed)."""

    pc: str
    sym: str
    dso: str | None


def _split_dso(text: str) -> tuple[str, str | None]:
    """Split a trailing ` (dso)` group (parentheses may nest: `(/x.so (deleted))`)."""
    if not text.endswith(")"):
        return text, None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                if i == 0:
                    return "", text[1:-1]
                if text[i - 1] == " ":
                    return text[: i - 1], text[i + 1 : -1]
                return text, None
    return text, None


def parse_frame_line(line: str) -> FrameLine | None:
    """Parse a frame line (`\\t  addr sym+0xoff (dso)`, parts optional); None if it is not one."""
    text = line.strip()
    if not text:
        return None
    first, sep, rest = text.partition(" ")
    if sep and _HEX.fullmatch(first):
        sym, dso = _split_dso(rest)
        # `add (libx.so)` is a symbol named like hex without an address column; `7f12  (libx.so)`
        # (two spaces) is an address with an empty symbol
        if sym or dso is None or rest.startswith(" "):
            return FrameLine(first, sym.strip(), dso)
    if not sep and _HEX.fullmatch(first) and len(first) >= 4:
        return FrameLine(first, "", None)  # bare address (raw ip)
    sym, dso = _split_dso(text)
    if dso is None:
        return None  # neither an address nor a dso: not a frame (e.g. `THIS_IS_A_WEIRD_LINE`)
    return FrameLine("", sym.strip(), dso)


def is_kernel_dso(dso: str) -> bool:
    """True for kernel dsos: `[kernel.kallsyms]`, `[module]`, `vmlinux*`, `*.ko`."""
    if dso.startswith("[JIT"):
        return False
    if dso.startswith("["):
        return "unknown" not in dso
    base = dso.rsplit("/", 1)[-1]
    return base.startswith("vmlinux") or base.endswith((".ko", ".ko.xz", ".ko.zst", ".ko.gz"))


def is_jit_dso(dso: str) -> bool:
    """True for JIT code: perf map files (`/tmp/perf-PID.map`), jitdump dsos (`jitted-PID-N.so`)."""
    return bool(_JIT_MAP.search(dso) or _JITDUMP.search(dso) or dso.startswith("[JIT"))


def _skip_group(name: str, i: int) -> int:
    """Index just after the parenthesised group opening at `name[i]`, or -1 if it never closes."""
    depth = 0
    for j in range(i, len(name)):
        c = name[j]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def cut_arguments(name: str) -> str:
    """Drop a function's argument list, keeping `(anonymous namespace)`, Go `.(*T).` methods,
    `operator()`, and parentheses inside templates `<...>` or lambdas `{...}`."""
    if "(" not in name:
        return name
    if _GO_METHOD.search(name) and not name.endswith(")"):
        return name
    depth = 0
    i = 0
    n = len(name)
    while i < n:
        c = name[i]
        if c in "<{[":
            depth += 1
        elif c in ">}]":
            if depth > 0 and not (c == ">" and i > 0 and name[i - 1] == "-"):
                depth -= 1
        elif c == "(" and depth == 0:
            if name.startswith("(anonymous namespace)", i):
                i += len("(anonymous namespace)")
                continue
            if i > 0 and name[i - 1] == "." and _GO_METHOD.match(name, i - 1):
                end = _skip_group(name, i)
                i = end if end > 0 else n
                continue
            if name.endswith("operator", 0, i) and name.startswith("()", i):
                i += 2
                continue
            end = _skip_group(name, i)
            if end > 0 and name.startswith("::", end):
                i = end  # a scope's parameter list, e.g. `f()::{lambda(int)#1}`: keep
                continue
            return name[:i].rstrip()
        i += 1
    return name


def _escape_char(code: str) -> str | None:
    """The character a Rust legacy `$…$` escape stands for (`LT` -> `<`, `u7b` -> `{`)."""
    simple = _RUST_ESCAPES.get(code)
    if simple is not None:
        return simple
    hexa = code[1:]
    if code[:1] != "u" or not 1 <= len(hexa) <= 6 or not _HEX.fullmatch(hexa):
        return None
    value = int(hexa, 16)
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return None
    import unicodedata  # (on use: few names hold a `$u…$` escape)

    if unicodedata.category(chr(value)) == "Cc":
        return None
    return chr(value)


def _unescape_rust(sym: str) -> str | None:
    """Every complete `$…$` escape replaced; None when the name holds none."""
    out: list[str] = []
    found = False
    i = 0
    while i < len(sym):
        if sym[i] == "$":
            end = sym.find("$", i + 1, i + 9)
            c = _escape_char(sym[i + 1 : end]) if end >= 0 else None
            if c is not None:
                out.append(c)
                i = end + 1
                found = True
                continue
        out.append(sym[i])
        i += 1
    return "".join(out) if found else None


def tidy_rust(sym: str) -> str:
    """A Rust symbol that perf printed half demangled, tidied: `$LT$T$GT$` -> `<T>`,
    `_$u7b$$u7b$closure$u7d$$u7d$` -> `{{closure}}`, `..` -> `::`, the `::h0123456789abcdef` hash
    dropped. Other names are returned unchanged."""
    if len(sym) > 19 and sym[-19:-16] == "::h" and all(c in "0123456789abcdef" for c in sym[-16:]):
        sym = sym[:-19]
    if "$" not in sym or _unescape_rust(sym) is None:
        return sym
    out: list[str] = []
    i = 0
    while i < len(sym):
        if sym.startswith("..", i):
            out.append("::")
            i += 2
            continue
        if (i == 0 or (out and out[-1][-1] in ":< ")) and sym.startswith("_$", i):
            i += 1
            continue
        out.append(sym[i])
        i += 1
    joined = "".join(out)
    return _unescape_rust(joined) or joined


def demangle(sym: str) -> str:
    """A mangled C++ (`_Z…`) or Rust (legacy, v0) name demangled with the native core's demanglers
    (else tidied as `tidy_rust` does); UsageError when the native core is not built."""
    from foldkit.native import load_native

    native = load_native()
    if native is None:
        from foldkit.errors import UsageError

        raise UsageError("--demangle needs foldkit's native core, which is not built")
    raw = sym.encode("utf-8", "surrogateescape")
    return str(native.demangle(raw).decode("utf-8", "surrogateescape"))


class FrameNamer:
    """Turns frame lines into folded frame names under one set of options (memoised per line)."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self._cache: dict[tuple[str, bool], list[str] | None] = {}

    def names(self, line: str, java: bool) -> list[str] | None:
        """Folded names for a frame line (several for an `a->b` inline chain); None if not a frame."""
        key = (line, java)
        try:
            return self._cache[key]
        except KeyError:
            pass
        frame = parse_frame_line(line)
        result = None if frame is None else self.tidy(frame, java)
        self._cache[key] = result
        return result

    def tidy(self, frame: FrameLine, java: bool) -> list[str]:
        """Names for one parsed frame, root-most last (the order perf prints them)."""
        opts = self.options
        dso = frame.dso or ""
        raw = _OFFSET.sub("", frame.sym)
        raw = demangle(raw) if opts.demangle else tidy_rust(raw)
        inlined = dso == "inlined"
        parts = raw.split("->") if "->" in raw else [raw]
        out: list[str] = []
        for index, func in enumerate(parts):
            if func in ("[unknown]", ""):
                if dso and dso not in ("[unknown]", "inlined"):
                    func = dso.removesuffix(" (deleted)").rsplit("/", 1)[-1]
                else:
                    func = "unknown"
                func = f"[{func} <{frame.pc}>]" if opts.addrs and frame.pc else f"[{func}]"
            else:
                func = func.replace(";", ":")
                func = cut_arguments(func)
                func = func.replace('"', "").replace("'", "")
                if java and "/" in func and func.startswith("L"):
                    func = func[1:]
            if index > 0 or (inlined and opts.inline):
                if not func.endswith("_[i]"):
                    func += "_[i]"
            elif opts.kernel and dso and is_kernel_dso(dso):
                func += "_[k]"
            elif opts.jit and dso and is_jit_dso(dso):
                if not func.endswith("_[j]"):
                    func += "_[j]"
            out.append(func)
        # perf prints leaf first; an inline chain `a->b` is caller->callee, so b is nearer the leaf
        out.reverse()
        return out


#: An unresolved frame in a JIT's perf map (`[perf-1234.map]`, with any annotation suffix).
_UNRESOLVED_MAP = regex(globals(), "_UNRESOLVED_MAP", r"\[perf-\d+\.map\](?:_\[j\])?")
#: How every stack whose leaf `_UNRESOLVED_MAP` matches ends.
_UNRESOLVED_ENDS = (".map]", ".map]_[j]")


def unresolved_jit_warning(weights: dict[str, int | float], name: str) -> str | None:
    """A warning naming the share of the weight whose leaf is an unresolved JIT frame
    (`[perf-PID.map]`: perf saw code in a JIT's map but could not read the map's symbols), with
    why that happens; None when there is none."""
    total = sum(weights.values())
    # only a stack ending so can end in such a frame: the cheap test first (10,700 stacks: 5 -> 1 ms)
    unresolved = sum(
        w
        for s, w in weights.items()
        if s.endswith(_UNRESOLVED_ENDS) and _UNRESOLVED_MAP.fullmatch(s.rsplit(";", 1)[-1])
    )
    if not unresolved or not total:
        return None
    return (
        f"{name}: {unresolved / total:.1%} of the weight ends in unresolved JIT frames ([perf-PID.map]): "
        "perf script could not read /tmp/perf-PID.map, which the JIT (python -X perf, node --perf-basic-prof, "
        "Java perf-map-agent) writes in its own /tmp; on Kubernetes that is the container's, not the host's. "
        "Copy the map files to the host's /tmp (or run perf script inside the container) before perf script"
    )
