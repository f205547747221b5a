"""The package files a flame-graph SVG embeds (`flamegraph.js`, `flamegraph.css`, `search.js`),
read once: for the lxml writer (`foldkit.render.svg`) and the native plain flame graph
(`foldkit.cli.plain`), which loads nothing else of the renderer."""

from __future__ import annotations

import os

#: The package files read so far, by name (`functools.cache` would load functools, which the
#: plain flame graph's start-up does without).
_READ: dict[str, str] = {}


def asset(name: str) -> str:
    """The text of a package file (`flamegraph.js`, `flamegraph.css`, `search.js`), read once."""
    text = _READ.get(name)
    if text is None:
        with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as f:
            text = _READ[name] = f.read()
    return text


def with_search(script: str) -> str:
    """`script` preceded by the bounded search it calls (`search.js`, which defines
    `foldkitSearch`), as one script: the SVG's and the HTML viewer's."""
    return asset("search.js") + "\n" + script


def svg_script() -> str:
    """The SVG's whole script: the bounded search and `flamegraph.js`."""
    script = _READ.get("")
    if script is None:
        script = _READ[""] = with_search(asset("flamegraph.js"))
    return script
