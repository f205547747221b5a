"""The time span of a perf capture, from its first and last records only.

Keeping every sample's timestamp (`FoldOptions.keep_time`) takes perf's line-by-line path, which
costs about twice the fast path on a whole capture; the span needs only the first and the last
samples. `perf script` prints samples in time order, so the span is read from the first and the
last records (folded, with timestamps, by the perf reader itself, one record at a time so that
every event counts) within PROBE_BYTES of either end. Other formats carry no timestamps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

from foldkit.ingest import FoldOptions, fold_source
from foldkit.inputs import open_source
from foldkit.timeline import Timeline

#: Bytes read at each end: dozens of records of even the deepest (DWARF-unwound) stacks.
PROBE_BYTES = 256 * 1024
#: Records tried at each end for a timestamp (the first may be comments or side events).
MAX_RECORDS = 64
#: Separates two perf records (a line of its own between a sample's frames and the next header).
RECORD_END = b"\n\n"


def _ends(path: str) -> tuple[bytes, bytes | None]:
    """The first and the last PROBE_BYTES of the decompressed capture; (everything, None) when
    it is no longer than two probes."""
    source = open_source(path)
    try:
        head = source.head(PROBE_BYTES)
        whole: list[bytes] | None = []
        tail: deque[bytes] = deque()
        size = kept = 0
        for chunk in source.chunks(cut=len, size=PROBE_BYTES):  # the head comes again first
            size += len(chunk)
            if whole is not None:
                whole.append(chunk)
                if size > 2 * PROBE_BYTES:
                    whole = None
            tail.append(chunk)
            kept += len(chunk)
            while kept - len(tail[0]) >= PROBE_BYTES:
                kept -= len(tail.popleft())
        if whole is not None:
            return b"".join(whole), None
        return head, b"".join(tail)[-PROBE_BYTES:]
    finally:
        source.close()


def _times(data: bytes, options: FoldOptions) -> list[float]:
    if not data.strip():
        return []
    profile = fold_source(open_source(data), options)
    timeline = profile.timeline
    times = timeline.times if isinstance(timeline, Timeline) else [t for t, _, _ in timeline or ()]
    return [t for t in times if math.isfinite(t)]


def _records(data: bytes) -> list[bytes]:
    """`data` split into records: at blank lines, or at newlines when there are none (`-G`,
    samples without call chains)."""
    sep = RECORD_END if RECORD_END in data else b"\n"
    return [r for r in data.split(sep) if r.strip()]


def perf_time_range(path: str, options: FoldOptions) -> tuple[float | None, float | None]:
    """(first, last) sample timestamp of the perf capture at `path`, of any event; (None, None)
    without timestamps."""
    options = replace(options, format="perf", event=None, keep_time=True, jobs=1, strict=False)
    head, tail = _ends(path)
    if tail is None:
        times = _times(head, options)
        return (min(times), max(times)) if times else (None, None)
    first = _first_time(_records(head)[:-1], options)  # the last may be cut short
    last = _first_time(list(reversed(_records(tail)[1:])), options)
    if first is None or last is None:
        return None, None
    return first, last


def _first_time(records: list[bytes], options: FoldOptions) -> float | None:
    """The timestamp of the first of `records` that has one (each folded alone: one event)."""
    for record in records[:MAX_RECORDS]:
        times = _times(record + b"\n", options)
        if times:
            return times[0]
    return None
