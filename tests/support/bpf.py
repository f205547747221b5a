"""Helpers shared by the bpftrace, BCC and folded tests: corpus captures, golden files, independent
sums of what the tools printed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import zstandard

from foldkit.errors import FoldkitError
from foldkit.ingest import FoldOptions, fold_source
from foldkit.inputs import open_source
from foldkit.profile import Profile
from tests.support.common import DATA, assert_golden, chunked

CAPTURES = DATA / "captures"
EXPECTED = DATA / "expected"

BPFTRACE_CAPTURES = sorted(p.name.removesuffix(".txt.zst") for p in CAPTURES.glob("bpftrace-*.txt.zst"))
BCC_CAPTURES = sorted(
    p.name.removesuffix(".txt.zst")
    for pattern in ("bcc-*.txt.zst", "libbpf-tools-*.txt.zst")
    for p in CAPTURES.glob(pattern)
)

#: Stack maps of each bpftrace capture (from the corpus README); every other map has no stack key.
STACK_MAPS = {name: ("@",) for name in BPFTRACE_CAPTURES}
STACK_MAPS["bpftrace-mixed-maps"] = ("@", "@user")


def capture_path(name: str) -> Path:
    """Path of a corpus capture by its name without `.txt.zst`."""
    return CAPTURES / f"{name}.txt.zst"


def capture_text(name: str) -> str:
    """The decompressed text of a capture."""
    return zstandard.ZstdDecompressor().decompress((capture_path(name)).read_bytes()).decode(
        "utf-8", "surrogateescape"
    )


def fold(spec: str | bytes | Path, **options: object) -> Profile:
    """Fold one input with the library (format detected unless given)."""
    source = open_source(spec if not isinstance(spec, Path) else str(spec))
    try:
        return fold_source(source, FoldOptions(**options))  # type: ignore[arg-type]
    finally:
        source.close()


def bpftrace_printed_totals(text: str) -> dict[str, int]:
    """Sum of the printed integer values per map name, read independently of the folder: a map
    entry starts at a line `@name[` and ends at the first line ending in `]: N`."""
    totals: dict[str, int] = {}
    current: str | None = None
    for line in text.splitlines():
        m = re.match(r"@(\w*)\[", line)
        if m:
            current = "@" + m.group(1)
        end = re.search(r"\]: (-?\d+)$", line)
        if end and current is not None:
            totals[current] = totals.get(current, 0) + int(end.group(1))
            current = None
    return totals


def bcc_printed_total(text: str) -> int:
    """Sum of the value lines (indented integers) of BCC's multi-line output, or of the last
    column of its folded (`-f`) output."""
    values = re.findall(r"^[ \t]+(-?\d+)$", text, flags=re.M)
    if values:
        return sum(int(v) for v in values)
    return sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.strip())


def check_golden(name: str, data: bytes) -> None:
    """Compare with tests/golden/bpf/NAME.folded.zst (see `tests.support.common.assert_golden`)."""
    assert_golden(f"bpf/{name}.folded.zst", data)


def _outcome(fold: Callable[..., Profile], *args: object, **kwargs: object) -> tuple[object, ...]:
    """What a reader gives: its error, or the profile's stacks, counts, unit, meta and diagnostics."""
    try:
        profile = fold(*args, **kwargs)
    except FoldkitError as exc:
        return (type(exc).__name__, str(exc))
    d = profile.diagnostics
    counts = None if profile.counts is None else list(profile.counts.items())
    return ("ok", list(profile.weights.items()), counts, profile.unit, profile.meta, d.warnings, d.notes, d.bad_lines, d.bad_examples)


def twin_outcomes(
    reader: ModuleType, text: bytes, cuts: list[int], options: FoldOptions, **native: object
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """(Python twin's, native reader's) outcome of `reader` (`bpftrace` or `bcc`) on `text`, the
    native one fed in chunks cut near `cuts` (`native`: more arguments for it, e.g. `json=True`)."""
    source = open_source(text)
    try:
        python = _outcome(reader.fold_python, source, options)
    finally:
        source.close()
    return python, _outcome(reader.fold_native, "<bytes>", iter(chunked(text, cuts)), options, **native)
