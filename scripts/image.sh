#!/usr/bin/env bash
# Build kleur's container image with buildah, start it, check /healthz, /readyz
# and the image's HEALTHCHECK, create a room through it, stop it with SIGTERM
# as an engine would, start it again on the same /data volume and read the
# room back (the append-only file kept it), and stop it.  No Docker engine needed.
#
#   bash scripts/image.sh                 # base: python:3.11-slim; a local Debian base when it cannot be pulled
#   bash scripts/image.sh --local-base    # always the local Debian base (no registry needed)
#   bash scripts/image.sh --base IMAGE    # any other base with python3 >= 3.11 and its venv module
#   bash scripts/image.sh --build-only    # build, do not start
#   bash scripts/image.sh --run-only      # start and check the image built last time
#   bash scripts/image.sh --tag NAME      # the image's name (default localhost/kleur:latest,
#                                         #   also tagged localhost/kleur:VERSION from pyproject.toml)
# KLEUR_DEBIAN_MIRROR: the Debian mirror for the local base (default deb.debian.org).
#
# The local base is `debootstrap --variant=minbase --include=python3,python3-venv
# bookworm` (Debian 12's Python is 3.11, what pyproject.toml's requires-python
# asks for), imported as localhost/kleur-base and cached as a tar file in
# ${XDG_CACHE_HOME:-~/.cache}/kleur-image/, so only the first run downloads it.
# buildah runs with --storage-driver vfs --isolation chroot, which need neither
# a daemon nor overlayfs nor user namespaces; its images stay in buildah's
# storage (`buildah --storage-driver vfs images`).  The host's CA bundle is
# mounted into every RUN step, for a network that inspects TLS.
#
# Missing buildah or debootstrap are installed from Debian's packages when we
# are root with apt-get, as scripts/common.sh does for redis-server.
# Not part of the test suite: a cold run takes minutes and needs the network
# (tests/test_image.py checks the Dockerfile statically).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEFAULT_BASE="docker.io/library/python:3.11-slim"
DEBIAN_SUITE="bookworm"
#: Part of the local base's name and cache file: bump it when build_local_base
#: changes, so that a base cached the old way is not taken for the new one.
LOCAL_BASE_RECIPE=2
LOCAL_BASE="localhost/kleur-base:$DEBIAN_SUITE-r$LOCAL_BASE_RECIPE"
DEBIAN_MIRROR="${KLEUR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/kleur-image"
HOST_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"
#: How long a pull of the default base may take before we take it as unreachable.
PULL_TIMEOUT_SECONDS=60
#: How long the container may take to answer /healthz and then /readyz.
START_TIMEOUT_SECONDS=60
#: How long kleur may take to stop after SIGTERM (its own shutdown is bounded well below).
STOP_TIMEOUT_SECONDS=30

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

tag="localhost/kleur:latest"
#: The default build is tagged with kleur's version too, so that an upgrade
#: keeps the image it replaces (to go back to) under that version's name.
version_tag="localhost/kleur:$(sed -n 's/^version = "\(.*\)"$/\1/p' "$KLEUR_ROOT/pyproject.toml" | head -n 1)"
base=""
local_base=""
build_only=""
run_only=""
while (($#)); do
    case "$1" in
    --local-base) local_base=1 ;;
    --base)
        base="${2:?--base needs an image}"
        shift
        ;;
    --tag)
        tag="${2:?--tag needs a name}"
        version_tag=""
        shift
        ;;
    --build-only) build_only=1 ;;
    --run-only) run_only=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        note "unknown option $1 (see --help)"
        exit 2
        ;;
    esac
    shift
done

bah() { buildah --storage-driver vfs "$@"; }
now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ensure_tool() { # ensure_tool COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if _can_apt_install; then
        note "$1 is missing; installing the Debian package $2 with apt-get"
        _apt_install "$2"
        return 0
    fi
    note "$1 was not found; install it (Debian/Ubuntu: sudo apt-get install $2)"
    exit 2
}

image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }
image_id() { bah images --noheading --no-trunc --format '{{.ID}}' "$1" 2>/dev/null || true; }

