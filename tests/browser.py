"""Headless Chromium for the page tests: the Debian browser, driven by Playwright.

No browser is downloaded: Playwright launches the system ``chromium`` that
``scripts/test.sh`` installs when it is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

# An upper bound on waiting, not a speed target: a loaded 2-core CI machine
# can take longer than Playwright's default 5 s to deliver an update.
expect.set_options(timeout=20_000)

ROOT = Path(__file__).resolve().parent.parent
#: Where ``screenshot`` writes: an ignored folder, so that a test run leaves the
#: checkout as it was.  ``bash scripts/screenshots.sh`` points this at
#: ``docs/screenshots`` to refresh the committed pictures the guides show.
SCREENSHOTS = ROOT / (os.environ.get("KLEUR_SCREENSHOTS_DIR") or "test-artifacts/screenshots")

#: Flags for a root, offline, sandboxed machine (see the env notes): no
#: background connections to the internet, no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

PHONE = {"width": 390, "height": 844}
BIG_SCREEN = {"width": 1366, "height": 768}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def phone(browser: Browser, locale: str = "nl-NL") -> BrowserContext:
    return browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale
    )


def big_screen(browser: Browser, locale: str = "nl-NL") -> BrowserContext:
    return browser.new_context(viewport=BIG_SCREEN, locale=locale, accept_downloads=True)


def fail_on_page_errors(page: Page, errors: list[str]) -> None:
    """Collect script errors, CSP violations and dialogs (an XSS would open one)."""
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
