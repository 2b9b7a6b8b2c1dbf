"""Following a shared session: its Server-Sent Events, read with aiohttp, reconnecting.

follow() yields the feed's messages (see tui.share.feed) and its own
{"type": "link", "state": "connecting" | "connected" | "lost", "detail": ...} so a viewer
can say when it is behind. A lost link is retried forever (the server replays the finals
so far on each connection, so nothing is missed); a refused token or the session's end
stops it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import aiohttp

RETRY_S = (0.5, 1.0, 2.0, 4.0, 5.0)  # waits between attempts; the last repeats


class WatchError(Exception):
    """Following cannot work (a bad URL, a wrong token): one line, no retry."""


def events_url(url: str) -> str:
    """The /events URL of a shared page's URL (its ?token= kept)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WatchError(f"{url}: give the shared page's address, e.g. http://127.0.0.1:8080/")
    path = parts.path if parts.path.endswith("/events") else parts.path.rstrip("/") + "/events"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def link(state: str, detail: str = "") -> dict:
    return {"type": "link", "state": state, "detail": detail}


async def read_events(response: aiohttp.ClientResponse) -> AsyncIterator[dict]:
    """The JSON `data:` of each event in a text/event-stream body."""
    data: list[str] = []
    async for raw in response.content:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            try:
                yield json.loads("\n".join(data))
            except json.JSONDecodeError:
                pass  # not one of ours: skip it
            data = []


async def follow(url: str) -> AsyncIterator[dict]:
    target = events_url(url)
    attempt = 0
    timeout = aiohttp.ClientTimeout(total=None, connect=10, sock_read=60)  # keepalives every 15 s
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while True:
            yield link("connecting", f"attempt {attempt + 1}" if attempt else "")
            try:
                async with http.get(target, headers={"Accept": "text/event-stream"}) as response:
                    if response.status == 403:
                        raise WatchError(f"{url}: the shared session refused the token")
                    if response.status != 200:
                        raise aiohttp.ClientResponseError(response.request_info, (), status=response.status,
                                                          message=response.reason or "")
                    attempt = 0
                    yield link("connected")
                    async for message in read_events(response):
                        yield message
                        if message.get("type") == "end":
                            return
                detail = "the stream closed"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                detail = str(exc) or type(exc).__name__
            yield link("lost", detail)
            await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
            attempt += 1
