"""The viewer page as a document: self-contained, inert data, the SVG's colours, and the commands
that write it (`flamegraph -o x.html`, `diff -o x.html`), by path and by stdin."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.cli import main
from foldkit.profile import Profile
from foldkit.render import RenderOptions
from foldkit.render.palette import frame_color
from foldkit.render.viewer import render_viewer, wants_viewer
from tests.browser.test_browser import HOSTILE
from tests.support.common import DATA
from tests.support.viewer import parse_page

CAPTURE = DATA / "captures" / "perf-cpp-fp.txt.zst"
OTHER = DATA / "captures" / "perf-cpp-dwarf.txt.zst"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "foldkit", *args], input=stdin, capture_output=True, timeout=120)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_policy_allows_exactly_the_embedded_script_and_style() -> None:
    doc, _ = parse_page(render_viewer(Profile(weights={"a;b": 1})))
    policy = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    scripts = [s for s in doc.xpath("//script") if s.get("type") is None]
    assert len(scripts) == 1
    assert f"script-src {_hash(scripts[0].text)};" in policy
    assert f"style-src {_hash(doc.xpath('//style')[0].text)};" in policy
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    data_blocks = {s.get("id"): s.get("type") for s in doc.xpath("//script[@type]")}
    assert data_blocks == {"foldkit-meta": "application/json", "foldkit-data": "application/octet-stream"}
    assert not doc.xpath("//*[@src or @href]")  # nothing to fetch


def test_hostile_names_stay_data() -> None:
    html = render_viewer(Profile(weights=HOSTILE), RenderOptions(title="</script><script>window.pwned=1</script>", subtitle="<img src=x onerror=alert(1)>"))
    doc, data = parse_page(html)
    assert len(doc.xpath("//script")) == 3 and not doc.xpath("//img | //svg | //iframe")
    assert b"<script>window" not in html and b"<img" not in html
    assert "</script><script>window.pwned=1</script>" in data.names  # kept, as data
    assert data.meta["title"] == "</script><script>window.pwned=1</script>"
    assert not any(re.search("[\x00-\x1f\u202e\udcff]", n) for n in data.names)  # made visible


def test_every_frame_is_kept_with_the_svg_colours() -> None:
    weights = {f"main;f{i}": 1 for i in range(50_000)} | {"main;big;work_[k]": 1_000_000, "main;std::sort": 7}
    _, data = parse_page(render_viewer(Profile(weights=weights)))
    assert data.meta["nodes"] == 50_000 + 5  # all, main, big, work, std::sort and every f: no pruning
    for name in ("main", "work_[k]", "std::sort", "f17"):
        assert data.color(name) == frame_color(name)
    _, java = parse_page(render_viewer(Profile(weights=weights), RenderOptions(palette="blue", hash=True)))
    assert java.color("f17") == frame_color("f17", "blue", hash_start=True)


def test_settings_reach_the_page() -> None:
    options = RenderOptions(inverted=True, count_name="ns", factor=2.0, search_color="#00ff00", truncate_text_right=False)
    _, data = parse_page(render_viewer(Profile(weights={"a": 1}, unit="samples"), options))
    assert data.meta["view"] == "icicle" and data.meta["title"] == "Icicle Graph" and data.meta["truncate"] == "left"
    assert (data.meta["unit"], data.meta["factor"], data.meta["searchColor"]) == ("ns", 2.0, "#00ff00")


def test_reverse_puts_leaves_at_the_root() -> None:
    _, data = parse_page(render_viewer(Profile(weights={"main;f;leaf": 3}), RenderOptions(reverse=True)))
    assert ("leaf", "f", "main") in data.paths()


def test_suffix_picks_the_viewer() -> None:
    assert wants_viewer("x.html") and wants_viewer("x.HTM") and wants_viewer("x.html.gz")
    assert not wants_viewer("x.svg") and not wants_viewer("-") and not wants_viewer(None)


def test_flamegraph_html_by_path_and_stdin(tmp_path: Path) -> None:
    out = tmp_path / "cpu.html"
    by_path = run("flamegraph", str(CAPTURE), "-o", str(out))
    assert by_path.returncode == 0, by_path.stderr
    piped = tmp_path / "piped.html"
    by_stdin = run("flamegraph", "-", "-o", str(piped), "--countname", "ns", stdin=CAPTURE.read_bytes())
    assert by_stdin.returncode == 0, by_stdin.stderr
    assert out.read_bytes() == piped.read_bytes()
    _, data = parse_page(out.read_bytes())
    assert ("tmpl",) in data.paths() and data.meta["nodes"] > 100 and data.meta["unit"] == "ns"


def test_flamegraph_html_refuses_a_flame_chart(tmp_path: Path) -> None:
    result = run("flamegraph", "--flamechart", str(CAPTURE), "-o", str(tmp_path / "x.html"))
    assert result.returncode == 2 and b"flame chart" in result.stderr and b"Traceback" not in result.stderr


def test_diff_html_keeps_frames_only_in_before(tmp_path: Path) -> None:
    before, after = tmp_path / "before.folded", tmp_path / "after.folded"
    before.write_text("main;gone 10\nmain;same 10\n")
    after.write_text("main;same 10\nmain;new 30\n")
    out = tmp_path / "diff.html"
    assert main(["diff", str(before), str(after), "-o", str(out)]) == 0
    _, data = parse_page(out.read_bytes())
    paths = data.paths()
    assert data.meta["diff"] and data.meta["basis"] == "union" and data.meta["sides"] == 2
    after_w, before_w = data.selfs
    assert (after_w[paths[("main", "gone")]], before_w[paths[("main", "gone")]]) == (0, 20)  # BEFORE normalised x2
    assert (after_w[paths[("main", "new")]], before_w[paths[("main", "new")]]) == (30, 0)
    assert main(["diff", str(before), str(after), "-o", str(out), "--basis", "after"]) == 0
    assert parse_page(out.read_bytes())[1].meta["basis"] == "after"


def test_diff_names_the_html_suffix_when_it_cannot_tell(tmp_path: Path) -> None:
    result = run("diff", str(CAPTURE), str(OTHER), "-o", str(tmp_path / "x.unknown"))
    assert result.returncode == 2 and b".html" in result.stderr


@pytest.mark.parametrize("name", ["x.html", "x.htm"])
def test_api_profile_to_viewer(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    assert main(["flamegraph", str(CAPTURE), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"<!DOCTYPE html>")
