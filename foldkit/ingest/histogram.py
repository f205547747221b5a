"""Latency and size histograms: BCC/libbpf-tools log2 and linear histograms (`biolatency`,
`runqlat`, `funclatency`, `-D`/`-P` per disk or process) and bpftrace `hist()`/`lhist()` maps,
printed as text or as `-f json`.

A histogram is not a stack profile: each one is kept whole in `Profile.meta[HISTOGRAMS]` as
(name, unit, ((low, high, count), …)), `high` exclusive, and each bucket also becomes a stack
`name;[low, high)` weighted by its count, so the usual views still show where the events fall.
`percentile` estimates a percentile from the buckets (linear within the bucket).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from foldkit.errors import InputError
from foldkit.ingest import bpf_frames as bf
from foldkit.ingest.options import FoldOptions
from foldkit.inputs import Source
from foldkit.lazy import regex
from foldkit.profile import MAX_WEIGHT, Diagnostics, Profile, Weight

NAME = "histogram"
DESCRIPTION = "histograms: BCC/libbpf-tools biolatency/runqlat log2 output, bpftrace hist()/lhist() (text or -f json)"
EXAMPLE = "     usecs               : count    distribution\\n         0 -> 1          : 3        |**  |"

#: `Profile.meta` key of the histograms.
HISTOGRAMS = "histograms"

Bucket = tuple[int, int, int]  # low, high (exclusive), count
Histogram = tuple[str, str, tuple[Bucket, ...]]

#: BCC's header: `     usecs               : count    distribution` (the unit word varies).
_BCC_HEADER = regex(globals(), "_BCC_HEADER", r"\s*(?P<unit>[A-Za-z_][\w()/-]*)\s+: count\s+distribution\s*")
_BCC_ROW = regex(globals(), "_BCC_ROW", r"\s*(?P<low>\d+)\s+->\s+(?P<high>\d+)\s+: (?P<count>\d+)\s*(?:\|.*\|)?\s*")
#: A label before a BCC histogram: `disk = 'nvme0n1'`, `pid = 123`, `cpu = 1`.
_BCC_LABEL = regex(globals(), "_BCC_LABEL", r"(?P<key>\w+) = '?(?P<value>[^']*)'?\s*")
_BT_HEAD = regex(globals(), "_BT_HEAD", r"(?P<name>@\w*(?:\[.*\])?):\s*")
_BT_ROW = regex(globals(), "_BT_ROW", r"(?P<range>[\[(][^\])]*[\])])\s+(?P<count>\d+)\s*(?:\|.*\|)?\s*")
_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_CHATTER = regex(globals(), "_CHATTER", r"Tracing .*|Attaching \d+ probes?\.\.\.|\^C|Detaching.*|\d\d:\d\d:\d\d|WARNING: .*|.*Hit Ctrl-C.*")


def _number(text: str) -> int | None:
    """`4K` -> 4096; `...` -> None (an open end)."""
    text = text.strip()
    if text in ("...", ""):
        return None
    m = re.fullmatch(r"(-?\d+)([KMGTP]?)", text)
    if m is None:
        raise ValueError(text)
    return int(m.group(1)) * _SUFFIX[m.group(2)]


def _bt_bucket(text: str) -> tuple[int, int]:
    """bpftrace's `[0]`, `[2, 4)`, `[4K, 8K)`, `(..., 0)`, `[1000000, ...)` as (low, high)."""
    inner = text[1:-1]
    if "," not in inner:
        value = _number(inner)
        if value is None:
            raise ValueError(text)
        return value, value + 1
    lo_text, hi_text = inner.split(",", 1)
    lo, hi = _number(lo_text), _number(hi_text)
    if lo is None and hi is None:
        raise ValueError(text)
    if lo is None:
        lo = hi - 1 if hi is not None else 0  # below the lowest bucket: shown at its edge
    if hi is None:
        hi = lo + 1
    return lo, hi


def sniff(head: bytes) -> bool | None:
    """True for BCC's histogram header, or bpftrace output whose maps are all histograms."""
    text = head[:16384].decode("utf-8", "replace").replace("\r\n", "\n")
    lines = text.split("\n")[:400]
    if any(_BCC_HEADER.fullmatch(ln) for ln in lines[:50]):
        return True
    stripped = [ln for ln in lines if ln.strip()]
    if stripped and stripped[0].startswith('{"type":'):
        kinds = {m.group(1) for m in re.finditer(r'^\{"type": "(\w+)"', text, flags=re.M)}
        return "hist" in kinds and "map" not in kinds
    heads = 0
    for i, line in enumerate(lines[:-1]):
        if line.startswith("@"):
            if _BT_HEAD.fullmatch(line) and _BT_ROW.fullmatch(lines[i + 1]):
                heads += 1
            else:
                return False  # a stack or count entry: bpftrace's
    return heads > 0


