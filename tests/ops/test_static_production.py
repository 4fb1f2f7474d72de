"""Static files under the README's production command: collected, hashed, served by the workers.

`production_site` (tests/servers.py) runs `manage.py collectstatic --noinput` into a STATIC_ROOT
of its own, then uvicorn serving config.asgi with debug off. Each page names its assets by
their hashed names (the admin's styles, the live pages' script, both Swagger UIs' bundle), and
each one is served: its content type, cached for good, gzip when asked for, with the security
headers of every response, and over plain HTTP redirected to HTTPS like any page.

The first tests check runtime/staticfiles.py in process: ServeStatic's middleware under WSGI
serves a file, and lets every other request through without an event loop.
"""

import gzip
import inspect
import re
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import AsyncClient, Client
from django.urls import path
from servestatic.middleware import ServeStaticMiddleware

from tests.servers import PROJECT, ProductionSite

LIVE_JS = PROJECT / "orders" / "static" / "orders" / "live.js"
# ServeStatic's header for a name with a hash of its content: ten years, never revalidated.
FOREVER = "max-age=315360000, public, immutable"
TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png", ".svg": "image/svg+xml"}
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


# --- runtime/staticfiles.py, in process ---------------------------------------------------------


def stack_view(request: HttpRequest) -> HttpResponse:
    """Says whether asgiref (async_to_sync, sync_to_async) is on the way to this view."""
    through = any("asgiref" in Path(frame.filename).parts for frame in inspect.stack())
    return HttpResponse("asgiref" if through else "direct")


urlpatterns = [path("stack", stack_view)]


class TestTheStaticFilesMiddleware:
    def test_serves_a_file_under_wsgi(self, settings):
        settings.SERVESTATIC_USE_FINDERS = True  # the apps' own files: the suite collects none
        response = Client().get("/static/orders/live.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert b"".join(response) == LIVE_JS.read_bytes()

    async def test_serves_a_file_under_asgi(self, settings):
        settings.SERVESTATIC_USE_FINDERS = True
        response = await AsyncClient().get("/static/orders/live.js")
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        assert response.is_async
        assert b"".join([chunk async for chunk in response]) == LIVE_JS.read_bytes()

    @pytest.mark.urls(__name__)
    def test_lets_other_requests_through_under_wsgi_without_an_event_loop(self):
        # ServeStatic's own middleware is async only: Django would run every WSGI request
        # through async_to_sync for it, a thread and an event loop each.
        assert Client().get("/stack").text == "direct"

    def test_wraps_a_servestatic_that_is_still_async_only(self):
        # When ServeStatic's middleware learns sync, runtime/staticfiles.py can go.
        assert ServeStaticMiddleware.async_capable is True
        assert ServeStaticMiddleware.sync_capable is False


# --- The production server ----------------------------------------------------------------------


def hashed(url: str, name: str) -> bool:
    """Whether `url` is the static file `name` under its hashed name (`base.5af66c1b1797.css`)."""
    stem, _, suffix = name.rpartition(".")
    return re.fullmatch(rf"/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{suffix}", url) is not None


def page_assets(site: ProductionSite, page: str) -> list[str]:
    """The static URLs a page of the production site names (the order page logged in)."""
    if page == "order page":
        reply = site.get(
            f"/orders/{site.seed['order']}/", Cookie=f"sessionid={site.seed['session']}"
        )
    else:
        reply = site.get(PAGES[page])
    assert reply.status == 200, reply.body[:500]
    return ASSET.findall(reply.body.decode())


def collected(site: ProductionSite, url: str) -> bytes:
    return (site.static_root / url.removeprefix("/static/")).read_bytes()


# Each page, and the assets it must name by their hashed names.
PAGES = {
    "admin login": "/admin/login/",
    "order page": "/orders/<id>/",
    "ninja docs": "/api/ninja/docs",
    "drf docs": "/api/drf/docs/",
}
NAMED = {
    "admin login": ["admin/css/base.css", "admin/css/login.css"],
    "order page": ["orders/live.js", "orders/orders.css"],
    "ninja docs": [
        "ninja/swagger-ui.css",
        "ninja/swagger-ui-bundle.js",
        "ninja/swagger-ui-init.js",
    ],
    "drf docs": ["ninja/swagger-ui.css", "ninja/swagger-ui-bundle.js"],
}


class TestTheProductionServer:
    @pytest.mark.parametrize("page", PAGES)
    def test_names_each_asset_by_its_hashed_name(self, production_site, page):
        urls = page_assets(production_site, page)
        for name in NAMED[page]:
            assert any(hashed(url, name) for url in urls), (name, urls)
        assert all(url.startswith("/static/") for url in urls)

    @pytest.mark.parametrize("page", PAGES)
    def test_serves_every_asset_a_page_names_typed_and_cached_for_good(self, production_site, page):
        for url in page_assets(production_site, page):
            reply = production_site.get(url)
            assert reply.status == 200, url
            assert reply.content_type.startswith(TYPES[Path(url).suffix]), (url, reply.headers)
            assert reply.headers["cache-control"] == FOREVER, url
            assert reply.body == collected(production_site, url), url
            # After SecurityMiddleware, as every response of the site.
            assert reply.headers["x-content-type-options"] == "nosniff", url
            assert reply.headers["strict-transport-security"].startswith("max-age=31536000"), url

    @pytest.mark.parametrize("url", ["/static/admin/css/base.css", "/static/orders/live.js"])
    def test_serves_the_plain_names_too_cached_briefly(self, production_site, url):
        reply = production_site.get(url)
        assert reply.status == 200
        assert reply.content_type.startswith(TYPES[Path(url).suffix])
        assert reply.headers["cache-control"] == "max-age=60, public"
        assert reply.body == collected(production_site, url)

    def test_sends_gzip_to_a_client_that_asks_for_it(self, production_site):
        (url,) = [url for url in page_assets(production_site, "order page") if url.endswith(".js")]
        reply = production_site.get(url, **{"Accept-Encoding": "gzip"})
        assert reply.status == 200
        assert reply.headers["content-encoding"] == "gzip"
        assert reply.headers["vary"] == "Accept-Encoding"
        assert gzip.decompress(reply.body) == collected(production_site, url)
        assert collected(production_site, url) == LIVE_JS.read_bytes()

    def test_redirects_a_static_file_asked_for_over_http_to_https(self, production_site):
        reply = production_site.get("/static/orders/live.js", **{"X-Forwarded-Proto": "http"})
        assert reply.status == 301
        assert reply.headers["location"] == (
            f"https://127.0.0.1:{production_site.server.port}/static/orders/live.js"
        )

    def test_answers_404_for_a_file_it_does_not_have(self, production_site):
        assert production_site.get("/static/orders/missing.js").status == 404
