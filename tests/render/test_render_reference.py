"""The same frames (name, depth, weight) as flamegraph.pl draws, at the same minimum width.

The reference SVGs were drawn by `flamegraph.pl --minwidth 0.1` from FlameGraph's own
`*-collapsed-all.txt` results and from stackcollapse-perf.pl's output on the corpus captures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from foldkit.profile import Profile
from foldkit.render import RenderOptions, render_flamegraph
from tests.support.common import DATA, data_bytes
from tests.support.svg import reference_frames, titles_as_frames

SVGS = sorted(p.name.removesuffix(".svg.zst") for p in (DATA / "expected" / "svg").glob("*.svg.zst"))


def _input_of(name: str) -> str:
    if name.endswith("-collapsed-all"):
        return f"flamegraph-tests/results/{name}.txt"
    return f"expected/{name}.folded"


def _stacks_as_flamegraph_pl_reads_them(text: bytes) -> Profile:
    """Folded lines split at the last space, as flamegraph.pl does: a frame's trailing spaces
    are kept (foldkit's folded reader trims them, a separate matter)."""
    weights: dict[str, int] = {}
    for line in text.decode("utf-8", "surrogateescape").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            weights[stack] = weights.get(stack, 0) + int(count)
    return Profile(weights=weights)


def test_every_reference_has_an_input() -> None:
    assert len(SVGS) >= 17
    for name in SVGS:
        assert (DATA / (_input_of(name) + ".zst")).exists(), name


@pytest.mark.parametrize("name", SVGS)
def test_same_frames_as_flamegraph_pl(name: str) -> None:
    expected = Counter(reference_frames(data_bytes(f"expected/svg/{name}.svg.zst")))
    profile = _stacks_as_flamegraph_pl_reads_them(data_bytes(_input_of(name)))
    svg = render_flamegraph(profile, RenderOptions(min_width="0.1", count_name="samples"))
    drawn = Counter(titles_as_frames(svg))
    assert drawn == expected, (
        f"only flamegraph.pl: {sorted((expected - drawn).items())[:5]}; "
        f"only foldkit: {sorted((drawn - expected).items())[:5]}"
    )


def test_reference_frames_are_many() -> None:
    """The comparison is not vacuous: the references hold thousands of frames in all."""
    total = sum(len(reference_frames(data_bytes(f"expected/svg/{n}.svg.zst"))) for n in SVGS)
    assert total > 2500


def test_same_frames_through_the_cli_reader(tmp_path: Path) -> None:
    """Through foldkit's own folded reader, frames match too when no name ends in a space."""
    from foldkit.ingest import read

    name = "perf-node"
    expected = Counter(reference_frames(data_bytes(f"expected/svg/{name}.svg.zst")))
    src = tmp_path / "in.folded"
    src.write_bytes(data_bytes(_input_of(name)))
    svg = render_flamegraph(read(str(src)), RenderOptions(count_name="samples"))
    assert Counter(titles_as_frames(svg)) == expected
