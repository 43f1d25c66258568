"""Charts anyone can embed and share: embed pages with their data in the page, frameable (and no
other page), the charts' SVG and PNG images rendered without a browser, and the og:/Twitter tags of
the chart pages."""

from __future__ import annotations

import itertools
import json
import re
import struct
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from markupsafe import escape

from scripts import images
from serve import shared
from tests.conftest import in_process


@pytest.fixture(scope="module")
def rendered(built):
    """The images of the test build, rendered by the step `make images` runs."""
    return images.render(built.parent)


@pytest.fixture
def site(built, rendered):
    return in_process(built)


def charts(datasette) -> list[tuple[str, str, dict]]:
    found = images.charts_of(datasette.metadata())
    assert found
    return found


class Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content", "")


def meta_of(html: str) -> dict[str, str]:
    parser = Meta()
    parser.feed(html)
    return parser.meta


def frame_policy(response) -> str:
    policy = response.headers["content-security-policy"]
    return re.search(r"frame-ancestors ([^;]+)", policy).group(1).strip()


async def query_rows(datasette, sql: str) -> list[list]:
    response = await datasette.client.get("/drugbeleid.json?" + urlencode({"sql": sql, "_shape": "arrays"}))
    assert response.status_code == 200
    return response.json()["rows"]


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_every_chart_has_an_embed_page_with_its_data_in_the_page(site, lang):
    for slug, chart_slug, chart in charts(site):
        chart = shared.chart_in_language(chart, lang)
        response = await site.client.get(
            f"/-/dashboards/{slug}/{chart_slug}/embed" + ("?_lang=en" if lang == "en" else "")
        )
        assert response.status_code == 200, chart_slug
        page = response.text
        assert f'<html lang="{lang}">' in page
        assert escape(chart["title"]) in page and escape(chart["description"]) in page
        metadata = site.metadata()
        assert f'href="{metadata["license_url"]}"' in page and escape(metadata["source"]) in page
        assert '<a href="http://localhost/documents" target="_top">' in page  # the source, reachable from any site
        assert re.search(rf'<a href="http://localhost/-/dashboards/{slug}/{chart_slug}[^"]*" target="_top">', page)
        # the data is in the page, exactly what the chart's query returns; no SQL is sent from it
        spec = json.loads(
            re.search(r'<script type="application/json" id="chart-spec">(.*?)</script>', page, re.DOTALL)
            .group(1)
            .replace("<\\/", "</")
        )
        expected = await query_rows(site, chart["query"])
        assert [list(row.values()) for row in spec["data"]["values"]] == expected
        assert "sql=" not in page and "fetch(" not in page and "dashboards.js" not in page
        # its figures as a table (the text alternative)
        assert page.count("<tr>") == len(expected) + 1


async def test_only_embed_pages_may_be_framed(site):
    for slug, chart_slug, _ in charts(site):
        response = await site.client.get(f"/-/dashboards/{slug}/{chart_slug}/embed")
        assert frame_policy(response) == "*"
        assert "x-frame-options" not in response.headers
    for path in [
        "/",
        "/?_lang=en",
        "/drugbeleid",
        "/drugbeleid/caseload",
        "/drugbeleid/caseload.json",
        "/examples",
        "/-/dashboards/drugbeleid",
        "/-/dashboards/drugbeleid/caseload",
        "/-/dashboards/drugbeleid/embed",
        "/charts/drugbeleid/caseload.nl.png",
        "/-/dashboards/drugbeleid/caseload/embed/more",
        "/-/dashboards/drugbeleid/caseload/embedded",
        "/releases/",
        "/drugbeleid/caseload.xlsx",
    ]:
        response = await site.client.get(path)
        assert frame_policy(response) == "'none'", path
        assert response.headers["x-frame-options"] == "DENY", path


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_every_chart_is_an_svg_and_a_png_in_each_language_at_a_fixed_width(site, rendered):
    version = shared.data_version(site)
    assert rendered.name == version and rendered.parent.name == "images"
    for slug, chart_slug, chart in charts(site):
        for lang in shared.LANGUAGES:
            svg = await site.client.get(f"/charts/{slug}/{chart_slug}.{lang}.svg")
            assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
            root = re.search(r"<svg[^>]*>", svg.text).group(0)
            assert f'width="{images.WIDTH}"' in root
            # the chart's words in its language are in the image (axis titles, legend, labels)
            words = {
                v
                for v in re.findall(
                    r'"title":\s*"([^"]+)"', json.dumps(shared.chart_in_language(chart, lang)["display"])
                )
            }
            assert any(w.replace("&", "&amp;") in svg.text for w in words), (chart_slug, lang)
            png = await site.client.get(f"/charts/{slug}/{chart_slug}.{lang}.png")
            assert png.status_code == 200 and png.headers["content-type"] == "image/png"
            assert png_size(png.content)[0] == images.WIDTH * images.PNG_SCALE
    assert (await site.client.get("/charts/drugbeleid/nope.nl.png")).status_code == 404


