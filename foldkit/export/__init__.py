"""Profile exports, chosen by the output file's name: one registry keyed by suffix.

`.folded` (and any name no exporter claims) is FlameGraph's folded text; `.speedscope.json` opens
in speedscope; `.parquet` is a stack table for polars/DuckDB; `.pb.gz`/`.pprof` (gzip'd) and
`.pb` are pprof's profile.proto. Text formats may end in `.gz` or
`.zst` to be compressed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

from foldkit.errors import UsageError
from foldkit.ingest.options import FoldOptions
from foldkit.outputs import COMPRESSION_SUFFIXES, atomic_writer, write_bytes, write_natively
from foldkit.profile import Profile


def _folded(profile: Profile) -> bytes:
    return profile.to_folded_bytes()


def _speedscope(profile: Profile) -> bytes:
    from foldkit.export.speedscope import to_speedscope_bytes

    return to_speedscope_bytes(profile)


def _pprof(profile: Profile) -> bytes:
    from foldkit.export.pprof import to_pprof_bytes

    return to_pprof_bytes(profile)


def _pprof_gzip(profile: Profile) -> bytes:
    from foldkit.export.pprof import to_pprof_bytes

    return to_pprof_bytes(profile, gzipped=True)


def _parquet(profile: Profile) -> bytes:
    from foldkit.export.table import to_parquet_bytes

    return to_parquet_bytes(profile)


@dataclass(frozen=True)
class Exporter:
    """One output format: the suffix that selects it and how to turn a profile into bytes."""

    suffix: str
    name: str
    description: str
    to_bytes: Callable[[Profile], bytes]
    wants_timeline: bool = False  # uses per-sample times when the profile has them
    compressible: bool = True  # may take a .gz/.zst suffix

    def fold_options(self, options: FoldOptions) -> FoldOptions:
        """`options` with what this export can use (sample times for speedscope's time order)."""
        return replace(options, keep_time=True) if self.wants_timeline else options


#: Every export, keyed by the suffix that selects it (the longest matching suffix wins).
EXPORTERS: dict[str, Exporter] = {
    e.suffix: e
    for e in (
        Exporter(".folded", "folded", "FlameGraph folded stacks, sorted (the default)", _folded),
        Exporter(
            ".speedscope.json", "speedscope", "speedscope file: a sampled profile, in time order when known",
            _speedscope, wants_timeline=True,
        ),
        Exporter(
            ".parquet", "parquet", "one row per stack: stack, frames, weight, count, comm, pid, tid, event, unit",
            _parquet, compressible=False,
        ),
        Exporter(".pb", "pprof", "pprof profile.proto (.pb.gz gzip'd, as pprof files are): go tool pprof, Pyroscope, Parca", _pprof),
        Exporter(".pprof", "pprof", "pprof profile.proto, gzip'd (as .pb.gz)", _pprof_gzip, compressible=False),
    )
}  # fmt: skip

DEFAULT = EXPORTERS[".folded"]

#: Suffixes that name another kind of file: writing folded text under them would mislead.
_MISLEADING = {".json": ".speedscope.json", ".pq": ".parquet"}


def exporter_for(path: str | os.PathLike[str] | None) -> Exporter:
    """The exporter an output name selects; folded text for stdout and unclaimed names."""
    if path is None or os.fspath(path) == "-":
        return DEFAULT
    name = os.path.basename(os.fspath(path)).lower()
    compressed = name.endswith(COMPRESSION_SUFFIXES)
    if compressed:
        name = name.rsplit(".", 1)[0]
    for suffix in sorted(EXPORTERS, key=len, reverse=True):
        if name.endswith(suffix):
            exporter = EXPORTERS[suffix]
            if compressed and not exporter.compressible:
                raise UsageError(f"{path}: {exporter.name} files are compressed internally; drop the .gz/.zst suffix")
            return exporter
    for suffix, instead in _MISLEADING.items():
        if name.endswith(suffix):
            raise UsageError(f"{path}: no export is named by {suffix}; did you mean {instead}? ({suffix_list()})")
    return DEFAULT


def suffix_list() -> str:
    """The export suffixes, for messages and help."""
    return ", ".join(EXPORTERS)


def export(profile: Profile, path: str | os.PathLike[str] | None) -> None:
    """Write `profile` to `path` (atomically; `-` or None is stdout) in the format its name selects."""
    exporter = exporter_for(path)
    if exporter.name == "pprof" and path is not None and os.fspath(path).endswith(".gz"):
        # `.pb.gz`: gzip'd at pprof's own level by the exporter (`to_pprof_bytes`), not at the
        # suffix's (level 9: four times the time, and no smaller on profile.proto)
        from foldkit.export.pprof import to_pprof_bytes

        with atomic_writer(path) as fh:
            fh.write(to_pprof_bytes(profile, gzipped=True))
        return
    if exporter is DEFAULT and _write_table(profile, path):
        return
    write_bytes(path, exporter.to_bytes(profile))


def _write_table(profile: Profile, path: str | os.PathLike[str] | None) -> bool:
    """Write the folded text of a profile natively (`outputs.write_natively`: the text never held
    whole): straight from the native table while its stacks are still in it, else from its
    weights (`_native.folded_write`, `to_folded_bytes`' text); False, having written nothing,
    when there is no native core (or a sum is a decimal)."""
    from foldkit.native import native_core
    from foldkit.profile import LazyProfile

    core = native_core()
    if core is None:
        return False
    table = profile.table if isinstance(profile, LazyProfile) else None

    def native(file: str | None, new: bool) -> bool:
        try:
            if table is None:
                return core.folded_write(profile.weights, file, new)
            return core.table_folded_write(table, file, new)
        except RuntimeError:  # a panic in the native core (a bug): written from the bytes instead
            if file is not None and new:
                with contextlib.suppress(OSError):
                    os.unlink(file)  # the temp file it made
            return False

    return write_natively(path, native, profile.to_folded_bytes)


__all__ = ["EXPORTERS", "Exporter", "export", "exporter_for", "suffix_list"]
