# Sourced by serve.sh and test.sh: the project's own .venv, and the system
# programs kleur needs.  Nothing is installed system-wide except a missing
# Debian package, and only when we are root with apt-get.
# shellcheck shell=bash

KLEUR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KLEUR_VENV="$KLEUR_ROOT/.venv"

section() { printf '\n== %s ==\n' "$*"; }
note() { printf 'kleur: %s\n' "$*" >&2; }

# Create .venv if missing and `pip install -e .` (plus a dependency group when
# given) only when pyproject.toml changed since the last install, so that a
# second run starts at once and needs no network.
#   ensure_venv          runtime dependencies
#   ensure_venv dev      runtime + the dev group (pytest, mypy, ruff, ...)
ensure_venv() {
    local group="${1:-runtime}"
    local python="${PYTHON:-python3}"
    if [[ ! -x "$KLEUR_VENV/bin/python" ]]; then
        if ! command -v "$python" >/dev/null 2>&1; then
            note "$python was not found; install Python 3.11 or newer"
            exit 2
        fi
        if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            note "kleur needs Python 3.11 or newer; $python is $("$python" -V 2>&1)"
            exit 2
        fi
        note "creating $KLEUR_VENV"
        if ! "$python" -m venv "$KLEUR_VENV"; then
            # Debian and Ubuntu ship venv (and its ensurepip) apart from Python,
            # per version: python3.11-venv for Python 3.11.
            local venv_package
            venv_package="$("$python" -c 'import sys; print(f"python3.{sys.version_info.minor}-venv")')"
            rm -rf "$KLEUR_VENV" # the failed attempt leaves a venv without pip
            if _can_apt_install; then
                note "$python has no working venv; installing the Debian package $venv_package with apt-get"
                _apt_install "$venv_package" || note "warning: installing $venv_package failed"
            fi
            if ! _can_apt_install || ! "$python" -m venv "$KLEUR_VENV"; then
                rm -rf "$KLEUR_VENV"
                note "could not create the venv (Debian/Ubuntu: sudo apt-get install $venv_package)"
                exit 2
            fi
        fi
    fi

    local stamp="$KLEUR_VENV/.kleur-installed" hash
    hash="$("$KLEUR_VENV/bin/python" -c \
        'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' \
        "$KLEUR_ROOT/pyproject.toml")"
    if [[ -f "$stamp" ]] && grep -qxF "$hash $group" "$stamp"; then
        return 0
    fi

    note "installing kleur ($group) into $KLEUR_VENV"
    local pip=("$KLEUR_VENV/bin/python" -m pip --quiet --disable-pip-version-check)
    if [[ "$group" == runtime ]]; then
        (cd "$KLEUR_ROOT" && "${pip[@]}" install -e .)
    else
        # --group needs pip >= 25.1; it reads ./pyproject.toml, hence the cd.
        "${pip[@]}" install --upgrade pip
        (cd "$KLEUR_ROOT" && "${pip[@]}" install -e . --group "$group")
    fi

    # One line per installed group for this pyproject.toml; any group includes
    # the runtime dependencies.
    {
        if [[ -f "$stamp" ]]; then grep -F "$hash " "$stamp" || true; fi
        echo "$hash $group"
        echo "$hash runtime"
    } | sort -u >"$stamp.tmp"
    mv "$stamp.tmp" "$stamp"
}

# Put the project's .venv first on PATH, whatever venv the caller activated,
# so that people and CI run the same tools.
use_venv() {
    export VIRTUAL_ENV="$KLEUR_VENV"
    export PATH="$KLEUR_VENV/bin:$PATH"
    unset PYTHONHOME
}

_can_apt_install() {
    [[ "$(id -u)" == 0 ]] && [[ -r /etc/debian_version ]] && command -v apt-get >/dev/null 2>&1
}

