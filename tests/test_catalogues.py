"""The message catalogues are complete: every string the templates and code mark has its Dutch
translation, every catalogue entry is still used, and no message is built at run time where the
extraction (`make catalogues`, babel.cfg) cannot see it."""
from __future__ import annotations

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
        untranslated = sorted(str(key[1]) for key, m in found.items()
                              if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))
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
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("def ", "#")):
                continue
            if BUILT_AT_RUN_TIME.search(line) or CONCATENATED.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "messages must be string literals (the extraction cannot see others):\n" + "\n".join(found)
