"""Charts anyone can embed and share.

- /-/dashboards/<dashboard>/<chart>/embed: the chart alone, for other sites to frame, from our own
  template (templates/chart_embed.html) in the page's language: the chart, its caption, source,
  licence, a link back, and its figures as a table. Its data is rendered into the page on the
  server, by the chart's own query: an article that embeds it never sends visitor SQL, so it never
  meets the SQL gate or its rate limit. Only these pages may be framed (plugins/security_headers.py).
- /charts/<dashboard>/<chart>.<lang>.svg|png: the chart's images for the served release, rendered by
  `make images` (scripts/images.py); the chart's page links them and names the PNG as its og:image,
  with og:title, og:description and a Twitter card, all absolute from the public base URL.
"""

from __future__ import annotations

import json

from datasette import NotFound, Response, hookimpl

from serve import shared

IMAGE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def find_chart(datasette, slug: str, chart_slug: str) -> tuple[dict, dict]:
    dashboard = shared.dashboards(datasette).get(slug)
    if dashboard is None:
        raise NotFound(f"Dashboard not found: {slug}")
    chart = (dashboard.get("charts") or {}).get(chart_slug)
    if chart is None:
        raise NotFound(f"Chart does not exist: {chart_slug}")
    return dashboard, chart


def image_path(datasette, slug: str, chart_slug: str, lang: str, kind: str):
    path = shared.chart_images_dir(datasette) / slug / f"{chart_slug}.{lang}.{kind}"
    return path if path.is_file() else None


def sharing(datasette, request, slug: str, chart_slug: str, chart: dict, lang: str) -> dict:
    """What a shared link shows: title, description and images, with absolute URLs."""
    base = shared.public_base_url(datasette, request)
    images = {
        kind: f"{base}charts/{slug}/{chart_slug}.{lang}.{kind}"
        for kind in IMAGE_TYPES
        if image_path(datasette, slug, chart_slug, lang, kind)
    }
    page = shared.with_language(f"-/dashboards/{slug}/{chart_slug}", lang)
    embed = shared.with_language(f"-/dashboards/{slug}/{chart_slug}/embed", lang)
    return {
        "title": chart.get("title", chart_slug),
        "description": chart.get("description", ""),
        "images": images,
        "page_url": base + page,
        "embed_url": base + embed,
    }


def embedded_spec(chart: dict, columns, rows) -> dict:
    """The chart's specification for its embed: no action menu (the page links the chart's own page,
    which has the images, and the menu's unnamed button would be a barrier for screen readers)."""
    spec = shared.chart_spec(chart, columns, rows)
    spec.pop("usermeta", None)
    return spec


async def embed_page(datasette, request):
    slug, chart_slug = request.url_vars["slug"], request.url_vars["chart_slug"]
    _, chart = find_chart(datasette, slug, chart_slug)
    lang = shared.language_of(request)
    chart = shared.chart_in_language(chart, lang)
    result = await datasette.get_database(chart["db"]).execute(chart["query"])
    columns, rows = result.columns, [list(row) for row in result.rows]
    site = datasette.metadata() or {}
    context = {
        "chart": chart,
        "chart_slug": chart_slug,
        "columns": columns,
        "rows": rows,
        "spec_json": json.dumps(embedded_spec(chart, columns, rows), ensure_ascii=False).replace("</", "<\\/"),
        "share": sharing(datasette, request, slug, chart_slug, chart, lang),
        "license": site.get("license"),
        "license_url": site.get("license_url"),
        "source": site.get("source"),
        "source_url": shared.source_url(datasette, request),
    }
    return Response.html(await datasette.render_template("chart_embed.html", context, request=request))


async def chart_image(datasette, request):
    v = request.url_vars
    path = image_path(datasette, v["slug"], v["chart_slug"], v["lang"], v["kind"])
    if path is None:
        raise NotFound("Image not found")
    return Response(path.read_bytes(), content_type=IMAGE_TYPES[v["kind"]])


@hookimpl
def extra_template_vars(template, request, datasette):
    """On a chart's own page: `share` (its images, og: and Twitter card data, embed URL) and the chart in the page's language."""
    if template != "dashboard_chart.html" or request is None:
        return {}
    slug, chart_slug = request.url_vars.get("slug", ""), request.url_vars.get("chart_slug", "")
    try:
        _, chart = find_chart(datasette, slug, chart_slug)
    except NotFound:
        return {}
    lang = shared.language_of(request)
    chart = shared.chart_in_language(chart, lang)
    return {"share": sharing(datasette, request, slug, chart_slug, chart, lang), "chart_in_language": chart}


@hookimpl
def register_routes():
    return [
        (r"^/-/dashboards/(?P<slug>[^/]+)/(?P<chart_slug>[^/]+)/embed$", embed_page),
        (
            r"^/charts/(?P<slug>[a-z0-9_-]+)/(?P<chart_slug>[a-z0-9_-]+)\.(?P<lang>nl|en)\.(?P<kind>svg|png)$",
            chart_image,
        ),
    ]
