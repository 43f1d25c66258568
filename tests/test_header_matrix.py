"""Every response carries the security headers and X-Data-Version, whatever its status and format.

The matrix: 200, 304, 400, 404, 405, 429, 500 and 503, in HTML, JSON and CSV, from the site built as
production builds it (serve/app.py) and, for the proxy's own answers, from `make serve-prod`'s nginx.
The 500 rows come from deliberate faults: a route handler that raises in a site built the same way,
and an app that raises under the same middleware stack (plugins/stack.py); the 503 rows from nginx
with its upstream stopped.
"""

from __future__ import annotations

import json
import time

import pytest
from datasette import hookimpl
from datasette.plugins import pm

from serve.app import create_datasette

# The headers every response carries (plugins/security_headers.py, plugins/http_headers.py).
EVERY_RESPONSE = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "x-data-version",
    "x-data-semver",
)
FORMATS = {"html": "", "json": ".json", "csv": ".csv"}
TABLE = "/drugbeleid/caseload"


def assert_site_headers(headers, where: str) -> None:
    missing = [name for name in EVERY_RESPONSE if not headers.get(name)]
    assert not missing, f"{where}: no {', '.join(missing)}"
    assert "frame-ancestors 'none'" in headers["content-security-policy"], where
    assert headers["x-frame-options"] == "DENY", where


class FaultyRoute:
    """A plugin with a route whose handler fails, as a bug in a view would."""

    __name__ = "deliberate-fault"

    @hookimpl
    def register_routes(self):
        async def failing(request):
            raise FileNotFoundError(2, "No such file or directory", "/srv/site/data/shapes.ttl")

        return [(r"^/-/deliberate-fault(\.(?P<format>json|csv))?$", failing)]


@pytest.fixture(scope="module")
def site(built):
    return create_datasette(built)


@pytest.fixture(scope="module")
def faulty_site(built):
    plugin = FaultyRoute()
    pm.register(plugin, name="deliberate-fault")
    try:
        yield create_datasette(built)
    finally:
        pm.unregister(plugin)


@pytest.fixture
def busy_site(built):
    """The same site with no room for visitor SQL: every query waits 0.05 s, then gets sql_guard's 429."""
    metadata = json.loads((built.parent / "metadata.json").read_text(encoding="utf-8"))
    metadata["plugins"]["drugbeleid"]["sql_guard"].update(adhoc_concurrency=0, adhoc_queue_seconds=0.05)
    return create_datasette(built, metadata=metadata)


