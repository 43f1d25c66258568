"""plugins/README.md's table names every plugin, each hook it implements and its place in the stack."""

from __future__ import annotations

import ast
import re

from .conftest import ROOT

PLUGINS = ROOT / "plugins"


def table_rows() -> dict[str, str]:
    rows = {}
    for line in (PLUGINS / "README.md").read_text(encoding="utf-8").splitlines():
        if found := re.match(r"^\| `(\w+\.py)` \|(.*)$", line):
            rows[found.group(1)] = found.group(2)
    return rows


def hooks_of(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and any("hookimpl" in ast.unparse(decorator) for decorator in node.decorator_list)
    }


def test_every_plugin_is_in_the_table_with_its_hooks():
    rows = table_rows()
    assert set(rows) == {path.name for path in PLUGINS.glob("*.py")}
    for path in PLUGINS.glob("*.py"):
        missing = [hook for hook in hooks_of(path) if f"`{hook}`" not in rows[path.name]]
        assert not missing, f"{path.name}: hooks not in plugins/README.md: {missing}"


def test_every_wrapper_of_the_stack_is_in_the_table_at_its_place():
    rows = table_rows()
    stack = re.findall(r'\("(\w+\.py)", "(\w+)"\)', (PLUGINS / "stack.py").read_text(encoding="utf-8"))
    for position, (plugin, function) in enumerate(stack, 1):
        assert f"{position} `{function}`" in rows[plugin], (plugin, position, function)
