# kleur in one container: the web server plus its embedded Redis, whose
# append-only file lives in the /data volume so votes survive a restart.
#   docker build -t kleur .
#   docker run -p 8000:8000 -v kleur-data:/data kleur
# With an external Redis: docker run -e KLEUR_REDIS_URL=redis://host:6379/0 ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*

# Only what the wheel needs, listed one by one: the build context also holds
# .venv and .git, which must not end up in the image.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY protocol ./protocol
COPY agenda ./agenda
COPY server ./server
COPY client ./client
RUN pip install . && rm -rf /src

# Not root: neither the web server nor Redis needs it.  The volume takes the
# ownership of /data from the image, so the kleur user can write to it.
RUN useradd --system --create-home --home-dir /home/kleur kleur \
    && mkdir /data \
    && chown kleur:kleur /data
USER kleur
WORKDIR /home/kleur
VOLUME /data

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# kleur runs as PID 1: it handles SIGTERM itself (uvicorn shuts down cleanly,
# then kleur stops Redis, which flushes the append-only file).
CMD ["kleur", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