async def answer(site, method: str, path: str, **headers):
    return await getattr(site.client, method)(path, headers=headers)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_200_and_304_carry_the_headers(site, fmt):
    path = TABLE + FORMATS[fmt]
    ok = await answer(site, "get", path)
    assert ok.status_code == 200
    assert_site_headers(ok.headers, f"200 {path}")
    # the first 304 is made from the response itself, the next one without running Datasette
    for attempt in ("made", "remembered"):
        revalidated = await answer(site, "get", path, **{"if-none-match": ok.headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.content == b"", attempt
        assert revalidated.headers["etag"] == ok.headers["etag"]
        assert_site_headers(revalidated.headers, f"304 ({attempt}) {path}")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_400_404_and_405_carry_the_headers(site, fmt):
    suffix = FORMATS[fmt]
    rows = [
        (400, "get", f"/drugbeleid{suffix}?sql=select+nonsense"),
        (404, "get", f"/drugbeleid/no_such_table{suffix}"),
        (404, "get", "/-/threads" + (".json" if fmt == "json" else "")),
        (405, "delete", TABLE + suffix),
        (405, "post", TABLE + suffix),
        (405, "put", f"/drugbeleid{suffix}?sql=select+1"),
    ]
    for status, method, path in rows:
        response = await answer(site, method, path)
        assert response.status_code == status, (method, path, response.status_code)
        assert_site_headers(response.headers, f"{status} {method.upper()} {path}")
        assert response.headers["cache-control"] == "no-store", (method, path)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_429_of_the_sql_gate_carries_the_headers(busy_site, fmt):
    path = f"/drugbeleid{FORMATS[fmt]}?sql=select+1"
    response = await answer(busy_site, "get", path)
    assert response.status_code == 429, path
    assert_site_headers(response.headers, f"429 {path}")
    expected = "text/html" if fmt == "html" else "application/json"
    assert response.headers["content-type"].startswith(expected), path


@pytest.mark.parametrize("fmt", FORMATS)
async def test_500_of_a_failing_handler_carries_the_headers_and_no_server_path(faulty_site, fmt):
    path = "/-/deliberate-fault" + FORMATS[fmt]
    response = await answer(faulty_site, "get", path)
    assert response.status_code == 500, path
    assert_site_headers(response.headers, f"500 {path}")
    assert response.headers["cache-control"] == "no-store"
    assert "/srv/site" not in response.text and "shapes.ttl" not in response.text  # the fault's detail stays in the log
    assert "Internal server error" in response.text


async def test_500_of_a_fault_under_the_stack_carries_the_headers(site):
    """A fault in a wrapper (below plugins/stack.py's fault barrier) instead of a view: the same headers."""
    import httpx

    stack = pm.get_plugin("stack.py")

    async def failing_app(scope, receive, send):
        raise RuntimeError("a deliberate fault below the stack")

    app = stack.compose(site, failing_app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        for path in (TABLE, TABLE + ".json", TABLE + ".csv"):
            response = await http.get(path)
            assert response.status_code == 500
            assert_site_headers(response.headers, f"500 under the stack {path}")
            assert response.json()["error"] == "Internal server error"


def test_the_stack_is_the_only_asgi_wrapper_and_names_existing_wrappers(site):
    """Datasette nests asgi_wrapper hooks in the order pluggy calls them; the project has one, the
    stack, which names each wrapper once, in its written order."""
    implementations = [impl.plugin_name for impl in pm.hook.asgi_wrapper.get_hookimpls()]
    assert implementations == ["stack.py"]
    stack = pm.get_plugin("stack.py")
    assert len(stack.wrappers(site)) == len(stack.STACK) == len(set(stack.STACK))


# --- the proxy's own answers ------------------------------------------------------------------------


@pytest.mark.proxy
def test_the_proxys_own_429_and_503_carry_the_sites_headers(tmp_path):
    from tests.servers import stop
    from tests.test_proxy import copy_build, fetch, serve_prod, start_instance

    build_dir = copy_build(tmp_path / "build")
    instance, address = start_instance("127.0.0.1", build_dir, tmp_path / "instance.log")
    try:
        with serve_prod(tmp_path / "prod", upstreams=[address], build_dir=build_dir) as prod:
            status, headers, _ = fetch(prod.base + TABLE + ".json")
            assert status == 200
            assert_site_headers(headers, "200 through nginx")
            version = headers["x-data-version"]
            # beyond the rate limit of visitor SQL (5/s, a burst of 20): nginx's own 429 page
            limited = None
            for number in range(60):
                status, headers, _ = fetch(prod.base + f"/drugbeleid.json?sql=select+{number}")
                if status == 429 and headers.get("x-cache-status") == "PROXY-ERROR":
                    limited = headers
                    break
            assert limited is not None, "nginx never answered 429 itself"
            assert_site_headers(limited, "429 of nginx")
            assert limited["x-data-version"] == version
            stop(instance)
            time.sleep(0.2)
            for fmt, suffix in FORMATS.items():
                status, headers, body = fetch(prod.base + TABLE + suffix + "?_nocache=" + fmt)
                assert status == 503, (fmt, status)
                assert headers.get("x-cache-status") == "PROXY-ERROR"
                assert_site_headers(headers, f"503 of nginx ({fmt})")
                assert headers["x-data-version"] == version
                assert b"/tmp/" not in body and b"/work/" not in body
    finally:
        if instance.poll() is None:
            stop(instance)
