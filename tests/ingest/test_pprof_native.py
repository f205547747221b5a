"""The native pprof reader (`_native.fold_pprof`, prost) and the pure-Python one
(`pprof.fold_python`, `foldkit.ingest.proto`) are twins: the same stacks in the same order, the
same sums, counts, BEFORE side and notes on every profile, and the same refusals of bad ones."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from foldkit.errors import InputError, UsageError
from foldkit.export.pprof import to_pprof_bytes
from foldkit.ingest import pprof
from foldkit.ingest.options import FoldOptions
from foldkit.ingest.proto import field_bytes, field_packed, field_varint
from foldkit.inputs import open_source
from foldkit.native import native_core
from foldkit.profile import Profile
from tests.support.bpf import capture_path, fold
from tests.support.common import DATA

pytestmark = pytest.mark.skipif(native_core() is None, reason="needs the native core")

PPROF = DATA / "pprof"


def _both(path: Path, **options: object) -> tuple[Profile, Profile]:
    got = []
    for reader in (pprof.fold, pprof.fold_python):
        source = open_source(str(path))
        try:
            got.append(reader(source, FoldOptions(**options)))  # type: ignore[arg-type]
        finally:
            source.close()
    return got[0], got[1]


def _same(native: Profile, python: Profile) -> None:
    assert list(native.weights.items()) == list(python.weights.items())  # order too
    assert native.counts == python.counts
    assert native.before == python.before
    assert (native.unit, native.event, native.meta) == (python.unit, python.event, python.meta)
    assert native.diagnostics.notes == python.diagnostics.notes


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("cpu.pb.gz", {}),
        ("cpu.pb.gz", {"inline": True}),
        ("heap.pb.gz", {}),
        ("heap.pb.gz", {"sample_type": "alloc_objects"}),
        ("heap.pb.gz", {"sample_type": "alloc_space"}),
    ],
)
def test_go_profiles_fold_the_same(name: str, options: dict[str, object]) -> None:
    native, python = _both(PPROF / name, **options)
    assert native.weights
    _same(native, python)


@pytest.mark.parametrize("name", ["perf-c-fp", "perf-system-mixed", "bcc-profile"])
def test_exports_fold_the_same(tmp_path: Path, name: str) -> None:
    out = tmp_path / "x.pb"
    out.write_bytes(to_pprof_bytes(fold(capture_path(name))))
    _same(*_both(out))


def test_diff_base_form_folds_the_same(tmp_path: Path) -> None:
    profile = Profile(weights={"a;b": 5, "a;c": 2}, before={"a;b": 3, "a;d": 4}, unit="samples")
    out = tmp_path / "d.pb"
    out.write_bytes(to_pprof_bytes(profile))
    native, python = _both(out)
    _same(native, python)
    assert native.weights == {"a;b": 5, "a;c": 2} and native.before == {"a;b": 3, "a;d": 4}


def _profile_bytes(samples: list[bytes], strings: list[bytes], extra: bytes = b"") -> bytes:
    """A hand-made profile: one sample type (strings 1 and 2), the given samples and strings."""
    head = field_bytes(1, field_varint(1, 1) + field_varint(2, 2))
    return head + b"".join(field_bytes(2, s) for s in samples) + extra + b"".join(field_bytes(6, s) for s in strings)


def test_odd_profiles_fold_the_same(tmp_path: Path) -> None:
    """Unknown locations, functions and mappings, nameless functions, unnamed mappings, names
    with `;` and line breaks, repeated ids (the last wins), two location lists folding to one
    stack, samples without locations or values, sparse ids."""
    loc = lambda ident, mapping, *fns: field_bytes(4, field_varint(1, ident) + field_varint(2, mapping) + b"".join(field_bytes(4, field_varint(1, f)) for f in fns))  # noqa: E731
    fn = lambda ident, name: field_bytes(5, field_varint(1, ident) + field_varint(2, name))  # noqa: E731
    mapping = lambda ident, file: field_bytes(3, field_varint(1, ident) + field_varint(5, file))  # noqa: E731
    sample = lambda locs, values: field_packed(1, locs) + field_packed(2, values)  # noqa: E731
    strings = [b"", b"cpu", b"count", b"main;x", b"line\nbreak", b"/usr/lib/libc.so.6", b"dup", b"lib/"]
    extra = (
        loc(1, 0, 10, 11) + loc(2, 7) + loc(3, 8) + loc(4, 0, 12) + loc(5, 0, 13) + loc(1 << 40, 9, 10)
        + loc(6, 0, 10) + loc(6, 0, 11)
        + fn(10, 3) + fn(11, 4) + fn(12, 0) + fn(13, 6) + fn(13, 3)
        + mapping(7, 5) + mapping(8, 0) + mapping(9, 7)
    )  # fmt: skip
    samples = [
        sample([1, 2], [3]), sample([2, 3, 4, 5], [4]), sample([99, 1], [5]), sample([], [6]), sample([1 << 40], [7]),
        sample([6], [1]), sample([4], []), sample([5], [0]), sample([1, 2], [-2]),
    ]  # fmt: skip
    path = tmp_path / "odd.pb"
    path.write_bytes(_profile_bytes(samples, strings, extra))
    for options in ({}, {"inline": True}):
        native, python = _both(path, **options)
        _same(native, python)
    assert len(native.weights) >= 5


def test_bad_profiles_are_refused_alike(tmp_path: Path) -> None:
    data = gzip.decompress((PPROF / "cpu.pb.gz").read_bytes())
    path = tmp_path / "cut.pb"
    for cut in (5, 100, 700, len(data) // 2, len(data) - 3):
        path.write_bytes(data[:cut])
        for reader in (pprof.fold, pprof.fold_python):
            with pytest.raises(InputError, match="not a well-formed pprof profile"):
                reader(open_source(str(path)), FoldOptions())
    path.write_bytes(_profile_bytes([field_packed(2, [1])], [b"", b"cpu"]))  # unit index out of range
    for reader in (pprof.fold, pprof.fold_python):
        with pytest.raises(InputError, match="string index 2 out of range"):
            reader(open_source(str(path)), FoldOptions())
    for reader in (pprof.fold, pprof.fold_python):
        with pytest.raises(UsageError, match="no sample type 'x'"):
            reader(open_source(str(PPROF / "cpu.pb.gz")), FoldOptions(sample_type="x"))


def _python_bytes(profile: Profile) -> bytes:
    """What `to_pprof_bytes` writes with the native core switched off."""
    from unittest import mock

    with mock.patch("foldkit.export.pprof.native_core", return_value=None):
        return to_pprof_bytes(profile)


@pytest.mark.parametrize("name", ["perf-c-fp", "perf-system-mixed", "bcc-profile", "bpftrace-kstack-ustack-comm"])
def test_the_native_writer_writes_the_python_writers_bytes(name: str) -> None:
    profile = fold(capture_path(name))
    native = to_pprof_bytes(profile)
    assert native == _python_bytes(profile)
    assert len(native) > 1000


def test_the_writers_agree_on_odd_frames_diffs_and_big_values() -> None:
    weights = {"a;[]": 1, "a;[unknown]": 2, "a;x_[k]": 3, "a;[a b]": 4, "a;[libc.so.6];\udcff": 5, "": 6, "a;;b": 7, "a;b": 2.6}
    plain = Profile(weights=weights, unit="samples", sources=["/x/cap.perf"])  # type: ignore[arg-type]
    assert to_pprof_bytes(plain) == _python_bytes(plain)
    diff = Profile(weights={"a;b": 5, "a;c": 2}, before={"a;b": 3, "a;d": 4, "a;e": 0}, unit="ns", event="cpu-clock", counts={"a;b": 1, "a;c": 1})
    assert to_pprof_bytes(diff) == _python_bytes(diff)
    huge = Profile(weights={"a": 2**70}, unit="samples")
    assert to_pprof_bytes(huge) == _python_bytes(huge)  # beyond int64: the Python writer's
