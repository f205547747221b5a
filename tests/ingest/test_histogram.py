"""Histograms (BCC/libbpf-tools log2 output, bpftrace hist()/lhist() as text and JSON): detection,
buckets kept whole, percentiles, `top`'s summary and the report's histogram section."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree, html

from foldkit.analysis.histograms import bar_chart, summary
from foldkit.cli import main
from foldkit.ingest import FORMATS, detect
from foldkit.ingest.histogram import HISTOGRAMS, percentile
from foldkit.inputs import open_source
from tests.support.bpf import fold
from tests.support.common import DATA

HIST = DATA / "histograms"
CAPTURES = sorted(p for p in HIST.iterdir() if p.suffix in (".txt", ".json"))


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_detected_only_as_histogram(path: Path) -> None:
    source = open_source(str(path))
    try:
        assert [n for n, m in FORMATS.items() if m.sniff(source.head())] == ["histogram"]
        assert detect(source).NAME == "histogram"
    finally:
        source.close()


def test_biolatency_buckets_and_percentiles() -> None:
    profile = fold(HIST / "libbpf-tools-biolatency.txt")
    [(name, unit, buckets)] = profile.meta[HISTOGRAMS]
    assert (name, unit) == ("usecs", "usecs")
    assert buckets[10] == (1024, 2048, 107)  # `1024 -> 2047 : 107`
    assert sum(c for _, _, c in buckets) == profile.total == 367
    assert profile.weights["usecs;[1024, 2048)"] == 107
    # 367 events: the median (183.5th) is in [512, 1024), after 134 events below it, 65 in it
    assert percentile(buckets, 0.5) == pytest.approx(512 + 512 * (183.5 - 134) / 65)


def test_bpftrace_text_and_json_agree() -> None:
    text = {n: b for n, _, b in fold(HIST / "bpftrace-hist-lhist.txt").meta[HISTOGRAMS]}
    assert text["@flags"][0] == (0, 1, 19)  # `[0]  19`
    assert text["@flags"][-1] == (524288, 1048576, 209)  # `[512K, 1M)  209`
    assert text["@lin[python]"] == ((500000, 600000, 32), (600000, 700000, 1))
    from_json = {n: b for n, _, b in fold(HIST / "bpftrace-hist-lhist.json").meta[HISTOGRAMS]}
    assert set(from_json) == {"@flags", "@lin"}
    assert sum(c for _, _, c in from_json["@flags"]) == 192


def test_labelled_bcc_histograms_per_disk() -> None:
    text = (
        b"Tracing block device I/O... Hit Ctrl-C to end.\n\ndisk = nvme0n1\n"
        b"     usecs               : count    distribution\n         0 -> 1          : 2        |****|\n         2 -> 3          : 1        |**  |\n"
        b"\ndisk = sda\n     usecs               : count    distribution\n         4 -> 7          : 5        |****|\n"
    )
    profile = fold(text)
    assert [(n, b) for n, _, b in profile.meta[HISTOGRAMS]] == [("disk nvme0n1 (usecs)", ((0, 2, 2), (2, 4, 1))), ("disk sda (usecs)", ((4, 8, 5),))]


def test_percentiles_of_edge_cases() -> None:
    assert percentile((), 0.5) is None
    assert percentile(((0, 2, 0),), 0.5) is None
    assert percentile(((10, 20, 4),), 1.0) == 20
    assert percentile(((0, 1, 1), (100, 200, 1)), 0.99) == pytest.approx(198)


def test_top_prints_events_and_percentiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["top", str(HIST / "libbpf-tools-runqlat-m.txt"), "-q"]) == 0
    out = capsys.readouterr().out
    head, rest = out.split("\n\n", 1)
    assert head.splitlines()[0].split() == ["histogram", "|", "unit", "|", "events", "|", "p50", "|", "p90", "|", "p99", "|", "max"]
    assert "3,694" in head and "msecs" in head
    assert "top" in rest  # then the usual table


def test_bar_chart_is_svg_with_a_bar_per_bucket() -> None:
    buckets = ((0, 2, 3), (2, 4, 0), (4, 8, 7))
    svg = etree.fromstring(bar_chart("usecs", "usecs", buckets))
    rects = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 3
    assert float(rects[2].get("height")) == 200.0 and float(rects[1].get("height")) == 0.0
    assert summary(fold(HIST / "libbpf-tools-runqlat.txt")).row(0, named=True)["events"] == 3679  # type: ignore[union-attr]


def test_report_has_a_histogram_section(tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(HIST), "-o", str(out), "-q"]) == 0
    page = html.parse(str(out / "captures" / "libbpf-tools-biolatency.txt" / "index.html"))
    assert page.xpath("//h2[@id='histograms']")
    assert page.xpath("//table[@id='histogram-summary']//tbody//td[3]")[0].text_content() == "367"
    img = page.xpath("//img[@class='histogram']")[0].get("src")
    chart = etree.parse(str(out / "captures" / "libbpf-tools-biolatency.txt" / img))
    assert len(chart.findall("{http://www.w3.org/2000/svg}rect")) == 18