# The local base: a minimal Debian with its Python, from debootstrap, cached.
build_local_base() {
    if image_exists "$LOCAL_BASE"; then
        note "local base $LOCAL_BASE is in buildah's storage already"
        return 0
    fi
    local tarball="$CACHE_DIR/$DEBIAN_SUITE-minbase-python3-r$LOCAL_BASE_RECIPE.tar"
    if [[ ! -s "$tarball" ]]; then
        ensure_tool debootstrap debootstrap
        [[ "$(id -u)" == 0 ]] || {
            note "debootstrap needs root; run as root or pass --base IMAGE"
            exit 2
        }
        mkdir -p "$CACHE_DIR"
        # Every path below starts with ${root:?}: an empty root must never
        # turn a clean-up of the new tree into one of the host's.
        local root="$CACHE_DIR/root.tmp"
        rm -rf "${root:?}"
        section "debootstrap $DEBIAN_SUITE (minbase + python3, python3-venv) from $DEBIAN_MIRROR"
        local started
        started="$(now)"
        # Its hundreds of lines only when it fails.
        if ! debootstrap --variant=minbase --include=python3,python3-venv \
            "$DEBIAN_SUITE" "${root:?}" "$DEBIAN_MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1; then
            tail -n 30 "$CACHE_DIR/debootstrap.log" >&2
            note "debootstrap failed; its whole output is in $CACHE_DIR/debootstrap.log"
            exit 1
        fi
        # Updates and security fixes for the image's own apt-get, as the
        # official images have.
        printf 'deb %s %s main\n' "$DEBIAN_MIRROR" "$DEBIAN_SUITE" \
            "$DEBIAN_MIRROR" "$DEBIAN_SUITE-updates" \
            http://deb.debian.org/debian-security "$DEBIAN_SUITE-security" \
            >"${root:?}/etc/apt/sources.list"
        # No manuals, translations or documentation but the licences, now and
        # for every package installed later (as in the official slim images).
        printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
            'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
            'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/lintian/*' \
            'path-exclude /usr/share/locale/*' >"${root:?}/etc/dpkg/dpkg.cfg.d/kleur-slim"
        find "${root:?}/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
        find "${root:?}/usr/share/doc" -mindepth 1 -type d -empty -delete
        local dir
        for dir in man info groff lintian locale; do
            if [[ -d "${root:?}/usr/share/$dir" ]]; then
                find "${root:?}/usr/share/$dir" -mindepth 1 -delete
            fi
        done
        # No package lists, .debs or logs in the base.
        chroot "${root:?}" apt-get clean
        find "${root:?}/var/lib/apt/lists" "${root:?}/var/log" "${root:?}/tmp" -mindepth 1 -delete
        tar -C "${root:?}" --numeric-owner -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "${root:?}"
        note "debootstrap took $(seconds_since "$started") s; cached in $tarball"
    fi
    # buildah has no `import`: a scratch container with the tree added is the same thing.
    section "importing $tarball as $LOCAL_BASE"
    local ctr
    ctr="$(bah from scratch)"
    bah add "$ctr" "$tarball" / >/dev/null
    bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env LANG=C.UTF-8 --cmd /bin/bash "$ctr"
    bah commit --rm --quiet "$ctr" "$LOCAL_BASE" >/dev/null
}

pick_base() {
    if [[ -n "$local_base" ]]; then
        build_local_base
        base="$LOCAL_BASE"
    elif [[ -z "$base" ]]; then
        if image_exists "$DEFAULT_BASE" ||
            timeout "$PULL_TIMEOUT_SECONDS" buildah --storage-driver vfs pull --quiet "$DEFAULT_BASE" >/dev/null 2>&1; then
            base="$DEFAULT_BASE"
        else
            note "$DEFAULT_BASE cannot be pulled (no registry reachable?); building on a local Debian base"
            build_local_base
            base="$LOCAL_BASE"
        fi
    fi
}

