"""A tiny raw v3 client for server tests: no reconnects, no parsing beyond json.loads."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 5.0


def chunk(ms: int, rate: int = 16000, encoding: str = "pcm_s16le") -> bytes:
    """`ms` of silence; the scripted engine only counts durations."""
    width = 1 if encoding == "pcm_mulaw" else 2
    fill = b"\xff" if encoding == "pcm_mulaw" else b"\0"  # 0xff is mu-law silence
    return fill * (rate * ms // 1000 * width)


async def open_session(url: str, headers: dict | None = None, **params) -> ClientConnection:
    params.setdefault("sample_rate", 16000)
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return await connect(f"{url}?{query}", additional_headers=headers, open_timeout=TIMEOUT)


async def recv(ws: ClientConnection, timeout: float = TIMEOUT) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def send_audio(ws: ClientConnection, total_ms: int, chunk_ms: int = 100, **fmt) -> None:
    for _ in range(total_ms // chunk_ms):
        await ws.send(chunk(chunk_ms, **fmt))


async def read_until_closed(ws: ClientConnection, timeout: float = TIMEOUT) -> list[dict]:
    """Every message until the server closes (raises TimeoutError if it never does)."""
    out = []
    try:
        while True:
            out.append(await recv(ws, timeout))
    except ConnectionClosed:
        return out


async def read_until(ws: ClientConnection, done, timeout: float = TIMEOUT) -> list[dict]:
    """Messages up to and including the first one for which done(msg) is true."""
    out = []
    while not out or not done(out[-1]):
        out.append(await recv(ws, timeout))
    return out


async def expect_error(ws: ClientConnection) -> tuple[dict, int | None, str | None]:
    """Skip to the Error frame; return it with the close code and reason that follow."""
    msgs = await read_until_closed(ws)
    errors = [m for m in msgs if m.get("type") == "Error"]
    assert errors, f"no Error frame in {msgs}"
    await ws.wait_closed()
    return errors[-1], ws.close_code, ws.close_reason


def turns(msgs: list[dict]) -> list[dict]:
    return [m for m in msgs if m.get("type") == "Turn"]


def http_get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    """Blocking GET; run it with asyncio.to_thread from async tests."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
