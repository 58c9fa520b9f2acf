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

section "ruff check"
ruff check .
section "ruff format --check"
ruff format --check .
section "mypy"
mypy
section "eslint"
(cd "$KLEUR_ROOT" && node_modules/.bin/eslint client/static)
section "pytest"
python -m pytest "$@"