def test_images_are_not_part_of_the_release(built, rendered):
    release_directory = (built.parent / "current").resolve()
    assert not any(p.suffix in (".png", ".svg") for p in release_directory.rglob("*"))
    record = json.loads((release_directory / "release.json").read_text(encoding="utf-8"))
    assert rendered.name == record["version"]
    assert images.render(built.parent) == rendered  # rendered once per release


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_a_shared_chart_link_shows_the_chart(site, lang):
    for slug, chart_slug, chart in charts(site):
        chart = shared.chart_in_language(chart, lang)
        query = "?_lang=en" if lang == "en" else ""
        response = await site.client.get(f"/-/dashboards/{slug}/{chart_slug}{query}")
        assert response.status_code == 200
        meta = meta_of(response.text)
        image = f"http://localhost/charts/{slug}/{chart_slug}.{lang}.png"
        assert meta["og:image"] == meta["twitter:image"] == image
        assert meta["og:title"] == meta["twitter:title"] == chart["title"]
        assert meta["og:description"] == chart["description"]
        assert meta["twitter:card"] == "summary_large_image"
        assert meta["og:url"].startswith("http://localhost/")
        # the images and the embed are linked from the chart's page
        assert f'href="{image}"' in response.text and f'href="{image[:-3]}svg"' in response.text
        assert f"http://localhost/-/dashboards/{slug}/{chart_slug}/embed" in response.text
        assert (await site.client.get(image.removeprefix("http://localhost"))).status_code == 200


async def test_the_reuse_endpoints_are_described_and_answer_as_described(site):
    """The spreadsheet, the citation, the embed and the image of the OpenAPI description: each path,
    filled with every value its parameters list, answers 200 in a documented content type."""
    spec = (await site.client.get("/openapi.json")).json()
    for path in [
        "/drugbeleid/{table}.xlsx",
        "/releases/{version}/citation.{format}",
        "/-/dashboards/{dashboard}/{chart}/embed",
        "/charts/{dashboard}/{chart}.{lang}.{format}",
    ]:
        operation = spec["paths"][path]["get"]
        documented = {media.split(";")[0] for media in operation["responses"]["200"]["content"]}
        values = {
            p["name"]: p["schema"].get("enum") or p["schema"].get("examples")[:1] for p in operation["parameters"]
        }
        answered = 0
        for combination in itertools.product(*values.values()):
            url = path
            for name, value in zip(values, combination):
                url = url.replace("{" + name + "}", value)
            if path.startswith(("/-/dashboards", "/charts")) and not chart_exists(site, url):
                continue  # a chart of another dashboard: the combination does not exist
            response = await site.client.get(url)
            assert response.status_code == 200, url
            assert response.headers["content-type"].split(";")[0] in documented, (url, response.headers["content-type"])
            answered += 1
        assert answered, path


def chart_exists(datasette, url: str) -> bool:
    """Whether the dashboard and chart of an embed or image URL are one of the site's charts."""
    parts = url.split("/")
    dashboard, chart = parts[3:5] if url.startswith("/-/") else parts[2:4]
    return chart.split(".")[0] in (shared.dashboards(datasette).get(dashboard, {}).get("charts") or {})
