"""Fixtures for the console: the server, and a real headless Chromium driven by Playwright.

The browser is the operating system's Chromium (Debian's ``chromium`` package, which `.ci/run` installs),
never one Playwright downloads. Without it the browser tests fail, saying how to get it: they are not
skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventflow.local.http import LocalHttpServer

from .flows import console_server

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """The system Chromium: $EVENTFLOW_CHROMIUM, else ``chromium`` on PATH, else a clear failure."""
    candidates = [
        os.environ.get("EVENTFLOW_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail(
        "the console's browser tests need Chromium: install Debian's package (apt-get install chromium; "
        ".ci/run does) or point EVENTFLOW_CHROMIUM at a Chromium binary",
        pytrace=False,
    )


@pytest.fixture(scope="package")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for these tests, with a fresh profile directory. Package-scoped, not
    session-scoped: Playwright's sync API keeps an asyncio loop running on this thread while it is open,
    and the rest of the suite calls ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1200, "height": 820},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab; a script error in the page fails the test."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with console_server() as running:
        yield running
