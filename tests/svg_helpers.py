"""Reading foldkit's (and flamegraph.pl's) flame graph SVGs back: frames, titles, geometry."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

SVG = "{http://www.w3.org/2000/svg}"
#: flamegraph.pl's tooltip: `name (1,234 samples, 5.67%)`.
TITLE = re.compile(r"^(?P<name>.*) \((?P<weight>[\d,.]+) (?P<unit>\S+), (?P<pct>[\d.]+)%\)$", re.DOTALL)


@dataclass
class Frame:
    """One drawn frame as the SVG shows it."""

    name: str  # data-name (foldkit) or the title's name (flamegraph.pl)
    title: str
    depth: int
    start: float | None
    weight: float
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str | None


def parse(data: bytes) -> etree._Element:
    """The SVG's root element."""
    return etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))


def frames(data: bytes) -> list[Frame]:
    """foldkit's frames, in document order, with their labels."""
    root = parse(data)
    group = root.find(f"{SVG}g[@id='frames']")
    assert group is not None
    out: list[Frame] = []
    for el in group:
        if el.tag == f"{SVG}rect":
            title = el.find(f"{SVG}title")
            out.append(
                Frame(
                    name=el.get("data-name"),
                    title=title.text if title is not None else "",
                    depth=int(el.get("data-depth")),
                    start=float(el.get("data-start")),
                    weight=float(el.get("data-weight")),
                    x=float(el.get("x")),
                    y=float(el.get("y")),
                    width=float(el.get("width")),
                    height=float(el.get("height")),
                    fill=el.get("fill"),
                    label=None,
                )
            )
        elif el.tag == f"{SVG}text":
            assert out, "a label before any frame"
            out[-1].label = el.text
    return out


def reference_frames(data: bytes, font_size: float = 12, frame_height: float = 16) -> list[tuple[str, int, int]]:
    """flamegraph.pl's frames as (title name, depth, samples); depth derived from y like its
    layout does: y = height - ypad2 - (depth + 1) * frame_height + 1, ypad2 = 2 * fontsize + 10."""
    root = parse(data)
    height = float(root.get("height"))
    bottom = font_size * 2 + 10
    out = []
    for g in root.iter(f"{SVG}g"):
        title, rect = g.find(f"{SVG}title"), g.find(f"{SVG}rect")
        if title is None or rect is None:
            continue
        m = TITLE.match(title.text or "")
        assert m, title.text
        depth = round((height - bottom - float(rect.get("y")) + 1) / frame_height - 1)
        out.append((m.group("name"), depth, int(m.group("weight").replace(",", ""))))
    return out


def titles_as_frames(data: bytes) -> list[tuple[str, int, int]]:
    """foldkit's frames read the way `reference_frames` reads flamegraph.pl's: from the titles."""
    out = []
    for f in frames(data):
        m = TITLE.match(f.title)
        assert m, f.title
        out.append((m.group("name"), f.depth, int(m.group("weight").replace(",", ""))))
    return out


def golden_text(data: bytes) -> bytes:
    """The SVG pretty-printed for a diffable golden, with the (package-file) script left out."""
    root = parse(data)
    for script in root.iter(f"{SVG}script"):
        script.text = "(script left out of goldens)"
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"
