"""The facilitator guide, in Dutch and English, shows current screenshots.

Every picture a guide shows must be one that a browser test takes
(``tests.browser.screenshot(page, name)``), so that ``bash scripts/screenshots.sh``
refreshes it and a guide never shows a screen that no longer exists; both
languages have the same sections.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = {"nl": ROOT / "docs" / "handleiding.md", "en": ROOT / "docs" / "facilitator-guide.md"}
IMAGE = re.compile(r"!\[[^\]]*\]\(screenshots/([\w-]+)\.png\)")
#: Names given to tests.browser.screenshot(page, "name") anywhere in the tests.
TAKEN = re.compile(r"""\bscreenshot\(\s*\w+\s*,\s*(?:f?["'])([\w{}-]+)["']""")


def screenshots_taken_by_tests() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        names.update(TAKEN.findall(path.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_the_guide_shows_only_screenshots_the_tests_take(lang: str) -> None:
    text = GUIDES[lang].read_text(encoding="utf-8")
    shown = IMAGE.findall(text)
    assert len(shown) >= 4, "a guide with (almost) no pictures"
    taken = screenshots_taken_by_tests()
    assert taken, "the pattern for screenshot() calls matches nothing"
    for name in shown:
        assert name in taken, f"{name}.png is not taken by any test: it would go stale"
        assert (ROOT / "docs" / "screenshots" / f"{name}.png").is_file(), name


def test_both_guides_have_the_same_shape() -> None:
    def shape(path: Path) -> list[str]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [line.split(" ", 1)[0] for line in lines if line.startswith("#")]

    assert shape(GUIDES["nl"]) == shape(GUIDES["en"])
    assert len(IMAGE.findall(GUIDES["nl"].read_text(encoding="utf-8"))) == len(
        IMAGE.findall(GUIDES["en"].read_text(encoding="utf-8"))
    )
