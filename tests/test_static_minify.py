"""The JavaScript and CSS a browser gets are what we wrote, without comments and indentation.

``server.static_assets`` minifies every module at start-up (rJSmin).  A
minifier works on tokens, not on a syntax tree, so a mistake would change a
program without any error: this test parses every module as written and as
served with espree (ESLint's parser, from node_modules) and requires equal
syntax trees, template literals' raw text included.  Style sheets (rCSSmin)
are parsed by Chromium itself, as written and as served, and must give the
same rules (``CSSStyleSheet.replaceSync``, each rule's ``cssText``).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from server.pages import STATIC_DIR
from server.static_assets import StaticAssets, as_served
from tests.test_pages import browser as browser  # the module-scoped fixture, shared

__all__ = ["browser"]

ROOT = Path(__file__).resolve().parent.parent
SAME_PROGRAM = ROOT / "tests" / "js" / "same_program.mjs"
MODULES = sorted(path.relative_to(STATIC_DIR).as_posix() for path in STATIC_DIR.rglob("*.js"))
SHEETS = sorted(path.relative_to(STATIC_DIR).as_posix() for path in STATIC_DIR.rglob("*.css"))
#: Every rule of a style sheet as Chromium parses and writes it back.  Chromium
#: keeps a var() fallback's text as written ("var(--danger, #a00000)"), so the
#: blank after a comma, which the minifier drops and CSS ignores, is not compared.
RULES = """(text) => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(text);
  return [...sheet.cssRules].map((rule) => rule.cssText.replace(/,\\s+/g, ","));
}"""


def same_program(written: Path, served: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: scripts/test.sh installs Node.js")
    return subprocess.run(
        [node, str(SAME_PROGRAM), str(written), str(served)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_every_served_module_is_the_written_program(tmp_path: Path) -> None:
    assets = StaticAssets.load(STATIC_DIR)
    assert len(MODULES) > 30
    for module in MODULES:
        served = tmp_path / module.replace("/", "_")
        served.write_bytes(assets.files[module].body)
        result = same_program(STATIC_DIR / module, served)
        assert result.returncode == 0, f"{module}: {result.stderr}"


def test_the_check_sees_a_changed_program(tmp_path: Path) -> None:
    """The comparison itself, shown a served file that differs in one template literal."""
    written = tmp_path / "written.js"
    written.write_text("export const line = (n) => `${n}  ratings`; // two spaces\n")
    served = tmp_path / "served.js"
    served.write_text("export const line=(n)=>`${n} ratings`;")
    result = same_program(written, served)
    assert result.returncode == 1
    assert "differs" in result.stderr


def test_minifying_pays() -> None:
    written = sum(len(gzip.compress((STATIC_DIR / m).read_bytes(), 9)) for m in MODULES)
    served = sum(
        len(gzip.compress(as_served(m, (STATIC_DIR / m).read_bytes()), 9)) for m in MODULES
    )
    assert served < 0.8 * written, (written, served)


def test_every_served_style_sheet_has_the_written_rules(browser: Browser) -> None:
    assets = StaticAssets.load(STATIC_DIR)
    assert len(SHEETS) >= 4
    page = browser.new_page()
    try:
        for sheet in SHEETS:
            written = page.evaluate(RULES, (STATIC_DIR / sheet).read_text(encoding="utf-8"))
            served = page.evaluate(RULES, assets.files[sheet].body.decode("utf-8"))
            assert len(written) > 10, sheet
            assert served == written, sheet
            assert len(assets.files[sheet].body) < 0.85 * (STATIC_DIR / sheet).stat().st_size
        # The comparison itself sees a changed rule (a space that matters in calc()).
        assert page.evaluate(RULES, "a { width: calc(1px + 2%) }") != page.evaluate(
            RULES, "a { width: calc(1px+2%) }"
        )
    finally:
        page.close()
