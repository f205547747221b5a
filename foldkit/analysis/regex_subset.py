"""Python regular expressions that Rust's `regex` crate decides the same way, translated.

`foldkit check --function/--budget` tests a pattern with `re.search` against every distinct
function name; ten million names cost seconds in Python. The native core can test them on every
core instead (`_native.table_pattern_match`), but only where its answer is provably Python's. So
the pattern is parsed with Python's own parser (`re._parser`, the tree `re.compile` compiles) and
translated node by node into Rust's syntax when every node is in a subset whose meaning is the same
in both engines; anything else (lookarounds, backreferences, conditionals, possessive repeats and
atomic groups, `\\B`, a lone surrogate) gives None, and Python's `re` decides as before.

Why the subset means the same: without backreferences, lookarounds and atomic or possessive
constructs, whether `re.search` finds a match depends only on the set of strings the pattern
describes (greedy or lazy repeats change which match is found, not whether one is), and both
engines describe the same set for:
- literals and `.` (every character written `\\x{...}`, a code point; the names are valid UTF-8,
  which Rust's byte regexes match a code point at a time, as Python matches a `str`);
- character classes of literals and ranges, negated or not;
- alternation, groups (made non-capturing), counted, greedy and lazy repeats;
- `^`, `\\A`, `\\Z` as Rust's `\\A`, `\\z` (and `(?m:^)`); `$` as `\\z`, which is Python's `$`
  only on a name without a trailing newline: the core refuses tables holding a newline;
- classes `\\d`, `\\w`, `\\s`, their negations, `\\b` and case-insensitive matching: Python's are
  Unicode's (and differ from Rust's outside ASCII), so they are written as the ASCII sets Python's
  `re` itself gives on ASCII (computed below, not assumed), and the translation is marked to hold
  on ASCII names only (`ascii_only`): the core then refuses tables that are not all ASCII.
  Case-insensitive patterns are translated only when every character they fold is ASCII too.

The translation also gives a looser pattern for whole stacks (`loose`): the same without its
anchors and word boundaries, which matches a stack whenever the exact pattern matches one of its
frames (a frame is a piece of the stack; dropping an assertion only widens a match); the core
skips the frames of stacks it misses.
"""

from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass

#: `typing.TYPE_CHECKING` without importing typing (a command's start-up loads none of it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Flags a translated pattern may carry (globally or in a group): the others change the meaning
#: in ways not translated (re.LOCALE cannot be given to a `str` pattern; re.DEBUG only prints).
_KNOWN_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.UNICODE | re.ASCII | re.DEBUG


def _ascii_set(category: str, flags: int) -> frozenset[int]:
    """The ASCII code points Python's `re` puts in `category` (`\\d`, `\\w`, `\\s`) under `flags`
    (re.ASCII or not: `\\s` differs, \\x1c-\\x1f are Unicode's white space only)."""
    probe = re.compile(category, flags)
    return frozenset(c for c in range(128) if probe.fullmatch(chr(c)))


#: Per category of `re._parser`'s tree and per re.ASCII (or 0): the ASCII set and whether the
#: category is its complement.
_CATEGORIES: dict[tuple[Any, int], tuple[frozenset[int], bool]] = {
    (category, ascii): (_ascii_set(escape, ascii), negated)
    for ascii in (0, int(re.ASCII))
    for escape, category, negated in (
        (r"\d", sre.CATEGORY_DIGIT, False),
        (r"\d", sre.CATEGORY_NOT_DIGIT, True),
        (r"\w", sre.CATEGORY_WORD, False),
        (r"\w", sre.CATEGORY_NOT_WORD, True),
        (r"\s", sre.CATEGORY_SPACE, False),
        (r"\s", sre.CATEGORY_NOT_SPACE, True),
    )
}


@dataclass(frozen=True)
class RustPattern:
    """A pattern in Rust's syntax: `exact` tests one name, `loose` a whole stack (a superset);
    `literal` when `exact` is the plain text a name must hold; `ascii_only` when the meaning is
    Python's on ASCII names only."""

    exact: str
    loose: str
    literal: bool
    ascii_only: bool


class _Untranslatable(Exception):
    """A node outside the subset."""


def _char(c: int) -> str:
    if 0xD800 <= c <= 0xDFFF:
        raise _Untranslatable("a surrogate")
    return f"\\x{{{c:X}}}"