build_image() {
    section "building $tag on $base"
    local started volume=() previous
    previous="$(image_id "$tag")"
    started="$(now)"
    # Mounted into every RUN step (not into the image): pip then trusts what the host trusts.
    if [[ -r "$HOST_CA_BUNDLE" ]]; then
        volume=(-v "$HOST_CA_BUNDLE:$HOST_CA_BUNDLE:ro" --build-arg "PIP_CERT=$HOST_CA_BUNDLE")
    fi
    # --format docker: the OCI format has no HEALTHCHECK and buildah would drop it.
    # No --layers: on vfs every cached layer is a full copy of the tree, which
    # made a build with nothing changed take 2-5 minutes; one commit per stage
    # takes under one, downloads included.
    bah build --isolation chroot --format docker --quiet \
        "${volume[@]}" --build-arg "BASE_IMAGE=$base" -t "$tag" "$KLEUR_ROOT" >/dev/null
    note "build took $(seconds_since "$started") s"
    if [[ -n "$version_tag" ]]; then
        bah tag "$tag" "$version_tag"
    fi
    # The image this build replaced would stay behind untagged, 300 MB on vfs each time;
    # one that another version's tag still names is kept (rmi without --force refuses).
    if [[ -n "$previous" && "$previous" != "$(image_id "$tag")" ]]; then
        bah rmi "$previous" >/dev/null 2>&1 || true
    fi
    bah images --format '{{.Name}}:{{.Tag}}  {{.ID}}  {{.Size}}' "$tag"
}

# The image's own command and health probe, with the port swapped for a free
# one and the address for loopback: `buildah run --isolation chroot` shares the
# host's network, where 8000 may be taken.
image_config() { # image_config PORT -> the command, an empty line, the probe: one word a line
    bah inspect --type image "$tag" | python3 -c '
import json, sys
config = json.load(sys.stdin)["Docker"]["config"]
port = sys.argv[1]
swap = {"8000": port, "0.0.0.0": "127.0.0.1"}
print("\n".join(swap.get(word, word) for word in config["Cmd"]))
print()
probe = config["Healthcheck"]["Test"]
assert probe[0] == "CMD", probe  # exec form
print("\n".join(word.replace(":8000/", f":{port}/") for word in probe[1:]))
' "$1"
}

ctr=""
port=""
server_pid=""
log_file=""
cmd=()
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        local pid
        pid="$(listener_pid "$port")"
        kill -TERM ${pid:+"$pid"} "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$ctr" ]]; then bah rm "$ctr" >/dev/null 2>&1 || true; fi
    if [[ -n "$log_file" ]]; then rm -f -- "$log_file"; fi
}

# The process that listens on PORT (kleur itself, inside the container).
listener_pid() { ss -Htlnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1; }

wait_for() { # wait_for URL SECONDS: until URL answers 200
    local deadline=$((SECONDS + $2))
    until curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; do
        if ((SECONDS >= deadline)) || ! kill -0 "$server_pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.5
    done
}

# Start the image's command in the working container, and wait for /healthz.
# The image's VOLUME /data is a volume of buildah's that outlives each run of
# the container (buildah mounts it over any -v on the same path), as a named
# volume does under an engine.
start_container() {
    : >"$log_file"
    local started
    started="$(now)"
    bah run --isolation chroot "$ctr" -- "${cmd[@]}" >"$log_file" 2>&1 &
    server_pid=$!
    if ! wait_for "http://127.0.0.1:$port/healthz" "$START_TIMEOUT_SECONDS"; then
        cat "$log_file" >&2
        note "the container did not answer /healthz within $START_TIMEOUT_SECONDS s"
        exit 1
    fi
    echo "GET /healthz: $(curl -fsS "http://127.0.0.1:$port/healthz") (after $(seconds_since "$started") s)"
}

