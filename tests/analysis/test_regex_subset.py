"""`check --function/--budget` patterns decided by the native core (`regex_subset.rust_pattern`
translated, `_native.table_pattern_match` summed) against Python's `re.search` on every frame of
the same stack table; patterns outside the subset, and tables the translation is not proven on,
go back to Python's `re` with the same verdict."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from foldkit.analysis.regex_subset import rust_pattern
from foldkit.ingest import FoldOptions
from foldkit.ingest.folded import fold_file
from foldkit.native import native_core
from foldkit.profile import LazyProfile
from foldkit.regression import gate
from foldkit.regression.gate import Budget, CheckOptions
from tests.analysis.test_check_native import both, outputs, read_table

#: Characters names are made of: ASCII letters whose case folds (k, s), digits and white space of
#: Unicode that ASCII classes miss (Arabic three, no-break space, \x1c), the Kelvin sign and long s
#: (which Python folds to k and s), a dotted capital, an underscore and punctuation.
ALPHABET = ["a", "b", "k", "K", "s", "S", "_", "0", "9", "-", ".", " ", "é", "É", "\u212a", "\u017f", "\u0663", "\u00a0", "\x1c", "\t", "x"]
#: Stacks of one to three frames, every name of a table ASCII or not (half the tables each: ASCII
#: tables are where classes and case folding are decided natively).
STACKS = st.sampled_from([[c for c in ALPHABET if c.isascii()], ALPHABET]).flatmap(
    lambda alphabet: st.lists(st.lists(st.text(st.sampled_from(alphabet), max_size=6), min_size=1, max_size=3), min_size=1, max_size=12)
)
#: Pieces of patterns: literals, classes, categories, anchors, word boundaries, lookarounds.
ATOMS = st.sampled_from(
    [
        "a", "k", "K", "s", "é", "\u212a", "\u017f", "x", r"\.", "-", " ", "_", "0",
        ".", "[ab]", "[^a]", "[a-k]", "[A-Z]", "[à-ÿ]", r"[\w-]", r"[^\W_]", r"[\d\s]",
        r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", "^", "$", r"\A", r"\Z", r"\b", r"\B",
        "(?=a)", "(?<!b)", "[^\u212a]",
    ]
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda p: f"(?:{p[0]}|{p[1]})"),
        inner.map(lambda p: f"({p})"),
        st.tuples(inner, st.sampled_from(["*", "+", "?", "{1,2}", "{2}", "*?", "+?", "??", "*+"])).map("".join),
        st.tuples(st.sampled_from(["i", "m", "s", "a", "-i", "i-s"]), inner).map(lambda p: f"(?{p[0]}:{p[1]})"),
    )


PATTERN = st.recursive(ATOMS, _combine, max_leaves=6)
FLAGS = st.sampled_from([0, re.IGNORECASE, re.ASCII, re.MULTILINE | re.DOTALL, re.IGNORECASE | re.ASCII])


def compiled(source: str, flags: int) -> re.Pattern[str] | None:
    """`source` compiled with `flags`, or None when Python refuses it."""
    try:
        return re.compile(source, flags)
    except re.error:
        return None


def table_of(lines: list[tuple[str, int]]) -> LazyProfile | None:
    """The stacks of `lines` as a folded file's native table, or None when the native reader
    leaves them to the stream reader (a stack ending in a number: a two-column line)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.folded"
        path.write_bytes("".join(f"{s} {w}\n" for s, w in lines).encode())
        got = fold_file("n.folded", str(path), FoldOptions(jobs=1), 1 << 26, min_split=1)
    return got if isinstance(got, LazyProfile) and got.table is not None else None


def python_sums(profile: LazyProfile, roots: int, pattern: re.Pattern[str]) -> tuple[int, int]:
    """`(self, total)` of the frames `pattern.search` matches in the table, from its dict."""
    assert profile.table is not None
    own = every = 0
    for stack, weight in profile.table.to_dict().items():
        frames = stack.split(";")[roots:]
        if any(pattern.search(f) for f in frames):
            every += weight
        if frames and pattern.search(frames[-1]):
            own += weight
    return own, every


@settings(max_examples=400, deadline=None)
@given(
    STACKS,
    PATTERN,
    FLAGS,
    st.integers(min_value=0, max_value=1),
)
def test_the_core_decides_as_re_search(stacks: list[list[str]], source: str, flags: int, roots: int) -> None:
    """Each stack weighs a distinct power of two, so the sums say which stacks matched."""
    pattern = compiled(source, flags)
    if pattern is None:
        event("not a pattern")
        return
    native = native_core()
    assert native is not None
    lines = [(";".join(frames), 1 << k) for k, frames in enumerate(stacks)]
    lines = [(s, w) for s, w in lines if s.strip() and s == s.strip()]
    if not lines:
        return
    profile = table_of(lines)
    if profile is None:
        event("not a table (lines the stream reader sums)")
        return
    translated = rust_pattern(pattern)
    if translated is None:
        event("left to Python: outside the subset")
        return
    found = native.table_pattern_match(
        [profile.table], roots, translated.exact, translated.loose, translated.literal, translated.ascii_only
    )
    if found is None:
        event("left to Python: not proven on this table")
        assert translated.ascii_only and not all(s.isascii() for s, _ in lines)
        return
    event("decided natively" + (" (ASCII names)" if translated.ascii_only else ""))
    assert found == [python_sums(profile, roots, pattern)]


