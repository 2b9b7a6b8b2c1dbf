"""The share server: aiohttp in the caption loop, serving the page and the event stream.

Read-only: GET / (the live page), GET /events (Server-Sent Events). With a token, both
need ?token=... (or `Authorization: Bearer ...`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from importlib import resources

from aiohttp import web

from tui.share.address import ShareSpec, is_loopback
from tui.share.feed import CaptionFeed, Viewer

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0  # a comment line this often: proxies keep the stream, dead viewers show
RETRY_MS = 2000  # the browser's reconnect delay after a dropped stream


def page_html() -> bytes:
    return (resources.files("tui.share") / "page.html").read_bytes()


class ShareServer:
    def __init__(self, feed: CaptionFeed, spec: ShareSpec) -> None:
        self.feed, self.spec = feed, spec
        self._page = page_html()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(middlewares=[self._check_token])
        app.router.add_get("/", self._index)
        app.router.add_get("/events", self._events)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, self.spec.sock).start()

    async def stop(self) -> None:
        self.feed.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _check_token(self, request: web.Request, handler):
        token = self.spec.token
        if not token and not is_loopback(request.url.host or ""):
            # Loopback without a token: only pages from a loopback name; a web page whose
            # domain re-resolves to 127.0.0.1 (DNS rebinding) must not read the captions.
            return web.Response(status=403, text="captioner: open this page as 127.0.0.1 or localhost\n")
        if token:
            given = request.query.get("token", "")
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                given = auth[7:]
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.Response(status=403, text="captioner: this shared session needs its token\n")
        return await handler(request)

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=self._page, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})  # no CORS header: other sites' pages may not read it
        await response.prepare(request)
        viewer = self.feed.join()
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode() + b"".join(viewer.backlog))
            viewer.backlog = []
            await self._stream(viewer, response)
        except ConnectionError:
            pass  # the viewer went away
        finally:
            self.feed.leave(viewer)
        return response

    @staticmethod
    async def _stream(viewer: Viewer, response: web.StreamResponse) -> None:
        while True:
            try:
                data = await asyncio.wait_for(viewer.queue.get(), KEEPALIVE_S)
            except asyncio.TimeoutError:
                data = b": keepalive\n\n"
            if data is None:
                return
            await response.write(data)


async def serve_while(session, spec: ShareSpec) -> int:
    """session.run(), its captions shared as `spec` says while it runs."""
    feed = CaptionFeed()
    session.add_listener(feed)
    server = ShareServer(feed, spec)
    await server.start()
    try:
        return await session.run()
    finally:
        await server.stop()
