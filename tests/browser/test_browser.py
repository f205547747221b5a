"""The flame graph's script in a real browser: Debian's headless chromium driven by Playwright.

Needs /usr/bin/chromium (`make test` installs it with apt-get when run as root) and the `playwright`
Python package (the `test` extra); no browser is ever downloaded. Missing either skips these tests
with a one-line reason, or fails them when `CI` is set (see `tests/support/browser.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foldkit.profile import Profile
from foldkit.render import RenderOptions, render_flamegraph
from tests.support.browser import chromium_context

pytestmark = pytest.mark.browser

PROFILE = {
    "app;main;parse;lex": 10,
    "app;main;parse;lex;Fetch": 5,
    "app;main;run;f;f;f": 20,  # recursion: nested matches must not be counted twice
    "app;main;run;f;g": 10,
    "app;main;run;h": 15,
    "app;idle_[k]": 40,
}
HOSTILE = {
    "main;</script><script>window.pwned=1</script>": 3,
    'main;"><svg onload="window.pwned=1">': 2,
    "main;<img src=x onerror=window.pwned=1>": 2,
    "main;]]><script>window.pwned=1</script>": 1,
    "main;javascript:window.pwned=1": 1,
    "main;\x1b[31m\udcff\u202e": 1,
}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from chromium_context(tmp_path_factory, 1200, 800)


class Page:
    """A loaded SVG with everything that must not happen recorded."""

    def __init__(self, context: Any, path: Path, fragment: str = "") -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.answers: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.as_uri() + fragment)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if dialog.type == "prompt" and self.answers:
            dialog.accept(self.answers.pop(0))
        else:
            dialog.dismiss()

    def rect(self, name: str, depth: int) -> Any:
        return self.page.locator(f'#frames > rect[data-name="{name}"][data-depth="{depth}"]')

    def geometry(self, name: str, depth: int) -> tuple[float, float, str | None]:
        r = self.rect(name, depth)
        return float(r.get_attribute("x")), float(r.get_attribute("width")), r.get_attribute("class")

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert all(u.startswith("file://") for u in self.requests), self.requests
        self.page.close()


def write_svg(tmp_path: Path, weights: dict[str, int], name: str = "graph.svg", **options: Any) -> Path:
    path = tmp_path / name
    path.write_bytes(render_flamegraph(Profile(weights=weights), RenderOptions(min_width="0", **options)))
    return path


def test_click_zooms_and_reset_restores(browser: Any, tmp_path: Path) -> None:
    page = Page(browser, write_svg(tmp_path, PROFILE))
    before = page.geometry("run", 3)
    page.rect("run", 3).click()
    x, width, cls = page.geometry("run", 3)
    assert (x, width, cls) == (10.0, 1180.0, None)  # the clicked frame fills the plot
    fx, fw, _ = page.geometry("h", 4)
    assert fw == pytest.approx(15 / 45 * 1180, abs=0.01)  # children scale with it
    assert 10 <= fx and fx + fw <= 1190.01
    for name, depth in (("main", 2), ("app", 1), ("all", 0)):
        assert page.geometry(name, depth) == (10.0, 1180.0, "parent")  # ancestors stay, full width
    assert page.geometry("parse", 3)[2] == "hide" and page.geometry("idle_[k]", 2)[2] == "hide"
    assert re.search(r"#zoom=\d+$", page.page.url)
    assert page.page.locator("#unzoom").get_attribute("class") in ("", None)
    page.page.locator("#unzoom").click()
    assert page.geometry("run", 3) == before
    assert page.geometry("idle_[k]", 2)[2] is None
    assert "#" not in page.page.url
    page.rect("all", 0).hover()
    assert page.page.locator("#details").text_content() == "Function: all (100 samples, 100.00%)"
    page.close()


LONG_NAME = "work::insertion_merge_sort<std::vector<std::basic_string<char>>>(std::vector<std::basic_string<char>>&, " * 3


@pytest.mark.parametrize("right", [True, False])
def test_labels_are_cut_at_the_end_before_and_after_a_zoom(browser: Any, tmp_path: Path, right: bool) -> None:
    options = {} if right else {"truncate_text_right": False}  # cut at the end by default
    path = write_svg(tmp_path, {f"main;a;{LONG_NAME}": 10, "main;b": 90}, **options)
    page = Page(browser, path)

    def label() -> str:
        return str(page.rect(LONG_NAME, 3).evaluate("r => r.nextElementSibling.textContent"))

    for _ in ("drawn", "zoomed"):
        text = label()
        kept = text[:-2] if right else text[2:]
        assert len(text) > 5 and (text.endswith("..") if right else text.startswith(".."))
        assert LONG_NAME.startswith(kept) if right else LONG_NAME.endswith(kept)
        page.rect("a", 2).click()
    assert len(label()) > 100  # the zoom re-fitted it
    page.close()


def matched(page: Page) -> str:
    return page.page.locator("#matched").text_content() or ""


def test_search_shows_the_matched_share_once(browser: Any, tmp_path: Path) -> None:
    page = Page(browser, write_svg(tmp_path, PROFILE))
    page.answers.append("^f$")
    page.page.locator("#search").click()
    assert matched(page) == "Matched: 30.00%"  # f;f;f (20) and f;g (10): nested f counted once
    purple = page.page.locator('#frames > rect[fill="rgb(230,0,230)"]')
    assert purple.count() == 3  # every f frame is highlighted (f;f;f and f;g share the first)
    page.answers.append("fetch|^h$")
    page.page.keyboard.press("Control+f")
    assert matched(page) == "Matched: 15.00%"  # h only: case matters
    page.page.locator("#ignorecase").click()
    assert matched(page) == "Matched: 20.00%"  # Fetch (5) and h (15)
    assert "search=fetch%7C%5Eh%24" in page.page.url and "ignorecase=1" in page.page.url
    page.answers.append("(")  # not a regular expression: said so, nothing breaks
    page.page.keyboard.press("Control+f")
    assert matched(page).startswith("Not a regular expression")
    page.answers.append("^idle$")  # the name as shown matches...
    page.page.keyboard.press("Control+f")
    assert matched(page) == "Matched: 40.00%"
    page.answers.append("_\\[k\\]$")  # ...and so does the annotation
    page.page.keyboard.press("Control+f")
    assert matched(page) == "Matched: 40.00%"
    page.page.locator("#search").click()  # "Reset Search"
    assert matched(page).strip() == "" and purple.count() == 0
    page.close()


def test_the_url_reproduces_zoom_and_search(browser: Any, tmp_path: Path) -> None:
    path = write_svg(tmp_path, PROFILE)
    first = Page(browser, path)
    first.rect("parse", 3).click()
    first.answers.append("lex")
    first.page.locator("#search").click()
    url = first.page.url
    first.close()
    fragment = url[url.index("#") :]
    second = Page(browser, path, fragment)
    assert second.geometry("parse", 3)[:2] == (10.0, 1180.0)
    assert second.geometry("run", 3)[2] == "hide"
    assert matched(second) == "Matched: 15.00%"
    second.close()


def test_hostile_frame_names_run_no_script(browser: Any, tmp_path: Path) -> None:
    path = write_svg(tmp_path, HOSTILE, title="<script>window.pwned=1</script>", notes="]]><script>window.pwned=1</script>")
    page = Page(browser, path)
    for i in range(page.page.locator("#frames > rect").count()):
        rect = page.page.locator("#frames > rect").nth(i)
        rect.hover()
        rect.click()
        page.page.evaluate("document.querySelector('svg').foldkit.unzoom()")
    page.answers.append("pwned")
    page.page.locator("#search").click()
    assert matched(page) != ""
    assert page.page.evaluate("typeof window.pwned") == "undefined"
    assert page.page.evaluate("document.querySelectorAll('script').length") == 1
    assert page.page.evaluate("document.querySelectorAll('img, foreignObject, iframe').length") == 0
    assert [d for d in page.dialogs if not d.startswith("prompt")] == []
    names = page.page.evaluate("Array.from(document.querySelectorAll('#frames > rect')).map(r => r.getAttribute('data-name'))")
    assert "</script><script>window.pwned=1</script>" in names
    page.close()


def test_ten_thousand_deep_stack(browser: Any, tmp_path: Path) -> None:
    deep = ";".join(f"f{i}" for i in range(10_000))
    page = Page(browser, write_svg(tmp_path, {deep: 3, "f0;side": 1}, name="deep.svg"))
    assert page.page.locator("#frames > rect").count() == 10_002
    page.page.evaluate("document.querySelector('svg').foldkit.zoom(9000)")
    assert page.geometry("f8998", 8999)[:2] == (10.0, 1180.0)
    assert page.geometry("side", 2)[2] == "hide"
    page.answers.append("^f9")
    page.page.keyboard.press("Control+f")
    assert matched(page) == "Matched: 75.00%"
    page.close()
