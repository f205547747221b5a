"""HTML pages built with lxml's element API: untrusted text only ever becomes a text node or an
attribute value (lxml escapes it) after `visible()`; the style and the script are package files.

    page(title, body_children, root="../../") -> bytes   # a complete, self-contained document
    el("td", {"class": "num"}, "12")                     # one element with children

Each page carries a Content-Security-Policy that allows exactly the embedded script and style (by
their SHA-256), so even markup that slipped through could not run script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Union
from urllib.parse import quote

from lxml import etree

from foldkit import __version__
from foldkit.render.viewer.page import csp_hash
from foldkit.text import visible

Child = Union[str, etree._Element, None, Iterable["Child"]]  # noqa: UP007 (a recursive alias needs the string form)

DOCTYPE = "<!DOCTYPE html>"


@cache
def asset(name: str) -> str:
    """The text of a file shipped in this package (`report.js`, `report.css`)."""
    return resources.files("foldkit.report").joinpath(name).read_text(encoding="utf-8")


def content_security_policy() -> str:
    """The pages' policy: only the embedded script and style run; no plugins, forms or base URL."""
    return (
        f"script-src {csp_hash(asset('report.js'))}; style-src {csp_hash(asset('report.css'))}; "
        "object-src 'none'; base-uri 'none'; form-action 'none'"
    )


#: Code points HTML forbids in a document beyond what `visible()` already replaces: the
#: non-characters (U+FDD0-U+FDEF and the last two of every plane).
_NONCHARACTERS = re.compile("[\ufdd0-\ufdef" + "".join(f"\\U{p:04x}fffe\\U{p:04x}ffff" for p in range(1, 17)) + "]")


def text(value: str) -> str:
    """`value` as it may appear in a page: `visible()`, and the non-characters HTML forbids escaped."""
    return _NONCHARACTERS.sub(_escape_code_point, visible(value))


def _escape_code_point(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\u{c:04x}" if c <= 0xFFFF else f"\\U{c:08x}"


def _append(parent: etree._Element, child: Child) -> None:
    if child is None:
        return
    if isinstance(child, str):
        clean = text(child)
        if len(parent):
            last = parent[-1]
            last.tail = (last.tail or "") + clean
        else:
            parent.text = (parent.text or "") + clean
    elif isinstance(child, etree._Element):
        parent.append(child)
    else:
        for item in child:
            _append(parent, item)


def el(tag: str, attrs: Mapping[str, str | None] | None = None, *children: Child) -> etree._Element:
    """Element `tag` with `attrs` (None values left out) and `children` (text, elements, lists)."""
    element = etree.Element(tag)
    for key, value in (attrs or {}).items():
        if value is not None:
            element.set(key, text(value))
    for child in children:
        _append(element, child)
    return element


def lines(value: str) -> list[Child]:
    """`value` as text whose line breaks stay line breaks (`<br>` between the lines, each made
    visible), for messages of several lines such as a capture's error."""
    out: list[Child] = []
    for i, line in enumerate(value.split("\n")):
        if i:
            out.append(etree.Element("br"))
        out.append(line)
    return out


def href(*parts: str) -> str:
    """A relative URL from path parts (each percent-encoded, so any file name is a safe link)."""
    return "/".join(quote(p.encode("utf-8", "surrogateescape"), safe="._-~") for p in parts)


def link(url: str, *children: Child) -> etree._Element:
    """`<a href=url>`."""
    return el("a", {"href": url}, *children)


@dataclass(frozen=True)
class Column:
    """One column of a sortable table: its header, whether it sorts as a number, its cell class."""

    header: str
    numeric: bool = False
    sortable: bool = True
    css: str | None = None
    title: str | None = None


def cell(content: Child, sort: float | int | str | None = None, css: str | None = None) -> etree._Element:
    """A `<td>`; `sort` is the value the table sorts this cell by (numbers for numeric columns)."""
    attrs: dict[str, str | None] = {"class": css}
    if sort is not None:
        attrs["data-sort"] = sort if isinstance(sort, str) else repr(sort)
    return el("td", attrs, content)


def sortable_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[etree._Element]],
    table_id: str | None = None,
    sorted_by: int | None = None,
) -> etree._Element:
    """A table whose headers sort it when clicked (by report.js); column `sorted_by` is marked as
    the ascending order the rows already have."""
    head_row = el("tr")
    for i, col in enumerate(columns):
        css = " ".join(c for c in (col.css, "num" if col.numeric else None) if c) or None
        attrs: dict[str, str | None] = {"class": css, "scope": "col", "title": col.title}
        if col.sortable:
            attrs["data-type"] = "number" if col.numeric else "text"
            attrs["aria-sort"] = "ascending" if i == sorted_by else "none"
            head_row.append(el("th", attrs, el("button", {"type": "button"}, col.header)))
        else:
            head_row.append(el("th", attrs, col.header))
    body = el("tbody")
    for row in rows:
        body.append(el("tr", None, list(row)))
    return el("table", {"class": "sortable", "id": table_id}, el("thead", None, head_row), body)


def facts(pairs: Iterable[tuple[str, Child]]) -> etree._Element:
    """A definition list of (label, value) pairs; pairs whose value is None are left out."""
    dl = el("dl", {"class": "facts"})
    for label, value in pairs:
        if value is None:
            continue
        dl.append(el("dt", None, label))
        dl.append(el("dd", None, value))
    return dl


def page(title: str, body: Sequence[Child], description: str = "") -> bytes:
    """A complete HTML document (UTF-8) with the report's style and script embedded."""
    head = el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("meta", {"http-equiv": "Content-Security-Policy", "content": content_security_policy()}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("meta", {"name": "generator", "content": f"foldkit {__version__}"}),
        el("meta", {"name": "description", "content": description}) if description else None,
        el("title", None, title),
    )
    style = etree.SubElement(head, "style")
    style.text = asset("report.css")
    body_el = el("body", None, list(body))
    script = etree.SubElement(body_el, "script")
    script.text = asset("report.js")
    root = el("html", {"lang": "en"}, head, body_el)
    return etree.tostring(root, method="html", encoding="utf-8", doctype=DOCTYPE) + b"\n"
