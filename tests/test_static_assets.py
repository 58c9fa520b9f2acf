"""Light pages (issue 13): the assets versioned, gzipped and cached; the pages not.

The loading, versioning and content negotiation without a server first, then
over HTTP against one ``kleur serve`` process: what a browser and a proxy
see on the wire (gzip only when asked, ETag and 304, a year's cache on a
versioned URL, ``no-cache`` on a plain one, ``no-store`` on the pages) and
that no path, however spelled, leaves ``client/static``.
"""

from __future__ import annotations

import gzip
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.pages import STATIC_DIR
from server.public_gzip import PublicJsonGzip
from server.static_assets import (
    IMMUTABLE,
    MIN_GZIP_BYTES,
    REVALIDATE,
    StaticAssets,
    accepts_gzip,
    as_served,
    tree_version,
)
from tests.support import ServerProcess, read_only_server

ASSETS = StaticAssets.load(STATIC_DIR)
#: What the page HTML asks for: the stylesheets and the module script.
ASSET_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')

# ------------------------------------------------------------------ without a server


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", True),  # Chromium
        ("gzip", True),
        ("GZIP;q=0.5", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),  # named beats the wildcard
        ("*;q=0", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_the_version_changes_with_any_file_and_only_then(tmp_path: Path) -> None:
    files = {"a.js": b"export const a = 1;\n", "i18n/nl.json": b"{}"}
    base = tree_version(files)
    assert tree_version(dict(files)) == base
    assert tree_version({**files, "a.js": b"export const a = 2;\n"}) != base
    assert tree_version({**files, "b.js": b""}) != base
    # A rename with the same bytes is a new tree too (another URL imports it).
    assert tree_version({"b.js": files["a.js"], "i18n/nl.json": b"{}"}) != base
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(body)
    # The version is of the bytes as served (minified), so that another minifier
    # release, which serves other bytes, gives other URLs.
    served = {path: as_served(path, body) for path, body in files.items()}
    assert served["a.js"] != files["a.js"]
    assert StaticAssets.load(tmp_path).version == tree_version(served)


def test_a_url_finds_a_file_of_the_tree_and_nothing_else() -> None:
    version = ASSETS.version
    other = "0" * len(version) if version != "0" * len(version) else "1" * len(version)
    assert ASSETS.find(f"{version}/kleur.js") == (ASSETS.files["kleur.js"], True)
    assert ASSETS.find("kleur.js") == (ASSETS.files["kleur.js"], False)
    # A version from before an upgrade: today's file, not cached for a year.
    assert ASSETS.find(f"{other}/phone/main.js") == (ASSETS.files["phone/main.js"], False)
    for path in [
        "../server/app.py",
        f"{version}/../../pyproject.toml",
        f"{version}/../kleur.js",
        "/etc/passwd",
        "phone/../kleur.js",  # the browser resolves dots; a path that still has them is wrong
        f"{version}",
        f"{version}/",
        "",
        "nosuchfile.js",
    ]:
        assert ASSETS.find(path) is None, path


def test_big_text_files_are_gzipped_and_small_ones_are_not() -> None:
    for path, asset in ASSETS.files.items():
        if len(asset.body) < MIN_GZIP_BYTES:
            assert asset.gzipped is None, path
        elif path.endswith((".js", ".css", ".json")):
            assert asset.gzipped is not None, path
            assert gzip.decompress(asset.gzipped) == asset.body, path
            assert len(asset.gzipped) < len(asset.body) / 2, path  # text: at least half off
    assert ASSETS.files["kleur.js"].content_type == "text/javascript; charset=utf-8"
    assert ASSETS.files["phone.css"].content_type == "text/css; charset=utf-8"
    assert ASSETS.files["i18n/nl.json"].content_type == "application/json"


def test_the_pages_use_the_versioned_prefix_for_every_asset() -> None:
    for page in sorted(STATIC_DIR.glob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert "/static/" not in html, f"{page.name}: write {{{{static}}}}/..., not /static/..."
        assert "{{static}}/" in html, page.name
    for script in sorted(STATIC_DIR.rglob("*.js")):
        text = script.read_text(encoding="utf-8")
        # An absolute /static/ URL would leave the version (and its cache) behind.
        assert not re.search(r"""["'`]/static/""", text), script.name


def test_gzip_is_for_the_public_documents_only() -> None:
    middleware = PublicJsonGzip(app=None)  # type: ignore[arg-type]
    for path in ["/api/protocol", "/api/templates", "/api/templates/participatiescan"]:
        assert middleware.applies(path), path
    # Answers with tokens, results or a visitor's text: never (BREACH).
    for path in ["/api/rooms", "/api/rooms/ABC123/links", "/api/rooms/ABC123/export.json",
                 "/api/protocolx", "/j/ABC123", "/ws", "/metrics"]:  # fmt: skip
        assert not middleware.applies(path), path


# ------------------------------------------------------------------ over HTTP


@pytest.fixture(scope="module")
def kleur(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module: these tests only read (and make one room)."""
    with read_only_server(tmp_path_factory.mktemp("assets")) as server:
        yield server


def raw_get(
    kleur: ServerProcess, path: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    """A GET and the body exactly as it came over the wire (httpx would un-gzip it)."""
    with (
        httpx.Client() as client,
        client.stream("GET", f"{kleur.http_url}{path}", headers=headers or {}) as response,
    ):
        return response, b"".join(response.iter_raw())


def asset_urls(html: str) -> list[str]:
    return ASSET_URL.findall(html)


def test_the_phone_page_names_assets_of_this_version_and_is_never_stored(
    kleur: ServerProcess,
) -> None:
    room = kleur.create_room()
    for url in [room["join_url"], room["facilitator_url"], f"{kleur.http_url}/"]:
        page = httpx.get(url)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store", url  # tokens in URL or fragment
        urls = asset_urls(page.text)
        assert urls, url
        assert "{{" not in page.text
        for asset_url in urls:
            # The digest of the files this checkout holds: the server read the same tree.
            assert asset_url.startswith(f"{ASSETS.prefix}/"), asset_url
            answer = httpx.get(f"{kleur.http_url}{asset_url}")
            assert answer.status_code == 200, asset_url
            assert answer.headers["cache-control"] == IMMUTABLE, asset_url
            assert answer.content == ASSETS.files[asset_url.removeprefix(ASSETS.prefix + "/")].body
    presenter = httpx.get(f"{kleur.http_url}/p/{room['code']}")
    assert presenter.headers["cache-control"] == "no-store"
    assert asset_urls(presenter.text)


def test_gzip_only_when_the_browser_asks_for_it(kleur: ServerProcess) -> None:
    path = f"{ASSETS.prefix}/kleur.js"
    body = ASSETS.files["kleur.js"].body  # as served: minified (tests/test_static_minify.py)
    zipped, wire = raw_get(kleur, path, {"accept-encoding": "gzip, deflate, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.headers["content-type"] == "text/javascript; charset=utf-8"
    assert int(zipped.headers["content-length"]) == len(wire) < len(body) / 2
    assert gzip.decompress(wire) == body
    for refusal in ["identity", "gzip;q=0", "br"]:
        plain, wire = raw_get(kleur, path, {"accept-encoding": refusal})
        assert "content-encoding" not in plain.headers, refusal
        assert plain.headers["vary"] == "Accept-Encoding"
        assert int(plain.headers["content-length"]) == len(wire) == len(body)
        assert wire == body
        # Two representations, two strong validators.
        assert plain.headers["etag"] != zipped.headers["etag"]
    # A small file is not worth gzipping: the same bytes for everyone, no Vary.
    small = next(p for p, a in sorted(ASSETS.files.items()) if a.gzipped is None)
    answer, wire = raw_get(kleur, f"{ASSETS.prefix}/{small}", {"accept-encoding": "gzip"})
    assert "content-encoding" not in answer.headers and "vary" not in answer.headers
    assert wire == ASSETS.files[small].body


def test_an_unchanged_file_costs_a_304(kleur: ServerProcess) -> None:
    for path in [f"{ASSETS.prefix}/phone/main.js", "/static/phone/main.js"]:
        for encoding in ["gzip", "identity"]:
            first = httpx.get(f"{kleur.http_url}{path}", headers={"accept-encoding": encoding})
            etag = first.headers["etag"]
            again = httpx.get(
                f"{kleur.http_url}{path}",
                headers={"accept-encoding": encoding, "if-none-match": etag},
            )
            assert again.status_code == 304, (path, encoding)
            assert again.content == b""
            assert again.headers["etag"] == etag
            assert again.headers["cache-control"] == first.headers["cache-control"]
            # A proxy that weakened the tag (nginx does when it changes the body) still matches.
            weak = httpx.get(
                f"{kleur.http_url}{path}",
                headers={"accept-encoding": encoding, "if-none-match": f"W/{etag}"},
            )
            assert weak.status_code == 304
    stale = httpx.get(
        f"{kleur.http_url}/static/phone/main.js", headers={"if-none-match": '"not-this-one"'}
    )
    assert stale.status_code == 200 and stale.content == ASSETS.files["phone/main.js"].body


def test_plain_and_old_versions_are_served_but_revalidated(kleur: ServerProcess) -> None:
    body = (STATIC_DIR / "i18n/nl.json").read_bytes()
    old = "f" * len(ASSETS.version)
    for path in ["/static/i18n/nl.json", f"/static/{old}/i18n/nl.json"]:
        answer = httpx.get(f"{kleur.http_url}{path}")
        assert answer.status_code == 200, path
        assert answer.content == body
        assert answer.headers["cache-control"] == REVALIDATE, path
        assert answer.headers["etag"]
        assert answer.headers["content-type"] == "application/json"
    versioned = httpx.get(f"{kleur.http_url}{ASSETS.prefix}/i18n/nl.json")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    # A subresource carries no document policies (a browser ignores them there) ...
    assert versioned.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in versioned.headers
    # ... but a page keeps every one, and its raw HTML is no asset (it would load nothing),
    # while a missing file is never kept by a cache (another release may have it).
    for document in ["phone.html", "dashboard.html"]:
        raw = httpx.get(f"{kleur.http_url}{ASSETS.prefix}/{document}")
        assert raw.status_code == 404, document
        assert raw.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in raw.headers["content-security-policy"], document
    page = httpx.get(f"{kleur.http_url}/j/ABCDEF")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_head_has_the_headers_and_no_body(kleur: ServerProcess) -> None:
    url = f"{kleur.http_url}{ASSETS.prefix}/dashboard.css"
    for encoding in ["gzip", "identity"]:
        get, wire = raw_get(kleur, url.removeprefix(kleur.http_url), {"accept-encoding": encoding})
        head = httpx.head(url, headers={"accept-encoding": encoding})
        assert head.status_code == 200
        assert head.content == b""
        for name in ["content-length", "content-type", "etag", "cache-control", "vary"]:
            assert head.headers.get(name) == get.headers.get(name), (name, encoding)
        assert int(head.headers["content-length"]) == len(wire)
    assert httpx.post(url).status_code == 405


def raw_request(kleur: ServerProcess, target: str) -> int:
    """The status of a GET for ``target`` exactly as written: no client tidies the dots."""
    with socket.create_connection(("127.0.0.1", kleur.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "target",
    [
        # Each names a real file when joined to client/static naively.
        "/static/../../pyproject.toml",
        "/static/../../server/app.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/phone/../../../pyproject.toml",
        "/static/i18n/..%2f..%2f..%2fserver/app.py",
        "/static/{version}/../../../pyproject.toml",
        "/static/{version}/%2e%2e/%2e%2e/%2e%2e/server/app.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/{version}",
        "/static/",
    ],
)
def test_no_path_leaves_the_static_folder(kleur: ServerProcess, target: str) -> None:
    status = raw_request(kleur, target.format(version=ASSETS.version))
    assert status in (400, 404), target


def test_only_the_public_documents_are_gzipped_among_the_api_answers(
    kleur: ServerProcess,
) -> None:
    gzip_please = {"accept-encoding": "gzip"}
    for path in ["/api/protocol", "/api/templates/participatiescan"]:
        answer, wire = raw_get(kleur, path, gzip_please)
        assert answer.headers["content-encoding"] == "gzip", path
        assert "Accept-Encoding" in answer.headers["vary"], path
        assert answer.headers["cache-control"] == "no-store", path
        assert gzip.decompress(wire) == httpx.get(f"{kleur.http_url}{path}").content
        plain, _ = raw_get(kleur, path, {"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers, path
    # Tokens travel in these: never compressed next to text a visitor chose (BREACH).
    created = httpx.post(
        f"{kleur.http_url}/api/rooms", json={"template": "participatiescan"}, headers=gzip_please
    )
    assert created.status_code == 201
    assert "content-encoding" not in created.headers
    room = created.json()
    links = httpx.get(
        f"{kleur.http_url}/api/rooms/{room['code']}/links",
        headers={**gzip_please, "authorization": f"Bearer {room['facilitator_token']}"},
    )
    assert links.status_code == 200
    assert "content-encoding" not in links.headers
