"""Headless Chromium driven over the DevTools protocol (no extra driver: a websocket)."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from e2e import wait_for, wait_or_kill
from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium") or "chromium"


class Page:
    """One browser tab, driven over its DevTools websocket."""

    def __init__(self, ws_url: str) -> None:
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(ws_url, max_size=None, open_timeout=10))
        self._ids = itertools.count(1)

    def call(self, method: str, **params) -> dict:
        n = next(self._ids)
        self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=10))
            if reply.get("id") == n:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def type(self, char: str) -> None:
        self.evaluate("window.__captionerTerminal.focus()")
        code = f"Key{char.upper()}"
        self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char, code=code)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=char, code=code)

    def close(self) -> None:
        try:
            self._stack.close()
        except Exception:  # noqa: BLE001 - the tab may already be gone
            pass


class Browser:
    """Headless Chromium with a private profile and the DevTools protocol on 127.0.0.1."""

    def __init__(self, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "--window-size=1200,800", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        try:  # a first start on a new machine builds caches: 20 s was seen to be too short
            wait_for(lambda: port_file.exists() and port_file.read_text().strip() or self._died(), 90,
                     "chromium's DevTools port")
        except BaseException:
            self.proc.kill()  # never leave a browser behind
            self.proc.wait()
            raise
        self.port = int(port_file.read_text().split()[0])

    def _died(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"chromium exited {self.proc.returncode}")
        return False

    def open(self, url: str, before: str | None = None) -> Page:
        """A new tab at url; `before` is a script run in it before the page's own."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as reply:
            target = json.load(reply)
        page = Page(target["webSocketDebuggerUrl"])
        page.call("Page.enable")
        if before:
            page.call("Page.addScriptToEvaluateOnNewDocument", source=before)
        page.call("Page.navigate", url=url)
        return page

    def close(self) -> None:
        self.proc.terminate()
        wait_or_kill(self.proc)
