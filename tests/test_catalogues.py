"""The message catalogues are complete: every string the templates and code mark has its Dutch
translation, every catalogue entry is still used, and no message is built at run time where the
extraction (`make catalogues`, babel.cfg) cannot see it."""

from __future__ import annotations

from html.parser import HTMLParser
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from serve import i18n

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]


def catalogue(lang: str):
    with open(i18n.catalogue_path(lang), "rb") as f:
        return read_po(f, locale=lang)


def marked_messages() -> set:
    """Every message marked in the files babel.cfg names, as `make catalogues` extracts them."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        found.add((context, message if isinstance(message, str) else tuple(message)))
    return found


def entries(lang: str) -> dict:
    return {(m.context, m.id): m for m in catalogue(lang) if m.id}


def test_every_marked_string_has_a_dutch_translation():
    for lang in TRANSLATED:
        found = entries(lang)
        absent = sorted(str(key[1]) for key in marked_messages() if key not in found)
        assert not absent, f"locale/{lang}: strings marked but not in the catalogue (run make catalogues): {absent}"
        untranslated = sorted(
            str(key[1])
            for key, m in found.items()
            if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)
        )
        assert not untranslated, f"locale/{lang}: entries without a (checked) translation: {untranslated}"


def test_every_catalogue_entry_is_used():
    marked = marked_messages()
    for lang in TRANSLATED:
        unused = sorted(str(key[1]) for key in entries(lang) if key not in marked)
        assert not unused, f"locale/{lang}: entries no template or code marks (run make catalogues): {unused}"


def test_placeholders_of_a_translation_are_those_of_its_message():
    placeholder = re.compile(r"%\((\w+)\)s")
    for lang in TRANSLATED:
        for m in catalogue(lang):
            if not m.id:
                continue
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            wanted = set(placeholder.findall(ids[-1]))
            for string in strings:
                assert set(placeholder.findall(string)) == wanted, f"locale/{lang}: {m.id!r} -> {string!r}"


# A call of the translation functions whose message is not a string literal: `_(name)`,
# `gettext("a" + b)`, `ngettext(word, ...)`, or a translation key assembled with ~ or format.
BUILT_AT_RUN_TIME = re.compile(r"(?<![\w.])(?:_|gettext|ngettext|pgettext)\(\s*(?![\"'\s])")
CONCATENATED = re.compile(r"(?<![\w.])(?:_|gettext)\(\s*([\"'])(?:(?!\1).)*\1\s*(?:~|\+|\.format|%(?!\())")


def scanned_files():
    for pattern in ("templates/**/*.html", "plugins/**/*.html", "plugins/*.py", "serve/*.py", "scripts/*.py"):
        for path in ROOT.glob(pattern):
            if path.name != "i18n.py":
                yield path


def test_no_message_is_built_at_run_time():
    found = []
    for path in scanned_files():
        # the whole text, not line by line: a call's message may stand on the line after its "("
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for match in [*BUILT_AT_RUN_TIME.finditer(text), *CONCATENATED.finditer(text)]:
            number = text.count("\n", 0, match.start()) + 1
            line = lines[number - 1]
            if not line.lstrip().startswith(("def ", "#")):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "messages must be string literals (the extraction cannot see others):\n" + "\n".join(found)


# --- every visible string of our templates is marked for translation ------------------------------


JINJA = re.compile(r"{#.*?#}|{%-?\s*trans\b.*?endtrans\s*-?%}|{%.*?%}|{{.*?}}", re.DOTALL)
NAMING_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# Words that are the same in both languages: names, formats and symbols.
SAME_IN_BOTH = {
    "CSV",
    "JSON",
    "SQL",
    "Datasette",
    "Datasette v",
    "array",
    "object",
    "json",
    "Atom",
    "SVG",
    "PNG",
    "ms",
    "Menu",
    "SHA-256",
    "db",
    "API",
    "BibTeX",
    "RIS",
    "CSL-JSON",
}
FILE_NAME = re.compile(r"^[\w-]+\.(json|zip|db|csv|ttl|jsonld)$")


class VisibleText(HTMLParser):
    """The text a visitor reads in a template with its template tags cut out: text between tags,
    the naming attributes and the labels of buttons (not scripts, styles or code)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "textarea", "pre", "code", "svg"):
            self.skip += 1
        attrs = dict(attrs)
        named = [attrs.get(a) for a in NAMING_ATTRIBUTES]
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            named.append(attrs.get("value"))
        self.found += [v for v in named if v]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "textarea", "pre", "code", "svg"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.found.append(data)


def unmarked_text(template: str) -> list[str]:
    template = re.sub(r"{% block body_class %}.*?{% endblock %}", "", template, flags=re.DOTALL)
    marked = JINJA.sub("\x01", template)
    marked = re.sub(r"<[^<>]*>", lambda m: m.group(0).replace("\x01", " "), marked)
    parser = VisibleText()
    parser.feed(marked.replace("\x01", "\x00"))
    pieces = []
    for text in parser.found:
        for piece in text.split("\x00"):
            piece = " ".join(piece.split()).strip(" ·[]():,.;—-/…")
            if len(re.findall(r"[A-Za-z]", piece)) >= 2 and piece not in SAME_IN_BOTH and not FILE_NAME.match(piece):
                pieces.append(piece)
    return pieces


def our_templates():
    return sorted([*ROOT.glob("templates/*.html"), *ROOT.glob("plugins/templates/*.html")])


def test_every_visible_string_of_our_templates_is_marked():
    found = {str(p.relative_to(ROOT)): unmarked_text(p.read_text(encoding="utf-8")) for p in our_templates()}
    found = {name: pieces for name, pieces in found.items() if pieces}
    assert not found, f"visible text not marked for translation: {found}"


def test_the_check_of_marked_strings_finds_unmarked_words():
    assert unmarked_text('<p>Next page</p><input type="submit" value="Apply"><a title="Go">x</a>') == [
        "Next page",
        "Apply",
        "Go",
    ]
    assert (
        unmarked_text('<p>{{ _("Next page") }}</p>{% trans count=n %}{{ count }} row{% pluralize %}rows{% endtrans %}')
        == []
    )
    # a text written once per language is two unmarked texts: the catalogue holds the other language
    assert unmarked_text('{% if lang == "en" %}<p>Hello</p>{% else %}<p>Hallo</p>{% endif %}') == ["Hello", "Hallo"]
    assert unmarked_text('{% if lang == "en" %}<p>Hello</p>{% endif %}') == ["Hello"]