@pytest.mark.parametrize(
    ("source", "literal", "ascii_only"),
    [
        ("m1$", False, False),
        ("malloc", True, False),
        ("^json::.*parse", False, False),
        ("é|x", False, False),
        (r"\bfoo", False, True),
        (r"(?i)Mem[a-z]+", False, True),
        (r"std::\w+", False, True),
    ],
)
def test_common_patterns_are_translated(source: str, literal: bool, ascii_only: bool) -> None:
    translated = rust_pattern(re.compile(source))
    assert translated is not None
    assert (translated.literal, translated.ascii_only) == (literal, ascii_only)


@pytest.mark.parametrize(
    "source",
    [r"a(?=b)", r"(?<!x)y", r"(a)\1", r"(a)?(?(1)b|c)", r"a*+", r"(?>ab)", r"\B", "\ud800", r"(?i)\u212a"],
)
def test_what_is_not_proven_is_left_to_python(source: str) -> None:
    assert rust_pattern(re.compile(source)) is None


def test_a_table_the_translation_does_not_hold_on_is_refused() -> None:
    native = native_core()
    assert native is not None
    wide = read_table([("main;\u0663x", 5), ("main;3x", 7)], "w.folded")
    ascii_only = rust_pattern(re.compile(r"\dx"))
    assert ascii_only is not None and ascii_only.ascii_only
    args = (ascii_only.exact, ascii_only.loose, ascii_only.literal, ascii_only.ascii_only)
    assert native.table_pattern_match([wide.table], 0, *args) is None
    plain = read_table([("main;3x", 7), ("main;yx", 1)], "p.folded")
    assert native.table_pattern_match([plain.table], 0, *args) == [(7, 7)]


def test_the_fallback_gives_the_same_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lookahead (outside the subset) and `\\d` on non-ASCII names (not proven there) are
    matched in Python; a literal in the core: every verdict is the dicts' one."""
    base = [[("main;run;parse\u0663", 900), ("main;run;json1", 100), ("main;idle", 500)]]
    cand = [[("main;run;parse\u0663", 1200), ("main;run;json1", 300), ("main;idle", 500)]]
    named: list[int] = []
    each_name = gate.native_core().table_each_name  # type: ignore[union-attr]

    def counting(*args: object) -> bool:
        named.append(1)
        return each_name(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(gate, "native_core", lambda: _Counting(counting))
    for functions, python in ((("parse(?=\u0663)",), True), ((r"json\d",), True), (("run",), False)):
        named.clear()
        options = CheckOptions(functions=functions, budgets=(Budget.parse("self:idle<=10%"),))
        native, reference = both(base, cand, options)
        assert outputs(native) == outputs(reference)
        assert bool(named) == python, functions


class _Counting:
    """The native core with `table_each_name` replaced (to see when Python matches names)."""

    def __init__(self, each_name: object) -> None:
        self._core = native_core()
        self.table_each_name = each_name

    def __getattr__(self, name: str) -> object:
        return getattr(self._core, name)


#: Every ASCII character a name can hold, alone and between two others (white space only inside).
ASCII_NAMES = [chr(c) for c in range(33, 127) if chr(c) != ";"] + [f"x{chr(c)}_" for c in range(1, 128) if chr(c) not in "\n\r;"]


@pytest.mark.parametrize("flags", [0, re.IGNORECASE, re.ASCII, re.MULTILINE])
def test_every_piece_decides_as_re_search_on_every_ascii_character(flags: int) -> None:
    """Each piece of ATOMS (and its repeat, and its negation where it is a class) on every ASCII
    character: the classes' sets and case folding, exhaustively."""
    native = native_core()
    assert native is not None
    tables = [table_of([(n, 1 << k) for k, n in enumerate(ASCII_NAMES[i : i + 60])]) for i in range(0, len(ASCII_NAMES), 60)]
    assert all(t is not None for t in tables)
    decided = 0
    for atom in ATOMS.elements:  # type: ignore[attr-defined]
        for source in (atom, f"{atom}+", f"(?:{atom}|_)x"):
            pattern = compiled(source, flags)
            translated = rust_pattern(pattern) if pattern is not None else None
            if pattern is None or translated is None:
                continue
            args = (translated.exact, translated.loose, translated.literal, translated.ascii_only)
            for t in tables:
                assert t is not None
                assert native.table_pattern_match([t.table], 0, *args) == [python_sums(t, 0, pattern)], source
                decided += 1
    assert decided > 100
