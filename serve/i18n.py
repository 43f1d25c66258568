"""Interface strings in the page's language, from gettext catalogues.

English is the language of the messages (the msgid), as in Datasette's own templates, which
templates/ copies: an upgrade of Datasette stays a readable template diff, and an English page
needs no catalogue. Dutch is locale/nl/LC_MESSAGES/messages.po. `make build` compiles it to
build/locale/nl/LC_MESSAGES/messages.mo (not committed: a binary derived from the .po); a
catalogue newer than its compiled file (or one never compiled, in a fresh clone) is compiled in
memory when first asked for, so what is served always matches the .po.

- templates: {{ _("Next page") }}, {% trans count=n %}1 row{% pluralize %}{{ count }} rows{% endtrans %}
  (Jinja's i18n extension; the language is the template context's `lang`);
- Python: gettext("Sort ascending", lang), ngettext("row", "rows", n, lang);
- what Python builds without a request (Datasette's render_cell, breadcrumbs) reads the page's
  language from `page_language`, set for each request by plugins/language.py.
`make catalogues` extracts every marked string (babel.cfg) and updates the .po files.
"""

from __future__ import annotations

import gettext as _gettext
import io
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import pass_context
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "locale"
COMPILED = ROOT / "build" / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

# The language of the page being rendered, for code that is not given the request.
page_language: ContextVar[str] = ContextVar("page_language", default=DEFAULT_LANGUAGE)


def catalogue_path(lang: str) -> Path:
    return CATALOGUES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compiled_path(lang: str) -> Path:
    return COMPILED / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def compile_catalogue(lang: str, out: Path | None = None) -> bytes:
    """The .mo of a language's catalogue (written to `out` when given). Fuzzy entries are left out,
    as gettext does: a translation someone still has to check is not shown."""
    with open(catalogue_path(lang), "rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(buffer.getvalue())
    return buffer.getvalue()


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The translations of `lang`, read once per process. English, the language of the
    messages, and an unknown language get the messages themselves."""
    if lang == SOURCE_LANGUAGE or lang not in LANGUAGES:
        return _gettext.NullTranslations()
    source, compiled = catalogue_path(lang), compiled_path(lang)
    if compiled.is_file() and compiled.stat().st_mtime_ns >= source.stat().st_mtime_ns:
        data = compiled.read_bytes()
    else:
        data = compile_catalogue(lang)
    return _gettext.GNUTranslations(io.BytesIO(data))


def gettext(message: str, lang: str | None = None) -> str:
    """`message` (English) in `lang`, by default the current page's language."""
    return translations(lang or page_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The form of `singular`/`plural` for the count `n`, in `lang` (default: the page's)."""
    return translations(lang or page_language.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str, lang: str | None = None) -> str:
    """`message` in `lang`, where the same English needs different translations by `context`."""
    return translations(lang or page_language.get()).pgettext(context, message)


def context_language(context) -> str:
    lang = context.get("lang")
    return lang if lang in LANGUAGES else page_language.get()


@pass_context
def _template_gettext(context, message):
    return translations(context_language(context)).gettext(message)


@pass_context
def _template_ngettext(context, singular, plural, n):
    return translations(context_language(context)).ngettext(singular, plural, n)


@pass_context
def _template_pgettext(context, msgctxt, message):
    return translations(context_language(context)).pgettext(msgctxt, message)


@pass_context
def _template_npgettext(context, msgctxt, singular, plural, n):
    return translations(context_language(context)).npgettext(msgctxt, singular, plural, n)


@lru_cache(maxsize=8192)
def _as_written(lang: str, message: str, autoescape: bool):
    """A message as Jinja's new-style gettext returns it when no variable is given: translated,
    Markup when the template escapes, and formatted with no variables (%% written once)."""
    translated = translations(lang).gettext(message)
    return (Markup(translated) if autoescape else translated) % {}


@pass_context
def _template_gettext_newstyle(context, message, **variables):
    """Jinja's new-style gettext (jinja2.ext._make_new_gettext, reached through `_` as its alias
    _gettext_alias), in one call instead of four: a table page asks for about 80 messages, each
    through three layers of context calls. The same result: translated into the context's language,
    Markup when autoescaping, then formatted with the variables (also when there are none)."""
    autoescape = context.eval_ctx.autoescape
    if not variables:
        return _as_written(context_language(context), message, autoescape)
    translated = translations(context_language(context)).gettext(message)
    return (Markup(translated) if autoescape else translated) % variables


def install(env) -> None:
    """Jinja's i18n extension on `env`, each string translated into the template context's `lang`.
    New-style gettext: placeholders are %(name)s, filled and escaped by Jinja. `_` and `gettext`,
    the calls of nearly every message, are the one-call equivalent above."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(
        _template_gettext, _template_ngettext, newstyle=True, pgettext=_template_pgettext, npgettext=_template_npgettext
    )
    env.globals.update(gettext=_template_gettext_newstyle, _=_template_gettext_newstyle)
