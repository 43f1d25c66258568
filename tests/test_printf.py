"""printf and format, allowed and bounded (serve/sql_limits.py): within the bound exactly SQLite's
own output (a property test against the built-in function on a separate connection), beyond it
an error before any formatting, however the width reaches the call."""

from __future__ import annotations

import sqlite3
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from serve import sql_limits

BOUND = sql_limits.PRINTF_BOUND


@pytest.fixture(scope="module")
def guarded():
    """A connection prepared as the site prepares its own (limits, authorizer, printf, format)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    sql_limits.guard_connection(conn, {})
    conn.row_factory = None
    return conn


@pytest.fixture(scope="module")
def builtin():
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, sql_limits.LIMITS["SQLITE_LIMIT_LENGTH"])
    return conn


def run(conn, sql, arguments=()):
    try:
        return ("ok", conn.execute(sql, arguments).fetchone()[0])
    except sqlite3.Error as error:
        return ("error", type(error).__name__)


# One conversion: flags, width, precision, length, type, and the arguments it takes.
FLAGS = st.text(alphabet="-+ #!0,", max_size=3)
WIDTH = st.one_of(st.just(""), st.integers(0, BOUND).map(str), st.just("*"))
PRECISION = st.one_of(st.just(""), st.integers(0, BOUND).map(lambda n: f".{n}"), st.just(".*"), st.just("."))
TYPES = st.sampled_from(list("dixXofeEgGscqQwzu%") + ["lld", "ld"])
VALUES = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
    st.binary(max_size=6),
)
WIDTH_VALUES = st.integers(-BOUND, BOUND)


@st.composite
def calls(draw):
    """(format string, arguments) with every width and precision within the bound."""
    parts, arguments = [], []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(st.text(alphabet="ab %-", max_size=4)).replace("%", "%%"))
        width, precision, kind = draw(WIDTH), draw(PRECISION), draw(TYPES)
        if width == "*":
            arguments.append(draw(WIDTH_VALUES))
        if precision == ".*":
            arguments.append(draw(WIDTH_VALUES))
        parts.append(f"%{draw(FLAGS)}{width}{precision}{kind}")
        if kind != "%":
            arguments.append(draw(VALUES))
    return "".join(parts), arguments


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(calls(), st.sampled_from(["printf", "format"]))
def test_within_the_bound_printf_is_sqlites_own(guarded, builtin, call, name):
    fmt, arguments = call
    sql = f"select {name}({', '.join('?' * (1 + len(arguments)))})"
    assert run(guarded, sql, [fmt, *arguments]) == run(builtin, sql, [fmt, *arguments]), (fmt, arguments)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.integers(BOUND + 1, 2**31 - 1),
    st.sampled_from(["%{n}c", "%.{n}c", "%{n}.2f", "%-{n}s", "%.{n}q", "%0{n}d"]),
    st.booleans(),
)
def test_beyond_the_bound_the_call_is_refused(guarded, n, pattern, star):
    if star:  # the same width passed as an argument
        fmt, arguments = pattern.replace("{n}", "*"), [n if "." not in pattern else n, "x"]
        arguments = [n, 7] if "d" in pattern or "f" in pattern else [n, "x"]
    else:
        fmt, arguments = pattern.format(n=n), ["x" if pattern.endswith(("c", "s", "q")) else 7]
    assert run(guarded, f"select printf(?{', ?' * len(arguments)})", [fmt, *arguments]) == ("error", "OperationalError")


@pytest.mark.parametrize(
    "sql",
    [
        "select printf('%.*c', 2147483647, 'x')",
        "select format('%.*c', 2147483647, 'x')",
        "select printf('%*c', -2147483647, 'x')",
        "select printf('%.*c', 4294967297, 'x')",  # SQLite would truncate it to 1; refused all the same
        "select printf('%.' || '2147483647' || 'c', 'x')",
        "select printf(printf('%%.%dc', 2147483647), 'x')",
        "select printf('%.*c', (select 2147483647), 'x')",
        "select printf('%.*c', '2147483647', 'x')",
        "select printf('%.*c', 2147483647.0, 'x')",
        "select printf('%1001d', 1)",
        "select printf('%.1001f', 1)",
    ],
)
def test_hostile_forms_are_refused(guarded, sql):
    assert run(guarded, sql) == ("error", "OperationalError")


@pytest.mark.parametrize(
    "sql,expected",
    [
        ("select printf('%.1f', 0.5)", "0.5"),
        ("select format('%d dossiers', 26)", "26 dossiers"),
        ("select length(printf('%1000d', 1))", 1000),
        ("select length(printf('%.*c', 1000, 'x'))", 1000),
        ("select printf('%-5s|', 'ab')", "ab   |"),
        ("select printf('%s and %s', 'a')", "a and "),
        ("select printf(null)", None),
        ("select printf('100%%')", "100%"),
    ],
)
def test_ordinary_forms_work(guarded, sql, expected):
    assert run(guarded, sql) == ("ok", expected)


def test_a_width_from_a_column_value_is_checked_at_call_time(guarded):
    guarded.execute("create temp table widths(w integer)")
    guarded.executemany("insert into widths values (?)", [(3,), (2147483647,)])
    assert run(guarded, "select group_concat(printf('%.*c', w, 'x')) from widths where w < 10") == ("ok", "xxx")
    assert run(guarded, "select group_concat(printf('%.*c', w, 'x')) from widths") == ("error", "OperationalError")


# ------------------------------------------------------------- from the SQL page, over HTTP


def sql_url(query: str, fmt: str = ".json") -> str:
    return f"/drugbeleid{fmt}?" + urllib.parse.urlencode({"sql": query})


async def test_printf_and_format_work_from_the_sql_page(datasette, built):
    db = sqlite3.connect(built)
    expected = [row[0] for row in db.execute("select printf('%.1f', fte) from staffing")]
    response = await datasette.client.get(sql_url("select printf('%.1f', fte) from staffing") + "&_shape=arrayfirst")
    assert response.status_code == 200 and response.json() == expected
    expected = [row[0] for row in db.execute("select format('%d dossiers', dossiers) from caseload")]
    response = await datasette.client.get(
        sql_url("select format('%d dossiers', dossiers) from caseload") + "&_shape=arrayfirst"
    )
    assert response.status_code == 200 and response.json() == expected and expected[0].endswith(" dossiers")
    first = db.execute("select printf('%.1f', fte) from staffing").fetchone()[0]
    page = await datasette.client.get(sql_url("select printf('%.1f', fte) as fte from staffing", ""))
    assert page.status_code == 200 and f">{first}</td>" in page.text


@pytest.mark.parametrize("fmt", [".json", ".csv", ""])
async def test_beyond_the_bound_a_clear_400_in_every_format(datasette, fmt):
    response = await datasette.client.get(sql_url("select printf('%.*c', 2147483647, 'x')", fmt))
    assert response.status_code == 400
    assert f"above {BOUND:,}" in response.text and "user-defined function" not in response.text


# ------------------------------------------------------------- the guard reads a format as SQLite does

# Free-form formats: any order of SQLite's flags, widths, precisions, `*`, length letters and
# types, %n and %% included, and types SQLite does not know (it stops there).
CONVERSION_PARTS = st.sampled_from(["*", "*", ".*", "-", "+", " ", "#", "!", "0", ",", ".", "l", "1", "7", "25"])
CONVERSION_TYPES = st.sampled_from(["n", "%", "c", "d", "s", "n", "%", "T", "y", "*", ""] + list("iqQwzfegxoupr"))
LITERALS = st.sampled_from(["", "", "a", "%%", "%n", "%5%"])


@st.composite
def formats(draw):
    """Conversions of up to four parts before the type, in any order, between literal text."""
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        parts.append(
            draw(LITERALS) + "%" + "".join(draw(st.lists(CONVERSION_PARTS, max_size=4))) + draw(CONVERSION_TYPES)
        )
    return "".join(parts)


WIDE = st.integers(BOUND // 2, 4 * BOUND).flatmap(lambda n: st.sampled_from([n, -n]))  # a misread width shows
ANY_ARGUMENT = st.one_of(
    WIDE,
    WIDE,
    WIDE,
    WIDE,
    st.integers(-9, 9),
    st.none(),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.floats(-1e6, 1e6, allow_nan=False),
)


def allowance(value) -> int:
    """The most characters one argument can add to printf's output besides its width and
    precision: a number's digits and separators, a text doubled by %q/%w, with quotes."""
    return 64 + 2 * len(value.encode() if isinstance(value, str) else value if isinstance(value, bytes) else b"")


