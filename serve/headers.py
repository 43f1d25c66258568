"""Editing ASGI header lists: what every wrapper of the stack (plugins/stack.py) does to a response.

An ASGI header list is a list of (name, value) byte pairs; servers give names in lower case, but a
wrapper must not rely on it, so every comparison here lowers the name.
"""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[bytes, bytes]]


def value_of(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of `name` (lower case), or None."""
    return next((v for k, v in headers if k.lower() == name), None)


def has(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bool:
    return value_of(headers, name) is not None


def without(headers: Iterable[tuple[bytes, bytes]], *names: bytes) -> Headers:
    """The list without any header named in `names` (lower case)."""
    return [(k, v) for k, v in headers if k.lower() not in names]


def replaced(headers: Iterable[tuple[bytes, bytes]], added: Headers) -> Headers:
    """The list with every header of `added` set to exactly the values given there."""
    return without(headers, *{name for name, _ in added}) + list(added)


def request_header(scope, name: bytes) -> bytes | None:
    return value_of(scope.get("headers", []), name)


def with_headers(event: dict, headers: Headers) -> dict:
    """A copy of an http.response.start event with these headers."""
    return {**event, "headers": headers}