_apt_updated=""
_apt_install() {
    if [[ -z "$_apt_updated" ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# ensure_redis_server: required to run and to test; exits 2 when missing and we
# may not install it.
ensure_redis_server() {
    command -v redis-server >/dev/null 2>&1 && return 0
    if _can_apt_install; then
        note "redis-server is missing; installing the Debian package redis-server with apt-get"
        _apt_install redis-server
        return 0
    fi
    note "redis-server was not found on PATH. Install it" \
        "(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)" \
        "or set KLEUR_REDIS_URL to a Redis you run yourself."
    exit 2
}

# ensure_chromium: only the browser tests need it, so a missing browser is a
# warning, not a failure.
ensure_chromium() {
    command -v chromium >/dev/null 2>&1 && return 0
    command -v chromium-browser >/dev/null 2>&1 && return 0
    if _can_apt_install; then
        note "chromium is missing; installing the Debian package chromium with apt-get"
        _apt_install chromium || note "warning: installing chromium failed; the browser tests need it"
        return 0
    fi
    note "warning: chromium was not found; the browser tests need it" \
        "(Debian: sudo apt-get install chromium)"
}

# ensure_nginx: only the deployment test (tests/test_deployment_proxy.py, the
# reference deployment's nginx configuration) needs it, so a missing nginx is a
# warning, not a failure: that test then skips, naming the package.
ensure_nginx() {
    command -v nginx >/dev/null 2>&1 && return 0
    [[ -x /usr/sbin/nginx ]] && return 0
    if _can_apt_install; then
        note "nginx is missing; installing the Debian package nginx with apt-get"
        _apt_install nginx || note "warning: installing nginx failed; the deployment test needs it"
        return 0
    fi
    note "warning: nginx was not found; the deployment test needs it" \
        "(Debian/Ubuntu: sudo apt-get install nginx)"
}

# ensure_node_tools: Node.js and npm for ESLint (the pages' JavaScript check), then
# `npm ci` into ./node_modules when package-lock.json changed since the last install.
ensure_node_tools() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        if _can_apt_install; then
            note "node or npm is missing; installing the Debian packages nodejs and npm with apt-get"
            # A machine whose node comes from elsewhere may lack only npm.
            command -v node >/dev/null 2>&1 || _apt_install nodejs
            command -v npm >/dev/null 2>&1 || _apt_install npm
        else
            note "node and npm are needed to check the pages' JavaScript" \
                "(Debian/Ubuntu: sudo apt-get install nodejs npm)"
            exit 2
        fi
    fi
    local stamp="$KLEUR_ROOT/node_modules/.kleur-installed" hash
    hash="$(sha256sum "$KLEUR_ROOT/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$stamp" ]] && grep -qxF "$hash" "$stamp"; then
        return 0
    fi
    note "installing the JavaScript lint tools (npm ci)"
    (cd "$KLEUR_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$hash" >"$stamp"
}

# checkout_state: the git status of the checkout with a digest of its changes,
# so that a run which modifies an already modified file is noticed too; empty
# outside a git work tree, and for a clean checkout.
checkout_state() {
    git -C "$KLEUR_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
    local status
    status="$(git -C "$KLEUR_ROOT" status --porcelain --untracked-files=all)"
    [[ -z "$status" ]] && return 0
    printf '%s\n' "$status"
    {
        git -C "$KLEUR_ROOT" diff HEAD --binary
        git -C "$KLEUR_ROOT" ls-files --others --exclude-standard -z | _untracked_digests
    } | sha256sum
}

# _untracked_digests: one line per NUL-separated untracked path on stdin: its
# content's digest, a symbolic link's target, or that it cannot be read.  Not
# `xargs sha256sum`: a dangling link or an unreadable file made it fail, and
# with pipefail that stopped scripts/test.sh before its first check.
_untracked_digests() {
    local path file
    while IFS= read -r -d '' path; do
        file="$KLEUR_ROOT/$path"
        if [[ -L "$file" ]]; then
            printf 'link %s -> %s\n' "$path" "$(readlink -- "$file")"
        elif [[ -f "$file" && -r "$file" ]]; then
            printf '%s %s\n' "$(sha256sum <"$file" | cut -d' ' -f1)" "$path"
        else
            printf 'unreadable %s\n' "$path"
        fi
    done
}
