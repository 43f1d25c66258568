"""Reconciliation step: each total printed in the sources against the sum of its rows.

A mismatch is a warning, published as it stands; a printed total with no rows to add up is
an error in the data.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .problems import Problem
from .text import dutch_number

# printed_totals.table_name -> (column that matches printed_totals.period, column summed)
SUMMED = {"caseload": ("year", "dossiers"), "staffing": ("reference_date", "fte")}
# printed_totals.unit in the Dutch detail (detail_nl), as the sources write it
UNIT_NL = {"fte": "VTE"}


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        return None


def reconcile(tables: dict[str, list[dict]], file: str) -> tuple[list[dict], list[Problem]]:
    quality, problems = [], []
    for number, total in enumerate(tables.get("printed_totals", []), start=2):
        if total.get("table_name") not in SUMMED:
            continue  # reported by schema validation (enum)
        key, column = SUMMED[total["table_name"]]
        rows = [r for r in tables.get(total["table_name"], []) if r.get(key) == total.get("period")]
        values = [_number(r.get(column)) for r in rows]
        printed = _number(total.get("printed_total"))
        if not rows:
            problems.append(
                Problem(
                    file,
                    f"printed total for {total['table_name']} {total.get('period')} has no rows to add up",
                    number,
                    "period",
                )
            )
            continue
        if printed is None or None in values:
            continue  # type errors are reported by schema validation
        computed = sum(values)
        unit = total.get("unit", "")
        unit_nl = UNIT_NL.get(unit, unit)
        detail = (
            f"{total['table_name']} {total['period']}: printed total {printed} {unit}, "
            f"sum of {len(rows)} rows {computed} {unit}"
        )
        detail_nl = (
            f"{total['table_name']} {total['period']}: gedrukt totaal {dutch_number(printed)} {unit_nl}, "
            f"som van {len(rows)} {'rij' if len(rows) == 1 else 'rijen'} {dutch_number(computed)} {unit_nl}"
        )
        if computed == printed:
            quality.append(
                {
                    "check": f"reconciliation:{total['id']}",
                    "status": "pass",
                    "detail": detail + ": equal",
                    "detail_nl": detail_nl + ": gelijk",
                }
            )
        else:
            quality.append(
                {
                    "check": f"reconciliation:{total['id']}",
                    "status": "warning",
                    "detail": detail
                    + f": differ by {computed - printed}; both are published, the printed total as it stands",
                    "detail_nl": detail_nl
                    + f": verschil {dutch_number(computed - printed)}; beide worden gepubliceerd, "
                    "het gedrukte totaal zoals het er staat",
                }
            )
    return quality, problems
