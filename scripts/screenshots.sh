#!/usr/bin/env bash
# Refresh the committed pictures in docs/screenshots (the README and the
# facilitator guides show them): runs the browser tests that take screenshots,
# writing into docs/screenshots instead of the ignored test-artifacts/screenshots
# that an ordinary test run uses.  Then look at `git diff --stat docs/screenshots`
# and commit what changed.  Arguments go to pytest, e.g. `-k presenter`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$KLEUR_ROOT"

ensure_venv dev
ensure_redis_server
ensure_chromium
use_venv

mapfile -t takers < <(grep -l 'screenshot(' tests/test_*.py)
KLEUR_SCREENSHOTS_DIR=docs/screenshots python -m pytest -q "${takers[@]}" "$@"
git status --short docs/screenshots
