"""Datasette's own English words, read from the installed Datasette itself (not written out by hand):
the visible text of the templates of its table, row, database, SQL and canned-query pages, the
column menu of its table.js, the choices and descriptions of its filters (datasette/filters.py)
and the words its views put into those pages (the sort and the SQL's show/hide link).

`phrases()` is what a Dutch page must not show; `operators()` the filter choices by key. A phrase is
the text between two template tags ("Sort by ", "row" of "row{% if … %}s"), so plurals match too.
"""
from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import datasette
from datasette.filters import Filters

DATASETTE = Path(datasette.__file__).parent
# The templates of the table, row, database, SQL and canned-query pages and what they include
TEMPLATES = ["base.html", "table.html", "_table.html", "row.html", "database.html", "query.html",
             "_description_source_license.html", "_footer.html", "_suggested_facets.html", "_facet_results.html"]
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
CUT = "\x00"
NAMING_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

# The same word in Dutch, or a name that is not a language: a Dutch page may show these.
DUTCH_TOO = {
    "in": "Dutch 'in' (the filter choice itself is checked as a choice, where it is translated)",
    "Menu": "Dutch 'menu'",
    "array": "a JSON term, also used in Dutch (_shape=array)",
    "object": "Dutch 'object', a JSON term (_shape=object)",
    "CSV": "a format", "json": "a format", "SQL": "a language", "Datasette": "a name",
    "ms": "milliseconds, the same unit in Dutch",
    "Datasette v": "a name and its version (the footer's tooltip: Datasette v0.65.5)",
    ".db": "a file name (drugbeleid.db)",
}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "textarea", "pre"):
            self.skip += 1
        attrs = dict(attrs)
        named = [attrs.get(a) for a in NAMING_ATTRIBUTES]
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            named.append(attrs.get("value"))
        self.found += [v for v in named if v]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "textarea", "pre"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.found.append(data)


def _pieces(texts) -> set[str]:
    found = set()
    for text in texts:
        for piece in text.split(CUT):
            piece = " ".join(piece.split()).strip(" ·[]")
            if len(re.findall(r"[A-Za-z]", piece)) >= 2:
                found.add(piece)
    return found


def without_jinja(template: str) -> str:
    """A template's HTML with each template tag as a cut between two phrases; inside an HTML tag a
    template tag is a space (`<option{% if … %} selected{% endif %}>` is an option). The body's CSS
    classes (block body_class) are not text."""
    template = re.sub(r"{% block body_class %}.*?{% endblock %}", "", template, flags=re.S)
    marked = JINJA.sub("\x01", template)
    marked = re.sub(r"<[^<>]*>", lambda m: m.group(0).replace("\x01", " "), marked)
    return marked.replace("\x01", CUT)


def template_phrases() -> set[str]:
    found = set()
    for name in TEMPLATES:
        parser = _Text()
        parser.feed(without_jinja((DATASETTE / "templates" / name).read_text(encoding="utf-8")))
        found |= _pieces(parser.found)
    return found


def column_menu_phrases() -> set[str]:
    """table.js: the items of the column menu, the type line it writes, the remove-filter link's name."""
    js = (DATASETTE / "static" / "table.js").read_text(encoding="utf-8")
    found = set(re.findall(r'<a class="dropdown-[a-z-]+" href="#">([^<]+)</a>', js))
    found |= set(re.findall(r"`([A-Z][a-z]+): \$\{", js))
    found |= set(re.findall(r'setAttribute\("aria-label", "([^"]+)"\)', js))
    return found


def operators() -> dict[str, str]:
    """{key: Datasette's label} of every filter choice with a word in it ("contains", not "=")."""
    return {f.key: f.display for f in Filters._filters if re.search(r"[A-Za-z]{2}", f.display)}


def filter_description_phrases() -> set[str]:
    """The words of Datasette's description of the filters ('where a contains "x" and b is null'),
    of the search and of the sort, with the column names and values cut out."""
    texts = []
    for f in Filters._filters:
        texts.append(f.human_clause(CUT, CUT + "1" if f.key in ("gt", "gte", "lt", "lte") else CUT))
    texts.append(Filters([("a", "1"), ("b", "2"), ("c", "3")]).human_description_en().replace("a = 1", CUT)
                 .replace("b = 2", CUT).replace("c = 3", CUT))
    source = (DATASETTE / "filters.py").read_text(encoding="utf-8")
    texts += [re.sub(r"\{[^}]*\}", CUT, t) for t in re.findall(r"human_descriptions\.append\(\s*f'([^']*)'", source)]
    views = (DATASETTE / "views" / "table.py").read_text(encoding="utf-8")
    texts += [re.sub(r"\{[^}]*\}", CUT, t) for t in re.findall(r'sorted_by = "([^"]*)"', views)]
    texts += re.findall(r'" (descending)" if sort_desc', views)
    database = (DATASETTE / "views" / "database.py").read_text(encoding="utf-8")
    texts += re.findall(r'show_hide_text = "([^"]+)"', database)
    return _pieces(t.replace('"', CUT) for t in texts)


@lru_cache(maxsize=1)
def phrases() -> list[str]:
    """Every English phrase of Datasette's pages that a Dutch page must not show, longest first."""
    found = template_phrases() | column_menu_phrases() | filter_description_phrases()
    found = {p for p in found if p not in DUTCH_TOO}
    return sorted(found, key=lambda p: (-len(p), p))


def shown(phrase: str, text: str) -> bool:
    """Whether `text` contains `phrase` as words of its own (a plural 's' after it counts)."""
    return re.search(r"(?<![\w])" + re.escape(phrase) + r"s?(?![\w])", text) is not None
