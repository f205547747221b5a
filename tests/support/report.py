"""Helpers for the report tests: a folder of mixed real captures, and reading a report back."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
from lxml import html as lxml_html

from foldkit.report.capture import Settings, process_capture
from foldkit.report.discover import CaptureInput
from foldkit.report.result import CaptureResult
from tests.support.common import DATA, FIXTURES, data_bytes

#: The mixed folder: name in the folder -> (format, has timestamps). `corrupt.perf.zst` is cut
#: inside a zstd frame; `notes.txt` and `.hidden.perf` are not captures (skipped, not rows).
MIXED = {
    "perf/java.perf": ("perf", True),
    "perf/system-mixed.perf.zst": ("perf", True),
    "bpf/kstack-ustack-comm.bt": ("bpftrace", False),
    "bpf/bcc-profile.txt": ("bcc", False),
    "folded/profile.folded": ("folded", False),
}
CORRUPT = "perf/corrupt.perf.zst"


def mixed_folder(root: Path) -> Path:
    """A folder of real captures in every format (one zstd, one corrupt), plus files that are
    not captures."""
    folder = root / "captures"
    for sub in ("perf", "bpf", "folded"):
        (folder / sub).mkdir(parents=True)
    shutil.copy(FIXTURES / "java.perf", folder / "perf/java.perf")
    shutil.copy(FIXTURES / "system-mixed.perf.zst", folder / "perf/system-mixed.perf.zst")
    shutil.copy(FIXTURES / "kstack-ustack-comm.bt", folder / "bpf/kstack-ustack-comm.bt")
    shutil.copy(FIXTURES / "bcc-profile.txt", folder / "bpf/bcc-profile.txt")
    (folder / "folded/profile.folded").write_bytes(data_bytes("captures/bcc-profile-folded.txt"))
    (folder / CORRUPT).write_bytes((FIXTURES / "system-mixed.perf.zst").read_bytes()[:20_000])
    (folder / "notes.txt").write_text("how these captures were made: by hand\n")
    (folder / ".hidden.perf").write_bytes((FIXTURES / "java.perf").read_bytes())
    return folder


def check_data(name: str) -> Path:
    """A capture of tests/data/check (base-N or slow-N .perf.zst)."""
    return DATA / "check" / name


def parse_html(path: Path) -> lxml_html.HtmlElement:
    """A page as lxml sees it."""
    return lxml_html.fromstring(path.read_bytes())


def assert_valid_html(path: Path) -> None:
    """The page parses as HTML5 without a single parse error (html5lib, strict)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(path.read_bytes())


def local_links(page: Path) -> list[tuple[str, Path]]:
    """(href or src, the file it points to) for every relative link and frame of `page`."""
    doc = parse_html(page)
    out = []
    for element, attribute, url, _ in doc.iterlinks():
        if element.tag not in ("a", "iframe", "img", "object") or attribute not in ("href", "src", "data"):
            continue
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page}: non-local link {url}"
        if not parts.path:
            continue  # a fragment on the same page
        out.append((url, Path(os.path.normpath(page.parent / unquote(parts.path)))))
    return out


def index_rows(index: Path) -> dict[str, dict[str, str]]:
    """The index's rows: capture name -> column header -> cell text."""
    doc = parse_html(index)
    headers = [th.text_content().strip() for th in doc.get_element_by_id("captures").find("thead").iter("th")]
    rows = {}
    for tr in doc.get_element_by_id("captures").find("tbody").iter("tr"):
        cells = [td.text_content().strip() for td in tr.findall("td")]
        name = tr.findall("td")[0].find("a").text_content()
        rows[name] = dict(zip(headers, cells, strict=True))
    return rows


def crash_on_name(item: CaptureInput, site: str, settings: Settings) -> CaptureResult:
    """`process_capture`, except that a worker given a capture named `crash…` dies at once: one
    named `crash-kill…` by SIGKILL (as the out-of-memory killer does), others with exit code 9."""
    name = Path(item.name).name
    if name.startswith("crash-kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    if name.startswith("crash"):
        os._exit(9)
    return process_capture(item, site, settings)


def crash_run_capture(item: CaptureInput, site: str, settings: Settings, token: str) -> tuple[CaptureResult, dict[str, bytes] | None]:
    """`runner.run_capture` on a cluster worker, except that a capture named `crash…` kills the
    worker process running it, every time."""
    from foldkit.report.runner import run_capture

    if Path(item.name).name.startswith("crash"):
        os._exit(9)
    return run_capture(item, site, settings, token)
