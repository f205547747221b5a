"""Reading foldkit's (and flamegraph.pl's) flame graph SVGs back: frames, titles, geometry."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from foldkit.text import display_name

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


#: inferno's namespace for a frame's position in input units (`fg:x`, `fg:w`).
INFERNO = "{http://github.com/jonhoo/inferno}"
#: A tooltip's name: `name (1,234 samples, 5.67%)`, inferno's differential `name (56 samples, 10.92%; +1.20%)`.
TOOLTIP_NAME = re.compile(r"^(?P<name>.*) \([\d,.]+ [^,()]*, [\d.]+%(?:; [^()]*)?\)$", re.DOTALL)

#: A frame compared across renderers: (name, start and width as shares of the total, depth).
SharedFrame = tuple[str, float, float, int]


def _tooltip_name(title: str) -> str:
    m = TOOLTIP_NAME.match(title)
    return m.group("name") if m else title


def inferno_frames(data: bytes, digits: int = 6, mirror: bool = False) -> list[SharedFrame]:
    """inferno-flamegraph's frames as (name, start share, width share, depth): the name from the
    tooltip (the tooltip itself when `--nameattr` replaced it), the position from `fg:x`/`fg:w`
    (`mirror`: measured from the right edge), the depth from the row (flame graphs grow up,
    icicle graphs down)."""
    root = parse(data)
    frames = []
    for rect in root.iter(f"{SVG}rect"):
        if rect.get(f"{INFERNO}x") is None:
            continue
        title = rect.getparent().find(f"{SVG}title")
        name = _tooltip_name(title.text or "") if title is not None else ""
        frames.append((name, float(rect.get(f"{INFERNO}x")), float(rect.get(f"{INFERNO}w")), float(rect.get("y"))))
    if not frames:
        return []
    total = max(x + w for _, x, w, _ in frames)
    widest = max(frames, key=lambda f: f[2])
    rows = sorted({f[3] for f in frames}, reverse=widest[3] == max(f[3] for f in frames))
    depth = {y: i for i, y in enumerate(rows)}
    return [(name, round((total - x - w if mirror else x) / total, digits), round(w / total, digits), depth[y]) for name, x, w, y in frames]


def shared_frames(data: bytes, digits: int = 6) -> list[SharedFrame]:
    """foldkit's frames in the form `inferno_frames` gives (the tooltip as the name only when
    `--nameattr` replaced it)."""
    out = []
    got = frames(data)
    span = max((f.start + f.weight for f in got if f.start is not None), default=0.0) or 1.0
    for f in got:
        shown = display_name(f.name)
        plain = f.title.startswith((f"{shown} (", f"{f.name} ("))
        out.append((shown if plain else f.title, round((f.start or 0.0) / span, digits), round(f.weight / span, digits), f.depth))
    return out
