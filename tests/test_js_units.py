"""The pages' pure JavaScript (selectors in ``client/static/*/state.js``), without a browser.

Runs ``node --test tests/js/`` (Node's own test runner, no npm packages) and
gives it the server's ``GET /api/protocol`` document, so the selectors are
checked against the real phase tables and enum values too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from server.pages import _protocol_document

ROOT = Path(__file__).resolve().parent.parent
JS_TESTS = ROOT / "tests" / "js"


def test_the_js_unit_tests_pass(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the pages' unit tests need Node.js 18 or later")
    assert sorted(JS_TESTS.glob("*.test.mjs")), "no tests in tests/js"
    protocol = tmp_path / "protocol.json"
    protocol.write_text(json.dumps(_protocol_document()), encoding="utf-8")
    result = subprocess.run(
        [node, "--test", str(JS_TESTS)],
        cwd=ROOT,
        env={"PATH": str(Path(node).parent), "KLEUR_PROTOCOL": str(protocol)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The runner found and ran the tests (a pattern that matches nothing also exits 0).
    assert "# fail 0" in output and "# pass 0" not in output, output
    assert "# skipped 0" in output, output
