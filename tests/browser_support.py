"""Debian's headless chromium driven by Playwright, for the browser tests. No browser is ever
downloaded; a missing chromium or playwright is a failure, not a skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_context(tmp_path_factory: pytest.TempPathFactory, width: int, height: int) -> Iterator[Any]:
    """A persistent browser context with a fresh profile, closed and removed afterwards."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    profile_dir = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile_dir), executable_path=CHROMIUM, args=ARGS, headless=True, viewport={"width": width, "height": height}
        )
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile_dir, ignore_errors=True)
