"""The native folded reader against its Python twin: the same Profile (stacks, weights and their
types, first-seen order, diagnostics) for generated text cut into random chunks and for every
folded file the tests ship."""

from __future__ import annotations

from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from foldkit import _native
from foldkit.errors import InputError
from foldkit.ingest import FoldOptions
from foldkit.ingest.folded import fold_chunks
from foldkit.profile import Profile
from tests.support.common import DATA, chunked

ROOT = Path(__file__).resolve().parents[1]
FOLDED_FILES = sorted(
    {*DATA.rglob("*.folded*"), *DATA.rglob("*collapsed*"), *DATA.rglob("*-folded.txt*"), *(ROOT / "golden").rglob("*.folded*")}
)

FRAMES = st.sampled_from(["a", "b", "main", "a b", "x+0x1f", "f 12", "é", "", "#c", "1.5", "-", "\x00", "[unknown] ", " lead", "7 "])
STACKS = st.lists(FRAMES, min_size=1, max_size=5).map(";".join).map(lambda s: s.encode("utf-8"))
WEIGHTS = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(lambda n: str(n).encode()),
    st.sampled_from([b"007", b"999999999999999999", b"1000000000000000000", b"9223372036854775808", b"123456789012345678901234567890"]),
    st.sampled_from([b"1.5", b"0.25", b"1e3", b"-4", b"-0", b".5", b"+3", b"0x10", b"12abc", b"", b"NaN"]),
)
SEPARATORS = st.sampled_from([b" ", b" ", b" ", b"  ", b"\t"])
ENDINGS = st.sampled_from([b"\n", b"\n", b"\n", b"\r\n", b"\r\r\n", b" \n"])
LINE = st.one_of(
    st.tuples(STACKS, SEPARATORS, WEIGHTS, ENDINGS).map(b"".join),
    st.tuples(STACKS, st.just(b" "), WEIGHTS, st.just(b" "), WEIGHTS, ENDINGS).map(b"".join),
    st.sampled_from([b"# comment\n", b"# foldkit: unit=ns event=cpu-clock\n", b"\n", b"   \n", b"\xff\xfe 3\n", b"no weight\n", b"7\n", b" 7\n", b"a;b 1"]),
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"") + b"\n"),
)


def outcome(chunks: list[bytes], native: bool, options: FoldOptions | None = None) -> tuple[object, ...]:
    try:
        profile = fold_chunks("in.folded", iter(chunks), options or FoldOptions(), native=native)
    except InputError as exc:
        return ("error", str(exc))
    return described(profile)


def described(profile: Profile) -> tuple[object, ...]:
    """Everything that must match, order and number types included."""
    d = profile.diagnostics
    return (
        [(s, w, type(w)) for s, w in profile.weights.items()],
        d.bad_lines,
        d.bad_examples,
        d.warnings,
        d.notes,
        profile.unit,
        profile.event,
    )


def test_the_native_core_is_built() -> None:
    assert _native is not None and hasattr(_native, "FoldedReader")


@settings(max_examples=400)
@given(st.lists(LINE, max_size=30).map(b"".join), st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_native_equals_python_on_generated_text(text: bytes, cuts: list[int]) -> None:
    chunks = chunked(text, cuts)
    assert b"".join(chunks) == text
    assert outcome(chunks, native=True) == outcome(chunks, native=False)


@pytest.mark.parametrize("path", FOLDED_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_native_equals_python_on_shipped_files(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    chunks = chunked(data, list(range(0, len(data), max(1, len(data) // 7))))
    for options in (FoldOptions(), FoldOptions(kernel=True)):
        native = outcome(chunks, native=True, options=options)
        assert native == outcome(chunks, native=False, options=options)
    assert native[0] or not data.strip(), "the file holds stacks"


def test_a_decimal_after_plain_lines_keeps_exact_sums_and_order() -> None:
    text = b"b 9007199254740993\na 1\nb 0.5\nc 2\nb 1\n"
    profile = fold_chunks("x", [text], FoldOptions())
    assert list(profile.weights.items()) == [("b", 9007199254740993 + 0.5 + 1), ("a", 1), ("c", 2)]
    assert outcome([text], True) == outcome([text], False)


def test_a_panic_in_the_native_reader_is_an_input_error_naming_the_file(monkeypatch) -> None:
    class Panicking:
        def feed(self, chunk: bytes, pos: int) -> None:
            raise RuntimeError("internal error in the native folded reader: boom")

    monkeypatch.setattr(_native, "FoldedReader", Panicking)
    with pytest.raises(InputError, match=r"^cpu\.folded: internal error in the native folded reader"):
        fold_chunks("cpu.folded", [b"a;b 1\n"], FoldOptions())


def test_bad_lines_keep_their_numbers_across_chunks() -> None:
    chunks = [b"a 1\r\n\r\n", b"oops\n# c\n", b"b 2\nworse"]
    profile = fold_chunks("f.folded", chunks, FoldOptions())
    assert profile.weights == {"a": 1, "b": 2}
    assert profile.diagnostics.bad_examples == [("f.folded", 3, "oops"), ("f.folded", 6, "worse")]


def test_whitespace_at_the_start_of_a_line_is_stripped_by_both_readers(tmp_path: Path) -> None:
    text = b" a;b 1\n\ta;b 2\na; c 4\n  \nb 5\n"
    native = outcome([text], True)
    assert native == outcome([text], False)
    assert native[0] == [("a;b", 3, int), ("a; c", 4, int), ("b", 5, int)]
    path = tmp_path / "lead.folded"
    path.write_bytes(text)
    from foldkit.ingest import read

    assert read(str(path)).weights == {"a;b": 3, "a; c": 4, "b": 5}
