"""An article on another site frames a chart's embed page (Debian's Chromium, the real `make serve`):
the chart is drawn, without any visitor SQL, and the browser refuses to frame any other page."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .browser.harness import SCREENSHOTS, STEP_TIMEOUT_MS, chromium, live_site, visitor  # noqa: F401
from .test_browser import AXE, AXE_RUN_JS, AXE_TAGS


@contextlib.contextmanager
def article_site(body: str):
    """Another site: a page served from another origin (another port on loopback: Chromium refuses
    a page from a public address framing a loopback one, whatever the headers say)."""

    class Article(BaseHTTPRequestHandler):
        def do_GET(self):
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Article)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/news"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def article_html(base: str, *paths: str) -> str:
    frames = "".join(
        f'<iframe src="{base}{p}" title="{p}" width="800" height="620" style="border:0"></iframe>' for p in paths
    )
    return (
        f'<!DOCTYPE html><html lang="nl"><head><title>Article</title></head><body><h1>News</h1>{frames}</body></html>'
    )


@contextlib.contextmanager
def open_article(chromium, live_site, *paths):  # noqa: F811
    """A browser tab on the article; `requests` records every request made to the site."""
    context = chromium.new_context(viewport={"width": 1000, "height": 1400})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    requests: list[str] = []
    context.on("request", lambda request: request.url.startswith(live_site) and requests.append(request.url))
    try:
        with article_site(article_html(live_site, *paths)) as article:
            page = context.new_page()
            page.goto(article)
            page.wait_for_load_state("load")
            yield page, requests
    finally:
        context.close()


def test_another_site_frames_an_embed_and_the_chart_is_drawn_from_the_page(chromium, live_site):  # noqa: F811
    with open_article(chromium, live_site, "/-/dashboards/drugbeleid/caseload/embed") as (page, requests):
        frame = next(f for f in page.frames if f.url.endswith("/caseload/embed"))
        frame.wait_for_selector("#chart canvas, #chart svg", state="attached")
        caption = frame.inner_text("figcaption")
        assert "Dossiers per justitiehuis per jaar" in caption and "CC BY 4.0" in caption
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "embedded-chart.png"))
        assert requests and not any("sql=" in url or ".json" in url for url in requests), requests


def test_another_site_cannot_frame_any_other_page(chromium, live_site):  # noqa: F811
    embed = "/-/dashboards/drugbeleid/staffing/embed"
    others = ["/-/dashboards/drugbeleid/caseload", "/-/dashboards/drugbeleid", "/drugbeleid/caseload", "/"]
    with open_article(chromium, live_site, embed, *others) as (page, requests):
        assert {live_site + path for path in [embed, *others]} <= set(requests)  # every frame was asked for
        framed = [f for f in page.frames if f is not page.main_frame]
        assert [f.url for f in framed].count(live_site + embed) == 1  # the embed is shown, in the same article
        refused = [f for f in framed if f.url != live_site + embed]
        assert len(refused) == len(others)
        for frame in refused:
            # Chromium replaces a refused frame by its own error page: none of the site's content
            assert frame.url.startswith("chrome-error://"), frame.url
            assert "Datasette" not in frame.content()


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("path", ["/-/dashboards/drugbeleid/caseload/embed", "/-/dashboards/drugbeleid/caseload"])
def test_axe_finds_no_violation_on_a_chart_and_its_embed(visitor, path, lang):  # noqa: F811
    visitor.page.context.add_init_script(path=str(AXE))
    path += "?_lang=en" if lang == "en" else ""
    visitor.open(
        path,
        f"axe-chart-{lang}",
        ready=lambda page: page.wait_for_selector(
            ".chart-container canvas, .chart-container svg, #chart canvas, #chart svg", state="attached"
        ),
        full_page=True,
    )
    found = visitor.page.evaluate(AXE_RUN_JS, AXE_TAGS)
    assert not found["violations"], "\n".join(f"{v['id']}: {v['help']} {v['nodes'][:4]}" for v in found["violations"])
