"""HTML building: untrusted text stays text, pages are valid HTML5, the policy allows exactly the
embedded script and style."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import html5lib
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from foldkit.report.html import Column, asset, cell, el, href, link, page, sortable_table, text
from tests.support.report import assert_valid_html

HOSTILE = [
    "</script><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<!-- comment -->",
    "]]><svg onload=alert(1)>",
    "javascript:alert(1)",
    "a\x1b[31mb\x00c\udcff\u202e",
    "&amp; &lt; & <",
]


def parse(data: bytes) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(data)


def test_text_and_attributes_are_escaped() -> None:
    for bad in HOSTILE:
        data = page(bad, [el("p", {"title": bad, "id": "x"}, bad), link(href("captures", bad), bad)])
        doc = parse(data)
        assert doc.get_element_by_id("x").text == text(bad)
        assert doc.get_element_by_id("x").get("title") == text(bad)
        assert doc.find(".//title").text == text(bad)
        assert len(doc.findall(".//script")) == 1 and not doc.findall(".//img") and not doc.findall(".//svg")
        assert not any(k.startswith("on") for e in doc.iter() for k in e.attrib)
        assert doc.find(".//a").get("href").startswith("captures/") and ":" not in doc.find(".//a").get("href")


#: Any character, plus the surrogate escapes that carry non-UTF-8 bytes and lone surrogates.
ANY_CHAR = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr))


@given(st.text(ANY_CHAR, max_size=200))
def test_any_text_round_trips_through_a_valid_page(value: str) -> None:
    data = page("t", [el("p", {"id": "x", "data-name": value}, value)])
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(data)
    p = tree.find(".//p")
    assert (p.text or "") == text(value)
    assert p.get("data-name") == text(value)


def test_href_percent_encodes_every_part() -> None:
    assert href("captures", "a b", "index.html") == "captures/a%20b/index.html"
    assert href("../x") == "..%2Fx"


def test_policy_hashes_match_the_embedded_script_and_style(tmp_path: Path) -> None:
    data = page("t", [])
    doc = parse(data)
    policy = doc.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    for tag, name, directive in (("script", "report.js", "script-src"), ("style", "report.css", "style-src")):
        text = doc.find(f".//{tag}").text
        assert text == asset(name)
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert re.search(rf"{directive} 'sha256-{re.escape(digest)}'", policy)
    assert "object-src 'none'" in policy
    out = tmp_path / "p.html"
    out.write_bytes(data)
    assert_valid_html(out)


def test_sortable_table_marks_headers_and_cells() -> None:
    table = sortable_table(
        [Column("Name"), Column("Samples", numeric=True), Column("Top", sortable=False)],
        [[cell("b", sort="b"), cell("1,000", sort=1000, css="num"), cell("x")]],
        table_id="t",
        sorted_by=0,
    )
    ths = table.findall("thead/tr/th")
    assert [th.get("data-type") for th in ths] == ["text", "number", None]
    assert [th.get("aria-sort") for th in ths] == ["ascending", "none", None]
    assert ths[0].find("button") is not None and ths[2].find("button") is None
    tds = table.findall("tbody/tr/td")
    assert tds[1].get("data-sort") == "1000" and tds[1].get("class") == "num"
    assert table.get("class") == "sortable"


def test_script_and_style_are_static_files() -> None:
    """Nothing generated reaches the script: it is the package file, byte for byte, on every page."""
    script = asset("report.js")
    assert "</" not in script and "</" not in asset("report.css")
    first = parse(page("one", [el("p", None, "x")])).find(".//script").text
    second = parse(page("two </script>", [el("p", None, "<script>")])).find(".//script").text
    assert first == second == script
