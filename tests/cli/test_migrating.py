"""docs/migrating.md: every foldkit spelling its flag tables give runs (exit 0), so the doc cannot
rot; and the tables cover every flag the peers' help lists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.support.common import FIXTURES
from tests.support.transform import run_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"
_ROW = re.compile(r"^\| (?P<tool>[\w.-]+) \| (?P<flag>.+?) \| (?P<foldkit>.+?) \| (?P<difference>.+?) \|$")
_SPELLING = re.compile(r"`(foldkit [^`]+)`")

#: What each peer's help (and, for the Perl scripts, their option parsing) lists: the doc's tables
#: must name every one of them.
PEER_FLAGS = {
    "stackcollapse-perf.pl": "--pid --tid --inline --all --kernel --jit --context --srcline --addrs --event-filter",
    "flamegraph.pl": (
        "--title --subtitle --width --height --minwidth --fonttype --fontsize --fontwidth --encoding --countname "
        "--nametype --nameattr --total --factor --colors --bgcolors --hash --random --cp --reverse --inverted "
        "--flamechart --negate --notes --help"
    ),
    "difffolded.pl": "-h -n -s",
    "inferno-collapse-perf": "--addrs --all --jit --kernel --pid --tid -q --quiet -v --verbose --event-filter -n --nthreads --skip-after -h --help",
    "inferno-flamegraph": (
        "--cp --hash --deterministic -i --inverted --truncate-text-right --negate --no-sort --pretty-xml --no-javascript "
        "-q --quiet -v --verbose --reverse --bgcolors -c --colors --colordiffusion --countname --factor --fontsize "
        "--fonttype --fontwidth --uicolor --height --minwidth --nameattr --nametype --notes --search-color "
        "--stroke-color --subtitle --title --width --base --flamechart -h --help"
    ),
    "inferno-diff-folded": "-n --normalize -s --strip-hex -q --quiet -v --verbose -h --help",
}


def rows() -> list[dict[str, str]]:
    """The rows of the doc's flag tables."""
    out = []
    for line in DOC.read_text().splitlines():
        m = _ROW.match(line)
        if m and m["tool"] in PEER_FLAGS:
            out.append(m.groupdict())
    return out


def spellings() -> list[str]:
    """Every `foldkit ...` command line in the foldkit column."""
    return sorted({s for row in rows() for s in _SPELLING.findall(row["foldkit"])})


def test_the_tables_list_every_flag_of_the_peers() -> None:
    listed: dict[str, set[str]] = {}
    for row in rows():
        listed.setdefault(row["tool"], set()).update(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", row["flag"]))
    for tool, flags in PEER_FLAGS.items():
        missing = set(flags.split()) - listed.get(tool, set())
        assert not missing, f"docs/migrating.md lacks {tool} {sorted(missing)}"
    assert len(spellings()) > 80


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the inputs the spellings are run on (and the files they name)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.folded").write_text("main;work;a 5\nmain;work;b 3\nmain;idle 0x7f00 2\n")
    (tmp_path / "b.folded").write_text("main;work;a 2\nmain;work;b 6\nmain;idle 0x7f00 1\n")
    (tmp_path / "names.txt").write_text("work\ttitle=the work\tclass=hot\n")
    return tmp_path


@pytest.mark.parametrize("spelling", spellings())
def test_every_foldkit_spelling_in_the_doc_runs(spelling: str, workdir: Path) -> None:
    words = shlex.split(spelling)[1:]
    command = words[0]
    if command == "fold":
        args = [*words, str(FIXTURES / "java.perf"), "-o", "out.folded"]
    elif command == "flamegraph":
        args = [*words, "a.folded", "-o", "out.svg"]
    else:
        args = [*words, "a.folded", "b.folded", "-o", "out.folded"]
    code, _, err = run_cli(args)
    assert code == 0, f"{spelling}: {err}"
    assert "No such option" not in err
