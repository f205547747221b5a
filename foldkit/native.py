"""The one door to the native core (`foldkit._native`, the Rust extension built with the package).

`native_core()` gives the module, or None when it is not built or `FOLDKIT_NATIVE=0` switches it
off (then the pure-Python twins run alone; tests use this to compare the two). Every caller asks
here; nothing else imports `foldkit._native`. What the module holds is typed in
`foldkit/_native.pyi`; `NativeCore` is the part of it foldkit uses, and mypy checks the module
against it where `load_native` returns it.
"""

from __future__ import annotations

import os

#: `typing.TYPE_CHECKING` without importing typing (this module loads with every command,
#: the plain flame graph's too: `foldkit.cli.plain`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO, Protocol

    from foldkit import _native

#: Environment variable that, set to 0, keeps the native core out of use.
NATIVE_SWITCH = "FOLDKIT_NATIVE"


if TYPE_CHECKING:

    class NativeCore(Protocol):
        """The native core as foldkit's callers see it (signatures and docs: `foldkit/_native.pyi`)."""

        __version__: str
        PerfFolder: type[_native.PerfFolder]
        RecordTooLong: type[_native.RecordTooLong]
        StreamUnusable: type[_native.StreamUnusable]
        FoldedReader: type[_native.FoldedReader]
        FoldedStacks: type[_native.FoldedStacks]
        BpftraceReader: type[_native.BpftraceReader]
        BccReader: type[_native.BccReader]

        def folded_text(self, weights: dict[str, Any]) -> bytes | None: ...
        def folded_write(self, weights: dict[str, Any], path: str | None, new: bool) -> bool: ...
        def pprof_bytes(
            self, rows: list[tuple[bytes, int, int, bool]], types: list[tuple[bytes, bytes]], default: bytes, diff_base: bool
        ) -> bytes: ...
        def fold_pprof(
            self, data: bytes, wanted: bytes | None = ..., inline: bool = ...
        ) -> tuple[list[tuple[str, str]], int | None, int, dict[str, int], dict[str, int] | None, dict[str, int]]: ...
        def demangle(self, symbol: bytes) -> bytes: ...
        def table_svg(self, table: Any, threshold: int, max_frames: int, page: dict[str, object]) -> bytes | None: ...
        def table_svg_write(
            self, table: Any, threshold: int, max_frames: int, page: dict[str, object], path: str | None, new: bool
        ) -> bool: ...
        def svg_frames(
            self,
            names: list[str],
            depths: list[int],
            starts: list[int | float],
            weights: list[int | float],
            fills: dict[str, str],
            style: dict[str, object],
        ) -> bytes | None: ...
        def layout_frames(
            self,
            stacks: dict[str, int | float] | list[tuple[str, int | float]],
            chart: bool,
            threshold: int,
            max_frames: int,
            sort_by_weight: bool,
        ) -> _native._Frames | None: ...
        def read_folded_file(
            self, path: str | os.PathLike[str], threads: int, max_record: int, max_deferred: int = ..., min_split: int = ...
        ) -> _native.FoldedStacks | None: ...
        def viewer_tree(
            self, sides: list[Any], root: str, scales: list[float] | None = None, reverse: bool = False
        ) -> _native.ViewerTree | None: ...
        def read_folded_file_later(
            self,
            path: str | os.PathLike[str],
            threads: int,
            max_record: int,
            max_deferred: int = ...,
            min_split: int = ...,
            viewer_root: str | None = None,
        ) -> _native.PendingStacks: ...
        # the tables are `FoldedStacks`, which callers hold as `LazyProfile.table` (a `StackTable`)
        def table_folded_text(self, table: Any) -> bytes | None: ...
        def table_folded_write(self, table: Any, path: str | None, new: bool) -> bool: ...
        def table_top(
            self, table: Any, by: str, roots: int, sort_self: bool, limit: int
        ) -> tuple[list[str], list[int], list[int], int] | None: ...
        def table_difffolded_write(self, before: Any, after: Any, out: BinaryIO | None = None) -> bool: ...
        # time-ordered samples (`foldkit.timeline`): arrays as bytes, see `foldkit/_native.pyi`
        def timeline_filter(
            self, times: bytes, ids: bytes, weights: bytes, mapping: bytes | None = ..., window: tuple[float, float] | None = ...
        ) -> tuple[bytes, bytes, bytes]: ...
        def timeline_sums(self, ids: bytes, weights: bytes, stacks: int) -> tuple[list[int], list[int]]: ...
        def timeline_first_time(self, times: bytes) -> float | None: ...
        def timeline_span(self, times: bytes, weights: bytes) -> tuple[float, float] | None: ...
        def timeline_runs(self, times: bytes, ids: bytes, weights: bytes) -> tuple[bytes, bytes, int, int] | None: ...
        def timeline_chart_layout(
            self, stacks: list[str], run_ids: bytes, run_weights: bytes, threshold: int, max_frames: int
        ) -> _native._Frames: ...
        def timeline_cells(
            self, times: bytes, ids: bytes, weights: bytes, nodes: bytes, start: float, rows: float
        ) -> tuple[bytes, list[int]]: ...
        def viewer_stack_nodes(self, tree: _native.ViewerTree, stacks: list[str]) -> bytes: ...
        def timeline_split(
            self, times: bytes, ids: bytes, weights: bytes, group: bytes, local: bytes, groups: int
        ) -> list[tuple[bytes, bytes, bytes]]: ...
        def timeline_sorted(self, times: bytes, ids: bytes, weights: bytes) -> tuple[bytes, bytes, bytes] | None: ...
        def timeline_speedscope(
            self, stacks: list[str], times: bytes, ids: bytes, weights: bytes
        ) -> tuple[bytes, bytes, bytes, int] | None: ...
        def table_changes(
            self, before: Any, after: Any, roots: int, scale: float, before_pct: float, after_pct: float, sort_self: bool, limit: int
        ) -> tuple[list[str], list[int], list[int], list[int], list[int], int] | None: ...
        def table_frame_sums(
            self, table: Any, names: list[str], parents: list[int], absent_from: Any = ..., threads: int = ...
        ) -> tuple[list[int], list[int], int, int] | None: ...
        # `foldkit check`'s columns (`foldkit.regression.gate`)
        def table_check_sums(
            self, tables: list[Any], base: int, roots: int, floor: float, min_expected: float
        ) -> tuple[list[str], list[int]] | None: ...
        def table_check_totals(self, table: Any, roots: int) -> tuple[int, int, int] | None: ...
        def table_stacks_ending_in(self, table: Any, roots: int, leaves: list[str]) -> list[tuple[str, int]]: ...
        def table_each_name(self, tables: list[Any], roots: int, visit: Callable[[list[str]], object]) -> bool: ...
        def table_pattern_sums(self, table: Any, roots: int, names: list[str]) -> tuple[int, int] | None: ...
        def table_pattern_match(
            self, tables: list[Any], roots: int, exact: str, loose: str, literal: bool, ascii_only: bool
        ) -> list[tuple[int, int]] | None: ...

else:
    NativeCore = object  # annotations only, when running


def load_native() -> NativeCore | None:
    """The native core whether or not it is switched off, or None when it is not built.

    Only for what exists natively alone and serves both implementations (`--demangle`'s
    demanglers) and for `native_status`; everything with a twin asks `native_core()`."""
    try:
        import foldkit._native as native
    except ImportError:
        return None
    return native


def native_core() -> NativeCore | None:
    """The native core, or None when it is not built or switched off (`FOLDKIT_NATIVE=0`)."""
    if os.environ.get(NATIVE_SWITCH, "1").strip() == "0":
        return None
    return load_native()


def native_status() -> str:
    """One line saying whether the native core is in use, and its version."""
    module = load_native()
    if module is None:
        return "native core: not built (pure-Python folding)"
    if native_core() is None:
        return f"native core: {module.__version__}, switched off by {NATIVE_SWITCH}=0 (pure-Python folding)"
    return f"native core: {module.__version__}, in use"


__all__ = ["NATIVE_SWITCH", "NativeCore", "load_native", "native_core", "native_status"]
