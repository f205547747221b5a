"""Report pages of the new kinds of capture in a real browser (Debian's chromium via Playwright):
an opensnoop capture's tables sort when their headers are clicked, a histogram capture's bar
chart loads, and neither page logs an error or asks for anything off the disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foldkit.analysis.events import TABLE_ROWS
from foldkit.ingest import FoldOptions
from foldkit.report import ReportOptions, build_report
from tests.browser.test_report_browser import Watched
from tests.support.browser import chromium_context
from tests.support.common import DATA

pytestmark = pytest.mark.browser

#: Another capture of every format (and event tool) the production host makes, with what its
#: report page must show besides its flame-graph viewer: a section id (histogram buckets are
#: stacks too, so every page has a viewer).
PAGES = {
    "bcc-execsnoop-Tx.txt": "top-execs",
    "libbpf-tools-tcplife.txt": "top-talkers",
    "bcc-tcpconnect-tU.txt": "top-destinations",
    "libbpf-tools-biosnoop.txt": "top-io",
    "bpftrace-hist-lhist.json": "histogram-summary",
    "libbpf-tools-runqlat-m.txt": "histogram-summary",
    "cpu.pb.gz": None,
    "profile-kstack-ustack-comm.json.zst": None,
}
SITE_CAPTURES = [
    DATA / "events" / "bcc-execsnoop-Tx.txt",
    DATA / "events" / "libbpf-tools-tcplife.txt",
    DATA / "events" / "bcc-tcpconnect-tU.txt",
    DATA / "events" / "libbpf-tools-biosnoop.txt",
    DATA / "histograms" / "bpftrace-hist-lhist.json",
    DATA / "histograms" / "libbpf-tools-runqlat-m.txt",
    DATA / "pprof" / "cpu.pb.gz",
    DATA / "bpftrace-json" / "profile-kstack-ustack-comm.json.zst",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats-browser")
    captures = root / "captures"
    captures.mkdir()
    for path in (*SITE_CAPTURES, DATA / "events" / "libbpf-tools-opensnoop.txt", DATA / "histograms" / "libbpf-tools-biolatency.txt"):
        (captures / path.name).write_bytes(path.read_bytes())
    return build_report([str(captures)], root / "site", ReportOptions(FoldOptions(), jobs=1)).output


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from chromium_context(tmp_path_factory, 1400, 900)


def test_event_tables_sort_and_the_histogram_chart_loads(context: Any, site: Path) -> None:
    w = Watched(context)
    page = w.page
    page.goto((site / "captures" / "libbpf-tools-opensnoop.txt" / "index.html").as_uri())
    assert page.locator("h2#top-paths").is_visible() and page.locator("h2#failures").is_visible()
    opens = page.locator("#top-paths-table thead th", has_text="opens")
    opens.locator("button").click()
    values = page.eval_on_selector_all("#top-paths-table tbody tr", "rows => rows.map(r => Number(r.cells[1].getAttribute('data-sort')))")
    assert values == sorted(values, reverse=True) and len(values) == TABLE_ROWS  # 67 paths, the 50 most opened
    opens.locator("button").click()
    again = page.eval_on_selector_all("#top-paths-table tbody tr", "rows => rows.map(r => Number(r.cells[1].getAttribute('data-sort')))")
    assert again == sorted(values)
    errnos = page.eval_on_selector_all("#failures-table tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert "ENOENT" in errnos
    graph = page.frame_locator("iframe.viewer >> nth=0")
    graph.locator("body[data-state='ready']").wait_for()

    page.goto((site / "captures" / "libbpf-tools-biolatency.txt" / "index.html").as_uri())
    chart = page.locator("img.histogram").first
    chart.wait_for()
    assert page.evaluate("() => document.querySelector('img.histogram').complete && document.querySelector('img.histogram').naturalWidth") == 640
    assert page.locator("#histogram-summary tbody td").nth(2).text_content() == "367"
    w.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_formats_report_page_loads_with_its_sections(context: Any, site: Path, name: str) -> None:
    """Each kind of capture's page: its table or histogram section is shown and its rows are
    filled, its flame-graph viewer gets ready, nothing is logged or fetched."""
    section = PAGES[name]
    w = Watched(context)
    page = w.page
    page.goto((site / "captures" / name / "index.html").as_uri())
    if section is not None:
        assert page.locator(f"#{section}").first.is_visible()
        assert page.locator(f"#{section}-table tbody tr, #{section} tbody tr").count() > 0
    if section == "histogram-summary":
        page.locator("img.histogram").first.wait_for()
        assert page.evaluate("() => [...document.querySelectorAll('img.histogram')].every(i => i.complete && i.naturalWidth > 0)")
    graph = page.frame_locator("iframe.viewer >> nth=0")
    graph.locator("body[data-state='ready']").wait_for()
    w.close()
