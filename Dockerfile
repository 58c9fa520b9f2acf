# kleur in one container: the web server plus its embedded Redis, whose
# append-only file lives in the /data volume so votes survive a restart.
#   docker build -t kleur .
#   docker run -p 8000:8000 -v kleur-data:/data kleur
# With an external Redis: docker run -e KLEUR_REDIS_URL=redis://host:6379/0 ...
# Without a Docker engine (this is what `bash scripts/image.sh` does):
#   buildah --storage-driver vfs build --isolation chroot --format docker -t kleur .
#
# BASE_IMAGE is any Debian-like image with Python >= 3.11 and the venv module:
# the official slim image (python3 in /usr/local/bin) by default, or a local
# `debootstrap --variant=minbase --include=python3,python3-venv bookworm` root
# (Debian's python3 3.11 in /usr/bin) where no registry is reachable
# (`bash scripts/image.sh --local-base`).  Both stages start from the same
# base, because a venv refers to the interpreter it was made with.
ARG BASE_IMAGE=python:3.11-slim

# ---- builder: build kleur's wheel and install it with its dependencies into /opt/kleur
FROM ${BASE_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# `python3 -m venv` rather than `python -m venv`: Debian's own Python has no
# `python` command.  No compiler in the image: on x86-64 every dependency
# comes as a wheel for CPython 3.11 (as built by scripts/image.sh).
RUN python3 -m venv /opt/kleur

# Only what the wheel needs, listed one by one (.dockerignore keeps the rest
# of the checkout out of the build context as well).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY protocol ./protocol
COPY agenda ./agenda
COPY server ./server
COPY client ./client
COPY loadtests ./loadtests
# PIP_CERT: the CA bundle pip should trust, only behind a proxy that inspects
# TLS (scripts/image.sh mounts the host's bundle and names it); unset otherwise.
ARG PIP_CERT
# A wheel, not `pip install .` of the tree: the venv holds kleur as a package,
# with no reference back to /src.  pip and setuptools leave afterwards: the
# running service never installs anything.
RUN if [ -z "${PIP_CERT:-}" ]; then unset PIP_CERT; fi \
    && /opt/kleur/bin/python -m pip wheel --no-deps --wheel-dir /tmp/wheels . \
    && /opt/kleur/bin/python -m pip install /tmp/wheels/kleur-*.whl \
    && /opt/kleur/bin/python -m pip uninstall --yes pip setuptools \
    && /opt/kleur/bin/kleur version

# ---- runtime: the base, redis-server, the venv; no compiler, no pip, no sources
FROM ${BASE_IMAGE} AS runtime

# redis-server (Debian's package) for the embedded default; unused but small
# when KLEUR_REDIS_URL names an external Redis.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

# A fixed, numeric, non-root id: an operator can `chown 10001` a bind-mounted
# data folder, and Kubernetes' runAsNonRoot can see that the user is not root.
# The volume takes the ownership of /data from the image, so the user can
# write its append-only file there.
RUN groupadd --gid 10001 kleur \
    && useradd --uid 10001 --gid kleur --no-log-init --create-home --home-dir /home/kleur \
        --shell /usr/sbin/nologin kleur \
    && mkdir /data \
    && chown kleur:kleur /data

COPY --from=builder /opt/kleur /opt/kleur

ENV PATH=/opt/kleur/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001
WORKDIR /home/kleur
VOLUME /data
EXPOSE 8000

# /readyz, not /healthz: in this single-container default Redis runs inside
# the container, so "healthy" should mean "can store a vote" (Redis answers,
# the room stream listens, no eviction), which /readyz checks and /healthz
# (the process answers HTTP) does not.  Docker only reports the state; it does
# not restart an unhealthy container.  Orchestrators with their own probes
# should use /healthz for liveness and /readyz for readiness, so that an
# outage of an external Redis takes processes out of rotation instead of
# restarting them all.  The probe is Python (no curl in the image); urlopen
# raises on a 503, so the exit code is 1 then.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

# Exec form: kleur is PID 1 and gets SIGTERM itself (websockets closed with
# 4500 "reconnect elsewhere", uvicorn shuts down, then the embedded Redis is
# stopped, which flushes its append-only file).  `kleur serve` sets the rest
# of the production stack itself (server/serving.py): uvloop, httptools,
# websockets-sansio without permessage-deflate, frames bounded by
# protocol/limits.py, proxy headers only from KLEUR_TRUSTED_PROXIES.
STOPSIGNAL SIGTERM
CMD ["kleur", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
