"""The viewer page: one self-contained HTML document, built with lxml's element API.

The document holds a JSON header (`<script type="application/json">`, with `<`, `>` and `&`
escaped so no text can end the element), the packed tree (`<script type="application/octet-stream">`,
base64) and the package files `viewer.js` (after the bounded search, `../search.js`, and the
palette, `palette.js`) and `viewer.css`. Neither data block is executable; the Content-Security-Policy allows exactly the embedded script and style (by their SHA-256) and no
request of any kind, so the page works from `file://` and never reaches the network.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

try:  # hashlib's SHA-256 itself, without hashlib loading OpenSSL (milliseconds of every page)
    from _sha256 import sha256  # Python 3.11
except ImportError:  # pragma: no cover - Python 3.12 on
    from hashlib import sha256

from lxml import etree

from foldkit.render.svg import with_search
from foldkit.text import visible

DOCTYPE = "<!DOCTYPE html>"
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


@cache
def asset(name: str) -> str:
    """The text of a viewer package file (`viewer.js`, `viewer.css`)."""
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


@cache
def viewer_script() -> str:
    """The page's whole script: the bounded search (`foldkit/render/search.js`), the palette
    (`palette.js`) and `viewer.js`."""
    return with_search(asset("palette.js") + "\n" + asset("viewer.js"))


def csp_hash(text: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy() -> str:
    """Only the embedded script and style run; nothing is fetched, framed, submitted or based."""
    return (
        f"default-src 'none'; script-src {csp_hash(viewer_script())}; style-src {csp_hash(asset('viewer.css'))}; "
        "img-src 'none'; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
    )


def script_json(value: Any) -> str:
    """`value` as JSON that is safe inside a `<script>` element (ASCII only; no `<`, `>`, `&`)."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).translate(_JSON_ESCAPES)


def _sub(parent: etree._Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs or {})
    if text is not None:
        element.text = text
    return element


#: The data block's text while lxml writes the document; the payload is written in its place
#: (`viewer_document`).
_DATA_MARK = "foldkit-viewer-data"
#: The data element as lxml writes it around the mark: its `<`, `>` and `</script>` are markup,
#: which no text in the document can hold (lxml escapes `<` in text, the JSON header has none).
_DATA_ELEMENT = b'id="foldkit-data">' + _DATA_MARK.encode("ascii") + b"</script>"


def viewer_document(title: str, meta: dict[str, Any], generator: str, time_data: str | None = None) -> tuple[bytes, bytes]:
    """The complete document but for its data block: the bytes before the packed tree's base64
    text and the bytes after it. `meta` is the header and display settings; `time_data` (base64,
    `timeline.py`) the Time view's data."""
    root = etree.Element("html", {"lang": "en"})
    head = _sub(root, "head")
    _sub(head, "meta", {"charset": "utf-8"})
    _sub(head, "meta", {"http-equiv": "Content-Security-Policy", "content": content_security_policy()})
    _sub(head, "meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"})
    _sub(head, "meta", {"name": "generator", "content": visible(generator)})
    _sub(head, "title", None, visible(title))
    _sub(head, "style", None, asset("viewer.css"))
    body = _sub(root, "body")
    noscript = _sub(body, "noscript")
    noscript.text = "This flame graph viewer needs JavaScript."
    _sub(body, "script", {"type": "application/json", "id": "foldkit-meta"}, script_json(meta))
    _sub(body, "script", {"type": "application/octet-stream", "id": "foldkit-data"}, _DATA_MARK)
    if time_data is not None:
        _sub(body, "script", {"type": "application/octet-stream", "id": "foldkit-time"}, time_data)
    _sub(body, "script", None, viewer_script())
    page = etree.tostring(root, method="html", encoding="utf-8", doctype=DOCTYPE) + b"\n"
    before, mark, after = page.partition(_DATA_ELEMENT)
    if not mark or _DATA_ELEMENT in after:  # pragma: no cover - lxml wrote the element otherwise
        raise RuntimeError("the viewer page's data element was not written as expected")
    split = len(b'id="foldkit-data">')
    return before + mark[:split], mark[split + len(_DATA_MARK) :] + after


def viewer_page(title: str, meta: dict[str, Any], data: str, generator: str, time_data: str | None = None) -> bytes:
    """The complete document: `viewer_document` with `data` (base64) in its data block."""
    before, after = viewer_document(title, meta, generator, time_data)
    return before + data.encode("ascii") + after
