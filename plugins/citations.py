"""A citation of every release: /releases/<version>/citation.bib (BibTeX), citation.ris (RIS) and
citation.json (CSL-JSON), made on request from the release's record and data package by
scripts/citation.py (the recorded release folders are never written to), and the "Cite this" box
of every page (templates/_cite_this.html), which cites the served release.
"""

from __future__ import annotations

from datasette import Response, hookimpl

from scripts import citation
from serve import shared


def publisher_name(datasette, lang: str) -> str:
    publisher = shared.plugin_config(datasette).get("publisher", {})
    return publisher.get(f"name_{lang}") or publisher.get("name") or ""


def release_url(datasette, request, version: str) -> str:
    return f"{shared.public_base_url(datasette, request)}releases/{version}/"


def cited_release(datasette, request, version: str) -> dict | None:
    directory = shared.release_directory(datasette, version)
    if directory is None:
        return None
    record = shared.release_in(directory)
    return citation.cited(
        record,
        shared.package_in(directory),
        publisher_name(datasette, shared.DEFAULT_LANGUAGE),
        release_url(datasette, request, version),
    )


async def citation_file(datasette, request):
    version, kind = request.url_vars["version"], request.url_vars["format"]
    cited = cited_release(datasette, request, version)
    if cited is None:
        return Response.json(
            {"ok": False, "error": f"Release not found: {version}", "status": 404, "title": "Not found"}, status=404
        )
    write, content_type = citation.FORMATS[kind]
    return Response(
        write(cited),
        content_type=content_type,
        headers={"Content-Disposition": f'inline; filename="drugbeleid-{version}.{kind}"'},
    )


@hookimpl
def extra_template_vars(request, datasette):
    """`citation` for the "Cite this" box: the served release, cited in the page's language."""
    if request is None:
        return {}
    version = shared.data_version(datasette)
    cited = cited_release(datasette, request, version)
    if cited is None:
        return {}
    lang = shared.language_of(request)
    base = f"/releases/{version}/citation"
    return {
        "citation": {
            **cited,
            "publisher": publisher_name(datasette, lang),
            "links": {kind: f"{base}.{kind}" for kind in citation.FORMATS},
        }
    }


@hookimpl
def register_routes():
    return [
        (
            r"^/releases/(?P<version>[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9a-f]{12})/citation\.(?P<format>bib|ris|json)$",
            citation_file,
        )
    ]
