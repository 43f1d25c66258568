"""Language of every HTML page: Dutch by default, English with ?_lang=en.

The language travels in the URL (not a cookie), so each language version has its own URL, is
cacheable, and can be linked to. Every template gets:
- `lang`: "nl" or "en" (templates/base.html puts it in <html lang>);
- `switch_url`: the same URL in the other language (Dutch drops `_lang`, the default);
- `lang_url(path)`: a site path that keeps the current language.

Every link keeps the page's language without JavaScript: the templates write it into each link
(`lang_url`) and each GET form (a hidden `_lang`); links Datasette builds from the request keep its
query string, so `_lang` too. What Python writes without the request (Datasette's render_cell:
foreign-key cells) reads the language from `serve.i18n.page_language`, set here for each request.
Dutch, the default, needs no parameter. No page is rewritten after it is rendered.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from datasette import hookimpl

from serve import i18n
from serve.shared import LANGUAGE_PARAMETER, language_of, other_language, with_language


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
        "lang_url": lambda path: with_language(path, lang),
    }


@hookimpl
def prepare_jinja2_environment(env, datasette):
    # Jinja's i18n extension: {{ _("...") }} and {% trans %} in the template context's `lang`
    i18n.install(env)
    # Datasette renders error pages without the request or extra_template_vars: these globals give
    # them the Dutch default, so the navigation of templates/base.html is on error pages too.
    env.globals.update(template_vars(datasette, None))


@hookimpl
def extra_template_vars(request, datasette):
    return template_vars(datasette, request)


def page_language(datasette):
    def wrap(app):
        async def in_page_language(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            # the page's language for what Python writes without the request (serve/i18n.py)
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(LANGUAGE_PARAMETER, [None])[0]
            token = i18n.page_language.set(asked if asked in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)
            try:
                await app(scope, receive, send)
            finally:
                i18n.page_language.reset(token)

        return in_page_language

    return wrap
