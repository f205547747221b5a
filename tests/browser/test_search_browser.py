"""Searching never hangs a page (issue 27): the SVG's script, the HTML viewer and their
differential forms search with the bounded matcher of foldkit/render/search.js, so patterns that
make a backtracking engine run for ever (`(a+)+$`, `(a|aa)*b`, `(.*a){20}` against names built
for them) answer at once, from a link and from the search box; patterns it cannot bound are
refused and a search that spends its budget stops, each with a message. In Debian's headless
chromium (tests/support/browser.py). Each page is checked to still answer (an evaluate() that
returns) under Playwright's default timeout of 30 s, which a frozen page would exceed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from foldkit.analysis.diff import diff_profiles
from foldkit.profile import Profile
from foldkit.render import RenderOptions, render_flamegraph
from foldkit.render.diffgraph import render_diff
from foldkit.render.viewer import render_diff_viewer, render_viewer
from tests.browser.test_browser import Page, matched
from tests.browser.test_viewer_browser import Viewer
from tests.support.browser import chromium_context

pytestmark = pytest.mark.browser

#: (pattern, a name a backtracking engine takes minutes to hours to reject, a name it matches).
#: Measured with node 20's RegExp on this machine: the first two double with every 1-2 more
#: characters (25 and 34 characters took 9 s and 12 s), the third took 2 s with 80 characters.
CATASTROPHIC = [
    ("(a+)+$", "a" * 40 + "!", "xaaa"),
    ("(a|aa)*b", "a" * 48, "aab"),
    ("(.*a){20}", "a" * 19 + "x" * 2000, "a" * 20),
]
#: Weights: the trap 10, the match 30, so a right answer is 75%.
SHARE = "Matched: 75.00%"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from chromium_context(tmp_path_factory, 1200, 800)


def weights(trap: str, match: str) -> dict[str, int]:
    return {trap: 10, match: 30}


def svg(tmp_path: Path, trap: str, match: str) -> Path:
    path = tmp_path / "graph.svg"
    path.write_bytes(render_flamegraph(Profile(weights=weights(trap, match)), RenderOptions(min_width="0")))
    return path


def diff_svg(tmp_path: Path, trap: str, match: str) -> Path:
    path = tmp_path / "diff.svg"
    w = weights(trap, match)
    path.write_bytes(render_diff(diff_profiles(Profile(weights=w), Profile(weights=w)), options=RenderOptions(min_width="0")))
    return path


def viewer(tmp_path: Path, trap: str, match: str) -> Path:
    path = tmp_path / "viewer.html"
    path.write_bytes(render_viewer(Profile(weights=weights(trap, match))))
    return path


def diff_viewer(tmp_path: Path, trap: str, match: str) -> Path:
    path = tmp_path / "diff.html"
    w = weights(trap, match)
    path.write_bytes(render_diff_viewer(w, w))
    return path


def link(pattern: str) -> str:
    return "#search=" + quote(pattern, safe="")


def answers(page: Any) -> bool:
    """The page runs script again: a frozen one never returns (Playwright then times out)."""
    return bool(page.evaluate("() => 6 * 7") == 42)


@pytest.mark.parametrize("make", [svg, diff_svg], ids=["svg", "diff-svg"])
@pytest.mark.parametrize(("pattern", "trap", "match"), CATASTROPHIC, ids=[c[0] for c in CATASTROPHIC])
def test_svg_catastrophic_patterns_from_a_link_and_typed(
    browser: Any, tmp_path: Path, make: Callable[[Path, str, str], Path], pattern: str, trap: str, match: str
) -> None:
    path = make(tmp_path, trap, match)
    page = Page(browser, path, link(pattern))  # searched while the page loads
    assert answers(page.page)
    assert matched(page) == SHARE
    assert page.page.locator('#frames > rect[fill="rgb(230,0,230)"]').count() == 1  # the match only
    page.page.locator("#search").click()  # Reset Search
    page.answers.append(pattern)
    page.page.keyboard.press("Control+f")  # typed into the prompt
    assert answers(page.page)
    assert matched(page) == SHARE
    page.close()


@pytest.mark.parametrize("make", [viewer, diff_viewer], ids=["viewer", "diff-viewer"])
@pytest.mark.parametrize(("pattern", "trap", "match"), CATASTROPHIC, ids=[c[0] for c in CATASTROPHIC])
def test_viewer_catastrophic_patterns_from_a_link_and_typed(
    browser: Any, tmp_path: Path, make: Callable[[Path, str, str], Path], pattern: str, trap: str, match: str
) -> None:
    v = Viewer(browser, make(tmp_path, trap, match), link(pattern))
    assert answers(v.page)
    assert v.matched() == SHARE
    v.page.locator("#search").fill("")
    v.page.keyboard.press("Enter")
    assert v.matched() == ""
    v.page.locator("#search").fill(pattern)
    v.page.keyboard.press("Enter")
    assert answers(v.page)
    assert v.matched() == SHARE
    v.js("() => foldkit.view('top')")  # the top table follows the search
    assert v.page.locator("#top-table tbody td.name").all_inner_texts() == [match]
    v.close()


REFUSED = [
    ("(a)\\1", "Search refused: backreferences (\\1, \\k<name>) are not supported"),
    ("(?=a)a", "Search refused: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported"),
    ("(a{100}){100}", "Search refused: the pattern is too large once its repeats are counted out (more than 5000 steps)"),
]


@pytest.mark.parametrize(("pattern", "message"), REFUSED, ids=["backreference", "lookahead", "too-large"])
def test_patterns_that_cannot_be_bounded_are_refused(browser: Any, tmp_path: Path, pattern: str, message: str) -> None:
    trap, match = CATASTROPHIC[0][1:]
    page = Page(browser, svg(tmp_path, trap, match), link(pattern))
    assert matched(page) == message
    assert page.page.locator('#frames > rect[fill="rgb(230,0,230)"]').count() == 0
    assert page.page.locator("#matched").get_attribute("text-anchor") == "end"  # kept inside the picture
    page.close()
    v = Viewer(browser, viewer(tmp_path, trap, match), link(pattern))
    assert v.matched() == message
    assert v.js("document.getElementById('matched').classList.contains('error')")
    v.close()


def test_a_search_that_spends_its_budget_stops_and_says_so(browser: Any, tmp_path: Path) -> None:
    names = {f"n{i:03d}_" + "x" * 200: 1 for i in range(300)}
    path = tmp_path / "many.html"
    path.write_bytes(render_viewer(Profile(weights=names)))
    v = Viewer(browser, path)
    budget = v.js("() => { const b = foldkitSearch.LIMITS.budget; foldkitSearch.LIMITS.budget = 20000; return b; }")
    count = v.js("() => foldkit.names.length")
    v.page.locator("#search").fill("x$")
    v.page.keyboard.press("Enter")
    text = v.matched()
    assert text.startswith("Search stopped at its limit (20,000 steps) after ")  # about 100 names of 205 characters
    assert f" of {count} names; matched so far: " in text
    assert 50 < int(text.split(" after ")[1].split(" of ")[0]) < 150
    assert v.js("document.getElementById('matched').classList.contains('error')")
    v.js("b => { foldkitSearch.LIMITS.budget = b; }", budget)
    v.page.keyboard.press("Enter")
    assert v.matched() == "Matched: 100.00%"  # the default budget searches them all
    v.close()

    svg_path = tmp_path / "many.svg"
    svg_path.write_bytes(render_flamegraph(Profile(weights=names), RenderOptions(min_width="0")))
    page = Page(browser, svg_path)
    page.page.evaluate("() => { foldkitSearch.LIMITS.budget = 20000; }")
    page.answers.append("x$")
    page.page.keyboard.press("Control+f")
    assert matched(page).startswith("Search stopped at its limit (20,000 steps) after ")
    assert " of 301 frames; matched so far: " in matched(page)  # the 300 and the root
    page.close()


#: Patterns and names the bounded matcher must answer exactly as RegExp does.
PATTERNS = [
    "a", "^a", "a$", "^$", "ab|cd", "(a|b)*c", "a{2,3}", "a{2,}", "x{0,2}y", "[a-c]+d", "[^a-c]", "\\d+",
    "\\w+\\s", "\\bfoo\\b", "\\Bo", ".*", "^.*$", "[\\d-x]", "[-a]", "[a-]", "\\x41", "\\u0041", "\\u{3}", "a{",
    "a{1", "{", "}", "]", "[]", "[^]", "a|", "|a", "(?:ab)+$", "(?<n>x)y", "_\\[k\\]$", "^ext4_", "[\\b]", "\\cJ",
    "\\0", "f.o", "[A-Z]", "(a*)*b", "(a?){3}a{3}", "^(a|b)+$", "\\$", "\\.", "[.]", "[\\w.]+::", "\\S+$",
    "[^\\s]", "σ", "[σ]", "é", "[à-ÿ]+", "std::.*<", "^[^:]+::[^:]+$", "(foo|foobar)baz", "a.c",
]
NAMES = [
    "", "a", "aaa", "aaab", "ab", "cd", "foo", "foo bar", "foobar", "foobarbaz", "ext4_foo", "lex_[k]", "AbC",
    "a-b", "-", "\n", "a\nb", "uuu", "{", "}", "]", "x\by", "\0", "std::vector<int>::push_back", "123 ", "été",
    "ÉTÉ", "σς", "Σ", "ſ", "K", "k", "a::b", "a::b::c", "abc", "xyz",
]

#: Runs in the page: PATTERNS x NAMES with and without "i", then random patterns over a small
#: alphabet (a fixed seed); returns what differs from RegExp.
AGREEMENT = """([patterns, names]) => {
  const out = [];
  const check = (p, ic, texts) => {
    let re;
    try { re = new RegExp(p, ic ? "i" : ""); } catch (e) { return; }
    const c = foldkitSearch.compile(p, ic);
    if (c.error) { out.push([p, ic, c.error]); return; }
    for (const s of texts) {
      const want = re.test(s) ? 1 : 0, got = c.matcher.test(s);
      if (want !== got) { out.push([p, ic, s, want, got]); }
    }
  };
  for (const ic of [false, true]) { for (const p of patterns) { check(p, ic, names); } }
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed >>> 8) % n; };
  const atoms = ["a", "b", "A", ".", "\\\\w", "\\\\d", "[ab]", "[^a]", "\\\\s", "_", "\\\\b", "^", "$", "[a-cA]",
                 "\\\\B", "x", "σ", "ς", "[^\\\\W]", "[\\\\D]"];
  const quant = ["*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "{2,}"];
  const gen = (d) => {
    const k = rnd(d > 3 ? 4 : 8);
    if (k < 4 || d > 4) { return atoms[rnd(atoms.length)]; }
    if (k === 4) { return gen(d + 1) + gen(d + 1); }
    if (k === 5) { return "(" + gen(d + 1) + "|" + gen(d + 1) + ")"; }
    if (k === 6) { return "(?:" + gen(d + 1) + ")" + quant[rnd(quant.length)]; }
    return "(?:" + gen(d + 1) + ")";
  };
  const alphabet = "abAB_ 1xσςΣ-";
  for (let t = 0; t < 3000; t++) {
    const texts = [];
    for (let j = 0; j < 8; j++) {
      let s = "";
      for (let i = rnd(10); i > 0; i--) { s += alphabet[rnd(alphabet.length)]; }
      texts.push(s);
    }
    check(gen(0) + gen(0), rnd(2) === 1, texts);
  }
  return out;
}"""


def test_the_bounded_matcher_agrees_with_regexp(browser: Any, tmp_path: Path) -> None:
    v = Viewer(browser, viewer(tmp_path, "main", "other"))
    assert v.js(AGREEMENT, [PATTERNS, NAMES]) == []
    v.close()
