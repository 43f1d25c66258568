"""Language of every HTML page: Dutch by default, English with ?_lang=en.

The language travels in the URL (not a cookie), so each language version has its own URL, is
cacheable, and can be linked to. Every template gets:
- `lang`: "nl" or "en" (templates/base.html puts it in <html lang>);
- `switch_url`: the same URL in the other language (Dutch drops `_lang`, the default);
- `ui`: the interface strings of that language, written once in metadata.yml
  (plugins.drugbeleid.ui);
- `lang_url(path)`: a site path that keeps the current language.
"""
from __future__ import annotations

from datasette import hookimpl

from serve.shared import language_of, other_language, ui_strings, with_language


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
