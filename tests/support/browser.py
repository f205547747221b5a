"""Debian's headless chromium driven by Playwright, for the browser tests. No browser is ever
downloaded. Where chromium or playwright is missing the browser tests are skipped with a one-line
reason, except in CI (the `CI` environment variable set), where that is a failure."""

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


def unavailable(reason: str) -> None:
    """Skip the browser test for `reason`, or fail it in CI (`CI` set), where it must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)")
    pytest.skip(f"{reason} (set CI=1 to make this a failure)")


def require_browser(chromium: str = CHROMIUM) -> None:
    """Skip (or in CI fail) unless `chromium` and the playwright package are there."""
    if not os.access(chromium, os.X_OK):
        unavailable(f"no browser: {chromium} is missing; as root, `apt-get install chromium` (make test does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("no browser driver: the playwright package is missing; pip install -e '.[test]'")


def chromium_context(tmp_path_factory: pytest.TempPathFactory, width: int, height: int) -> Iterator[Any]:
    """A persistent browser context with a fresh profile, closed and removed afterwards."""
    require_browser()
    from playwright.sync_api import sync_playwright

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
