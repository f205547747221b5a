"""The HTML viewer in a real browser: Debian's headless chromium driven by Playwright (see
tests/support/browser.py). Every test also checks that the page raised no error and requested
nothing but its own file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foldkit.ingest import FoldOptions, read
from foldkit.profile import Profile
from foldkit.render import RenderOptions
from foldkit.render.palette import frame_color
from foldkit.render.viewer import render_diff_viewer, render_viewer
from foldkit.text import visible
from tests.browser.test_browser import HOSTILE, PROFILE
from tests.support.browser import chromium_context
from tests.support.common import DATA
from tests.support.viewer import pixel, png_pixels

pytestmark = pytest.mark.browser

CAPTURE = DATA / "captures" / "perf-cpp-fp.txt.zst"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from chromium_context(tmp_path_factory, 1200, 800)


class Viewer:
    """A loaded viewer page with everything that must not happen recorded."""

    def __init__(self, context: Any, path: Path, fragment: str = "", timeout: float = 30_000) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_selector("body[data-state]", timeout=timeout)
        assert self.page.get_attribute("body", "data-state") == "ready", self.page.inner_text("body")

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def node(self, path: str) -> int:
        node = self.js("p => foldkit.find(p)", path)
        assert node >= 0, path
        return int(node)

    def rect(self, path: str, view: str = "foldkit.graph") -> dict[str, float] | None:
        return self.js(f"n => foldkit.rect(n, {view})", self.node(path))  # type: ignore[no-any-return]

    def center(self, path: str) -> tuple[float, float]:
        r = self.rect(path)
        assert r is not None, f"{path} is not drawn"
        return r["x"] + r["w"] / 2, r["y"] + r["h"] / 2

    def hover(self, path: str) -> str:
        self.page.mouse.move(*self.center(path))
        return self.page.locator("#tooltip").inner_text()

    def click(self, path: str) -> None:
        self.page.mouse.click(*self.center(path))

    def matched(self) -> str:
        return self.page.locator("#matched").inner_text()

    def fragment(self) -> str:
        url = self.page.url
        return url[url.index("#") :] if "#" in url else ""

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert all(u.startswith("file://") for u in self.requests), self.requests
        assert len(set(self.requests)) <= 1, self.requests
        self.page.close()


def write(tmp_path: Path, weights: dict[str, int | float], name: str = "viewer.html", **options: Any) -> Path:
    path = tmp_path / name
    path.write_bytes(render_viewer(Profile(weights=weights), RenderOptions(**options)))
    return path


def test_a_real_capture_hover_zoom_and_breadcrumbs(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "cpu.html"
    path.write_bytes(render_viewer(read([str(CAPTURE)], FoldOptions())))
    v = Viewer(browser, path)
    assert re.fullmatch(r"[\d,]+ frames, [\d,]+ functions", v.page.locator("#status").inner_text())
    text = v.hover("tmpl")
    assert text.startswith("tmpl\n") and " ns, 100.00% of the total" in text  # the capture's unit
    main = v.node("tmpl;__libc_start_call_main;main")
    v.js("n => foldkit.zoom(n)", main)
    assert v.fragment() == f"#zoom={main}"
    crumbs = v.page.locator("#crumbs button").all_inner_texts()
    assert crumbs == ["all", "tmpl", "__libc_start_call_main", "main"]
    assert v.rect("tmpl;__libc_start_call_main;main")["w"] == pytest.approx(1180)  # type: ignore[index]
    v.page.locator("#crumbs button").nth(1).click()  # back out to tmpl
    assert v.fragment() == f"#zoom={v.node('tmpl')}"
    v.page.keyboard.press("Escape")
    assert v.fragment() == ""
    v.close()


def test_hover_tooltip_shares_and_click_zoom(browser: Any, tmp_path: Path) -> None:
    v = Viewer(browser, write(tmp_path, PROFILE, count_name="ms", factor=2))
    text = v.hover("app;main;run")
    assert text == "run\n90 ms, 45.00% of the total, 75.00% of main"  # weights times --factor
    assert v.page.locator("#details").inner_text().startswith("run — 90 ms")
    v.click("app;main;run")
    run = v.rect("app;main;run")
    assert run == {"x": pytest.approx(10), "y": run["y"], "w": pytest.approx(1180), "h": 15}  # type: ignore[index]
    assert v.rect("app;idle_[k]") is None  # outside the zoomed frame: not drawn
    assert v.rect("app")["w"] == pytest.approx(1180)  # type: ignore[index]  # ancestors stay, full width
    h = v.rect("app;main;run;h")
    assert h is not None and h["w"] == pytest.approx(15 / 45 * 1180)
    v.click("app")  # clicking an ancestor zooms out to it
    assert v.rect("app;idle_[k]") is not None
    v.close()


def test_search_matched_share_counts_nested_frames_once(browser: Any, tmp_path: Path) -> None:
    v = Viewer(browser, write(tmp_path, PROFILE))
    v.page.keyboard.press("Control+f")
    assert v.js("document.activeElement.id") == "search"
    v.page.keyboard.type("^f$")
    v.page.keyboard.press("Enter")
    assert v.matched() == "Matched: 30.00%"  # f;f;f (20) and f;g (10)
    v.page.locator("#search").fill("fetch|^h$")
    v.page.keyboard.press("Enter")
    assert v.matched() == "Matched: 15.00%"  # case matters
    v.page.locator("#ignorecase").check()
    assert v.matched() == "Matched: 20.00%"
    assert "search=fetch%7C%5Eh%24" in v.page.url and "ignorecase=1" in v.page.url
    v.page.locator("#search").fill("(")
    v.page.keyboard.press("Enter")
    assert v.matched().startswith("Not a regular expression")
    v.page.locator("#search").fill("_\\[k\\]$")  # the annotation matches too
    v.page.keyboard.press("Enter")
    assert v.matched() == "Matched: 40.00%"
    v.close()


def test_sandwich_merges_callers_and_callees(browser: Any, tmp_path: Path) -> None:
    weights = {"main;a;f;x": 3, "main;b;f;y": 5, "main;b;f;f;x": 2, "main;f": 1}
    v = Viewer(browser, write(tmp_path, weights))
    v.page.mouse.move(*v.center("main;b;f"))
    v.page.keyboard.press("s")
    assert v.js("document.querySelector('#tab-sandwich').getAttribute('aria-selected')") == "true"
    callers = v.js(
        """() => { const t = foldkit.callers.tree, n = foldkit.names;
           return Array.from({length: t.n}, (_, i) => [t.depth[i], n[t.nameId[i]], t.totals[0][i]]); }"""
    )
    # f at the root (11: its outer occurrences, nested f;f counted once), then who called it
    assert callers == [[0, "f", 11], [1, "a", 3], [2, "main", 3], [1, "b", 7], [2, "main", 7], [1, "main", 1]]
    callees = v.js(
        """() => { const t = foldkit.callees.tree, n = foldkit.names;
           return Array.from({length: t.n}, (_, i) => [t.depth[i], n[t.nameId[i]], t.totals[0][i]]); }"""
    )
    assert callees == [[0, "f", 11], [1, "f", 2], [2, "x", 2], [1, "x", 3], [1, "y", 5]]
    assert "fn=f" in v.page.url and "view=sandwich" in v.page.url
    r = v.js("() => foldkit.rect(1, foldkit.callers)")
    v.page.mouse.click(r["x"] + r["w"] / 2, r["y"] + 7)  # clicking a caller shows its sandwich
    assert v.page.locator("#sandwich-pane h2").first.inner_text().startswith("Callers of a ")
    v.close()


def test_top_table_sorts_and_selects(browser: Any, tmp_path: Path) -> None:
    v = Viewer(browser, write(tmp_path, PROFILE))
    v.page.keyboard.press("t")
    rows = v.page.locator("#top-table tbody tr")
    first = [rows.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert first == ["idle_[k]", "f", "h"]  # by self, heaviest first
    v.page.locator("#top-table th button", has_text="Total (samples)").click()
    assert rows.first.locator("td").first.inner_text() == "app"  # by total
    assert rows.first.locator("td").nth(3).inner_text() == "100"
    v.page.locator("#top-table th button", has_text="Total (samples)").click()  # again: ascending
    assert v.page.locator("#top-table th[aria-sort='ascending']").count() == 1
    v.page.locator("#search").fill("^f$")
    v.page.keyboard.press("Enter")
    assert rows.count() == 1 and rows.first.locator("td").nth(3).inner_text() == "30"  # total once
    rows.first.click()
    assert v.js("document.querySelector('#tab-flame').getAttribute('aria-selected')") == "true"
    assert "fn=f" in v.page.url
    v.close()


def test_the_url_reproduces_the_view(browser: Any, tmp_path: Path) -> None:
    path = write(tmp_path, PROFILE)
    first = Viewer(browser, path)
    first.click("app;main;parse")
    first.page.locator("#search").fill("lex")
    first.page.keyboard.press("Enter")
    first.page.keyboard.press("Escape")  # leaves the search box
    first.page.keyboard.press("i")
    fragment = first.fragment()
    first.close()
    assert "view=icicle" in fragment and "zoom=" in fragment and "search=lex" in fragment
    second = Viewer(browser, path, fragment)
    assert second.matched() == "Matched: 15.00%"
    assert second.rect("app;main;parse")["w"] == pytest.approx(1180)  # type: ignore[index]
    assert second.rect("app;main;run") is None
    assert second.js("foldkit.graph.inverted") is True
    second.page.evaluate("location.hash = ''")  # a fragment change (a report link) is followed
    second.page.wait_for_function("foldkit.graph.zoomed === 0")
    assert second.js("foldkit.graph.inverted") is False
    second.close()


def test_keyboard_navigation_and_copy_stack(browser: Any, tmp_path: Path) -> None:
    v = Viewer(browser, write(tmp_path, PROFILE))
    v.js("() => { window.copied = []; navigator.clipboard.writeText = t => { copied.push(t); return Promise.resolve(); }; }")
    v.page.locator("#graph").focus()
    for key in ("ArrowUp", "ArrowUp", "ArrowUp", "ArrowLeft", "ArrowRight", "ArrowUp"):  # app main run parse run f
        v.page.keyboard.press(key)
    assert v.page.locator("#details").inner_text().startswith("f — 30 samples")
    v.page.keyboard.press("c")
    assert v.js("window.copied") == ["f\nrun\nmain\napp"]  # leaf first, as perf script prints stacks
    assert v.page.locator("#status").inner_text() == "Copied 4 frame(s)"
    v.page.keyboard.press("ArrowDown")
    v.page.keyboard.press("Enter")
    assert v.rect("app;main;run")["w"] == pytest.approx(1180)  # type: ignore[index]
    v.page.keyboard.press("Backspace")
    assert v.rect("app;main")["w"] == pytest.approx(1180)  # type: ignore[index]
    v.page.locator("#copy").click()
    assert v.js("window.copied")[-1] == "main\napp"
    v.close()


def test_diff_mode_shows_frames_only_in_before(browser: Any, tmp_path: Path) -> None:
    before = {"main;gone": 40, "main;same": 60}
    after = {"main;same": 60, "main;new": 40}
    path = tmp_path / "diff.html"
    path.write_bytes(render_diff_viewer(before, after))
    v = Viewer(browser, path)
    gone = v.rect("main;gone")
    assert gone is not None and gone["w"] == pytest.approx(40 / 140 * 1180)  # union widths
    text = v.hover("main;gone")
    assert "before 40, after 0 samples" in text and "only in before" in text
    assert "change −40 samples (−40.00 pp of the total)" in text
    v.page.locator("#basis").select_option("after")
    assert v.rect("main;gone")["w"] == 0  # type: ignore[index]
    assert "basis=after" in v.page.url
    v.page.keyboard.press("t")
    headers = v.page.locator("#top-table th").all_inner_texts()
    assert "Δ self (pp)" in " ".join(headers)
    v.close()


def test_a_normalised_diff_of_folded_files_shows_before_scaled(browser: Any, tmp_path: Path) -> None:
    """`diff old new -o d.html` of folded files (read into native tables; BEFORE scaled to AFTER's
    total in the core's tree) draws and says BEFORE's weights scaled: 2,000 samples against
    1,000, so BEFORE counts half."""
    from foldkit.cli import main

    old, new, out = tmp_path / "old.folded", tmp_path / "new.folded", tmp_path / "d.html"
    # more lines than the head read to detect the format, so both are read into tables
    filler = [f"main;idle;f{i} 1\n" for i in range(4000)]
    old.write_text("".join(filler) + "main;gone 600\n")  # 4,600
    new.write_text("".join(filler[:2000]) + "main;new 300\n")  # 2,300: BEFORE scaled by 0.5
    assert main(["diff", "-q", str(old), str(new), "-o", str(out)]) == 0
    v = Viewer(browser, out)
    text = v.hover("main;gone")
    assert "before 300, after 0 " in text and "only in before" in text, text
    assert "BEFORE normalised to AFTER's total (x0.5)" in v.page.locator("header").inner_text()
    v.close()


def test_hostile_names_execute_nothing(browser: Any, tmp_path: Path) -> None:
    weights = dict(HOSTILE) | {"main;\u2028x\u2029": 1, "main;\u202eevil\u202c": 1, 'main;"><img src=x onerror=alert(1)>': 1}
    path = write(tmp_path, weights, title="</script><script>window.pwned=1</script>", subtitle="<img src=x onerror=window.pwned=1>")
    v = Viewer(browser, path)
    for node in range(1, v.js("foldkit.tree.n")):
        r = v.js("n => foldkit.rect(n)", node)
        if r and r["w"] >= 1:
            v.page.mouse.move(r["x"] + r["w"] / 2, r["y"] + 7)
            v.page.mouse.click(r["x"] + r["w"] / 2, r["y"] + 7)
            v.page.keyboard.press("c")
            v.page.keyboard.press("Escape")
    for view in ("t", "s", "i", "f"):
        v.page.keyboard.press(view)
    v.page.locator("#search").fill("pwned|img")
    v.page.keyboard.press("Enter")
    assert v.matched() != ""
    assert v.js("typeof window.pwned") == "undefined"
    assert v.js("document.querySelectorAll('script:not([type])').length") == 1
    assert v.js("document.querySelectorAll('img, svg, iframe, object').length") == 0
    assert v.dialogs == []
    assert v.page.locator("h1").inner_text() == "</script><script>window.pwned=1</script>"
    v.close()


def test_pixels_of_a_known_profile(browser: Any, tmp_path: Path) -> None:
    """A screenshot has the expected frames at the expected places: the root across the bottom
    row, `a` on the left 3/4 and `b_[k]` on the right 1/4 above it, `c` on the left half of `a`."""
    v = Viewer(browser, write(tmp_path, {"a;c": 2, "a": 1, "b_[k]": 1}))
    box = v.js("() => document.querySelector('#graph canvas').getBoundingClientRect().toJSON()")
    image = png_pixels(v.page.screenshot(clip={"x": 0, "y": box["bottom"] - 80, "width": 1200, "height": 80}))
    def at(x: float, row: int) -> str:  # row 0 is the root: 16 px rows, half a row of margin below
        return pixel(image, int(x), 80 - 8 - 16 * row - 8)

    def background(row: int) -> str:  # the right margin, at the same height (the background is a gradient)
        return pixel(image, 1196, 80 - 8 - 16 * row - 8)

    assert at(600, 0) == frame_color("all")
    assert at(10 + 1180 * 0.375, 1) == frame_color("a")
    assert at(10 + 1180 * 0.875, 1) == frame_color("b_[k]")  # kernel: orange
    assert at(10 + 1180 * 0.25, 2) == frame_color("c")
    assert at(10 + 1180 * 0.875, 2) == background(2)  # nothing above b
    assert at(10 + 1180 * 0.6, 2) == background(2)  # a's self weight: nothing above
    assert at(10 + 1180 * 0.25, 3) == background(3)
    v.page.locator("#search").fill("^c$")
    v.page.keyboard.press("Enter")
    image = png_pixels(v.page.screenshot(clip={"x": 0, "y": box["bottom"] - 80, "width": 1200, "height": 80}))
    assert at(10 + 1180 * 0.25, 2) == "rgb(230,0,230)"
    v.close()


#: Name fragments that steer the default palette's hue (as tests/render/test_viewer_native.py's).
_FRAGMENTS = [
    "a", "x9", " ", ".", "$", "<", ">", "/", ":", "::", ":::", "_[k]", "_[j]", "_[i]", "_[w]", "_[x]", "]",
    "java/", "Ljava.", "org.", "Interpreter", "StubRoutines", "JS:", "LazyCompile:", "Builtin:", ".js:1",
    ".mjs", ".js", "[perf-12.map]", "jitted-1-2.so", "[JIT]", "[kernel.kallsyms]", "entry_SYSCALL",
    "do_syscall_64", "asm_exc_", "ret_from_fork", "py::", "[off-cpu:", "std::", "Foo.bar", "java.lang.Thread run",
    "x.y z.w", "Interpreterx", "[off-cpu:S]",
]


def test_the_pages_palette_is_palette_pys_twin(browser: Any, tmp_path: Path) -> None:
    """`palette.js` gives every printable ASCII name the fill `palette.frame_color` gives, in every
    palette the page colours itself; its BLAKE2b is hashlib's for names of 0 to 300 bytes (one,
    two and three blocks)."""
    import hashlib
    import random

    from foldkit.render.viewer.payload import PAGE_PALETTES

    rnd = random.Random(20)
    names = ["".join(rnd.choice(_FRAGMENTS) for _ in range(rnd.randint(1, 6))) for _ in range(600)]
    names += ["".join(chr(rnd.randint(32, 126)) for _ in range(n)) for n in range(0, 301, 7)] + ["", "x" * 128, "y" * 129, "z" * 256]
    v = Viewer(browser, write(tmp_path, {"a": 1}))
    assert v.js("() => foldkitPalette.palettes") == list(PAGE_PALETTES)
    digests = v.js("ns => ns.map(n => Array.from(foldkitPalette.blake2b48(new TextEncoder().encode(n))))", names)
    assert digests == [list(hashlib.blake2b(n.encode(), digest_size=6).digest()) for n in names]
    for palette in PAGE_PALETTES:
        fills = v.js("([ns, p]) => ns.map(n => foldkitPalette.fill(n, p))", [names, palette])
        assert fills == [frame_color(n, palette) for n in names], palette
    v.close()


def test_fills_of_names_the_page_cannot_colour_are_given(browser: Any, tmp_path: Path) -> None:
    """Names that are not printable ASCII are drawn in the fill the data gives (the twin's); with
    `--hash` (a palette the page does not colour with) every fill is given."""
    weights = {"é;b_[k]": 2, "a\tb": 1}
    for options, palette in ((RenderOptions(), "default"), (RenderOptions(palette="red", hash=True), None)):
        page = tmp_path / "p.html"
        page.write_bytes(render_viewer(Profile(weights=weights), options))
        v = Viewer(browser, page)
        assert v.js("() => JSON.parse(document.getElementById('foldkit-meta').textContent).palette") == palette
        fills = v.js("() => foldkit.names.map((n, i) => [n, foldkit.fill(i)])")
        raw_names = {visible(n): n for n in ("all", "é", "b_[k]", "a\tb")}
        assert sorted(n for n, _ in fills) == sorted(raw_names)
        for shown, fill in fills:
            assert fill == frame_color(raw_names[shown], options.palette, hash_start=options.hash), shown
        v.close()


def test_a_deep_tower_starts_at_the_root_and_scrolls(browser: Any, tmp_path: Path) -> None:
    deep = ";".join(f"f{i}" for i in range(10_000))
    v = Viewer(browser, write(tmp_path, {deep: 2.25, "f0;side": 0.75}))  # fractions: float64 weights
    root = v.js("() => foldkit.rect(0)")
    assert 0 < root["y"] < 800  # the first screen shows the root, not blank space
    assert v.js("document.querySelector('#graph').scrollHeight") > 10_000 * 16
    v.js("() => { document.querySelector('#graph').scrollTop = 0; }")
    v.page.wait_for_timeout(100)
    top = v.rect(";".join(f"f{i}" for i in range(9_999)))
    assert top is not None and 0 <= top["y"] < 800
    v.page.locator("#search").fill("^f9")
    v.page.keyboard.press("Enter")
    assert v.matched() == "Matched: 75.00%"
    v.close()


def test_a_million_stacks(browser: Any, tmp_path: Path) -> None:
    weights = {f"main;s{i % 10};m{i % 1000};leaf{i}": 1 + i % 7 for i in range(1_000_000)}
    v = Viewer(browser, write(tmp_path, weights), timeout=120_000)
    assert v.js("foldkit.tree.n") == 1 + 1 + 10 + 1000 + 1_000_000
    v.click("main;s3")
    assert v.rect("main;s3")["w"] == pytest.approx(1180)  # type: ignore[index]
    v.page.locator("#search").fill("^leaf12345$")
    v.page.keyboard.press("Enter")
    assert v.matched() == "Matched: 0.00%"
    assert v.hover("main;s3;m3").startswith("m3\n")
    v.close()


DEEP = 200_000


def test_zoom_into_a_frame_200000_levels_deep(browser: Any, tmp_path: Path) -> None:
    """Issue 28: a zoom that deep threw "Maximum call stack size exceeded" (one crumb per level);
    the trail now shows the root's end and the zoomed end with the levels between elided."""
    path = write(tmp_path, {";".join(f"f{i}" for i in range(DEEP)): 5, "f0;side": 1})
    target = 150_000  # in pre-order the frame at depth d is node d (f1 sorts before side)
    v = Viewer(browser, path, f"#zoom={target}", timeout=120_000)
    assert v.js("n => [foldkit.tree.depth[n], foldkit.names[foldkit.tree.nameId[n]]]", target) == [target, "f149999"]

    def trail(depth: int) -> tuple[list[str], str]:
        head = ["all"] + [f"f{d - 1}" for d in range(1, 4)]
        tail = [f"f{d - 1}" for d in range(depth - 7, depth + 1)]
        return head + tail, f"… {depth - 7 - 4:,} levels …"

    def crumbs() -> tuple[list[str], str]:
        return v.page.locator("#crumbs button").all_inner_texts(), v.page.locator("#crumbs .elided").inner_text()

    assert crumbs() == trail(target)
    zoomed = v.js("n => foldkit.rect(n)", target)
    assert zoomed["w"] == pytest.approx(1180) and 0 <= zoomed["y"] < 800  # in view, not 150,000 rows away
    below = v.js("n => foldkit.rect(n)", target - 1)  # its caller, drawn under it
    v.page.mouse.move(below["x"] + 50, below["y"] + 5)
    assert v.page.locator("#tooltip").inner_text().startswith("f149998\n")
    child = v.js("n => foldkit.rect(n)", target + 1)
    v.page.mouse.click(child["x"] + 50, child["y"] + 5)  # a click zooms one level deeper
    assert v.js("location.hash") == f"#zoom={target + 1}"
    assert crumbs() == trail(target + 1)
    v.page.locator("#crumbs button", has_text="f1").first.click()  # back near the root
    assert v.js("location.hash") == "#zoom=2"
    assert v.page.locator("#crumbs button").all_inner_texts() == ["all", "f0", "f1"]
    v.js("n => foldkit.zoom(n)", DEEP - 1)
    assert crumbs() == trail(DEEP - 1)
    v.page.keyboard.press("i")  # the icicle view keeps the zoomed frame in view too
    zoomed = v.js("n => foldkit.rect(n)", DEEP - 1)
    assert zoomed["w"] == pytest.approx(1180) and 0 <= zoomed["y"] < 800
    v.close()


def test_top_table_lists_no_root_frame(browser: Any, tmp_path: Path) -> None:
    """Root frames holding the comm are no function in the top table (bpftrace `@[kstack, ustack, comm]`)."""
    profile = read(DATA / "captures" / "bpftrace-kstack-ustack-comm.txt.zst", FoldOptions(jobs=1))
    path = tmp_path / "comm.html"
    path.write_bytes(render_viewer(profile))
    v = Viewer(browser, path)
    v.page.keyboard.press("t")
    v.page.locator("#top-table th button", has_text="Total (samples)").click()
    rows = v.page.locator("#top-table tbody tr")
    shown = {rows.nth(i).locator("td").first.inner_text() for i in range(min(rows.count(), 40))}
    assert shown and not {"deeprec", "node", "cc1plus", "tmpl", "find"} & shown
    v.close()


@pytest.mark.parametrize(("color_by", "a_changed"), [("self", False), ("total", True)])
def test_diff_colours_by_self_change_by_default(browser: Any, tmp_path: Path, color_by: str, a_changed: bool) -> None:
    """The issue's tiny case: `a` has no self weight, so only `b` (its own weight grew) is red."""
    path = tmp_path / "diff.html"
    path.write_bytes(render_diff_viewer({"a;b": 1, "a;c": 1}, {"a;b": 3, "a;c": 1}, color_by=color_by))
    v = Viewer(browser, path)
    delta = v.js("p => foldkit.tree.delta[foldkit.find(p)]", "a")
    assert (delta != 0) is a_changed
    assert v.js("p => foldkit.tree.delta[foldkit.find(p)]", "a;b") == 2
    assert v.js("p => foldkit.tree.delta[foldkit.find(p)]", "a;c") == 0
    v.close()
