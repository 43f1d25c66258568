"""Stock Datasette for `make bench`: the `datasette` command with its default plugins only.

Datasette 0.65.5 has no switch to skip installed plugins (datasette-dashboards and others are in the
venv); it skips loading them through setuptools entry points when `sys._called_from_test` is set
(datasette/plugins.py), and that is all this does. Arguments are those of `datasette`.
"""

import sys

sys._called_from_test = True  # before datasette.plugins is imported: no entry-point plugins

from datasette.cli import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
