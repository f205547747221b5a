"""DTrace stack aggregations (`dtrace -n 'profile-997 { @[stack()] = count(); }'`), the input of
FlameGraph's `stackcollapse.pl` and `inferno-collapse-dtrace`.

The output starts with DTrace's header (`CPU     ID                    FUNCTION:NAME` and the probe
line), ended by a blank line. Each aggregation entry is then a block of indented frames, leaf
first, written `module`function+0xoffset` (or a bare `0x…` address), ended by the entry's value
on a line of its own; `stack()` and `ustack()` in one key print one after the other, so every
frame up to the value is one stack. A block folds to its frames in reverse order.

Frame names follow the rules of the perf folder: offsets dropped, argument lists cut
(`perf_frames.cut_arguments`), Rust names tidied (`perf_frames.tidy_rust`), `;` made `:`; an
inline chain `a->b` gives two frames, the inlined one marked `_[i]` with `--all`. The
`module`` prefix is kept, as the reference tools keep it.
"""

from __future__ import annotations

import re

from foldkit.ingest import bpf_frames as bf
from foldkit.ingest import perf_frames as pf
from foldkit.ingest.base import end_blocks
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source
from foldkit.profile import Diagnostics, Profile, Weight, parse_count

NAME = "dtrace"
DESCRIPTION = "DTrace stack aggregations (@[stack()] = count(); FlameGraph stackcollapse.pl / inferno-collapse-dtrace input)"
EXAMPLE = "              genunix`vn_rele+0x82\\n              unix`sys_syscall+0x17a\\n                1"

_VALUE = re.compile(r"[ \t]*(\d+)[ \t]*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
#: Lines the sniffer reads, and header lines it accepts before the first blank line.
_SNIFF_LINES = 400
_MAX_HEADER = 10


def _is_frame(text: str) -> bool:
    """True for a `module`function` frame or a bare `0x…` address (text already stripped)."""
    return "`" in text or _ADDRESS.fullmatch(text) is not None


def sniff(head: bytes) -> bool:
    """True if the first lines are a DTrace header (ended by a blank line) followed by blocks of
    indented frames each ended by a value line, with at least one `module`function` frame."""
    lines = head[:65536].decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    if len(head) >= 65536:
        lines = lines[:-1]
    lines = lines[:_SNIFF_LINES]
    i = 0
    while i < len(lines) and lines[i].strip() and not _is_frame(lines[i].strip()):
        i += 1  # header lines
    if i > _MAX_HEADER:
        return False
    module_frame = False
    blocks = 0
    for line in lines[i:]:
        text = line.strip()
        if not text:
            continue
        if _VALUE.fullmatch(line):  # a value with no frames above it is an empty stack
            blocks += 1
            continue
        if not line[:1].isspace() or not _is_frame(text):
            return False
        module_frame = module_frame or "`" in text
    return blocks >= 1 and module_frame


class Namer:
    """Frame lines -> folded names (several for an inline chain), memoised per distinct line."""

    def __init__(self, options: FoldOptions) -> None:
        self.options = options
        self._cache: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        try:
            return self._cache[text]
        except KeyError:
            names = self._cache[text] = self._names(text)
            return names

    def _names(self, text: str) -> list[str]:
        module, tick, func = text.rpartition("`") if "`" in text else ("", "", text)
        func = bf.strip_offset(func)
        if self.options.demangle:
            func = pf.demangle(func)
        out: list[str] = []
        for index, part in enumerate(func.split("->") if "->" in func else [func]):
            name = pf.tidy_rust(pf.cut_arguments(part.strip())).replace(";", ":") or bf.UNKNOWN
            name = f"{module}{tick}{name}"
            if index > 0 and self.options.inline:
                name += bf.INLINE_SUFFIX
            out.append(name)
        out.reverse()  # `a->b`: b is inlined into a, so nearer the leaf; blocks are leaf first
        return out


def fold(source: Source, options: FoldOptions) -> Profile:
    """Sum the value of every block under its folded stack."""
    diag = Diagnostics()
    namer = Namer(options)
    skip = frozenset(options.skip_after)
    weights: dict[str, Weight] = {}
    block: list[str] = []
    block_start = 0
    blocks = 0
    header: list[str] = []
    in_header = True
    for lineno, line in enumerate(source.text_lines(), start=1):
        text = line.strip()
        if in_header:
            if text and not (_is_frame(text) and line[:1].isspace()):
                header.append(text)
                continue
            in_header = False
        if not text:
            continue
        m = _VALUE.fullmatch(line)
        if m is None:
            if not block:
                block_start = lineno
            block.append(text)
            continue
        frames = [name for frame in reversed(block) for name in reversed(namer(frame))]
        if skip:
            frames = bf.cut_after(frames, skip)
        stack = ";".join(frames) if frames else bf.NO_STACK
        weights[stack] = weights.get(stack, 0) + parse_count(m.group(1))
        blocks += 1
        block = []
    if in_header:
        diag.warnings.append(f"{source.name}: the input ended in DTrace's header: no aggregation printed")
    end_blocks(diag, source.name, block, block_start, bool(weights), "DTrace")
    if header:
        diag.notes.append(f"{source.name}: DTrace header {' | '.join(header)!r}")
    diag.notes.append(f"{source.name}: {blocks} stacks folded into {len(weights)}")
    return Profile(weights=weights, unit="samples", diagnostics=diag)
