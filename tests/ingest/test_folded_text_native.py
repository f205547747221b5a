"""The native folded-text writer against its Python twin: the same bytes for generated profiles
(stacks with any characters, surrogate escapes included; integer weights of any size, floats),
and the fallback to Python whenever a weight is not a plain int that fits in 128 bits."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.native import NATIVE_SWITCH
from foldkit.profile import Profile

STACKS = st.one_of(
    st.text(max_size=30),
    st.binary(max_size=30).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.lists(st.sampled_from(["main", "a b", "é", "", "x;y", "\x00", "Z"]), min_size=1, max_size=4).map(";".join),
)
INTS = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, 2**127 - 1, -(2**127)]))
WEIGHTS = st.one_of(INTS, st.sampled_from([2**127, -(2**127) - 1, 10**50]), st.floats(allow_nan=False), st.booleans())


def python_text(weights: dict[str, object]) -> bytes:
    return "".join(line + "\n" for line in Profile(weights=weights).folded_lines()).encode("utf-8", "surrogateescape")  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(STACKS, INTS, max_size=40))
def test_integer_weights_give_the_python_bytes(weights: dict[str, int]) -> None:
    assert _native.folded_text(weights) == python_text(weights)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(STACKS, WEIGHTS, max_size=20))
def test_other_weights_are_left_to_python(weights: dict[str, object]) -> None:
    plain = all(type(w) is int and -(2**127) <= w < 2**127 for w in weights.values())  # type: ignore[operator]
    got = _native.folded_text(weights)
    assert (got is not None) == plain
    if got is not None:
        assert got == python_text(weights)


@pytest.mark.parametrize("header", [False, True])
def test_profile_text_is_the_same_with_and_without_the_native_core(monkeypatch: pytest.MonkeyPatch, header: bool) -> None:
    profile = Profile(weights={"b;\udcff": 3, "a;é": 2**80, "a": -1}, unit="ns", event="cpu-clock")
    native = profile.to_folded_bytes(header=header)
    monkeypatch.setenv(NATIVE_SWITCH, "0")
    assert profile.to_folded_bytes(header=header) == native
    assert native.endswith(b"a -1\na;\xc3\xa9 1208925819614629174706176\nb;\xff 3\n")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(STACKS, WEIGHTS, max_size=20))
def test_the_file_writer_writes_the_text_or_makes_nothing(weights: dict[str, object]) -> None:
    expected = _native.folded_text(weights)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.folded")
        written = _native.folded_write(weights, path, True)
        assert written == (expected is not None)
        if written:
            with open(path, "rb") as fh:
                assert fh.read() == expected
            assert os.stat(path).st_mode & 0o777 == 0o600
            with pytest.raises(FileExistsError):
                _native.folded_write(weights, path, True)  # `new`: never over a file
            assert _native.folded_write({"z": 1}, path, False)  # truncated, then written
            with open(path, "rb") as fh:
                assert fh.read() == b"z 1\n"
        else:
            assert not os.path.exists(path)


def test_many_stacks_are_written_in_pieces_as_the_text(tmp_path: Path) -> None:
    weights = {f"proc-{i % 7};lib::outer_{i % 13};function_{i:06d};" + "x" * (i % 300): i * 7 - 3 for i in range(20_000)}
    path = str(tmp_path / "big.folded")
    assert _native.folded_write(weights, path, True)
    with open(path, "rb") as fh:
        assert fh.read() == _native.folded_text(weights) == python_text(weights)  # type: ignore[arg-type]
