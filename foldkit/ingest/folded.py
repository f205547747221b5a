"""Already-folded stacks: `root;child;leaf 42` (integer or decimal weights), also the two-column
`stack before after` form written by `difffolded.pl`, read as its second (after) column.

Identical stacks are summed (BCC's `-f` output repeats them), offsets (`+123`, `+0x7b`) are stripped
from frames so call sites merge, and `--kernel` marks the kernel part of each stack (see
`bpf_frames.annotate_folded`). Those rewrites run once per distinct stack, after reading.
"""

from __future__ import annotations

import re

from foldkit.errors import InputError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source, cut_at_lines
from foldkit.profile import Diagnostics, Profile, Weight, weight_problem

NAME = "folded"
DESCRIPTION = "already-folded stacks, one `frame;frame;frame WEIGHT` per line (FlameGraph/inferno)"
EXAMPLE = "bash;main;execute_command;fork 17"

_NUMBER = re.compile(rb"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _number(raw: bytes) -> Weight | None:
    if raw.isdigit():
        return int(raw)
    if _NUMBER.fullmatch(raw) is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def split_line(line: bytes) -> tuple[bytes, Weight] | None:
    """`stack weight` -> (stack, weight); `stack before after` (difffolded.pl) -> (stack, after);
    None when the line does not end in a number."""
    parts = line.rsplit(None, 2)
    if len(parts) < 2:
        return None
    last = _number(parts[-1])
    if last is None:
        return None
    if len(parts) == 3 and _number(parts[1]) is not None:
        return parts[0], last
    stack = line.rsplit(None, 1)[0]
    return stack, last


def sniff(head: bytes) -> bool | None:
    """True if most of the first lines look like `stack weight`."""
    lines = [ln for ln in head.replace(b"\r\n", b"\n").split(b"\n")[:50] if ln.strip() and ln[:1] != b"#"]
    if len(head) >= 65536:
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        return None
    # indented lines are perf/BCC frames, `@` lines bpftrace map entries (`@[comm]: 3`)
    good = sum(1 for ln in lines if not ln[:1].isspace() and ln[:1] != b"@" and split_line(ln) is not None)
    return good == len(lines) or (good >= 3 and good >= 0.9 * len(lines))


def fold(source: Source, options: FoldOptions) -> Profile:
    """Sum the weights of identical stacks."""
    raw: dict[bytes, Weight] = {}
    diag = Diagnostics()
    lineno = 0
    for chunk in source.chunks(cut=cut_at_lines):
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        for line in chunk.split(b"\n"):
            lineno += 1
            if not line or line[:1] == b"#" or not line.strip():
                continue
            parsed = split_line(line)
            if parsed is None:
                diag.bad_line(source.name, lineno, line.decode("utf-8", "replace"))
                continue
            stack, w = parsed
            problem = weight_problem(w)
            if problem is not None:
                weight = line.rsplit(None, 1)[-1][:40].decode("utf-8", "replace")
                raise InputError(f"{source.name}:{lineno}: the weight {weight} {problem}; a weight is a finite number of magnitude at most 2^63-1")
            raw[stack] = raw.get(stack, 0) + w
        # the final split piece after a trailing newline is not a line
        if chunk.endswith(b"\n"):
            lineno -= 1
    if not raw and diag.bad_lines:
        raise InputError(f"{source.name}: no `stack weight` line found; " + "; ".join(diag.messages()))
    weights = {s.decode("utf-8", "surrogateescape"): w for s, w in raw.items()}
    return Profile(weights=tidy_stacks(weights, options), diagnostics=diag)


#: `bpf_frames.strip_offset` applied to every frame of a stack at once (offsets end a frame).
_STACK_OFFSETS = re.compile(r"\+(?:0x[0-9a-fA-F]+|\d+)(?=;|$)")


def _tidy_stack(stack: str, options: FoldOptions, skip: frozenset[str]) -> str:
    if "+" in stack:
        stack = _STACK_OFFSETS.sub("", stack)
    if not (options.kernel or skip):
        return stack
    frames = stack.split(";")
    if options.kernel:
        frames = bf.annotate_folded(frames)
    if skip:
        frames = bf.cut_after(frames, skip, keep=1)
    return ";".join(frames)


def tidy_stacks(weights: dict[str, Weight], options: FoldOptions) -> dict[str, Weight]:
    """Strip offsets, annotate kernel frames (`--kernel`) and apply `--skip-after` to every
    distinct stack, summing stacks that become identical."""
    skip = frozenset(options.skip_after)
    if not (options.kernel or skip) and not any("+" in s for s in weights):
        return weights
    out: dict[str, Weight] = {}
    for stack, w in weights.items():
        new = _tidy_stack(stack, options, skip)
        out[new] = out.get(new, 0) + w
    return out
