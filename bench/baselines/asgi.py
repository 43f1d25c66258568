"""The few lines of ASGI both baselines share. Hand-written on purpose: Starlette is not installed
and a baseline must not carry any framework's cost (the floor is the server alone)."""

from __future__ import annotations


async def lifespan(receive, send) -> None:
    """Servers are started with lifespan on, as Datasette's are: acknowledge startup and shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def request_key(scope) -> str:
    """The URL as sent (undecoded path and query string): the key the bench writes its tables with."""
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path
