"""Validate step: every table against its Frictionless Table Schema, and every description present.

Frictionless checks types, required values, uniqueness, enums, ranges, patterns, primary keys
and foreign keys. The metadata check refuses to publish a table or column that is not
described in both Dutch and English.
"""

from __future__ import annotations

from frictionless import Package

from . import metadata
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
            problems.append(
                Problem(
                    file=f"{root_name}/{task.place}",
                    row=getattr(error, "row_number", None),
                    field=error_field(error, primary_key),
                    message=f"{error.type}: {error.message}",
                )
            )
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
                problems.append(
                    Problem(
                        f"{root_name}/datapackage.json",
                        f"table '{resource.name}': full-text column '{column}' is not in its schema",
                    )
                )
    return problems


LANGUAGES = ("nl", "en")


def twin_fields(package: Package) -> dict[str, list[tuple[str, str, str]]]:
    """{table: [(original column, twin column, twin language)]}: every field with `twin_of` in its schema."""
    found = {}
    for resource in package.resources:
        fields = [f.to_descriptor() for f in resource.schema.fields]
        found[resource.name] = [(f["twin_of"], f["name"], f.get("language", "")) for f in fields if f.get("twin_of")]
    return found


def check_twins(package: Package, tables: dict[str, list[dict]], root_name: str) -> list[Problem]:
    """Every text we wrote ourselves is published in Dutch and English: a column with `twin_of` in its
    schema is the other language's version of that column, and a row that fills one of the two must
    fill the other. A twin that names no column, or no language, is refused as an undescribed column is."""
    problems, twins = [], twin_fields(package)
    for resource in package.resources:
        file = f"{root_name}/{resource.path}"
        names = resource.schema.field_names
        for original, twin, language in twins[resource.name]:
            if original not in names:
                problems.append(
                    Problem(
                        f"{root_name}/schemas/{resource.name}.json",
                        f"twin_of names no column of the table: '{original}'",
                        field=twin,
                    )
                )
                continue
            if language not in LANGUAGES:
                problems.append(
                    Problem(
                        f"{root_name}/schemas/{resource.name}.json",
                        f"twin has no language (nl or en): {language!r}",
                        field=twin,
                    )
                )
            for number, row in enumerate(tables.get(resource.name, []), start=2):
                has_original, has_twin = bool((row.get(original) or "").strip()), bool((row.get(twin) or "").strip())
                if has_original and not has_twin:
                    problems.append(
                        Problem(
                            file,
                            f"'{original}' is filled but its twin '{twin}' ({language}) is empty",
                            row=number,
                            field=twin,
                        )
                    )
                elif has_twin and not has_original:
                    problems.append(
                        Problem(
                            file,
                            f"'{twin}' is filled but the column it translates, '{original}', is empty",
                            row=number,
                            field=original,
                        )
                    )
    return problems


def check_written_twins(name: str, schema, rows: list[dict]) -> list[Problem]:
    """A table the build writes itself (data_quality) follows the same rule as the source tables:
    a row that fills a column fills its twin (`twin_of` in its schema), and the reverse."""
    problems = []
    for field in schema.fields:
        original = field.to_descriptor().get("twin_of")
        if not original:
            continue
        for number, row in enumerate(rows, start=1):
            has_original, has_twin = bool((row.get(original) or "").strip()), bool((row.get(field.name) or "").strip())
            if has_original != has_twin:
                filled, empty = (original, field.name) if has_original else (field.name, original)
                problems.append(
                    Problem(
                        f"{name} (written by the build)",
                        f"'{filled}' is filled but its twin '{empty}' is empty",
                        row=number,
                        field=empty,
                    )
                )
    return problems


def closed_lists(field: dict) -> list[str] | None:
    """The values a field may take, as the database stores them, when it is a closed list: its enum,
    or 1 and 0 for a boolean. None for an open field."""
    if field.get("type") == "boolean":
        return ["1", "0"]
    enum = (field.get("constraints") or {}).get("enum")
    return [str(value) for value in enum] if enum else None


def check_labels(package: Package, root_name: str) -> list[Problem]:
    """Nothing new without its words: every value of a closed list (an enum, a boolean) has its label
    in English (`label`) and Dutch (`label_nl`) beside the field, in `value_labels` of its schema; and
    a label is given in both languages or not at all."""
    problems = []
    for descriptor, schema in metadata.described_tables(package):
        table = descriptor["name"]
        file = f"{root_name}/schemas/{table}.json"
        for field in schema.to_descriptor()["fields"]:
            column = field["name"]
            if bool(field.get("label")) != bool(field.get("label_nl")):
                problems.append(
                    Problem(
                        file,
                        f"table '{table}', column '{column}': the column's label needs both "
                        "'label' (English) and 'label_nl' (Dutch)",
                        field=column,
                    )
                )
            labelled = field.get("value_labels") or {}
            for value in closed_lists(field) or []:
                words = labelled.get(value) or {}
                missing = [key for key in ("label", "label_nl") if not words.get(key)]
                if missing:
                    problems.append(
                        Problem(
                            file,
                            f"table '{table}', column '{column}': value '{value}' of its closed list "
                            f"has no {' and no '.join(missing)}; write them beside the field: "
                            f'"value_labels": {{"{value}": {{"label": "…", "label_nl": "…"}}}}',
                            field=column,
                        )
                    )
    return problems


def value_label_rows(package: Package) -> list[dict]:
    """The rows of the table value_labels: every labelled value of every table, from its schema."""
    return [
        {
            "table_name": descriptor["name"],
            "column_name": field["name"],
            "value": value,
            "label": words["label"],
            "label_nl": words["label_nl"],
        }
        for descriptor, schema in metadata.described_tables(package)
        for field in schema.to_descriptor()["fields"]
        for value, words in (field.get("value_labels") or {}).items()
    ]
