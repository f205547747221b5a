"""The report in a real browser (Debian's headless chromium driven by Playwright, as
tests/browser/test_browser.py): open index.html from disk, sort a column, filter, follow a link to a
capture page and see its flame graph drawn, with no console error and no request off the disk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from foldkit.ingest import FoldOptions
from foldkit.report import ReportOptions, build_report
from tests.support.browser import chromium_context
from tests.support.report import CORRUPT, MIXED, check_data, mixed_folder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report-browser")
    result = build_report([str(mixed_folder(root))], root / "site", ReportOptions(FoldOptions(), jobs=1))
    return result.output


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from chromium_context(tmp_path_factory, 1400, 900)


class Watched:
    """A page with its console errors, script errors and requests recorded."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def close(self) -> None:
        assert self.problems == []
        assert self.requests and all(u.startswith("file://") for u in self.requests), self.requests
        self.page.close()


def column(page: Any, index: int) -> list[str]:
    """The sort keys of a column of the index, top to bottom ("" for a cell without one)."""
    return page.eval_on_selector_all("#captures tbody tr", f"rows => rows.map(r => r.cells[{index}].getAttribute('data-sort') || '')")


def header(page: Any, name: str) -> Any:
    return page.locator("#captures thead th", has_text=name)


def test_sort_filter_follow_a_link_and_see_the_flame_graph(context: Any, site: Path) -> None:
    w = Watched(context)
    page = w.page
    page.goto((site / "index.html").as_uri())
    names = page.eval_on_selector_all("#captures tbody tr td:first-child > a", "as => as.map(a => a.textContent)")
    assert sorted(names) == sorted([*MIXED, CORRUPT]) and names == sorted(names)

    samples = header(page, "Samples")
    samples.locator("button").click()  # numbers sort largest first; a row without a number goes last
    values = column(page, 4)
    numbers = [float(v) for v in values if v]
    # a folded file does not say what its weights count, so it has no sample count
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == len([m for m in MIXED if not m.endswith(".folded")])
    assert values[-1] == "" and samples.get_attribute("aria-sort") == "descending"
    assert header(page, "Capture").get_attribute("aria-sort") == "none"
    samples.locator("button").click()
    numbers = [float(v) for v in column(page, 4) if v]
    assert numbers == sorted(numbers) and samples.get_attribute("aria-sort") == "ascending"
    header(page, "Capture").locator("button").click()  # text sorts A to Z first
    assert column(page, 0) == sorted(column(page, 0), key=str.lower)

    page.fill("#filter", "bpf/")
    visible = page.eval_on_selector_all("#captures tbody tr:not(.hidden)", "rows => rows.map(r => r.cells[0].getAttribute('data-sort'))")
    assert sorted(visible) == ["bpf/bcc-profile.txt", "bpf/kstack-ustack-comm.bt"]
    page.fill("#filter", "")

    page.locator("#captures a", has_text="perf/system-mixed.perf.zst").click()
    page.wait_for_load_state()
    assert page.url.endswith("/captures/perf__system-mixed.perf.zst/index.html")
    assert page.locator("h1").text_content() == "perf/system-mixed.perf.zst"
    graph = page.frame_locator("iframe.viewer >> nth=0")
    graph.locator("body[data-state='ready']").wait_for()
    assert graph.locator("h1").text_content() == "perf/system-mixed.perf.zst"
    box = page.locator("iframe.viewer").bounding_box()
    heaviest = page.locator("table.heaviest").first.bounding_box()
    assert box is not None and heaviest is not None
    assert box["y"] + box["height"] <= 900 + 1 and box["height"] > 500  # the first screen: graph and lists
    assert heaviest["y"] < 900 and box["width"] > 700
    first = page.locator("table.heaviest a").first
    name = first.text_content()
    first.click()  # a name in the lists is a search in the graph (its link sets the graph's #hash)
    # the graph reads its new #hash on an event, after the click returns: wait for it (the timeout
    # guards against a page that never searches; CI once read the box before the event)
    from playwright.sync_api import expect

    expect(graph.locator("#search")).to_have_value("^" + re.escape(name or "") + "$", timeout=30_000)
    expect(graph.locator("#matched")).to_have_text(re.compile(r"^Matched: "), timeout=30_000)

    top = page.locator("#top-table thead th", has_text="Total %")
    top.locator("button").click()
    totals = page.eval_on_selector_all("#top-table tbody tr", "rows => rows.map(r => Number(r.cells[4].getAttribute('data-sort')))")
    heaviest = pl.read_csv(site / "captures" / "perf__system-mixed.perf.zst" / "top.csv")["total_pct"].max()
    assert totals == sorted(totals, reverse=True) and totals[0] == pytest.approx(heaviest)

    page.locator("a", has_text="all captures").click()
    page.wait_for_load_state()
    assert page.url.endswith("/index.html") and page.locator("#captures").count() == 1
    w.close()


def test_the_error_page_and_the_csp_allow_the_script(context: Any, site: Path) -> None:
    w = Watched(context)
    page = w.page
    page.goto((site / "index.html").as_uri())
    page.locator("#captures a", has_text=CORRUPT).click()
    page.wait_for_load_state()
    assert "truncated or corrupt zstd" in page.locator("#error").text_content()
    assert page.locator("iframe").count() == 0
    w.close()


def test_the_biggest_changes_search_the_differential_viewer(context: Any, tmp_path: Path) -> None:
    base, slow = check_data("base-1.perf.zst"), check_data("slow-1.perf.zst")
    result = build_report([str(base), str(slow)], tmp_path / "site", ReportOptions(FoldOptions(), baseline=str(base), jobs=1))
    slow_page = next(r for r in result.captures if r.name == slow.name)
    w = Watched(context)
    page = w.page
    page.goto((result.output / "captures" / slow_page.slug / "index.html").as_uri())
    changes = page.locator("#changes a")
    assert changes.count() >= 3
    name = changes.first.text_content() or ""
    changes.first.click()
    viewer = page.frame_locator("iframe[name='diff-viewer']")
    viewer.locator("body[data-state='ready']").wait_for()
    # the search may follow the page's readiness (its #hash event): waited for
    from playwright.sync_api import expect

    expect(viewer.locator("#search")).to_have_value("^" + re.escape(name) + "$", timeout=30_000)
    expect(viewer.locator("#matched")).to_have_text(re.compile(r"^Matched: "), timeout=30_000)
    assert viewer.locator("#basis").input_value() == "union"
    w.close()
