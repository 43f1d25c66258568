"""Validate step: every table against its Frictionless Table Schema, and every description present.

Frictionless checks types, required values, uniqueness, enums, ranges, patterns, primary keys
and foreign keys. The metadata check refuses to publish a table or column that is not
described in both Dutch and English.
"""
from __future__ import annotations

from frictionless import Package

from .problems import Problem

DESCRIBED = ("title", "title_nl", "description", "description_nl")


def error_field(error, primary_key: list[str]) -> str | None:
    """The field an error is about; for key errors, the key's fields."""
    if getattr(error, "field_name", None):
        return error.field_name
    if getattr(error, "field_names", None):
        return ",".join(error.field_names)
    if error.type == "primary-key" and primary_key:
        return ",".join(primary_key)
    return None


def validate_tables(package: Package, root_name: str) -> list[Problem]:
    problems = []
    report = package.validate()
    for task in report.tasks:
        primary_key = package.get_resource(task.name).schema.primary_key if package.has_resource(task.name) else []
        for error in task.errors:
            problems.append(Problem(
                file=f"{root_name}/{task.place}",
                row=getattr(error, "row_number", None),
                field=error_field(error, primary_key),
                message=f"{error.type}: {error.message}",
            ))
    return problems


def check_descriptions(package: Package, root_name: str) -> list[Problem]:
    problems = []
    for resource in package.resources:
        file = f"{root_name}/schemas/{resource.name}.json"
        custom = resource.to_descriptor()
        for key in DESCRIBED:
            if not custom.get(key):
                problems.append(Problem(f"{root_name}/datapackage.json", f"table '{resource.name}' has no {key}"))
        names = resource.schema.field_names
        for field in resource.schema.fields:
            descriptor = field.to_descriptor()
            for key in ("description", "description_nl"):
                if not descriptor.get(key):
                    problems.append(Problem(file, f"column has no {key}", field=field.name))
        for column in custom.get("fullTextSearch", []):
            if column not in names:
                problems.append(Problem(f"{root_name}/datapackage.json",
                                        f"table '{resource.name}': full-text column '{column}' is not in its schema"))
    return problems
