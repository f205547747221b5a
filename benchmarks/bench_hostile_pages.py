#!/usr/bin/env python3
"""What hostile links and profiles cost the HTML viewer (issues 27 and 28), in Debian's headless
chromium (`/usr/bin/chromium`, 1200x800), with `performance.now()` in the page:

* search: the bounded matcher (`foldkit/render/search.js`) over the names of a generated profile
  (`--names` distinct names of about 60 characters), for usual patterns, the three catastrophic
  ones and one that spends the whole budget (reported with the names it searched), next to the
  browser's own RegExp over the same names (where it finishes);
* zoom: `foldkit.zoom(n)` into a frame three quarters of the way down a single stack of
  `--depth` levels (each of 200,000 and `--depth`), layout, crumbs and drawing included.

Medians of `--runs`. Usage: python benchmarks/bench_hostile_pages.py [--names 200000] [--depth 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from foldkit.profile import Profile  # noqa: E402
from foldkit.render.viewer import render_viewer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PATTERNS = ["ext4_", "^std::", "_\\[k\\]$", "[a-z]+_[0-9]+\\(", "(a+)+$", "(a|aa)*b", "(.*a){20}"]

TIME_SEARCH = """([pattern, ignoreCase]) => {
  const t = performance.now();
  foldkit.search(pattern, ignoreCase);
  return [performance.now() - t, document.getElementById('matched').textContent];
}"""
TIME_REGEXP = """([pattern, ignoreCase]) => {
  const re = new RegExp(pattern, ignoreCase ? 'i' : ''), names = foldkit.names;
  const t = performance.now();
  let hits = 0;
  for (const name of names) { if (re.test(name)) { hits++; } }
  return [performance.now() - t, hits];
}"""
TIME_ZOOM = """(node) => {
  foldkit.zoom(0);
  const t = performance.now();
  foldkit.zoom(node);
  return performance.now() - t;
}"""


def names_profile(count: int) -> Profile:
    """`count` distinct C++-like names under one caller."""
    return Profile(weights={f"main;std::vector<int, std::allocator<int> >::_M_realloc_insert_{i}(foo::bar)": 1 + i % 7 for i in range(count)})


def open_page(browser: Any, path: Path) -> Any:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-state]", timeout=600_000)
    assert page.get_attribute("body", "data-state") == "ready"
    return page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        path = Path(tmp) / "names.html"
        path.write_bytes(render_viewer(names_profile(args.names)))
        page = open_page(browser, path)
        chars = page.evaluate("() => foldkit.names.reduce((s, n) => s + n.length, 0)")
        print(f"search over {args.names:,} names ({chars:,} characters), ms, median of {args.runs}")
        for pattern in [*PATTERNS, "[xyz]$"]:
            for ignore_case in (False, True):
                runs = [page.evaluate(TIME_SEARCH, [pattern, ignore_case]) for _ in range(args.runs)]
                ours = statistics.median(r[0] for r in runs)
                native = "-"
                if pattern not in ("(a+)+$", "(a|aa)*b", "(.*a){20}"):  # names here do not trap them, but be safe
                    native = f"{statistics.median(page.evaluate(TIME_REGEXP, [pattern, ignore_case])[0] for _ in range(args.runs)):.1f}"
                print(f"  {pattern!r:24} i={int(ignore_case)}  bounded {ours:8.1f}  RegExp {native:>8}  {runs[0][1]}")
        page.close()
        print(f"zoom into a single stack, ms, median of {args.runs}")
        for depth in sorted({200_000, args.depth}):
            path = Path(tmp) / f"deep{depth}.html"
            path.write_bytes(render_viewer(Profile(weights={";".join(f"f{i}" for i in range(depth)): 5})))
            page = open_page(browser, path)
            node = depth * 3 // 4
            times = [page.evaluate(TIME_ZOOM, node) for _ in range(args.runs)]
            crumbs = page.locator("#crumbs button").count()
            print(f"  depth {depth:>10,}: zoom to level {node:,}: {statistics.median(times):.1f} (max {max(times):.1f}); {crumbs} crumbs")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
