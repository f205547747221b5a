"""Browser tests skip with a one-line reason where chromium is missing, and fail in CI."""

from __future__ import annotations

import pytest

from tests.support.browser import require_browser


def test_a_missing_browser_skips_with_a_reason(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no browser: .*/chromium is missing; as root, `apt-get install chromium`") as info:
        require_browser(str(tmp_path / "chromium"))
    assert "\n" not in str(info.value)


def test_a_missing_browser_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set, so the browser tests must run"):
        require_browser(str(tmp_path / "chromium"))
