"""`--share`: the real captioner serving its live captions while it captions the demo, read
by a plain HTTP client, by headless Chromium (the page and its OBS overlay), and refused
off loopback without a token.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from browser import Browser
from e2e import Captioner, captioner_env, wait_for

SHARED = re.compile(r"sharing the captions at (\S+)")


class EventReader(threading.Thread):
    """GET /events with http.client; every `data:` JSON object, until the session's end."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.path = "/events" + (f"?{parts.query}" if parts.query else "")
        self.headers = headers or {}
        self.messages: list[dict] = []
        self.status = self.content_type = None
        self.connected = threading.Event()
        self.start()

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        conn.request("GET", self.path, headers=self.headers)
        response = conn.getresponse()
        self.status, self.content_type = response.status, response.getheader("Content-Type")
        self.connected.set()
        while self.status == 200 and (line := response.readline()):
            if line.startswith(b"data: "):
                self.messages.append(json.loads(line[6:]))
                if self.messages[-1]["type"] == "end":
                    break
        conn.close()

    def finals(self) -> list[str]:
        return [m["text"] for m in self.messages if m["type"] == "final"]


def start_shared(tmp_path, *args: str) -> tuple[Captioner, str]:
    captioner = Captioner(["--demo", "--plain", "--share", "127.0.0.1:0", *args], captioner_env(tmp_path))
    found = wait_for(lambda: SHARED.search(captioner.stderr) or captioner.proc.poll() is not None, 30,
                     "the share URL on stderr")
    assert found is not True, captioner.stderr
    return captioner, found.group(1)


def test_every_final_reaches_the_event_stream_and_a_late_viewer_gets_the_finals_so_far(tmp_path):
    captioner, url = start_shared(tmp_path, "--speed", "2")
    with captioner:
        early = EventReader(url)
        assert early.connected.wait(10)
        assert (early.status, early.content_type) == (200, "text/event-stream")
        rebound = EventReader(url, {"Host": f"attacker.example:{urlsplit(url).port}"})
        first = captioner.wait_lines(1, 60)[0]
        late = EventReader(url)
        assert captioner.finish(60) == 0
        early.join(10)
        late.join(10)
    printed = captioner.lines
    assert len(printed) >= 3
    assert rebound.status == 403 and rebound.messages == []  # a web page on another name: refused
    assert early.finals() == printed == late.finals()
    turns = [m["turn"] for m in early.messages if m["type"] == "final"]
    assert turns == list(range(len(printed)))
    assert all(m["start_ms"] <= m["end_ms"] for m in early.messages if m["type"] == "final")
    partials = [m for m in early.messages if m["type"] == "partial" and m["text"]]
    assert partials and all(m["turn"] in turns for m in partials)
    assert early.messages[-1]["type"] == late.messages[-1]["type"] == "end"
    assert late.messages[1] == {**late.messages[1], "type": "final", "text": first}


def test_off_loopback_without_a_token_it_refuses_to_start(tmp_path):
    with Captioner(["--demo", "--plain", "--share", "0.0.0.0:0"], captioner_env(tmp_path)) as captioner:
        assert captioner.finish(30) == 2
    assert captioner.stderr.splitlines() == [
        "captioner: --share 0.0.0.0:0: a non-loopback address needs --share-token TOKEN (or --share-token auto)"]
    assert captioner.lines == []


def test_with_a_token_only_viewers_who_give_it_get_in(tmp_path):
    captioner, url = start_shared(tmp_path, "--share-token", "auto")
    with captioner:
        token = re.search(r"\?token=([\w-]+)$", url).group(1)
        bare = url.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bare, timeout=10)
        assert refused.value.code == 403
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and b"<title>Live captions</title>" in page.read()
        viewer = EventReader(bare, {"Authorization": f"Bearer {token}"})
        assert captioner.finish(60) == 0
        viewer.join(10)
    assert viewer.status == 200 and viewer.finals() == captioner.lines
    assert captioner.stderr.count(token) == 1  # printed once, in the URL


