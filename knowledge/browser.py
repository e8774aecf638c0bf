"""Start the system's Chromium through Playwright (it cannot download browsers of its own here).

    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)

The browser is Debian's ``chromium`` at ``/usr/bin/chromium``; ``HELPDESK_CHROMIUM``
names another executable. ``BrowserError`` says what is missing and how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM_ENV = "HELPDESK_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# No sandbox: tests and servers run as root in containers, where Chromium's sandbox cannot
# start. The rest keeps a headless, offline browser from calling home.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


class BrowserError(RuntimeError):
    """Chromium or Playwright is missing; the message says what to install or set."""


def chromium_path(environ: dict[str, str] | None = None) -> Path:
    """The Chromium executable to use; raise BrowserError naming HELPDESK_CHROMIUM if absent."""
    environ = os.environ if environ is None else environ
    path = Path(environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)
    if not path.is_file():
        raise BrowserError(
            f"Chromium not found at {path}: install Debian's 'chromium' package "
            f"or set {CHROMIUM_ENV} to the path of a Chromium executable"
        )
    return path


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium `Browser` from a started `sync_playwright()` object."""
    return playwright.chromium.launch(
        executable_path=str(chromium_path()), headless=True, args=list(CHROMIUM_ARGS)
    )
