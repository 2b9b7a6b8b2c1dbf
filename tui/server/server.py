"""The local v3 server (`captioner serve`): AssemblyAI's streaming protocol on ws://HOST:PORT/v3/ws.

One engine per server process, one recognizer per session. Routes: /v3/ws (and /) for
sessions, GET /v3/token for temporary tokens (protocol reference sections 1, 2 and 9.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import logging
import signal
import sys
import threading
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from tui.core import event_loop
from tui.core.stream import protocol as p
from tui.server.options import ServerConfig
from tui.server.engines import create_engine
from tui.server.recognizer import Engine
from tui.server.connection import Session, SessionRules
from tui.server.tokens import TokenIssuer, token_request

log = logging.getLogger("tui.server")

MAX_FRAME_BYTES = 1 << 20  # 1 MiB: far above a 1000 ms chunk, far below harm
WS_PATHS = ("/v3/ws", "/v3/ws/", "/")
TOO_MANY_TEXT = "Unauthorized Connection: Too many concurrent sessions"


class LocalServer:
    """A running server. `async with LocalServer(config) as server: server.url`."""

    def __init__(self, config: ServerConfig | None = None, engine: Engine | None = None) -> None:
        self.config = config or ServerConfig()
        self.engine = engine
        self.url = ""
        self._issuer = TokenIssuer()
        self._server: Server | None = None
        self._started = 0
        self._active: set[Session] = set()

    async def start(self) -> str:
        cfg = self.config
        if self.engine is None:
            # Loading a model takes a while: keep the loop responsive.
            self.engine = await asyncio.to_thread(
                create_engine, cfg.engine, cfg.engine_options, cfg.threads
            )
        self._server = await serve(
            self._handle,
            cfg.host,
            cfg.port,
            process_request=self._route,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # deflating PCM costs CPU and saves nothing
            close_timeout=2,  # shutdown must not wait long on clients that never answer
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"ws://{host}:{port}{p.WS_PATH}"
        log.info("listening on %s (engine %s)", self.url, self.engine.model or self.engine.name)
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()  # sends close 1001 to every session, then waits for them
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def session_count(self) -> int:
        """Sessions open now."""
        return len(self._active)

    @property
    def sessions_started(self) -> int:
        """Connections accepted since start, refused ones included."""
        return self._started

    def _rules(self, index: int) -> SessionRules:
        assert self.engine is not None
        return SessionRules(self.engine, self._issuer, self.config, self.config.faults.for_session(index))

    async def _handle(self, ws: ServerConnection) -> None:
        session = Session(ws, self._rules(self._started))
        self._started += 1
        if len(self._active) >= self.config.max_connections:
            await session.fail(self.config.too_many_close_code, TOO_MANY_TEXT)
            return
        self._active.add(session)
        log.info("session %s from %s", session.id, ws.remote_address)
        try:
            await session.run()
        except Exception:  # a session must never take the server down
            log.exception("session %s crashed", session.id)
        finally:
            self._active.discard(session)

    def _route(self, ws: ServerConnection, request: Request) -> Response | None:
        """HTTP before the upgrade: tokens, unknown paths; sessions pass through."""
        parts = urlsplit(request.path)
        if parts.path == p.TOKEN_PATH:
            auth = next(iter(request.headers.get_all("Authorization")), None)
            status, body = token_request(parts.query, auth, self.config.api_key, self._issuer)
            return _json_response(ws, status, body)
        if parts.path not in WS_PATHS:
            return _json_response(ws, 404, {"error": "Not Found"})
        return None  # auth and parameters are checked after the 101, as the cloud does


def _json_response(ws: ServerConnection, status: int, body: dict) -> Response:
    response = ws.respond(http.HTTPStatus(status), json.dumps(body))
    headers = Headers((k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type")
    headers["Content-Type"] = "application/json"
    response.headers = headers
    return response


# ------------------------------------------------------------------------ CLI entry


def run_serve(config: ServerConfig) -> int:
    """Blocking entry point of `captioner serve`; returns the exit status.

    The first stdout line is `listening on ws://HOST:PORT/v3/ws` once sessions are accepted;
    logs go to stderr. Runs until SIGINT/SIGTERM (or stdin EOF if configured).
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("websockets").setLevel(logging.WARNING)  # one line per connection is noise
    try:
        return event_loop.run(_serve(config))
    except KeyboardInterrupt:
        return 0


async def _serve(config: ServerConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if config.exit_on_stdin_eof:
        _stop_on_stdin_eof(loop, stop)
    server = LocalServer(config)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is only for the listening line
            await server.start()
    except Exception as exc:
        log.error("cannot start the server: %s", exc)
        return 1
    try:
        print(f"listening on {server.url}", flush=True)
        await stop.wait()
        log.info("shutting down")
    finally:
        await server.stop()
    return 0


def _stop_on_stdin_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def wait_for_eof() -> None:
        with contextlib.suppress(Exception):
            while sys.stdin.buffer.read1(4096):
                pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="stdin-eof", daemon=True).start()

