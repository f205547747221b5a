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
#: The widest probe, tried when the first holds no sample at all (a host's side events at the start).
MAX_PROBE_BYTES = 128 * 1024 * 1024
#: Records tried at each end for a timestamp (the first may be comments or side events).
MAX_RECORDS = 64
#: Separates two perf records (a line of its own between a sample's frames and the next header).
RECORD_END = b"\n\n"
#: Marks a side-event line of `perf script` (`comm pid [cpu] time: PERF_RECORD_MMAP ...`).
SIDE_EVENT = b": PERF_RECORD_"


def _ends(path: str, probe: int) -> tuple[bytes, bytes | None]:
    """The first and the last `probe` bytes of the decompressed capture; (everything, None) when
    it is no longer than two probes."""
    source = open_source(path)
    try:
        head = source.head(probe)
        whole: list[bytes] | None = []
        tail: deque[bytes] = deque()
        size = kept = 0
        for chunk in source.chunks(cut=len, size=probe):  # the head comes again first
            size += len(chunk)
            if whole is not None:
                whole.append(chunk)
                if size > 2 * probe:
                    whole = None
            tail.append(chunk)
            kept += len(chunk)
            while kept - len(tail[0]) >= probe:
                kept -= len(tail.popleft())
        if whole is not None:
            return b"".join(whole), None
        return head, b"".join(tail)[-probe:]
    finally:
        source.close()


def _times(data: bytes, options: FoldOptions) -> tuple[list[float], bool]:
    """The finite sample timestamps in `data`, and whether it held any sample at all."""
    if not data.strip():
        return [], False
    profile = fold_source(open_source(data), options)
    timeline = profile.timeline
    times = timeline.times if isinstance(timeline, Timeline) else [t for t, _, _ in timeline or ()]
    return [t for t in times if math.isfinite(t)], len(profile) > 0


def _records(data: bytes) -> list[bytes]:
    """`data` split into records: at blank lines, or at newlines when there are none (`-G`,
    samples without call chains). Side-event lines (`--show-task-events`, `--show-mmap-events`:
    thousands before the first sample, with no blank line between) are left out: they are no
    samples, and a run of them cut short by the probe must not take the sample after it along."""
    sep = RECORD_END if RECORD_END in data else b"\n"
    records = []
    for record in data.split(sep):
        if SIDE_EVENT in record:
            record = b"\n".join(line for line in record.split(b"\n") if SIDE_EVENT not in line)
        if record.strip():
            records.append(record)
    return records


def perf_time_range(path: str, options: FoldOptions) -> tuple[float | None, float | None]:
    """(first, last) sample timestamp of the perf capture at `path`, of any event; (None, None)
    without timestamps. An end whose probe holds no sample at all (a long run of side events) is
    probed again, wider, up to MAX_PROBE_BYTES."""
    options = replace(options, format="perf", event=None, keep_time=True, jobs=1, strict=False)
    probe = PROBE_BYTES
    while True:
        head, tail = _ends(path, probe)
        if tail is None:
            times, _ = _times(head, options)
            return (min(times), max(times)) if times else (None, None)
        first, first_seen = _first_time(_records(head)[:-1], options)  # the last may be cut short
        last, last_seen = _first_time(list(reversed(_records(tail)[1:])), options)
        if first is not None and last is not None:
            return first, last
        if (first is None and first_seen) or (last is None and last_seen) or probe >= MAX_PROBE_BYTES:
            return None, None  # samples without timestamps, or none found within the widest probe
        probe *= 8


def _first_time(records: list[bytes], options: FoldOptions) -> tuple[float | None, bool]:
    """The timestamp of the first of `records` that has one (each folded alone: one event), and
    whether any of the records tried held a sample."""
    seen = False
    for record in records[:MAX_RECORDS]:
        times, sample = _times(record + b"\n", options)
        if times:
            return times[0], True
        seen = seen or sample
    return None, seen
