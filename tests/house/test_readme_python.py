"""The README's "From Python" examples run as doctests, and every "Transforms" example runs."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from foldkit.transform import TRANSFORMS
from tests.support.transform import ROOT, run_cli

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    """The README text from the heading `title` to the next heading of the same or a higher level."""
    m = re.search(rf"^(#+) {re.escape(title)}\n", README, re.M)
    assert m, f"README has no section {title!r}"
    level = len(m.group(1))
    end = re.search(rf"^#{{1,{level}}} ", README[m.end() :], re.M)
    return README[m.end() : m.end() + end.start()] if end else README[m.end() :]


def test_from_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = section("From Python")
    blocks = re.findall(r"```pycon\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README From Python", "README.md", 0)
    assert len(test.examples) >= 15
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "a README example failed (its output is printed above)"
    assert (tmp_path / "tree.folded").read_text().startswith("phase_tree 8016032\n")
    assert (tmp_path / "mixed.speedscope.json").stat().st_size > 0
    assert (tmp_path / "mixed.svg").read_bytes().startswith(b"<?xml")


def test_every_transform_has_its_example_in_the_readme_and_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = section("Transforms")
    monkeypatch.chdir(ROOT)
    for t in TRANSFORMS.values():
        assert t.example.replace("|", "\\|") in text, f"README Transforms lacks the example of {t.flag}"
        code, out, err = run_cli(shlex.split(t.example)[1:])
        assert code == 0, err
        assert out, f"{t.example} printed nothing"


def test_combined_example_output_is_what_the_readme_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    text = section("Transforms")
    m = re.search(r"```sh\n\$ (foldkit .*?)\n(.*?)```", text, re.S)
    assert m
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(shlex.split(m.group(1))[1:])
    assert code == 0 and out.decode() == m.group(2)
