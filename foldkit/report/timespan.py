"""The time span of a perf capture, from its first and last records only.

Keeping every sample's timestamp (`FoldOptions.keep_time`) takes perf's line-by-line path, which
costs about twice the fast path on a whole capture; the span needs only the first and the last
samples. `perf script` prints samples in time order, so the span is read from the first and the
last records (folded, with timestamps, by the perf reader itself, one record at a time so that
every event counts) within PROBE_BYTES of either end. Only a record's header line is folded (the
time is there, not in its call chain): a record 100,000 frames deep costs one line, and the tail
kept reaches back to the last record's start however far that is (within MAX_PROBE_BYTES), so
deep records need no wider probe. Other formats carry no timestamps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

from foldkit.ingest import FoldOptions, fold_source
from foldkit.ingest.perf import is_header
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
    """The first `probe` bytes of the decompressed capture and its last ones: at least `probe`,
    and back to the start of the last record (a record end before it) when that is further, up to
    MAX_PROBE_BYTES; (everything, None) when it is no longer than two probes."""
    source = open_source(path)
    try:
        head = source.head(probe)
        # records end at blank lines, or at every line where none is seen and no call-chain line
        # either (`-G`); a head within one deep record holds call-chain lines
        sep = RECORD_END if RECORD_END in head or b"\n\t" in head else b"\n"
        whole: list[bytes] | None = []
        tail: deque[tuple[bytes, bool]] = deque()  # (chunk, whether a record ends in it)
        ends = 0  # chunks of `tail` after its first one in which a record ends
        size = kept = 0
        for chunk in source.chunks(cut=len, size=probe):  # the head comes again first
            size += len(chunk)
            if whole is not None:
                whole.append(chunk)
                if size > 2 * probe:
                    whole = None
            has_end = sep in chunk.rstrip(b"\r\n")  # not the end of the input's last record
            ends += has_end and bool(tail)
            tail.append((chunk, has_end))
            kept += len(chunk)
            while len(tail) > 1 and kept - len(tail[0][0]) >= probe and (ends or kept - len(tail[0][0]) >= MAX_PROBE_BYTES):
                kept -= len(tail.popleft()[0])
                ends -= tail[0][1]  # the new first chunk no longer counts
        if whole is not None:
            return b"".join(whole), None
        return head, b"".join(chunk for chunk, _ in tail)
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


def _records(data: bytes, cut_short: bool = False) -> list[bytes]:
    """`data` split into records: at blank lines, or at newlines when there are none (`-G`,
    samples without call chains). Side-event lines (`--show-task-events`, `--show-mmap-events`:
    thousands before the first sample, with no blank line between) are left out: they are no
    samples, and a run of them cut short by the probe must not take the sample after it along.
    Each record is cut after its header line (`_header_part`). With `cut_short` (`data` ends
    where the probe ended), the last record is kept only when its header line is whole."""
    sep = RECORD_END if RECORD_END in data else b"\n"
    records = []
    pieces = data.split(sep)
    for i, record in enumerate(pieces):
        last = cut_short and i == len(pieces) - 1
        if SIDE_EVENT in record:
            record = b"\n".join(line for line in record.split(b"\n") if SIDE_EVENT not in line)
        part, whole = _header_part(record)
        if last and not whole:
            continue
        if part.strip():
            records.append(part)
    return records


def _header_part(record: bytes) -> tuple[bytes, bool]:
    """`record` up to the end of its first sample header line (the comment lines before it, `#`
    lines as `perf script --header` writes them, kept),
    and whether that line ends within `record` (else it may be cut short); the whole record and
    False when no line of it is a header the Python twin recognises."""
    start = 0
    while start < len(record):
        end = record.find(b"\n", start)
        line = record[start:] if end < 0 else record[start:end]
        if line[:1] != b"#" and is_header(line):
            return (record, False) if end < 0 else (record[:end], True)
        if end < 0:
            break
        start = end + 1
    return record, False


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
        first, first_seen = _first_time(_records(head, cut_short=True), options)
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
