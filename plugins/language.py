"""Language of every HTML page: Dutch by default, English with ?_lang=en.

The language travels in the URL (not a cookie), so each language version has its own URL, is
cacheable, and can be linked to. Every template gets:
- `lang`: "nl" or "en" (templates/base.html puts it in <html lang>);
- `switch_url`: the same URL in the other language (Dutch drops `_lang`, the default);
- `ui`: the interface strings of that language, written once in metadata.yml
  (plugins.drugbeleid.ui);
- `lang_url(path)`: a site path that keeps the current language.

Every link keeps the page's language without JavaScript: on an English page, the HTML Datasette
and the plugins produce is rewritten on its way out (`keep_language`): each site link (<a href="/...">)
gets `_lang=en`, and each GET form that submits to the site a hidden `_lang` field. Links to files
(JSON, CSV, the database, static assets) and links with `hreflang` (the language switch) are left
as they are. Dutch, the default, needs no parameter, so Dutch pages are sent untouched.
"""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qs

from datasette import hookimpl

from serve.shared import LANGUAGE_PARAMETER, language_of, other_language, ui_strings, with_language

LINK = re.compile(r'<a\b[^>]*>', re.I)
HREF = re.compile(r'(\shref=")(/[^"]*)(")', re.I)
GET_FORM = re.compile(r'<form\b(?=[^>]*\bmethod="get")(?=[^>]*\baction="/)[^>]*>', re.I)
FILES = re.compile(r"\.(json|csv|zip|db|ttl|jsonld|sha256|txt|js|css|png|svg|ico)$")
NOT_PAGES = ("/-/static", "/data/")


def keeps_language(path: str) -> bool:
    """Whether a site link leads to a page (which takes _lang) rather than a file."""
    bare = path.split("#", 1)[0].split("?", 1)[0]
    return not (FILES.search(bare) or bare.startswith(NOT_PAGES) or bare.startswith("//"))


def with_english(href: str) -> str:
    """An href (HTML-escaped, as in the page) with _lang=en added, the rest left byte for byte."""
    url = html.unescape(href)
    if not keeps_language(url):
        return href
    path, hash_, fragment = url.partition("#")
    if LANGUAGE_PARAMETER in parse_qs(path.partition("?")[2]):
        return href
    path += ("&" if "?" in path else "?") + f"{LANGUAGE_PARAMETER}=en"
    return html.escape(path + hash_ + fragment, quote=True)


def keep_language(page: str) -> str:
    """An English page with every site link and GET form keeping ?_lang=en."""
    def link(match):
        tag = match.group(0)
        if "hreflang=" in tag:
            return tag
        return HREF.sub(lambda m: m.group(1) + with_english(m.group(2)) + m.group(3), tag, count=1)

    def form(match):
        return match.group(0) + f'<input type="hidden" name="{LANGUAGE_PARAMETER}" value="en">'

    return GET_FORM.sub(form, LINK.sub(link, page))


def current_url(request) -> str:
    query = request.query_string
    return request.path + (f"?{query}" if query else "")


def template_vars(datasette, request) -> dict:
    lang = language_of(request)
    other = other_language(lang)
    return {
        "lang": lang,
        "other_lang": other,
        # without a request (Datasette's error pages) the switch leads to the home page
        "switch_url": with_language(current_url(request) if request is not None else "/", other),
        "ui": ui_strings(datasette, lang),
        "lang_url": lambda path: with_language(path, lang),
    }


@hookimpl
def prepare_jinja2_environment(env, datasette):
    # Datasette renders error pages without the request or extra_template_vars: these globals give
    # them the Dutch default, so the navigation of templates/base.html is on error pages too.
    env.globals.update(template_vars(datasette, None))


@hookimpl
def extra_template_vars(request, datasette):
    return template_vars(datasette, request)


def english_links(datasette):
    def wrap(app):
        async def english_links(scope, receive, send):
            if scope["type"] != "http" or b"_lang=en" not in scope.get("query_string", b""):
                return await app(scope, receive, send)
            held = {}

            async def rewritten(event):
                if event["type"] == "http.response.start":
                    headers = dict((k.lower(), v) for k, v in event.get("headers", []))
                    if headers.get(b"content-type", b"").startswith(b"text/html"):
                        held["start"], held["body"] = event, []
                        return
                    return await send(event)
                if "start" not in held:
                    return await send(event)
                held["body"].append(event.get("body", b""))
                if event.get("more_body"):
                    return
                body = keep_language(b"".join(held["body"]).decode("utf-8")).encode("utf-8")
                start = held["start"]
                start["headers"] = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"] + [
                    (b"content-length", str(len(body)).encode())]
                await send(start)
                await send({"type": "http.response.body", "body": body})

            await app(scope, receive, rewritten)
        return english_links
    return wrap
