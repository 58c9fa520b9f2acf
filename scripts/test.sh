#!/usr/bin/env bash
# The README's "test" command, and all that CI runs: lint, format, types, tests.
# Arguments go to pytest, e.g. `bash scripts/test.sh -k embedded -x`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$KLEUR_ROOT"

section "set-up"
ensure_venv dev
ensure_redis_server
ensure_chromium
use_venv

section "ruff check"
ruff check .
section "ruff format --check"
ruff format --check .
section "mypy"
mypy
section "pytest"
python -m pytest "$@"
