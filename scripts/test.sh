#!/usr/bin/env bash
# The README's "test" command, and all that CI runs: lint, format, types, the
# pages' JavaScript (ESLint), tests.
# Arguments go to pytest, e.g. `bash scripts/test.sh -k embedded -x`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$KLEUR_ROOT"

section "set-up"
ensure_venv dev
ensure_redis_server
ensure_chromium
ensure_nginx
ensure_node_tools
use_venv
# What the checkout looks like now: the run must leave it so (screenshots and
# other output go to ignored folders; see checkout_state).
state_before="$(checkout_state)"

section "ruff check"
ruff check .
section "ruff format --check"
ruff format --check .
section "mypy"
mypy
section "eslint"
(cd "$KLEUR_ROOT" && node_modules/.bin/eslint client/static tests/js)
section "pytest"
python -m pytest "$@"

section "checkout left as it was"
if [[ "$(checkout_state)" != "$state_before" ]]; then
    git -C "$KLEUR_ROOT" status --porcelain --untracked-files=all
    note "the test run changed files of the checkout (above); tests must write to ignored" \
        "folders such as test-artifacts/ (docs/screenshots: bash scripts/screenshots.sh)"
    exit 1
fi
echo "git status unchanged${state_before:+ (it already had changes before the run)}"
