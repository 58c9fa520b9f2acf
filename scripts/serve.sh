#!/usr/bin/env bash
# The README's "run" command: set up .venv when needed, then `kleur serve`.
# Arguments go to `kleur serve`, e.g. `bash scripts/serve.sh --port 9000`.
# It stays in the caller's directory, so a relative --data-dir means what it says.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_venv

# redis-server is only needed for the embedded Redis, not with an external one.
embedded=yes
if [[ -n "${KLEUR_REDIS_URL:-}" ]]; then
    embedded=no
fi
for arg in "$@"; do
    if [[ "$arg" == --redis-url* ]]; then
        embedded=no
    fi
done
if [[ "$embedded" == yes ]]; then
    ensure_redis_server
fi

exec "$KLEUR_VENV/bin/kleur" serve "$@"