# SIGTERM to kleur, which an engine sends to PID 1; kleur must exit with 0
# and take its embedded Redis with it.
stop_container() {
    local kleur_pid rc=0 started
    kleur_pid="$(listener_pid "$port")"
    started="$(now)"
    kill -TERM "${kleur_pid:-$server_pid}"
    local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
    while kill -0 "$server_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$server_pid" 2>/dev/null; then
        note "kleur did not stop within $STOP_TIMEOUT_SECONDS s of SIGTERM"
        exit 1
    fi
    wait "$server_pid" || rc=$?
    server_pid=""
    echo "--- the container's output"
    # The access log's lines would repeat the curl calls above; the rest is what an operator sees.
    grep -v -E '"(GET|POST) /' "$log_file" || true
    echo "---"
    if [[ "$rc" != 0 ]]; then
        note "kleur exited with $rc after SIGTERM"
        exit 1
    fi
    local redis_port
    # Not anchored: in a JSON log (the image's default) the line is the "event" of an object.
    redis_port="$(sed -n 's|.*kleur: embedded Redis on redis://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log_file" | head -1)"
    if [[ -z "$redis_port" ]]; then
        note "kleur's log does not say where its embedded Redis listened: cannot check that it stopped"
        exit 1
    fi
    if [[ -n "$(listener_pid "$redis_port")" ]]; then
        note "the embedded Redis still listens on $redis_port after kleur stopped"
        exit 1
    fi
    echo "stopped: kleur exited with 0 $(seconds_since "$started") s after SIGTERM; its Redis stopped with it"
}

run_image() {
    ensure_tool curl curl
    ensure_tool ss iproute2
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    local config probe=()
    config="$(image_config "$port")"
    mapfile -t cmd < <(sed '/^$/,$d' <<<"$config")
    mapfile -t probe < <(sed '1,/^$/d' <<<"$config")

    trap cleanup EXIT
    ctr="$(bah from --quiet "$tag")"
    log_file="$(mktemp)"
    section "starting $tag: ${cmd[*]}"
    start_container
    if ! wait_for "http://127.0.0.1:$port/readyz" "$START_TIMEOUT_SECONDS"; then
        curl -sS "http://127.0.0.1:$port/readyz" >&2 || true
        note "the container answered /healthz but not /readyz"
        exit 1
    fi
    echo "GET /readyz: $(curl -fsS "http://127.0.0.1:$port/readyz")"
    # The HEALTHCHECK's own command, run in the container as an engine would.
    if bah run --isolation chroot "$ctr" -- "${probe[@]}"; then
        echo "HEALTHCHECK (${probe[*]}): healthy"
    else
        note "the image's HEALTHCHECK failed"
        exit 1
    fi

    # The tokens in the answer are never printed: the room code says enough.
    local answer status code token
    answer="$(curl -sS --max-time 10 -w '\n%{http_code}' -H 'Content-Type: application/json' \
        -d '{"template":"participatiescan","name":"Image check"}' "http://127.0.0.1:$port/api/rooms")"
    status="$(tail -n 1 <<<"$answer")"
    if [[ "$status" != 201 ]]; then
        sed '$d' <<<"$answer" >&2
        note "POST /api/rooms answered $status, not 201"
        exit 1
    fi
    { read -r code && read -r token; } < <(sed '$d' <<<"$answer" |
        python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["code"]); print(r["facilitator_token"])')
    echo "POST /api/rooms: $status, room $code (template participatiescan)"

    section "stopping the container"
    stop_container

    section "starting it again on the same /data volume"
    start_container
    # The room is read back from the append-only file: 200 needs it and its facilitator token.
    status="$(curl -sS -o /dev/null --max-time 10 -w '%{http_code}' \
        -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/rooms/$code/links")"
    if [[ "$status" != 200 ]]; then
        note "after the restart GET /api/rooms/$code/links answered $status, not 200: the room was lost"
        exit 1
    fi
    echo "GET /api/rooms/$code/links: $status: the room survived the restart (append-only file in /data)"
    stop_container
    bah rm "$ctr" >/dev/null
    ctr=""
    echo "container and its volume removed"
}

main() {
    local started
    started="$(now)"
    ensure_tool buildah buildah
    if [[ -n "$run_only" ]]; then
        image_exists "$tag" || {
            note "$tag has not been built yet (bash scripts/image.sh --build-only)"
            exit 2
        }
    else
        pick_base
        build_image
    fi
    [[ -n "$build_only" ]] || run_image
    echo "image.sh: done in $(seconds_since "$started") s"
}

main
