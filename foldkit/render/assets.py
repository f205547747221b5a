"""The package files a flame-graph SVG embeds (`flamegraph.js`, `flamegraph.css`, `search.js`),
read once: for the lxml writer (`foldkit.render.svg`) and the native plain flame graph
(`foldkit.cli.plain`), which loads nothing else of the renderer."""

from __future__ import annotations

import os
from functools import cache


@cache
def asset(name: str) -> str:
    """The text of a package file (`flamegraph.js`, `flamegraph.css`, `search.js`)."""
    with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as f:
        return f.read()


def with_search(script: str) -> str:
    """`script` preceded by the bounded search it calls (`search.js`, which defines
    `foldkitSearch`), as one script: the SVG's and the HTML viewer's."""
    return asset("search.js") + "\n" + script


@cache
def svg_script() -> str:
    """The SVG's whole script: the bounded search and `flamegraph.js`."""
    return with_search(asset("flamegraph.js"))