# Runs in the page before its own script: every text the live line shows, in order.
RECORD_LIVE = """
document.addEventListener('DOMContentLoaded', () => {
  window.__live = []; window.__liveNodes = new Set(); window.__liveHidden = 0;
  const live = document.getElementById('live');
  new MutationObserver(() => {
    const text = live.textContent.trim();
    if (text && window.__live[window.__live.length - 1] !== text) window.__live.push(text);
    if (text && live.getClientRects().length === 0) window.__liveHidden++;
    window.__liveNodes.add(document.getElementById('live'));
  }).observe(live, {subtree: true, childList: true, characterData: true});
});
"""
FINALS = "Array.from(document.querySelectorAll('#finals .turn')).map(e => e.querySelector('.text').textContent)"
VISIBLE = ("Array.from(document.querySelectorAll('#finals .turn')).filter(e => e.offsetParent !== null)"
           ".map(e => e.textContent)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(tmp_path_factory.mktemp("chromium"))
    yield chromium
    chromium.close()


def test_the_page_shows_the_live_line_in_place_and_every_final_in_order(tmp_path, browser):
    captioner, url = start_shared(tmp_path)
    with captioner:
        page = browser.open(url, before=RECORD_LIVE)
        overlay = browser.open(url + "?overlay=1", before=RECORD_LIVE)
        big = browser.open(url)  # text so large the captions overflow: the page must follow them
        try:
            wait_for(lambda: big.evaluate("!!document.getElementById('larger')"), 10, "the page loaded")
            big.evaluate("for (let i = 0; i < 10; i++) document.getElementById('larger').click()")
            assert captioner.finish(90) == 0
            printed = captioner.lines
            wait_for(lambda: page.evaluate(FINALS) == printed, 10, f"the finals {printed} in the page")
            live_texts = page.evaluate("window.__live")
            assert page.evaluate("document.getElementById('status').textContent") == "ended"
            assert page.evaluate("document.querySelectorAll('#live').length") == 1
            assert page.evaluate("window.__liveNodes.size") == 1  # the same element, updated in place
            larger = page.evaluate("document.getElementById('larger').click(); "
                                   "getComputedStyle(document.documentElement).getPropertyValue('--size')")
            before = page.evaluate("getComputedStyle(document.body).backgroundColor")
            page.evaluate("document.getElementById('theme').click()")
            after = page.evaluate("getComputedStyle(document.body).backgroundColor")

            wait_for(lambda: overlay.evaluate(FINALS) == printed, 10, "the finals in the overlay")
            shown = overlay.evaluate(VISIBLE)
            overlay_live = overlay.evaluate("[window.__live.length, window.__liveHidden]")
            background = overlay.evaluate("getComputedStyle(document.body).backgroundColor")
            followed = big.evaluate("[document.body.scrollHeight > innerHeight, "
                                    "innerHeight + scrollY >= document.body.scrollHeight - 8]")
        finally:
            page.close()
            overlay.close()
            big.close()
    assert len(printed) >= 3
    assert len(live_texts) >= 2, live_texts  # a partial grew while it was spoken
    assert larger.strip() == "48px"
    assert {before, after} == {"rgb(0, 0, 0)", "rgb(255, 255, 255)"}  # light and dark
    assert shown == printed[-2:]
    assert followed == [True, True]  # overflowing, and scrolled to the newest line
    assert overlay_live[0] >= 2 and overlay_live[1] == 0  # the overlay shows the live line too
    assert background == "rgba(0, 0, 0, 0)"


class ThreadedShare:
    """The share server in its own event loop thread, fed events as a session would."""

    def __init__(self) -> None:
        import asyncio

        from tui.share.address import open_share
        from tui.share.feed import CaptionFeed
        from tui.share.server import ShareServer

        self.loop = asyncio.new_event_loop()
        self.feed = CaptionFeed()
        self.server = ShareServer(self.feed, open_share("127.0.0.1:0", None))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.url = self.server.spec.url

    def emit(self, event) -> None:
        self.loop.call_soon_threadsafe(self.feed, event)

    def close(self) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_the_page_names_speakers_and_sources_and_applies_revisions(browser):
    from types import SimpleNamespace

    from tui.core.stream import events as ev

    def said(index, text, speaker=None, source=None):  # a turn as another branch may shape it
        return ev.TurnFinal(SimpleNamespace(index=index, text=text, start_ms=index * 1000,
                                            end_ms=index * 1000 + 900, wall_time=1.0e9 + index,
                                            speaker=speaker, source=source))

    class SpeakerRevision(SimpleNamespace):
        pass

    share = ThreadedShare()
    rows = ("Array.from(document.querySelectorAll('#finals .turn')).map(e => "
            "[e.querySelector('.who').textContent, e.querySelector('.text').textContent])")
    try:
        share.emit(said(0, "Welcome, everyone.", speaker="Ann", source="room mic"))
        page = browser.open(share.url)
        try:
            wait_for(lambda: page.evaluate(rows) == [["Ann · room mic:", "Welcome, everyone."]], 10,
                     "the first turn with its names")
            share.emit(said(1, "Can you hear me?", speaker="B"))
            share.emit(SpeakerRevision(index=1, speaker="Bob"))
            share.emit(said(1, "Can you hear me now?", speaker="Bob"))
            wait_for(lambda: page.evaluate(rows) == [["Ann · room mic:", "Welcome, everyone."],
                                                     ["Bob:", "Can you hear me now?"]], 10,
                     "the second turn, revised in place")
            assert page.evaluate("document.querySelectorAll('#finals .turn').length") == 2
        finally:
            page.close()
    finally:
        share.close()


@pytest.mark.parametrize("args,expected", [
    (["--share", "8080"], "captioner: --share 8080: give HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)"),
    (["--share-token", "s3cret-token"], "captioner: --share-token needs --share HOST:PORT"),
    (["--share", "127.0.0.1:0", "--share-token", "abc"],
     "captioner: --share-token: use at least 8 characters (or auto to make one up)"),
    (["--share", "127.0.0.1:{taken}"], "captioner: --share 127.0.0.1:{taken}: cannot listen there: "
                                       "Address already in use"),
])
def test_bad_share_flags_exit_2_with_one_line(tmp_path, args, expected):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [a.format(taken=port) for a in args]
        with Captioner(["--demo", "--plain", *args], captioner_env(tmp_path)) as captioner:
            assert captioner.finish(30) == 2
    assert captioner.stderr.splitlines() == [expected.format(taken=port)]
    assert captioner.lines == []
