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

from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
PARAMETER = "_lang"


def language_of(request) -> str:
    asked = request.args.get(PARAMETER) if request is not None else None
    return asked if asked in LANGUAGES else DEFAULT


def with_language(path: str, lang: str) -> str:
    """`path` (which may carry a query string and a #fragment) with `_lang` set for `lang`."""
    path, hash_, fragment = path.partition("#")
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != PARAMETER]
    if lang != DEFAULT:
        pairs.append((PARAMETER, lang))
    return base + (f"?{urlencode(pairs)}" if pairs else "") + hash_ + fragment


def current_url(request) -> str:
    query = request.query_string
    return request.path + (f"?{query}" if query else "")


def strings(datasette, lang: str) -> dict:
    return ((datasette.plugin_config("drugbeleid") or {}).get("ui") or {}).get(lang, {})


def template_vars(datasette, request) -> dict:
    lang = language_of(request)
    other = "en" if lang == "nl" else "nl"
    return {
        "lang": lang,
        "other_lang": other,
        # without a request (Datasette's error pages) the switch leads to the home page
        "switch_url": with_language(current_url(request) if request is not None else "/", other),
        "ui": strings(datasette, lang),
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
