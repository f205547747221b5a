"""Background gradients of a flame graph (flamegraph.pl's `--bgcolors`), in a module of their
own so the native plain flame graph (`foldkit.cli.plain`) has them without loading the palettes
(`foldkit.render.palette`, which gives `background` its hue palettes)."""

from __future__ import annotations

#: Background gradients (top, bottom) by name, as flamegraph.pl's `--bgcolors`.
BACKGROUNDS: dict[str, tuple[str, str]] = {
    "yellow": ("#eeeeee", "#eeeeb0"),
    "blue": ("#eeeeee", "#e0e0ff"),
    "green": ("#eef2ee", "#e0ffe0"),
    "grey": ("#f8f8f8", "#e8e8e8"),
}


def background(palette: str, bgcolors: str | None, hue: bool) -> tuple[str, str]:
    """The (top, bottom) background gradient: `bgcolors` by name or as one flat colour; when absent
    chosen by palette like flamegraph.pl (mem green, io/wakeup blue, hue palettes grey, else
    yellow); `hue` says whether `palette` is a hue palette."""
    if bgcolors is None:
        if palette == "mem":
            bgcolors = "green"
        elif palette in ("io", "wakeup", "chain"):
            bgcolors = "blue"
        elif hue and palette != "hot":
            bgcolors = "grey"
        else:
            bgcolors = "yellow"
    if bgcolors in BACKGROUNDS:
        return BACKGROUNDS[bgcolors]
    return bgcolors, bgcolors
