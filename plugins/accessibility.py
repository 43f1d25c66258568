"""Accessibility of Datasette 0.65.5's own page bodies (table, SQL editor, canned query pages).

Those templates jump from h1 to h3, and the table filters, the sort menu and the SQL editor's
textarea have no label. Copying the long templates to change a few tags would freeze them, so
templates/table.html and templates/query.html pass Datasette's own content block through the
`accessible(ui)` filter: h3 becomes h2, and each of those controls gets an aria-label in the
page's language (metadata.yml, plugins.drugbeleid.ui, label_*).
"""
from __future__ import annotations

import re

from datasette import hookimpl
from markupsafe import Markup, escape

HEADING = re.compile(r"<(/?)h3\b")
# the opening of each unlabelled control in Datasette's templates -> the ui string that labels it
CONTROLS = {
    '<select name="_filter_column': "label_filter_column",
    '<select name="_filter_op': "label_filter_op",
    '<input type="text" name="_filter_value': "label_filter_value",
    '<select name="_sort" id="sort_by"': "label_sort",
    '<textarea id="sql-editor"': "label_sql",
}


def accessible(html: str, ui: dict) -> Markup:
    html = HEADING.sub(r"<\1h2", str(html))
    for opening, key in CONTROLS.items():
        tag = opening.split(" ", 1)[0]
        html = html.replace(opening, f'{tag} aria-label="{escape(ui.get(key, ""))}" {opening[len(tag) + 1:]}')
    return Markup(html)


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["accessible"] = accessible