def _fits(bucket: Bucket) -> bool:
    """Whether a bucket's bounds and count are integers of 64 bits (the typed columns of its
    table, and any real histogram: a bound of 2**64 is a mangled line, counted as unrecognised)."""
    return all(-MAX_WEIGHT - 1 <= v <= MAX_WEIGHT for v in bucket)


def _bucket_label(low: int, high: int) -> str:
    return f"[{low}]" if high == low + 1 else f"[{low}, {high})"


def parse_text(lines: Iterable[str], name: str, diag: Diagnostics) -> list[Histogram]:
    """Every histogram of BCC's or bpftrace's text output."""
    out: list[Histogram] = []
    current: tuple[str, str, list[Bucket]] | None = None
    label: str | None = None

    def close() -> None:
        nonlocal current
        if current is not None and current[2]:
            out.append((current[0], current[1], tuple(current[2])))
        current = None

    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        m = _BCC_HEADER.fullmatch(line)
        if m is not None:
            close()
            unit = m.group("unit")
            current = (f"{label} ({unit})" if label else unit, unit, [])
            label = None
            continue
        m = _BT_HEAD.fullmatch(line)
        if m is not None:
            close()
            current = (m.group("name"), "", [])
            continue
        if current is not None:
            m = _BCC_ROW.fullmatch(line)
            bucket: Bucket | None = None
            if m is not None:
                bucket = (int(m.group("low")), int(m.group("high")) + 1, int(m.group("count")))
            elif (m := _BT_ROW.fullmatch(line)) is not None:
                try:
                    low, high = _bt_bucket(m.group("range"))
                except ValueError:
                    low = high = MAX_WEIGHT + 1  # not a bucket: refused below
                bucket = (low, high, int(m.group("count")))
            if bucket is not None:
                if _fits(bucket):
                    current[2].append(bucket)
                else:
                    diag.bad_line(name, lineno, line)
                continue
        m = _BCC_LABEL.fullmatch(line)
        if m is not None:
            close()
            label = f"{m.group('key')} {m.group('value')}"
            continue
        if _CHATTER.fullmatch(line.strip()):
            continue
        close()
        diag.bad_line(name, lineno, line)
    close()
    return out


def parse_json(lines: Iterable[str], name: str, diag: Diagnostics) -> list[Histogram]:
    """The `hist` prints of bpftrace `-f json` (`{"min": 2, "max": 3, "count": 5}` buckets)."""
    out: list[Histogram] = []
    for kind, data in bf.json_events(lines, name, diag):
        if kind != "hist" or not isinstance(data, dict):
            continue
        for map_name, value in data.items():
            groups = value.items() if isinstance(value, dict) else [("", value)]
            for key, buckets in groups:
                if not isinstance(buckets, list):
                    continue
                rows = tuple(
                    bucket
                    for b in buckets
                    if isinstance(b, dict) and all(isinstance(b.get(k), int) for k in ("min", "max", "count"))
                    and _fits(bucket := (b["min"], b["max"] + 1, b["count"]))
                )  # fmt: skip
                out.append((f"{map_name}[{key}]" if key else map_name, "", rows))
    return out


def percentile(buckets: Sequence[Bucket], q: float) -> float | None:
    """The value below which a fraction `q` of the events fall, interpolated linearly inside the
    bucket that holds it; None for an empty histogram."""
    total = sum(c for _, _, c in buckets)
    if total <= 0:
        return None
    goal = q * total
    seen = 0
    for low, high, count in sorted(buckets):
        if count and seen + count >= goal:
            return low + (high - low) * (goal - seen) / count
        seen += count
    return float(sorted(buckets)[-1][1])


def fold(source: Source, options: FoldOptions) -> Profile:
    """Every histogram kept whole in the profile's meta, and each bucket a stack."""
    diag = Diagnostics()
    lines = list(source.text_lines())
    first = next((ln for ln in lines if ln.strip()), "")
    if first.startswith('{"type":'):
        histograms = parse_json(lines, source.name, diag)
    else:
        histograms = parse_text(lines, source.name, diag)
    if not histograms:
        raise InputError(f"{source.name}: no histogram found")
    weights: dict[str, Weight] = {}
    for hist_name, _, buckets in histograms:
        frame = hist_name.replace(";", ":")
        for low, high, count in buckets:
            if count:
                stack = f"{frame};{_bucket_label(low, high)}"
                weights[stack] = weights.get(stack, 0) + count
    units = {u for _, u, _ in histograms if u}
    diag.notes.append(f"{source.name}: {len(histograms)} histogram(s): {', '.join(h[0] for h in histograms)}")
    counts: dict[str, int] = dict(weights)  # type: ignore[arg-type]  # every weight here is a count (an int)
    profile = Profile(weights=weights, counts=counts, unit="events", diagnostics=diag)
    profile.meta[HISTOGRAMS] = tuple(histograms)
    profile.meta["tool"] = "histogram" + (f" ({', '.join(sorted(units))})" if units else "")
    return profile