class _Translator:
    """One pattern's translation: the exact and the loose forms at once."""

    def __init__(self) -> None:
        self.ascii_only = False

    def ascii_char(self, c: int, ignore: bool) -> None:
        """A character under case folding must be ASCII (folded the same way there)."""
        if ignore:
            self.ascii_only = True
            if c >= 128:
                raise _Untranslatable("non-ASCII case folding")

    def seq(self, items: Any, flags: int) -> tuple[str, str]:
        exact, loose = [], []
        for op, av in items:
            e, lo = self.node(op, av, flags)
            exact.append(e)
            loose.append(lo)
        return "".join(exact), "".join(loose)

    def node(self, op: Any, av: Any, flags: int) -> tuple[str, str]:
        ignore = bool(flags & re.IGNORECASE)
        if op is sre.LITERAL:
            self.ascii_char(av, ignore)
            text = f"(?i:{_char(av)})" if ignore else _char(av)
            return text, text
        if op is sre.NOT_LITERAL:
            self.ascii_char(av, ignore)
            text = f"[^{_char(av)}]"
            text = f"(?i:{text})" if ignore else text
            return text, text
        if op is sre.ANY:
            text = "(?s:.)" if flags & re.DOTALL else "."
            return text, text
        if op is sre.IN:
            text = self.in_class(av, ignore, flags & re.ASCII)
            return text, text
        if op is sre.BRANCH:
            pairs = [self.seq(alt, flags) for alt in av[1]]
            return "(?:" + "|".join(e for e, _ in pairs) + ")", "(?:" + "|".join(lo for _, lo in pairs) + ")"
        if op is sre.SUBPATTERN:
            _group, add, remove, sub = av
            if (add | remove) & ~_KNOWN_FLAGS:
                raise _Untranslatable("a flag")
            e, lo = self.seq(sub, (flags | add) & ~remove)
            return f"(?:{e})", f"(?:{lo})"
        if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
            low, high, sub = av
            count = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
            e, lo = self.seq(sub, flags)
            return f"(?:{e}){count}", f"(?:{lo}){count}"
        if op is sre.AT:
            return self.at(av, flags), ""
        raise _Untranslatable(str(op))

    def at(self, where: Any, flags: int) -> str:
        if where is sre.AT_BEGINNING:
            return "(?m:^)" if flags & re.MULTILINE else r"\A"
        if where is sre.AT_BEGINNING_STRING:
            return r"\A"
        if where is sre.AT_END:
            return "(?m:$)" if flags & re.MULTILINE else r"\z"
        if where is sre.AT_END_STRING:
            return r"\z"
        if where is sre.AT_BOUNDARY:
            # Python's \b on ASCII: between a [0-9A-Za-z_] character and another (or an end),
            # never in an empty string, as Rust's ASCII \b
            self.ascii_only = True
            return r"(?-u:\b)"
        # \B: Python's never matches an empty string, Rust's does
        raise _Untranslatable(str(where))

    def in_class(self, items: Any, ignore: bool, ascii: int) -> str:
        parts = []
        negate = False
        for op, av in items:
            if op is sre.NEGATE:
                negate = True
            elif op is sre.LITERAL:
                self.ascii_char(av, ignore)
                parts.append(_char(av))
            elif op is sre.RANGE:
                low, high = av
                self.ascii_char(low, ignore)
                self.ascii_char(high, ignore)
                parts.append(f"{_char(low)}-{_char(high)}")
            elif op is sre.CATEGORY and (av, ascii) in _CATEGORIES:
                self.ascii_only = True
                members, negated = _CATEGORIES[(av, ascii)]
                parts.append(("[^" if negated else "[") + "".join(_char(c) for c in sorted(members)) + "]")
            else:
                raise _Untranslatable(str(op))
        text = ("[^" if negate else "[") + "".join(parts) + "]"
        return f"(?i:{text})" if ignore else text


def rust_pattern(pattern: re.Pattern[str]) -> RustPattern | None:
    """`pattern` in Rust's syntax, with the same `re.search` decision on every name of a table
    the core accepts for it (see the module's docstring); None when it is outside the subset."""
    if not isinstance(pattern.pattern, str) or pattern.flags & ~_KNOWN_FLAGS:
        return None
    try:
        tree = sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError):  # pragma: no cover - it compiled
        return None
    flags = tree.state.flags
    items = list(tree)
    if not flags & re.IGNORECASE and all(op is sre.LITERAL for op, _ in items):
        text = "".join(chr(c) for _, c in items)
        if any(0xD800 <= c <= 0xDFFF for _, c in items):
            return None
        return RustPattern(text, text, True, False)
    translator = _Translator()
    try:
        exact, loose = translator.seq(items, flags)
    except (_Untranslatable, RecursionError):
        return None
    return RustPattern(exact, loose, False, translator.ascii_only)