def as_sqlite_integer(value) -> int:
    return builtin_connection.execute("select cast(? as integer)", (value,)).fetchone()[0] or 0


builtin_connection = sqlite3.connect(":memory:", check_same_thread=False)
# SQLite's output as bytes: a blob argument need not be UTF-8
bytes_connection = sqlite3.connect(":memory:", check_same_thread=False)
bytes_connection.text_factory = bytes


@settings(max_examples=1500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(formats(), st.lists(ANY_ARGUMENT, min_size=2, max_size=8))
def test_the_guards_reading_bounds_sqlites_own_output(fmt, arguments):
    """SQLite's own printf never writes more than the guard's reading of the same call allows:
    a few characters for each character of the format (a missing argument prints as "(NULL)"),
    every width and precision the guard found (in characters of up to 4 bytes), and each
    argument's own text. A `*` read against the wrong argument (as %n once made it), a flag or a length
    letter read in the wrong place, or a conversion counted that SQLite never reaches, shows up
    here as an output longer than the reading."""
    widths = sql_limits.printf_widths((fmt, *arguments), as_sqlite_integer)
    status, output = run(bytes_connection, f"select printf({', '.join('?' * (1 + len(arguments)))})", [fmt, *arguments])
    assert status == "ok", (fmt, arguments, output)
    written = len(output or "")
    # a width or precision counts characters, and %c repeats one of up to 4 bytes
    assert written <= 8 * len(fmt.encode()) + 4 * sum(widths) + sum(allowance(a) for a in arguments), (
        fmt,
        arguments,
        widths,
        written,
    )


@pytest.mark.parametrize(
    "fmt,arguments,widest",
    [
        ("%n%.*c", [1001, "x"], 1001),  # %n takes no argument: the * reads 1001
        ("%n%n%*c", [2000, "x"], 2000),
        ("%5%", [], 5),  # %% pads to its width
        ("%*%%.*c", [3, 1500, "x"], 1500),  # a * on %% takes an argument
        ("%y%.*c", [5000, "x"], 0),  # an unknown type ends the call (SQLite returns NULL)
        ("%T%.*c", [5000, "x"], 0),  # %T is SQLite's internal conversion: the same
        ("%.*l*d", [2, 1500, 1], 2),  # SQLite stops at the second * (the type is *)
        ("%s\x00%.*c", ["a", 5000, "x"], 0),  # the format ends at a NUL
    ],
)
def test_readings_of_sqlites_corner_cases(builtin, fmt, arguments, widest):
    assert max(sql_limits.printf_widths((fmt, *arguments), as_sqlite_integer), default=0) == widest


@pytest.mark.parametrize(
    "sql",
    [
        "select length(printf('%n%.*c', 1001, 'x'))",
        "select length(printf('%n%.*c', 2147483647, column1)) from (values ('a'),('b'),('c'))",
        "select printf('%n%n%n%*c', 2147483647, 'x')",
        "select printf('%*%', 2147483647)",
    ],
)
def test_n_and_percent_cannot_shift_a_width_past_the_guard(guarded, sql):
    assert run(guarded, sql) == ("error", "OperationalError")
