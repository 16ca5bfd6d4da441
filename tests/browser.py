"""A real headless browser for the tests that must see what a user sees (web UI,
digest emails): Debian's ``chromium`` driven by Playwright through
``executable_path`` (Playwright's own browser download is not needed).

``make test`` installs the Debian package when ``/usr/bin/chromium`` is missing;
``NEWSMON_CHROMIUM`` points elsewhere. A browser that cannot start is a test
ERROR, never a skip. Screenshots go to ``tests/artifacts/`` (git-ignored).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("NEWSMON_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium for the session; tests open their own pages/contexts."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium package "
                    "(apt-get install chromium), or set NEWSMON_CHROMIUM", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots are saved for a person to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
