"""`--nameattr FILE` (flamegraph.pl, inferno): extra SVG attributes for the frames of named functions.

Each line is a function name, a tab, then tab-separated `name=value` pairs:

    main	class=hot	title=the entry point	g_extra=stroke="green" stroke-width="1"

`title` replaces the frame's tooltip; `g_extra` holds several `name="value"` pairs; every other
pair becomes an attribute of the frame's `<rect>`. A later pair for the same attribute wins.
Links (`href`, `target`, `a_extra`) are not drawn: foldkit's frames are not wrapped in `<a>`
elements (a click zooms). Attributes that would change the frame's geometry or data (`x`, `y`,
`width`, `height`, `data-*`) or run script (`on...`) are ignored with a warning, as are pairs
without `=`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from foldkit.errors import InputError
from foldkit.lazy import regex

#: Pairs inside a `g_extra` value: `name="value"`.
_EXTRA = regex(globals(), "_EXTRA", r'([A-Za-z_][\w.:-]*)="([^"]*)"')
_ATTRIBUTE = regex(globals(), "_ATTRIBUTE", r"[A-Za-z_][\w.-]*")
#: Attributes foldkit writes itself and the script reads.
_RESERVED = {"x", "y", "width", "height"}
_LINKS = {"href", "target", "a_extra", "xlink:href"}


@dataclass
class NameAttributes:
    """Per function name: the tooltip to show instead of the default, and extra `<rect>` attributes."""

    titles: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _pairs(text: str, where: str, warn: list[str]) -> list[tuple[str, str]]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        warn.append(f"{where}: invalid attribute {text[:60]!r} (expected name=value); ignored")
        return []
    if key == "g_extra":
        return _EXTRA.findall(value)
    return [(key, value)]


def load_name_attributes(path: str | os.PathLike[str]) -> NameAttributes:
    """Read a `--nameattr` file; problems in it become warnings, an unreadable file an InputError."""
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the --nameattr file: {exc.strerror}") from None
    out = NameAttributes()
    links = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        name, _, rest = line.partition("\t")
        if not name.strip() or not rest:
            continue
        where = f"{path}:{lineno}"
        attrs = out.attributes.setdefault(name, {})
        for part in rest.split("\t"):
            if not part:
                continue
            for key, value in _pairs(part, where, out.warnings):
                if key == "title":
                    out.titles[name] = value
                elif key in _LINKS:
                    links += 1
                elif key in _RESERVED or key.startswith(("data-", "on")) or not _ATTRIBUTE.fullmatch(key):
                    out.warnings.append(f"{where}: attribute {key!r} cannot be set by --nameattr; ignored")
                else:
                    if key in attrs:
                        out.warnings.append(f"{where}: duplicate attribute {key!r} for {name!r}; the last one is used")
                    attrs[key] = value
        if not attrs:
            del out.attributes[name]
    if links:
        out.warnings.append(f"{path}: {links} link attribute(s) (href, target, a_extra) ignored: foldkit frames are not links")
    return out
