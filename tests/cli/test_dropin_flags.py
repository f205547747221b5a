"""FlameGraph's and inferno's flags and pipelines in foldkit: two-column input, aliases, the
picture flags inferno has, `--base`, flame charts of folded input, `--skip-after-drop-root`, the
flags accepted only for compatibility, and palette maps with bad lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.ingest import folded
from foldkit.ingest.options import FoldOptions
from foldkit.profile import Profile
from foldkit.transform import TRANSFORMS, Base
from tests.support.common import DATA, FIXTURES
from tests.support.svg import frames, parse
from tests.support.transform import capture, run_cli

TWO_COLUMNS = b"main;a;x 5 1\nmain;a;y 1 4\nmain;b 2 2\nmain;gone 3 0\n"
JAVA = str(FIXTURES / "java.perf")


def svg_of(tmp_path: Path, *args: str, input_text: bytes | None = None, name: str = "out.svg") -> tuple[bytes, str]:
    """`foldkit flamegraph ARGS` on a folded file holding `input_text` (if given): (SVG, stderr)."""
    inputs = []
    if input_text is not None:
        (tmp_path / "in.folded").write_bytes(input_text)
        inputs = [str(tmp_path / "in.folded")]
    out = tmp_path / name
    code, _, err = run_cli(["flamegraph", *inputs, *args, "-o", str(out)])
    assert code == 0, err
    return out.read_bytes(), err


# --- two-column input --------------------------------------------------------------------------


def test_two_column_lines_are_detected_as_folded_and_keep_both_columns() -> None:
    assert folded.sniff(TWO_COLUMNS)
    profile = folded.fold_chunks("x", [TWO_COLUMNS], FoldOptions())
    assert profile.weights == {"main;a;x": 1, "main;a;y": 4, "main;b": 2, "main;gone": 0}
    assert profile.before == {"main;a;x": 5, "main;a;y": 1, "main;b": 2, "main;gone": 3}
    assert folded.fold_chunks("x", [b"main;a 3\n"], FoldOptions()).before is None


def test_two_column_input_draws_the_differential_graph(tmp_path: Path) -> None:
    svg, _ = svg_of(tmp_path, input_text=TWO_COLUMNS)
    drawn = {f.name: f for f in frames(svg)}
    assert "Differential Flame Graph" in svg.decode()
    # widths from AFTER (gone has none), colours from the change: x shrank (blue), y grew (red)
    assert "gone" not in drawn and drawn["x"].weight == 1 and drawn["y"].weight == 4
    assert drawn["x"].fill.startswith("rgb(") and drawn["x"].fill.endswith(",255)")
    assert drawn["y"].fill.startswith("rgb(255,")
    assert drawn["b"].fill == "rgb(255,255,255)"
    root = parse(svg)
    rect = root.find(".//{http://www.w3.org/2000/svg}rect[@data-name='x']")
    assert rect is not None and rect.get("data-before") == "5" and rect.get("data-after") == "1"


def test_two_column_input_from_stdin_and_from_foldkit_diff(tmp_path: Path) -> None:
    by_path, _ = svg_of(tmp_path, input_text=TWO_COLUMNS)
    piped = subprocess.run([sys.executable, "-m", "foldkit", "flamegraph", "-"], input=TWO_COLUMNS, capture_output=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == by_path
    # foldkit diff's own two-column output round-trips into the same picture as diff -o x.svg
    a, b = tmp_path / "a.folded", tmp_path / "b.folded"
    a.write_text("main;a;x 5\nmain;a;y 1\nmain;b 2\n")
    b.write_text("main;a;x 1\nmain;a;y 4\nmain;b 2\n")
    assert run_cli(["diff", str(a), str(b), "-o", str(tmp_path / "d.folded")])[0] == 0
    assert run_cli(["diff", str(a), str(b), "--no-normalize", "-o", str(tmp_path / "d.svg")])[0] == 0
    redrawn, _ = svg_of(tmp_path, str(tmp_path / "d.folded"), name="r.svg")
    assert [(f.name, f.weight, f.fill) for f in frames(redrawn)] == [(f.name, f.weight, f.fill) for f in frames((tmp_path / "d.svg").read_bytes())]


def test_transforms_keep_the_before_column(tmp_path: Path) -> None:
    svg, _ = svg_of(tmp_path, "--focus", "^a$", "--hide", "^main$", input_text=TWO_COLUMNS)
    drawn = {f.name: f for f in frames(svg)}
    assert set(drawn) == {"all", "a", "x", "y"}
    rect = parse(svg).find(".//{http://www.w3.org/2000/svg}rect[@data-name='a']")
    assert rect is not None and rect.get("data-before") == "6" and rect.get("data-after") == "5"


# --- aliases -----------------------------------------------------------------------------------


def test_event_filter_is_event() -> None:
    cpp = capture("perf-cpp-two-events.txt")
    by_event = run_cli(["fold", cpp, "--event", "cpu-clock"])
    by_filter = run_cli(["fold", cpp, "--event-filter", "cpu-clock"])
    assert by_event[0] == by_filter[0] == 0 and by_event[1] == by_filter[1]
    assert by_filter[1] != run_cli(["fold", cpp])[1]


def test_nthreads_and_fold_n_are_jobs() -> None:
    want = run_cli(["fold", JAVA, "-j", "2"])
    assert want[0] == 0
    assert run_cli(["fold", JAVA, "-n", "2"])[1] == want[1]
    assert run_cli(["fold", JAVA, "--nthreads", "2"])[1] == want[1]
    assert run_cli(["flamegraph", JAVA, "--nthreads", "1", "-o", "-"])[0] == 0


def test_c_and_i_are_colors_and_inverted(tmp_path: Path) -> None:
    text = b"main;a 3\nmain;b 1\n"
    long, _ = svg_of(tmp_path, "--colors", "mem", "--inverted", input_text=text, name="l.svg")
    short, _ = svg_of(tmp_path, "-c", "mem", "-i", input_text=text, name="s.svg")
    assert long == short and b'data-kind="icicle"' in short


def test_diff_n_and_s_are_difffolded_options(tmp_path: Path) -> None:
    a, b = tmp_path / "a.folded", tmp_path / "b.folded"
    a.write_text("main;f 0x10 10\nmain;g 10\n")
    b.write_text("main;f 0x20 5\nmain;g 5\n")
    code, out, err = run_cli(["diff", str(a), str(b), "-n", "-s", "--folded"])
    assert code == 0, err
    assert out.decode() == "main;f 0x... 5 5\nmain;g 5 5\n"
    assert run_cli(["diff", str(a), str(b), "--normalize", "--strip-hex", "--folded"])[1] == out


def test_diff_n_with_a_number_names_limit(tmp_path: Path) -> None:
    a = tmp_path / "a.folded"
    a.write_text("main;g 10\n")
    code, _, err = run_cli(["diff", "-n", "20", str(a), str(a)])
    assert code == 2 and "--limit 20" in err and "--normalize" in err
    assert run_cli(["diff", "--limit", "20", str(a), str(a)])[0] == 0


# --- picture flags -----------------------------------------------------------------------------


def test_nameattr_sets_tooltips_and_attributes_and_warns_once_per_problem(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text(
        "a\ttitle=the a function\tclass=hot\tg_extra=stroke=\"green\" stroke-width=\"2\"\thref=https://x\n"
        "b\tclass=one\tclass=two\tonclick=alert(1)\tx=5\tnonsense\n"
        "\n"
    )
    svg, err = svg_of(tmp_path, "--nameattr", str(names), input_text=b"main;a 3\nmain;b 1\n")
    rects = {r.get("data-name"): r for r in parse(svg).iter("{http://www.w3.org/2000/svg}rect") if r.get("data-name")}
    a, b = rects["a"], rects["b"]
    assert a.find("{http://www.w3.org/2000/svg}title").text == "the a function"
    assert (a.get("class"), a.get("stroke"), a.get("stroke-width")) == ("hot", "green", "2")
    assert a.get("href") is None and b.get("onclick") is None and b.get("x") != "5"
    assert b.get("class") == "two"
    for said in ("link attribute", "duplicate attribute 'class'", "'onclick' cannot be set", "'x' cannot be set", "invalid attribute 'nonsense'"):
        assert err.count(said) == 1, (said, err)


def test_colordiffusion_colours_by_width(tmp_path: Path) -> None:
    svg, _ = svg_of(tmp_path, "--colordiffusion", input_text=b"main;a 99\nmain;b 1\n")
    fills = {f.name: f.fill for f in frames(svg)}
    assert fills["all"] == fills["main"] == "rgb(255,0,0)"
    assert fills["a"] == "rgb(255,1,1)" and fills["b"] == "rgb(255,189,189)"


def test_stroke_and_ui_colours_are_css_rules_and_checked(tmp_path: Path) -> None:
    svg, _ = svg_of(tmp_path, "--stroke-color", "#7d7d7d", "--uicolor", "rgb(255,0,0)", input_text=b"main 1\n")
    style = parse(svg).find("{http://www.w3.org/2000/svg}style").text
    assert "#frames > rect { stroke: #7d7d7d; stroke-width: 1; }" in style
    assert "#title, #details, #unzoom, #search, #ignorecase, #matched { fill: rgb(255,0,0); }" in style
    plain, _ = svg_of(tmp_path, "--stroke-color", "none", input_text=b"main 1\n", name="p.svg")
    assert "stroke: none" not in plain.decode()
    (tmp_path / "x.folded").write_text("main 1\n")
    code, _, err = run_cli(["flamegraph", str(tmp_path / "x.folded"), "--uicolor", "red;}</style>", "-o", str(tmp_path / "y.svg")])
    assert code == 2 and "--uicolor must be a colour" in err


def test_pretty_xml_and_no_javascript(tmp_path: Path) -> None:
    text = b"main;a 3\nmain;b 1\n"
    plain, _ = svg_of(tmp_path, input_text=text, name="a.svg")
    pretty, _ = svg_of(tmp_path, "--pretty-xml", "--no-javascript", input_text=text, name="b.svg")
    assert b"\n    <rect" in pretty and b"\n    <rect" not in plain
    assert b"<script" in plain and b"<script" not in pretty
    assert [(f.name, f.x, f.width, f.title) for f in frames(pretty)] == [(f.name, f.x, f.width, f.title) for f in frames(plain)]


def test_random_colours_change_between_runs_within_the_palette(tmp_path: Path) -> None:
    text = "".join(f"main;f{i} 1\n" for i in range(40)).encode()
    one, _ = svg_of(tmp_path, "--random", "-c", "red", input_text=text, name="a.svg")
    two, _ = svg_of(tmp_path, "--random", "-c", "red", input_text=text, name="b.svg")
    fills = [f.fill for f in frames(one)]
    assert fills != [f.fill for f in frames(two)]
    for fill in fills:
        r, g, b = map(int, re.findall(r"\d+", fill))
        assert r >= 200 and g == b and 50 <= g < 130


def test_chain_palette_colours_wakers_aqua(tmp_path: Path) -> None:
    svg, _ = svg_of(tmp_path, "--colors", "chain", input_text=b"sleep;schedule;--;waker_[w] 3\n")
    fills = {f.name: tuple(map(int, re.findall(r"\d+", f.fill))) for f in frames(svg)}
    r, g, b = fills["schedule"]
    assert b > r and b > g  # blue
    r, g, b = fills["waker_[w]"]
    assert r < g and r < b  # aqua
    assert b'stop-color="#e0e0ff"' in svg  # blue background, as flamegraph.pl's chain graphs


# --- flags accepted for compatibility ------------------------------------------------------------


def test_compat_flags_are_accepted_and_say_what_to_do(tmp_path: Path) -> None:
    text = b"main;a 3\n"
    plain, _ = svg_of(tmp_path, input_text=text, name="a.svg")
    no_sort, err = svg_of(tmp_path, "--no-sort", "--encoding", "UTF-8", input_text=text, name="b.svg")
    assert no_sort == plain and err == ""
    latin, err = svg_of(tmp_path, "--encoding=ISO-8859-1", input_text=text, name="c.svg")
    assert latin == plain and "always writes UTF-8" in err
    code, _, err = run_cli(["fold", JAVA, "--inline", "--context", "--srcline"])
    assert code == 0 and "perf script --inline" in err and err.count("warning") == 3
    assert run_cli(["fold", JAVA, "--inline", "-q"])[2] == ""


# --- --base, flame charts, --skip-after ----------------------------------------------------------


def test_base_cuts_at_the_leafmost_named_frame_above_the_leaf() -> None:
    profile = Profile(weights={"r;B;x;B;y": 1, "r;B;z": 2, "r;w;B": 4, "r;q": 8, "r;C;B": 16})
    got = TRANSFORMS["base"].func(profile, Base(("B", "C")))
    # the leaf-most match wins; a stack whose only match is its leaf is dropped
    assert got.weights == {"B;y": 1, "B;z": 2, "C;B": 16}


def test_base_and_focus_root_differ(tmp_path: Path) -> None:
    text = b"r;B;x;B;y 1\n"
    base, _ = svg_of(tmp_path, "--base", "B", input_text=text, name="a.svg")
    focus, _ = svg_of(tmp_path, "--focus-root", "^B$", input_text=text, name="b.svg")
    assert [f.name for f in frames(base)] == ["all", "B", "y"]
    assert [f.name for f in frames(focus)] == ["all", "B", "x", "B", "y"]


def test_flame_chart_of_folded_input_keeps_line_order(tmp_path: Path) -> None:
    svg, _ = svg_of(tmp_path, "--flamechart", input_text=b"main;a 1\nmain;b 1\nmain;a 1\nmain;a 2\n")
    drawn = [(f.name, f.start, f.weight) for f in frames(svg) if f.depth == 2]
    assert drawn == [("a", 0.0, 1.0), ("b", 1.0, 1.0), ("a", 2.0, 3.0)]
    assert "stacks in input order" in svg.decode()


def test_skip_after_drop_root_matches_inferno_collapse_perf() -> None:
    cpp = capture("perf-c-fp.txt")
    keep = run_cli(["fold", cpp, "--skip-after", "main"])[1].decode().splitlines()
    drop = run_cli(["fold", cpp, "--skip-after", "main", "--skip-after-drop-root"])[1].decode().splitlines()
    assert keep and all(line.split(";")[1] == "main" for line in keep if ";main;" in line)
    assert {line.split(";", 1)[1] for line in keep if ";main;" in line} <= set(drop)
    assert not any(";main;" in line and not line.startswith("main;") for line in drop)
    assert any(line.startswith("main;") for line in drop)


# --- palette maps --------------------------------------------------------------------------------


def test_bad_palette_map_lines_warn_once_and_are_skipped(tmp_path: Path) -> None:
    palette = tmp_path / "palette.map"
    palette.write_bytes((DATA / "inferno-flamegraph" / "palette-map" / "palette_invalid.map").read_bytes())
    svg, err = svg_of(tmp_path, "--palette-file", str(palette), input_text=b"JavaThread::run;GCTaskThread::run 1\n")
    assert err.count("warning") == 1 and "5 line(s) that are not palette map lines" in err
    fills = {f.name: f.fill for f in frames(svg)}
    assert fills["JavaThread::run"] == "rgb(243,120,41)"  # a good line of the map is used
    assert "GCTaskThread::run->" in palette.read_text()  # the bad line is replaced by a new colour


@pytest.mark.parametrize("flag", ["--event-filter", "--nthreads", "--skip-after-drop-root", "--base"])
def test_new_flags_are_in_help(flag: str) -> None:
    command = "flamegraph" if flag == "--base" else "fold"
    code, out, _ = run_cli([command, "--help"])
    assert code == 0 and flag in out.decode()
